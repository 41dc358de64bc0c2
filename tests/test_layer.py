import numpy as np
import pytest

from mlplab import Layer


def test_shapes_and_bias_flag():
    layer = Layer(3, 5)
    assert layer.weights.shape == (3, 5)
    assert layer.biases.shape == (5,)
    assert layer.bias is True
    no_bias = Layer(3, 5, bias=False)
    assert no_bias.biases is None and no_bias.bias is False


def test_glorot_uniform_bounds_and_scale():
    layer = Layer(60, 40)
    limit = np.sqrt(6 / 100)
    assert np.abs(layer.weights).max() <= limit
    # a uniform draw on (-limit, limit) has standard deviation limit / sqrt(3)
    assert layer.weights.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    assert np.abs(layer.weights).max() > 0.9 * limit


def test_initialisation_is_seeded_by_the_skeleton():
    # The skeleton fixes default_rng(2): two layers of one shape start identical.
    a, b = Layer(4, 3), Layer(4, 3)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.biases, b.biases)
    expected = np.random.default_rng(2).uniform(-np.sqrt(6 / 7), np.sqrt(6 / 7), size=(4, 3))
    np.testing.assert_array_equal(a.weights, expected)


@pytest.mark.parametrize("n_input, n_output", [(0, 3), (3, -1), (2.5, 3), ("2", 3), (True, 2)])
def test_bad_sizes_are_rejected(n_input, n_output):
    with pytest.raises(ValueError, match="positive integer"):
        Layer(n_input, n_output)


@pytest.mark.parametrize("value", [np.array([1, 2, 3]), np.array([[1.0, 2.0, 3.0]]),
                                   np.array([[1], [2], [3]]), [1, 2, 3]],
                         ids=["int vector", "(1, n) row", "(n, 1) column", "list"])
def test_an_array_assigned_to_bias_becomes_the_biases(value):
    # The skeleton keeps `bias` as the on/off flag; assigning values to it must not be ignored.
    layer = Layer(2, 3)
    layer.bias = value
    assert layer.biases.dtype == np.float64 and layer.biases.shape == (3,)
    np.testing.assert_array_equal(layer.biases, [1.0, 2.0, 3.0])
    assert layer.bias is True


def test_a_bias_of_the_wrong_length_is_refused_at_once_naming_both_shapes():
    layer = Layer(2, 3)
    with pytest.raises(ValueError, match=r"Layer\(2, 3, bias=True\)\.biases must have shape "
                                         r"\(3,\), got shape \(2,\)"):
        layer.bias = np.array([1.0, 2.0])


def test_the_bias_flag_turns_biases_off_and_on():
    layer = Layer(2, 3)
    layer.bias = False
    assert layer.biases is None and layer.bias is False
    layer.bias = True
    np.testing.assert_array_equal(layer.biases, np.zeros(3))


def test_bias_must_be_a_flag_when_the_layer_is_made():
    with pytest.raises(ValueError, match="bias must be True or False when a Layer is made"):
        Layer(2, 3, bias=[1.0, 1.0, 1.0])


@pytest.mark.parametrize("init, draw", [
    ("normal", lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=3))),
    ("uniform", lambda rng: (rng.uniform(-1, 1, size=(4, 3)), rng.uniform(-1, 1, size=3))),
    (("normal", 0.01), lambda rng: (0.01 * rng.normal(size=(4, 3)), 0.01 * rng.normal(size=3))),
    (("uniform", 0.5), lambda rng: (rng.uniform(-0.5, 0.5, size=(4, 3)),
                                    rng.uniform(-0.5, 0.5, size=3))),
    (lambda rng, n_in, n_out: rng.standard_normal((n_in, n_out)),
     lambda rng: (rng.standard_normal((4, 3)), np.zeros(3))),
    (lambda rng, n_in, n_out: (rng.random((n_in, n_out)), np.ones(n_out)),
     lambda rng: (rng.random((4, 3)), np.ones(3))),
], ids=["normal", "uniform", "normal scaled", "uniform scaled", "callable", "callable pair"])
def test_initialisation_schemes_draw_from_the_skeletons_generator(init, draw):
    # A course's own Layer, e.g. N(0, 1) weights from default_rng(2), reproduced exactly.
    layer = Layer(4, 3, init=init)
    weights, biases = draw(np.random.default_rng(2))
    np.testing.assert_allclose(layer.weights, weights, rtol=1e-15)
    np.testing.assert_allclose(layer.biases, biases, rtol=1e-15)
    assert Layer(4, 3, bias=False, init=init).biases is None


@pytest.mark.parametrize("init", ["xavier", ("glorot_uniform", 2.0), ("normal", -1.0),
                                  ("uniform", "big"), 3])
def test_an_unknown_initialisation_is_named(init):
    with pytest.raises(ValueError, match="init must be one of 'glorot_uniform', 'normal', "
                                         "'uniform'"):
        Layer(2, 3, init=init)


def test_a_callable_initialisation_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"the weights that init '<lambda>' returned must have "
                                         r"shape \(2, 3\), got shape \(3, 2\); transpose it"):
        Layer(2, 3, init=lambda rng, n_in, n_out: np.zeros((n_out, n_in)))


def test_transposed_weights_assigned_by_hand_are_named_when_the_network_uses_them():
    import mlplab as ml
    layer = Layer(2, 3)
    layer.weights = layer.weights.T.copy()
    with pytest.raises(ValueError, match=r"layers\[0\].weights must have shape \(2, 3\), got "
                                         r"shape \(3, 2\); transpose it"):
        ml.Network([layer], [ml.sigmoid], [ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)


def test_bias_none_is_no_bias_and_init_may_be_a_list():
    layer = Layer(2, 3, init=["normal", 0.1])
    np.testing.assert_array_equal(
        layer.weights, 0.1 * np.random.default_rng(2).normal(size=(2, 3)))
    layer.bias = None
    assert layer.biases is None and layer.bias is False
    no_bias = Layer(2, 3, bias=False, init=lambda rng, n_in, n_out: (np.ones((n_in, n_out)), None))
    assert no_bias.biases is None
