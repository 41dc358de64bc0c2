"""The forward and backward passes of `mlplab.network`, written into preallocated arrays.

Same math, same order, same shapes as `Network._forward` and `Network._backward`; what differs:
- every array of a pass lives in a `Workspace`, made once per training and reused at every
  step, with views for a smaller batch (the last one of an epoch);
- built-in activations run as in-place kernels (`kernels`), and their derivative is taken from
  the activation the forward pass holds instead of computing f(z) again;
- the backward pass returns the gradient of the mean data loss already multiplied by `scale`
  (the training step passes the learning rate): delta is scaled once, at the output, and
  everything after it is linear in delta. The L2 term is the update's (see `trainer`).
"""

import copy
import functools

import numpy as np

from .._validation import loss_total
from .kernels import ACTIVATION_KERNELS, DIFFERENCE_DERIVATIVES, LOSS_KERNELS

_USER = object()   # marks a user's function, called as given


class Kernels:
    """How a network's layers and loss are computed into a workspace.

    - ``activate[l]``: ``(Z, out) -> a``, the built-in activation's kernel or a call of the
      user's function (its result checked for shape and kept in the network's dtype).
    - ``derivative_from_output[l]``: ``(a, out) -> f'(z)`` for a built-in pair; None where there
      is nothing to multiply by (identity; an output layer whose loss derivative is dL/dz
      already); `_USER` for a user's derivative, called on z.
    - ``loss_into``: the loss's kernel, or None for a user's loss.
    - ``output_delta_is_difference``: the loss derivative is YPredict - YTrue.
    """

    def __init__(self, network):
        self.activate, self.derivative_from_output = [], []
        for l, (f, d_f) in enumerate(zip(network.activation_list, network.d_activation_list)):
            paired_derivative, into, from_output = _lookup(ACTIVATION_KERNELS, f, (_USER,) * 3)
            if paired_derivative is not d_f:   # a user's function, or an unusual pairing
                into = functools.partial(_call_activation, f, l)
                from_output = _USER if d_f is not None else None
            self.activate.append(_identity_into if into is None else into)
            self.derivative_from_output.append(from_output)
        self.loss_into = _lookup(LOSS_KERNELS, network.loss_function)
        self.output_delta_is_difference = any(network.d_loss_function is d
                                              for d in DIFFERENCE_DERIVATIVES)


def _lookup(table, function, default=None):
    """table[function], or `default` for a function not in it (an unhashable one cannot be)."""
    try:
        return table.get(function, default)
    except TypeError:
        return default


def _identity_into(Z, out):
    return Z


def _call_activation(f, l, Z, out):
    # A user's function may compute in another dtype, and gets a copy of z to keep or change.
    return np.asarray(_user_call(f, f"activation_list[{l}]", Z), dtype=out.dtype)


def _user_call(function, name, array, *first):
    """function(*first, a copy of `array`), checked to return one value per element of it.

    A user's function is given a copy: it may keep or change its argument, and the engine's
    buffers are reused at the next step.
    """
    result = np.asarray(function(*first, array.copy()))
    if result.shape != array.shape:
        raise ValueError(f"{name} returned an array of shape {result.shape} for one of shape "
                         f"{array.shape}; it must return one value per element")
    return result


class Workspace:
    """The arrays a forward and backward pass on `n_rows` rows write into.

    Per layer l of n_in -> n_out units: ``Z[l]`` (z, kept for a user's derivative; a built-in
    kernel may use it as scratch), ``A[l]``, ``delta[l]``, ``scratch[l]`` of shape
    (n_rows, n_out), and ``gradient[l]`` = (dW, db), dW (n_in, n_out) and db (n_out,) or None
    (views into the trainer's flat gradient when it passes `gradient`). ``activations`` is
    [X, a^(1), ..., a^(L)] of the last forward pass, ``ones`` (n_rows,). A forward-only
    workspace (``backward=False``) has None for ``delta``, ``gradient`` and ``ones``.
    """

    def __init__(self, network, n_rows, backward=True, gradient=None):
        dtype = network.dtype
        shapes = [layer.weights.shape for layer in network.layers]
        self.n_rows = n_rows
        self.kernels = Kernels(network)
        self.Z, self.A = ([np.empty((n_rows, n_out), dtype) for _, n_out in shapes]
                          for _ in range(2))
        self.scratch = [np.empty((n_rows, n_out), dtype) for _, n_out in shapes]
        self.activations = [None] * (len(shapes) + 1)
        self.delta = self.gradient = self.ones = None
        if backward:
            self.delta = [np.empty((n_rows, n_out), dtype) for _, n_out in shapes]
            self.gradient = gradient
            self.ones = np.ones(n_rows, dtype)
        self._by_rows = {}   # the views of `rows`; none refers back, so nothing waits for the gc

    def rows(self, n_rows):
        """This workspace for batches of `n_rows` <= self.n_rows rows, made once per size."""
        if n_rows == self.n_rows:
            return self
        work = self._by_rows.get(n_rows)
        if work is None:
            work = copy.copy(self)
            work.n_rows, work._by_rows = n_rows, {}
            for name in ("Z", "A", "delta", "scratch"):
                arrays = getattr(self, name)
                if arrays is not None:
                    setattr(work, name, [array[:n_rows] for array in arrays])
            if self.ones is not None:
                work.ones = self.ones[:n_rows]
            work.activations = [None] * len(self.activations)
            self._by_rows[n_rows] = work
        return work


def forward(network, X, work):
    """`Network._forward` on X (N rows) into `work`; returns the output a^(L), (N, n_output).

    Afterwards ``work.activations`` is [X, a^(1), ..., a^(L)], and ``work.Z[l]`` holds z^(l+1)
    where a user's derivative needs it (a built-in kernel may have used it as scratch).
    """
    activations, activate = work.activations, work.kernels.activate
    a = activations[0] = X
    for l, layer in enumerate(network.layers):
        Z = np.dot(a, layer.weights, out=work.Z[l])   # (N, n_out)
        if layer.biases is not None:
            Z += layer.biases
        a = activations[l + 1] = activate[l](Z, work.A[l])
    return a


def backward(network, Y, work, scale, weights=None):
    """`Network._backward` without the L2 term, times `scale`, into ``work.gradient``; with
    `weights` (N,), each sample's part of it times its weight.

    Needs the forward pass of the same rows in `work`; returns ``work.gradient``.
    """
    activations, derivative_from_output = work.activations, work.kernels.derivative_from_output
    last = len(network.layers) - 1
    # delta starts as dL/da^(L) scaled by scale / N: everything below is linear in it, so every
    # gradient comes out scaled and averaged without a pass over the parameters.
    delta = work.delta[last]   # (N, n_out)
    if work.kernels.output_delta_is_difference:
        np.subtract(activations[-1], Y, out=delta)
    else:
        np.copyto(delta, _user_call(network.d_loss_function, "d_loss_function",
                                    activations[-1], Y))
    delta *= np.array(scale / len(Y), delta.dtype)   # 0-d: see kernels._constant
    if weights is not None:
        delta *= weights.astype(delta.dtype, copy=False)[:, np.newaxis]
    for l in range(last, -1, -1):
        # delta = dL/da^(l+1) -> dL/dz^(l+1) = delta * f'(z^(l+1)), in place
        from_output = derivative_from_output[l]
        if from_output is _USER:
            np.multiply(delta, _user_call(network.d_activation_list[l],
                                          f"d_activation_list[{l}]", work.Z[l]), out=delta,
                        casting="same_kind")
        elif from_output is not None:   # None: f' = 1
            np.multiply(delta, from_output(activations[l + 1], work.scratch[l]), out=delta)
        dW, db = work.gradient[l]
        np.dot(activations[l].T, delta, out=dW)   # (n_in, n_out)
        if db is not None:
            # Column sums as ones @ delta: BLAS, faster than sum(axis=0).
            np.dot(work.ones, delta, out=db)   # (n_out,)
        if l > 0:
            delta = np.dot(delta, network.layers[l].weights.T, out=work.delta[l - 1])  # (N, n_in)
    return work.gradient


def data_loss(network, Y, output, work, weights=None):
    """The loss summed over the rows (with `weights`, each row's loss times its weight), by the
    loss's kernel (its temporaries in the last layer's scratch, free until the backward pass)
    or by the user's function (called on each row when weighted)."""
    if work.kernels.loss_into is not None:
        return work.kernels.loss_into(Y, output, work.scratch[-1], weights)
    # A copy for the user's function, which may keep or change it (see `_user_call`).
    return loss_total(network.loss_function, Y, output.copy(), weights)
