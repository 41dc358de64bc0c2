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

import copy
import functools
import math

import numpy as np

from ._products import layer_blocks, matmul, matmul_nt, matmul_tn
from ._threads import blas_threads_for
from ._validation import all_finite, check_data, check_number
from .functions import LOSS_KERNELS, TRAINING_KERNELS, d_cross_entropy_softmax, d_l2_loss


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
        self._plan = None   # training buffers and kernels, made on the first step

    def _check_structure(self):
        if not isinstance(self.layers, (list, tuple)):
            raise ValueError(f"layers must be a list of Layer objects, got "
                             f"{type(self.layers).__name__}")
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
        self._check_parameters()

    def _check_parameters(self):
        """Every layer's weights (and biases) are arrays of one float dtype, of their shapes.

        Checked again before each use, since users may set ``layer.weights`` by hand.
        """
        dtype = self.layers[0].weights.dtype
        for l, layer in enumerate(self.layers):
            W, b = layer.weights, layer.biases
            if not isinstance(W, np.ndarray) or W.ndim != 2 or W.dtype.kind != "f":
                raise ValueError(f"layers[{l}].weights must be a 2-D float array, got "
                                 f"{type(W).__name__} {getattr(W, 'dtype', '')} "
                                 f"{getattr(W, 'shape', '')}")
            if b is not None and (not isinstance(b, np.ndarray) or b.shape != (W.shape[1],)):
                raise ValueError(f"layers[{l}].biases must be an array of shape "
                                 f"({W.shape[1]},), got {getattr(b, 'shape', type(b).__name__)}")
            if W.dtype != dtype or (b is not None and b.dtype != dtype):
                raise ValueError(f"layers[{l}] is {W.dtype}/{None if b is None else b.dtype} but "
                                 f"layers[0] is {dtype}; use Network.astype to give every layer "
                                 "one dtype")

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
        self._check_parameters()
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
    # One code path serves every use: a forward and a backward pass write into a `_Workspace`.
    # The public `forward`, `predict` and `gradients` make a new one per call, so the arrays
    # they return are the caller's; training keeps one in its `_Plan` and reuses it at every
    # step, with no allocation per batch. Built-in activations run as in-place kernels and give
    # their derivative from their output, with the same bits as the public functions; a user's
    # functions are called as given.

    def _forward(self, X, work):
        """The forward pass on X (N rows) into `work`; returns the output a^(L), (N, n_output).

        Afterwards ``work.Z[l]`` holds z^(l+1) and ``work.activations`` is [X, a^(1), ..., a^(L)].
        """
        activations, activate = work.activations, work.kernels.activate
        a = activations[0] = X
        for l, layer in enumerate(self.layers):
            Z = matmul(a, layer.weights, out=work.Z[l], blocks=work.blocks[l])   # (N, n_out)
            if layer.biases is not None:
                Z += layer.biases
            a = activations[l + 1] = activate[l](Z, work.A[l])
        return a

    def _backward(self, Y, work, scale):
        """`scale` times the gradients of the mean data loss, into ``work.gradient``.

        Needs the forward pass of the same rows in `work`. Returns ``work.gradient``,
        ``[(dW, db), ...]`` with dW of the shape of W and db None for a layer without biases.
        The training step passes ``scale=learning_rate``, so the step costs no extra pass.
        """
        activations, derivative_from_output = work.activations, work.kernels.derivative_from_output
        last = len(self.layers) - 1
        # delta starts as dL/da^(L), scaled by scale / N: everything below is linear in it, so
        # every gradient comes out scaled and averaged without a pass over the parameters.
        # (With d_f None the loss derivative is already dL/dz^(L), as YPredict - YTrue is for
        # softmax + cross-entropy, and the output layer's derivative is skipped.)
        delta = work.delta[last]   # (N, n_out)
        if work.kernels.output_delta_is_difference:
            np.subtract(activations[-1], Y, out=delta)
        else:
            # Copied: the in-place steps below must not write into the caller's array.
            np.copyto(delta, self.d_loss_function(Y, activations[-1]))
        delta *= np.array(scale / len(Y), delta.dtype)   # 0-d: see _kernels._constant
        for l in range(last, -1, -1):
            # delta = dL/da^(l+1) -> dL/dz^(l+1) = delta * f'(z^(l+1)), in place
            from_output = derivative_from_output[l]
            if from_output is _GENERIC:
                # delta is the workspace's own buffer: keep it in the network's dtype.
                np.multiply(delta, self.d_activation_list[l](work.Z[l]), out=delta,
                            casting="same_kind")
            elif from_output is not None:   # None: f' = 1
                np.multiply(delta, from_output(activations[l + 1], work.scratch[l]), out=delta)
            dW, db = work.gradient[l]
            matmul_tn(activations[l], delta, out=dW, blocks=work.blocks[l],
                      scratch=work.scratch_gradient[l])   # (n_in, n_out)
            if db is not None:
                # Column sums as ones @ delta: BLAS, several times faster than sum(axis=0).
                np.dot(work.ones, delta, out=db)   # (n_out,)
            if l > 0:
                delta = matmul_nt(delta, self.layers[l].weights, out=work.delta[l - 1],
                                  blocks=work.blocks[l], W_T=work.weights_T[l])   # (N, n_in)
        return work.gradient

    def _forward_pass(self, X, backward=False):
        """A forward pass on X into a new workspace, returned (see `_forward`); with
        `backward`, the workspace also has the buffers of a backward pass.

        Overflow is silenced as the public activations silence it (sigmoid's exp(-z) for
        z < -709 gives exactly 0, the right limit).
        """
        work = _Workspace(self, len(X), backward=backward)
        with np.errstate(over="ignore"):
            self._forward(X, work)
        return work

    def _plan_for(self, n_samples):
        """The training plan for batches of `n_samples` rows, rebuilt if anything changed."""
        plan = self._plan
        if plan is None or not plan.serves(self, n_samples):
            plan = self._plan = _Plan(self, n_samples)
        return plan

    def _step(self, X, Y, learning_rate, reg_lambda):
        """One gradient-descent step on (X, Y) on its own (as `fit` takes it)."""
        plan = self._plan_for(len(X))
        try:
            with blas_threads_for(self, len(X)), np.errstate(over="ignore", invalid="ignore"):
                return self._plan_step(plan, X, Y, learning_rate, reg_lambda)
        finally:
            plan.workspace.forget_inputs()

    def _plan_step(self, plan, X, Y, learning_rate, reg_lambda):
        """One step with a plan known to serve; all or nothing; returns the mean data loss.

        The new parameters are written into the plan's spare buffer and swapped in only once
        they are all known to be finite, so a diverging step changes nothing. Call it under
        np.errstate(over="ignore", invalid="ignore"): non-finite values are checked here.
        """
        work = plan.workspace.rows(len(X))
        output = self._forward(X, work)
        loss_into = work.kernels.loss_into
        if loss_into is None:
            loss = self.loss_function(Y, output) / len(X)
        else:   # the last layer's scratch is free until the backward pass
            loss = loss_into(Y, output, work.scratch[-1]) / len(X)
        if not math.isfinite(loss):
            raise DivergenceError(
                f"loss became non-finite ({loss}) at this step; the weights were left "
                f"unchanged. Try a lower learning_rate (got {learning_rate!r}).")
        # The gradient buffer receives learning_rate * (mean data gradient); the L2 term is
        # applied by the update itself, as a decay of the weights.
        self._backward(Y, work, learning_rate)
        if not plan.prepare_update(learning_rate * reg_lambda):
            raise DivergenceError(
                "weights became non-finite at this step; they were left unchanged. "
                f"Try a lower learning_rate (got {learning_rate!r}).")
        plan.swap(self.layers)
        return loss

    # ----- public API -------------------------------------------------------------------------

    def forward(self, X):
        """Activations of every layer for the samples in X.

        Returns
        -------
        list of ndarray
            ``[X, a^(1), ..., a^(L)]``; ``a^(l)`` has shape (n_samples, layers[l-1].n_output).
        """
        return list(self._forward_pass(self._check_X(X)).activations)

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
        work = self._forward_pass(X, backward=True)
        loss = self.loss_function(Y, work.activations[-1]) / len(X)
        grads = self._backward(Y, work, 1.0)
        if reg_lambda:
            for (dW, _), layer in zip(grads, self.layers):
                dW += reg_lambda * layer.weights
        return loss, grads

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
              shuffle=True, seed=None, validation_data=None, verbose=False, blas_threads=None):
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
        blas_threads : int or None
            BLAS threads for the matrix products. None: one thread for mid-sized steps, where
            a second thread gains little and collapses when other work shares the cores, and
            the BLAS default for large ones (see `mlplab._threads`). Products that OpenBLAS
            takes on its small-matrix path (see `mlplab._products`) run on one thread anyway.

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
        if blas_threads is not None:
            check_number(blas_threads, "blas_threads", low=1, integer=True)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, Y_val), got "
                                 f"{type(validation_data).__name__}")
            X_val, Y_val = self._check_XY(*validation_data)
        if not (seed is None or isinstance(seed, np.random.Generator)):
            check_number(seed, "seed", low=0, integer=True)
        batch_size = min(batch_size, n_samples)
        # The generator only orders the mini-batches: none is made (about 10 us from the OS's
        # entropy when seed is None) where there are none to shuffle.
        rng = np.random.default_rng(seed) if shuffle and batch_size < n_samples else None

        history = {"loss": np.empty(epochs)}
        if validation_data is not None:
            history["val_loss"] = np.empty(epochs)
        epoch_range = range(epochs)
        if verbose:
            from tqdm.auto import tqdm
            epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
        plan = self._plan_for(batch_size)
        try:
            # Set up once for the whole loop: the plan (checked here, not per step), the BLAS
            # thread limit and the floating-point error state.
            with blas_threads_for(self, batch_size, blas_threads), \
                    np.errstate(over="ignore", invalid="ignore"):
                for epoch in epoch_range:
                    history["loss"][epoch] = self._train_epoch(
                        plan, X, Y, learning_rate, reg_lambda, batch_size, rng)
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
            plan.workspace.forget_inputs()
            if verbose:
                epoch_range.close()
        return history

    def _train_epoch(self, plan, X, Y, learning_rate, reg_lambda, batch_size, rng):
        """One pass over (X, Y) in batches of `batch_size`, in an order drawn from `rng` (or in
        order, if None); returns the mean training loss."""
        n_samples = len(X)
        if batch_size >= n_samples:
            return self._plan_step(plan, X, Y, learning_rate, reg_lambda)
        # Without shuffling the batches are slices (views); with it, each batch is gathered.
        order = None if rng is None else rng.permutation(n_samples)
        loss = 0.0
        for start in range(0, n_samples, batch_size):
            batch = slice(start, start + batch_size) if order is None else \
                order[start:start + batch_size]
            X_batch, Y_batch = X[batch], Y[batch]
            loss += self._plan_step(plan, X_batch, Y_batch, learning_rate,
                                    reg_lambda) * len(X_batch)
        return loss / n_samples

    def _mean_loss(self, X, Y):
        return self.loss_function(Y, self._forward_pass(X).activations[-1]) / len(X)

    def predict(self, X, threshold = None):
        """Predicted labels for the samples in X, as a NumPy array of shape (n_samples,).

        With one output unit, the label is 1 where the output exceeds `threshold` (default 0.5)
        and 0 elsewhere. With several output units, the label is the index of the largest
        output; `threshold` must then be None.
        """
        if threshold is not None and self.n_output != 1:
            raise ValueError(f"threshold is only used with one output unit; this network has "
                             f"{self.n_output}, and predicts the index of the largest output")
        output = self._forward_pass(self._check_X(X)).activations[-1]
        if self.n_output == 1:
            threshold = 0.5 if threshold is None else check_number(threshold, "threshold")
            return (output[:, 0] > threshold).astype(int)
        return np.argmax(output, axis=1)

    def __getstate__(self):
        # The training plan ties the layers' arrays to its flat buffers as views; a pickle or
        # deep copy would cut those ties silently. Leave it out: the next step rebuilds it.
        state = self.__dict__.copy()
        state["_plan"] = None
        return state

    def save(self, path):
        """Write the network to a model file (.npz arrays + JSON header; no pickle).

        Only networks built from mlplab's registered functions (``ACTIVATIONS``, ``LOSSES``)
        can be saved, since the file names its functions instead of storing code.
        """
        from ._model_file import save_network
        save_network(self, path)

    @classmethod
    def load(cls, path):
        """Read a network written by `save`; a malformed file raises ValueError naming why."""
        from ._model_file import load_network
        network, _, arrays = load_network(path)
        if arrays:
            raise ValueError(f"{path}: not a valid mlplab model file: unexpected arrays "
                             f"{sorted(arrays)}")
        return network

    def __repr__(self):
        sizes = [self.n_input] + [layer.weights.shape[1] for layer in self.layers]
        return f"Network({'-'.join(map(str, sizes))})"


_GENERIC = object()   # marks a user's function, called as given


def _identity_into(Z, out):
    return Z


class _Kernels:
    """How a network's layers and loss are computed into a workspace's buffers.

    - ``activate[l]``: ``(Z, out) -> a``, the built-in activation's in-place kernel
      (`TRAINING_KERNELS`), or a call of the user's function, its result in the network's dtype.
    - ``derivative_from_output[l]``: ``(a, out) -> f'(z)`` for a built-in pair, None where
      there is nothing to multiply by (identity's f' = 1; an output layer given d_f None, whose
      loss derivative is dL/dz already), `_GENERIC` for a user's derivative.
    - ``loss_into``: the loss's kernel (`LOSS_KERNELS`) or None.
    - ``output_delta_is_difference``: the loss derivative is YPredict - YTrue.
    """

    def __init__(self, network):
        dtype = network.dtype
        self.activate, self.derivative_from_output = [], []
        for f, d_f in zip(network.activation_list, network.d_activation_list):
            paired_derivative, into, from_output = _registered(TRAINING_KERNELS, f,
                                                               (_GENERIC,) * 3)
            if paired_derivative is not d_f:   # a user's function, or an unusual pairing
                into = functools.partial(_call_activation, f, dtype)
                from_output = _GENERIC if d_f is not None else None
            self.activate.append(_identity_into if into is None else into)
            self.derivative_from_output.append(from_output)
        self.loss_into = _registered(LOSS_KERNELS, network.loss_function)
        self.output_delta_is_difference = network.d_loss_function in (d_cross_entropy_softmax,
                                                                      d_l2_loss)


def _registered(table, function, default=None):
    """table[function], or `default` for a function not in it (an unhashable one cannot be)."""
    try:
        return table.get(function, default)
    except TypeError:
        return default


def _call_activation(f, dtype, Z, out):
    # A user's function may compute in another dtype: keep the network's own.
    return np.asarray(f(Z), dtype=dtype)


class _Workspace:
    """The arrays a forward and backward pass on `n_rows` rows write into.

    Per layer l of n_in -> n_out units:
    - ``Z[l]``, ``A[l]``, ``delta[l]``, ``scratch[l]``: (n_rows, n_out);
    - ``gradient[l]``: (dW, db), dW (n_in, n_out) and db (n_out,), or None without biases;
    - ``blocks[l]``: the row blocks of its products (`_products.layer_blocks`), with
      ``scratch_gradient[l]`` (n_in, n_out) for the blocks' partial weight gradients and
      ``weights_T[l]`` (n_out, n_in) for W.T, where blocks are used.
    ``activations`` is [X, a^(1), ..., a^(L)] of the last forward pass, ``ones`` (n_rows,). A
    forward-only workspace (``backward=False``) has None for ``delta``, ``scratch``,
    ``gradient`` and ``ones``. `rows(n)` gives the workspace for batches of fewer rows, as
    views of these arrays.
    """

    def __init__(self, network, n_rows, backward=True, gradient=None):
        self.dtype = dtype = network.dtype
        self.shapes = [layer.weights.shape for layer in network.layers]
        self.n_rows = n_rows
        self.kernels = _Kernels(network)
        self.Z, self.A = ([np.empty((n_rows, n_out), dtype) for _, n_out in self.shapes]
                          for _ in range(2))
        self.activations = [None] * (len(self.shapes) + 1)
        self.delta = self.scratch = self.gradient = self.ones = None
        if backward:
            self.delta, self.scratch = ([np.empty((n_rows, n_out), dtype)
                                         for _, n_out in self.shapes] for _ in range(2))
            self.gradient = gradient if gradient is not None else [
                (np.empty(shape, dtype), np.empty(shape[1], dtype) if layer.biases is not None
                 else None) for shape, layer in zip(self.shapes, network.layers)]
            self.ones = np.ones(n_rows, dtype)
        # Shared with the views of `rows`, made when a layer first computes in blocks.
        self.scratch_gradient = [None] * len(self.shapes)
        self.weights_T = [None] * len(self.shapes)
        self._set_blocks(n_rows)
        self._by_rows = {}   # the views of `rows`; none refers back, so nothing waits for the gc

    def _set_blocks(self, n_rows):
        self.blocks = layer_blocks(n_rows, self.shapes)
        if self.delta is None:
            return
        for l, (rows, shape) in enumerate(zip(self.blocks, self.shapes)):
            if rows is not None and self.scratch_gradient[l] is None:
                self.scratch_gradient[l] = np.empty(shape, self.dtype)
                if l > 0:   # the first layer's delta @ W.T is never computed
                    self.weights_T[l] = np.empty(shape[::-1], self.dtype)

    def rows(self, n_rows):
        """This workspace for batches of `n_rows` <= self.n_rows rows, made once per size."""
        if n_rows == self.n_rows:
            return self
        work = self._by_rows.get(n_rows)
        if work is None:
            work = copy.copy(self)
            work.n_rows, work._by_rows = n_rows, None
            for name in ("Z", "A", "delta", "scratch"):
                arrays = getattr(self, name)
                if arrays is not None:
                    setattr(work, name, [array[:n_rows] for array in arrays])
            if self.ones is not None:
                work.ones = self.ones[:n_rows]
            work.activations = [None] * len(self.activations)
            work._set_blocks(n_rows)
            self._by_rows[n_rows] = work
        return work

    def forget_inputs(self):
        """Drop the last pass's activations (X among them: the caller's data) here and in
        every view, so that a finished training does not keep the data alive."""
        for work in (self, *self._by_rows.values()):
            work.activations[:] = [None] * len(work.activations)


class _Plan:
    """Everything a training step needs, prepared once for batches of up to `capacity` rows.

    - The parameters of all layers live in one flat buffer, with each layer's ``weights`` and
      ``biases`` a view into it; a second, spare buffer receives W - learning_rate * grad, and
      after a finite step the two swap (so the update is one subtraction, its finiteness
      check one dot product, and nothing is copied). Training therefore replaces each layer's
      ``weights`` and ``biases`` with new arrays: read them from the layer, do not keep old
      references.
    - ``workspace``: a `_Workspace` of `capacity` rows whose gradients are views into one flat
      buffer too; a batch of n rows uses ``workspace.rows(n)``.
    """

    def __init__(self, network, capacity):
        layers = network.layers
        self.capacity = capacity
        self.dtype = dtype = layers[0].weights.dtype
        self.functions = (*network.activation_list, *network.d_activation_list,
                          network.loss_function, network.d_loss_function)
        shapes = [layer.weights.shape for layer in layers]
        self.has_bias = [layer.biases is not None for layer in layers]
        total = sum(n_in * n_out + (n_out if bias else 0)
                    for (n_in, n_out), bias in zip(shapes, self.has_bias))
        self.buffers = [np.empty(total, dtype), np.empty(total, dtype)]
        self.gradient_buffer = np.empty(total, dtype)
        self.params, self.spare, gradient = (self._views(buffer, shapes) for buffer in
                                             (*self.buffers, self.gradient_buffer))
        for layer, (W, b) in zip(layers, self.params):
            W[...] = layer.weights
            if b is not None:
                b[...] = layer.biases
        self.current = 0
        self.swap(layers, advance=False)
        self.workspace = _Workspace(network, capacity, gradient=gradient)

    def _views(self, buffer, shapes):
        views, start = [], 0
        for (n_in, n_out), bias in zip(shapes, self.has_bias):
            W = buffer[start:start + n_in * n_out].reshape(n_in, n_out)
            start += n_in * n_out
            b = None
            if bias:
                b = buffer[start:start + n_out]
                start += n_out
            views.append((W, b))
        return views

    def serves(self, network, n_samples):
        """Whether this plan still matches the network (nothing was replaced since)."""
        return (n_samples <= self.capacity
                and len(network.layers) == len(self.params)
                and all(layer.weights is W and layer.biases is b
                        for layer, (W, b) in zip(network.layers, self.params))
                and all(a is b for a, b in zip(self.functions, (
                    *network.activation_list, *network.d_activation_list,
                    network.loss_function, network.d_loss_function))))

    def prepare_update(self, decay):
        """spare = params - gradient, with the weights (not the biases) first scaled by
        (1 - decay); the gradient buffer already holds learning_rate * mean gradient.
        Returns True if every new parameter is finite."""
        new = self.buffers[1 - self.current]
        if decay:
            keep = np.array(1.0 - decay, self.dtype)
            for (W, b), (W_new, b_new) in zip(self.params, self.spare):
                np.multiply(W, keep, out=W_new)
                if b is not None:
                    np.copyto(b_new, b)
            new -= self.gradient_buffer
        else:
            np.subtract(self.buffers[self.current], self.gradient_buffer, out=new)
        # The sum of squares as a BLAS dot product: a third of np.sum's cost on small buffers,
        # half on large ones. Like the step's products it runs on the step's BLAS threads (one,
        # for mid-sized steps); input data is checked with np.sum instead, outside any thread
        # limit (a threaded dot product there collapsed W1 epochs beside busy processes). A
        # square beyond float range (|w| > ~1e154 in float64) is rechecked elementwise.
        return math.isfinite(np.vdot(new, new)) or all_finite(new, quiet=True)

    def swap(self, layers, advance=True):
        if advance:
            self.current = 1 - self.current
            self.params, self.spare = self.spare, self.params
        for layer, (W, b) in zip(layers, self.params):
            layer.weights = W
            if b is not None:
                layer.biases = b
