"""Bad input gets a ValueError that names the problem, never a NaN or a deep NumPy traceback."""

import numpy as np
import pytest

import mlplab as ml
from conftest import make_network


@pytest.fixture
def net():
    return make_network((2, 3, 1))


@pytest.fixture
def softmax_net():
    return make_network((2, 3, 4), output="softmax", loss="cross_entropy")


GOOD_X = np.ones((4, 2))
GOOD_Y = np.ones(4)


@pytest.mark.parametrize("X, message", [
    (np.ones(4), "X must be 2-D"),
    (np.ones((2, 2, 2)), "X must be 2-D"),
    (np.array([["a", "b"]] * 4), "X must be numeric"),
    (np.array([[1.0, np.nan]] * 4), "X contains NaN or infinity"),
    (np.array([[1.0, np.inf]] * 4), "X contains NaN or infinity"),
    (np.ones((0, 2)), "X is empty"),
    (np.ones((4, 3)), "X has 3 features but the first layer expects 2"),
    ([[1, 2], [3]], "X must be a numeric array"),
])
@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy may warn first
def test_bad_X(net, X, message):
    with pytest.raises(ValueError, match=message):
        net.fit(X, GOOD_Y, 0.1, 0.0)
    if "features" in message or "2-D" in message or "NaN" in message:
        with pytest.raises(ValueError, match=message):
            net.predict(X)


@pytest.mark.parametrize("Y, message", [
    (np.array([1.0, np.nan, 0.0, 1.0]), "Y contains NaN or infinity"),
    (np.ones(5), "different numbers of samples: 4 and 5"),
    (np.ones((4, 2)), "Y has 2 columns but the network has 1 output units"),
    (np.ones((4, 1, 1)), "Y must be 1-D or 2-D"),
])
def test_bad_Y(net, Y, message):
    with pytest.raises(ValueError, match=message):
        net.fit(GOOD_X, Y, 0.1, 0.0)


def test_one_dimensional_Y_needs_one_output_unit(softmax_net):
    with pytest.raises(ValueError, match="Y is 1-D but the network has 4 output units"):
        softmax_net.fit(GOOD_X, np.zeros(4), 0.1, 0.0)


@pytest.mark.parametrize("learning_rate", [0, -0.1, np.nan, np.inf, "0.1", None])
def test_bad_learning_rate(net, learning_rate):
    with pytest.raises(ValueError, match="learning_rate must be"):
        net.fit(GOOD_X, GOOD_Y, learning_rate, 0.0)


@pytest.mark.parametrize("reg_lambda", [-1e-3, np.nan, None])
def test_bad_reg_lambda(net, reg_lambda):
    with pytest.raises(ValueError, match="reg_lambda must be"):
        net.fit(GOOD_X, GOOD_Y, 0.1, reg_lambda)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"epochs": 2, "batch_size": 0}, "batch_size must be >= 1"),
])
def test_bad_training_settings(net, kwargs, message):
    with pytest.raises(ValueError, match=message):
        net.train(GOOD_X, GOOD_Y, learning_rate=0.1, **kwargs)


def test_layers_that_do_not_chain():
    with pytest.raises(ValueError, match="layers 0 and 1 do not chain"):
        ml.Network([ml.Layer(2, 3), ml.Layer(4, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                   ml.l2_loss, ml.d_l2_loss)


@pytest.mark.parametrize("which", ["activation_list", "d_activation_list"])
def test_lists_of_the_wrong_length(which):
    lists = {"activation_list": [ml.sigmoid] * 2, "d_activation_list": [ml.d_sigmoid] * 2}
    lists[which] = lists[which][:1]
    with pytest.raises(ValueError, match=f"{which} has 1 entries but there are 2 layers"):
        ml.Network([ml.Layer(2, 3), ml.Layer(3, 1)], lists["activation_list"],
                   lists["d_activation_list"], ml.l2_loss, ml.d_l2_loss)


def test_none_derivative_only_on_the_output_layer():
    with pytest.raises(ValueError, match=r"d_activation_list\[0\] is None"):
        ml.Network([ml.Layer(2, 3), ml.Layer(3, 2)], [ml.sigmoid, ml.softmax], [None, None],
                   ml.cross_entropy_loss, ml.d_cross_entropy_softmax)


def test_empty_network_and_non_callables():
    with pytest.raises(ValueError, match="layers is empty"):
        ml.Network([], [], [], ml.l2_loss, ml.d_l2_loss)
    with pytest.raises(ValueError, match="loss_function must be callable"):
        ml.Network([ml.Layer(2, 1)], [ml.sigmoid], [ml.d_sigmoid], "l2", ml.d_l2_loss)


def test_bad_threshold(net):
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        net.predict(GOOD_X, threshold="high")


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_blas_thread_setting_is_named(value, monkeypatch, rng):
    # MLPLAB_BLAS_THREADS is read for steps whose products BLAS could thread.
    monkeypatch.setenv("MLPLAB_BLAS_THREADS", value)
    net = make_network((64, 64, 2))
    X, Y = rng.normal(size=(512, 64)), rng.uniform(size=(512, 2))
    with pytest.raises(ValueError, match=f"MLPLAB_BLAS_THREADS must be a whole number >= 1, "
                                         f"got '{value}'"):
        net.fit(X, Y, 0.1, 0.0)


@pytest.mark.parametrize("change, message", [
    (lambda layer: setattr(layer, "weights", np.array([["a"] * 3] * 2)), "must be numeric"),
    (lambda layer: setattr(layer, "weights", np.zeros(6)), r"layers\[0\].weights must have "
                                                           r"shape \(2, 3\), got shape \(6,\)"),
    (lambda layer: setattr(layer, "biases", np.zeros(1)), r"layers\[0\].biases must have shape "
                                                          r"\(3,\), got shape \(1,\)"),
    (lambda layer: setattr(layer, "biases", np.zeros((2, 3))), r"biases must have shape \(3,\), "
                                                               r"got shape \(2, 3\)"),
    (lambda layer: setattr(layer, "weights", layer.weights.astype(np.float32)),
     "use Network.astype"),
])
def test_parameters_set_by_hand_are_checked(net, change, message):
    change(net.layers[0])
    with pytest.raises(ValueError, match=message):
        net.fit(GOOD_X, GOOD_Y, 0.1, 0.0)
    with pytest.raises(ValueError, match=message):
        net.predict(GOOD_X)


def test_transposed_weights_are_named_as_such(net):
    net.layers[0].weights = net.layers[0].weights.T.astype(int)
    with pytest.raises(ValueError, match=r"got shape \(3, 2\); transpose it"):
        net.fit(GOOD_X, GOOD_Y, 0.1, 0.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"validation_data": np.ones((4, 2))}, "validation_data must be a pair"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"seed": -1}, "seed must be >= 0"),
])
def test_bad_validation_data_and_seed(net, kwargs, message):
    with pytest.raises(ValueError, match=message):
        net.train(GOOD_X, GOOD_Y, epochs=1, learning_rate=0.1, **kwargs)


def test_layers_must_be_a_list():
    with pytest.raises(ValueError, match="layers must be a list"):
        ml.Network(ml.Layer(2, 1), [ml.sigmoid], [ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)


def test_values_too_large_for_float32_are_named(net):
    net.astype(np.float32)
    with pytest.raises(ValueError, match="too large for float32"):
        net.predict(np.full((2, 2), 1e300))


@pytest.mark.parametrize("array, finite", [
    (np.ones((3, 2)), True),
    (np.array([1.0, np.nan]), False),
    (np.array([np.inf, -np.inf]), False),
    (np.array([-np.inf, 1.0], np.float32), False),
    (np.array([1e200, -1e200]), True),               # the squares overflow, the values do not
    (np.array([3e38, 1.0], np.float32), True),
    (np.ones((4, 3))[:, ::2], True),                 # strided
    (np.array([[1.0, 2.0], [np.nan, 4.0]]).T, False),
])
def test_all_finite(array, finite):
    from mlplab._validation import all_finite
    assert all_finite(array) is finite


def test_input_checks_stay_off_the_blas(monkeypatch):
    # Input checks run outside the training step's BLAS thread limit: a threaded BLAS call
    # there (a dot product for the finiteness test) made W1 epochs 4x slower beside busy
    # processes. They must use NumPy's own loops only.
    from mlplab._validation import check_data

    def no_blas(*args, **kwargs):
        raise AssertionError("an input check called into the BLAS")

    for name in ("dot", "vdot", "matmul", "inner"):
        monkeypatch.setattr(np, name, no_blas)
    check_data(np.ones((2000, 64)), "X")
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_data(np.full((2000, 64), np.inf), "X")
