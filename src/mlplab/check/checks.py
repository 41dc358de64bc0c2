"""The checks of `mlplab check`: what each asks a student's code, and its verdict.

A check (`Check`) is one unit of the assignment with a function that asks the student's process
for values through a `Context` and returns a `Verdict`: passed or not, what was expected and
what came back (with the difference), a hint where a known mistake matches, and a convention
where the skeleton leaves a choice open. Every verdict is computed here, from values checked
here, against mlplab's own functions and its readable `Network` (``engine=False``). Verdicts
rest on behaviour, not form: a bias that is zero and stays zero is no bias, a loss written for
one sample is summed over the samples, parameters are read where the network keeps them.

Inputs are drawn anew for each run (from the run's seed), but for the extremes that test
numerical stability and for Q1.1's given network, so right answers cannot be written in
advance. Every value from the student's process is untrusted: an answer of an unexpected form
is that check's failure.
"""

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from .. import assignment
from .. import functions as ref
from ..layer import Layer
from ..network import Network
from .text import clean, code

NAMES = assignment.NAMES
RTOL = 1e-8
H = 1e-6   # the step of central differences


@dataclass
class Verdict:
    passed: bool
    expected: str = ""
    got: str = ""
    hint: str = ""
    differs: str = ""      # what differs between expected and got, in words
    convention: str = ""   # a choice the skeleton leaves open, named instead of failed
    notes: list = field(default_factory=list)   # what the checker did: stand-ins, the method
    mistake: str = ""      # the diagnosed mistake in a few words, for a class's summary

    def __post_init__(self):
        self.passed = bool(self.passed)   # a NumPy comparison gives np.bool_


@dataclass(frozen=True)
class Check:
    name: str
    part: str        # the assignment's part: Q2.1 ... Q2.5
    number: str      # Gradescope's test number
    points: float    # by default
    needs: tuple     # the homework's names it runs; a borrowed Layer or Network scores 0
    run: object      # Context -> Verdict


# ----- talking to the student's process -----------------------------------------------------

class Context:
    """One submission's answers so far: asks the student's process (a `sandbox.Student`),
    caches what several checks share, and keeps what the verdicts depend on."""

    def __init__(self, student, seed):
        self.student = student
        self.rng = np.random.default_rng(seed)
        self.verdicts = {}
        self.modes = {}        # function -> "batch" or "rows", how its check accepted it
        self.evidence = {}     # name -> a call into a forbidden module seen while it ran
        self.tried = set()     # forbidden modules the student's code tried to import
        self.hung = set()      # functions and methods that hung or ended the process: not
        # asked again (a network takes mlplab's function in their place)
        self.cache = {}
        self.load_error = None
        self._imports(student.load if isinstance(student.load, dict) else {})
        try:
            self.names, self.defined_names, self.imported, self.notes = _load_report(
                student.load)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.names, self.defined_names, self.imported = {}, [], []
            self.notes = []
            self.load_error = clean(student.load.get("error") if isinstance(
                student.load, dict) and "error" in student.load else f"({exc})")

    def defined(self, name):
        return name in self.names

    def borrowed(self, name):
        """Why `name` is not the student's own ('' if it is)."""
        return self.names.get(name, {}).get("borrowed") or self.evidence.get(name, "")

    def source(self, name):
        """Where a network's function comes from: the homework, or mlplab's in its place (for
        a name the file lacks or borrowed, or a function that hung)."""
        return "homework" if (self.defined(name) and not self.borrowed(name)
                              and name not in self.hung) else "mlplab"

    def once(self, key, ask):
        if key not in self.cache:
            self.cache[key] = ask()
        return self.cache[key]

    def call(self, name, *args, source="homework"):
        if name in self.hung and source == "homework":
            return self._skipped(name)
        answer = self.student.ask({"op": "call", "name": name, "source": source,
                                   "args": [np.asarray(a, dtype=float) for a in args]})
        self._imports(answer)
        if _overran(answer):
            self.hung.add(name)
        if "value" in answer:
            value = answer["value"]
            if not isinstance(value, dict):
                return {"error": "an answer of the wrong form", "warnings": []}
            self._record(value.get("calls"))
            return {**answer, "value": value.get("result")}
        return answer

    def ask(self, request, seconds=None):
        methods = {f"Network.{method}" for method, _ in request.get("steps", [])}
        if methods & self.hung:
            return self._skipped(sorted(methods & self.hung)[0])
        answer = self.student.ask(request, seconds)
        self._imports(answer)
        if _overran(answer):
            self.hung |= methods
        if isinstance(answer.get("value"), dict):
            self._record(answer["value"].get("calls"))
        return answer

    def _imports(self, answer):
        """The forbidden imports the student's code has tried so far: each attributed to the
        homework's name that tried it (or to the file, at its top level)."""
        for hit in answer.get("imports", [])[:20]:
            if isinstance(hit, dict):
                self.tried.add(clean(str(hit.get("target", "?")))[:100])
                self._record(hit)

    @staticmethod
    def _skipped(name):
        return {"error": f"not run: {name} hung or ended its process in an earlier check",
                "warnings": []}

    def _record(self, hit):
        """A call into a forbidden module, attributed to the homework's name that made it."""
        if not isinstance(hit, dict) or not isinstance(hit.get("callers"), list):
            return
        target = clean(str(hit.get("target", "?")))[:200]
        for caller in hit["callers"]:
            owner = str(caller).split(".")[0]
            if owner in NAMES:
                self.evidence.setdefault(owner, f"calls {target} (from {clean(caller)[:100]})")
                return

    def missing(self, name):
        """The verdict on a name the file does not define (with the near names it does)."""
        near = near_names(name, self.defined_names)
        hint = f"{name} is not defined in the file"
        if near:
            hint += f"; did you mean {', '.join(code(n) for n in near)}? The skeleton names " \
                    f"it {code(name)}"
        return Verdict(False, f"a definition of {name}", "none", hint,
                       mistake=f"{name} missing or misnamed")


def _overran(answer):
    """Whether a request hung or ended the student's process (then it is not asked again)."""
    return answer.get("stopped", False) or "ran longer than" in answer.get("error", "")


def _load_report(load):
    """The load answer as (names, defined, imported, notes), every part checked."""
    value = load["value"]
    names = {}
    for name, entry in value["names"].items():
        if name in NAMES and isinstance(entry, dict):
            kind, borrowed = entry.get("kind"), entry.get("borrowed")
            if kind in ("function", "class"):
                names[name] = {"kind": kind,
                               "borrowed": clean(borrowed)[:300] if isinstance(borrowed, str)
                               else ""}
    texts = lambda key, limit: [clean(item)[:300] for item in value[key][:limit]  # noqa: E731
                                if isinstance(item, str)]
    return names, texts("defined", 2000), texts("imported", 50), texts("notes", 200)


# Older skeletons' and common spellings of the homework's names.
_ALIASES = {
    "sigmoid": ("activate", "activation", "logistic", "sigmoid_activation", "sig"),
    "d_sigmoid": ("sigmoid_derivative", "sigmoid_prime", "sigmoid_grad", "derivative_sigmoid",
                  "sigmoid_deriv", "d_activate", "activate_derivative"),
    "softmax": ("soft_max", "softmax_activation"),
    "l2_loss": ("l2", "mse", "mse_loss", "squared_loss", "loss", "l2loss"),
    "d_l2_loss": ("l2_loss_derivative", "d_l2", "l2_derivative", "d_mse", "d_loss",
                  "mse_derivative", "loss_derivative"),
    "cross_entropy_loss": ("cross_entropy", "ce_loss", "crossentropy",
                           "categorical_cross_entropy"),
    "d_cross_entropy_softmax": ("d_cross_entropy", "d_softmax_cross_entropy", "d_ce",
                                "cross_entropy_derivative", "d_cross_entropy_loss",
                                "softmax_cross_entropy_derivative"),
    "Layer": ("layer", "DenseLayer", "Dense", "FullyConnected", "LinearLayer"),
    "Network": ("network", "NeuralNetwork", "NeuralNet", "Net", "Model", "MLP", "NN"),
}


def near_names(name, defined):
    """Names the file defines that may be `name` misspelled (camelCase, no underscore, an older
    skeleton's name), at most three."""
    squash = lambda text: re.sub(r"[_\W]", "", text).lower()   # noqa: E731
    found = [n for n in defined if squash(n) == squash(name) and n != name]
    found += [n for n in defined if n in _ALIASES.get(name, ()) and n not in found]
    found += [n for n in difflib.get_close_matches(name, defined, n=3, cutoff=0.75)
              if n not in found and n != name]
    return found[:3]


# ----- reading answers ------------------------------------------------------------------------

def _result(answer):
    """(array or None, type name, error text or '') of a call's answer."""
    if "error" in answer:
        return None, "", answer["error"]
    value = answer.get("value")
    if not isinstance(value, dict):
        return None, "", "an answer of the wrong form"
    array = value.get("array")
    kind = clean(str(value.get("type", "?")))[:60]
    if isinstance(array, np.ndarray):
        return array, kind, ""
    shown = value.get("repr")
    return None, kind, (f"a {kind}: {clean(shown)[:100]}" if isinstance(shown, str) else
                        f"{'None' if kind == 'NoneType' else 'a ' + kind}, not numbers")


def _close(got, want, rtol=RTOL):
    return (got is not None and np.shape(got) == np.shape(want)
            and bool(np.all(np.isfinite(got)))
            and np.allclose(got, want, rtol=rtol, atol=rtol * max(1.0, np.max(np.abs(want)))))


def _show(value):
    if value is None:
        return "nothing usable"
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return f"{float(value):.10g}"
    return np.array2string(value, precision=6, threshold=12, max_line_width=72)


def difference(want, got):
    """What differs between `want` and `got`, in words (for a failure's line)."""
    if got is None:
        return ""
    want, got = np.asarray(want, dtype=float), np.asarray(got, dtype=float)
    if want.shape != got.shape:
        return f"shape {got.shape} where {want.shape} was expected"
    bad = ~np.isfinite(got)
    if np.any(bad):
        return f"{int(np.sum(bad))} of {got.size} values not finite"
    gap = np.abs(got - want)
    where = np.unravel_index(np.argmax(gap), gap.shape) if gap.ndim else ()
    worst = float(np.max(gap)) if gap.size else 0.0
    if want.ndim == 0:
        scale = max(abs(float(want)), 1e-300)
        digits = max(1, int(-np.floor(np.log10(worst / scale))) + 1) if worst else 17
        return (f"{float(got)!r} against {float(want)!r}: they differ by {worst:.3g}, "
                f"from about the {_ordinal(digits)} significant digit")
    return (f"the largest difference is {worst:.3g}, at index {tuple(int(i) for i in where)}"
            f" ({float(got[where])!r} against {float(want[where])!r})")


def _ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _warned(answer):
    return [w for w in answer.get("warnings", [])
            if any(word in w for word in ("overflow", "divide", "invalid"))]


# ----- Q2.2: the functions ------------------------------------------------------------------

def _evaluate(ctx, name, args, combine):
    """The student's `name` on `args` as its check accepted it (a batch, or row by row put
    together by `combine`); (value, error text)."""
    if ctx.modes.get(name) == "rows":
        rows = [_result(ctx.call(name, *(a[i] for a in args))) for i in range(len(args[0]))]
        if any(r[0] is None for r in rows):
            return None, next(r[2] for r in rows if r[0] is None)
        try:
            return combine([r[0] for r in rows]), ""
        except ValueError as exc:
            return None, str(exc)
    got, _, error = _result(ctx.call(name, *args))
    return got, error


def _stack(rows):
    return np.stack(rows)


def _total(rows):
    return np.array(float(np.sum([np.sum(r) for r in rows])))


def _function_check(ctx, name, args, want, hints=(), scalar=False, not_finite=""):
    """`name` on `args` against `want`; `hints`: [(text, alternative value)]. A function
    written for one sample (a 1-D row) at a time, as the skeleton allows, is also asked row by
    row: for a loss (`scalar`) each row must give a number, and their sum is compared."""
    if not ctx.defined(name):
        return ctx.missing(name)
    answer = ctx.call(name, *args)
    got, kind, error = _result(answer)
    if scalar and got is not None and got.size == 1:
        got = got.reshape(())   # a loss as a (1, 1) array is the same number
    if _close(got, want):
        ctx.modes[name] = "batch"
        warned = _warned(answer)
        return Verdict(True, _show(want), _show(got), convention=(
            f"right values, but NumPy warned ({warned[0]})" if warned else ""))
    hint = next((text for text, alternative in hints if got is not None
                 and _close(got, alternative, 1e-6)), "")
    # One sample at a time, as the skeleton's fit calls it?
    rows = [_result(ctx.call(name, *(a[i] for a in args)))[0] for i in range(len(args[0]))]
    if all(r is not None for r in rows) and all(r.shape == rows[0].shape for r in rows):
        together = (_total(rows) if all(r.size == 1 for r in rows) else None) if scalar \
            else np.stack(rows)
        if together is not None and _close(together, want):
            ctx.modes[name] = "rows"
            on_batch = "it raises" if got is None else \
                hint.split(":")[0] if hint else "other values"
            return Verdict(True, _show(want), _show(together), convention=(
                "computes one sample (a 1-D row) at a time; on a batch of rows "
                f"{'' if got is None else 'it gives '}{on_batch}, so a network must call it "
                "row by row"))
    if got is None and "error" not in answer:   # it returned, but not numbers
        return Verdict(False, _show(want), error, f"it returns {kind}, not numbers: return a "
                       "NumPy array" + (" or a float" if scalar else ""),
                       mistake=f"{name} returns no numbers")
    if got is None:
        return Verdict(False, _show(want), error or "nothing usable", _error_hint(error),
                       mistake=_failure_kind(name, error))
    if not hint and scalar and got.ndim > 0 and np.isclose(np.sum(got), want, rtol=1e-6):
        hint = (f"it returns an array of shape {got.shape}, the loss of each element; the loss "
                "is one number, their sum")
    if not hint and not np.all(np.isfinite(got)):
        hint = not_finite or ("not finite for extreme inputs: compute it in a way that cannot "
                              "overflow")
    if not hint and _warned(answer):
        hint = f"NumPy warned: {_warned(answer)[0]}"
    return Verdict(False, _show(want), _show(got), hint, difference(want, got),
                   mistake=_mistake(name, hint))


def _failure_kind(name, error):
    """A failure without a value, in a few words: it hung, ended its process, or raised."""
    if "ran longer than" in error or "hung" in error:
        return f"{name} hangs"
    if "ended its process" in error or "not reached" in error:
        return f"{name} ends its process"
    return f"{name} raises" if error else ""


def _mistake(name, hint):
    return f"{name}: {hint.split(':')[0]}" if hint else f"{name}: wrong values"


def _error_hint(error):
    if "not defined" in error or "NameError" in error:
        return "it uses a name the file does not define (run the file top to bottom to see)"
    return ""


def check_sigmoid(ctx):
    Z = np.vstack([[-1000.0, -20.0, -1.0], [0.0, 0.5, 3.0], [20.0, 709.0, 1000.0],
                   ctx.rng.normal(0, 4, size=(1, 3))])
    return _function_check(ctx, "sigmoid", [Z], ref.sigmoid(Z), hints=[
        ("the sign in the exponent: sigma(x) = 1 / (1 + exp(-x))", 1 - ref.sigmoid(Z))],
        not_finite="not finite at large |x|, where exp overflows: use exp(-|x|), which never "
                   "does (1 / (1 + e) for x >= 0, e / (1 + e) below), or clip x")


def _derivative_check(ctx, name, args, want, numeric, hints):
    """A derivative against mlplab's; `numeric()` gives central differences of the student's
    own function (its check's way), shown in the verdict and used for a hint."""
    if not ctx.defined(name):
        return ctx.missing(name)
    answer = ctx.call(name, *args)
    got, _, error = _result(answer)
    if _close(got, want, 1e-7):
        return Verdict(True, _show(want), _show(got))
    if got is None:
        return Verdict(False, _show(want), error, _error_hint(error),
                       mistake=_failure_kind(name, error))
    hint = next((text for text, alternative in hints if _close(got, alternative, 1e-6)), "")
    if not hint:
        own, function = numeric()
        if own is not None and _close(got, own, 1e-4):
            hint = (f"it matches central differences of your {function}, which itself differs "
                    f"from the assignment's: see {function}")
    return Verdict(False, _show(want), _show(got), hint, difference(want, got),
                   mistake=_mistake(name, hint))


def check_d_sigmoid(ctx):
    z = ctx.rng.normal(0, 2, size=(3, 3))

    def numeric():
        up, error = _evaluate(ctx, "sigmoid", [z + H], _stack)
        down, _ = _evaluate(ctx, "sigmoid", [z - H], _stack)
        return (None if error or down is None else (up - down) / (2 * H)), "sigmoid"

    want = ref.d_sigmoid(z)
    return _derivative_check(ctx, "d_sigmoid", [z], want, numeric, [
        ("d_sigmoid is written in terms of the activation a = sigmoid(z), but the network "
         "calls it with z: take z and compute sigmoid(z) inside", z * (1 - z)),
        ("the sign is flipped: sigma'(z) = sigma(z) (1 - sigma(z))", -want),
        ("twice the derivative: sigma'(z) = sigma(z) (1 - sigma(z))", 2 * want),
        ("it returns sigmoid(z), not its derivative", ref.sigmoid(z))])


def check_softmax(ctx):
    X = np.vstack([[1000.0, 1000.0, 1000.0], [-1000.0, 0.0, 1000.0], [0.0, 0.0, 0.0],
                   ctx.rng.normal(0, 3, size=(2, 3))])
    everything = np.exp(X - X.max()) / np.exp(X - X.max()).sum()
    return _function_check(ctx, "softmax", [X], ref.softmax(X), hints=[
        ("normalised down the columns (axis 0) instead of along each row: use axis=-1 (or 1) "
         "with keepdims=True", _columns_softmax(X)),
        ("normalised over the whole batch, not row by row: sum along axis=-1 with "
         "keepdims=True", everything)],
        not_finite="not finite for large inputs, where exp overflows: subtract each row's "
                   "maximum first (softmax does not change)")


def _columns_softmax(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def check_l2_loss(ctx):
    Y, P = ctx.rng.uniform(size=(4, 3)), ctx.rng.uniform(size=(4, 3))
    want = ref.l2_loss(Y, P)
    return _function_check(ctx, "l2_loss", [Y, P], np.array(want), scalar=True, hints=[
        ("the 1/2 is missing: L = 1/2 (y - y_hat)^2", np.array(2 * want)),
        ("it averages over the samples; the skeleton's fit divides by n_sample, so the loss "
         "must be the sum", np.array(want / len(Y))),
        ("it averages over every element; the loss is the sum", np.array(want / Y.size)),
        ("the square root is taken: L = 1/2 (y - y_hat)^2, no root",
         np.array(np.sqrt(2 * want) / 2))])


def _loss_sum(ctx, name, Y, P):
    """The sum of the student's loss over the samples of (Y, P), however it is written."""
    value, error = _evaluate(ctx, name, [Y, P], _total)
    return None if value is None else float(np.sum(value))


def _directional(ctx, loss, Y, at):
    """Central differences of the sum of the student's `loss` over the samples, from `at(-H)`
    to `at(+H)`: the derivative along the direction `at` moves in."""
    up, down = _loss_sum(ctx, loss, Y, at(H)), _loss_sum(ctx, loss, Y, at(-H))
    if up is None or down is None:
        return None
    return (up - down) / (2 * H)


def _agrees(ctx, name, args, along, direction):
    """The student's `name` on `args` if, along `direction`, it gives `along`; else None."""
    got = _result(ctx.call(name, *args))[0]
    if along is None or got is None or got.shape != direction.shape:
        return None
    return got if np.isclose(np.sum(got * direction), along, rtol=1e-4) else None


def check_d_l2_loss(ctx):
    Y, P = ctx.rng.uniform(size=(4, 3)), ctx.rng.uniform(size=(4, 3))
    direction = ctx.rng.normal(size=P.shape)
    want = ref.d_l2_loss(Y, P)

    def numeric():   # the student's derivative, if central differences of its loss agree
        along = _directional(ctx, "l2_loss", Y, lambda h: P + h * direction)
        return _agrees(ctx, "d_l2_loss", [Y, P], along, direction), "l2_loss"

    return _derivative_check(ctx, "d_l2_loss", [Y, P], want, numeric, [
        ("the sign is flipped: dL/dy_hat = y_hat - y (are the arguments swapped?)", -want),
        ("twice the derivative: the 1/2 of L = 1/2 (y - y_hat)^2 cancels the 2", 2 * want),
        ("divided by the number of samples: fit takes the mean, the derivative is per sample",
         want / len(Y))])


def check_cross_entropy_loss(ctx):
    if not ctx.defined("cross_entropy_loss"):
        return ctx.missing("cross_entropy_loss")
    classes = ctx.rng.integers(0, 3, size=4)
    Y = np.eye(3)[classes]
    P = ref.softmax(ctx.rng.normal(0, 1, size=(4, 3)))
    P[np.arange(4), (classes + 1) % 3] = 0.0   # a probability of 0 where the target is 0
    P /= P.sum(axis=1, keepdims=True)
    want = ref.cross_entropy_loss(Y, P)
    verdict = _function_check(ctx, "cross_entropy_loss", [Y, P], np.array(want), scalar=True,
                              hints=[
        ("it averages over the samples; the skeleton's fit divides by n_sample, so the loss "
         "must be the sum", np.array(want / len(Y))),
        ("log base 2: the loss uses the natural logarithm, np.log", np.array(want / np.log(2))),
        ("log base 10: the loss uses the natural logarithm, np.log",
         np.array(want / np.log(10)))])
    if not verdict.passed:
        if "not finite" in verdict.hint:
            verdict.hint = ("log(0) where a predicted probability is 0 (0 * log 0 must count as "
                            "0): clip the probabilities first, np.clip(YPredict, 1e-12, 1)")
            verdict.mistake = "cross_entropy_loss: log(0)"
        return verdict
    # the target's own class predicted with probability 0: a large, finite loss
    got, error = _evaluate(ctx, "cross_entropy_loss", [np.array([[1.0, 0.0, 0.0]]),
                                                       np.array([[0.0, 1.0, 0.0]])], _total)
    if got is None:
        return Verdict(False, "a large finite loss (mlplab's: 708.4)", error,
                       mistake="cross_entropy_loss raises")
    if got.size != 1 or not np.isfinite(got).all() or float(np.sum(got)) < 1:
        return Verdict(False, "a large finite loss (mlplab's: 708.4)", _show(got),
                       "log(0) where the target's class has probability 0: clip the "
                       "probabilities first, np.clip(YPredict, 1e-12, 1)",
                       mistake="cross_entropy_loss: log(0)")
    return verdict


def check_d_cross_entropy_softmax(ctx):
    Y = np.eye(3)[ctx.rng.integers(0, 3, size=4)]
    logits = ctx.rng.normal(0, 1, size=(4, 3))
    direction = ctx.rng.normal(size=logits.shape)
    S = ref.softmax(logits)
    want = ref.d_cross_entropy_softmax(Y, S)

    def numeric():   # through the softmax: your cross_entropy_loss of softmax(z +- H V)
        along = _directional(ctx, "cross_entropy_loss", Y,
                             lambda h: ref.softmax(logits + h * direction))
        return _agrees(ctx, "d_cross_entropy_softmax", [Y, S], along, direction), \
            "cross_entropy_loss"

    return _derivative_check(ctx, "d_cross_entropy_softmax", [Y, S], want, numeric, [
        ("the sign is flipped: dL/dz = y_hat - y (are the arguments swapped?)", -want),
        ("divided by the number of samples: fit takes the mean, the derivative is per sample",
         want / len(Y)),
        ("that is dL/dy_hat = -y / y_hat; through the softmax it simplifies to dL/dz = y_hat - y",
         -Y / S)])


# ----- Q2.3: Layer ----------------------------------------------------------------------------

def _layers(ctx, bias):
    """Two Layer(3, 2) (with `bias`), described: weight and bias arrays found by shape."""
    def ask():
        answer = ctx.ask({"op": "layer", "n_input": 3, "n_output": 2, "bias": bias,
                          "count": 2})
        if "error" in answer:
            return None, answer["error"]
        value = answer["value"]
        try:
            layers = [_layer_report(layer) for layer in value["layers"]][:2]
            flag = value.get("flag")
            return (layers, clean(flag)[:40] if isinstance(flag, str) else None), ""
        except (KeyError, TypeError, ValueError, AttributeError):
            return None, "an answer of the wrong form"
    return ctx.once(("layer", bias), ask)


def _layer_report(layer):
    weights = [(clean(path)[:80], bool(flip)) for path, flip in layer["weights"]]
    biases = [clean(path)[:80] for path in layer["biases"]]
    arrays = {clean(k)[:80]: v for k, v in layer["arrays"].items() if isinstance(v, np.ndarray)}
    return {"weights": weights, "biases": biases, "arrays": arrays}


def check_layer_shapes(ctx):
    if not ctx.defined("Layer"):
        return ctx.missing("Layer")
    (with_bias, error), (without, error_plain) = _layers(ctx, True), _layers(ctx, False)
    if with_bias is None:
        return Verdict(False, "Layer(3, 2): a (3, 2) or (2, 3) weight array", error,
                       mistake="Layer raises")
    layer = with_bias[0][0]
    if len(layer["weights"]) != 1 or len(layer["biases"]) != 1:
        return Verdict(False, "one weight array (3, 2) or (2, 3) and one bias array of 2",
                       f"weights {[w for w, _ in layer['weights']]}, biases "
                       f"{layer['biases']}",
                       "keep the weights and the biases as NumPy arrays in attributes of their "
                       "own", mistake="Layer: parameters not found")
    path, transposed = layer["weights"][0]
    values = [layer["arrays"][path], layer["arrays"][layer["biases"][0]]]
    if not all(np.all(np.isfinite(v)) for v in values):
        return Verdict(False, "finite weights and biases", "values that are not finite",
                       "initialize_weights must give finite numbers", mistake="Layer: not finite")
    if without is None:
        return Verdict(False, "Layer(3, 2, bias=False)", error_plain,
                       "the skeleton's Layer takes a third argument, the bias flag",
                       mistake="Layer: no bias flag")
    plain, flag = without[0][0], without[1]
    convention = []
    if flag and flag != "bias=False":
        convention.append(f"the bias flag is not named bias: the checker passed {flag}")
    if plain["biases"]:
        kept = plain["arrays"][plain["biases"][0]]
        if np.any(kept != 0):
            return Verdict(False, "no bias with bias=False", f"a bias {_show(kept)}",
                           "with bias=False a layer has no bias (or one of zeros that fit never "
                           "changes)", mistake="Layer: a bias with bias=False")
        convention.append("with bias=False it keeps a bias of zeros (the fit checks see that "
                          "it stays zero)")
    return Verdict(True, "weights and biases", f"weights {path!r} "
                   f"({'(n_output, n_input)' if transposed else '(n_input, n_output)'}), biases "
                   f"{layer['biases'][0]!r}",
                   convention="; ".join(
                       (["weights stored (n_output, n_input), the column convention of Q1.2"]
                        if transposed else []) + convention))


def check_layer_seeded(ctx):
    if not ctx.defined("Layer"):
        return ctx.missing("Layer")
    layers, error = _layers(ctx, True)
    if layers is None:
        return Verdict(False, "two equal layers", error, mistake="Layer raises")
    first, second = layers[0]
    if not first["arrays"] or first["arrays"].keys() != second["arrays"].keys():
        return Verdict(False, "two Layer(3, 2) alike", "arrays not found",
                       "keep the weights and the biases as NumPy arrays in attributes of their "
                       "own", mistake="Layer: parameters not found")
    same = all(np.array_equal(first["arrays"][k], second["arrays"][k], equal_nan=True)
               for k in first["arrays"])
    if not same:
        return Verdict(False, "two Layer(3, 2) alike", "different weights",
                       "initialize_weights must draw from the rng it is given, "
                       "np.random.default_rng(2), not from np.random's global state",
                       mistake="Layer: unseeded initialisation")
    weights = first["arrays"][first["weights"][0][0]] if first["weights"] else None
    if weights is not None and np.ptp(weights) == 0:
        return Verdict(False, "small random weights", f"every weight {float(weights.flat[0])}",
                       "weights must be small random values: equal weights make every unit of a "
                       "layer learn the same", mistake="Layer: constant weights")
    return Verdict(True, "two Layer(3, 2) alike", "alike")


# ----- Q2.4 and Q2.5: Network -----------------------------------------------------------------

SIGMOID_L2 = {"activations": ["sigmoid", "sigmoid"], "derivatives": ["d_sigmoid", "d_sigmoid"],
              "loss": "l2_loss", "d_loss": "d_l2_loss"}
SOFTMAX_CE = {"activations": ["sigmoid", "softmax"], "derivatives": ["d_sigmoid", None],
              "loss": "cross_entropy_loss", "d_loss": "d_cross_entropy_softmax"}
# The functions whose values a network's step depends on (its loss only for the loss it returns).
STEP_USES = {"l2": ("sigmoid", "d_sigmoid", "d_l2_loss"),
             "ce": ("sigmoid", "d_sigmoid", "softmax", "d_cross_entropy_softmax")}


def reference_network(parameters, spec):
    """mlplab's readable Network with the given [(W (n_in, n_out), b or None), ...]."""
    layers = []
    for W, b in parameters:
        layer = Layer(*np.shape(W), bias=b is not None)
        layer.weights = np.array(W, dtype=float)
        if b is not None:
            layer.biases = np.array(b, dtype=float)
        layers.append(layer)
    named = {name: getattr(ref, name) for name in assignment.FUNCTIONS}
    return Network(layers, [named[name] for name in spec["activations"]],
                   [named[name] if name else None for name in spec["derivatives"]],
                   named[spec["loss"]], named[spec["d_loss"]], engine=False)


def _functions(ctx, spec, stand_ins=()):
    """The network's functions by name, with where each comes from: the homework's, or
    mlplab's for a name the file lacks or borrowed, or in `stand_ins`."""
    names = {*spec["activations"], *filter(None, spec["derivatives"]), spec["loss"],
             spec["d_loss"]}
    sources = {name: "mlplab" if name in stand_ins else ctx.source(name) for name in names}
    return {**spec, "sources": sources}


def _network_answer(ctx, key, request, seconds=None):
    """A network request's answer, cached; a network that calls the softmax layer's
    derivative (None) is asked again with ones in its place, and that is said."""
    def ask():
        answer = ctx.ask(request, seconds)
        if (None in request["functions"]["derivatives"] and "NoneType" in
                answer.get("value", {}).get("error", "") + answer.get("error", "")):
            functions = {**request["functions"], "derivatives": [
                name or "ones" for name in request["functions"]["derivatives"]]}
            answer = ctx.ask({**request, "functions": functions}, seconds)
            answer["ones_for_none"] = True
        return answer
    return ctx.once(key, ask)


def _steps(answer):
    """[(returned, [(W, b)])] of a network answer, every array checked; raises ValueError."""
    value = answer["value"]
    steps = []
    for step in value["steps"]:
        parameters = []
        for W, b in step["parameters"]:
            if not isinstance(W, np.ndarray) or W.ndim != 2 or not (
                    b is None or isinstance(b, np.ndarray)):
                raise ValueError("parameters of the wrong form")
            parameters.append((W, b))
        steps.append((step.get("returned"), parameters))
    return steps


def _network_error(answer):
    """The error of a network request (the request's, or the step's), or ''."""
    if "error" in answer:
        return answer["error"]
    value = answer["value"]
    if not isinstance(value, dict) or "steps" not in value:
        return "an answer of the wrong form"
    if "error" in value:
        step = value.get("failed_step")
        return (f"step {step + 1}: " if isinstance(step, int) and step > 0 else "") + \
            clean(str(value["error"]))[:500]
    return ""


def _network_hint(error):
    if "cannot tell the weights" in error:
        return ("keep each layer's weights and biases as NumPy arrays in attributes of their "
                "own, weights of shape (n_input, n_output) or (n_output, n_input)")
    if "takes no bias flag" in error:
        return "the skeleton's Layer takes a third argument, the bias flag"
    return ""


def _where(answer):
    """What the checker followed: parameters read from the network's own arrays."""
    where = answer.get("value", {}).get("where") or {}
    if not isinstance(where, dict) or not where:
        return []
    shown = ", ".join(f"{clean(k)[:8]} from {clean(v)[:60]}" for k, v in list(where.items())[:6])
    return [f"parameters read where the network keeps them: {shown}"]


def _uses_note(ctx, uses, stand_ins=()):
    """Notes on functions this check's network took from mlplab, and why."""
    notes = []
    for name in uses:
        if name in stand_ins:
            notes.append(f"with mlplab's {name} in place of yours, which failed its check")
        elif not ctx.defined(name):
            notes.append(f"uses mlplab's {name}: the file does not define it")
        elif ctx.borrowed(name):
            notes.append(f"uses mlplab's {name}: yours {ctx.borrowed(name)}")
        elif name in ctx.hung:
            notes.append(f"uses mlplab's {name}: yours hung or ended its process in its own "
                         "check")
    return notes


def _failed_uses(ctx, uses):
    """The functions of `uses` that failed their checks, or passed only one sample at a time
    (which a network that calls them on a batch gets wrong)."""
    return [name for name in uses if ctx.defined(name) and not ctx.borrowed(name)
            and ctx.verdicts.get(name) is not None and (
                not ctx.verdicts[name].passed or ctx.modes.get(name) == "rows")]


# --- one fit step

def step_variants(initial, spec, X, Y, learning_rate, reg_lambda):
    """The candidate new parameters of one step from `initial`: for the weights and for the
    biases, [(description, is_convention, [value per layer])], the reference's first."""
    net = reference_network(initial, spec)
    _, gradients = net.gradients(X, Y, reg_lambda)
    n, lr, c = len(X), learning_rate, reg_lambda
    data = [(dW - c * W, db) for (W, _), (dW, db) in zip(initial, gradients)]

    def weights(scale, decay):
        return [W - lr * scale * gW - decay * W for (W, _), (gW, _) in zip(initial, data)]

    def biases(change):
        return [None if b is None else b - change(b, gb) for (_, b), (_, gb) in zip(initial,
                                                                                    data)]

    W_rules = [("", False, weights(1, lr * c))]
    if c:
        W_rules += [
            ("the L2 term scaled by 1/n (reg_lambda / n * W)", True, weights(1, lr * c / n)),
            ("the penalty reg_lambda * ||W||^2, whose gradient is 2 reg_lambda W", True,
             weights(1, 2 * lr * c)),
            ("the decay without the learning rate: W - lr * grad - reg_lambda * W", False,
             weights(1, c)),
            ("reg_lambda is not used", False, weights(1, 0.0)),
            ("the gradients summed over the samples, not averaged: the step is n times too "
             "large", False, weights(n, lr * c)),
            ("the gradients summed over the samples, not averaged, and the L2 term added once "
             "per sample", False, weights(n, lr * c * n))]
    else:
        W_rules += [("the gradients summed over the samples, not averaged: the step is n times "
                     "too large", False, weights(n, 0.0))]
    W_rules += [("the step goes up the gradient: W + lr * dW", False,
                 [W + lr * gW + lr * c * W for (W, _), (gW, _) in zip(initial, data)])]
    b_rules = [("", False, biases(lambda b, gb: lr * gb)),
               ("the biases never updated", False, biases(lambda b, gb: 0 * b)),
               ("the gradients summed over the samples, not averaged: the step is n times too "
                "large", False, biases(lambda b, gb: lr * n * gb)),
               ("the step goes up the gradient: b + lr * db", False,
                biases(lambda b, gb: -lr * gb))]
    if c:
        b_rules += [("the biases decayed by reg_lambda too (only weights are)", False,
                     biases(lambda b, gb: lr * (gb + c * b)))]
    return W_rules, b_rules


def judge_step(initial, after, spec, X, Y, learning_rate, reg_lambda, bias=True):
    """(passed, conventions, mistakes, where wrong) of a step from `initial` to `after`; for
    layers made without bias, a bias of zeros counts as none (and must stay zeros)."""
    if not bias:
        if any(b is not None and np.any(b != 0) for _, b in initial):
            return False, [], ["a layer made with bias=False has a bias that is not zero"], ""
        initial = [(W, None) for W, _ in initial]
    if len(after) != len(initial):
        return False, [], ["a different number of layers after fit"], ""
    if all(np.array_equal(W0, W1) and (b0 is None or b1 is None or np.array_equal(b0, b1))
           for (W0, b0), (W1, b1) in zip(initial, after)):
        return False, [], ["fit changed nothing: assign the new arrays to the layers "
                           "(layer.weights = layer.weights - learning_rate * dW)"], ""
    W_rules, b_rules = step_variants(initial, spec, X, Y, learning_rate, reg_lambda)
    found, wrong = [], []
    for index, ((W, b), (W1, b1)) in enumerate(zip(initial, after), start=1):
        rule = next((r for r in W_rules if _close(W1, r[2][index - 1])), None)
        if rule is None:
            wrong.append(f"W{index}")
        else:
            found.append(rule[:2])
        if b is None:   # no bias: none, or zeros that must stay zeros
            if b1 is not None and np.any(b1 != 0):
                return False, [], ["a layer made with bias=False got a bias in fit: skip the "
                                   "bias when self.bias is False"], f"b{index}"
            continue
        if b1 is None:
            wrong.append(f"b{index}")
            continue
        rule = next((r for r in b_rules if _close(b1.reshape(-1), r[2][index - 1])), None)
        if rule is None:
            wrong.append(f"b{index}")
        else:
            found.append(rule[:2])
    conventions = sorted({text for text, conv in found if text and conv})
    mistakes = sorted({text for text, conv in found if text and not conv})
    return not wrong and not mistakes, conventions, mistakes, ", ".join(wrong)


def _step_request(ctx, sizes, bias, spec, X, Y, lr, reg, stand_ins=()):
    return {"op": "network", "layers": [[n_in, n_out, bias] for n_in, n_out in sizes],
            "functions": _functions(ctx, spec, stand_ins), "data": {"X": X, "Y": Y},
            "steps": [["fit", ["$X", "$Y", lr, reg]]]}


def _fit_data(ctx, targets):
    X = ctx.rng.normal(size=(6, 4))
    if targets == "l2":
        return X, ctx.rng.uniform(size=(6, 2))
    return X, np.eye(3)[ctx.rng.permutation([0, 1, 2, 0, 1, 2])]


def _fit_check(label, targets, reg_lambda, bias=True):
    spec = SIGMOID_L2 if targets == "l2" else SOFTMAX_CE
    outputs = 2 if targets == "l2" else 3
    sizes = [(4, 5), (5, outputs)]
    uses = STEP_USES[targets]
    learning_rate = 0.1

    def run(ctx):
        for name in ("Layer", "Network"):
            if not ctx.defined(name):
                return ctx.missing(name)
        X, Y = ctx.once(("data", label), lambda: _fit_data(ctx, targets))
        answer = _network_answer(ctx, label, _step_request(ctx, sizes, bias, spec, X, Y,
                                                           learning_rate, reg_lambda))
        verdict = _judge_fit(answer, spec, X, Y, learning_rate, reg_lambda, bias)
        verdict.notes += _uses_note(ctx, uses) + _where(answer)
        if answer.get("ones_for_none"):
            verdict.convention = "; ".join(filter(None, [
                verdict.convention, "the network calls the softmax layer's derivative, so the "
                "checker gave ones for its None"]))
        if verdict.passed:
            return verdict
        failed = _failed_uses(ctx, (*uses, spec["loss"]))   # a broken loss can break fit too
        if failed:   # isolate the network: the same step with mlplab's functions for those
            alone = _network_answer(ctx, ("alone", label), _step_request(
                ctx, sizes, bias, spec, X, Y, learning_rate, reg_lambda, stand_ins=failed))
            isolated = _judge_fit(alone, spec, X, Y, learning_rate, reg_lambda, bias)
            names = ", ".join(code(n) for n in failed)
            how = "failed" if any(not ctx.verdicts[n].passed for n in failed) else \
                "works one sample at a time, while your network calls it on a batch"
            verdict.hint = f"depends on {names}, which {how}: " + (
                f"with mlplab's {names} in place of yours the step is right" if
                isolated.passed else f"and with mlplab's in their place: "
                f"{isolated.hint or 'still wrong'}")
            verdict.mistake = f"fit wrong through {', '.join(failed)}"
        return verdict
    return run


def _judge_fit(answer, spec, X, Y, learning_rate, reg_lambda, bias=True):
    error = _network_error(answer)
    if error:
        return Verdict(False, "one fit step", error, _network_hint(error),
                       mistake="fit raises")
    try:
        (_, initial), (_, after) = _steps(answer)[:2]
    except (ValueError, KeyError, TypeError):
        return Verdict(False, "one fit step", "an answer of the wrong form")
    passed, conventions, mistakes, wrong = judge_step(initial, after, spec, X, Y,
                                                      learning_rate, reg_lambda, bias)
    expected = "the reference's new weights and biases"
    if passed:
        return Verdict(True, expected, "the same", convention="; ".join(conventions))
    if mistakes:
        return Verdict(False, expected, "other values" + (f" ({wrong} unmatched)" if wrong
                                                          else ""),
                       "your step equals the reference's with " + "; and ".join(mistakes),
                       mistake="fit: " + mistakes[0].split(":")[0])
    last = f"W{len(initial)}"
    if wrong and last not in wrong.split(", ") and f"b{len(initial)}" not in wrong.split(", "):
        hint = (f"the output layer's step is right, {wrong} is not: check how delta is carried "
                "back, delta_prev = (delta @ W.T) * d_activation(z_prev), and dW = a_prev.T @ "
                "delta")
    else:
        hint = ("no known mistake matches: compare dW and db with mlplab's Network.gradients "
                "on the same weights")
    return Verdict(False, expected, f"other values ({wrong})", hint,
                   mistake="fit: unknown mistake")


def check_fit_without_bias(ctx):
    return _fit_check("fit: layers without bias", "l2", 0.1, bias=False)(ctx)


# --- what fit returns

FITS = [("fit: sigmoid and L2 loss", "l2", 0.0), ("fit: sigmoid and L2 loss, reg_lambda 0.1",
                                                   "l2", 0.1),
        ("fit: softmax and cross-entropy", "ce", 0.0),
        ("fit: softmax and cross-entropy, reg_lambda 0.1", "ce", 0.1)]


def check_fit_returns(ctx):
    """fit's returned value: the average loss over the samples, before the update."""
    for name in ("Layer", "Network"):
        if not ctx.defined(name):
            return ctx.missing(name)
    seen, conventions = 0, set()
    for label, targets, reg in FITS:
        answer = ctx.cache.get(label)
        if answer is None or _network_error(answer):
            continue
        try:
            (_, initial), (returned, _) = _steps(answer)[:2]
        except (ValueError, KeyError, TypeError):
            continue
        spec = SIGMOID_L2 if targets == "l2" else SOFTMAX_CE
        X, Y = ctx.cache[("data", label)]
        net = reference_network(initial, spec)
        want = float(net.loss(X, Y))
        got = _returned_number(returned)
        seen += 1
        if got is not None and np.isclose(got, want, rtol=RTOL, atol=1e-12):
            continue
        if got is not None and reg and np.isclose(got, float(net.loss(X, Y, reg)), rtol=RTOL):
            conventions.add("fit returns the objective J, the mean loss plus the L2 penalty")
            continue
        loss = spec["loss"]
        after = reference_network(_steps(answer)[1][1], spec)
        variants = [
            ("fit returns the loss after the update, not before", float(after.loss(X, Y))),
            ("fit returns the total loss: divide by n_sample", want * len(X)),
            ("the loss is divided by the number of samples twice", want / len(X))]
        if loss == "l2_loss":
            variants.append((f"twice the loss: depends on {code('l2_loss')} (the 1/2?)",
                             2 * want))
        if got is None:
            hint = ("fit returns " + ("None" if _returned_kind(returned) == "NoneType" else
                                      f"a {_returned_kind(returned)}") +
                    ": the skeleton's fit ends with return loss / n_sample")
        else:
            hint = next((text for text, value in variants if np.isclose(got, value, rtol=1e-6)),
                        "")
            failed = _failed_uses(ctx, [loss, *spec["activations"]])
            if not hint and failed:
                hint = f"depends on {', '.join(code(n) for n in failed)}, which failed"
        return Verdict(False, f"{want:.10g} ({label})", _show(got),
                       hint or "the returned value is not the average loss over the samples",
                       difference(np.array(want), None if got is None else np.array(got)),
            mistake="fit's returned loss: " + (hint.split(":")[0] if hint else "wrong"))
    if not seen:
        return Verdict(False, "the average loss", "no fit step finished",
                       "see the fit checks", mistake="fit raises")
    return Verdict(True, "the average loss before the update", "the same",
                   convention="; ".join(sorted(conventions)))


def _returned_number(returned):
    if isinstance(returned, dict) and isinstance(returned.get("array"), np.ndarray):
        array = returned["array"]
        if array.size == 1 and np.isfinite(array).all():
            return float(array.ravel()[0])
    return None


def _returned_kind(returned):
    return clean(str(returned.get("type", "?")))[:40] if isinstance(returned, dict) else "?"


# --- Q1.1, predict, Q2.5

def check_q1_forward(ctx):
    for name in ("Layer", "Network"):
        if not ctx.defined(name):
            return ctx.missing(name)
    q1 = assignment.Q1
    parameters = [(np.array(q1["W1"]), np.array(q1["b1"])),
                  (np.array(q1["W2"]), np.array(q1["b2"]))]
    inputs = np.vstack([q1["input"], ctx.rng.normal(0, 1.5, size=(2, 2))])
    want = reference_network(parameters, SIGMOID_L2).forward(inputs)[-1][:, 0]

    def ask(stand_ins=()):
        return ctx.ask({"op": "output", "layers": [[2, 3, True], [3, 1, True]],
                        "parameters": parameters, "inputs": inputs,
                        "functions": _functions(ctx, SIGMOID_L2, stand_ins)}, seconds=6.0)

    def outputs(answer):
        if "error" in answer:
            return None, "", answer["error"]
        value = answer["value"]
        got = value.get("outputs") if isinstance(value, dict) else None
        if not isinstance(got, list) or len(got) != len(want) or not all(
                isinstance(v, (int, float)) for v in got):
            return None, "", "an answer of the wrong form"
        return np.array(got, dtype=float), clean(str(value.get("method", "")))[:80], ""

    got, method, error = outputs(ask())
    notes = _uses_note(ctx, ["sigmoid"]) + ([f"output read by {method}"] if method else [])
    if got is not None and _close(got, want, 1e-9):
        return Verdict(True, f"{want[0]:.4f}", f"{got[0]:.4f}", notes=notes)
    hint = _network_hint(error) if error else (
        "check the forward pass: z = a_prev W + b and a = sigmoid(z) per layer")
    failed = _failed_uses(ctx, ["sigmoid"])
    if failed and got is not None:
        alone, _, _ = outputs(ask(failed))
        hint = "depends on `sigmoid`, which failed" + (
            ": with mlplab's sigmoid in place of yours the output is right"
            if alone is not None and _close(alone, want, 1e-9) else "")
    return Verdict(False, f"{want[0]:.4f} (and {_show(want[1:])} for two other inputs)",
                   error or f"{got[0]:.4f}", hint, difference(want, got) if got is not None
                   else "", notes=notes,
                   mistake="Q1.1 forward pass wrong")


def check_predict(ctx):
    for name in ("Layer", "Network"):
        if not ctx.defined(name):
            return ctx.missing(name)
    X = np.vstack([ctx.rng.normal(0, 1, size=(3, 2)), [[0.0, 0.0]]])
    one = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
           (np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.zeros(1))]
    outputs = reference_network(one, SIGMOID_L2).forward(X)[-1][:, 0]
    threshold = float(outputs[3])   # a row exactly at the threshold: > says 0, >= says 1
    three = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
             (np.linspace(1, -1, 12).reshape(4, 3), np.linspace(-0.1, 0.1, 3))]
    want = [(outputs > threshold).astype(int), (outputs > 0.5).astype(int),
            np.argmax(reference_network(three, SIGMOID_L2).forward(X)[-1], axis=1)]
    functions = _functions(ctx, SIGMOID_L2)
    binary = ctx.ask({"op": "network", "layers": [[2, 4, True], [4, 1, True]],
                      "functions": functions, "parameters": one, "data": {"X": X},
                      "steps": [["predict", ["$X", threshold]], ["predict", ["$X"]]]})
    classes = ctx.ask({"op": "network", "layers": [[2, 4, True], [4, 3, True]],
                       "functions": functions, "parameters": three, "data": {"X": X},
                       "steps": [["predict", ["$X"]]]})
    for answer in (binary, classes):
        error = _network_error(answer)
        if error:
            return Verdict(False, _show(want[0]), error, _network_hint(error),
                           mistake="predict raises")
    try:
        returned = [r for r, _ in _steps(binary)[1:]] + [r for r, _ in _steps(classes)[1:]]
    except (ValueError, KeyError, TypeError):
        return Verdict(False, _show(want[0]), "an answer of the wrong form")
    kinds = [_returned_kind(r) for r in returned]
    got = [r.get("array") if isinstance(r, dict) else None for r in returned]
    column = any(isinstance(g, np.ndarray) and g.ndim == 2 and g.shape[1] == 1 for g in got)
    got = [g.ravel() if isinstance(g, np.ndarray) and g.ndim == 2 and g.shape[1] == 1 else g
           for g in got]
    if kinds != ["ndarray"] * 3:
        bad = next(kind for kind in kinds if kind != "ndarray")
        return Verdict(False, "an np.ndarray of labels", f"a {bad}",
                       "return np.array(YPredict), as the skeleton does",
                       mistake="predict: not an array")
    if all(_close(g, w) for g, w in zip(got, want)):
        return Verdict(True, _show(want[0]), _show(got[0]), convention=(
            "labels as a column (n, 1), not a vector (n,)" if column else ""))
    hint = ""
    if _close(got[0], (outputs >= threshold).astype(int)):
        hint = "an output equal to the threshold is labelled 1: use >, not >="
    elif _close(got[1], want[1]) and not _close(got[0], want[0]):
        hint = "predict ignores its threshold argument"
    which = next(i for i, (g, w) in enumerate(zip(got, want)) if not _close(g, w))
    label = ["by the threshold", "by the default 0.5", "by arg-max"][which]
    return Verdict(False, f"{_show(want[which])} ({label})", _show(got[which]), hint,
                   mistake="predict: " + (hint.split(":")[0] if hint else "wrong labels"))


def check_q2_5(ctx):
    """The assignment's Q2.5 run, its targets as its cell passes them (1-D labels): the loss of
    the network's own parameters (mlplab's L2) must fall at every epoch."""
    for name in ("Layer", "Network"):
        if not ctx.defined(name):
            return ctx.missing(name)
    X, y = assignment.load_q25()
    epochs, lr, reg = (assignment.Q2_5_EPOCHS, assignment.Q2_5_LEARNING_RATE,
                       assignment.Q2_5_REG_LAMBDA)
    convention = ""
    for targets in (y.astype(float), y.astype(float)[:, None]):
        answer = ctx.ask({"op": "network", "layers": [[2, 4, True], [4, 1, True]],
                          "functions": _functions(ctx, SIGMOID_L2),
                          "data": {"X": X, "Y": targets},
                          "steps": [["fit", ["$X", "$Y", lr, reg]]] * epochs}, seconds=20.0)
        error = _network_error(answer)
        if not error:
            break
        convention = "fit needs the targets as a column (n, 1); the Q2.5 cell passes (n,)"
    if error:
        return Verdict(False, f"{epochs} falling losses", error, _network_hint(error),
                       mistake="Q2.5 raises")
    try:
        steps = _steps(answer)
    except (ValueError, KeyError, TypeError):
        return Verdict(False, f"{epochs} falling losses", "an answer of the wrong form")
    losses, diverged = [], None
    for epoch, (_, parameters) in enumerate(steps[:-1]):   # each epoch's loss before its step
        if not all(np.all(np.isfinite(W)) and (b is None or np.all(np.isfinite(b)))
                   for W, b in parameters):
            diverged = epoch
            break
        try:
            losses.append(float(reference_network(parameters, SIGMOID_L2).loss(
                X, y[:, None].astype(float))))
        except (ValueError, TypeError):
            return Verdict(False, f"{epochs} falling losses", "parameters of the wrong shape")
    notes = _uses_note(ctx, STEP_USES["l2"]) + _where(answer) + [
        "losses computed by mlplab from your network's parameters after each epoch"]
    failed = _failed_uses(ctx, STEP_USES["l2"])
    depends = f"depends on {', '.join(code(n) for n in failed)}, which failed; " if failed \
        else ""
    if diverged is not None:
        return Verdict(False, f"{epochs} falling losses", f"parameters not finite after epoch "
                       f"{diverged} (training diverged)", depends + "the step makes the "
                       "weights overflow: check the gradients", notes=notes,
                       mistake="Q2.5 diverges")
    falling = all(b < a for a, b in zip(losses, losses[1:]))
    if falling and len(losses) == epochs:
        return Verdict(True, f"{epochs} falling losses", f"{losses[0]:.4g} to {losses[-1]:.4g}",
                       convention=convention, notes=notes)
    first = next((i for i, (a, b) in enumerate(zip(losses, losses[1:])) if b >= a), 0)
    hint = depends + ("the loss must fall at every epoch of the Q2.5 run" if first else
                      "the loss rises at the first epoch: the step goes the wrong way or is "
                      "too large")
    return Verdict(False, f"{epochs} falling losses",
                   f"{_show(np.array(losses))} (epoch {first + 2} does not fall)", hint,
                   notes=notes, mistake="Q2.5 loss does not fall")


# --- from scratch

def check_from_scratch(ctx):
    """Every name the homework defines is the student's own: not mlplab's, not a neural-network
    library's, however imported (decided from the objects and from what runs); and the file
    imports no such module at all (Q2.1)."""
    expected = "the homework's definitions written in the file, no neural-network package"
    borrowed = {name: ctx.borrowed(name) for name in NAMES if ctx.borrowed(name)}
    imported = sorted(set(ctx.imported) | ctx.tried)
    if borrowed:
        listed = "; ".join(f"{name} {why}" for name, why in borrowed.items())
        return Verdict(False, expected, listed,
                       "the assignment (Q2.1) forbids neural-network packages, and another's "
                       "network: write these yourself; the checks they serve score 0",
                       notes=[f"imports {', '.join(map(code, imported))}"] if imported else [],
                       mistake="borrowed " + ", ".join(borrowed))
    if imported:
        return Verdict(False, expected, f"the file imports {', '.join(map(code, imported))}",
                       "the assignment (Q2.1) forbids importing neural-network packages, even "
                       "where no checked definition uses them", mistake="imports a forbidden "
                       "package")
    if not ctx.names:
        return Verdict(False, expected, "none of the homework's names is defined",
                       mistake="nothing defined")
    return Verdict(True, expected, "yes")


# ----- the list -------------------------------------------------------------------------------

_NETWORK = ("Layer", "Network")


def all_checks():
    """Every check, in the assignment's order (Gradescope's test numbers)."""
    functions = [("sigmoid", check_sigmoid), ("d_sigmoid", check_d_sigmoid),
                 ("softmax", check_softmax), ("l2_loss", check_l2_loss),
                 ("d_l2_loss", check_d_l2_loss), ("cross_entropy_loss", check_cross_entropy_loss),
                 ("d_cross_entropy_softmax", check_d_cross_entropy_softmax)]
    checks = [Check("written from scratch", "Q2.1", "2.1", 1.0, NAMES, check_from_scratch)]
    checks += [Check(name, "Q2.2", f"2.2.{i}", 1.0, (name,), run)
               for i, (name, run) in enumerate(functions, start=1)]
    checks += [Check("Layer: shapes and biases", "Q2.3", "2.3.1", 2.0, ("Layer",),
                     check_layer_shapes),
               Check("Layer: seeded initialisation", "Q2.3", "2.3.2", 2.0, ("Layer",),
                     check_layer_seeded),
               Check("Network: the Q1.1 forward pass", "Q2.4", "2.4.1", 2.0, _NETWORK,
                     check_q1_forward)]
    checks += [Check(label, "Q2.4", f"2.4.{i}", 3.0, _NETWORK, _fit_check(label, targets, reg))
               for i, (label, targets, reg) in enumerate(FITS, start=2)]
    checks += [Check("fit: layers without bias", "Q2.4", "2.4.6", 2.0, _NETWORK,
                     check_fit_without_bias),
               Check("fit: returns the average loss", "Q2.4", "2.4.7", 1.0, _NETWORK,
                     check_fit_returns),
               Check("predict: labels as an array, by threshold (>) and by arg-max", "Q2.4",
                     "2.4.8", 2.0, _NETWORK, check_predict),
               Check("Q2.5: the loss falls at every epoch", "Q2.5", "2.5", 2.0, _NETWORK,
                     check_q2_5)]
    return checks


def run_checks(ctx, checks=None):
    """[(check, verdict)] in the checks' order; the from-scratch check runs last (it needs
    what ran), and a check that runs a borrowed Layer or Network scores 0."""
    checks = list(all_checks() if checks is None else checks)
    if ctx.load_error:
        return [(check, Verdict(False, "", "", f"not reached: {ctx.load_error}",
                                mistake="the file could not be loaded")) for check in checks]
    last = [c for c in checks if c.run is check_from_scratch]
    for check in [c for c in checks if c not in last] + last:
        try:
            verdict = check.run(ctx)
        except Exception as exc:   # an answer of a form no check foresaw: that check fails
            verdict = Verdict(False, "", clean(f"{type(exc).__name__}: {exc}")[:300],
                              "the checker could not read an answer of the student's code")
        ctx.verdicts[check.name] = verdict
    for check in checks:
        verdict = ctx.verdicts[check.name]
        taken = [name for name in check.needs if name in (*_NETWORK, check.name)
                 and ctx.borrowed(name)] if check.run is not check_from_scratch else []
        if taken:
            ctx.verdicts[check.name] = Verdict(
                False, verdict.expected, verdict.got,
                "scores 0: " + "; ".join(f"{name} {ctx.borrowed(name)}" for name in taken),
                notes=verdict.notes, mistake="borrowed " + ", ".join(taken))
    return [(check, ctx.verdicts[check.name]) for check in checks]
