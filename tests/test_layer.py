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
