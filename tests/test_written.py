"""The assignment's written questions (Q1.1, Q1.2) and the Q2.5 sanity run, reproduced by code."""

import numpy as np
import pytest

import mlplab as ml
from conftest import iris_q25

W1 = np.array([[0.4, 0.6, 0.2], [0.3, 0.9, 0.5]])
B1 = np.array([1.0, 1.0, 1.0])
W2 = np.array([[0.2], [0.2], [0.8]])
B2 = np.array([0.5])
A0 = np.array([[1.0, 1.0]])


def q1_network():
    layers = [ml.Layer(2, 3), ml.Layer(3, 1)]
    layers[0].weights, layers[0].biases = W1.copy(), B1.copy()
    layers[1].weights, layers[1].biases = W2.copy(), B2.copy()
    return ml.Network(layers, [ml.sigmoid, ml.sigmoid], [ml.d_sigmoid, ml.d_sigmoid],
                      ml.l2_loss, ml.d_l2_loss)


def test_q1_1_forward_pass_matches_written_answer():
    # Assignment Q1.1: input [1, 1] -> 0.8221 (4 d.p.), as in the written answer.
    output = q1_network().forward(A0)[-1]
    assert output.shape == (1, 1)
    assert round(float(output[0, 0]), 4) == 0.8221


@pytest.mark.parametrize("set_by_hand", [
    lambda layer, W, b: (setattr(layer, "weights", W), setattr(layer, "bias", b)),
    lambda layer, W, b: (setattr(layer, "weights", W.astype(float).tolist()),
                         setattr(layer, "biases", np.reshape(b, (1, -1)))),
    lambda layer, W, b: (setattr(layer, "weights", W), setattr(layer, "biases", b.tolist())),
], ids=["bias = array", "weights as lists, biases as a (1, n) row", "biases as a list"])
def test_q1_1_set_up_the_ways_students_write_it_gives_the_written_answer(set_by_hand):
    # The skeleton keeps `bias` as the on/off flag, so `layer.bias = [1, 1, 1]` is a natural
    # way to set Q1.1's biases; Q1.1's numbers are small integers and tenths.
    layers = [ml.Layer(2, 3), ml.Layer(3, 1)]
    set_by_hand(layers[0], np.array([[4, 6, 2], [3, 9, 5]]) / 10, np.array([1, 1, 1]))
    set_by_hand(layers[1], np.array([[2], [2], [8]]) / 10, np.array([0.5]))
    net = ml.Network(layers, [ml.sigmoid, ml.sigmoid], [ml.d_sigmoid, ml.d_sigmoid],
                     ml.l2_loss, ml.d_l2_loss)
    assert round(float(net.forward([[1, 1]])[-1][0, 0]), 4) == 0.8221


@pytest.mark.parametrize("y_true", [0.0, 1.0])
def test_q1_2_closed_form_gradients_equal_the_networks(y_true):
    # The assignment's matrix formulas, in its column orientation (a^(0) a column vector).
    sig = ml.sigmoid
    a0 = A0.T                                   # (2, 1)
    z1 = W1.T @ a0 + B1.reshape(-1, 1)          # (3, 1)
    a1 = sig(z1)
    z2 = W2.T @ a1 + B2.reshape(-1, 1)          # (1, 1)
    a2 = sig(z2)
    eta = (a2 - y_true) * (sig(z2) * (1 - sig(z2)))
    dW2 = a1 @ eta.T
    db2 = eta.T
    inner = (W2 @ eta) * (sig(z1) * (1 - sig(z1)))
    dW1 = a0 @ inner.T
    db1 = inner.T

    _, grads = q1_network().gradients(A0, np.array([[y_true]]))
    expected = {"dW1": dW1, "db1": db1.ravel(), "dW2": dW2, "db2": db2.ravel()}
    got = {"dW1": grads[0][0], "db1": grads[0][1], "dW2": grads[1][0], "db2": grads[1][1]}
    for label in expected:
        np.testing.assert_allclose(got[label], expected[label], rtol=1e-14, atol=0,
                                   err_msg=label)


def test_q2_5_snippet_as_written_gives_a_strictly_decreasing_loss():
    X, Y = iris_q25()
    layers = [ml.Layer(2, 4), ml.Layer(4, 1)]
    model = ml.Network(layers, [ml.sigmoid, ml.sigmoid], [ml.d_sigmoid, ml.d_sigmoid],
                       ml.l2_loss, ml.d_l2_loss)
    epochs, learning_rate, reg_lambda = 100, 1e-2, 0
    loss = np.zeros(epochs)
    for epoch in range(epochs):
        loss[epoch] = model.fit(X, Y, learning_rate, reg_lambda)
    assert np.all(np.diff(loss) < 0)
    assert loss[-1] < loss[0]
