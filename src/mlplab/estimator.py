"""MLPClassifier: a `Network` as a scikit-learn classifier.

With `fit`, `partial_fit`, `predict`, `predict_proba` and `score`, an mlplab network drops into
``Pipeline``, ``GridSearchCV`` and ``cross_val_score``. The training itself is `Network.train`'s,
one epoch per call. This module adds what an estimator needs around it: labels of any type,
input validation with scikit-learn's own checks and messages, initialisation seeded by
``random_state``, early stopping, and model files (`mlplab._model_file`, no pickle).

What it leaves out: sample weights, class weights, multi-label targets, sparse input, and
optimisers other than plain (mini-batch) gradient descent.
"""

import math
import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._model_file import load_network, save_network
from .build import build_network
from .functions import ACTIVATIONS, LOSSES, OUTPUTS, smooth_labels, softmax
from .errors import DivergenceError

# The hidden activations that have a name (and so can be saved); any other is a pair of callables.
HIDDEN_ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
# The output kinds of `functions.OUTPUTS` that make a classifier.
CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")
_KIND = "MLPClassifier"   # the model file's "kind"


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained by mlplab's hand-written backpropagation.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; ``()`` gives no hidden layer (softmax regression).
    activation : {"sigmoid", "tanh", "relu", "identity"} or (callable, callable), default="sigmoid"
        The hidden layers' activation: a name from `mlplab.functions.ACTIVATIONS`, or a custom
        ``(function, derivative)`` pair, both taking the pre-activation z (arrays of shape
        (n_samples, n_units)). A custom pair trains like a named one but cannot be saved.
    output : {"softmax", "sigmoid"}, default="softmax"
        ``"softmax"``: one unit per class, cross-entropy on one-hot targets. ``"sigmoid"``: L2
        loss, as the assignment's binary networks; one unit for two classes, otherwise one
        unit per class on one-hot targets.
    learning_rate : float > 0, default=0.1
    reg_lambda : float >= 0, default=1e-4
        L2 strength, mlplab's convention: W <- W - learning_rate * (mean_grad + reg_lambda * W).
        Biases are not decayed.
    label_smoothing : float in [0, 1), default=0.0
        Train towards `mlplab.smooth_labels` of the targets: with K classes (K = 2 for one
        sigmoid unit) the true class gets 1 - label_smoothing + label_smoothing / K, the others
        label_smoothing / K. With the softmax output this is PyTorch's
        ``CrossEntropyLoss(label_smoothing=...)``; with sigmoid units (L2 loss) the same targets
        are used. The training and validation losses are measured against these targets.
    epochs : int >= 1, default=200
        Passes over the training data (fewer with early stopping).
    batch_size : int >= 1 or None, default=32
        Samples per gradient step; None takes one full-batch step per epoch, as the assignment.
    shuffle : bool, default=True
        Visit the mini-batches in a new random order each epoch.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator, default=None
        Seeds the initial weights, the validation split and the shuffling. An int gives the same
        model bit for bit on every run; None gives a different one each time.
    verbose : bool, default=False
        Show a progress bar (tqdm) with the training loss during `fit`.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data (stratified when every class has at
        least two samples), stop when its loss has not improved for `patience` epochs, and keep
        the weights of the best epoch. `partial_fit` is not available (as in scikit-learn).
    validation_fraction : float in (0, 1), default=0.1
    patience : int >= 1, default=10
    dtype : {"float64", "float32"}, default="float64"
        Precision of the weights and of all computation (see `Network.astype`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted labels; `predict` returns them and `predict_proba`'s columns follow them.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X had string column names (a pandas DataFrame).
    network_ : Network
        The trained network.
    loss_curve_ : list of float
        Each epoch's mean training loss (mean of the batch losses, each measured before its
        step; the L2 term not included).
    n_iter_ : int
        Epochs run (in total, for `partial_fit`).
    validation_loss_curve_ : list of float
        With early stopping: the loss on the held-out data after each epoch.
    validation_scores_ : list of float
        With early stopping: the accuracy on the held-out data after each epoch.
    best_epoch_ : int
        With early stopping: the index into the curves of the epoch whose weights were kept.

    Notes
    -----
    Initialisation: Glorot/Xavier uniform (Glorot & Bengio, 2010) as `Layer.initialize_weights`,
    every weight and bias drawn from U(-limit, limit), limit = sqrt(6 / (n_in + n_out)), layer
    by layer, weights before biases. A `Layer` made alone draws from ``default_rng(2)`` (the
    assignment's rule); the estimator's layers draw from a generator made from `random_state`
    (`build_network`'s ``rng``), so that ``random_state`` decides the initial weights as
    scikit-learn users expect.

    One generator serves the whole fit: initial weights, then (with early stopping) the
    validation split, then the shuffling of every epoch. `partial_fit` keeps using it, so for
    the same `random_state` ``epochs`` calls of ``partial_fit`` give the same weights, bit for
    bit, as one ``fit`` (without early stopping).

    If training diverges, `mlplab.DivergenceError` propagates with the network's message;
    ``network_`` then holds the last finite weights and ``loss_curve_`` the epochs before.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlplab import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=100, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), tuple],
        "output": [StrOptions(set(CLASSIFIER_OUTPUTS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shuffle": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="sigmoid", output="softmax",
                 learning_rate=0.1, reg_lambda=1e-4, epochs=200, batch_size=32, shuffle=True,
                 random_state=None, verbose=False, early_stopping=False,
                 validation_fraction=0.1, patience=10, dtype="float64", label_smoothing=0.0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output = output
        self.learning_rate = learning_rate
        self.reg_lambda = reg_lambda
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dtype = dtype
        self.label_smoothing = label_smoothing

    # ----- parameters beyond what _parameter_constraints can say ------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        for size in sizes:
            if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral) or size < 1:
                raise ValueError(f"hidden_layer_sizes must hold positive integers, got "
                                 f"{self.hidden_layer_sizes!r}")
        return [int(size) for size in sizes]

    def _activation_pair(self):
        if isinstance(self.activation, str):
            return ACTIVATIONS[self.activation]
        if len(self.activation) != 2 or not all(map(callable, self.activation)):
            raise ValueError("activation must be one of "
                             f"{', '.join(map(repr, HIDDEN_ACTIVATIONS))} or a (function, "
                             f"derivative) pair of callables, got {self.activation!r}")
        return tuple(self.activation)

    # ----- building and training ---------------------------------------------------------------

    def _build_network(self, n_features, n_classes, rng):
        """A new Network for `n_features` inputs and `n_classes` classes, weights from `rng`."""
        n_output = 1 if self.output == "sigmoid" and n_classes == 2 else n_classes
        return build_network([n_features, *self._hidden_sizes(), n_output],
                             self._activation_pair(), self.output, rng=rng).astype(self.dtype)

    def _targets(self, y_index):
        """Network targets for class indices: a 0/1 column for one output unit, else one-hot
        rows; then smoothed by `label_smoothing`."""
        n_output, dtype = self.network_.n_output, self.network_.dtype
        if n_output == 1:
            targets = y_index.astype(dtype).reshape(-1, 1)   # (N, 1)
        else:
            targets = np.eye(n_output, dtype=dtype)[y_index]   # (N, n_classes)
        if self.label_smoothing:
            targets = smooth_labels(targets, self.label_smoothing).astype(dtype, copy=False)
        return targets

    def _train_epoch(self, X, Y):
        """One pass of gradient descent over (X, Y); appends to loss_curve_ and n_iter_."""
        try:
            history = self.network_.train(
                X, Y, epochs=1, learning_rate=self.learning_rate, reg_lambda=self.reg_lambda,
                batch_size=self.batch_size, shuffle=self.shuffle, seed=self._rng)
        except DivergenceError as exc:
            # Network.train counts this single epoch as epoch 0; say which one it really was.
            exc.epoch = self.n_iter_
            exc.history = {"loss": np.array(self.loss_curve_)}
            raise
        self.loss_curve_.append(float(history["loss"][0]))
        self.n_iter_ += 1
        return self.loss_curve_[-1]

    def _validation_split(self, y_index, rng):
        """Training and validation indices, both in the data's original order."""
        n_samples = len(y_index)
        n_validation = math.ceil(self.validation_fraction * n_samples)
        if n_validation >= n_samples:
            raise ValueError(f"early_stopping holds out validation_fraction="
                             f"{self.validation_fraction!r} of {n_samples} samples, which leaves "
                             "none to train on; give more samples or a smaller fraction")
        counts = np.bincount(y_index)
        n_classes = np.count_nonzero(counts)
        # Stratify like scikit-learn's MLP, but only where every class can be on both sides.
        stratify = (y_index if counts[counts > 0].min() >= 2 and n_classes <= n_validation
                    and n_classes <= n_samples - n_validation else None)
        train, validation = train_test_split(
            np.arange(n_samples), test_size=n_validation, stratify=stratify,
            random_state=int(rng.integers(2**32)))
        return np.sort(train), np.sort(validation)

    def _evaluate(self, X, Y, y_index):
        """Mean loss and accuracy of the current network on (X, Y)."""
        output = self.network_.forward(X)[-1]
        loss = self.network_.loss_function(Y, output) / len(X)
        accuracy = float(np.mean(np.argmax(self._probabilities(output), axis=1) == y_index))
        return loss, accuracy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train a new network on (X, y) for `epochs` epochs (fewer with early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type numpy can sort: ints, integral floats, strings.

        Returns
        -------
        self
        """
        _check_label_types(y)
        X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype))
        check_classification_targets(y)
        classes = unique_labels(y)
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({classes[0]!r}); a classifier needs at "
                             "least 2 classes")
        y_index = np.searchsorted(classes, y)
        rng = _make_rng(self.random_state)
        self._start(classes, X.shape[1], rng)
        for name in ("validation_loss_curve_", "validation_scores_", "best_epoch_"):
            self.__dict__.pop(name, None)   # left from an earlier fit with early stopping
        if self.early_stopping:
            train, validation = self._validation_split(y_index, rng)
            X_val, y_val = X[validation], y_index[validation]
            X, y_index = X[train], y_index[train]
            Y_val = self._targets(y_val)
            self.validation_loss_curve_, self.validation_scores_ = [], []
            best_loss, self.best_epoch_, best_parameters = math.inf, 0, None
        Y = self._targets(y_index)

        progress = None
        if self.verbose:
            from tqdm.auto import tqdm
            progress = tqdm(total=self.epochs, desc=type(self).__name__, unit="epoch")
        try:
            for epoch in range(self.epochs):
                postfix = {"loss": f"{self._train_epoch(X, Y):.4g}"}
                if self.early_stopping:
                    loss, accuracy = self._evaluate(X_val, Y_val, y_val)
                    if not math.isfinite(loss):
                        raise DivergenceError(
                            f"the validation loss became non-finite ({loss}) after epoch "
                            f"{epoch}. Try a lower learning_rate (got {self.learning_rate!r}).")
                    self.validation_loss_curve_.append(loss)
                    self.validation_scores_.append(accuracy)
                    postfix["val_loss"] = f"{loss:.4g}"
                    if loss < best_loss:
                        best_loss, self.best_epoch_ = loss, epoch
                        best_parameters = _copy_parameters(self.network_)
                    elif epoch - self.best_epoch_ >= self.patience:
                        break
                if progress is not None:
                    progress.set_postfix(postfix)
                    progress.update()
        finally:
            if progress is not None:
                progress.close()
        if self.early_stopping:
            for layer, (W, b) in zip(self.network_.layers, best_parameters):
                layer.weights, layer.biases = W, b
        return self

    def _start(self, classes, n_features, rng):
        """Set up the fitted state for training from scratch."""
        self.classes_ = classes
        self.network_ = self._build_network(n_features, len(classes), rng)
        self.loss_curve_ = []
        self.n_iter_ = 0
        self._rng = rng   # kept so that partial_fit continues the same random stream

    def _partial_fit_available(self):
        # As scikit-learn's MLP: held-out data per call would make no sense. Hidden rather than
        # refused, so that hasattr(classifier, "partial_fit") tells the truth.
        if self.early_stopping:
            raise AttributeError("partial_fit is not available with early_stopping=True; set "
                                 "early_stopping=False or call fit")
        return True

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on (X, y), starting from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,) or None
            Every label that will ever appear; required on the first call (before any `fit`),
            and if given later, it must be the same.

        Returns
        -------
        self
        """
        first_call = not hasattr(self, "network_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if classes is not None:
            classes = unique_labels(classes)
            if not first_call and not np.array_equal(classes, self.classes_):
                raise ValueError(f"classes={classes!r} is not the same as on the first call "
                                 f"to partial_fit (or in fit), {self.classes_!r}")
            if len(classes) < 2:
                raise ValueError(f"classes has only one class ({classes[0]!r}); a classifier "
                                 "needs at least 2 classes")
        dtype = np.dtype(self.dtype) if first_call else self.network_.dtype
        _check_label_types(y)
        X, y = validate_data(self, X, y, dtype=dtype, reset=first_call)
        check_classification_targets(y)
        known = self.classes_ if classes is None else classes
        y_index = np.searchsorted(known, y)
        unknown = (y_index >= len(known)) | (known[np.minimum(y_index, len(known) - 1)] != y)
        if np.any(unknown):
            raise ValueError(f"y holds labels that are not in classes: "
                             f"{np.unique(np.asarray(y)[unknown]).tolist()}; classes are "
                             f"{known.tolist()}")
        if first_call:
            self._start(classes, X.shape[1], _make_rng(self.random_state))
        self._train_epoch(X, self._targets(y_index))
        return self

    # ----- prediction ---------------------------------------------------------------------------

    def _probabilities(self, output):
        """Class probabilities from the network's output: shape (n_samples, n_classes)."""
        if output.shape[1] == 1:                        # one sigmoid unit: P(classes_[1])
            return np.hstack([1.0 - output, output])
        if self.network_.activation_list[-1] is softmax:
            return output
        # One sigmoid unit per class: the outputs are not exclusive, so normalise each row;
        # a row where every unit underflowed to 0 says nothing, and becomes uniform.
        total = output.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            probabilities = output / total
        probabilities[total[:, 0] == 0] = 1.0 / output.shape[1]
        return probabilities

    def predict_proba(self, X):
        """Probability of each class for the samples in X.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow `classes_`; rows sum to 1. For one sigmoid output unit p the row is
            [1 - p, p]; for one sigmoid unit per class, the outputs divided by their sum.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.network_.dtype)
        return self._probabilities(self.network_.forward(X)[-1])

    def predict(self, X):
        """Predicted labels (from `classes_`) for the samples in X: shape (n_samples,)."""
        probabilities = self.predict_proba(X)   # checks that the classifier is fitted
        return self.classes_[np.argmax(probabilities, axis=1)]

    # ----- pickling and model files -------------------------------------------------------------

    def save(self, path):
        """Write the fitted classifier to a model file (.npz arrays + JSON header; no pickle).

        The file is `mlplab._model_file`'s format with kind "MLPClassifier". Its header's
        ``extra`` holds the parameters, ``n_features_in``, ``n_iter``, ``loss_curve``, the
        early-stopping curves if any, and the string labels; numeric labels are the array
        ``classes``, so their dtype comes back exactly. A custom activation cannot be saved.
        """
        check_is_fitted(self)
        network = self.network_
        hidden_names = {_name_of(f) for f in network.activation_list[:-1]}
        if not isinstance(self.activation, str) or None in hidden_names:
            raise ValueError("activation is a custom (function, derivative) pair, which cannot "
                             "be saved: a model file names its functions instead of storing "
                             f"code; use one of {', '.join(map(repr, HIDDEN_ACTIVATIONS))}")
        sizes = [layer.weights.shape[1] for layer in network.layers]
        params = {name: _plain(value) for name, value in self.get_params(deep=False).items()}
        # What the network was built with wins over parameters changed since (set_params).
        params.update(hidden_layer_sizes=sizes[:-1], dtype=str(network.dtype),
                      output="softmax" if network.activation_list[-1] is softmax else "sigmoid")
        if hidden_names:
            params["activation"] = hidden_names.pop()
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None   # a RandomState or Generator: its state is kept below
        extra = {"params": params, "n_features_in": int(self.n_features_in_),
                 "n_iter": int(self.n_iter_), "loss_curve": [float(v) for v in self.loss_curve_]}
        arrays = {}
        if self.classes_.dtype.kind in "biuf":
            arrays["classes"] = self.classes_
        else:
            values = self.classes_.tolist()
            if self.classes_.dtype.kind not in "UO" or not all(
                    isinstance(v, (str, int, float)) for v in values):
                raise ValueError(f"classes_ of dtype {self.classes_.dtype} cannot be saved; "
                                 "use numeric or string labels")
            extra["classes"] = {"dtype": self.classes_.dtype.str, "values": values}
        if hasattr(self, "feature_names_in_"):
            extra["feature_names_in"] = self.feature_names_in_.tolist()
        if hasattr(self, "best_epoch_"):
            extra["validation"] = {"loss_curve": list(map(float, self.validation_loss_curve_)),
                                   "scores": list(map(float, self.validation_scores_)),
                                   "best_epoch": int(self.best_epoch_)}
        state = getattr(self, "_rng", None)
        state = state and state.bit_generator.state
        if state and state.get("bit_generator") == "PCG64":
            extra["rng_state"] = state   # partial_fit after load continues the same stream
        save_network(network, path, kind=_KIND, extra=extra, arrays=arrays)

    @classmethod
    def load(cls, path):
        """Read a classifier written by `save`; a malformed file raises ValueError naming why.

        `predict_proba` of the loaded classifier equals the saved one's bit for bit.
        """
        network, extra, arrays = load_network(path, kind=_KIND, extra_arrays=("classes",))
        try:
            return _restore(cls, network, extra, arrays)
        except _Invalid as exc:
            raise ValueError(f"{path}: not a valid mlplab model file: {exc}") from None
        except Exception as exc:   # whatever else the header's values lead the checks into
            raise ValueError(f"{path}: not a valid mlplab model file: {type(exc).__name__}: "
                             f"{exc}") from None


class _Invalid(Exception):
    """A model file's content is inconsistent; `load` adds the path."""


def _restore(cls, network, extra, arrays):
    """The classifier described by a model file's parts, checked piece by piece."""
    if not isinstance(extra, dict) or not isinstance(extra.get("params"), dict):
        raise _Invalid("no classifier parameters in the header")
    params = dict(extra["params"])
    params.setdefault("label_smoothing", 0.0)   # files written before the parameter existed
    if set(params) != set(cls._get_param_names()):
        raise _Invalid(f"the parameters are {sorted(params)}, expected "
                       f"{sorted(cls._get_param_names())}")
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    classifier = cls(**params)
    try:
        classifier._validate_params()
        hidden = classifier._hidden_sizes()
    except ValueError as exc:
        raise _Invalid(f"bad parameters ({exc})") from None
    if not isinstance(classifier.activation, str):
        raise _Invalid(f"activation {classifier.activation!r} is not a name")

    classes = _restore_classes(extra, arrays)
    n_features = extra.get("n_features_in")
    n_iter = extra.get("n_iter")
    loss_curve = _numbers(extra.get("loss_curve"), "loss_curve")
    if not _is_count(n_features) or not _is_count(n_iter) or n_iter != len(loss_curve):
        raise _Invalid("n_features_in, n_iter or loss_curve is missing or malformed")

    # The network must be exactly what these parameters and classes build.
    output_name, loss_name = OUTPUTS[classifier.output]
    n_output = 1 if classifier.output == "sigmoid" and len(classes) == 2 else len(classes)
    expected = ([n_features, *hidden, n_output],
                [ACTIVATIONS[classifier.activation][0]] * len(hidden)
                + [ACTIVATIONS[output_name][0]], LOSSES[loss_name][0], classifier.dtype)
    found = ([network.n_input] + [layer.weights.shape[1] for layer in network.layers],
             network.activation_list, network.loss_function, str(network.dtype))
    if (expected[0] != found[0] or any(a is not b for a, b in zip(expected[1], found[1]))
            or expected[2] is not found[2] or expected[3] != found[3]
            or any(layer.biases is None for layer in network.layers)):
        raise _Invalid("the network does not match the classifier's parameters and classes")

    classifier.classes_ = classes
    classifier.n_features_in_ = n_features
    classifier.network_ = network
    classifier.loss_curve_ = loss_curve
    classifier.n_iter_ = n_iter
    if "feature_names_in" in extra:
        names = extra["feature_names_in"]
        if (not isinstance(names, list) or len(names) != n_features
                or not all(isinstance(name, str) for name in names)):
            raise _Invalid("feature_names_in is malformed")
        classifier.feature_names_in_ = np.array(names, dtype=object)
    if "validation" in extra:
        validation = extra["validation"]
        if not isinstance(validation, dict):
            raise _Invalid("validation is malformed")
        classifier.validation_loss_curve_ = _numbers(validation.get("loss_curve"), "validation")
        classifier.validation_scores_ = _numbers(validation.get("scores"), "validation")
        classifier.best_epoch_ = validation.get("best_epoch")
        # partial_fit may have run more epochs since, without validation
        n_validated = len(classifier.validation_loss_curve_)
        if not (_is_count(classifier.best_epoch_) and classifier.best_epoch_ < n_validated
                and len(classifier.validation_scores_) == n_validated <= n_iter):
            raise _Invalid("the validation curves or best_epoch are malformed")
    classifier._rng = np.random.default_rng(classifier.random_state)
    if "rng_state" in extra:
        try:
            classifier._rng = np.random.Generator(np.random.PCG64())
            classifier._rng.bit_generator.state = extra["rng_state"]
        except (TypeError, ValueError, KeyError) as exc:
            raise _Invalid(f"rng_state is malformed ({exc!r})") from None
    return classifier


def _restore_classes(extra, arrays):
    in_arrays, in_header = "classes" in arrays, "classes" in extra
    if in_arrays == in_header:
        raise _Invalid("the classes must be given once, as the array 'classes' or in the header")
    if in_arrays:
        classes = arrays["classes"]
        if classes.dtype.kind not in "biuf" or (classes.dtype.kind == "f"
                                               and not np.all(np.isfinite(classes))):
            raise _Invalid(f"array classes has dtype {classes.dtype}; expected numbers")
    else:
        stored = extra["classes"]
        try:
            dtype = np.dtype(stored["dtype"])
            if (dtype.kind not in "UO" or dtype.itemsize > 4096
                    or not isinstance(stored["values"], list) or len(stored["values"]) > 2**20):
                raise TypeError(f"dtype {dtype} or number of classes")
            classes = np.empty(len(stored["values"]), dtype=dtype)
            classes[:] = stored["values"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _Invalid(f"the classes in the header are malformed ({exc!r})") from None
    if classes.ndim != 1 or len(classes) < 2 or not all(
            a < b for a, b in zip(classes.tolist(), classes.tolist()[1:])):
        raise _Invalid("the classes must be at least 2 distinct labels in sorted order")
    return classes


def _check_label_types(y):
    """Labels of one kind, checked as given: NumPy would turn [0, "a"] into ["0", "a"] and
    [True, 2] into [1, 2] without a word, and scikit-learn answers an object array that mixes
    them with "Unknown label type"."""
    if hasattr(y, "dtype") and y.dtype != object:
        return
    try:
        labels = list(np.ravel(np.asarray(y, dtype=object)))
    except (TypeError, ValueError):   # ragged input: scikit-learn's checks will say so
        return
    kinds = {"number" if isinstance(label, numbers.Number)
             and not isinstance(label, (bool, np.bool_)) else type(label).__name__
             for label in labels}
    if len(kinds) > 1:
        names = sorted({type(label).__name__ for label in labels})
        raise ValueError(f"y mixes labels of different types ({', '.join(names)}); give "
                         "labels of one type, e.g. all strings or all numbers")


def _numbers(values, what):
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values):
        raise _Invalid(f"{what} must be a list of finite numbers")
    return [float(v) for v in values]


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _make_rng(random_state):
    """The numpy Generator behind one fit, from a `random_state` parameter."""
    if isinstance(random_state, np.random.RandomState):
        # scikit-learn's convention: a RandomState instance is consumed, not copied.
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)   # None, an int, or a Generator (used as is)


def _copy_parameters(network):
    """Copies of every layer's (weights, biases), to restore the best epoch's state."""
    return [(layer.weights.copy(), layer.biases.copy()) for layer in network.layers]


def _name_of(function):
    """The hidden activation's registry name, or None for a custom function."""
    return next((name for name in HIDDEN_ACTIVATIONS if ACTIVATIONS[name][0] is function), None)


def _plain(value):
    """A parameter as plain JSON: numpy scalars to Python numbers, tuples to lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
