"""Optimizers: how a gradient becomes a step, each rule a few lines beside its equation.

`Network.train` computes, on each batch, g = dJ/dtheta for every parameter theta (each layer's W,
then its b); J's L2 penalty is part of the objective, so g already holds c * W (as PyTorch's
``weight_decay``, not AdamW's decoupled decay). An optimizer turns the parameters and their
gradients into new parameters:

    SGD()                     theta <- theta - lr * g
    SGD(momentum=mu)          v <- mu * v + g;                theta <- theta - lr * v
    SGD(mu, nesterov=True)    v <- mu * v + g;                theta <- theta - lr * (g + mu * v)
    Adam(beta_1, beta_2, eps) t <- t + 1
                              m <- beta_1 * m + (1 - beta_1) * g
                              s <- beta_2 * s + (1 - beta_2) * g^2
                              theta <- theta - lr * m_hat / (sqrt(s_hat) + eps),
                              m_hat = m / (1 - beta_1^t),  s_hat = s / (1 - beta_2^t)

The state (velocities, moments, the step count t) is explicit: ``optimizer.state`` is None
before the first step, then a dict of plain arrays, one per parameter, in the order [W1, b1, W2,
b2, ...] (a layer without biases has no b). `state_dict` and `load_state_dict` copy it out and
in, and model files keep it, so training resumes exactly. An update never changes its inputs:
`update` returns new parameters and a new state, which the network adopts only when the step
is finite (a step that fails leaves the network and the optimizer as they were).

A learning-rate schedule (`Constant`, `InvScaling`, `Adaptive`, `StepDecay`, `Cosine`) sets
each epoch's learning rate; `Network.train(..., schedule=...)` asks it at the start of every
epoch and tells it the epoch's loss at the end. `LBFGS` is not a step rule: it hands the whole
full-batch objective to SciPy's L-BFGS-B.
"""

import math

import numpy as np

from ._validation import check_number
from .errors import DivergenceError


class StepOptimizer:
    """What `SGD` and `Adam` share: their state, and copies of it in and out."""

    state = None

    def initial_state(self, parameters):
        """The state before the first step on `parameters` (a list of arrays)."""
        raise NotImplementedError

    def state_dict(self):
        """A copy of `state` (None before the first step)."""
        return _copy_state(self.state)

    def load_state_dict(self, state):
        """Set `state` to a copy of `state`, checked first to be one of this optimizer's kind
        (a state that fails a check changes nothing)."""
        if state is not None:
            expected = set(self.initial_state([]))
            if not isinstance(state, dict) or set(state) != expected:
                raise ValueError(f"a state of {type(self).__name__} has the keys "
                                 f"{sorted(expected)}, got {state!r:.200}")
            t = state["t"]
            if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t <= 2**53:
                raise ValueError(f"the step count t must be an integer from 0 to 2**53, got "
                                 f"{t!r:.100}")
            if any(not isinstance(arrays, list) for key, arrays in state.items() if key != "t"):
                raise ValueError("each array state must be a list, one array per parameter")
            state = _copy_state(state)
            arrays = self.state_arrays(state)
            if any(a.dtype.kind != "f" or not np.all(np.isfinite(a)) for a in arrays):
                raise ValueError("the state's arrays must hold finite floats")
            self._check_state(state)
        self.state = state

    def _check_state(self, state):
        """What a state of this kind must satisfy beyond its keys (a ValueError if not)."""

    def state_arrays(self, state):
        """Every array of `state`, in one list (all must stay finite)."""
        return [a for key, arrays in state.items() if key != "t" for a in arrays]

    def state_for(self, parameters):
        """`state`, or the initial state before the first step, checked to fit `parameters`."""
        self.check_fits(parameters)
        return self.initial_state(parameters) if self.state is None else self.state

    def check_fits(self, parameters):
        """A ValueError if `state` was made for parameters of other shapes or dtype."""
        for key, arrays in ([] if self.state is None else self.state.items()):
            if key != "t" and (len(arrays) != len(parameters) or any(
                    np.shape(a) != p.shape or np.asarray(a).dtype != p.dtype
                    for a, p in zip(arrays, parameters))):
                raise ValueError(
                    f"{self!r} holds a state for parameters of shapes "
                    f"{[np.shape(a) for a in arrays]}, but the network's are "
                    f"{[p.shape for p in parameters]} ({parameters[0].dtype}); use a new "
                    "optimizer for another network, or call load_state_dict(None)")


class SGD(StepOptimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD`` with
    ``dampening=0``).

    With momentum mu the velocity v accumulates past gradients, v <- mu * v + g (Polyak's heavy
    ball); Nesterov's variant steps along g + mu * v, the gradient plus the velocity's next
    stretch (Sutskever et al., 2013, in the form PyTorch uses). scikit-learn keeps
    v' = -lr * v instead (v' <- mu * v' - lr * g; theta <- theta + v'): the same steps while the
    learning rate is constant, different ones once a schedule changes it.

    ``SGD()`` (momentum 0) is the assignment's plain gradient descent, bit for bit.
    """

    def __init__(self, momentum=0.0, nesterov=False):
        check_number(momentum, "momentum", low=0)
        if momentum >= 1:
            raise ValueError(f"momentum must be < 1, got {momentum!r}")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def initial_state(self, parameters):
        state = {"t": 0}
        if self.momentum:
            state["velocity"] = [np.zeros_like(theta) for theta in parameters]
        return state

    def update(self, parameters, gradients, learning_rate, state):
        """(new parameters, new state) for one step; the arguments are left as they are."""
        if not self.momentum:
            new_parameters = [theta - learning_rate * g for theta, g in zip(parameters, gradients)]
            return new_parameters, {"t": state["t"] + 1}
        new_parameters, velocities = [], []
        for theta, g, v in zip(parameters, gradients, state["velocity"]):
            v = self.momentum * v + g                          # v <- mu v + g
            direction = g + self.momentum * v if self.nesterov else v
            new_parameters.append(theta - learning_rate * direction)
            velocities.append(v)
        return new_parameters, {"t": state["t"] + 1, "velocity": velocities}

    def __repr__(self):
        return f"SGD(momentum={self.momentum!r}, nesterov={self.nesterov!r})"


class Adam(StepOptimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1, with bias correction), as ``torch.optim.Adam``.

    m and s are running means of g and g^2; early on they lean towards their zero start, and
    dividing by 1 - beta^t corrects that. The step is about lr in size for every parameter,
    whatever the scale of its gradient.

    Where epsilon goes: here, as in the paper's Algorithm 1 and in PyTorch, after the bias
    correction, sqrt(s_hat) + eps. scikit-learn's adam folds the correction into the step size,
    lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(s) + eps), which puts eps on the
    uncorrected sqrt(s) (the paper's "epsilon hat" in its section 2): the same steps up to eps's
    size, a little larger for tiny gradients in the first steps.
    """

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            check_number(value, name, low=0)
            if value >= 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        check_number(epsilon, "epsilon", low=0, low_inclusive=False)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def initial_state(self, parameters):
        return {"t": 0, "m": [np.zeros_like(theta) for theta in parameters],
                "s": [np.zeros_like(theta) for theta in parameters]}

    def update(self, parameters, gradients, learning_rate, state):
        """(new parameters, new state) for one step; the arguments are left as they are."""
        beta_1, beta_2, t = self.beta_1, self.beta_2, state["t"] + 1
        new_parameters, ms, ss = [], [], []
        for theta, g, m, s in zip(parameters, gradients, state["m"], state["s"]):
            m = beta_1 * m + (1 - beta_1) * g                  # first moment
            s = beta_2 * s + (1 - beta_2) * g ** 2             # second moment
            m_hat = m / (1 - beta_1 ** t)                      # bias corrections
            s_hat = s / (1 - beta_2 ** t)
            new_parameters.append(theta - learning_rate * m_hat / (np.sqrt(s_hat) + self.epsilon))
            ms.append(m)
            ss.append(s)
        return new_parameters, {"t": t, "m": ms, "s": ss}

    def _check_state(self, state):
        if any(np.any(s < 0) for s in state["s"]):
            raise ValueError("Adam's second moments s are running means of g^2: none can be < 0")

    def __repr__(self):
        return f"Adam(beta_1={self.beta_1!r}, beta_2={self.beta_2!r}, epsilon={self.epsilon!r})"


def _copy_state(state):
    if state is None:
        return None
    return {key: int(value) if key == "t" else [np.array(a) for a in value]
            for key, value in state.items()}


# ----- learning-rate schedules ---------------------------------------------------------------


class Constant:
    """The same learning rate every epoch. Every schedule counts the epochs and samples it has
    seen; its `state_dict` is that progress (not its settings)."""

    state_keys = ("epoch", "samples_seen")

    def __init__(self):
        self.epoch = self.samples_seen = 0

    def rate(self, learning_rate):
        """The learning rate of the next epoch, from the base `learning_rate`."""
        return learning_rate

    def epoch_ended(self, loss, n_samples):
        """Count the epoch just trained on `n_samples` samples, whose mean loss was `loss`."""
        self.epoch += 1
        self.samples_seen += n_samples

    def state_dict(self):
        return {key: getattr(self, key) for key in self.state_keys}

    def load_state_dict(self, state):
        """Continue from `state`, as `state_dict` gave it: counts are whole numbers >= 0."""
        if not isinstance(state, dict) or set(state) != set(self.state_keys):
            raise ValueError(f"a {type(self).__name__} schedule's state has the keys "
                             f"{sorted(self.state_keys)}, got {state!r:.200}")
        for key, value in state.items():
            number = isinstance(value, (int, float, np.integer, np.floating))
            if not number or isinstance(value, bool) or not value >= 0 or (
                    key != "best_loss" and not (value <= 2**53 and int(value) == value)):
                raise ValueError(f"{key} must be a count from 0 to 2**53 (best_loss a number "
                                 f"or inf), got {value!r:.100}")
        for key, value in state.items():
            setattr(self, key, float(value) if key == "best_loss" else int(value))


class InvScaling(Constant):
    """scikit-learn's ``invscaling``: lr_t = lr / (t + 1)^power_t, t the samples seen before
    the epoch (so the first epoch runs at lr, and the rate falls fast on large data sets)."""

    def __init__(self, power_t=0.5):
        super().__init__()
        self.power_t = check_number(power_t, "power_t", low=0)

    def rate(self, learning_rate):
        return learning_rate / (self.samples_seen + 1) ** self.power_t


class StepDecay(Constant):
    """lr * gamma^(epoch // step_size): the rate drops by `gamma` every `step_size` epochs
    (PyTorch's ``StepLR``)."""

    def __init__(self, step_size, gamma=0.1):
        super().__init__()
        self.step_size = check_number(step_size, "step_size", low=1, integer=True)
        self.gamma = check_number(gamma, "gamma", low=0, low_inclusive=False)

    def rate(self, learning_rate):
        return learning_rate * self.gamma ** (self.epoch // self.step_size)


class Cosine(Constant):
    """Cosine annealing from lr to `minimum` over `epochs` epochs, then `minimum` (PyTorch's
    ``CosineAnnealingLR`` without restarts): lr_e = min + (lr - min) * (1 + cos(pi e / E)) / 2."""

    def __init__(self, epochs, minimum=0.0):
        super().__init__()
        self.epochs = check_number(epochs, "epochs", low=1, integer=True)
        self.minimum = check_number(minimum, "minimum", low=0)

    def rate(self, learning_rate):
        progress = min(self.epoch, self.epochs) / self.epochs
        cosine = (1 + math.cos(math.pi * progress)) / 2   # from 1 down to 0
        return self.minimum + (learning_rate - self.minimum) * cosine


class Adaptive(Constant):
    """scikit-learn's ``adaptive``: keep the rate while the training loss improves; after
    more than `n_iter_no_change` epochs in a row without an improvement of at least `tol`,
    divide it by `factor` (5)."""

    def __init__(self, tol=1e-4, n_iter_no_change=10, factor=5.0):
        super().__init__()
        self.tol = check_number(tol, "tol", low=0)
        self.n_iter_no_change = check_number(n_iter_no_change, "n_iter_no_change", low=1,
                                             integer=True)
        self.factor = check_number(factor, "factor", low=1, low_inclusive=False)
        self.divisions, self.best_loss, self.epochs_without_improvement = 0, math.inf, 0
        self.divided = False   # whether the last epoch divided the rate

    state_keys = (*Constant.state_keys, "divisions", "best_loss", "epochs_without_improvement")

    def rate(self, learning_rate):
        try:
            return learning_rate / self.factor ** self.divisions
        except OverflowError:   # divided more than about 440 times by 5: nothing is left
            return 0.0

    def epoch_ended(self, loss, n_samples):
        super().epoch_ended(loss, n_samples)
        self.best_loss, self.epochs_without_improvement = no_improvement(
            loss, self.best_loss, self.epochs_without_improvement, self.tol)
        self.divided = self.epochs_without_improvement > self.n_iter_no_change
        if self.divided:
            self.divisions += 1
            self.epochs_without_improvement = 0


def no_improvement(loss, best_loss, count, tol):
    """scikit-learn's rule for a stalled loss: an epoch improves when its `loss` is below the
    best so far by more than `tol`. Returns the new best and the count of epochs in a row
    that did not improve."""
    return min(best_loss, loss), (count + 1 if loss > best_loss - tol else 0)


SCHEDULES = {"constant": Constant, "invscaling": InvScaling, "adaptive": Adaptive,
             "step": StepDecay, "cosine": Cosine}


def check_choice(optimizer, schedule, batch_size, n_samples):
    """Refuse what `Network.train` cannot take: an optimizer or schedule not of this module,
    or L-BFGS with mini-batches or a schedule."""
    if optimizer is not None and not isinstance(optimizer, (StepOptimizer, LBFGS)):
        raise ValueError("optimizer must be an instance of one of mlplab.optimizers' classes "
                         f"(SGD(), Adam(), LBFGS()) or None, got {optimizer!r:.100}")
    if schedule is not None and not isinstance(schedule, Constant):
        raise ValueError("schedule must be an instance of one of mlplab.optimizers' schedules "
                         "(Constant(), InvScaling(), Adaptive(), StepDecay(...), Cosine(...)) or "
                         f"None, got {schedule!r:.100}")
    if isinstance(optimizer, LBFGS) and (schedule is not None
                                         or batch_size not in (None, n_samples)):
        raise ValueError("LBFGS trains on the full batch with its own line search: give it "
                         f"no batch_size (got {batch_size!r}) and no schedule (got {schedule!r})")


class LBFGS:
    """Full-batch L-BFGS (Nocedal, 1980) through SciPy's ``minimize(method="L-BFGS-B")``, as
    scikit-learn's ``lbfgs`` solver: SciPy gets J (mean data loss + the L2 penalty) and its
    gradient from the network's own backpropagation (`Network.gradients`), on every weight and
    bias flattened into one float64 vector, and chooses each step by its line search.

    ``Network.train(X, Y, epochs, learning_rate, optimizer=LBFGS())`` runs at most `epochs`
    iterations (the learning rate is not used) and stops earlier when the largest component of
    the projected gradient is at most `tol` (SciPy's ``gtol``) or after `max_fun` evaluations
    of J. The history has one entry per iteration; ``result`` holds SciPy's last
    ``OptimizeResult`` (its ``message`` says why it stopped).
    """

    def __init__(self, tol=1e-4, max_fun=15000):
        self.tol = check_number(tol, "tol", low=0)
        self.max_fun = check_number(max_fun, "max_fun", low=1, integer=True)
        self.result = None

    def minimize(self, network, X, Y, max_iter, reg_lambda, validation=None, callback=None,
                 sample_weight=None):
        """Train `network` on all of (X, Y); returns the history as `Network.train` does.

        A J that is not finite at the start raises `DivergenceError` with the parameters
        unchanged; so does any error inside SciPy's run, which would otherwise leave the
        network at one of its line search's trial points."""
        from scipy.optimize import minimize

        history = {"loss": []}
        if validation is not None:
            history["val_loss"] = []
        evaluated = {}
        objective = flat_objective(network, X, Y, reg_lambda, evaluated, sample_weight)

        def iteration_ended(theta):
            if not np.array_equal(theta, evaluated.get("theta")):
                objective(theta)
            epoch = len(history["loss"])
            history["loss"].append(evaluated["loss"])
            if validation is not None:
                history["val_loss"].append(network.loss(*validation))
            if callback is not None:
                callback(epoch, {key: np.array(values) for key, values in history.items()})

        start = flatten(network.parameters(), np.float64)
        try:
            if not math.isfinite(objective(start)[0]):
                raise DivergenceError(f"the objective J is not finite ({evaluated['J']}) at the "
                                      "start of L-BFGS: scale the data or the initial weights")
            self.result = minimize(objective, start, jac=True, method="L-BFGS-B",
                                   callback=iteration_ended,
                                   options={"maxiter": max_iter, "maxfun": self.max_fun,
                                            "gtol": self.tol})
        except BaseException:
            network.set_parameters(unflatten(start, network.parameters()))
            raise
        # The result is the best point SciPy found: finite, as J was finite at the start.
        network.set_parameters(unflatten(self.result.x, network.parameters()))
        return {key: np.array(values) for key, values in history.items()}

    def __repr__(self):
        return f"LBFGS(tol={self.tol!r}, max_fun={self.max_fun!r})"


def flat_objective(network, X, Y, reg_lambda, evaluated=None, sample_weight=None):
    """theta -> (J(theta), dJ/dtheta) for SciPy, theta every parameter of `network` in one
    float64 vector (`flatten(network.parameters())`); calling it sets the network's parameters
    to theta. `evaluated`, a dict, gets the last theta, its J and its mean data loss."""
    evaluated = {} if evaluated is None else evaluated

    def objective(theta):
        network.set_parameters(unflatten(theta, network.parameters()))
        loss, gradients = network.gradients(X, Y, reg_lambda, sample_weight)
        J = loss + network.penalty(reg_lambda, len(X))
        evaluated.update(theta=theta.copy(), J=J, loss=loss)
        if not math.isfinite(J):   # SciPy's line search then steps back
            return math.inf, np.zeros_like(theta)
        return J, flatten([g for pair in gradients for g in pair if g is not None], np.float64)

    return objective


# ----- parameters as one flat vector --------------------------------------------


def flatten(arrays, dtype=None):
    """`arrays` raveled one after another into one new vector (of `dtype`, or theirs)."""
    return np.concatenate([np.ravel(a) for a in arrays]).astype(dtype or arrays[0].dtype,
                                                                 copy=False)


def unflatten(flat, like):
    """New arrays of the shapes and dtypes of the arrays `like`, from the flat vector `flat`."""
    arrays, start = [], 0
    for array in like:
        arrays.append(flat[start:start + array.size].reshape(array.shape).astype(array.dtype))
        start += array.size
    return arrays
