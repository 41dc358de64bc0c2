"""Central-difference check of a network's backpropagated gradients.

Used by the tests and open to users: after changing an activation or a loss, ``gradcheck`` tells
whether backpropagation still computes the gradient of the objective it claims to.
"""

import copy

import numpy as np


def relative_error(analytic, numeric):
    """||analytic - numeric|| / (||analytic|| + ||numeric||), 0 when both are zero.

    A norm ratio over the whole array rather than CS231n's elementwise max: entries that are
    nearly zero would otherwise turn the central difference's ~1e-10 rounding noise into a large
    "relative" error that says nothing about the gradient.
    """
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if scale == 0 else float(np.linalg.norm(analytic - numeric) / scale)


def gradcheck(network, X, Y, reg_lambda=0.0, eps=1e-6):
    """Worst relative error between backpropagation and central differences.

    Every weight and bias is nudged by +-eps in turn, and (J(p + eps) - J(p - eps)) / (2 eps)
    is compared with the network's gradient of J (`Network.gradients`, J as `Network.loss`), one
    parameter array at a time with `relative_error`. The nudges are made on a copy: `network`
    itself is never changed.

    Parameters
    ----------
    network : Network
    X : ndarray of shape (n_samples, n_input)
    Y : ndarray of shape (n_samples, n_output), or (n_samples,) for one output unit
    reg_lambda : float, >= 0
    eps : float
        Step of the central difference.

    Returns
    -------
    float
        The largest relative error over all weight and bias arrays (< 1e-6 for a correct
        float64 implementation on smooth activations).
    """
    _, grads = network.gradients(X, Y, reg_lambda)
    # The same network with copies of the layers' arrays (not of the user's functions).
    probe = copy.copy(network)
    probe.layers = [copy.copy(layer) for layer in network.layers]
    for layer in probe.layers:
        layer.weights = layer.weights.copy()
        layer.biases = None if layer.biases is None else layer.biases.copy()
    worst = 0.0
    for layer, (dW, db) in zip(probe.layers, grads):
        for param, analytic in ((layer.weights, dW), (layer.biases, db)):
            if param is None:
                continue
            numeric = np.empty_like(param)
            for index in np.ndindex(param.shape):
                original = param[index]
                param[index] = original + eps
                plus = probe.loss(X, Y, reg_lambda)
                param[index] = original - eps
                minus = probe.loss(X, Y, reg_lambda)
                param[index] = original
                numeric[index] = (plus - minus) / (2 * eps)
            worst = max(worst, relative_error(analytic, numeric))
    return worst
