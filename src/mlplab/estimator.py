"""mlplab's networks as scikit-learn estimators: `MLPClassifier`, `MLPRegressor` and `BaseMLP`.

With `fit`, `partial_fit`, `predict` and `score` (and `predict_proba` for the classifier), an
mlplab network drops into ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``. `BaseMLP`
holds what both share: the parameters, the training around `Network.train` (one epoch per
call, with the solver's optimizer and learning-rate schedule kept between epochs, sample
weights, convergence on the training loss as scikit-learn's ``tol`` and ``n_iter_no_change``,
early stopping, ``warm_start``, ``partial_fit``) and the model files, whose header keeps the
parameters and the fitted state (`STATE_FIELDS`). A subclass says what its targets and outputs
are. README.md maps scikit-learn's MLP parameters to these.

What they leave out: class weights, multi-label targets and sparse input.
"""

import contextlib
import inspect
import math
import numbers
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._model_file import InvalidModelFile, describe, load_network, reading, save_network
from ._progress import Progress
from ._sklearn_names import refuse_renamed_keywords, refuse_renamed_values
from ._validation import check_sample_weight
from .errors import DivergenceError
from .functions import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUTS, smooth_labels, softmax
from .network import Network, build_network
from .optimizers import LBFGS, SCHEDULES, SGD, Adam, flatten, no_improvement, unflatten

__all__ = ["HIDDEN_ACTIVATIONS", "BaseMLP", "MLPClassifier", "MLPRegressor"]

# The output kinds of `functions.OUTPUTS` that make a classifier.
CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")
# scikit-learn's names of the output activations (its ``out_activation_``).
OUT_ACTIVATION_NAMES = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}
# The optimizers' state kept in a model file's arrays "optimizer_{key}": one value per parameter.
OPTIMIZER_ARRAYS = ("velocity", "m", "s")


class BaseMLP(BaseEstimator):
    """The parameters, training and model files of mlplab's estimators; `MLPClassifier`
    documents each parameter."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), tuple],
        "solver": [StrOptions({"sgd", "adam", "lbfgs"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    def __new__(cls, *args, **kwargs):
        # Before __init__ turns scikit-learn's names into a bare "unexpected keyword argument".
        refuse_renamed_keywords(cls.__name__, kwargs)
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # inspect.signature(cls) would show __new__'s (*args, **kwargs): show __init__'s.
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        cls.__signature__ = inspect.Signature(parameters)

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 learning_rate=0.002, learning_rate_schedule="constant", power_t=0.5,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 reg_lambda=1.5e-3, epochs=200, batch_size="auto", shuffle=True, tol=1e-4,
                 n_iter_no_change=10, max_fun=15000, random_state=None, verbose=False,
                 warm_start=False, early_stopping=False, validation_fraction=0.1, patience=10,
                 dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.reg_lambda = reg_lambda
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dtype = dtype

    # ----- what a subclass says -----------------------------------------------------------------
    # _KIND: the model file's kind; _EXTRA_ARRAYS: its arrays beside the parameters;
    # _output_name(): a name of functions.OUTPUTS; _n_output(): units of the output layer;
    # _targets(y): the network's targets for y as the subclass prepared it;
    # _score_validation(output, y): the early-stopping score; _write_targets(extra, arrays)
    # and _read_targets(network, extra, arrays): what it keeps in a model file.

    # ----- parameters beyond what _parameter_constraints can say ---------------------------------

    def set_params(self, **params):
        refuse_renamed_keywords(type(self).__name__, params)
        return super().set_params(**params)

    def _validate_params(self):
        refuse_renamed_values(type(self).__name__, self.get_params(deep=False))
        super()._validate_params()
        if self.n_iter_no_change is None and self.learning_rate_schedule == "adaptive":
            raise InvalidParameterError(
                f"{type(self).__name__}: learning_rate_schedule='adaptive' divides the rate after "
                "n_iter_no_change epochs without improvement, so n_iter_no_change must be a "
                "number, not None")

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

    def _batch_rows(self, n_samples):
        """Rows per step: ``"auto"`` is min(200, n_samples), as scikit-learn; None, all."""
        if self.batch_size is None:
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _new_optimizer(self):
        if self.solver == "sgd":
            return SGD(self.momentum, self.nesterovs_momentum and self.momentum > 0)
        if self.solver == "adam":
            return Adam(self.beta_1, self.beta_2, self.epsilon)
        return LBFGS(self.tol, self.max_fun)

    def _new_schedule(self):
        if self.learning_rate_schedule == "invscaling":
            return SCHEDULES["invscaling"](self.power_t)
        if self.learning_rate_schedule == "adaptive":
            return SCHEDULES["adaptive"](self.tol, self.n_iter_no_change)
        return SCHEDULES["constant"]()

    # ----- training ---------------------------------------------------------------------------

    def _build_network(self, n_features, rng):
        """A new Network for `n_features` inputs, weights from `rng`."""
        return build_network([n_features, *self._hidden_sizes(), self._n_output()],
                             self._activation_pair(), self._output_name(),
                             rng=rng).astype(self.dtype)

    def _start(self, n_features, rng):
        """Set up the fitted state for training from scratch."""
        self.network_ = self._build_network(n_features, rng)
        self.loss_curve_ = []
        self.n_iter_ = self.t_ = 0
        self.best_loss_ = math.inf
        self._rng = rng   # kept so that partial_fit continues the same random stream
        self._restart_optimizer()

    def _restart_optimizer(self):
        """A new optimizer, schedule and convergence count, as at the start of `fit` (also with
        warm_start, as scikit-learn: the best loss to improve on starts again)."""
        self._optimizer, self._schedule = self._new_optimizer(), self._new_schedule()
        self._optimizer_settings = self._settings()
        self._no_improvement = 0
        self.best_loss_ = math.inf

    def _settings(self):
        """What the optimizer and the schedule are made from: when `set_params` changes it,
        `partial_fit` goes on with new ones and `save` keeps no stale state."""
        schedule = self._new_schedule()
        return (repr(self._new_optimizer()), type(schedule).__name__,
                {key: value for key, value in vars(schedule).items()
                 if key not in schedule.state_keys and key != "divided"})

    @contextlib.contextmanager
    def _refusal_changes_nothing(self):
        """``with``: input refused inside leaves every attribute as it was before."""
        before = dict(vars(self))
        try:
            yield
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _train(self, plan, incremental):
        """Train on what `_set_up` planned: one epoch for `partial_fit` (incremental), up to
        `epochs` for `fit`. Training that diverges leaves the last finite state and raises
        `DivergenceError`."""
        X, y, weights, validation = plan
        if self.solver == "lbfgs":
            return self._fit_lbfgs(X, y, weights)
        if incremental:
            self._train_epoch(X, self._targets(y), weights)
            return self
        self._fit_epochs(X, self._targets(y), weights, validation)
        return self

    def _set_up(self, X, y, sample_weight, incremental):
        """Check the sample weights, start (or restart) what training needs, and hold out the
        validation data: the plan (X, y, weights, (X_val, y_val) or None) of `_train`, X of
        shape (n_samples, n_features) and y as the subclass prepared it."""
        weights = check_sample_weight(sample_weight, len(X))
        first = not hasattr(self, "network_") or not (incremental or self.warm_start)
        if first:
            self._start(X.shape[1], _make_rng(self.random_state))
        elif not incremental or self._optimizer_settings != self._settings():
            self._restart_optimizer()   # warm_start: these weights, a new optimizer (scikit-learn)
        if not incremental:
            for name in ("validation_loss_curve_", "validation_scores_", "best_epoch_"):
                self.__dict__.pop(name, None)   # left from an earlier fit with early stopping
        if not self.early_stopping or incremental or self.solver == "lbfgs":
            return X, y, weights, None
        train, held_out = self._validation_split(y, self._rng)
        weights = None if weights is None else weights[train]
        if weights is not None and not weights.any():
            raise ValueError("sample_weight is zero for every sample left to train on after "
                             "the validation split")
        return X[train], y[train], weights, (X[held_out], y[held_out])

    def _fit_epochs(self, X, Y, weights, validation):
        """Up to `epochs` epochs on (X, Y), stopping on convergence or early stopping."""
        if validation is not None:
            X_val, y_val = validation
            Y_val = self._targets(y_val)
            self.validation_loss_curve_, self.validation_scores_ = [], []
            best_loss, self.best_epoch_, best_parameters = math.inf, 0, None
        progress = Progress(self.verbose, desc=type(self).__name__).start(self.epochs)
        converged = False
        try:
            for epoch in range(self.epochs):
                postfix = {"loss": f"{self._train_epoch(X, Y, weights):.4g}"}
                if validation is not None:
                    output = self.network_.forward(X_val)[-1]
                    loss = self.network_.loss_function(Y_val, output) / len(X_val)
                    if not math.isfinite(loss):
                        raise DivergenceError(
                            f"the validation loss became non-finite ({loss}) after epoch "
                            f"{epoch}. Try a lower learning_rate (got {self.learning_rate!r}).")
                    self.validation_loss_curve_.append(loss)
                    self.validation_scores_.append(self._score_validation(output, y_val))
                    postfix["val_loss"] = f"{loss:.4g}"
                    if loss < best_loss:
                        best_loss, self.best_epoch_ = loss, epoch
                        best_parameters = [p.copy() for p in self.network_.parameters()]
                    elif epoch - self.best_epoch_ >= self.patience:
                        converged = True
                elif self._converged():
                    converged = True
                progress.advance(**postfix)
                if converged:
                    break
        finally:
            progress.close()
        if validation is not None:
            self.network_.set_parameters(best_parameters)
        if not converged and self.n_iter_no_change is not None:
            warnings.warn(f"{type(self).__name__}: the {self.solver} solver ran the most epochs "
                          f"(epochs={self.epochs}) and the training loss has not converged "
                          f"(tol={self.tol})", ConvergenceWarning, stacklevel=5)

    def _train_epoch(self, X, Y, weights):
        """One pass over (X, Y); appends to loss_curve_, counts n_iter_ and t_."""
        try:
            history = self.network_.train(
                X, Y, epochs=1, learning_rate=self.learning_rate, reg_lambda=self.reg_lambda,
                batch_size=self._batch_rows(len(X)), shuffle=self.shuffle, seed=self._rng,
                optimizer=self._optimizer, schedule=self._schedule, sample_weight=weights)
        except DivergenceError as exc:
            # Network.train counts this single epoch as epoch 0; say which one it really was.
            exc.epoch = self.n_iter_
            exc.history = {"loss": np.array(self.loss_curve_)}
            raise
        loss = float(history["loss"][0])
        self.loss_curve_.append(loss)
        self.n_iter_ += 1
        self.t_ += len(X)
        self.best_loss_, self._no_improvement = no_improvement(
            loss, self.best_loss_, self._no_improvement, self.tol)
        return loss

    def _converged(self):
        """scikit-learn's rule: more than `n_iter_no_change` epochs in a row without the
        training loss improving on its best by `tol`; with the adaptive schedule, only once its
        learning rate has fallen to 1e-6 (until then it divides the rate by 5 instead)."""
        if self.learning_rate_schedule == "adaptive":
            # The schedule counts the stalls and divides its rate (one count, not two); stop
            # once it divides a rate that was already that small.
            return (self._schedule.divided
                    and self._schedule.rate(self.learning_rate) * self._schedule.factor <= 1e-6)
        if self.n_iter_no_change is None or self._no_improvement <= self.n_iter_no_change:
            return False
        self._no_improvement = 0
        return True

    def _fit_lbfgs(self, X, y, weights):
        history = self.network_.train(X, self._targets(y), epochs=self.epochs, learning_rate=1.0,
                                      reg_lambda=self.reg_lambda, optimizer=self._optimizer,
                                      sample_weight=weights)
        self.loss_curve_.extend(map(float, history["loss"]))
        self.n_iter_ += len(history["loss"])
        self.t_ += len(X) * len(history["loss"])
        self.best_loss_ = min(self.loss_curve_, default=math.inf)
        result = self._optimizer.result
        if result is not None and result.status == 1:   # SciPy's "too many iterations"
            warnings.warn(f"{type(self).__name__}: lbfgs stopped after {result.nit} iterations "
                          f"(epochs={self.epochs}, max_fun={self.max_fun}): {result.message}",
                          ConvergenceWarning, stacklevel=5)
        return self

    def _validation_split(self, y, rng):
        """Training and validation indices, both in the data's original order; stratified for a
        classifier whose every class can be on both sides (`_stratify`)."""
        n_samples = len(y)
        n_validation = math.ceil(self.validation_fraction * n_samples)
        if n_validation >= n_samples:
            raise ValueError(f"early_stopping holds out validation_fraction="
                             f"{self.validation_fraction!r} of {n_samples} samples, which leaves "
                             "none to train on; give more samples or a smaller fraction")
        train, validation = train_test_split(
            np.arange(n_samples), test_size=n_validation,
            stratify=self._stratify(y, n_validation), random_state=int(rng.integers(2**32)))
        return np.sort(train), np.sort(validation)

    def _stratify(self, y, n_validation):
        return None

    def _partial_fit_available(self):
        # As scikit-learn's MLP: held-out data per call would make no sense, nor would a
        # full-batch solver for one epoch. Hidden rather than refused, so that
        # hasattr(estimator, "partial_fit") tells the truth.
        if self.early_stopping:
            raise AttributeError("partial_fit is not available with early_stopping=True; set "
                                 "early_stopping=False or call fit")
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers; "
                                 "solver='lbfgs' is not stochastic")
        return True

    # ----- what scikit-learn users read -----------------------------------------------------------

    @property
    def coefs_(self):
        """Each layer's weights, (n_in, n_out), as scikit-learn's ``coefs_``."""
        return [layer.weights for layer in self.network_.layers]

    @property
    def intercepts_(self):
        """Each layer's biases, (n_out,)."""
        return [layer.biases for layer in self.network_.layers]

    @property
    def n_layers_(self):
        """Layers of units, the input and output ones included."""
        return len(self.network_.layers) + 1

    @property
    def n_outputs_(self):
        """Units of the output layer."""
        return self.network_.n_output

    @property
    def out_activation_(self):
        """The output activation, by scikit-learn's name ("softmax", "logistic", "identity")."""
        return OUT_ACTIVATION_NAMES[self._output_name()]

    @property
    def loss_(self):
        """The last epoch's mean training loss (before the L2 term)."""
        return self.loss_curve_[-1]

    # ----- model files --------------------------------------------------------------------------

    def save(self, path):
        """Write the fitted estimator to a model file (docs/model-files.md; no pickle): the
        network, the parameters, `STATE_FIELDS`, and the optimizer's, the schedule's and the
        random stream's state, so that `partial_fit` after `load` continues exactly."""
        check_is_fitted(self)
        if not isinstance(self.activation, str):
            raise ValueError("activation is a custom (function, derivative) pair, which cannot "
                             "be saved: a model file names its functions instead of storing "
                             f"code; use one of {', '.join(map(repr, HIDDEN_ACTIVATIONS))}")
        built = describe(self.network_)
        hidden_activations = built["activations"][:-1]
        params = {name: _plain(value) for name, value in self.get_params(deep=False).items()}
        # What the network was built with wins over parameters changed since (set_params).
        params.update(hidden_layer_sizes=built["layer_sizes"][1:-1], dtype=built["dtype"],
                      activation=hidden_activations[0] if hidden_activations else self.activation)
        if "output" in params:   # the classifier's: its output activation's name
            params["output"] = built["activations"][-1]
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None   # a RandomState or Generator: its state is kept below
        extra = {"params": params, **_fields_of(self, STATE_FIELDS)}
        if hasattr(self, "best_epoch_"):
            extra["validation"] = _fields_of(self, VALIDATION_FIELDS)
        state, schedule = getattr(self._optimizer, "state", None), self._schedule.state_dict()
        if self._optimizer_settings != self._settings():   # set_params changed the solver
            state = schedule = None
        extra["schedule"] = None if schedule is None else _plain(schedule, infinity=None)
        arrays = {}
        if state is not None:
            extra["optimizer_t"] = int(state["t"])
            arrays = {f"optimizer_{key}": flatten(state[key]) for key in state if key != "t"}
        if self._rng.bit_generator.state["bit_generator"] == "PCG64":
            extra["rng_state"] = self._rng.bit_generator.state   # the same stream after load
        self._write_targets(extra, arrays)
        save_network(self.network_, path, kind=self._KIND, extra=extra, arrays=arrays)

    @classmethod
    def load(cls, path):
        """Read an estimator written by `save`: its predictions equal the saved one's bit for
        bit. A file that is not a valid model is a ValueError, "PATH: not a valid mlplab model
        file: WHAT IS WRONG"."""
        with reading(path):
            network, extra, arrays = load_network(
                path, Network, kind=cls._KIND, extra_arrays=cls._EXTRA_ARRAYS,
                parameter_arrays=[f"optimizer_{key}" for key in OPTIMIZER_ARRAYS])
            try:
                return cls._from_parameters(extra.get("params"))._restore(network, extra, arrays)
            except InvalidModelFile:
                raise
            except Exception as exc:   # whatever else the header's values lead the checks into
                raise InvalidModelFile(f"{type(exc).__name__}: {exc}") from None

    @classmethod
    def _from_parameters(cls, params):
        """The estimator of a model file's parameters, checked as `fit` checks them."""
        if not isinstance(params, dict):
            raise InvalidModelFile("no estimator parameters in the header")
        if set(params) != set(cls._get_param_names()):
            raise InvalidModelFile(f"the parameters are {sorted(params)}, expected "
                                   f"{sorted(cls._get_param_names())}")
        if isinstance(params["hidden_layer_sizes"], list):   # JSON has no tuples
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        estimator = cls(**params)
        try:
            estimator._validate_params()   # scikit-learn's checks of _parameter_constraints
            estimator._hidden_sizes()
        except ValueError as exc:
            raise InvalidModelFile(f"bad parameters ({exc})") from None
        return estimator

    def _restore(self, network, extra, arrays):
        """The fitted state of a model file's parts (as `load_network` returns them), checked
        against itself and against the parameters."""
        self._read_targets(network, extra, arrays)
        self.network_, self._rng = network, np.random.default_rng(self.random_state)
        if "rng_state" in extra:
            try:
                self._rng = np.random.Generator(np.random.PCG64())
                self._rng.bit_generator.state = extra["rng_state"]
            except (TypeError, ValueError, KeyError) as exc:
                raise InvalidModelFile(f"rng_state is malformed ({exc!r})") from None
        self._restart_optimizer()
        self._restore_optimizer(extra, arrays)
        _set_fields(self, STATE_FIELDS, extra, optional=("best_loss", "feature_names_in"))
        if "validation" in extra:
            _set_fields(self, VALIDATION_FIELDS, extra["validation"], where="validation")
        if "best_loss" not in extra:   # files written before it was kept
            self.best_loss_ = min(self.loss_curve_, default=math.inf)
        self.best_loss_ = math.inf if self.best_loss_ is None else float(self.best_loss_)
        if hasattr(self, "feature_names_in_"):
            self.feature_names_in_ = np.array(self.feature_names_in_, dtype=object)
        disagreements = {
            "n_iter is not the length of loss_curve": self.n_iter_ != len(self.loss_curve_),
            "feature_names_in does not name n_features_in features":
                hasattr(self, "feature_names_in_")
                and len(self.feature_names_in_) != self.n_features_in_,
            # partial_fit may have run more epochs since, without validation
            "the validation curves or best_epoch disagree": hasattr(self, "best_epoch_") and not (
                self.best_epoch_ < len(self.validation_loss_curve_)
                == len(self.validation_scores_) <= self.n_iter_)}
        if any(disagreements.values()):
            raise InvalidModelFile("; ".join(k for k, wrong in disagreements.items() if wrong))
        # The network must be exactly what the parameters build.
        hidden = self._hidden_sizes()
        output, loss = OUTPUTS[self._output_name()]
        expected = {"layer_sizes": [self.n_features_in_, *hidden, self._n_output()],
                    "bias": [True] * (len(hidden) + 1),
                    "activations": [self.activation] * len(hidden) + [output],
                    "loss": loss, "dtype": self.dtype, "reg_convention": "mean"}
        wrong = [key for key, value in describe(network).items() if value != expected[key]]
        if wrong:
            raise InvalidModelFile(f"the network does not match the estimator's parameters "
                                   f"({', '.join(wrong)})")
        return self

    def _restore_optimizer(self, extra, arrays):
        """The schedule's and the optimizer's state, which their own load_state_dict check:
        the header's ``schedule`` and ``optimizer_t``, and the arrays ``optimizer_{key}``, one
        value per parameter, for each of the optimizer's state keys but t."""
        solver_state = "optimizer_t" in extra and self.solver != "lbfgs"
        expected = {f"optimizer_{key}" for key in self._optimizer.initial_state([])
                    if key != "t"} if solver_state else set()
        found = {name for name in arrays if name.startswith("optimizer_")}
        if found - expected:
            raise InvalidModelFile(f"unexpected optimizer arrays {sorted(found - expected)}")
        missing = [name.removeprefix("optimizer_") for name in sorted(expected - found)]
        if missing:
            raise InvalidModelFile(f"the optimizer's state {missing[0]!r} is missing")
        schedule = extra.get("schedule")
        try:
            if schedule is not None:   # JSON's null is the infinity of a loss not yet seen
                self._schedule.load_state_dict({key: math.inf if value is None else value
                                                for key, value in schedule.items()}
                                               if isinstance(schedule, dict) else schedule)
            if solver_state:
                parameters = [theta for layer in self.network_.layers
                              for theta in (layer.weights, layer.biases)]
                self._optimizer.load_state_dict({"t": extra["optimizer_t"], **{
                    name.removeprefix("optimizer_"): unflatten(arrays[name], parameters)
                    for name in expected}})
                self._optimizer.check_fits(parameters)
        except ValueError as exc:
            raise InvalidModelFile(f"the optimizer's or schedule's state is malformed "
                                   f"({exc})") from None


# ----- the fitted state in a model file's header -----------------------------------------------

_COUNT, _CURVE, _LOSS, _NAMES = ("a whole number >= 0", "a list of finite numbers",
                                 "a finite number or null", "a list of strings")
_CHECKS = {   # what a field's value must be -> the check of its JSON value
    _COUNT: lambda value: type(value) is int and value >= 0,
    _CURVE: lambda value: type(value) is list and all(map(_is_finite, value)),
    _LOSS: lambda value: value is None or _is_finite(value),
    _NAMES: lambda value: type(value) is list and all(type(v) is str for v in value),
}
# The fitted state in a model file's header ("extra"): field -> (attribute, what its value must
# be). The classes and y_ndim are the subclass's, the optimizer's and schedule's state theirs.
STATE_FIELDS = {
    "n_features_in": ("n_features_in_", _COUNT),
    "n_iter": ("n_iter_", _COUNT),
    "loss_curve": ("loss_curve_", _CURVE),
    "t": ("t_", _COUNT),
    "no_improvement": ("_no_improvement", _COUNT),
    "best_loss": ("best_loss_", _LOSS),   # null: no epoch yet
    "feature_names_in": ("feature_names_in_", _NAMES),   # only when X had column names
}
VALIDATION_FIELDS = {   # with early stopping, in the header's "validation" object
    "loss_curve": ("validation_loss_curve_", _CURVE),
    "scores": ("validation_scores_", _CURVE),
    "best_epoch": ("best_epoch_", _COUNT),
}


def _is_finite(value):
    return type(value) in (int, float) and math.isfinite(value)


def _fields_of(estimator, fields):
    """The JSON values of the `fields` (a table as `STATE_FIELDS`) the estimator has."""
    return {field: _plain(getattr(estimator, attribute), infinity=None)
            for field, (attribute, _) in fields.items() if hasattr(estimator, attribute)}


def _set_fields(estimator, fields, values, where="", optional=()):
    """Check each of `fields` (a table as `STATE_FIELDS`) in `values`, a header's object named
    `where` in errors, and set the estimator's attribute; only the `optional` may be missing."""
    if not isinstance(values, dict):
        raise InvalidModelFile(f"{where} must be an object")
    for field, (attribute, must_be) in fields.items():
        name = f"{where}.{field}" if where else field
        if field not in values:
            if field not in optional:
                raise InvalidModelFile(f"{name} is missing")
        elif not _CHECKS[must_be](values[field]):
            raise InvalidModelFile(f"{name} must be {must_be}, got {values[field]!r:.80}")
        else:
            setattr(estimator, attribute, values[field])


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

    @available_if(BaseMLP._partial_fit_available)
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

    def _write_targets(self, extra, arrays):
        """`classes_` into a model file: numbers as the array 'classes', others in the header."""
        values = self.classes_.tolist()
        if self.classes_.dtype.kind in "biuf":
            arrays["classes"] = self.classes_
        elif self.classes_.dtype.kind in "UO" and all(isinstance(v, (str, int, float))
                                                       for v in values):
            extra["classes"] = {"dtype": self.classes_.dtype.str, "values": values}
        else:
            raise ValueError(f"classes_ of dtype {self.classes_.dtype} cannot be saved; use "
                             "numeric or string labels")

    def _read_targets(self, network, extra, arrays):
        if ("classes" in arrays) == ("classes" in extra):
            raise InvalidModelFile("the classes must be given once, as the array 'classes' or "
                                   "in the header")
        if "classes" in arrays:   # numbers, which load_network has checked
            classes = arrays["classes"]
        else:
            try:
                dtype, values = np.dtype(extra["classes"]["dtype"]), extra["classes"]["values"]
                # checked before allocating: 2^20 classes of at most 1024 characters each
                if dtype.kind not in "UO" or dtype.itemsize > 4096 or not isinstance(
                        values, list) or len(values) > 2**20:
                    raise TypeError(f"dtype {dtype} or number of classes")
                classes = np.empty(len(values), dtype=dtype)
                classes[:] = values
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidModelFile(f"the classes in the header are malformed ({exc!r})") \
                    from None
        if len(classes) < 2 or not all(a < b for a, b in zip(classes.tolist(),
                                                              classes.tolist()[1:])):
            raise InvalidModelFile("the classes must be at least 2 distinct labels in sorted "
                                   "order")
        self.classes_ = classes


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

    @available_if(BaseMLP._partial_fit_available)
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


    def _write_targets(self, extra, arrays):
        extra["y_ndim"] = self._y_ndim

    def _read_targets(self, network, extra, arrays):
        self._y_ndim, self._n_targets = extra.get("y_ndim"), network.n_output
        # one target is always fitted 1-D (a column is raveled), several 2-D
        if self._y_ndim != (1 if self._n_targets == 1 else 2):
            raise InvalidModelFile(f"y_ndim {self._y_ndim!r} disagrees with the network's "
                                   f"{self._n_targets} output(s)")


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


def _make_rng(random_state):
    """The numpy Generator behind one fit, from a `random_state` parameter."""
    if isinstance(random_state, np.random.RandomState):
        # scikit-learn's convention: a RandomState instance is consumed, not copied.
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)   # None, an int, or a Generator (used as is)


def _plain(value, infinity=math.inf):
    """`value` as plain JSON: NumPy's numbers and arrays as Python's, tuples as lists, and
    +infinity as `infinity` (None for the best loss before the first epoch)."""
    if isinstance(value, dict):
        return {key: _plain(v, infinity) for key, v in value.items()}
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(v, infinity) for v in value]
    value = value.item() if isinstance(value, np.generic) else value
    return infinity if isinstance(value, float) and value == math.inf else value
