"""What `MLPClassifier` and `MLPRegressor` share: a `Network` trained as a scikit-learn estimator.

`BaseMLP` holds the parameters both take, and the training around `Network.train`: one epoch
per call, with the solver's optimizer and learning-rate schedule kept between epochs (and in
model files), sample weights, convergence on the training loss (``tol``, ``n_iter_no_change``,
as scikit-learn), early stopping on held-out data, ``warm_start`` and ``partial_fit``. A
subclass says what its targets and outputs are: `_targets`, `_score_validation`, the output
kind and its model-file kind.
"""

import contextlib
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ._model_file import load_network, save_network
from ._progress import Progress
from ._sklearn_names import refuse_renamed_keywords, refuse_renamed_values
from ._validation import check_sample_weight
from .build import build_network
from .errors import DivergenceError
from .functions import ACTIVATIONS, LOSSES, OUTPUTS
from .optimizers import LBFGS, SCHEDULES, SGD, Adam, flatten, unflatten
from .optimizers import parameters as network_parameters

# The hidden activations that have a name (and so can be saved); any other is a pair of callables.
HIDDEN_ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
# Optimizer states kept in a model file, one flat array each (the trainer's layout).
STATE_ARRAYS = ("velocity", "m", "s")
# scikit-learn's names of the output activations (its ``out_activation_``).
OUT_ACTIVATION_NAMES = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}


class BaseMLP(BaseEstimator):
    """The parameters and training of mlplab's estimators; see `MLPClassifier` for each."""

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
    # _KIND: the model file's kind; _output_name(): a name of functions.OUTPUTS;
    # _n_output(): units of the output layer; _targets(y): the network's targets for y as
    # `_prepare_y` gives it; _score_validation(X, y): the early-stopping score.

    # ----- parameters beyond what _parameter_constraints can say ---------------------------------

    def set_params(self, **params):
        refuse_renamed_keywords(type(self).__name__, params)
        return super().set_params(**params)

    def _validate_params(self):
        refuse_renamed_values(type(self).__name__, self.get_params(deep=False))
        super()._validate_params()
        if self.n_iter_no_change is None and self.learning_rate_schedule == "adaptive":
            raise InvalidParameterError(
                f"{type(self).__name__}: learning_rate_schedule='adaptive' divides the rate after n_iter_no_change "
                "epochs without improvement, so n_iter_no_change must be a number, not None")

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
                        best_parameters = _copy_parameters(self.network_)
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
            for layer, (W, b) in zip(self.network_.layers, best_parameters):
                layer.weights, layer.biases = W, b
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
        if loss > self.best_loss_ - self.tol:
            self._no_improvement += 1
        else:
            self._no_improvement = 0
        self.best_loss_ = min(self.best_loss_, loss)
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

    def _file_parts(self):
        """(extra, arrays) of the model file: the parameters, the training state and the
        optimizer's state, for `save`."""
        network = self.network_
        hidden_names = {_name_of(f) for f in network.activation_list[:-1]}
        if not isinstance(self.activation, str) or None in hidden_names:
            raise ValueError("activation is a custom (function, derivative) pair, which cannot "
                             "be saved: a model file names its functions instead of storing "
                             f"code; use one of {', '.join(map(repr, HIDDEN_ACTIVATIONS))}")
        params = {name: _plain(value) for name, value in self.get_params(deep=False).items()}
        # What the network was built with wins over parameters changed since (set_params).
        params.update(hidden_layer_sizes=[layer.weights.shape[1] for layer in network.layers][:-1],
                      dtype=str(network.dtype))
        if hidden_names:
            params["activation"] = hidden_names.pop()
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None   # a RandomState or Generator: its state is kept below
        extra = {"params": params, "n_features_in": int(self.n_features_in_),
                 "n_iter": int(self.n_iter_), "loss_curve": [float(v) for v in self.loss_curve_],
                 "t": int(self.t_), "no_improvement": int(self._no_improvement),
                 "best_loss": (float(self.best_loss_) if math.isfinite(self.best_loss_)
                               else None),
                 "schedule": _plain_state(self._schedule.state_dict())}
        arrays = {}
        if hasattr(self, "feature_names_in_"):
            extra["feature_names_in"] = self.feature_names_in_.tolist()
        if hasattr(self, "best_epoch_"):
            extra["validation"] = {"loss_curve": list(map(float, self.validation_loss_curve_)),
                                   "scores": list(map(float, self.validation_scores_)),
                                   "best_epoch": int(self.best_epoch_)}
        state = getattr(self._optimizer, "state", None)
        if self._optimizer_settings != self._settings():   # set_params changed the solver
            state = extra["schedule"] = None
        if state is not None:
            extra["optimizer_t"] = int(state["t"])
            for name in STATE_ARRAYS:
                if name in state:
                    arrays[f"optimizer_{name}"] = flatten(state[name])
        rng_state = self._rng.bit_generator.state
        if rng_state.get("bit_generator") == "PCG64":
            extra["rng_state"] = rng_state   # partial_fit after load continues the same stream
        return extra, arrays

    def save(self, path):
        """Write the fitted estimator to a model file (.npz arrays + JSON header; no pickle):
        `mlplab._model_file`'s format. Its header holds the parameters, the training state
        (``n_iter_``, ``t_``, the curves, the schedule's and the random stream's state) and its
        arrays the optimizer's state, so that `partial_fit` after `load` continues exactly. A
        custom activation cannot be saved."""
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(self)
        extra, arrays = self._file_parts()
        save_network(self.network_, path, kind=self._KIND, extra=extra, arrays=arrays)

    @classmethod
    def load(cls, path):
        """Read an estimator written by `save`; a malformed file raises ValueError naming why.

        Its predictions equal the saved one's bit for bit."""
        network, extra, arrays = load_network(
            path, kind=cls._KIND, extra_arrays=cls._EXTRA_ARRAYS,
            parameter_arrays=tuple(f"optimizer_{name}" for name in STATE_ARRAYS))
        try:
            return cls._restore(network, extra, arrays)
        except Invalid as exc:
            raise ValueError(f"{path}: not a valid mlplab model file: {exc}") from None
        except Exception as exc:   # whatever else the header's values lead the checks into
            raise ValueError(f"{path}: not a valid mlplab model file: {type(exc).__name__}: "
                             f"{exc}") from None

    @classmethod
    def _restore_parameters(cls, extra):
        """The estimator of a model file's parameters, checked."""
        if not isinstance(extra, dict) or not isinstance(extra.get("params"), dict):
            raise Invalid("no estimator parameters in the header")
        params = dict(extra["params"])
        if set(params) != set(cls._get_param_names()):
            raise Invalid(f"the parameters are {sorted(params)}, expected "
                          f"{sorted(cls._get_param_names())}")
        if isinstance(params["hidden_layer_sizes"], list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        estimator = cls(**params)
        try:
            estimator._validate_params()
            estimator._hidden_sizes()
        except ValueError as exc:
            raise Invalid(f"bad parameters ({exc})") from None
        if not isinstance(estimator.activation, str):
            raise Invalid(f"activation {estimator.activation!r} is not a name")
        return estimator

    def _restore_state(self, network, extra, arrays, n_output):
        """The fitted state of a model file, checked against the parameters (`n_output` units
        expected at the output)."""
        n_features = extra.get("n_features_in")
        n_iter = extra.get("n_iter")
        loss_curve = _numbers(extra.get("loss_curve"), "loss_curve")
        if not _is_count(n_features) or not _is_count(n_iter) or n_iter != len(loss_curve):
            raise Invalid("n_features_in, n_iter or loss_curve is missing or malformed")
        # The network must be exactly what these parameters build.
        hidden = self._hidden_sizes()
        output_name, loss_name = OUTPUTS[self._output_name()]
        expected = ([n_features, *hidden, n_output],
                    [ACTIVATIONS[self.activation][0]] * len(hidden)
                    + [ACTIVATIONS[output_name][0]], LOSSES[loss_name][0], self.dtype)
        found = ([network.n_input] + [layer.weights.shape[1] for layer in network.layers],
                 network.activation_list, network.loss_function, str(network.dtype))
        if (expected[0] != found[0] or any(a is not b for a, b in zip(expected[1], found[1]))
                or expected[2] is not found[2] or expected[3] != found[3]
                or any(layer.biases is None for layer in network.layers)
                or network.reg_convention != "mean"):
            raise Invalid("the network does not match the estimator's parameters")
        self.n_features_in_ = n_features
        self.network_ = network
        self.loss_curve_ = loss_curve
        self.n_iter_ = n_iter
        self.t_ = extra.get("t", 0)
        if not _is_count(self.t_):
            raise Invalid("t is malformed")
        if "feature_names_in" in extra:
            names = extra["feature_names_in"]
            if (not isinstance(names, list) or len(names) != n_features
                    or not all(isinstance(name, str) for name in names)):
                raise Invalid("feature_names_in is malformed")
            self.feature_names_in_ = np.array(names, dtype=object)
        if "validation" in extra:
            self._restore_validation(extra["validation"], n_iter)
        self._restore_training(extra, arrays)
        # after the optimizer's restart, which resets it; older files have no best_loss
        self.best_loss_ = extra.get("best_loss", min(loss_curve, default=None))
        if self.best_loss_ is None:
            self.best_loss_ = math.inf
        if not isinstance(self.best_loss_, (int, float)) or isinstance(self.best_loss_, bool):
            raise Invalid("best_loss is malformed")
        self.best_loss_ = float(self.best_loss_)
        return self

    def _restore_validation(self, validation, n_iter):
        if not isinstance(validation, dict):
            raise Invalid("validation is malformed")
        self.validation_loss_curve_ = _numbers(validation.get("loss_curve"), "validation")
        self.validation_scores_ = _numbers(validation.get("scores"), "validation")
        self.best_epoch_ = validation.get("best_epoch")
        # partial_fit may have run more epochs since, without validation
        n_validated = len(self.validation_loss_curve_)
        if not (_is_count(self.best_epoch_) and self.best_epoch_ < n_validated
                and len(self.validation_scores_) == n_validated <= n_iter):
            raise Invalid("the validation curves or best_epoch are malformed")

    def _restore_training(self, extra, arrays):
        """The random stream, the optimizer's and the schedule's state."""
        self._rng = np.random.default_rng(self.random_state)
        if "rng_state" in extra:
            try:
                self._rng = np.random.Generator(np.random.PCG64())
                self._rng.bit_generator.state = extra["rng_state"]
            except (TypeError, ValueError, KeyError) as exc:
                raise Invalid(f"rng_state is malformed ({exc!r})") from None
        self._restart_optimizer()
        self._no_improvement = extra.get("no_improvement", 0)
        if not _is_count(self._no_improvement):
            raise Invalid("no_improvement is malformed")
        try:
            if extra.get("schedule") is not None:
                self._schedule.load_state_dict(_schedule_state(extra["schedule"]))
            if "optimizer_t" in extra and self.solver != "lbfgs":
                parameters = network_parameters(self.network_)
                state = {"t": extra["optimizer_t"]}
                for name in set(self._optimizer.initial_state([])) - {"t"}:
                    if f"optimizer_{name}" not in arrays:
                        raise Invalid(f"the optimizer's state {name!r} is missing")
                    state[name] = unflatten(arrays.pop(f"optimizer_{name}"), parameters)
                self._optimizer.load_state_dict(state)
                self._optimizer.check_fits(parameters)
        except ValueError as exc:
            raise Invalid(f"the optimizer's or schedule's state is malformed ({exc})") from None
        unexpected = sorted(name for name in arrays if name.startswith("optimizer_"))
        if unexpected:
            raise Invalid(f"unexpected optimizer arrays {unexpected}")


class Invalid(Exception):
    """A model file's content is inconsistent; `load` adds the path."""


def _plain_state(state):
    """A schedule's state as JSON: infinity (a best loss not yet seen) as None."""
    return {key: None if isinstance(value, float) and math.isinf(value) else value
            for key, value in state.items()}


def _schedule_state(state):
    if not isinstance(state, dict):
        raise ValueError("not a dict")
    return {key: math.inf if value is None else value for key, value in state.items()}


def _numbers(values, what):
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values):
        raise Invalid(f"{what} must be a list of finite numbers")
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
