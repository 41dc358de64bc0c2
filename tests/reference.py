"""The assignment's sample-by-sample algorithm, written from the math: the tests' oracle.

Deliberately simple and independent of `mlplab.network`: one sample at a time, in the
assignment's own column orientation (z = W^T a + b, Q1.2), gradients accumulated in a loop and
averaged before the update. Only the tests use it.
"""

import numpy as np


def reference_fit(weights, biases, activations, d_activations, loss, d_loss, X, Y,
                  learning_rate, reg_lambda):
    """One epoch of the assignment's Q2.4 `fit`, sample by sample.

    weights[l] has shape (n_in, n_out); biases[l] has shape (n_out,) or is None. A None
    derivative (last layer only) means d_loss already gives dL/dz. Returns
    (new_weights, new_biases, mean_loss); the inputs are not modified.
    """
    n_samples = len(X)
    grad_W = [np.zeros_like(W) for W in weights]
    grad_b = [None if b is None else np.zeros_like(b) for b in biases]
    total_loss = 0.0
    for x, y in zip(X, Y):
        y = np.atleast_1d(y).astype(float)
        # forward, keeping every z and a
        a_list, z_list = [np.asarray(x, dtype=float)], []
        for W, b, f in zip(weights, biases, activations):
            z = W.T @ a_list[-1] + (0.0 if b is None else b)
            z_list.append(z)
            a_list.append(f(z))
        total_loss += loss(y, a_list[-1])
        # backward: eta = dL/dz of the current layer
        eta = d_loss(y, a_list[-1])
        if d_activations[-1] is not None:
            eta = eta * d_activations[-1](z_list[-1])
        for l in reversed(range(len(weights))):
            grad_W[l] += np.outer(a_list[l], eta)
            if grad_b[l] is not None:
                grad_b[l] += eta
            if l > 0:
                eta = (weights[l] @ eta) * d_activations[l - 1](z_list[l - 1])
    new_weights = [W - learning_rate * (gW / n_samples + reg_lambda * W)
                   for W, gW in zip(weights, grad_W)]
    new_biases = [None if b is None else b - learning_rate * gb / n_samples
                  for b, gb in zip(biases, grad_b)]
    return new_weights, new_biases, total_loss / n_samples
