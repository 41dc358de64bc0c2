import numpy as np
import pytest

import mlplab as ml
from conftest import data_for, make_network
from test_network import CONFIGS


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_backprop_matches_central_differences(config, rng):
    sizes, hidden, output, loss, bias, reg_lambda = config
    net = make_network(sizes, hidden, output, loss, bias)
    X, Y = data_for(net, rng)
    assert ml.gradcheck(net, X, Y, reg_lambda) < 1e-6


def test_gradcheck_detects_a_wrong_derivative(rng):
    # A checker that cannot fail proves nothing: give the network a derivative that is off.
    layers = [ml.Layer(3, 4), ml.Layer(4, 1)]
    wrong = ml.Network(layers, [ml.sigmoid, ml.sigmoid],
                       [lambda z: 1.1 * ml.d_sigmoid(z), ml.d_sigmoid], ml.l2_loss, ml.d_l2_loss)
    X, Y = rng.normal(size=(9, 3)), rng.uniform(size=(9, 1))
    assert ml.gradcheck(wrong, X, Y) > 1e-3


def test_gradcheck_restores_the_parameters(rng):
    net = make_network((2, 3, 1))
    before = [layer.weights.copy() for layer in net.layers]
    ml.gradcheck(net, rng.normal(size=(4, 2)), rng.uniform(size=(4, 1)))
    for layer, W in zip(net.layers, before):
        np.testing.assert_array_equal(layer.weights, W)


def test_relative_error_is_scale_free_and_zero_for_equal_arrays():
    from mlplab.gradcheck import relative_error

    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a * 1e-9, a * 1.01e-9) == pytest.approx(relative_error(a, a * 1.01))
