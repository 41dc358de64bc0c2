"""Training steps, fast: what `Network.fit` and `Network.train` run unless ``engine=False``.

A `Trainer` holds what a step needs, made once per network: a `Workspace` for its batches, the
gradient in one flat buffer (each layer's dW and db a view into it), and the BLAS thread
setting per batch size. Its steps equal `Network._step`'s (tests/test_engine.py), under the same
contract:
- the update W <- W - learning_rate * (mean_grad + l2 * W) is all or nothing: a step whose loss
  or new parameters are not finite raises `errors.step_failure` and changes nothing;
- every step binds new arrays to the layers and never writes into one a layer held, so a user
  who keeps ``layer.weights`` keeps that step's values, as ``W = W - lr * dW`` would give.
The new parameters of a step are one flat buffer, so the update is one subtraction (and one
multiply per layer for the L2 term) and its finiteness check one dot product. The buffer is the
one of two steps ago when nothing outside the trainer still refers to it or to a view of it
(the reference counts say so, as NumPy's own elision of temporaries does), else a new one: a
kept array is never reused, and the common loop allocates nothing.
"""

import contextlib
import math
import operator
import sys

import numpy as np

from .._validation import all_finite
from ..errors import step_failure
from .threads import limited, threads_for
from .updates import flat_update
from .workspace import Workspace, backward, data_loss, forward


class Trainer:
    """The engine's training steps on `network`, whose parameters it must find unchanged
    (`serves`) between steps; ``with trainer.running(n_rows): trainer.step(...)``."""

    def __init__(self, network):
        self.network = network
        self.dtype = network.dtype
        self.shapes = [layer.weights.shape for layer in network.layers]
        self.has_bias = [layer.biases is not None for layer in network.layers]
        self.size = sum(n_in * n_out + (n_out if bias else 0)
                        for (n_in, n_out), bias in zip(self.shapes, self.has_bias))
        self.gradient_buffer = np.empty(self.size, self.dtype)
        self.gradient = self._views(self.gradient_buffer)
        self.workspace = self.validation = None
        self.contexts = {}   # batch rows -> the context of `running`
        self.spare = None
        self.update = None   # the flat optimizer of `running`; None: plain gradient descent
        self.l2_mask = None   # (l2, its mask) of `_l2_mask`
        self.last_update = None   # see `_update_for`
        self.functions = _functions(network)
        current = self._new_slot()
        for layer, (W, b) in zip(network.layers, current.views):
            W[...] = layer.weights
            if b is not None:
                b[...] = layer.biases
        self._bind(current)

    def _views(self, buffer):
        """[(W, b), ...]: each layer's weights (n_in, n_out) and biases (n_out,) or None, as
        views into the flat `buffer`."""
        views, start = [], 0
        for (n_in, n_out), bias in zip(self.shapes, self.has_bias):
            W = buffer[start:start + n_in * n_out].reshape(n_in, n_out)
            start += n_in * n_out
            b = None
            if bias:
                b = buffer[start:start + n_out]
                start += n_out
            views.append((W, b))
        return views

    def _new_slot(self):
        buffer = np.empty(self.size, self.dtype)
        slot = _Slot(buffer, self._views(buffer))
        del buffer
        slot.unshared = slot.references()
        return slot

    def _bind(self, slot):
        """Make the parameters in `slot` the network's."""
        self.current = slot
        self.network.set_parameters(slot.parameters)

    def serves(self, network):
        """Whether `network` is as this trainer left it: its layers hold the arrays the trainer
        bound, and its functions are those the trainer's kernels were chosen for."""
        layers, slot = network.layers, self.current
        return (_functions(network) == self.functions   # identical, or equal by their own __eq__
                and len(layers) == len(slot.weights)
                and all(map(operator.is_, map(_WEIGHTS, layers), slot.weights))
                and all(map(operator.is_, map(_BIASES, layers), slot.biases)))

    def running(self, n_rows, optimizer=None):
        """A context for steps on batches of up to `n_rows` rows: ``with trainer.running(n):``
        sets the BLAS threads such steps run on (`threads.threads_for`) and restores them.
        With an `optimizer` other than plain gradient descent its steps take that rule, its
        state kept in flat buffers and written back to the optimizer on leaving."""
        if self.workspace is None or n_rows > self.workspace.n_rows:
            self.workspace = Workspace(self.network, n_rows, gradient=self.gradient)
        context = self._threads_context(n_rows)
        update = self._update_for(optimizer)
        return context if update is None else _Optimizing(self, update, context)

    def _threads_context(self, n_rows):
        """The context setting the BLAS threads of work on `n_rows` rows, made once."""
        context = self.contexts.get(n_rows)
        if context is None:
            threads = threads_for(self.shapes, n_rows)
            context = self.contexts[n_rows] = _AS_IT_IS if threads is None else _Limited(threads)
        return context

    def lbfgs_running(self, n_rows):
        """A context for SciPy's L-BFGS on `n_rows` rows: the thread rule of a step on as many
        rows, for SciPy's BLAS as well as NumPy's."""
        from scipy import optimize  # noqa: F401  (loaded first, so that the limit reaches it)
        threads = threads_for(self.shapes, n_rows, vectors_too=True)
        return _AS_IT_IS if threads is None else limited(threads, refresh=True)

    def _update_for(self, optimizer):
        """The flat form of `optimizer`: the one of the last `running` if the optimizer's state
        is still the one written back then, else made anew from its state."""
        last = self.last_update
        if last is None or last.optimizer is not optimizer or optimizer.state is not last.stored:
            self.last_update = last = flat_update(optimizer, self)
        return last

    def single_step(self, X, Y, learning_rate, l2, weights=None):
        """`step` on its own, as `Network.fit` takes it: plain descent, in the thread setting it
        needs."""
        context = self.running(len(X))
        self.update = None   # also when called from a callback inside `running`
        if context is _AS_IT_IS:
            return self.step(X, Y, learning_rate, l2, weights)
        with context:
            return self.step(X, Y, learning_rate, l2, weights)

    def step(self, X, Y, learning_rate, l2, weights=None):
        """One step on (X, Y), all or nothing, as `Network._step`; returns the mean data loss
        before it. `l2` is the coefficient of W in dJ/dW's penalty term; `weights` (N,), of mean
        1, weigh the samples."""
        network, work, update = self.network, self.workspace.rows(len(X)), self.update
        try:
            output = forward(network, X, work)
            loss = data_loss(network, Y, output, work, weights) / len(X)
            if not math.isfinite(loss):
                raise step_failure(network, X, Y, learning_rate, f"loss ({loss})")
            # Plain descent gets learning_rate * the mean data gradient; an optimizer dJ/dtheta.
            plain = update is None or update.plain
            backward(network, Y, work, learning_rate if plain else 1.0, weights)
        finally:
            work.activations[0] = None   # the caller's X: the trainer must not keep it alive
        new = self._free_slot()
        if plain:
            self._descend(new, learning_rate * l2)
        else:
            if l2:   # dJ/dW += l2 * W, biases not: one product with the flat mask of l2 and 0
                np.multiply(self.current.buffer, self._l2_mask(l2), out=update.scratch)
                self.gradient_buffer += update.scratch
            update.apply(self.current.buffer, self.gradient_buffer, new.buffer, learning_rate)
        # The sum of squares as one BLAS dot product, inside the step's thread setting; a
        # square beyond float range (|w| > ~1e154 in float64) is rechecked elementwise.
        if not ((math.isfinite(np.vdot(new.buffer, new.buffer)) or all_finite(new.buffer))
                and (update is None or update.finite())):
            self.spare = new
            raise step_failure(network, X, Y, learning_rate, "weights")
        if update is not None:
            update.commit()
        self.spare = self.current
        self._bind(new)
        return loss

    def _l2_mask(self, l2):
        """A flat vector of `l2` where the weights are and 0 where the biases are, made once
        per value of l2."""
        if self.l2_mask is None or self.l2_mask[0] != l2:
            mask = np.zeros(self.size, self.dtype)
            for W, _ in self._views(mask):
                W[...] = l2
            self.l2_mask = (l2, mask)
        return self.l2_mask[1]

    def _free_slot(self):
        """A slot for the next parameters that no one else holds: the spare, or a new one."""
        new = self.spare
        if new is None or new.references() != new.unshared:
            new = self._new_slot()   # someone kept a parameter of that step: it stays theirs
        return new

    def _descend(self, new, decay):
        """Plain gradient descent into `new`: W * (1 - decay) - gradient for the weights,
        b - gradient for the biases (the gradient already times the learning rate)."""
        if decay:
            keep = np.array(1.0 - decay, self.dtype)   # 0-d: see kernels._constant
            for (W, b), (W_new, b_new) in zip(self.current.views, new.views):
                np.multiply(W, keep, out=W_new)
                if b is not None:
                    np.copyto(b_new, b)
            new.buffer -= self.gradient_buffer
        else:
            np.subtract(self.current.buffer, self.gradient_buffer, out=new.buffer)

    def mean_loss(self, X, Y):
        """The mean data loss on (X, Y), through a forward-only workspace kept for its size,
        on the BLAS threads of a step on as many rows: a validation set of mid size, as a
        training batch of that size, stays on one thread when other processes want the
        cores."""
        work = self.validation
        if work is None or work.n_rows != len(X):
            work = self.validation = Workspace(self.network, len(X), backward=False)
        with self._threads_context(len(X)):
            loss = data_loss(self.network, Y, forward(self.network, X, work), work) / len(X)
        work.activations[0] = None
        return loss


_WEIGHTS, _BIASES = operator.attrgetter("weights"), operator.attrgetter("biases")
_AS_IT_IS = contextlib.nullcontext()   # the context of steps that leave BLAS's threads alone


def _functions(network):
    return (*network.activation_list, *network.d_activation_list, network.loss_function,
            network.d_loss_function)


class _Slot:
    """A flat parameter buffer and its per-layer views (`Trainer._views`)."""

    def __init__(self, buffer, views):
        self.buffer, self.views = buffer, views
        self.weights, self.biases = [W for W, _ in views], [b for _, b in views]
        self.parameters = [theta for pair in views for theta in pair if theta is not None]
        self.arrays = [buffer, *self.parameters]

    def references(self):
        """The sum of the reference counts of the buffer and its views. It exceeds its value
        when the slot was made (`unshared`) as long as anything else refers to one of them: a
        view holds its buffer, and a user's variable or list holds a view."""
        return sum(map(sys.getrefcount, self.arrays))


class _Optimizing:
    """The context of `Trainer.running` with an optimizer: the thread setting of `context`, and
    the trainer stepping with `update`, whose state goes back to its optimizer on leaving."""

    def __init__(self, trainer, update, context):
        self.trainer, self.update, self.context = trainer, update, context

    def __enter__(self):
        self.context.__enter__()
        self.trainer.update = self.update

    def __exit__(self, *exc_info):
        self.trainer.update = None
        self.update.store()
        self.context.__exit__(*exc_info)


class _Limited:
    """A reusable context running BLAS on `threads` threads (`threads.limited` each time)."""

    def __init__(self, threads):
        self.threads = threads

    def __enter__(self):
        self._limit = limited(self.threads)
        self._limit.__enter__()

    def __exit__(self, *exc_info):
        self._limit.__exit__(*exc_info)
