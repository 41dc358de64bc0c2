import numpy as np
import pytest

import mlplab as ml
from conftest import data_for, make_network
from reference import reference_fit

# (sizes, hidden activation(s), output activation, loss, bias, reg_lambda)
CONFIGS = {
    "2-4-1 sigmoid/L2": ((2, 4, 1), "sigmoid", "sigmoid", "l2", True, 0.0),
    "4-5-3 sigmoid/softmax/CE": ((4, 5, 3), "sigmoid", "softmax", "cross_entropy", True, 0.0),
    "4-5-3 softmax/CE, reg": ((4, 5, 3), "sigmoid", "softmax", "cross_entropy", True, 0.05),
    "3-6-5-4-2 tanh/relu/tanh": ((3, 6, 5, 4, 2), ("tanh", "relu", "tanh"), "sigmoid", "l2",
                                 True, 0.01),
    "3-6-5-4-2 no bias": ((3, 6, 5, 4, 2), ("tanh", "relu", "tanh"), "softmax",
                          "cross_entropy", False, 0.0),
    "2-3-1 identity output": ((2, 3, 1), "tanh", "identity", "l2", True, 0.1),
}


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_vectorised_fit_matches_the_sample_by_sample_oracle(config, engine, rng):
    sizes, hidden, output, loss, bias, reg_lambda = config
    net = make_network(sizes, hidden, output, loss, bias)
    net.engine = engine
    X, Y = data_for(net, rng)
    weights = [layer.weights.copy() for layer in net.layers]
    biases = [None if layer.biases is None else layer.biases.copy() for layer in net.layers]
    for step in range(5):
        got_loss = net.fit(X, Y, 0.3, reg_lambda)
        weights, biases, want_loss = reference_fit(
            weights, biases, net.activation_list, net.d_activation_list,
            net.loss_function, net.d_loss_function, X, Y, 0.3, reg_lambda)
        assert got_loss == pytest.approx(want_loss, rel=1e-12), f"loss at step {step}"
        for l, layer in enumerate(net.layers):
            np.testing.assert_allclose(layer.weights, weights[l], rtol=0, atol=1e-12,
                                       err_msg=f"W{l + 1} after step {step}")
            if biases[l] is not None:
                np.testing.assert_allclose(layer.biases, biases[l], rtol=0, atol=1e-12,
                                           err_msg=f"b{l + 1} after step {step}")


def test_fit_is_vectorised_over_the_batch(rng):
    # Each activation (and derivative) is called once per layer per step, not once per sample.
    calls = {"f": 0, "d_f": 0}

    def counted_sigmoid(z):
        calls["f"] += 1
        return ml.sigmoid(z)

    def counted_d_sigmoid(z):
        calls["d_f"] += 1
        return ml.d_sigmoid(z)

    net = ml.Network([ml.Layer(3, 4), ml.Layer(4, 2)], [counted_sigmoid, counted_sigmoid],
                     [counted_d_sigmoid, counted_d_sigmoid], ml.l2_loss, ml.d_l2_loss)
    net.fit(rng.normal(size=(50, 3)), rng.uniform(size=(50, 2)), 0.1, 0.0)
    assert calls == {"f": 2, "d_f": 2}


def test_one_dimensional_labels_work_for_one_output_unit(rng):
    X, y = rng.normal(size=(10, 2)), rng.integers(0, 2, 10).astype(float)
    a, b = make_network((2, 4, 1)), make_network((2, 4, 1))
    assert a.fit(X, y, 0.1, 0.0) == b.fit(X, y.reshape(-1, 1), 0.1, 0.0)
    np.testing.assert_array_equal(a.layers[0].weights, b.layers[0].weights)


def test_fit_returns_the_loss_before_the_update(rng):
    net = make_network((2, 4, 1))
    X, Y = rng.normal(size=(8, 2)), rng.uniform(size=(8, 1))
    before = net.loss_function(Y, net.forward(X)[-1]) / len(X)
    assert net.fit(X, Y, 0.5, 0.0) == before
    assert net.fit(X, Y, 0.5, 0.0) < before


def test_regularisation_decays_weights_but_not_biases(rng):
    net = make_network((2, 3, 1))
    X, Y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 1))
    _, plain = net.gradients(X, Y, 0.0)
    _, decayed = net.gradients(X, Y, 0.5)
    for layer, (dW0, db0), (dW1, db1) in zip(net.layers, plain, decayed):
        np.testing.assert_allclose(dW1, dW0 + 0.5 * layer.weights, rtol=1e-14)
        np.testing.assert_array_equal(db1, db0)


def test_forward_returns_every_layers_activations(rng):
    net = make_network((3, 5, 4, 2), output="softmax", loss="cross_entropy")
    X = rng.normal(size=(6, 3))
    activations = net.forward(X)
    assert [a.shape for a in activations] == [(6, 3), (6, 5), (6, 4), (6, 2)]
    np.testing.assert_array_equal(activations[0], X)
    np.testing.assert_allclose(activations[-1].sum(axis=1), 1.0)


def test_what_forward_and_gradients_return_stays_the_callers(rng):
    # Training reuses its buffers at every step; the public calls must not hand those out.
    net = make_network((3, 5, 2), output="softmax", loss="cross_entropy")
    X, Y = data_for(net, rng)
    activations = net.forward(X)
    _, grads = net.gradients(X, Y)
    kept_activations = [a.copy() for a in activations]
    kept_grads = [(dW.copy(), db.copy()) for dW, db in grads]
    net.train(X, Y, epochs=2, learning_rate=0.5, batch_size=4, seed=0)
    net.forward(2 * X)
    net.gradients(2 * X, Y)
    for a, kept in zip(activations, kept_activations):
        np.testing.assert_array_equal(a, kept)
    for (dW, db), (kept_dW, kept_db) in zip(grads, kept_grads):
        np.testing.assert_array_equal(dW, kept_dW)
        np.testing.assert_array_equal(db, kept_db)


def test_predict_thresholds_one_output_unit(rng):
    net = make_network((2, 3, 1))
    X = rng.normal(size=(20, 2))
    output = net.forward(X)[-1][:, 0]
    np.testing.assert_array_equal(net.predict(X), (output > 0.5).astype(int))
    threshold = float(np.median(output))
    np.testing.assert_array_equal(net.predict(X, threshold=threshold), output > threshold)
    assert isinstance(net.predict(X), np.ndarray) and net.predict(X).shape == (20,)


def test_predict_takes_the_argmax_of_several_outputs(rng):
    net = make_network((3, 4, 5), output="softmax", loss="cross_entropy")
    X = rng.normal(size=(30, 3))
    np.testing.assert_array_equal(net.predict(X), net.forward(X)[-1].argmax(axis=1))
    # The skeleton: the threshold is *used* with one output unit; elsewhere it is ignored.
    with pytest.warns(UserWarning, match="threshold=0.5 is ignored"):
        np.testing.assert_array_equal(net.predict(X, threshold=0.5), net.predict(X))


def test_train_full_batch_equals_repeated_fit(rng):
    X, Y = rng.normal(size=(12, 2)), rng.uniform(size=(12, 1))
    a, b = make_network((2, 4, 1)), make_network((2, 4, 1))
    history = a.train(X, Y, epochs=7, learning_rate=0.2, reg_lambda=0.01)
    losses = [b.fit(X, Y, 0.2, 0.01) for _ in range(7)]
    np.testing.assert_array_equal(history["loss"], losses)
    np.testing.assert_array_equal(a.layers[1].weights, b.layers[1].weights)


def test_train_mini_batches_without_shuffling_follow_the_oracle(rng):
    X = rng.normal(size=(10, 4))
    Y = np.eye(3)[rng.integers(0, 3, 10)]
    net = make_network((4, 5, 3), output="softmax", loss="cross_entropy")
    weights = [layer.weights.copy() for layer in net.layers]
    biases = [layer.biases.copy() for layer in net.layers]
    history = net.train(X, Y, epochs=2, learning_rate=0.5, batch_size=4, shuffle=False)
    for epoch in range(2):
        losses = []
        for start in range(0, 10, 4):
            weights, biases, loss = reference_fit(
                weights, biases, net.activation_list, net.d_activation_list, net.loss_function,
                net.d_loss_function, X[start:start + 4], Y[start:start + 4], 0.5, 0.0)
            losses.append(loss * len(X[start:start + 4]))
        assert history["loss"][epoch] == pytest.approx(sum(losses) / 10, rel=1e-12)
    for layer, W in zip(net.layers, weights):
        np.testing.assert_allclose(layer.weights, W, rtol=0, atol=1e-12)


def test_seeded_shuffling_is_reproducible_bit_for_bit(rng):
    X, Y = rng.normal(size=(40, 2)), rng.uniform(size=(40, 1))

    def trained(seed):
        net = make_network((2, 4, 1))
        history = net.train(X, Y, epochs=5, learning_rate=0.3, batch_size=8, seed=seed)
        return history["loss"], net.layers[0].weights

    loss_a, W_a = trained(7)
    loss_b, W_b = trained(7)
    loss_c, W_c = trained(8)
    np.testing.assert_array_equal(loss_a, loss_b)
    np.testing.assert_array_equal(W_a, W_b)
    assert not np.array_equal(W_a, W_c)


def test_train_records_validation_loss(rng):
    X, Y = rng.normal(size=(20, 2)), rng.uniform(size=(20, 1))
    X_val, Y_val = rng.normal(size=(7, 2)), rng.uniform(size=(7, 1))
    net = make_network((2, 4, 1))
    history = net.train(X, Y, epochs=3, learning_rate=0.1, validation_data=(X_val, Y_val))
    assert history["val_loss"].shape == (3,)
    assert history["val_loss"][-1] == pytest.approx(net.loss(X_val, Y_val), rel=1e-12)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy may warn first
def test_divergence_raises_and_leaves_the_weights_unchanged(rng):
    net = make_network((2, 8, 1), hidden="relu", output="identity")
    X, Y = rng.normal(size=(16, 2)) * 1e3, rng.normal(size=(16, 1)) * 1e3
    with pytest.raises(ml.DivergenceError, match="lower learning_rate"):
        for _ in range(50):
            before = [layer.weights.copy() for layer in net.layers]
            net.fit(X, Y, 1e150, 0.0)
    for layer, W in zip(net.layers, before):
        np.testing.assert_array_equal(layer.weights, W)
        assert np.all(np.isfinite(layer.weights))


def test_float32_training_stays_float32(rng):
    X, Y = rng.normal(size=(30, 4)), np.eye(3)[rng.integers(0, 3, 30)]
    net32 = make_network((4, 5, 3), output="softmax", loss="cross_entropy").astype(np.float32)
    net64 = make_network((4, 5, 3), output="softmax", loss="cross_entropy")
    h32 = net32.train(X, Y, epochs=20, learning_rate=0.5, batch_size=8, seed=1)
    h64 = net64.train(X, Y, epochs=20, learning_rate=0.5, batch_size=8, seed=1)
    for layer in net32.layers:
        assert layer.weights.dtype == np.float32 and layer.biases.dtype == np.float32
    assert net32.forward(X)[-1].dtype == np.float32
    np.testing.assert_allclose(h32["loss"], h64["loss"], rtol=1e-4)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        net32.astype(np.int32)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy may warn first
def test_divergence_during_train_reports_the_epoch_and_the_history_so_far(rng):
    net = make_network((2, 8, 1), hidden="relu", output="identity")
    X, Y = rng.normal(size=(16, 2)) * 1e3, rng.normal(size=(16, 1)) * 1e3
    with pytest.raises(ml.DivergenceError) as caught:
        net.train(X, Y, epochs=50, learning_rate=1e150)
    assert caught.value.epoch >= 1
    assert len(caught.value.history["loss"]) == caught.value.epoch
    assert np.all(np.isfinite(caught.value.history["loss"]))
    assert all(np.all(np.isfinite(layer.weights)) for layer in net.layers)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output, loss", [("sigmoid", "l2"), ("softmax", "cross_entropy")])
def test_built_in_loss_kernels_give_the_same_bits_as_plain_functions(output, loss, dtype, rng):
    # The training loop computes a built-in loss in a scratch buffer with its own kernel; a
    # wrapped copy of the public function is called as given.
    X, Y = rng.normal(size=(20, 3)), np.eye(2)[rng.integers(0, 2, 20)]
    fast = make_network((3, 5, 2), output=output, loss=loss).astype(dtype)
    plain = make_network((3, 5, 2), output=output, loss=loss).astype(dtype)
    loss_function = plain.loss_function
    plain.loss_function = lambda YTrue, YPredict: loss_function(YTrue, YPredict)
    h_fast = fast.train(X, Y, epochs=4, learning_rate=0.5, batch_size=7, seed=0)
    h_plain = plain.train(X, Y, epochs=4, learning_rate=0.5, batch_size=7, seed=0)
    np.testing.assert_array_equal(h_fast["loss"], h_plain["loss"])
    assert h_fast["loss"][-1] < h_fast["loss"][0]


def test_parameters_set_by_hand_between_steps_are_used(rng):
    X, Y = rng.normal(size=(10, 2)), rng.uniform(size=(10, 1))
    net = make_network((2, 3, 1))
    net.fit(X, Y, 0.1, 0.0)
    chosen = rng.normal(size=(2, 3))
    net.layers[0].weights = chosen.copy()
    fresh = make_network((2, 3, 1))
    fresh.layers[0].weights = chosen.copy()
    fresh.layers[1].weights = net.layers[1].weights.copy()
    fresh.layers[0].biases = net.layers[0].biases.copy()
    fresh.layers[1].biases = net.layers[1].biases.copy()
    assert net.fit(X, Y, 0.1, 0.0) == fresh.fit(X, Y, 0.1, 0.0)
    np.testing.assert_array_equal(net.layers[0].weights, fresh.layers[0].weights)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_network_trains_on_exactly_like_the_original(how, rng):
    import copy
    import pickle

    X, Y = rng.normal(size=(30, 3)), np.eye(2)[rng.integers(0, 2, 30)]
    net = make_network((3, 4, 2), output="softmax", loss="cross_entropy")
    net.train(X, Y, epochs=2, learning_rate=0.5, batch_size=8, seed=0)
    clone = pickle.loads(pickle.dumps(net)) if how == "pickle" else copy.deepcopy(net)
    net.train(X, Y, epochs=3, learning_rate=0.5, batch_size=8, seed=1)
    clone.train(X, Y, epochs=3, learning_rate=0.5, batch_size=8, seed=1)
    for a, b in zip(net.layers, clone.layers):
        np.testing.assert_array_equal(a.weights, b.weights)


def test_training_never_writes_into_what_a_users_loss_derivative_returns(rng):
    X, Y = rng.normal(size=(12, 2)), rng.uniform(size=(12, 1))
    returned = []

    def d_loss(YTrue, YPredict):
        returned.append(YPredict - YTrue)
        returned.append(returned[-1].copy())
        return returned[-2]

    net = ml.Network([ml.Layer(2, 3), ml.Layer(3, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                     ml.l2_loss, d_loss)
    net.fit(X, Y, 0.1, 0.0)
    np.testing.assert_array_equal(returned[0], returned[1])


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
def test_float32_network_with_custom_float64_functions_trains(engine, rng):
    # A user's functions may return float64; the network stays float32.
    X, Y = rng.normal(size=(10, 3)), np.eye(2)[rng.integers(0, 2, 10)]
    net = ml.Network([ml.Layer(3, 4), ml.Layer(4, 2)],
                     [lambda z: np.maximum(z, 0).astype(np.float64), ml.softmax],
                     [lambda z: (z > 0).astype(np.float64), None],
                     ml.cross_entropy_loss, ml.d_cross_entropy_softmax,
                     engine=engine).astype(np.float32)
    history = net.train(X, Y, epochs=3, learning_rate=0.1)
    assert np.all(np.isfinite(history["loss"]))
    assert all(layer.weights.dtype == layer.biases.dtype == np.float32 for layer in net.layers)


def test_large_finite_weights_are_not_mistaken_for_divergence():
    # The finiteness check sums the squared parameters first; a sum that overflows must be
    # rechecked.
    net = ml.Network([ml.Layer(3, 1)], [ml.identity], [ml.d_identity], ml.l2_loss,
                     ml.d_l2_loss).astype(np.float32)
    net.layers[0].weights = np.full((3, 1), 2e38, np.float32)
    net.layers[0].biases = np.zeros(1, np.float32)
    net.fit(np.zeros((4, 3)), np.zeros(4), 0.1, 0.0)
    assert np.all(net.layers[0].weights == np.float32(2e38))


def test_mid_sized_steps_run_on_one_blas_thread_and_restore_the_setting(rng):
    # The thread rule of mlplab._engine.threads, seen from inside a training step and the
    # validation loss after it: a custom activation records the BLAS thread counts while
    # they run. Started from two threads, so that a rule that did nothing would be seen.
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    seen = []

    def recording_sigmoid(z):
        seen.append(blas_threads())
        if len(seen) == 4:
            raise RuntimeError("a user's function failing mid-step")
        return ml.sigmoid(z)

    net = ml.Network([ml.Layer(64, 64), ml.Layer(64, 1)], [recording_sigmoid, ml.sigmoid],
                     [ml.d_sigmoid, ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)
    X, Y = rng.normal(size=(512, 64)), rng.uniform(size=(512, 1))   # 512 * 64 * 64 = 2^21
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        if not before or before != [2] * len(before):
            pytest.skip(f"the BLAS here cannot run on 2 threads (it reports {before})")
        net.fit(X, Y, 0.1, 0.0)
        net.train(X, Y, epochs=1, learning_rate=0.1, validation_data=(X, Y))
        with pytest.raises(RuntimeError, match="mid-step"):
            net.fit(X, Y, 0.1, 0.0)
        after = blas_threads()
    assert seen == [[1] * len(before)] * 4
    assert after == before


def test_lbfgs_runs_scipys_blas_on_one_thread_for_small_networks(rng):
    # SciPy's L-BFGS makes BLAS calls of its own on the parameter vector (its own OpenBLAS),
    # which spin-wait on two threads as the steps' would: the rule reaches them too, even for
    # products too small for BLAS to thread, and the setting is restored after.
    import scipy.optimize  # noqa: F401  (so that threadpoolctl sees SciPy's BLAS)
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    seen = []
    net = make_network((2, 8, 1))
    X, Y = rng.normal(size=(50, 2)), rng.uniform(size=(50, 1))
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        if not before or before != [2] * len(before):
            pytest.skip(f"the BLAS here cannot run on 2 threads (it reports {before})")
        net.train(X, Y, epochs=3, learning_rate=0.1, optimizer=ml.optimizers.LBFGS(),
                  callback=lambda epoch, history: seen.append(blas_threads()))
        after = blas_threads()
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert after == before


def test_training_does_not_keep_the_callers_data_alive(rng):
    import gc
    import weakref
    net = make_network((3, 5, 2), output="softmax", loss="cross_entropy")
    X, Y = data_for(net, rng)
    gc.disable()   # without the cycle collector: nothing may refer to the data after the call
    try:
        for train in (lambda X: net.train(X, Y, epochs=2, learning_rate=0.1, batch_size=5),
                      lambda X: net.fit(X, Y, 0.1, 0.0),
                      lambda X: net.train(X[:5], Y[:5], epochs=1, learning_rate=0.1,
                                          validation_data=(X, Y)),
                      lambda X: net.forward(X)):
            data = X.copy()
            kept = weakref.ref(data)
            train(data)
            del data
            assert kept() is None
    finally:
        gc.enable()


def test_public_calls_do_not_warn_where_the_activations_do_not(rng):
    # sigmoid(-1000): exp(1000) overflows to inf and 1 / (1 + inf) is exactly 0, silently, as
    # ml.sigmoid itself computes it.
    import warnings
    net = make_network((1, 1))
    net.layers[0].weights[...] = 1.0
    net.layers[0].biases[...] = 0.0
    X, Y = np.array([[-1000.0]]), np.array([[0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert net.forward(X)[-1][0, 0] == 0.0 == ml.sigmoid(-1000.0)
        assert net.predict(X)[0] == 0
        net.gradients(X, Y)


def test_unhashable_callables_work_as_functions(rng):
    class Scaled:   # defines __eq__ without __hash__: instances are unhashable
        def __init__(self, factor):
            self.factor = factor

        def __eq__(self, other):
            return isinstance(other, Scaled) and other.factor == self.factor

        def __call__(self, z):
            return self.factor * np.tanh(z)

    class DScaled(Scaled):
        def __call__(self, z):
            return self.factor * (1 - np.tanh(z) ** 2)

    net = ml.Network([ml.Layer(3, 4), ml.Layer(4, 1)], [Scaled(2.0), ml.sigmoid],
                     [DScaled(2.0), ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)
    X, Y = rng.normal(size=(8, 3)), rng.uniform(size=(8, 1))
    assert net.forward(X)[1].shape == (8, 4)
    history = net.train(X, Y, epochs=3, learning_rate=0.1)
    assert np.all(np.isfinite(history["loss"]))


def test_a_loss_returning_an_array_is_summed(rng):
    # The assignment's 1/2 (y - y_hat)^2, written literally, returns one value per element.
    def elementwise_l2(YTrue, YPredict):
        return 0.5 * (YTrue - YPredict) ** 2

    X, Y = rng.normal(size=(10, 2)), rng.uniform(size=(10, 1))
    mine, theirs = make_network((2, 3, 1)), make_network((2, 3, 1))
    mine.loss_function = elementwise_l2
    for engine in (True, False):
        mine.engine = theirs.engine = engine
        assert mine.fit(X, Y, 0.1, 0.0) == pytest.approx(theirs.fit(X, Y, 0.1, 0.0), rel=1e-12)
    assert mine.loss(X, Y) == pytest.approx(theirs.loss(X, Y), rel=1e-12)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
@pytest.mark.parametrize("returned", ["high", None, [1, "a"]])
def test_a_loss_returning_something_else_is_named(returned, engine, rng):
    def broken_loss(YTrue, YPredict):
        return returned

    net = make_network((2, 3, 1), engine=engine)
    net.loss_function = broken_loss
    with pytest.raises(ValueError, match=r"loss_function broken_loss returned .*; a loss must "
                                         r"return a number, or an array of numbers"):
        net.fit(rng.normal(size=(4, 2)), rng.uniform(size=(4, 1)), 0.1, 0.0)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
def test_the_sum_convention_divides_the_l2_term_by_the_batch_size(engine, rng):
    # "sum": J = (sum of losses + reg_lambda / 2 ||W||^2) / N, so the step decays by
    # learning_rate * reg_lambda / N: the same as "mean" with reg_lambda / N.
    X, Y = rng.normal(size=(8, 2)), rng.uniform(size=(8, 1))
    summed = make_network((2, 3, 1), reg_convention="sum", engine=engine)
    mean = make_network((2, 3, 1), engine=engine)
    for _ in range(3):
        summed.fit(X, Y, 0.5, 0.4)
        mean.fit(X, Y, 0.5, 0.4 / 8)
    for a, b in zip(summed.layers, mean.layers):
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-13)
    assert summed.loss(X, Y, 0.4) == pytest.approx(mean.loss(X, Y, 0.4 / 8), rel=1e-13)
    with pytest.raises(ValueError, match="reg_convention must be 'mean' or 'sum', got 'Mean'"):
        make_network((2, 1), reg_convention="Mean")


def test_the_loss_is_the_objective_of_the_gradients(rng):
    X, Y = rng.normal(size=(6, 3)), np.eye(2)[rng.integers(0, 2, 6)]
    net = make_network((3, 4, 2), output="softmax")
    penalty = sum(np.sum(layer.weights ** 2) for layer in net.layers)
    assert net.loss(X, Y) == pytest.approx(ml.cross_entropy_loss(Y, net.forward(X)[-1]) / 6)
    assert net.loss(X, Y, 0.3) == pytest.approx(net.loss(X, Y) + 0.15 * penalty, rel=1e-14)
    assert net.gradients(X, Y)[0] == pytest.approx(net.loss(X, Y), rel=1e-14)


def test_forward_returns_the_pre_activations_too(rng):
    net = make_network((3, 5, 2), hidden="tanh", output="softmax")
    X = rng.normal(size=(4, 3))
    activations, zs = net.forward(X, return_z=True)
    assert [z.shape for z in zs] == [(4, 5), (4, 2)]
    np.testing.assert_allclose(zs[0], X @ net.layers[0].weights + net.layers[0].biases)
    np.testing.assert_allclose(activations[1], np.tanh(zs[0]))
    np.testing.assert_allclose(activations[2], ml.softmax(zs[1]))
    assert len(net.forward(X)) == 3


@pytest.mark.parametrize("output", ml.OUTPUTS)
@pytest.mark.parametrize("hidden", [n for n, (_, d) in ml.ACTIVATIONS.items() if d is not None])
def test_every_named_network_builds_and_trains(hidden, output, rng):
    net = ml.build_network([3, 4, 2], hidden, output)
    out_activation, loss = ml.OUTPUTS[output]
    assert net.activation_list == [ml.ACTIVATIONS[hidden][0], ml.ACTIVATIONS[out_activation][0]]
    assert (net.loss_function, net.d_loss_function) == ml.LOSSES[loss]
    X = rng.normal(size=(10, 3))
    Y = np.eye(2)[rng.integers(0, 2, 10)] if output == "softmax" else rng.uniform(size=(10, 2))
    history = net.train(X, Y, epochs=3, learning_rate=0.1)
    assert np.all(np.isfinite(history["loss"]))
    assert ml.gradcheck(net, X, Y, 0.01) < 1e-6   # these points are off relu's kink


@pytest.mark.parametrize("sizes, activation, output, message", [
    ([3, 4, 2], "softmax", "softmax", "a hidden activation must be one of"),
    ([3, 4, 2], "swish", "softmax", "a hidden activation must be one of"),
    ([3, 4, 2], "relu", "logits", "output must be one of 'softmax', 'sigmoid', 'identity'"),
    ([3, 4, 5, 2], ["relu"], "softmax", "do not agree"),
    ([3], "relu", "softmax", "do not agree"),
])
def test_bad_names_are_named(sizes, activation, output, message):
    with pytest.raises(ValueError, match=message):
        ml.build_network(sizes, activation, output)


def test_build_network_draws_from_a_given_generator():
    a = ml.build_network([3, 4, 2], rng=np.random.default_rng(7))
    b = ml.build_network([3, 4, 2], rng=np.random.default_rng(7))
    c = ml.build_network([3, 4, 2])
    np.testing.assert_array_equal(a.layers[1].biases, b.layers[1].biases)
    np.testing.assert_array_equal(c.layers[0].weights, ml.Layer(3, 4).weights)
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
def test_divergence_with_a_users_derivatives_suggests_gradcheck(engine, rng):
    def d_sigmoid_of_the_output(z):   # the classic mistake: a * (1 - a) with a = z
        return z * (1 - z)

    net = ml.Network([ml.Layer(2, 8), ml.Layer(8, 1)], [ml.sigmoid, ml.identity],
                     [d_sigmoid_of_the_output, ml.d_identity], ml.l2_loss, ml.d_l2_loss,
                     engine=engine)
    X, Y = rng.normal(size=(16, 2)) * 1e3, rng.normal(size=(16, 1)) * 1e3
    with pytest.raises(ml.DivergenceError, match=r"derivatives of its own \(d_activation_list"
                                                 r"\[0\]\): check them with mlplab.gradcheck"):
        with np.errstate(all="ignore"):
            net.train(X, Y, epochs=50, learning_rate=1e100)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_non_finite_weight_set_by_hand_is_named_not_blamed_on_the_learning_rate(value, engine,
                                                                                    rng):
    net = make_network((2, 3, 1), engine=engine)
    net.layers[1].weights[2, 0] = value
    before = [layer.weights.copy() for layer in net.layers]
    with pytest.raises(ValueError, match=rf"layers\[1\].weights\[2, 0\] is {value}: training "
                                         r"and prediction need finite.*Was it set by hand"):
        with np.errstate(all="ignore"):
            net.fit(rng.normal(size=(4, 2)), rng.uniform(size=(4, 1)), 0.1, 0.0)
    for layer, W in zip(net.layers, before):
        np.testing.assert_array_equal(layer.weights, W)


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
@pytest.mark.parametrize("where", ["X", "Y"])
def test_non_finite_data_given_to_fit_is_named(where, engine, rng):
    # fit looks for non-finite data only when its step fails, which such data makes it do.
    net = make_network((2, 3, 1), engine=engine)
    data = {"X": rng.normal(size=(4, 2)), "Y": rng.uniform(size=(4, 1))}
    data[where][1, 0] = np.inf
    before = net.layers[0].weights.copy()
    with pytest.raises(ValueError, match=f"{where} contains NaN or infinity"):
        with np.errstate(all="ignore"):
            net.fit(data["X"], data["Y"], 0.1, 0.0)
    np.testing.assert_array_equal(net.layers[0].weights, before)


def test_gradcheck_leaves_the_network_and_its_functions_alone(rng):
    # The nudges go to copies of the layers' arrays; a user's function object is not copied
    # (one holding a lock or a file could not be).
    import threading

    class LockedTanh:
        def __init__(self):
            self.lock = threading.Lock()

        def __call__(self, z):
            with self.lock:
                return np.tanh(z)

    locked = LockedTanh()
    net = ml.Network([ml.Layer(2, 3), ml.Layer(3, 1)], [locked, ml.sigmoid],
                     [ml.d_tanh, ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)
    arrays = [layer.weights for layer in net.layers]
    copies = [W.copy() for W in arrays]
    assert ml.gradcheck(net, rng.normal(size=(5, 2)), rng.uniform(size=(5, 1))) < 1e-6
    assert net.activation_list[0] is locked
    for layer, W, copy in zip(net.layers, arrays, copies):
        assert layer.weights is W
        np.testing.assert_array_equal(W, copy)


def test_integer_weights_take_the_dtype_of_the_networks_float_parameters():
    layers = [ml.Layer(2, 3), ml.Layer(3, 1)]
    layers[0].weights = np.ones((2, 3), int)
    layers[0].biases = np.zeros(3, np.float32)
    layers[1].weights = layers[1].weights.astype(np.float32)
    layers[1].biases = [1]
    net = ml.Network(layers, [ml.sigmoid] * 2, [ml.d_sigmoid] * 2, ml.l2_loss, ml.d_l2_loss)
    assert net.dtype == np.float32
    assert all(layer.weights.dtype == layer.biases.dtype == np.float32 for layer in net.layers)
    net.layers[1].biases = np.zeros(1)   # float64 in a float32 network
    with pytest.raises(ValueError, match=r"layers\[1\].biases is float64 but the network's "
                                         r"first parameters are float32; use Network.astype"):
        net.fit(np.ones((2, 2)), np.ones(2), 0.1, 0.0)


@pytest.mark.parametrize("call", ["predict", "forward", "save", "fit after a step"])
def test_a_network_with_a_non_finite_weight_refuses_to_predict_or_be_saved(call, rng, tmp_path):
    # predict would otherwise answer class 0 for every row.
    net = make_network((2, 3, 2), output="softmax")
    X, Y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 0, 1]]
    net.fit(X, Y, 0.1, 0.0)
    net.layers[0].biases = net.layers[0].biases.copy()
    net.layers[0].biases[1] = np.nan
    actions = {"predict": lambda: net.predict(X), "forward": lambda: net.forward(X),
               "save": lambda: net.save(tmp_path / "m.npz"),
               "fit after a step": lambda: net.fit(X, Y, 0.1, 0.0)}
    with pytest.raises(ValueError, match=r"layers\[0\].biases(\[1\] is nan| hold NaN)"):
        actions[call]()
    assert not (tmp_path / "m.npz").exists()
