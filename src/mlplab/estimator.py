"""mlplab's networks as scikit-learn estimators: `MLPClassifier` and `MLPRegressor`.

With `fit`, `partial_fit`, `predict` and `score` (and `predict_proba` for the classifier), an
mlplab network drops into ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``. The training is
`Network.train`'s, one epoch per call, with the optimizers of `mlplab.optimizers`; `_mlp.BaseMLP`
holds what both estimators share. README.md maps scikit-learn's MLP parameters to these.

What they leave out: class weights, multi-label targets and sparse input.
"""

import numbers

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._mlp import HIDDEN_ACTIVATIONS, BaseMLP, Invalid
from .functions import smooth_labels, softmax

# The output kinds of `functions.OUTPUTS` that make a classifier.
CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")
__all__ = ["HIDDEN_ACTIVATIONS", "MLPClassifier", "MLPRegressor"]

_SHARED_PARAMETERS = """
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; ``()`` gives no hidden layer.
    activation : {"relu", "tanh", "sigmoid", "identity"} or (callable, callable), default="relu"
        The hidden layers' activation: a name from `mlplab.functions.ACTIVATIONS`, or a custom
        ``(function, derivative)`` pair, both taking the pre-activation z (arrays of shape
        (n_samples, n_units)). A custom pair trains like a named one but cannot be saved.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"``: `optimizers.Adam`; ``"sgd"``: `optimizers.SGD` with `momentum` and
        `nesterovs_momentum`; ``"lbfgs"``: `optimizers.LBFGS`, full batch through SciPy, for
        small data sets (no `partial_fit`, no early stopping, no schedule).
    learning_rate : float > 0, default=0.002
        The step size (scikit-learn's ``learning_rate_init``, whose default is 0.001; see the
        README for why mlplab's defaults differ, measured by benchmarks/defaults.py).
    learning_rate_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        scikit-learn's ``learning_rate``: "invscaling" divides by (t + 1)^power_t, t the samples
        seen; "adaptive" divides by 5 whenever the training loss stalls (see `tol`). Unlike
        scikit-learn, it applies to "adam" too.
    power_t : float >= 0, default=0.5
    momentum : float in [0, 1), default=0.9
    nesterovs_momentum : bool, default=True
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
    epsilon : float > 0, default=1e-8
        Adam's, as Kingma & Ba and PyTorch place it (see `optimizers.Adam`).
    reg_lambda : float >= 0, default=1.5e-3
        L2 strength, mlplab's convention: dJ/dW = mean_grad + reg_lambda * W, whatever the
        batch size (scikit-learn's ``alpha`` is reg_lambda * batch size). Biases are not
        decayed. For "adam" it is part of the gradient, as PyTorch's ``weight_decay``.
    epochs : int >= 1, default=200
        The most passes over the training data (scikit-learn's ``max_iter``; L-BFGS iterations
        for "lbfgs").
    batch_size : int >= 1, "auto" or None, default="auto"
        Samples per step; "auto" is min(200, n_samples); None one full batch per epoch, as the
        assignment.
    shuffle : bool, default=True
        Visit the mini-batches in a new random order each epoch.
    tol : float >= 0, default=1e-4
    n_iter_no_change : int >= 1 or None, default=10
        Training stops (or, with the adaptive schedule, the rate is divided by 5) once the
        training loss has not improved on its best by `tol` for more than `n_iter_no_change`
        epochs in a row, as scikit-learn; "lbfgs" stops on SciPy's ``gtol=tol``. None: train
        every one of `epochs`, without a ConvergenceWarning (not with the adaptive schedule).
    max_fun : int >= 1, default=15000
        "lbfgs" only: the most evaluations of the loss.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator, default=None
        Seeds the initial weights, the validation split and the shuffling. An int gives the same
        model bit for bit on every run; None gives a different one each time.
    verbose : bool, default=False
        Show a progress bar (tqdm) with the training loss during `fit`.
    warm_start : bool, default=False
        `fit` continues from the current weights, curves and counts (with a new optimizer, as
        scikit-learn) instead of starting again.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data, stop when its loss has not
        improved for `patience` epochs, and keep the weights of the best epoch. `partial_fit` is
        not available (as in scikit-learn).
    validation_fraction : float in (0, 1), default=0.1
    patience : int >= 1, default=10
    dtype : {"float64", "float32"}, default="float64"
        Precision of the weights and of all computation (see `Network.astype`)."""

_SHARED_ATTRIBUTES = """
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X had string column names (a pandas DataFrame).
    network_ : Network
        The trained network.
    coefs_, intercepts_ : lists of ndarray
        Each layer's weights (n_in, n_out) and biases (n_out,), the network's own arrays.
    n_layers_, n_outputs_, out_activation_
        As scikit-learn's: layers of units (input and output included), output units, and the
        output activation's scikit-learn name.
    loss_curve_ : list of float
        Each epoch's mean training loss (mean of the batch losses, each measured before its
        step, weighted by `sample_weight`; the L2 term not included).
    loss_, best_loss_ : float
        The last and the lowest of `loss_curve_`.
    n_iter_ : int
        Epochs run (in total, for `partial_fit` and `warm_start`).
    t_ : int
        Training samples seen: samples times epochs.
    validation_loss_curve_, validation_scores_ : lists of float
        With early stopping: the loss and the score (accuracy or R^2) on the held-out data after
        each epoch.
    best_epoch_ : int
        With early stopping: the index into the curves of the epoch whose weights were kept."""

_NOTES = """
    Initialisation: Glorot/Xavier uniform (Glorot & Bengio, 2010) as `Layer.initialize_weights`,
    every weight and bias drawn from U(-limit, limit), limit = sqrt(6 / (n_in + n_out)), layer
    by layer, weights before biases, from a generator made from `random_state`.

    One generator serves the whole fit: initial weights, then (with early stopping) the
    validation split, then the shuffling of every epoch. `partial_fit` keeps using it, and
    keeps the optimizer's state, so for the same `random_state` ``k`` calls of ``partial_fit``
    give the same weights, bit for bit, as a ``fit`` of ``k`` epochs (without early stopping or
    convergence). Model files keep the generator's and the optimizer's state.

    If training diverges, `mlplab.DivergenceError` propagates with the network's message;
    ``network_`` then holds the last finite weights and ``loss_curve_`` the epochs before.
    When `epochs` end before the loss converged, a ``ConvergenceWarning`` says so, as
    scikit-learn's does (not with ``n_iter_no_change=None``, which asks for every epoch).

    scikit-learn's names that mlplab spells otherwise (``alpha``, ``max_iter``,
    ``learning_rate_init``, ``learning_rate="adaptive"``, ``activation="logistic"``...) are
    refused with an error that names mlplab's equivalent and the conversion."""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier, trained by mlplab's hand-written backprop.

    Parameters
    ----------{_SHARED_PARAMETERS}
    output : {{"softmax", "sigmoid"}}, default="softmax"
        ``"softmax"``: one unit per class, cross-entropy on one-hot targets. ``"sigmoid"``: L2
        loss, as the assignment's binary networks; one unit for two classes, otherwise one
        unit per class on one-hot targets.
    label_smoothing : float in [0, 1), default=0.0
        Train towards `mlplab.smooth_labels` of the targets: with K classes (K = 2 for one
        sigmoid unit) the true class gets 1 - label_smoothing + label_smoothing / K, the others
        label_smoothing / K (PyTorch's ``CrossEntropyLoss(label_smoothing=...)`` for softmax).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted labels; `predict` returns them and `predict_proba`'s columns follow them.
    {_SHARED_ATTRIBUTES}

    Notes
    -----{_NOTES}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlplab import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=100, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _KIND = "MLPClassifier"   # the model file's kind
    _EXTRA_ARRAYS = ("classes",)
    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "output": [StrOptions(set(CLASSIFIER_OUTPUTS))],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 learning_rate=0.002, learning_rate_schedule="constant", power_t=0.5,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 reg_lambda=1.5e-3, epochs=200, batch_size="auto", shuffle=True, tol=1e-4,
                 n_iter_no_change=10, max_fun=15000, random_state=None, verbose=False,
                 warm_start=False, early_stopping=False, validation_fraction=0.1, patience=10,
                 dtype="float64", output="softmax", label_smoothing=0.0):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, power_t=power_t, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, reg_lambda=reg_lambda, epochs=epochs, batch_size=batch_size,
            shuffle=shuffle, tol=tol, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            random_state=random_state, verbose=verbose, warm_start=warm_start,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            patience=patience, dtype=dtype)
        self.output = output
        self.label_smoothing = label_smoothing

    # ----- what BaseMLP asks of a classifier ------------------------------------------------------

    def _output_name(self):
        return self.output

    def _n_output(self):
        n_classes = len(self.classes_)
        return 1 if self.output == "sigmoid" and n_classes == 2 else n_classes

    def _targets(self, y_index):
        """Network targets for class indices: a 0/1 column for one output unit, else one-hot
        rows; then smoothed by `label_smoothing`."""
        n_output, dtype = self._n_output(), np.dtype(self.network_.dtype)
        if n_output == 1:
            targets = y_index.astype(dtype).reshape(-1, 1)   # (N, 1)
        else:
            targets = np.eye(n_output, dtype=dtype)[y_index]   # (N, n_classes)
        if self.label_smoothing:
            targets = smooth_labels(targets, self.label_smoothing).astype(dtype, copy=False)
        return targets

    def _score_validation(self, output, y_index):
        return float(np.mean(np.argmax(self._probabilities(output), axis=1) == y_index))

    def _stratify(self, y_index, n_validation):
        # As scikit-learn's MLP, but only where every class can be on both sides.
        counts = np.bincount(y_index)
        n_classes = np.count_nonzero(counts)
        if (counts[counts > 0].min() >= 2 and n_classes <= n_validation
                and n_classes <= len(y_index) - n_validation):
            return y_index
        return None

    # ----- fitting ------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y) for at most `epochs` epochs (fewer on convergence or early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type numpy can sort: ints, integral floats, strings.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights >= 0, not all 0: each batch's loss is sum w_i L_i / sum w_i.

        Returns
        -------
        self
        """
        _check_label_types(y)
        warm = self.warm_start and hasattr(self, "network_")
        with self._refusal_changes_nothing():
            X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype), reset=not warm)
            check_classification_targets(y)
            classes = unique_labels(y)
            if len(classes) < 2:
                raise ValueError(f"y has only one class ({classes[0]!r}); a classifier needs "
                                 "at least 2 classes")
            if warm and not np.array_equal(classes, self.classes_):
                raise ValueError(f"warm_start can only be used where y has the same classes as "
                                 f"in the previous call to fit: {self.classes_!r}, got "
                                 f"{classes!r}")
            self.classes_ = classes
            plan = self._set_up(X, np.searchsorted(classes, y), sample_weight, incremental=False)
        return self._train(plan, incremental=False)

    def _partial_fit_available(self):
        return BaseMLP._partial_fit_available(self)

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on (X, y), starting from the current weights and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,) or None
            Every label that will ever appear; required on the first call (before any `fit`),
            and if given later, it must be the same.
        sample_weight : array-like of shape (n_samples,), default=None

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
        with self._refusal_changes_nothing():
            X, y = validate_data(self, X, y, dtype=dtype, reset=first_call)
            check_classification_targets(y)
            known = self.classes_ if classes is None else classes
            y_index = np.searchsorted(known, y)
            unknown = (y_index >= len(known)) | (known[np.minimum(y_index, len(known) - 1)] != y)
            if np.any(unknown):
                raise ValueError(f"y holds labels that are not in classes: "
                                 f"{np.unique(np.asarray(y)[unknown]).tolist()}; classes are "
                                 f"{known.tolist()}")
            self.classes_ = known
            plan = self._set_up(X, y_index, sample_weight, incremental=True)
        return self._train(plan, incremental=True)

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

    def predict_log_proba(self, X):
        """The natural logarithm of `predict_proba` (-inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted labels (from `classes_`) for the samples in X: shape (n_samples,)."""
        probabilities = self.predict_proba(X)   # checks that the classifier is fitted
        return self.classes_[np.argmax(probabilities, axis=1)]

    # ----- model files --------------------------------------------------------------------------

    def _file_parts(self):
        extra, arrays = super()._file_parts()
        extra["params"]["output"] = ("softmax" if self.network_.activation_list[-1] is softmax
                                     else "sigmoid")
        if self.classes_.dtype.kind in "biuf":
            arrays["classes"] = self.classes_
        else:
            values = self.classes_.tolist()
            if self.classes_.dtype.kind not in "UO" or not all(
                    isinstance(v, (str, int, float)) for v in values):
                raise ValueError(f"classes_ of dtype {self.classes_.dtype} cannot be saved; "
                                 "use numeric or string labels")
            extra["classes"] = {"dtype": self.classes_.dtype.str, "values": values}
        return extra, arrays

    @classmethod
    def _restore(cls, network, extra, arrays):
        classifier = cls._restore_parameters(extra)
        classifier.classes_ = _restore_classes(extra, arrays)
        return classifier._restore_state(network, extra, arrays, classifier._n_output())


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor, trained by mlplab's hand-written backprop.

    The output layer is linear (identity), one unit per target, trained on the squared error
    1/2 * sum over targets of (y - y_hat)^2, averaged over the samples (mlplab's `l2_loss`;
    scikit-learn's squared error also divides by the number of targets, so with k targets
    mlplab's loss is k times scikit-learn's). `score` is R^2 (``r2_score``, targets averaged
    uniformly).

    Parameters
    ----------{_SHARED_PARAMETERS}

    Attributes
    ----------{_SHARED_ATTRIBUTES}

    Notes
    -----{_NOTES}

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from mlplab import MLPRegressor
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> MLPRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _KIND = "MLPRegressor"
    _EXTRA_ARRAYS = ()

    def _output_name(self):
        return "identity"

    def _n_output(self):
        return self._n_targets

    def _targets(self, y):
        return y.astype(self.network_.dtype, copy=False).reshape(len(y), -1)   # (N, n_targets)

    def _score_validation(self, output, y):
        from sklearn.metrics import r2_score
        return float(r2_score(y, output if y.ndim == 2 else output[:, 0]))

    def _prepare(self, X, y, reset):
        X, y = validate_data(self, X, y, dtype=np.dtype(self.dtype) if reset
                             else self.network_.dtype, multi_output=True, y_numeric=True,
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)   # one target as a column: 1-D, as scikit-learn
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        if not reset and n_targets != self._n_targets:
            raise ValueError(f"y has {n_targets} targets, but the regressor was fitted with "
                             f"{self._n_targets}")
        self._n_targets, self._y_ndim = n_targets, y.ndim
        return X, y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y) for at most `epochs` epochs (fewer on convergence or early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights >= 0, not all 0: each batch's loss is sum w_i L_i / sum w_i.

        Returns
        -------
        self
        """
        with self._refusal_changes_nothing():
            X, y = self._prepare(X, y, reset=not (self.warm_start and hasattr(self, "network_")))
            plan = self._set_up(X, y, sample_weight, incremental=False)
        return self._train(plan, incremental=False)

    def _partial_fit_available(self):
        return BaseMLP._partial_fit_available(self)

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on (X, y), starting from the current weights and optimizer state.

        Returns
        -------
        self
        """
        with self._refusal_changes_nothing():
            X, y = self._prepare(X, y, reset=not hasattr(self, "network_"))
            plan = self._set_up(X, y, sample_weight, incremental=True)
        return self._train(plan, incremental=True)

    def predict(self, X):
        """Predictions for the samples in X: shape (n_samples,) for one target as fitted on a
        1-D y, else (n_samples, n_targets)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.network_.dtype)
        output = self.network_.forward(X)[-1]
        return output[:, 0] if self._y_ndim == 1 else output

    def _file_parts(self):
        extra, arrays = super()._file_parts()
        extra["y_ndim"] = self._y_ndim
        return extra, arrays

    @classmethod
    def _restore(cls, network, extra, arrays):
        regressor = cls._restore_parameters(extra)
        regressor._y_ndim = extra.get("y_ndim")
        regressor._n_targets = network.n_output
        # one target is always fitted 1-D (a column is raveled), several 2-D
        if regressor._y_ndim != (1 if regressor._n_targets == 1 else 2):
            raise Invalid(f"y_ndim {regressor._y_ndim!r} disagrees with the network's "
                          f"{regressor._n_targets} output(s)")
        return regressor._restore_state(network, extra, arrays, regressor._n_targets)


def _restore_classes(extra, arrays):
    """The classifier's classes from a model file: the array 'classes' or header strings."""
    in_arrays, in_header = "classes" in arrays, "classes" in extra
    if in_arrays == in_header:
        raise Invalid("the classes must be given once, as the array 'classes' or in the header")
    if in_arrays:
        classes = arrays["classes"]
        if classes.dtype.kind not in "biuf" or (classes.dtype.kind == "f"
                                               and not np.all(np.isfinite(classes))):
            raise Invalid(f"array classes has dtype {classes.dtype}; expected numbers")
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
            raise Invalid(f"the classes in the header are malformed ({exc!r})") from None
    if classes.ndim != 1 or len(classes) < 2 or not all(
            a < b for a, b in zip(classes.tolist(), classes.tolist()[1:])):
        raise Invalid("the classes must be at least 2 distinct labels in sorted order")
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



