"""Why does my network not learn? Sanity checks with verdicts, before blaming the data.

`diagnose(network, X, Y, learning_rate=None, seed=0)` runs the checks of Karpathy's "A Recipe
for Training Neural Networks" and CS231n's notes on copies of the network (it is never
changed), each a `Finding` with a verdict ("ok", "warning" or "problem"), what was measured and
one sentence on what to do:

- initial loss: the mean loss at initialisation against its chance value (log K for a softmax
  over K classes; else the loss of predicting the targets' mean, by the network's own loss);
- gradient check: backpropagation against central differences (`mlplab.gradcheck`) on a few
  samples, and, when they disagree, each of the network's derivatives against its function;
- overfit 10 samples: a copy trained on 10 samples must bring their loss near zero;
- gradient norms: ||dW^(l)|| of each layer, none vanishing next to the largest;
- saturated units and dead ReLUs: the hidden units that pass (almost) no gradient back;
- learning rate: a range test, the loss after a few full-batch steps at rates on a log grid.

``print(diagnosis)`` shows the table; ``diagnosis.figure()`` draws the range test.
"""

import copy
import math

import numpy as np

from ._validation import check_number
from .errors import DivergenceError
from .functions import cross_entropy_loss, relu, sigmoid, tanh
from .gradcheck import gradcheck

VERDICTS = ("ok", "warning", "problem")

# The range test: rates on a log grid, each from the same start for a few full-batch steps.
RANGE_RATES = tuple(float(r) for r in np.logspace(-4, 1, 11))   # 1e-4, 3.2e-4, ..., 10
RANGE_STEPS = 20
# Initial loss against chance: above these ratios, a warning, then a problem.
INITIAL_WARNING, INITIAL_PROBLEM = 1.5, 3.0
# Gradient check: relative errors (gradcheck's norm ratio); a correct float64 network is ~1e-9,
# a ReLU kink within eps of a sample can give ~1e-6.
GRADCHECK_WARNING, GRADCHECK_PROBLEM = 1e-6, 1e-4
GRADCHECK_SAMPLES = 5
# Naming the culprit: a derivative is wrong when it is this far from its function's slope.
DERIVATIVE_MISMATCH = 1e-3
# gradcheck costs two loss evaluations per parameter: beyond this, only the derivatives.
GRADCHECK_MAX_PARAMETERS = 50_000
# Overfitting: this many samples, full-batch steps in chunks (stopping once it is reached), and
# the loss to reach as a fraction of the smaller of the start and chance (warning: of half).
OVERFIT_SAMPLES, OVERFIT_STEPS, OVERFIT_CHUNK = 10, 500, 50
OVERFIT_OK, OVERFIT_WARNING = 0.1, 0.5
# Gradient flow: a layer's ||dW|| below these fractions of the largest layer's.
VANISHING_WARNING, VANISHING_PROBLEM = 1e-3, 1e-6
# Units: a sigmoid unit is saturated where a(1 - a) < 0.01 (its slope 4% of the top, 0.25),
# tanh where 1 - a^2 < 0.04; a ReLU is dead when it is 0 for every sample. Fractions of a layer:
SATURATION_SLOPE = 0.01
UNITS_WARNING, UNITS_PROBLEM = 0.25, 0.5
# A learning rate this many times below the range test's best is slow.
SLOW_FACTOR = 30
# At most this many samples for the forward passes and the range test (seeded subset).
MAX_SAMPLES = 256


class Finding:
    """One check's result: ``name``, ``verdict`` (one of `VERDICTS`), ``value`` (the measured
    number, or a dict of them; per-layer values are lists, layer 1 first) and ``advice`` (one
    sentence on what to do)."""

    def __init__(self, name, verdict, value, advice):
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
        self.name, self.verdict, self.value, self.advice = name, verdict, value, advice

    def to_dict(self):
        """The finding as plain values (a non-finite number becomes None): JSON-ready."""
        return {"name": self.name, "verdict": self.verdict, "value": _plain(self.value),
                "advice": self.advice}

    def __repr__(self):
        return f"Finding({self.name!r}, {self.verdict!r}, {_shown(self.value)})"


class Diagnosis:
    """What `diagnose` found: ``findings`` (a list of `Finding`, in the order of the checks),
    ``ok`` (no problem among them) and the range test: ``rates`` (R,), ``losses`` (R,) (the
    mean loss after `RANGE_STEPS` steps at each rate, inf where training diverged),
    ``start_loss``, ``learning_rate`` (the one given, or None), ``best_rate`` (lowest loss) and
    ``largest_rate`` (the largest that still lowers the loss, None if none does)."""

    def __init__(self, findings, rates, losses, start_loss, learning_rate, best_rate,
                 largest_rate):
        self.findings = list(findings)
        self.rates, self.losses = np.asarray(rates, dtype=float), np.asarray(losses, dtype=float)
        self.start_loss, self.learning_rate = float(start_loss), learning_rate
        self.best_rate, self.largest_rate = best_rate, largest_rate

    ok = property(lambda self: all(f.verdict != "problem" for f in self.findings),
                  doc="True when no check found a problem (warnings allowed).")

    def __getitem__(self, name):
        """The finding of that name, e.g. ``diagnosis["gradient check"]``."""
        for finding in self.findings:
            if finding.name == name:
                return finding
        raise KeyError(f"no check named {name!r}; the checks are "
                       f"{', '.join(f.name for f in self.findings)}")

    def to_dict(self):
        """Every finding and the range test as plain values: JSON-ready."""
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings],
                "range_test": {"rates": _plain(self.rates), "losses": _plain(self.losses),
                               "steps": RANGE_STEPS, "start_loss": _plain(self.start_loss),
                               "learning_rate": self.learning_rate,
                               "best_rate": self.best_rate,
                               "largest_rate": self.largest_rate}}

    def figure(self):
        """The range test drawn (`mlplab.plot.learning_rate_range`): a matplotlib Figure."""
        from .plot import learning_rate_range
        return learning_rate_range(self.rates, self.losses, self.start_loss,
                                   chosen=self.learning_rate)

    def __str__(self):
        rows = [("check", "verdict", "value", "advice")]
        rows += [(f.name, f.verdict, _shown(f.value), f.advice) for f in self.findings]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
                 for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths) + "  " + "-" * 6)
        verdict = "no problem found" if self.ok else "problems found: " + ", ".join(
            f.name for f in self.findings if f.verdict == "problem")
        return "\n".join(lines + ["", f"Diagnosis: {verdict}."])

    def __repr__(self):
        counts = {v: sum(f.verdict == v for f in self.findings) for v in VERDICTS}
        return (f"Diagnosis(ok={self.ok}, {counts['problem']} problem(s), "
                f"{counts['warning']} warning(s))")


def diagnose(network, X, Y, learning_rate=None, seed=0):
    """Check a network and its data for the usual reasons training fails; change nothing.

    Parameters
    ----------
    network : Network
        Not changed: every check runs on a copy (``copy.deepcopy``).
    X : ndarray of shape (n_samples, n_input)
    Y : ndarray of shape (n_samples, n_output), or (n_samples,) for one output unit; one-hot
        rows for a softmax output.
    learning_rate : float > 0, or None
        The rate you mean to train with: judged by the range test, and used to overfit 10
        samples. None: the range test's best rate is used, and only reported.
    seed : int
        Draws the samples each check uses (the same seed, the same numbers).

    Returns
    -------
    Diagnosis
        ``print`` it for the table; ``.ok``, ``.findings``, ``.to_dict()``, ``.figure()``.

    Bad data or parameters raise the ValueError `Network.fit` raises, naming the problem.
    """
    network.loss(X, Y)   # the network's own checks: weights, shapes, labels against the output
    if learning_rate is not None:
        check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
        learning_rate = float(learning_rate)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    X = np.asarray(X, dtype=network.dtype)
    Y = np.asarray(Y, dtype=network.dtype).reshape(len(X), -1)   # (N,) -> (N, 1), as fit does
    rng = np.random.default_rng(seed)
    net = copy.deepcopy(network)
    # Subsets drawn in a fixed order, so each check's samples depend only on the seed.
    X_range, Y_range = _subset(X, Y, MAX_SAMPLES, rng)
    X_check, Y_check = _subset(X, Y, GRADCHECK_SAMPLES, rng)
    X_tiny, Y_tiny = _subset(X, Y, OVERFIT_SAMPLES, rng)

    with np.errstate(all="ignore"):   # diverging copies overflow on purpose
        rates, losses, start, best, largest, range_finding = _range_test(
            net, X_range, Y_range, learning_rate)
        findings = [_initial_loss(net, X_range, Y_range), _gradient_check(net, X_check, Y_check),
                    _overfit(net, X_tiny, Y_tiny, learning_rate, rates, losses, best),
                    _gradient_norms(net, X_range, Y_range), *_units(net, X_range),
                    range_finding]
    return Diagnosis(findings, rates, losses, start, learning_rate, best, largest)


# ----- the checks -----------------------------------------------------------------------------

def chance_loss(network, Y):
    """The mean loss of knowing nothing: log K for cross-entropy over K > 1 classes (a uniform
    prediction), else the network's loss of predicting every row as the mean row of Y (N, K)."""
    if network.loss_function is cross_entropy_loss and Y.shape[1] > 1:
        return math.log(Y.shape[1])
    constant = np.broadcast_to(Y.mean(axis=0), Y.shape)
    return float(np.sum(network.loss_function(Y, constant))) / len(Y)


def _initial_loss(net, X, Y):
    loss, chance = net.loss(X, Y), chance_loss(net, Y)
    ratio = loss / chance if chance > 0 else (math.inf if loss > 0 else 1.0)
    value = {"loss": loss, "chance": chance, "ratio": ratio}
    if chance == 0:
        return Finding("initial loss", "warning", value, "Every target is the same: there is "
                       "nothing to learn; check that Y holds the labels you meant.")
    if ratio > INITIAL_PROBLEM:
        return Finding("initial loss", "problem", value,
                       f"The loss starts {ratio:.3g}x its chance value: initialise smaller "
                       "weights (e.g. glorot_uniform), scale X, and for regression centre Y.")
    if ratio > INITIAL_WARNING:
        return Finding("initial loss", "warning", value,
                       f"The loss starts {ratio:.3g}x its chance value: the initial weights "
                       "are large or the data unscaled; a smaller initialisation starts nearer.")
    return Finding("initial loss", "ok", value, "The loss starts near chance, as an untrained "
                   "network's should." if ratio > 0.5 else "The loss starts well below chance: "
                   "fine for a trained network, suspicious for a new one.")


def _gradient_check(net, X, Y):
    probe = copy.deepcopy(net).astype(np.float64)   # central differences need float64
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    n_parameters = sum(theta.size for theta in probe.parameters())
    error = gradcheck(probe, X, Y) if n_parameters <= GRADCHECK_MAX_PARAMETERS else None
    wrong = {label: mismatch for label, mismatch in _derivative_mismatches(probe, X, Y)
             if mismatch > DERIVATIVE_MISMATCH}
    value = {"relative_error": error, "samples": len(X), "parameters": n_parameters,
             "wrong_derivatives": wrong}
    if wrong:
        return Finding("gradient check", "problem", value,
                       f"Backpropagation is wrong: {'; '.join(wrong)} does not match its "
                       "function; fix it (a derivative takes z, not f(z)).")
    if error is None:
        return Finding("gradient check", "warning", value,
                       f"Over {GRADCHECK_MAX_PARAMETERS} parameters, so only each derivative "
                       "was checked (they match): run mlplab.gradcheck on a smaller network.")
    if error > GRADCHECK_PROBLEM:
        # Every derivative matches: central differences lose to rounding where the
        # gradients are tiny (saturated units), so this is not proof of a wrong gradient.
        return Finding("gradient check", "warning", value,
                       "Central differences disagree though every derivative matches its "
                       "function: likely rounding on tiny gradients; fix saturated units first.")
    if error > GRADCHECK_WARNING:
        return Finding("gradient check", "warning", value,
                       "Backpropagation agrees only roughly with central differences: fine "
                       "near a ReLU kink, else check the derivatives.")
    return Finding("gradient check", "ok", value, "Backpropagation matches central differences.")


def _derivative_mismatches(net, X, Y):
    """[(label, mismatch)] of each derivative the network uses against a central difference of
    its function at the z of these samples: elementwise activations' d_f(z), and the loss's
    (dL/da^(L), or dL/dz^(L) through the output activation when its derivative is None).

    The mismatch is the largest |analytic - numeric| / (|analytic| + |numeric| + 1e-5) over the
    entries (the 1e-5 absorbs rounding where a derivative is nearly 0); entries at a kink
    (|z| within the step of 0) are skipped, as any one-sided value is right there.
    """
    def mismatch(analytic, numeric, skip=None):
        analytic = np.broadcast_to(np.asarray(analytic, dtype=float), numeric.shape)
        gap = np.abs(analytic - numeric) / (np.abs(analytic) + np.abs(numeric) + 1e-5)
        gap = gap if skip is None else np.where(skip, 0.0, gap)
        return float(np.nan_to_num(gap, nan=1.0).max(initial=0.0))

    activations, zs = net.forward(X, return_z=True)
    found = []
    for l, (f, d_f, z) in enumerate(zip(net.activation_list, net.d_activation_list, zs)):
        if d_f is None:
            continue
        h = 1e-6 * (1 + np.abs(z))   # a step relative to z: rounding stays ~1e-10 of f
        # an elementwise f: nudging every z at once gives each entry's own derivative
        numeric = (f(z + h) - f(z - h)) / (2 * h)
        found.append((f"d_activation_list[{l}] ({_name(d_f)}, layer {l + 1}, against "
                      f"{_name(f)})", mismatch(d_f(z), numeric, skip=np.abs(z) <= h)))
    fused = net.d_activation_list[-1] is None
    at = zs[-1] if fused else activations[-1]

    def loss_at(values):
        return float(np.sum(net.loss_function(Y, net.activation_list[-1](values) if fused
                                              else values)))

    numeric = np.empty_like(at)
    for index in np.ndindex(at.shape):   # a few samples by the output units: a few dozen
        h = 1e-6 * (1 + abs(at[index]))
        nudged = at.copy()
        nudged[index] += h
        plus = loss_at(nudged)
        nudged[index] -= 2 * h
        numeric[index] = (plus - loss_at(nudged)) / (2 * h)
    found.append((f"d_loss_function ({_name(net.d_loss_function)}, against "
                  f"{_name(net.loss_function)}" + (f" of {_name(net.activation_list[-1])})"
                                                   if fused else ")"),
                  mismatch(net.d_loss_function(Y, activations[-1]), numeric)))
    return found


def _overfit(net, X, Y, learning_rate, rates, losses, best):
    """Full-batch steps on a copy, on the tiny batch, until its loss is near zero."""
    chance = chance_loss(net, Y)
    start = net.loss(X, Y)
    target = OVERFIT_OK * min(start, chance) if chance > 0 else OVERFIT_OK * start
    if learning_rate is not None:
        tried = [learning_rate]
    elif best is None:
        tried = []
    else:   # the range test's best, then lower rates should a long run diverge at it
        tried = [r for r in sorted(rates, reverse=True) if r <= best][:3]
    value = {"samples": len(X), "start": start, "end": None, "steps": 0, "learning_rate": None}
    for rate in tried:
        trial, steps, end = copy.deepcopy(net), 0, start
        try:
            while steps < OVERFIT_STEPS and end > target:
                trial.train(X, Y, OVERFIT_CHUNK, rate)
                steps += OVERFIT_CHUNK
                end = trial.loss(X, Y)
        except DivergenceError:
            if learning_rate is None:
                continue
            value.update(end=math.inf, steps=steps, learning_rate=rate)
            return Finding("overfit 10 samples", "problem", value,
                           f"Training on {len(X)} samples diverged at learning rate {rate:g}: "
                           "lower it (see the learning rate check).")
        value.update(end=end, steps=steps, learning_rate=rate)
        break
    end = value["end"]
    if end is None:
        return Finding("overfit 10 samples", "problem", value,
                       "No learning rate trains even 10 samples: check the gradient check and "
                       "the data.")
    if end <= target:
        return Finding("overfit 10 samples", "ok", value,
                       f"It fits {len(X)} samples within {value['steps']} steps, so it can learn.")
    verdict = "warning" if end <= target / OVERFIT_OK * OVERFIT_WARNING else "problem"
    return Finding("overfit 10 samples", verdict, value,
                   f"After {value['steps']} steps the loss on {len(X)} samples is still "
                   f"{end:.3g}, above {target:.3g}: fix the other problems first, else raise "
                   "the learning rate or the capacity.")


def _gradient_norms(net, X, Y):
    _, gradients = net.gradients(X, Y)
    norms = [float(np.linalg.norm(dW)) for dW, _ in gradients]
    largest = max(norms)
    ratios = [n / largest if largest > 0 else 0.0 for n in norms]
    value = {"norms": norms}
    if largest == 0:
        return Finding("gradient norms", "problem", value,
                       "No weight gets any gradient: look for dead or saturated units, or "
                       "targets the output already matches.")
    small = [l + 1 for l, r in enumerate(ratios) if r < VANISHING_WARNING]
    if small:
        verdict = "problem" if min(ratios) < VANISHING_PROBLEM else "warning"
        return Finding("gradient norms", verdict, value,
                       f"The gradient vanishes at layer{'s' * (len(small) > 1)} "
                       f"{', '.join(map(str, small))} (below {VANISHING_WARNING:g} of the "
                       "largest): avoid saturated units, or use ReLU or tanh with a "
                       "glorot/he initialisation.")
    return Finding("gradient norms", "ok", value, "Every layer gets a gradient of its own.")


def _units(net, X):
    """Two findings: saturated sigmoid/tanh units, dead ReLUs, over the hidden layers."""
    activations = net.forward(X)[1:-1]
    kinds = [_kind(f) for f in net.activation_list[:-1]]
    saturated, dead = {}, {}
    for l, (kind, a) in enumerate(zip(kinds, activations), start=1):
        if kind == "sigmoid":   # the slope a(1 - a), or 1 - a^2 for tanh, nearly flat
            saturated[l] = float(np.mean(a * (1 - a) < SATURATION_SLOPE))
        elif kind == "tanh":
            saturated[l] = float(np.mean(1 - a * a < 4 * SATURATION_SLOPE))
        elif kind == "relu":   # a unit never active on these samples passes no gradient
            dead[l] = float(np.mean(np.all(a == 0, axis=0)))
    return [
        _units_finding("saturated units", saturated, "no sigmoid or tanh hidden layer",
                       "of the units' outputs sit where the slope is nearly 0: scale X and "
                       "initialise smaller weights (glorot_uniform)."),
        _units_finding("dead ReLUs", dead, "no ReLU hidden layer",
                       "of the ReLUs output 0 for every sample: start the biases at 0 or "
                       "slightly positive, lower the learning rate, or try tanh.")]


def _units_finding(name, fractions, none, advice):
    value = {f"layer {l}": fraction for l, fraction in fractions.items()}
    if not fractions:
        return Finding(name, "ok", None, f"Nothing to check: {none}.")
    l, worst = max(fractions.items(), key=lambda item: item[1])
    if worst > UNITS_WARNING:
        return Finding(name, "problem" if worst > UNITS_PROBLEM else "warning", value,
                       f"In layer {l}, {worst:.0%} {advice}")
    return Finding(name, "ok", value, "Most units pass gradient back.")


def _range_test(net, X, Y, learning_rate):
    """Loss after `RANGE_STEPS` full-batch steps from the same start at each rate (and at the
    given one): (rates, losses, start loss, best rate, largest rate lowering it, finding)."""
    rates = sorted(set(RANGE_RATES) | ({learning_rate} if learning_rate else set()))
    start = net.loss(X, Y)
    losses = []
    for rate in rates:
        trial = copy.deepcopy(net)
        try:
            trial.train(X, Y, RANGE_STEPS, rate)
            losses.append(trial.loss(X, Y))
        except DivergenceError:
            losses.append(math.inf)
    losses = np.array(losses, dtype=float)
    lowers = np.isfinite(losses) & (losses < start * (1 - 1e-9))
    best = largest = None
    if lowers.any():
        i = int(np.nanargmin(np.where(lowers, losses, np.nan)))
        best = rates[i]
        while i + 1 < len(rates) and lowers[i + 1]:   # up from the best while it still helps
            i += 1
        largest = rates[i]
    value = {"learning_rate": learning_rate, "best": best, "largest": largest,
             "loss": None if learning_rate is None else float(losses[rates.index(learning_rate)])}
    finding = _range_finding(value, learning_rate, best, largest, start, rates, losses)
    return np.array(rates), losses, start, best, largest, finding


def _range_finding(value, rate, best, largest, start, rates, losses):
    name = "learning rate"
    if best is None:
        return Finding(name, "problem", value,
                       f"No rate from {rates[0]:g} to {rates[-1]:g} lowers the loss in "
                       f"{RANGE_STEPS} steps: check the gradient check and the data.")
    found = f"rates up to {largest:g} lower the loss in {RANGE_STEPS} steps, {best:g} the most"
    if rate is None:
        return Finding(name, "ok", value, f"The range test: {found}; train with a rate near "
                       f"{best:g}.")
    own = losses[list(rates).index(rate)]
    if not math.isfinite(own):
        return Finding(name, "problem", value, f"Training diverges at {rate:g}; {found}: use "
                       "one of those.")
    if rate > largest or own >= start:
        return Finding(name, "problem", value, f"{rate:g} is too high, the loss does not fall; "
                       f"{found}: use one of those.")
    if rate * SLOW_FACTOR < best:
        return Finding(name, "warning", value, f"{rate:g} is slow: {found}; try one near "
                       f"{best:g}.")
    return Finding(name, "ok", value, f"{rate:g} lowers the loss; {found}.")


# ----- helpers --------------------------------------------------------------------------------

def _subset(X, Y, size, rng):
    """At most `size` rows of (X, Y), drawn without replacement from `rng` (all, in order, if
    there are no more)."""
    if len(X) <= size:
        return X, Y
    rows = np.sort(rng.choice(len(X), size, replace=False))
    return X[rows], Y[rows]


def _kind(f):
    """"sigmoid", "tanh" or "relu" for mlplab's function or one of that name, else None."""
    for kind, function in (("sigmoid", sigmoid), ("tanh", tanh), ("relu", relu)):
        if f is function or getattr(f, "__name__", None) == kind:
            return kind
    return None


def _name(f):
    return getattr(f, "__name__", repr(f))


def _plain(value):
    """Numbers, arrays, lists and dicts as JSON's values; inf and nan become None."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _shown(value):
    """A value for the table: numbers to 3 digits, a dict as key=value pairs."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_shown(v)}" for key, v in value.items()
                         if not isinstance(v, dict) and v is not None) or "-"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}"
    return str(value)


__all__ = ["Diagnosis", "Finding", "VERDICTS", "chance_loss", "diagnose"]
