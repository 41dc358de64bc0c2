import numpy as np
import pytest

import mlplab as ml
from conftest import make_network
from mlplab import _products
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


def data_for(net, rng, n_samples=13):
    X = rng.normal(size=(n_samples, net.n_input))
    if net.loss_function is ml.cross_entropy_loss:
        Y = np.eye(net.n_output)[rng.integers(0, net.n_output, n_samples)]
    else:
        Y = rng.uniform(0, 1, size=(n_samples, net.n_output))
    return X, Y


def tiny_row_blocks(monkeypatch):
    """Compute even these small products in row blocks, as large ones are on some BLAS cores."""
    monkeypatch.setattr(_products, "_small_path", True)
    monkeypatch.setattr(_products, "UNTHREADED_PRODUCT", 1)
    monkeypatch.setattr(_products, "SMALL_PATH_LIMIT", 60)
    monkeypatch.setattr(_products, "MIN_BLOCK_ROWS", 2)
    return _products


@pytest.mark.parametrize("in_blocks", [False, True], ids=["one call", "row blocks"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_vectorised_fit_matches_the_sample_by_sample_oracle(config, in_blocks, rng, monkeypatch):
    sizes, hidden, output, loss, bias, reg_lambda = config
    net = make_network(sizes, hidden, output, loss, bias)
    X, Y = data_for(net, rng)
    if in_blocks:
        products = tiny_row_blocks(monkeypatch)
        assert len(products.row_blocks(len(X), *net.layers[0].weights.shape)) > 1
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
    with pytest.raises(ValueError, match="threshold"):
        net.predict(X, threshold=0.5)


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
    final = net.loss_function(Y_val, net.forward(X_val)[-1]) / 7
    assert history["val_loss"][-1] == final


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


def test_divergence_during_train_reports_the_epoch_and_the_history_so_far(rng):
    net = make_network((2, 8, 1), hidden="relu", output="identity")
    X, Y = rng.normal(size=(16, 2)) * 1e3, rng.normal(size=(16, 1)) * 1e3
    with pytest.raises(ml.DivergenceError) as caught:
        net.train(X, Y, epochs=50, learning_rate=1e150)
    assert caught.value.epoch >= 1
    assert len(caught.value.history["loss"]) == caught.value.epoch
    assert np.all(np.isfinite(caught.value.history["loss"]))
    assert all(np.all(np.isfinite(layer.weights)) for layer in net.layers)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "identity"])
def test_built_in_kernels_give_the_same_bits_as_plain_functions(hidden, rng):
    # The training loop runs built-in activations as in-place kernels and takes f'(z) from the
    # cached output; a wrapped copy of the same functions takes the plain path.
    f, d_f = ml.ACTIVATIONS[hidden]
    X, Y = rng.normal(size=(20, 3)), np.eye(2)[rng.integers(0, 2, 20)]

    def build(wrap):
        g = (lambda z: f(z)) if wrap else f
        d_g = (lambda z: d_f(z)) if wrap else d_f
        return ml.Network([ml.Layer(3, 5), ml.Layer(5, 2)], [g, ml.softmax], [d_g, None],
                          ml.cross_entropy_loss, ml.d_cross_entropy_softmax)

    fast, plain = build(False), build(True)
    h_fast = fast.train(X, Y, epochs=4, learning_rate=0.5, batch_size=7, seed=0)
    h_plain = plain.train(X, Y, epochs=4, learning_rate=0.5, batch_size=7, seed=0)
    np.testing.assert_array_equal(h_fast["loss"], h_plain["loss"])
    for a, b in zip(fast.layers, plain.layers):
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.biases, b.biases)


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
        return returned[-1]

    net = ml.Network([ml.Layer(2, 3), ml.Layer(3, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                     ml.l2_loss, d_loss)
    before = net.forward(X)[-1] - Y
    net.fit(X, Y, 0.1, 0.0)
    np.testing.assert_array_equal(returned[0], before)


def test_float32_network_with_custom_float64_functions_trains(rng):
    # A user's functions may return float64; the float32 training buffers must still work.
    X, Y = rng.normal(size=(10, 3)), np.eye(2)[rng.integers(0, 2, 10)]
    net = ml.Network([ml.Layer(3, 4), ml.Layer(4, 2)],
                     [lambda z: np.maximum(z, 0).astype(np.float64), ml.softmax],
                     [lambda z: (z > 0).astype(np.float64), None],
                     ml.cross_entropy_loss, ml.d_cross_entropy_softmax).astype(np.float32)
    history = net.train(X, Y, epochs=3, learning_rate=0.1)
    assert np.all(np.isfinite(history["loss"]))
    assert net.layers[0].weights.dtype == np.float32


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
    # The thread rule of mlplab._threads, seen from inside a training step: a custom
    # activation records the BLAS thread counts while the step runs. Started from two threads,
    # so that a rule that did nothing would be seen.
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    seen = []

    def recording_sigmoid(z):
        seen.append(blas_threads())
        if len(seen) == 3:
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
        net.train(X, Y, epochs=1, learning_rate=0.1)
        with pytest.raises(RuntimeError, match="mid-step"):
            net.fit(X, Y, 0.1, 0.0)
        after = blas_threads()
    assert seen == [[1] * len(before)] * 3
    assert after == before


def test_gradients_and_mini_batches_in_row_blocks_agree_with_one_call(rng, monkeypatch):
    X, Y = rng.normal(size=(23, 4)), np.eye(3)[rng.integers(0, 3, 23)]
    whole = make_network((4, 6, 3), output="softmax", loss="cross_entropy")
    want_loss, want = whole.gradients(X, Y, 0.01)
    want_history = whole.train(X, Y, epochs=3, learning_rate=0.5, batch_size=9, seed=0)
    blocked = make_network((4, 6, 3), output="softmax", loss="cross_entropy")
    products = tiny_row_blocks(monkeypatch)
    for layer in blocked.layers:   # both layers, at mini-batch size and so at full size too
        assert len(products.row_blocks(9, *layer.weights.shape)) > 1
    loss, grads = blocked.gradients(X, Y, 0.01)
    assert loss == pytest.approx(want_loss, rel=1e-14)
    for (dW, db), (want_dW, want_db) in zip(grads, want):
        np.testing.assert_allclose(dW, want_dW, rtol=0, atol=1e-14)
        np.testing.assert_allclose(db, want_db, rtol=0, atol=1e-14)
    history = blocked.train(X, Y, epochs=3, learning_rate=0.5, batch_size=9, seed=0)
    np.testing.assert_allclose(history["loss"], want_history["loss"], rtol=1e-13)
    for a, b in zip(blocked.layers, whole.layers):
        np.testing.assert_allclose(a.weights, b.weights, rtol=0, atol=1e-13)


def test_public_calls_free_their_arrays_and_training_does_not_keep_the_data(rng):
    # Without the cycle collector: a workspace that referred to itself would stay allocated
    # (with its N-row buffers) until the next collection.
    import gc
    import weakref
    net = make_network((3, 5, 2), output="softmax", loss="cross_entropy")
    X, Y = data_for(net, rng)
    gc.disable()
    try:
        work = weakref.ref(net._forward_pass(X))
        assert work() is None
        for train in (lambda X: net.train(X, Y, epochs=2, learning_rate=0.1, batch_size=5),
                      lambda X: net.fit(X, Y, 0.1, 0.0)):
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
