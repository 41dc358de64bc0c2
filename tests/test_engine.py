"""The private engine trains exactly as the reference in network.py does.

Two networks with the same initial weights, one trained on the engine and one with
``engine=False`` (every step by `Network._step`), must agree after several epochs: every
registered activation and output, with and without biases, batch sizes 1, 7, 32 and full,
without L2 and with each L2 convention, in float64 to 1e-12 and float32 to 1e-5, compared one
quantity at a time (loss, W1, b1, ...) relative to that quantity's largest magnitude.
"""

import gc
import re
import weakref

import numpy as np
import pytest

import mlplab as ml
from conftest import data_for

HIDDEN = [name for name, (_, d_f) in ml.ACTIVATIONS.items() if d_f is not None]
# Every registered activation at the output: softmax with cross-entropy, the others with L2.
OUTPUTS = {"softmax": ("softmax", "cross_entropy"),
           **{name: (name, "l2") for name in HIDDEN}}
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}
N_SAMPLES = 40


def twins(hidden, output, bias, dtype, reg_convention="mean", sizes=(3, 5, 4)):
    """The same network twice, engine on and off, with a second hidden layer so that delta
    passes through a hidden activation's derivative."""
    output_activation, loss = OUTPUTS[output]
    n_output = 3 if output == "softmax" else 2
    nets = []
    for engine in (True, False):
        layers = [ml.Layer(n_in, n_out, bias=bias)
                  for n_in, n_out in zip((*sizes, n_output), (*sizes[1:], n_output))]
        f, d_f = ml.ACTIVATIONS[hidden]
        out_f, out_d = ml.ACTIVATIONS[output_activation]
        net = ml.Network(layers, [f] * (len(layers) - 1) + [out_f],
                         [d_f] * (len(layers) - 1) + [out_d], *ml.LOSSES[loss],
                         reg_convention=reg_convention, engine=engine)
        nets.append(net.astype(dtype))
    return nets


def data(net, seed=0):
    return data_for(net, np.random.default_rng(seed), N_SAMPLES)


def assert_close(label, got, want, tolerance):
    """|got - want| <= tolerance * max|want|, elementwise, naming the quantity."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want))), np.finfo(np.float64).tiny)
    worst = float(np.max(np.abs(got - want))) / scale
    assert worst <= tolerance, f"{label}: engine and reference differ by {worst:.3g} (relative)"


def assert_same_training(engine_net, reference_net, dtype, histories=None):
    tolerance = TOLERANCE[dtype]
    if histories is not None:
        assert_close("loss history", histories[0]["loss"], histories[1]["loss"], tolerance)
    for l, (a, b) in enumerate(zip(engine_net.layers, reference_net.layers), start=1):
        assert a.weights.dtype == b.weights.dtype == dtype
        assert_close(f"W{l}", a.weights, b.weights, tolerance)
        assert (a.biases is None) == (b.biases is None)
        if a.biases is not None:
            assert_close(f"b{l}", a.biases, b.biases, tolerance)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("l2", [(0.0, "mean"), (0.01, "mean"), (0.3, "sum")],
                         ids=["no L2", "L2 mean", "L2 sum"])
@pytest.mark.parametrize("batch_size", [1, 7, 32, None], ids=lambda b: f"batch {b or 'full'}")
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_engine_equals_reference(hidden, output, bias, batch_size, l2, dtype):
    reg_lambda, reg_convention = l2
    engine_net, reference_net = twins(hidden, output, bias, dtype, reg_convention)
    X, Y = data(engine_net)
    histories = [net.train(X, Y, epochs=3, learning_rate=0.1, reg_lambda=reg_lambda,
                           batch_size=batch_size, seed=0, validation_data=(X[:9], Y[:9]))
                 for net in (engine_net, reference_net)]
    assert_same_training(engine_net, reference_net, dtype, histories)
    assert_close("validation loss", histories[0]["val_loss"], histories[1]["val_loss"],
                 TOLERANCE[dtype])


@pytest.mark.parametrize("reg_convention", ["mean", "sum"])
def test_engine_equals_reference_for_fit_and_both_l2_conventions(reg_convention):
    engine_net, reference_net = twins("tanh", "softmax", True, np.float64, reg_convention)
    X, Y = data(engine_net)
    for step in range(5):
        losses = [net.fit(X, Y, 0.3, 0.05) for net in (engine_net, reference_net)]
        assert_close(f"loss at step {step}", *losses, 1e-12)
    assert_same_training(engine_net, reference_net, np.float64)


def test_engine_equals_reference_with_a_users_functions():
    # Functions that are not mlplab's own take the engine's general path: called as given,
    # derivatives of z, a loss whose return is summed.
    def my_sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def my_d_sigmoid(z):
        return my_sigmoid(z) * (1 - my_sigmoid(z))

    def elementwise_l2(YTrue, YPredict):
        return 0.5 * (YTrue - YPredict) ** 2   # an array: the network sums it

    def my_d_l2(YTrue, YPredict):
        return YPredict - YTrue

    nets = [ml.Network([ml.Layer(3, 5), ml.Layer(5, 2)], [my_sigmoid, my_sigmoid],
                       [my_d_sigmoid, my_d_sigmoid], elementwise_l2, my_d_l2, engine=engine)
            for engine in (True, False)]
    X, Y = data(nets[0])
    histories = [net.train(X, Y, epochs=4, learning_rate=0.5, batch_size=7, seed=1)
                 for net in nets]
    assert_same_training(*nets, np.float64, histories)


def test_the_reference_path_is_the_one_documented_switch():
    # engine=False: fit and train step through Network._step, nothing of the engine.
    net = ml.build_network((2, 4, 1), "sigmoid", "sigmoid", engine=False)
    calls = []
    step = net._step
    net._step = lambda *args, **options: calls.append(1) or step(*args, **options)
    X, Y = data(net)
    net.fit(X, Y, 0.1, 0.0)
    net.train(X, Y, epochs=2, learning_rate=0.1)
    assert len(calls) == 3 and net._trainer is None
    # And back: the engine takes over from the reference's arrays, and off again.
    twin = ml.build_network((2, 4, 1), "sigmoid", "sigmoid", engine=False)
    twin.train(X, Y, epochs=3, learning_rate=0.1)
    for engine in (True, False, True):
        net.engine = engine
        net.fit(X, Y, 0.1, 0.0)
        twin.fit(X, Y, 0.1, 0.0)
    assert len(calls) == 4
    assert_same_training(net, twin, np.float64)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
@pytest.mark.parametrize("how", ["fit", "train", "mini-batches"])
def test_weights_kept_across_steps_are_those_of_their_step(how, engine):
    # As W = W - lr * dW in a student's own loop: what a user holds never changes.
    kept, copies = [], []
    net = ml.build_network((3, 5, 2), "tanh", "softmax", engine=engine)
    X, Y = data(net)
    for epoch in range(5):
        if how == "fit":
            net.fit(X, Y, 0.5, 0.01)
        else:
            net.train(X, Y, epochs=1, learning_rate=0.5, reg_lambda=0.01,
                      batch_size=None if how == "train" else 8, seed=epoch)
        kept.append((net.layers[0].weights, net.layers[1].biases))
        copies.append((net.layers[0].weights.copy(), net.layers[1].biases.copy()))
    for epoch, ((W, b), (W_copy, b_copy)) in enumerate(zip(kept, copies)):
        np.testing.assert_array_equal(W, W_copy, err_msg=f"W1 kept after epoch {epoch}")
        np.testing.assert_array_equal(b, b_copy, err_msg=f"b2 kept after epoch {epoch}")
    assert len({id(W) for W, _ in kept}) == 5
    assert not np.array_equal(kept[0][0], kept[-1][0])


def test_a_users_array_given_to_a_layer_is_never_written_into():
    net = ml.build_network((3, 5, 2), "relu", "softmax")
    mine = np.array(net.layers[0].weights)
    net.layers[0].weights = mine
    before = mine.copy()
    X, Y = data(net)
    net.train(X, Y, epochs=3, learning_rate=0.5, batch_size=8, seed=0)
    np.testing.assert_array_equal(mine, before)


def test_when_nothing_is_kept_the_engine_reuses_two_buffers():
    # The parameters of a step go into the buffer of two steps ago when nobody refers to it:
    # a training loop allocates no parameter arrays.
    net = ml.build_network((3, 5, 2), "sigmoid", "softmax")
    X, Y = data(net)
    gc.collect()
    buffers = []
    for _ in range(6):
        net.fit(X, Y, 0.5, 0.0)
        buffers.append(weakref.ref(net.layers[0].weights.base))
    assert all(ref() is not None for ref in buffers)   # none was freed: none was replaced
    assert len({id(ref()) for ref in buffers}) == 2


def test_changes_between_steps_are_seen_by_the_engine():
    net = ml.build_network((3, 5, 2), "sigmoid", "softmax")
    twin = ml.build_network((3, 5, 2), "sigmoid", "softmax", engine=False)
    X, Y = data(net)
    for model in (net, twin):
        model.fit(X, Y, 0.5, 0.0)
        model.layers[0].weights = np.full((3, 5), 0.1)        # a new array
        model.layers[1].biases[...] = 0.2                     # the same array, new values
        model.activation_list[0] = ml.tanh                    # a new function
        model.d_activation_list[0] = ml.d_tanh
        model.fit(X, Y, 0.5, 0.0)
    assert_same_training(net, twin, np.float64)


def test_a_users_functions_may_keep_or_change_what_they_are_given():
    # The engine's buffers are reused at every step: a user's function gets a copy, so changing
    # it in place breaks nothing, and what it keeps stays as it was given.
    kept = []

    def keeping_loss(YTrue, YPredict):
        kept.append((YPredict, YPredict.copy()))
        return ml.l2_loss(YTrue, YPredict)

    def changing_d_loss(YTrue, YPredict):
        YPredict -= YTrue
        return YPredict

    def changing_d_sigmoid(z):
        z[...] = ml.d_sigmoid(z)
        return z

    nets = [ml.Network([ml.Layer(3, 5), ml.Layer(5, 2)], [ml.sigmoid, ml.sigmoid],
                       [changing_d_sigmoid, ml.d_sigmoid], keeping_loss, changing_d_loss,
                       engine=engine) for engine in (True, False)]
    X, Y = data(nets[0])
    histories = [nets[0].train(X, Y, epochs=3, learning_rate=0.5, batch_size=16, seed=0)]
    # (On the reference path the user's own d_loss changes the array their loss kept, as it
    # would in their own loop; only the engine's arrays are promised.)
    for step, (given, copy) in enumerate(kept):
        np.testing.assert_array_equal(given, copy, err_msg=f"kept at step {step}")
    histories.append(nets[1].train(X, Y, epochs=3, learning_rate=0.5, batch_size=16, seed=0))
    assert_same_training(*nets, np.float64, histories)


@pytest.mark.parametrize("which", ["d_loss_function", "d_activation_list[0]",
                                   "activation_list[0]"])
def test_a_users_function_of_the_wrong_shape_is_named(which):
    # Broadcasting would silently train on a wrong gradient: (n_out,) is not (N, n_out).
    def column_mean(*args):
        return np.mean(args[-1], axis=0)

    functions = {"activation_list[0]": ml.sigmoid, "d_activation_list[0]": ml.d_sigmoid,
                 "d_loss_function": ml.d_l2_loss}
    functions[which] = column_mean
    net = ml.Network([ml.Layer(3, 5), ml.Layer(5, 2)],
                     [functions["activation_list[0]"], ml.sigmoid],
                     [functions["d_activation_list[0]"], ml.d_sigmoid], ml.l2_loss,
                     functions["d_loss_function"])
    X, Y = data(net)
    with pytest.raises(ValueError, match=rf"{re.escape(which)} returned an array of shape "
                                         r"\(\d+,\) for one of shape \(40, \d\); it must return "
                                         "one value per element"):
        net.fit(X, Y, 0.1, 0.0)
