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


def _as_float_array(x):
    # Integer input would make exp/log return float anyway, but in-place tricks would not.
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _output_for(x, out):
    """`x` as a float array and the array to write the result into (`out`, or a new one)."""
    x = _as_float_array(x)
    return x, (np.empty_like(x) if out is None else out)


def _result(out):
    return out[()] if out.ndim == 0 else out   # a scalar in, a scalar out


# The built-in activations take an optional `out` array (of z's shape) so the network can reuse
# its buffers during training; a user's own activation needs only `f(z)`.

def identity(x, out=None):
    """Identity activation, f(x) = x."""
    x, out = _output_for(x, out)
    np.copyto(out, x)
    return _result(out)


def d_identity(x):
    """Derivative of `identity` at the pre-activation `x`: ones of x's shape."""
    return np.ones_like(_as_float_array(x))


def sigmoid(x, out=None):
    """Logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)), elementwise.

    Stable for any float: for x < -709 exp(-x) overflows to inf and 1 / (1 + inf) is exactly 0,
    the correct limit, so that overflow is expected and silenced; sigmoid(-1000) == 0.0 and
    sigmoid(1000) == 1.0 without a warning, and the tail keeps full relative precision.
    """
    x, out = _output_for(x, out)
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return _result(np.reciprocal(out, out=out))


def d_sigmoid(x):
    """Derivative of `sigmoid` at the pre-activation `x`: sigma(x) * (1 - sigma(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x, out=None):
    """Hyperbolic tangent, elementwise."""
    x, out = _output_for(x, out)
    return _result(np.tanh(x, out=out))


def d_tanh(x):
    """Derivative of `tanh` at the pre-activation `x`: 1 - tanh(x)^2."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x, out=None):
    """Rectified linear unit, max(x, 0), elementwise."""
    x, out = _output_for(x, out)
    return _result(np.maximum(x, 0.0, out=out))


def d_relu(x):
    """Derivative of `relu` at the pre-activation `x`: 1 where x > 0, else 0 (0 at the kink)."""
    x = _as_float_array(x)
    return (x > 0).astype(x.dtype)


def softmax(x, out=None):
    """Softmax over the last axis: exp(x_i) / sum_j exp(x_j), row by row for a batch.

    The row maximum is subtracted first, so no exp overflows; every row sums to 1.
    There is no ``d_softmax``: see `d_cross_entropy_softmax`.
    """
    x, out = _output_for(x, out)
    np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    # Row sums as a product with ones: several times faster than sum(axis=-1) on narrow rows.
    row_sums = out @ np.ones(out.shape[-1], out.dtype)
    out /= row_sums[..., np.newaxis]
    return _result(out)


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

# name -> (loss, derivative). "cross_entropy"'s derivative assumes a softmax output layer.
# The derivative of each built-in activation as a function of its *output* a = f(z), written
# with the same floating-point operations as the d_f(z) above (so d_f(z) == g(f(z)) bit for
# bit), writing into `out`: the network reuses the forward pass's outputs instead of
# recomputing f(z) in the backward pass. None means "multiply by nothing" (identity).
def _sigmoid_grad_from_output(a, out):
    np.subtract(1.0, a, out=out)
    return np.multiply(a, out, out=out)


def _tanh_grad_from_output(a, out):
    np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def _relu_grad_from_output(a, out):
    return np.heaviside(a, 0.0, out=out)   # 1 where a > 0, else 0, like d_relu


GRADIENTS_FROM_OUTPUT = {
    d_identity: None,
    d_sigmoid: _sigmoid_grad_from_output,
    d_tanh: _tanh_grad_from_output,
    d_relu: _relu_grad_from_output,
}
IN_PLACE_ACTIVATIONS = frozenset(f for f, _ in ACTIVATIONS.values())

LOSSES = {
    "l2": (l2_loss, d_l2_loss),
    "cross_entropy": (cross_entropy_loss, d_cross_entropy_softmax),
}

