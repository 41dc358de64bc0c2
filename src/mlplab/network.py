"""Fully connected network trained by hand-written backpropagation (assignment Q2.4).

Notation follows the assignment (Q1): layer l maps a^(l-1) to a^(l) by
    z^(l) = a^(l-1) @ W^(l) + b^(l),   a^(l) = f_l(z^(l)),   a^(0) = X.
Rows are samples. With N samples and a layer of n_in -> n_out units:
    A_prev: (N, n_in)   W: (n_in, n_out)   b: (n_out,)   Z, A, delta: (N, n_out)
delta^(l) is dL/dz^(l). A gradient always has the shape of what it differentiates.
The assignment's Q1.2 writes one sample as a column (z = W^T a + b); here the samples of a batch
are stacked as rows, so the same equations read Z = A_prev @ W + b.

Training minimises the objective
    J = (1/N) * sum over samples of loss + (c / 2) * sum over layers of ||W^(l)||^2
by gradient descent, W <- W - learning_rate * dJ/dW (biases likewise, without the penalty),
or by another rule of `mlplab.optimizers` (momentum, Adam, L-BFGS) given to `train`.
c is reg_lambda (reg_convention "mean", the default) or reg_lambda / N ("sum").

This file is the whole algorithm in plain NumPy: `_forward`, `_backward`, `_step`. A private
engine (`mlplab._engine`, the default) computes the same steps into preallocated buffers
(tests/test_engine.py); with ``engine=False`` every step runs here, for a debugger.
"""

import contextlib
import functools
import math

import numpy as np

from . import _engine
from ._model_file import load_network, save_network
from ._progress import Progress
from ._validation import (all_finite, check_inputs, check_network, check_number,
                          check_parameters, check_dtype, check_reg_convention,
                          check_sample_weight, check_step, check_threshold, check_training,
                          loss_total)
from .errors import DivergenceError, step_failure
from .functions import ACTIVATIONS, HIDDEN_ACTIVATIONS, LOSSES, OUTPUTS
from .layer import Layer
from .optimizers import LBFGS, SGD, check_choice
from .trace import Trace


class Network:
    """A stack of `Layer` objects, each followed by its activation, and a loss.

    Parameters
    ----------
    layers : list of Layer
        ``layers[l].n_output`` must equal ``layers[l + 1].n_input``.
    activation_list : list of callables, one per layer
        ``f(z)``, elementwise or row-wise (softmax).
    d_activation_list : list of callables or None, one per layer
        ``d_f(z)``, the derivative at the pre-activation z. The *last* entry may be ``None``:
        it means ``d_loss_function`` already returns dL/dz of the output layer, as
        ``d_cross_entropy_softmax`` does for a softmax output. So a softmax classifier is
        ``Network(layers, [sigmoid, softmax], [d_sigmoid, None], cross_entropy_loss,
        d_cross_entropy_softmax)``.
    loss_function : callable ``(YTrue, YPredict) -> float``, the sum over samples and units
        (an array it returns is summed).
    d_loss_function : callable ``(YTrue, YPredict) -> ndarray`` of YPredict's shape
    reg_convention : {"mean", "sum"}, keyword only
        How `reg_lambda` scales the L2 penalty (see `fit`).
    engine : bool, keyword only
        True (default): `fit` and `train` run on the fast engine. False: on this file's
        reference `_step`, the same numbers to 1e-12, slower.
    """

    def __init__(self, layers, activation_list, d_activation_list, loss_function, d_loss_function,
                 *, reg_convention="mean", engine=True):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function
        self.reg_convention = reg_convention
        self.engine = engine
        self._trainer = None   # the engine's, made on the first step
        check_network(self)

    # ----- the math: the reference, which the engine must equal ------------------------------

    def _forward(self, X):
        """Every layer's z and a for the samples in X: ``zs`` = [z^(1), ..., z^(L)] and
        ``activations`` = [X, a^(1), ..., a^(L)], z^(l) and a^(l) of shape (N, n_out)."""
        zs, activations = [], [X]
        for layer, f in zip(self.layers, self.activation_list):
            z = activations[-1] @ layer.weights            # (N, n_out)
            if layer.biases is not None:
                z = z + layer.biases                        # b broadcast over the rows
            zs.append(z)
            activations.append(f(z))
        return zs, activations

    def _backward(self, Y, zs, activations, l2, sample_weight=None, deltas=None):
        """The gradients of J by the chain rule, from the output layer back to the first.

        Needs `zs` and `activations` of `_forward` on the same samples; `l2` is J's penalty
        coefficient c (see `_l2_coefficient`); `sample_weight` (N,), of mean 1, weighs the samples.
        Returns [(dW, db), ...], one pair per layer: dW of W's shape (n_in, n_out), db of shape
        (n_out,), or None for a layer without biases. A list `deltas` gets [delta^(1), ...].
        """
        n_samples = len(Y)
        # delta^(L) = dL/dz^(L) = dL/da^(L) * f'(z^(L)), elementwise. A None derivative means
        # the loss derivative is dL/dz^(L) already: softmax + cross-entropy give YPredict - YTrue.
        delta = self.d_loss_function(Y, activations[-1])            # (N, n_out)
        if self.d_activation_list[-1] is not None:
            delta = delta * self.d_activation_list[-1](zs[-1])
        if sample_weight is not None:   # J's loss term is then sum_i w_i L_i / N, weighted
            delta = delta * sample_weight[:, np.newaxis]
        grads = []
        for l in reversed(range(len(self.layers))):
            layer = self.layers[l]
            if deltas is not None:
                deltas.insert(0, delta)
            # z = a_prev @ W + b: dL/dW is a_prev^T delta, summed over the samples; J takes
            # their mean, and its penalty (c / 2) ||W||^2 adds c * W (nothing for biases).
            dW = activations[l].T @ delta / n_samples + l2 * layer.weights   # (n_in, n_out)
            db = None if layer.biases is None else delta.sum(axis=0) / n_samples   # (n_out,)
            grads.append((dW, db))
            if l > 0:
                # dL/da^(l-1) = delta @ W^T, then through the previous layer's activation
                delta = (delta @ layer.weights.T) * self.d_activation_list[l - 1](zs[l - 1])
        return grads[::-1]

    def _step(self, X, Y, learning_rate, l2, sample_weight=None, optimizer=None):
        """One step of `optimizer` (None: plain descent) on (X, Y): returns the mean data loss
        before it, or raises (`errors.step_failure`) with parameters and optimizer unchanged."""
        zs, activations = self._forward(X)
        loss = self._data_loss(Y, activations[-1], sample_weight) / len(X)
        if not math.isfinite(loss):
            raise step_failure(self, X, Y, learning_rate, f"loss ({loss})")
        parameters = self.parameters()                          # [W1, b1, W2, b2, ...]
        gradients = [g for pair in self._backward(Y, zs, activations, l2, sample_weight)
                     for g in pair if g is not None]          # dJ/dW1, dJ/db1, ... alike
        optimizer = SGD() if optimizer is None else optimizer   # SGD(): W <- W - lr * dJ/dW
        new_parameters, state = optimizer.update(parameters, gradients, learning_rate,
                                                 optimizer.state_for(parameters))
        if not all(map(all_finite, new_parameters + optimizer.state_arrays(state))):
            raise step_failure(self, X, Y, learning_rate, "weights")
        optimizer.state = state
        # New arrays, in the network's dtype: arrays a user kept stay as they were.
        self.set_parameters([theta.astype(self.dtype, copy=False) for theta in new_parameters])
        return loss

    def _data_loss(self, Y, output, sample_weight=None):
        """The loss summed over samples and units; with `sample_weight`, sum_i w_i L_i."""
        return loss_total(self.loss_function, Y, output, sample_weight)

    def _checked(self, X, Y, reg_lambda):
        """(X, Y) checked, and c of J's penalty for them."""
        check_parameters(self.layers)
        X, Y = check_inputs(self, X, Y)
        return X, Y, self._l2_coefficient(check_number(reg_lambda, "reg_lambda", low=0), len(X))

    def _l2_coefficient(self, reg_lambda, n_samples):
        """c of J's penalty (c / 2) sum ||W||^2 on a batch of `n_samples` (see `fit`)."""
        check_reg_convention(self.reg_convention)   # it may have been set since
        return reg_lambda if self.reg_convention == "mean" else reg_lambda / n_samples

    # ----- public API -------------------------------------------------------------------------

    def forward(self, X, return_z=False):
        """Activations of every layer for the samples in X: the list ``[X, a^(1), ..., a^(L)]``,
        a^(l) of shape (n_samples, layers[l-1].n_output). With ``return_z=True``, the pair
        (activations, zs), zs the pre-activations ``[z^(1), ..., z^(L)]``."""
        check_parameters(self.layers)
        zs, activations = self._forward(check_inputs(self, X))
        return (activations, zs) if return_z else activations

    def loss(self, X, Y, reg_lambda=0.0):
        """The objective J on (X, Y): mean data loss + (c / 2) * sum ||W||^2 (see `fit` for c);
        with the default reg_lambda 0, the mean data loss (the train and test loss curves)."""
        X, Y, _ = self._checked(X, Y, reg_lambda)
        return self._data_loss(Y, self._forward(X)[1][-1]) / len(X) + self.penalty(reg_lambda,
                                                                                    len(X))

    def penalty(self, reg_lambda, n_samples):
        """J's L2 term on a batch of `n_samples`: (c / 2) * sum over layers of ||W||^2."""
        c = self._l2_coefficient(reg_lambda, n_samples)
        return 0.5 * c * sum(float(np.vdot(layer.weights, layer.weights))
                             for layer in self.layers) if c else 0.0

    def parameters(self):
        """[W1, b1, W2, b2, ...]: every weight and bias array, in the order of the optimizers'
        states and of flat vectors (a layer without biases gives only its W)."""
        return [theta for layer in self.layers for theta in (layer.weights, layer.biases)
                if theta is not None]

    def set_parameters(self, arrays):
        """Bind `arrays`, in the order of `parameters`, to the layers (not copied)."""
        arrays = iter(arrays)
        for layer in self.layers:
            layer.weights = next(arrays)
            if layer.biases is not None:
                layer.biases = next(arrays)

    def gradients(self, X, Y, reg_lambda=0.0, sample_weight=None):
        """The mean data loss (no penalty) and the gradients of J, [(dW, db), ...] as
        `_backward` gives them, without updating; `sample_weight` as in `train`."""
        X, Y, c = self._checked(X, Y, reg_lambda)
        w = check_sample_weight(sample_weight, len(X), mean_one=True, dtype=self.dtype)
        zs, activations = self._forward(X)
        return (self._data_loss(Y, activations[-1], w) / len(X),
                self._backward(Y, zs, activations, c, w))

    def trace(self, X, Y, learning_rate, reg_lambda=0.0):
        """One `fit` step on (X, Y) with every quantity kept, the network left unchanged: a
        `mlplab.trace.Trace` of each layer's z, a, delta, dW, db and new W and b."""
        X, Y, c = self._checked(X, Y, reg_lambda)
        check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
        zs, activations = self._forward(X)
        deltas = []
        gradients = self._backward(Y, zs, activations, c, deltas=deltas)
        return Trace(self, X, Y, zs, activations, deltas, gradients, learning_rate, reg_lambda,
                     c, self._data_loss(Y, activations[-1]) / len(X))

    def fit(self, X, Y, learning_rate, reg_lambda):
        """Take one full-batch gradient-descent step and return the average loss.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_input)
        Y : ndarray of shape (n_samples, n_output), or (n_samples,) for one output unit; one-hot
            rows for a softmax output.
        learning_rate : float, > 0
        reg_lambda : float, >= 0
            L2 strength. With N samples, by the network's ``reg_convention``:
            "mean" (default): J = mean loss + reg_lambda / 2 * sum ||W||^2, so
            W <- W - learning_rate * (mean_grad + reg_lambda * W);
            "sum": J = (sum of losses + reg_lambda / 2 * sum ||W||^2) / N (Ng's lambda / 2m,
            scikit-learn's alpha), so W <- W - learning_rate * (mean_grad + reg_lambda / N * W).
            Biases are not decayed.

        Returns the mean data loss of the forward pass before the update. If the loss or a new
        weight is not finite, nothing changes and DivergenceError (ValueError for bad data) says so.
        """
        trainer = self._trainer_for()
        X, Y = check_step(self, X, Y, learning_rate, reg_lambda)
        return trainer.single_step(X, Y, learning_rate, self._l2_coefficient(reg_lambda, len(X)))

    def train(self, X, Y, epochs, learning_rate, reg_lambda=0.0, batch_size=None,
              shuffle=True, seed=None, validation_data=None, verbose=False, callback=None,
              optimizer=None, schedule=None, sample_weight=None):
        """Run `epochs` passes of gradient descent over (X, Y) and return the loss history.

        X, Y, learning_rate and reg_lambda are as in `fit` (with mini-batches, N is the batch's
        size). `batch_size` None (the default) takes one full-batch step per epoch, exactly as
        `fit`; otherwise each epoch walks through mini-batches of that size (the last may be
        smaller), in a new random order every epoch if `shuffle`, drawn from `seed` (an int or a
        Generator: the same seed gives the same weights, bit for bit). With `validation_data`
        (X_val, Y_val) the mean loss on it is recorded after every epoch; `verbose` shows a
        progress bar; `callback(epoch, history)` is called after each (history filled to epoch).
        `optimizer` (`mlplab.optimizers`; None is plain descent) takes the steps and keeps its
        state, so a next `train` with it continues; `schedule` sets each epoch's learning rate.
        `sample_weight` (N,) >= 0 makes each batch's loss the weighted mean sum w_i L_i / sum w_i.

        Returns a dict of arrays of shape (epochs,): ``"loss"``, each epoch's mean training loss
        (of mini-batches, the mean of the batch losses before their steps), and ``"val_loss"``
        with `validation_data`. Raises DivergenceError as `fit`, with ``epoch`` (the one that
        failed) and ``history`` (the epochs before); the network keeps the last finite weights.
        """
        trainer = self._trainer_for()
        X, Y = check_inputs(self, X, Y)
        check_choice(optimizer, schedule, batch_size, len(X))
        batch_size, validation, sample_weight = check_training(
            self, len(X), epochs, learning_rate, reg_lambda, batch_size, seed, validation_data,
            sample_weight)
        if isinstance(optimizer, LBFGS):   # not steps: SciPy's iterations on the full batch
            with trainer.lbfgs_running(len(X)):
                return optimizer.minimize(self, X, Y, epochs, reg_lambda, validation, callback,
                                          sample_weight)
        rng = np.random.default_rng(seed) if shuffle and batch_size < len(X) else None
        history = {"loss": np.empty(epochs)}
        if validation is not None:
            history["val_loss"] = np.empty(epochs)
        progress = Progress(verbose).start(epochs)
        try:
            for epoch in range(epochs):
                rate = learning_rate if schedule is None else schedule.rate(learning_rate)
                with trainer.running(batch_size, optimizer):   # the optimizer's state: its own
                    loss = history["loss"][epoch] = self._train_epoch(
                        trainer, X, Y, rate, reg_lambda, batch_size, rng, sample_weight)
                if schedule is not None:
                    schedule.epoch_ended(loss, len(X))
                if validation is not None:
                    history["val_loss"][epoch] = trainer.mean_loss(*validation)
                progress.advance(loss=f"{loss:.4g}")
                if callback is not None:
                    callback(epoch, history)
        except DivergenceError as exc:
            # The weights are those of the last finite step; the history ends before the epoch.
            exc.epoch = epoch
            exc.history = {key: values[:epoch] for key, values in history.items()}
            raise
        finally:
            progress.close()
        return history

    def _train_epoch(self, trainer, X, Y, learning_rate, reg_lambda, batch_size, rng, weights):
        """One pass over (X, Y) in batches of `batch_size`, in an order from `rng` (None: as they
        are), samples weighed by `weights` (N,) or alike; returns the mean training loss."""
        n_samples = len(X)
        if batch_size == n_samples and weights is None:
            return trainer.step(X, Y, learning_rate, self._l2_coefficient(reg_lambda, n_samples))
        order = np.arange(n_samples) if rng is None else rng.permutation(n_samples)
        loss = 0.0
        for start in range(0, n_samples, batch_size):
            batch = order[start:start + batch_size]
            X_batch, Y_batch = X[batch], Y[batch]
            l2 = self._l2_coefficient(reg_lambda, len(X_batch))
            if weights is None:
                loss += trainer.step(X_batch, Y_batch, learning_rate, l2) * len(X_batch)
            elif weights[batch].any():   # a batch of weight 0 has nothing to learn from
                w = weights[batch]
                mean_one = (w / w.mean()).astype(self.dtype)
                loss += trainer.step(X_batch, Y_batch, learning_rate, l2, mean_one) * w.sum()
        return loss / (n_samples if weights is None else weights.sum())

    def predict(self, X, threshold = None):
        """Predicted labels for the samples in X, as a NumPy array of shape (n_samples,).

        With one output unit, the label is 1 where the output exceeds `threshold` (default 0.5)
        and 0 elsewhere. With several output units, the label is the index of the largest
        output, and a `threshold` is ignored with a warning.
        """
        threshold = check_threshold(threshold, self.n_output)   # 0.5 by default
        output = self.forward(X)[-1]
        if self.n_output == 1:
            return (output[:, 0] > threshold).astype(int)
        return np.argmax(output, axis=1)

    def _trainer_for(self):
        """What takes the training steps: the engine's trainer, remade whenever the layers,
        their arrays or the functions changed since its last step; with engine off, `_step`."""
        if not self.engine:
            check_parameters(self.layers)
            return _ReferenceTrainer(self)
        if self._trainer is None or not self._trainer.serves(self):
            check_parameters(self.layers)
            self._trainer = _engine.Trainer(self)
        return self._trainer

    def astype(self, dtype):
        """Cast every weight and bias to `dtype` (np.float32 or np.float64), in which training
        and prediction then run (inputs are converted to it); returns self."""
        dtype = check_dtype(dtype)
        for layer in self.layers:
            layer.weights = layer.weights.astype(dtype)
            if layer.biases is not None:
                layer.biases = layer.biases.astype(dtype)
        return self

    dtype = property(lambda self: self.layers[0].weights.dtype, doc="The parameters' dtype.")
    n_input = property(lambda self: self.layers[0].weights.shape[0], doc="Input units.")
    n_output = property(lambda self: self.layers[-1].weights.shape[1], doc="Output units.")

    def __getstate__(self):   # not the trainer, whose buffers are tied to these arrays
        return {**self.__dict__, "_trainer": None}

    def save(self, path):
        """Write a model file (.npz, a JSON header naming mlplab's functions; no pickle)."""
        save_network(self, path)

    @classmethod
    def load(cls, path):
        """Read a network written by `save`; a malformed file raises ValueError naming why."""
        return load_network(path, cls)[0]

    def __repr__(self):
        sizes = [self.n_input] + [layer.weights.shape[1] for layer in self.layers]
        return f"Network({'-'.join(map(str, sizes))})"


def build_network(layer_sizes, activation="sigmoid", output="softmax", *, bias=True,
                  init="glorot_uniform", rng=None, **options):
    """A `Network` from names, e.g. ``build_network([64, 32, 10], "relu", "softmax")``.

    `layer_sizes` is [n_input, n_hidden..., n_output]; `activation` the hidden layers' (a name
    of `HIDDEN_ACTIVATIONS` or an (f, d_f) pair, d_f taking z; or a list, one per hidden
    layer); `output` a name of `OUTPUTS` (the output activation and its loss); `bias` and
    `init` as in `Layer`. With `rng` (a Generator) the layers draw from it in turn, weights then
    biases; else each from the skeleton's ``default_rng(2)``. `options`: ``reg_convention``,
    ``engine``, as in `Network`.
    """
    sizes = list(layer_sizes)
    n_hidden = len(sizes) - 2
    per_layer = isinstance(activation, (list, tuple)) and not _is_pair(activation)
    hidden = list(activation) if per_layer else [activation] * max(n_hidden, 0)
    if n_hidden < 0 or len(hidden) != n_hidden:
        raise ValueError(f"layer_sizes {sizes} and activation {activation!r} do not agree: give "
                         "[n_input, n_hidden..., n_output] and one activation per hidden layer "
                         "(or one for all)")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(map(repr, OUTPUTS))}, got {output!r}")
    output_activation, loss = OUTPUTS[output]
    pairs = [_hidden_pair(a) for a in hidden] + [ACTIVATIONS[output_activation]]
    layers = [Layer(n_in, n_out, bias, init) for n_in, n_out in zip(sizes, sizes[1:])]
    if rng is not None:
        for layer in layers:
            layer.initialize_weights(rng)
    return Network(layers, [f for f, _ in pairs], [d_f for _, d_f in pairs], *LOSSES[loss],
                   **options)


def _is_pair(activation):
    return len(activation) == 2 and all(callable(f) for f in activation)


def _hidden_pair(activation):
    """The (f, d_f) of a hidden layer's activation: a registry name or a pair of callables."""
    if isinstance(activation, str) and ACTIVATIONS.get(activation, (None, None))[1] is not None:
        return ACTIVATIONS[activation]
    if isinstance(activation, (list, tuple)) and _is_pair(activation):
        return tuple(activation)
    raise ValueError("a hidden activation must be one of "
                     f"{', '.join(map(repr, HIDDEN_ACTIVATIONS))} or a "
                     f"(function, derivative) pair of callables, got {activation!r}")


class _ReferenceTrainer:
    """What `fit` and `train` step with when ``engine=False``: `Network._step`, nothing else."""

    def __init__(self, network):
        self.network, self.single_step, self.mean_loss = network, network._step, network.loss

    def running(self, n_rows, optimizer=None):
        self.step = functools.partial(self.network._step, optimizer=optimizer)
        return contextlib.nullcontext(self)

    def lbfgs_running(self, n_rows):
        return contextlib.nullcontext(self)

