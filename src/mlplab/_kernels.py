"""In-place kernels of the built-in activations and losses, shared by `functions` and training.

Each ``*_into(z, out)`` writes f(z) into `out`; each ``*_gradient_from_output(a, out)`` writes
f'(z) computed from the activation a = f(z). The public activations in `functions` are built
from these same kernels, so the training loop (which writes into preallocated buffers and
reuses the forward pass's outputs) and the plain functions give identical bits. Each
``*_loss_into(YTrue, YPredict, scratch)`` returns a loss with the arithmetic of the public
function of that name, its temporaries in `scratch` (YPredict's shape and dtype; YTrue of the
same dtype, as the training step has them).

Callers silence overflow: sigmoid's exp(-z) overflows to inf for z < -709, harmlessly, since
1 / (1 + inf) is exactly 0, the correct limit.
"""

import functools

import numpy as np


@functools.cache
def _constant(value, dtype):
    """`value` as a read-only 0-d array of `dtype`.

    NumPy takes a Python float operand through its slower scalar-promotion path, about half a
    microsecond per call, which adds up on small batches; a 0-d array of the
    operand array's own dtype gives the same bits without it.
    """
    constant = np.full((), value, dtype)
    constant.flags.writeable = False
    return constant


def sigmoid_into(z, out):
    np.negative(z, out=out)
    np.exp(out, out=out)
    one = _constant(1.0, out.dtype)
    out += one
    # 1 / x by division: the same correctly rounded result as np.reciprocal, about twice as
    # fast (NumPy vectorises division, not reciprocal).
    return np.divide(one, out, out=out)


def sigmoid_gradient_from_output(a, out):
    """sigma'(z) = a * (1 - a)."""
    np.subtract(_constant(1.0, out.dtype), a, out=out)
    return np.multiply(a, out, out=out)


def tanh_into(z, out):
    return np.tanh(z, out=out)


def tanh_gradient_from_output(a, out):
    """tanh'(z) = 1 - a^2."""
    np.multiply(a, a, out=out)
    return np.subtract(_constant(1.0, out.dtype), out, out=out)


def relu_into(z, out):
    return np.maximum(z, _constant(0.0, out.dtype), out=out)


def relu_gradient_from_output(a, out):
    """relu'(z) = 1 where z > 0 (equivalently a > 0), else 0, also at the kink."""
    return np.heaviside(a, _constant(0.0, out.dtype), out=out)


def _row_max(z):
    """Each row's maximum, shape z.shape[:-1] + (1,)."""
    if z.ndim == 2 and 1 < z.shape[1] <= 32:
        # A few elementwise maxima down the columns beat NumPy's row-by-row reduction on
        # narrow rows (a softmax over classes) by about three times; the result is the same.
        row_max = z[:, :1].copy()
        for j in range(1, z.shape[1]):
            np.maximum(row_max, z[:, j:j + 1], out=row_max)
        return row_max
    return z.max(axis=-1, keepdims=True)


def softmax_into(z, out):
    """Softmax over the last axis, after subtracting each row's maximum."""
    np.subtract(z, _row_max(z), out=out)
    np.exp(out, out=out)
    # Row sums as a product with ones: several times faster than sum(axis=-1) on narrow rows.
    row_sums = out @ np.ones(out.shape[-1], out.dtype)
    out /= row_sums[..., np.newaxis]
    return out


def l2_loss_into(YTrue, YPredict, scratch):
    """1/2 * sum((YTrue - YPredict)^2), the squares in `scratch`; all of shape (N, n_out)."""
    np.subtract(YTrue, YPredict, out=scratch)
    np.multiply(scratch, scratch, out=scratch)
    return 0.5 * float(np.add.reduce(scratch, axis=None))


def cross_entropy_loss_into(YTrue, YPredict, scratch):
    """-sum(YTrue * log(YPredict)), with YPredict clipped below at its dtype's smallest positive
    float, the terms in `scratch`; all of shape (N, n_out)."""
    np.maximum(YPredict, np.finfo(YPredict.dtype).tiny, out=scratch)
    np.log(scratch, out=scratch)
    np.multiply(YTrue, scratch, out=scratch)
    return -float(np.add.reduce(scratch, axis=None))
