"""Activation and loss functions with their derivatives (assignment Q2.2).

Pure functions only. Rows are samples: every function takes one sample (1-D) or a batch of
shape (n_samples, n_units), and an elementwise function returns an array of its input's shape.

Conventions that the network relies on:
- An activation derivative ``d_f`` takes the *pre-activation* ``z`` (not ``f(z)``), as in the
  assignment's ``d_sigmoid(x) = sigma(x) * (1 - sigma(x))``.
- A loss returns the **sum** over samples and output units; ``Network.fit`` divides by
  ``n_samples`` to get the assignment's average loss. A loss derivative returns an array of the
  prediction's shape: dL/dYPredict, or, for ``d_cross_entropy_softmax``, dL/dz of the softmax.
"""

import numpy as np

from ._validation import check_number


def _as_float_array(x):
    # Integer input gives float output, as it would for exp or log.
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def identity(x):
    """Identity activation, f(x) = x."""
    return _as_float_array(x)


def d_identity(x):
    """Derivative of `identity` at the pre-activation `x`: ones of x's shape."""
    return np.ones_like(_as_float_array(x))


def sigmoid(x):
    """Logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)), elementwise.

    Stable for any float: for x < -709 exp(-x) overflows to inf and 1 / (1 + inf) is exactly 0,
    the correct limit, so that overflow is expected and silenced; sigmoid(-1000) == 0.0 and
    sigmoid(1000) == 1.0 without a warning, and the tail keeps full relative precision.
    """
    x = _as_float_array(x)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def d_sigmoid(x):
    """Derivative of `sigmoid` at the pre-activation `x`: sigma(x) * (1 - sigma(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, elementwise."""
    return np.tanh(_as_float_array(x))


def d_tanh(x):
    """Derivative of `tanh` at the pre-activation `x`: 1 - tanh(x)^2."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x):
    """Rectified linear unit, max(x, 0), elementwise."""
    return np.maximum(_as_float_array(x), 0.0)


def d_relu(x):
    """Derivative of `relu` at the pre-activation `x`: 1 where x > 0, else 0 (0 at the kink)."""
    x = _as_float_array(x)
    return (x > 0).astype(x.dtype)


def softmax(x):
    """Softmax over the last axis: exp(x_i) / sum_j exp(x_j), row by row for a batch.

    The row maximum is subtracted first, so no exp overflows; every row sums to 1. (A
    difference beyond float range, e.g. -1.8e308 - 1e292, becomes -inf, whose exp is exactly
    0, the right limit: that overflow is silenced, as in `sigmoid`.)
    There is no ``d_softmax``: see `d_cross_entropy_softmax`.
    """
    x = _as_float_array(x)
    with np.errstate(over="ignore"):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def l2_loss(YTrue, YPredict):
    """L2 loss, 1/2 (YTrue - YPredict)^2.

    Returns the **sum** over samples and output units (a float); ``Network.fit`` divides by
    ``n_samples``.
    """
    diff = np.asarray(YTrue) - np.asarray(YPredict)
    return 0.5 * float(np.sum(diff * diff))


def d_l2_loss(YTrue, YPredict):
    """Derivative of `l2_loss` with respect to YPredict: YPredict - YTrue, of YPredict's shape."""
    return np.asarray(YPredict) - np.asarray(YTrue)


def cross_entropy_loss(YTrue, YPredict):
    """Cross-entropy, -sum_i YTrue[i] * log(YPredict[i]).

    Returns the **sum** over samples and output units (a float); ``Network.fit`` divides by
    ``n_samples``. A predicted probability of exactly 0 is clipped to the smallest positive
    float of its dtype, so the loss stays finite (about 708 per such term in float64).
    """
    YPredict = _as_float_array(YPredict)
    tiny = np.finfo(YPredict.dtype).tiny
    return -float(np.sum(np.asarray(YTrue) * np.log(np.maximum(YPredict, tiny))))


def d_cross_entropy_softmax(YTrue, YPredict):
    """Gradient of cross-entropy with respect to the softmax's *input* z: YPredict - YTrue.

    ``YPredict`` is the softmax output. Because this is already dL/dz, the network is given
    ``None`` as the softmax layer's activation derivative (the chain through the softmax
    Jacobian is folded in here; rows of YTrue must sum to 1, as one-hot rows do).
    """
    return np.asarray(YPredict) - np.asarray(YTrue)


def smooth_labels(Y, smoothing):
    """Label smoothing: targets ``(1 - smoothing) * Y + smoothing / n_classes``.

    `Y` holds one-hot (or already soft) rows of shape (n_samples, n_classes); a single column
    (n_samples, 1) or a 1-D vector of 0/1 targets, one per sample, counts as two classes, so 0
    becomes smoothing / 2 and 1 becomes 1 - smoothing / 2. One-hot rows still sum to 1, so the
    smoothed targets work with `cross_entropy_loss` and `d_cross_entropy_softmax` unchanged.
    The network is then trained towards probabilities a little short of 0 and 1, which keeps
    its outputs (and so its weights) from growing without bound on data it already classifies
    correctly: the same option as PyTorch's ``CrossEntropyLoss(label_smoothing=...)``.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_classes), (n_samples, 1) or (n_samples,)
    smoothing : float in [0, 1)
    """
    check_number(smoothing, "smoothing", low=0)
    if smoothing >= 1:
        raise ValueError(f"smoothing must be < 1, got {smoothing!r}")
    Y = _as_float_array(Y)
    if Y.ndim not in (1, 2):
        raise ValueError(f"Y must be 1-D (0/1 targets) or 2-D (rows of targets), got an array "
                         f"of shape {Y.shape}")
    if not np.all((Y >= 0) & (Y <= 1)):
        raise ValueError("Y must hold targets in [0, 1] (one-hot rows or 0/1), not class "
                         "indices; one-hot encode them first")
    n_classes = 2 if Y.ndim == 1 or Y.shape[1] == 1 else Y.shape[1]
    if n_classes > 2 or Y.ndim == 2 and Y.shape[1] == 2:
        if not np.allclose(Y.sum(axis=1), 1.0):
            raise ValueError("rows of Y must sum to 1 (one-hot or probability rows)")
    return (1.0 - smoothing) * Y + smoothing / n_classes


# name -> (function, derivative). Derivatives take the pre-activation z.
# softmax has no derivative here: d_cross_entropy_softmax already returns dL/dz
# (softmax output minus target), so the network is given None for it.
ACTIVATIONS = {
    "identity": (identity, d_identity),
    "sigmoid": (sigmoid, d_sigmoid),
    "tanh": (tanh, d_tanh),
    "relu": (relu, d_relu),
    "softmax": (softmax, None),
}

# The activations a hidden layer can have by name: those whose derivative takes z.
HIDDEN_ACTIVATIONS = tuple(sorted(name for name, (_, d_f) in ACTIVATIONS.items()
                                  if d_f is not None))

# name -> (loss, derivative). "cross_entropy"'s derivative assumes a softmax output layer.
LOSSES = {
    "l2": (l2_loss, d_l2_loss),
    "cross_entropy": (cross_entropy_loss, d_cross_entropy_softmax),
}

# output kind -> (output activation, loss), names of the two registries above: the last layer
# of a network built by name (`build_network`, the estimator, the lab).
OUTPUTS = {
    "softmax": ("softmax", "cross_entropy"),   # one unit per class, one-hot targets
    "sigmoid": ("sigmoid", "l2"),              # the assignment's: a unit per 0/1 target
    "identity": ("identity", "l2"),            # real-valued targets (regression)
}
