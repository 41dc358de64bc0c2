"""HW2 -- neural network from scratch (vectorised version).

Correct homework written differently from correct.py: postponed annotations with a method
annotated `-> Layer` inside `class Layer`, the later skeleton's `add_bias` flag, a zero bias kept
(and never updated) when the flag is off, other argument names, zero initial biases, and a
Network that keeps its own list of the layers' arrays and rebinds those in `fit`. Test input for
`mlplab check`.
"""
from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import accuracy_score, f1_score


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))   # at most 1: no overflow
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def d_sigmoid(z):
    s = sigmoid(z)
    return s - s * s


def softmax(z):
    z = np.asarray(z, dtype=float)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def l2_loss(y_true, y_pred):
    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.sum(diff * diff)) / 2


def d_l2_loss(y_true, y_pred):
    return np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)


def cross_entropy_loss(y_true, y_pred):
    p = np.clip(np.asarray(y_pred, dtype=float), 1e-15, 1.0)
    return float(-np.sum(np.asarray(y_true) * np.log(p)))


def d_cross_entropy_softmax(y_true, y_pred):
    return np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)


class Layer:
    def __init__(self, n_input, n_output, add_bias=True):
        self.n_input = n_input
        self.n_output = n_output
        self.add_bias = add_bias
        self.initialize_weights()

    def initialize_weights(self) -> None:
        rng = np.random.default_rng(2)  # for re-producibility, do not change this
        self.w = rng.standard_normal((self.n_input, self.n_output)) * 0.01
        # always a bias vector; it just stays at zero when add_bias is False
        self.b = np.zeros(self.n_output)

    def copy(self) -> Layer:
        twin = Layer(self.n_input, self.n_output, self.add_bias)
        twin.w, twin.b = self.w.copy(), self.b.copy()
        return twin


class Network:
    def __init__(self, layers, activation_list, d_activation_list, loss_function,
                 d_loss_function):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function
        # my own copy of the parameters, [W, b] per layer
        self.params = [[layer.w, layer.b] for layer in layers]

    def feedforward(self, X) -> tuple[list, list]:
        A = np.atleast_2d(np.asarray(X, dtype=float))
        zs, acts = [], [A]
        for (W, b), f in zip(self.params, self.activation_list):
            Z = acts[-1] @ W + b
            zs.append(Z)
            acts.append(f(Z))
        return zs, acts

    def fit(self, X, Y, learning_rate, reg_lambda) -> float:
        X = np.asarray(X, dtype=float)
        n = len(X)
        Y = np.asarray(Y, dtype=float).reshape(n, -1)
        zs, acts = self.feedforward(X)
        loss = self.loss_function(Y, acts[-1])
        delta = self.d_loss_function(Y, acts[-1])
        if self.d_activation_list[-1] is not None:
            delta = delta * self.d_activation_list[-1](zs[-1])
        grads = []
        for i in range(len(self.params) - 1, -1, -1):
            W, b = self.params[i]
            grads.append((acts[i].T @ delta / n, delta.mean(axis=0)))
            if i:
                delta = (delta @ W.T) * self.d_activation_list[i - 1](zs[i - 1])
        grads.reverse()
        for i, (layer, (dW, db)) in enumerate(zip(self.layers, grads)):
            W, b = self.params[i]
            W = W - learning_rate * (dW + reg_lambda * W)
            if layer.add_bias:
                b = b - learning_rate * db
            self.params[i] = [W, b]
        return loss / n

    def predict(self, X, threshold=None):
        out = self.feedforward(X)[1][-1]
        if out.shape[1] == 1:
            return (out[:, 0] > (0.5 if threshold is None else threshold)).astype(int)
        return np.argmax(out, axis=1)


if __name__ == "__main__":
    from sklearn import datasets

    X, Y = datasets.load_iris(return_X_y=True)
    X, Y = X[:100, :2], Y[:100]
    model = Network([Layer(2, 4), Layer(4, 1)], [sigmoid, sigmoid], [d_sigmoid, d_sigmoid],
                    l2_loss, d_l2_loss)
    losses = [model.fit(X, Y, 1e-2, 0) for _ in range(100)]
    plt.plot(losses)
    plt.show()
