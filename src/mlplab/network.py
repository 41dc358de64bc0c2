"""Fully connected network trained by hand-written backpropagation (assignment Q2.4).

Notation follows the assignment (Q1): layer l maps a^(l-1) to a^(l) by
    z^(l) = a^(l-1) @ W^(l) + b^(l),   a^(l) = f_l(z^(l)),   a^(0) = X.
Rows are samples. With N samples and a layer of n_in -> n_out units:
    A_prev: (N, n_in)   W: (n_in, n_out)   b: (n_out,)   Z, A, delta: (N, n_out)
delta^(l) is dL/dz^(l). A gradient always has the shape of what it differentiates.

The assignment's Q1.2 writes single samples as columns (z = W^T a + b); here a batch of samples is
stacked as rows, so the same equations read Z = A_prev @ W + b. Readable first; vectorised over the
batch (no Python loop over samples); no autograd.
"""

import math

import numpy as np

from ._validation import check_data, check_number
from .functions import (
    GRADIENTS_FROM_OUTPUT,
    IN_PLACE_ACTIVATIONS,
    d_cross_entropy_softmax,
    d_l2_loss,
)

_NOT_BUILT_IN = object()


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or non-finite weights; the step was not applied."""


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
    d_loss_function : callable ``(YTrue, YPredict) -> ndarray`` of YPredict's shape

    Training convention (used by `fit`, `train` and `gradients`): the objective is
        J = (1/N) * sum_samples loss + (reg_lambda / 2) * sum_l ||W^(l)||^2,
    so one gradient-descent step is W <- W - learning_rate * (mean_grad + reg_lambda * W).
    Biases are not decayed.
    """

    def __init__(self, layers, activation_list, d_activation_list, loss_function, d_loss_function):
        self.layers = layers
        self.activation_list = activation_list
        self.d_activation_list = d_activation_list
        self.loss_function = loss_function
        self.d_loss_function = d_loss_function
        self._check_structure()
        self._workspace = None   # training buffers, made on the first step

    def _check_structure(self):
        n_layers = len(self.layers)
        if n_layers == 0:
            raise ValueError("layers is empty; a network needs at least one Layer")
        for name in ("activation_list", "d_activation_list"):
            if len(getattr(self, name)) != n_layers:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries but there are "
                                 f"{n_layers} layers; give one per layer")
        for l, (before, after) in enumerate(zip(self.layers, self.layers[1:])):
            if before.weights.shape[1] != after.weights.shape[0]:
                raise ValueError(f"layers {l} and {l + 1} do not chain: layer {l} has "
                                 f"{before.weights.shape[1]} outputs but layer {l + 1} has "
                                 f"{after.weights.shape[0]} inputs")
        for l, (f, d_f) in enumerate(zip(self.activation_list, self.d_activation_list)):
            if not callable(f):
                raise ValueError(f"activation_list[{l}] must be callable, got {f!r}")
            if d_f is None and l != n_layers - 1:
                raise ValueError(f"d_activation_list[{l}] is None; only the output layer's "
                                 "derivative may be None (when the loss derivative is dL/dz)")
            if d_f is not None and not callable(d_f):
                raise ValueError(f"d_activation_list[{l}] must be callable or None, got {d_f!r}")
        for name in ("loss_function", "d_loss_function"):
            if not callable(getattr(self, name)):
                raise ValueError(f"{name} must be callable, got {getattr(self, name)!r}")

    def astype(self, dtype):
        """Cast every weight and bias to `dtype` (np.float32 or np.float64) and return self.

        Training and prediction then run in that dtype: inputs are converted to it.
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        for layer in self.layers:
            layer.weights = layer.weights.astype(dtype)
            if layer.biases is not None:
                layer.biases = layer.biases.astype(dtype)
        return self

    @property
    def dtype(self):
        return self.layers[0].weights.dtype

    @property
    def n_input(self):
        return self.layers[0].weights.shape[0]

    @property
    def n_output(self):
        return self.layers[-1].weights.shape[1]

    # ----- validation of data, once per public call ------------------------------------------

    def _check_X(self, X):
        X = check_data(X, "X", dtype=self.dtype)
        if X.shape[1] != self.n_input:
            raise ValueError(f"X has {X.shape[1]} features but the first layer expects "
                             f"{self.n_input}")
        return X

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = check_data(Y, "Y", ndim=(1, 2), dtype=X.dtype)
        if len(Y) != len(X):
            raise ValueError(f"X and Y have different numbers of samples: {len(X)} and {len(Y)}")
        if Y.ndim == 1:
            if self.n_output != 1:
                raise ValueError(f"Y is 1-D but the network has {self.n_output} output units; "
                                 "give Y of shape (n_samples, n_output), e.g. one-hot rows")
            Y = Y.reshape(-1, 1)
        elif Y.shape[1] != self.n_output:
            raise ValueError(f"Y has {Y.shape[1]} columns but the network has "
                             f"{self.n_output} output units")
        return X, Y

    # ----- the math ---------------------------------------------------------------------------
    # One code path serves both uses: with `ws=None` every array is newly allocated (public
    # `forward` and `gradients`, whose results the caller keeps); with a `_Workspace` the
    # training step writes into preallocated buffers and allocates nothing per batch.

    def _forward(self, X, ws=None):
        """Pre-activations ``zs`` and activations (``activations[0]`` is X) of every layer."""
        n_samples = len(X)
        zs, activations = [], [X]
        for l, (layer, f) in enumerate(zip(self.layers, self.activation_list)):
            Z = np.matmul(activations[-1], layer.weights,
                          out=None if ws is None else ws.Z[l][:n_samples])   # (N, n_out)
            if layer.biases is not None:
                Z += layer.biases
            if f in IN_PLACE_ACTIVATIONS:
                A = f(Z, out=None if ws is None else ws.A[l][:n_samples])
            else:
                A = f(Z)
            zs.append(Z)
            activations.append(A)
        return zs, activations

    def _times_activation_gradient(self, delta, l, zs, activations, ws):
        """delta * f_l'(z^(l)), in place when possible (l indexes layers from 0)."""
        d_f = self.d_activation_list[l]
        from_output = GRADIENTS_FROM_OUTPUT.get(d_f, _NOT_BUILT_IN)
        if from_output is _NOT_BUILT_IN:
            return delta * d_f(zs[l])
        if from_output is None:              # identity: f' = 1
            return delta
        # A built-in activation: f'(z) from the cached output a^(l) = activations[l + 1].
        n_samples = len(delta)
        gradient = from_output(activations[l + 1],
                               out=np.empty_like(delta) if ws is None else ws.scratch[l][:n_samples])
        if ws is None:
            return delta * gradient
        return np.multiply(delta, gradient, out=delta)

    def _backward(self, zs, activations, Y, reg_lambda, scale=1.0, ws=None):
        """``scale`` times the gradients ``[(dW, db), ...]`` of the objective J.

        J is defined in the class docstring. ``db`` is None for a layer without biases. The
        training step passes ``scale=learning_rate`` so that the scaling costs no extra pass.
        """
        n_samples = len(Y)
        last = len(self.layers) - 1
        # Output delta = dL/dz^(L). With d_f None the loss derivative is already dL/dz
        # (softmax + cross-entropy: YPredict - YTrue); otherwise chain through f'(z).
        if ws is not None and self.d_loss_function in (d_cross_entropy_softmax, d_l2_loss):
            delta = np.subtract(activations[-1], Y, out=ws.delta[last][:n_samples])
        else:
            delta = self.d_loss_function(Y, activations[-1])   # (N, n_out)
        if self.d_activation_list[last] is not None:
            delta = self._times_activation_gradient(delta, last, zs, activations, ws)
        coefficient = scale / n_samples
        grads = []
        for l in range(last, -1, -1):
            W, b = self.layers[l].weights, self.layers[l].biases
            dW = np.matmul(activations[l].T, delta,
                           out=None if ws is None else ws.dW[l])   # (n_in, n_out), same as W
            dW *= coefficient
            if reg_lambda:
                dW += np.multiply(W, scale * reg_lambda,
                                  out=None if ws is None else ws.spare_W[l])
            db = None
            if b is not None:
                # Column sums as ones @ delta: BLAS, several times faster than sum(axis=0).
                ones = np.ones(n_samples, delta.dtype) if ws is None else ws.ones[:n_samples]
                db = np.matmul(ones, delta, out=None if ws is None else ws.db[l])   # (n_out,)
                db *= coefficient
            grads.append((dW, db))
            if l > 0:
                delta = np.matmul(delta, W.T,
                                  out=None if ws is None else ws.delta[l - 1][:n_samples])  # (N, n_in)
                delta = self._times_activation_gradient(delta, l - 1, zs, activations, ws)
        grads.reverse()
        return grads

    def _loss_and_gradients(self, X, Y, reg_lambda):
        zs, activations = self._forward(X)
        loss = self.loss_function(Y, activations[-1]) / len(X)
        return loss, self._backward(zs, activations, Y, reg_lambda)

    def _workspace_for(self, n_samples):
        ws = self._workspace
        if ws is None or not ws.fits(self, n_samples):
            ws = self._workspace = _Workspace(self, n_samples)
        return ws

    def _step(self, X, Y, learning_rate, reg_lambda):
        """One gradient-descent step on (X, Y), all or nothing; returns the mean data loss.

        The new parameters are written into the workspace's spare arrays and swapped in only
        once all of them are known to be finite, so a diverging step changes nothing.
        """
        ws = self._workspace_for(len(X))
        with np.errstate(over="ignore", invalid="ignore"):
            zs, activations = self._forward(X, ws)
            loss = self.loss_function(Y, activations[-1]) / len(X)
            if not math.isfinite(loss):
                raise DivergenceError(
                    f"loss became non-finite ({loss}) at this step; the weights were left "
                    f"unchanged. Try a lower learning_rate (got {learning_rate!r}).")
            steps = self._backward(zs, activations, Y, reg_lambda, learning_rate, ws)
            for l, (layer, (dW, db)) in enumerate(zip(self.layers, steps)):
                new_W = np.subtract(layer.weights, dW, out=ws.spare_W[l])
                finite = math.isfinite(new_W.sum())
                if db is not None:
                    finite = finite and math.isfinite(np.subtract(layer.biases, db, out=ws.spare_b[l]).sum())
                if not finite:
                    raise DivergenceError(
                        "weights became non-finite at this step; they were left unchanged. "
                        f"Try a lower learning_rate (got {learning_rate!r}).")
        for l, layer in enumerate(self.layers):
            layer.weights, ws.spare_W[l] = ws.spare_W[l], layer.weights
            if layer.biases is not None:
                layer.biases, ws.spare_b[l] = ws.spare_b[l], layer.biases
        return loss

    # ----- public API -------------------------------------------------------------------------

    def forward(self, X):
        """Activations of every layer for the samples in X.

        Returns
        -------
        list of ndarray
            ``[X, a^(1), ..., a^(L)]``; ``a^(l)`` has shape (n_samples, layers[l-1].n_output).
        """
        return self._forward(self._check_X(X))[1]

    def gradients(self, X, Y, reg_lambda=0.0):
        """Mean data loss and the gradients of the regularised objective J, without updating.

        Returns
        -------
        loss : float
            Mean data loss over the samples (no regularisation term).
        grads : list of (dW, db)
            ``dW`` of shape (n_input, n_output) like ``layer.weights``; ``db`` of shape
            (n_output,), or None for a layer without biases.
        """
        X, Y = self._check_XY(X, Y)
        check_number(reg_lambda, "reg_lambda", low=0)
        return self._loss_and_gradients(X, Y, reg_lambda)

    def fit(self, X, Y, learning_rate, reg_lambda):
        """Take one full-batch gradient-descent step and return the average loss.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_input)
        Y : ndarray of shape (n_samples, n_output), or (n_samples,) for one output unit
            Targets; one-hot rows for a softmax output.
        learning_rate : float, > 0
        reg_lambda : float, >= 0
            L2 strength: W <- W - learning_rate * (mean_grad + reg_lambda * W).
            Biases are not decayed.

        Returns
        -------
        float
            Mean data loss over the samples, from the forward pass before the update.

        Raises
        ------
        DivergenceError
            If the loss or the updated weights are not finite; the weights are then unchanged.
        """
        X, Y = self._check_XY(X, Y)
        check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
        check_number(reg_lambda, "reg_lambda", low=0)
        return self._step(X, Y, learning_rate, reg_lambda)

    def train(self, X, Y, epochs, learning_rate, reg_lambda=0.0, batch_size=None,
              shuffle=True, seed=None, validation_data=None, verbose=False):
        """Run `epochs` passes of gradient descent over (X, Y) and return the loss history.

        Parameters
        ----------
        X, Y, learning_rate, reg_lambda
            As in `fit`.
        epochs : int, >= 1
        batch_size : int or None
            None (the default) takes one full-batch step per epoch, exactly as `fit`. Otherwise
            each epoch walks through mini-batches of this size (the last one may be smaller).
        shuffle : bool
            Visit the mini-batches in a new random order each epoch (ignored for full batch).
        seed : int, np.random.Generator or None
            Seeds the shuffling; the same seed gives the same weights, bit for bit.
        validation_data : (X_val, Y_val) or None
            When given, the mean loss on it is recorded after every epoch.
        verbose : bool
            Show a progress bar with the current loss.

        Returns
        -------
        dict of ndarray of shape (epochs,)
            ``"loss"``: each epoch's mean training loss (for mini-batches, the average of the
            batch losses, each measured before its step). ``"val_loss"``: present only with
            `validation_data`, the loss on it after each epoch.

        Raises
        ------
        DivergenceError
            As `fit`; its ``epoch`` attribute is the epoch that failed and its ``history`` the
            losses of the epochs before it. The network keeps the last finite weights.
        """
        X, Y = self._check_XY(X, Y)
        check_number(epochs, "epochs", low=1, integer=True)
        check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
        check_number(reg_lambda, "reg_lambda", low=0)
        n_samples = len(X)
        if batch_size is None:
            batch_size = n_samples
        check_number(batch_size, "batch_size", low=1, integer=True)
        if validation_data is not None:
            X_val, Y_val = self._check_XY(*validation_data)
        rng = np.random.default_rng(seed)

        history = {"loss": np.empty(epochs)}
        if validation_data is not None:
            history["val_loss"] = np.empty(epochs)
        epoch_range = range(epochs)
        if verbose:
            from tqdm.auto import tqdm
            epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
        try:
            for epoch in epoch_range:
                history["loss"][epoch] = self._train_epoch(X, Y, learning_rate, reg_lambda,
                                                           batch_size, shuffle, rng)
                if validation_data is not None:
                    history["val_loss"][epoch] = self._mean_loss(X_val, Y_val)
                if verbose:
                    epoch_range.set_postfix(loss=f"{history['loss'][epoch]:.4g}")
        except DivergenceError as exc:
            # Keep what was learned before the failing step: the weights are those of the last
            # finite step, and the history runs up to the epoch that failed.
            exc.epoch = epoch
            exc.history = {key: values[:epoch] for key, values in history.items()}
            raise
        finally:
            if verbose:
                epoch_range.close()
        return history

    def _train_epoch(self, X, Y, learning_rate, reg_lambda, batch_size, shuffle, rng):
        """One pass over (X, Y) in batches of `batch_size`; returns the mean training loss."""
        n_samples = len(X)
        if batch_size >= n_samples:
            return self._step(X, Y, learning_rate, reg_lambda)
        order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
        loss = 0.0
        for start in range(0, n_samples, batch_size):
            batch = order[start:start + batch_size]
            loss += self._step(X[batch], Y[batch], learning_rate, reg_lambda) * len(batch)
        return loss / n_samples

    def _mean_loss(self, X, Y):
        return self.loss_function(Y, self._forward(X)[1][-1]) / len(X)

    def predict(self, X, threshold = None):
        """Predicted labels for the samples in X, as a NumPy array of shape (n_samples,).

        With one output unit, the label is 1 where the output exceeds `threshold` (default 0.5)
        and 0 elsewhere. With several output units, the label is the index of the largest
        output; `threshold` must then be None.
        """
        if threshold is not None and self.n_output != 1:
            raise ValueError(f"threshold is only used with one output unit; this network has "
                             f"{self.n_output}, and predicts the index of the largest output")
        output = self._forward(self._check_X(X))[1][-1]
        if self.n_output == 1:
            threshold = 0.5 if threshold is None else check_number(threshold, "threshold")
            return (output[:, 0] > threshold).astype(int)
        return np.argmax(output, axis=1)

    def __repr__(self):
        sizes = [self.n_input] + [layer.weights.shape[1] for layer in self.layers]
        return f"Network({'-'.join(map(str, sizes))})"


class _Workspace:
    """Preallocated training arrays for batches of up to `capacity` samples.

    Per layer l: ``Z``, ``A``, ``delta``, ``scratch`` of shape (capacity, n_out) (a batch of
    n samples uses the first n rows), and ``dW``, ``db``, ``spare_W``, ``spare_b`` shaped like
    the layer's parameters. After each step the spare arrays and the layer's parameters swap
    places, so the update allocates nothing.
    """

    def __init__(self, network, capacity):
        self.capacity = capacity
        self.shapes = [layer.weights.shape for layer in network.layers]
        self.dtype = network.layers[0].weights.dtype
        rows = [np.empty((capacity, n_out), self.dtype) for _, n_out in self.shapes]
        self.Z, self.A, self.delta, self.scratch = ([np.empty_like(r) for r in rows] for _ in range(4))
        self.dW = [np.empty(shape, self.dtype) for shape in self.shapes]
        self.spare_W = [np.empty(shape, self.dtype) for shape in self.shapes]
        self.db = [np.empty(n_out, self.dtype) for _, n_out in self.shapes]
        self.spare_b = [np.empty(n_out, self.dtype) for _, n_out in self.shapes]
        self.ones = np.ones(capacity, self.dtype)

    def fits(self, network, n_samples):
        layers = network.layers
        return (n_samples <= self.capacity and len(layers) == len(self.shapes)
                and all(layer.weights.shape == shape and layer.weights.dtype == self.dtype
                        for layer, shape in zip(layers, self.shapes)))
