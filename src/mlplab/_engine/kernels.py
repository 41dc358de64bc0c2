"""In-place kernels of the built-in activations and losses, for the engine's training step.

Each ``*_into(z, out)`` writes f(z) into `out` with the arithmetic of the function of that name
in `mlplab.functions`. Each ``*_gradient_from_output(a, out)`` writes the derivative f'(z) from
the activation a = f(z) that the forward pass already holds, with the arithmetic of the
derivative ``d_f(z)`` (which computes f(z) first, then the same expression): the derivative
still is one of z, only its f(z) is not computed twice. Each ``*_loss_into(YTrue, YPredict,
scratch)`` returns the loss of that name, its temporaries in `scratch` (YPredict's shape and
dtype). Two depart from the public functions in the last bits: softmax (its row sums are one
product with ones) and sigmoid (see `sigmoid_into`).

`ACTIVATION_KERNELS` and `LOSS_KERNELS` say which kernels stand for which public function.
None of them warns on finite input: sigmoid caps exp's argument, and softmax subtracts the row
maximum first.
"""

import functools

import numpy as np

from .. import functions


@functools.cache
def _constant(value, dtype):
    """`value` as a read-only 0-d array of `dtype`.

    NumPy takes a Python float operand through its slower scalar-promotion path, which adds up
    on small batches; a 0-d array of the operand array's own dtype gives the same bits without
    it.
    """
    constant = np.full((), value, dtype)
    constant.flags.writeable = False
    return constant


@functools.cache
def _ones(n, dtype):
    """A read-only vector of `n` ones of `dtype`, made once."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


# Where sigmoid's e^z is capped: e^708 (e^87 in float32) is finite and 1 + e^z rounds to e^z.
_SIGMOID_EXP_CAP = {np.dtype(np.float64): 708.0, np.dtype(np.float32): 87.0}


def sigmoid_into(z, out):
    """sigma(z) = e / (1 + e) with e = exp(min(z, cap)): the same value as 1 / (1 + exp(-z)) to
    an ulp or two, and exp never overflows, so no step needs np.errstate (whose setup `fit` would
    pay on every call). Overwrites z with 1 + e: a built-in activation's derivative is taken from
    its output, so z is not needed again."""
    np.minimum(z, _constant(_SIGMOID_EXP_CAP[out.dtype], out.dtype), out=out)
    np.exp(out, out=out)
    np.add(out, _constant(1.0, out.dtype), out=z)
    return np.divide(out, z, out=out)


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
    """relu'(z) = 1 where z > 0 (equivalently a > 0), else 0, also at the kink: the comparison
    cast to 1.0 and 0.0, five times faster than np.heaviside."""
    return np.greater(a, _constant(0.0, out.dtype), out=out)


def _row_max(z):
    """Each row's maximum, shape z.shape[:-1] + (1,)."""
    if z.ndim == 2 and 1 < z.shape[1] <= 32 and z.shape[0] >= 256:
        # On many narrow rows (a softmax over classes) maxima down the columns are faster than
        # NumPy's row-by-row reduction; on a mini-batch the reduction is. The same result.
        row_max = z[:, :1].copy()
        for j in range(1, z.shape[1]):
            np.maximum(row_max, z[:, j:j + 1], out=row_max)
        return row_max
    return z.max(axis=-1, keepdims=True)


def softmax_into(z, out):
    """Softmax over the last axis, after subtracting each row's maximum."""
    np.subtract(z, _row_max(z), out=out)
    np.exp(out, out=out)
    # Row sums as a product with ones: BLAS, faster than sum(axis=-1) on narrow rows.
    row_sums = out @ _ones(out.shape[-1], out.dtype)
    out /= row_sums[..., np.newaxis]
    return out


def l2_loss_into(YTrue, YPredict, scratch, weights=None):
    """1/2 * sum((YTrue - YPredict)^2), the squares in `scratch`; all of shape (N, n_out)."""
    np.subtract(YTrue, YPredict, out=scratch)
    np.multiply(scratch, scratch, out=scratch)
    return 0.5 * _total(scratch, weights)


def cross_entropy_loss_into(YTrue, YPredict, scratch, weights=None):
    """-sum(YTrue * log(YPredict)), with YPredict clipped below at its dtype's smallest positive
    float, the terms in `scratch`; all of shape (N, n_out)."""
    np.maximum(YPredict, np.finfo(YPredict.dtype).tiny, out=scratch)
    np.log(scratch, out=scratch)
    np.multiply(YTrue, scratch, out=scratch)
    return -_total(scratch, weights)


def _total(terms, weights):
    """The sum of `terms` (N, n_out); with `weights` (N,), of each row's sum times its weight."""
    if weights is None:
        return float(np.add.reduce(terms, axis=None))
    return float(weights @ np.add.reduce(terms, axis=1))


# activation -> (the derivative it must be paired with, its kernel, the derivative from its
# output). None as a kernel means nothing to do: identity's output is its input, and its
# derivative (like softmax's None, see `functions.ACTIVATIONS`) multiplies by 1.
ACTIVATION_KERNELS = {
    functions.identity: (functions.d_identity, None, None),
    functions.sigmoid: (functions.d_sigmoid, sigmoid_into, sigmoid_gradient_from_output),
    functions.tanh: (functions.d_tanh, tanh_into, tanh_gradient_from_output),
    functions.relu: (functions.d_relu, relu_into, relu_gradient_from_output),
    functions.softmax: (None, softmax_into, None),
}

LOSS_KERNELS = {
    functions.l2_loss: l2_loss_into,
    functions.cross_entropy_loss: cross_entropy_loss_into,
}

# Loss derivatives that are YPredict - YTrue, formed in place.
DIFFERENCE_DERIVATIVES = (functions.d_l2_loss, functions.d_cross_entropy_softmax)
