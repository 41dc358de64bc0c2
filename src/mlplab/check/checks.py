"""The checks of `mlplab check`: what each asks a student's code, and its verdict.

A check (`Check`) is one unit of the assignment with a function that asks the student's process
for values through a `Context` and returns a `Verdict`: passed or not, what was expected and
what came back (with the difference), a hint where a known mistake matches, and a convention
where the skeleton leaves a choice open. Every verdict is computed here, against mlplab's own
functions and its readable `Network` (``engine=False``), on inputs drawn anew for each run (but
the extremes that test numerical stability and Q1.1's given network). Every value from the
student's process is untrusted: an answer of an unexpected form is that check's failure.
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
        self.student, self.limits = student, student.limits
        self.rng = np.random.default_rng(seed)
        self.verdicts = {}
        self.modes = {}        # function -> "batch" or "rows", how its check accepted it
        self.evidence = {}     # name -> a call into a forbidden module seen while it ran
        self.tried = set()     # forbidden modules the student's code tried to import
        # functions and methods that hung or ended the process: not asked again (a network
        # takes mlplab's function in their place)
        self.hung = set()
        self.cache = {}
        self.load_error = None
        load = student.load if isinstance(student.load, dict) else {}
        self._imports(load)
        try:
            self.names, self.defined_names, self.imported, self.notes = _load_report(
                load["value"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.names, self.defined_names, self.imported, self.notes = {}, [], [], []
            self.load_error = clean(load.get("error", f"({exc})"))

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

    def ask(self, request, seconds=None, runs=None):
        """The student's answer to `request`. `runs`: the functions or methods it runs (by
        default the Network methods of its steps), none asked again once one hung."""
        runs = {f"Network.{m}" for m, _ in request.get("steps", [])} if runs is None else runs
        if runs & self.hung:
            return {"error": f"not run: {sorted(runs & self.hung)[0]} hung or ended its process "
                             "in an earlier check", "warnings": []}
        answer = self.student.ask(request, seconds)
        self._imports(answer)
        if answer.get("stopped") or "ran longer than" in answer.get("error", ""):
            self.hung |= runs
        if isinstance(answer.get("value"), dict):
            self._record(answer["value"].get("calls"))
        return answer

    def call(self, name, *args):
        """The student's function `name` on `args`: an answer whose value is its result."""
        answer = self.ask({"op": "call", "name": name, "source": "homework",
                           "args": [np.asarray(a, dtype=float) for a in args]}, runs={name})
        if "value" not in answer:
            return answer
        if not isinstance(answer["value"], dict):
            return {"error": "an answer of the wrong form", "warnings": []}
        return {**answer, "value": answer["value"].get("result")}

    def _imports(self, answer):
        """The forbidden imports the student's code has tried so far: each attributed to the
        homework's name that tried it (or to the file, at its top level)."""
        for hit in answer.get("imports", [])[:20]:
            if isinstance(hit, dict):
                self.tried.add(clean(str(hit.get("target", "?")))[:100])
                self._record(hit)

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


def _load_report(value):
    """The load's answer as (names {name: {"kind", "borrowed"}}, defined, imported, notes),
    every part checked."""
    names = {}
    for name, entry in value["names"].items():
        if name in NAMES and isinstance(entry, dict) and entry.get("kind") in ("function",
                                                                               "class"):
            borrowed = entry.get("borrowed")
            names[name] = {"kind": entry["kind"],
                           "borrowed": clean(borrowed)[:300] if isinstance(borrowed, str) else ""}
    return names, *([clean(item)[:300] for item in value[key][:limit] if isinstance(item, str)]
                    for key, limit in (("defined", 2000), ("imported", 50), ("notes", 200)))


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
    def squash(text):
        return re.sub(r"[_\W]", "", text).lower()

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
    kind = clean(str(value.get("type", "?")))[:60]
    if isinstance(value.get("array"), np.ndarray):
        return value["array"], kind, ""
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
        digits = max(1, int(-np.floor(np.log10(worst / max(abs(float(want)), 1e-300)))) + 1) \
            if worst else 17
        ordinal = "th" if 10 <= digits % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
            digits % 10, "th")
        return (f"{float(got)!r} against {float(want)!r}: they differ by {worst:.3g}, "
                f"from about the {digits}{ordinal} significant digit")
    return (f"the largest difference is {worst:.3g}, at index {tuple(int(i) for i in where)}"
            f" ({float(got[where])!r} against {float(want[where])!r})")


def _warned(answer):
    return [w for w in answer.get("warnings", [])
            if any(word in w for word in ("overflow", "divide", "invalid"))]


def _first_clause(hint):
    return hint.split(":")[0]


# ----- Q2.2: the functions ------------------------------------------------------------------

def _array(answer):
    """(array or None, error text or '') of a call's answer."""
    got, _, error = _result(answer)
    return got, error


def _rows(ctx, name, args):
    """The student's `name` on each row of `args` in turn: [(array or None, error)]."""
    return [_array(ctx.call(name, *(a[i] for a in args))) for i in range(len(args[0]))]


def _total(rows):
    return np.array(float(np.sum([np.sum(r) for r in rows])))


def _evaluate(ctx, name, args, combine):
    """The student's `name` on `args` as its check accepted it (a batch, or row by row put
    together by `combine`); (value, error text)."""
    if ctx.modes.get(name) != "rows":
        return _array(ctx.call(name, *args))
    rows = _rows(ctx, name, args)
    if any(value is None for value, _ in rows):
        return None, next(error for value, error in rows if value is None)
    try:
        return combine([value for value, _ in rows]), ""
    except ValueError as exc:
        return None, str(exc)


def _function_check(ctx, name, args, want, hints=(), scalar=False, not_finite="",
                    numeric=None):
    """`name` on `args` against `want`; `hints`: [(text, alternative value)]. A function
    written for one sample (a 1-D row) at a time, as the skeleton allows, is also asked row by
    row: for a loss (`scalar`) each row must give a number, and their sum is compared. A
    derivative (`numeric`: () -> (central differences of the student's own function, or None;
    its name)) is compared to 1e-7, and a wrong one that agrees with its function says so."""
    rtol = RTOL if numeric is None else 1e-7
    answer = ctx.call(name, *args)
    got, kind, error = _result(answer)
    if scalar and got is not None and got.size == 1:
        got = got.reshape(())   # a loss as a (1, 1) array is the same number
    warned = _warned(answer)
    if _close(got, want, rtol):
        ctx.modes[name] = "batch"
        return Verdict(True, _show(want), _show(got), convention=(
            f"right values, but NumPy warned ({warned[0]})" if warned else ""))
    hint = next((text for text, alternative in hints if got is not None
                 and _close(got, alternative, 1e-6)), "")
    # One sample at a time, as the skeleton's fit calls it?
    rows = [value for value, _ in _rows(ctx, name, args)]
    if all(r is not None for r in rows) and all(r.shape == rows[0].shape for r in rows):
        together = (_total(rows) if all(r.size == 1 for r in rows) else None) if scalar \
            else np.stack(rows)
        if together is not None and _close(together, want, rtol):
            ctx.modes[name] = "rows"
            on_batch = "it raises" if got is None else _first_clause(hint) if hint else \
                "other values"
            return Verdict(True, _show(want), _show(together), convention=(
                "computes one sample (a 1-D row) at a time; on a batch of rows "
                f"{'' if got is None else 'it gives '}{on_batch}, so a network must call it "
                "row by row"))
    if got is None and "error" not in answer:   # it returned, but not numbers
        return Verdict(False, _show(want), error, f"it returns {kind}, not numbers: return a "
                       "NumPy array" + (" or a float" if scalar else ""),
                       mistake=f"{name} returns no numbers")
    if got is None:
        return Verdict(False, _show(want), error or "nothing usable",
                       "it uses a name the file does not define (run the file top to bottom to "
                       "see)" if "not defined" in error or "NameError" in error else "",
                       mistake=_failure_kind(name, error))
    if not hint and scalar and got.ndim > 0 and np.isclose(np.sum(got), want, rtol=1e-6):
        hint = (f"it returns an array of shape {got.shape}, the loss of each element; the loss "
                "is one number, their sum")
    if not hint and numeric is not None:
        own, function = numeric()
        if own is not None and _close(got, own, 1e-4):
            hint = (f"it matches central differences of your {function}, which itself differs "
                    f"from the assignment's: see {function}")
    if not hint and not np.all(np.isfinite(got)):
        hint = not_finite or ("not finite for extreme inputs: compute it in a way that cannot "
                              "overflow")
    if not hint and warned:
        hint = f"NumPy warned: {warned[0]}"
    return Verdict(False, _show(want), _show(got), hint, difference(want, got),
                   mistake=f"{name}: {_first_clause(hint) if hint else 'wrong values'}")


def _failure_kind(name, error):
    """A failure without a value, in a few words: it hung, ended its process, or raised."""
    if "ran longer than" in error or "hung" in error:
        return f"{name} hangs"
    if "ended its process" in error or "not reached" in error:
        return f"{name} ends its process"
    return f"{name} raises" if error else ""


def check_sigmoid(ctx):
    Z = np.vstack([[-1000.0, -20.0, -1.0], [0.0, 0.5, 3.0], [20.0, 709.0, 1000.0],
                   ctx.rng.normal(0, 4, size=(1, 3))])
    return _function_check(ctx, "sigmoid", [Z], ref.sigmoid(Z), hints=[
        ("the sign in the exponent: sigma(x) = 1 / (1 + exp(-x))", 1 - ref.sigmoid(Z))],
        not_finite="not finite at large |x|, where exp overflows: use exp(-|x|), which never "
                   "does (1 / (1 + e) for x >= 0, e / (1 + e) below), or clip x")


def check_d_sigmoid(ctx):
    z = ctx.rng.normal(0, 2, size=(3, 3))
    want = ref.d_sigmoid(z)

    def numeric():
        up, error = _evaluate(ctx, "sigmoid", [z + H], np.stack)
        down, _ = _evaluate(ctx, "sigmoid", [z - H], np.stack)
        return (None if error or down is None else (up - down) / (2 * H)), "sigmoid"

    return _function_check(ctx, "d_sigmoid", [z], want, numeric=numeric, hints=[
        ("d_sigmoid is written in terms of the activation a = sigmoid(z), but the network "
         "calls it with z: take z and compute sigmoid(z) inside", z * (1 - z)),
        ("the sign is flipped: sigma'(z) = sigma(z) (1 - sigma(z))", -want),
        ("twice the derivative: sigma'(z) = sigma(z) (1 - sigma(z))", 2 * want),
        ("it returns sigmoid(z), not its derivative", ref.sigmoid(z))])


def check_softmax(ctx):
    X = np.vstack([[1000.0, 1000.0, 1000.0], [-1000.0, 0.0, 1000.0], [0.0, 0.0, 0.0],
                   ctx.rng.normal(0, 3, size=(2, 3))])
    columns = np.exp(X - X.max(axis=0, keepdims=True))
    everything = np.exp(X - X.max())
    return _function_check(ctx, "softmax", [X], ref.softmax(X), hints=[
        ("normalised down the columns (axis 0) instead of along each row: use axis=-1 (or 1) "
         "with keepdims=True", columns / columns.sum(axis=0, keepdims=True)),
        ("normalised over the whole batch, not row by row: sum along axis=-1 with "
         "keepdims=True", everything / everything.sum())],
        not_finite="not finite for large inputs, where exp overflows: subtract each row's "
                   "maximum first (softmax does not change)")


_AVERAGED = ("it averages over the samples; the skeleton's fit divides by n_sample, so the "
             "loss must be the sum")
_PER_SAMPLE = "divided by the number of samples: fit takes the mean, the derivative is per sample"


def check_l2_loss(ctx):
    Y, P = ctx.rng.uniform(size=(4, 3)), ctx.rng.uniform(size=(4, 3))
    want = ref.l2_loss(Y, P)
    return _function_check(ctx, "l2_loss", [Y, P], np.array(want), scalar=True, hints=[
        ("the 1/2 is missing: L = 1/2 (y - y_hat)^2", np.array(2 * want)),
        (_AVERAGED, np.array(want / len(Y))),
        ("it averages over every element; the loss is the sum", np.array(want / Y.size)),
        ("the square root is taken: L = 1/2 (y - y_hat)^2, no root",
         np.array(np.sqrt(2 * want) / 2))])


def _directional(ctx, loss, derivative, Y, at, args, direction):
    """The student's `derivative` on `args` if, along `direction`, it agrees with central
    differences of the sum of the student's `loss` over the samples, from `at(-H)` to `at(H)`;
    else None."""
    ends = [_evaluate(ctx, loss, [Y, at(h)], _total)[0] for h in (H, -H)]
    got = _result(ctx.call(derivative, *args))[0]
    if any(end is None for end in ends) or got is None or got.shape != direction.shape:
        return None
    along = (float(np.sum(ends[0])) - float(np.sum(ends[1]))) / (2 * H)
    return got if np.isclose(np.sum(got * direction), along, rtol=1e-4) else None


def check_d_l2_loss(ctx):
    Y, P = ctx.rng.uniform(size=(4, 3)), ctx.rng.uniform(size=(4, 3))
    direction = ctx.rng.normal(size=P.shape)
    want = ref.d_l2_loss(Y, P)
    return _function_check(ctx, "d_l2_loss", [Y, P], want, numeric=lambda: (_directional(
        ctx, "l2_loss", "d_l2_loss", Y, lambda h: P + h * direction, [Y, P], direction),
        "l2_loss"), hints=[
        ("the sign is flipped: dL/dy_hat = y_hat - y (are the arguments swapped?)", -want),
        ("twice the derivative: the 1/2 of L = 1/2 (y - y_hat)^2 cancels the 2", 2 * want),
        (_PER_SAMPLE, want / len(Y))])


def check_cross_entropy_loss(ctx):
    classes = ctx.rng.integers(0, 3, size=4)
    Y = np.eye(3)[classes]
    P = ref.softmax(ctx.rng.normal(0, 1, size=(4, 3)))
    P[np.arange(4), (classes + 1) % 3] = 0.0   # a probability of 0 where the target is 0
    P /= P.sum(axis=1, keepdims=True)
    want = ref.cross_entropy_loss(Y, P)
    clip = "clip the probabilities first, np.clip(YPredict, 1e-12, 1)"
    verdict = _function_check(ctx, "cross_entropy_loss", [Y, P], np.array(want), scalar=True,
                              hints=[(_AVERAGED, np.array(want / len(Y))),
                                     ("log base 2: the loss uses the natural logarithm, np.log",
                                      np.array(want / np.log(2))),
                                     ("log base 10: the loss uses the natural logarithm, np.log",
                                      np.array(want / np.log(10)))])
    if not verdict.passed:
        if "not finite" in verdict.hint:
            verdict.hint = ("log(0) where a predicted probability is 0 (0 * log 0 must count "
                            f"as 0): {clip}")
            verdict.mistake = "cross_entropy_loss: log(0)"
        return verdict
    # the target's own class predicted with probability 0: a large, finite loss
    got, error = _evaluate(ctx, "cross_entropy_loss", [np.array([[1.0, 0.0, 0.0]]),
                                                       np.array([[0.0, 1.0, 0.0]])], _total)
    expected = "a large finite loss (mlplab's: 708.4)"
    if got is None:
        return Verdict(False, expected, error, mistake="cross_entropy_loss raises")
    if got.size != 1 or not np.isfinite(got).all() or float(np.sum(got)) < 1:
        return Verdict(False, expected, _show(got),
                       f"log(0) where the target's class has probability 0: {clip}",
                       mistake="cross_entropy_loss: log(0)")
    return verdict


def check_d_cross_entropy_softmax(ctx):
    Y = np.eye(3)[ctx.rng.integers(0, 3, size=4)]
    logits = ctx.rng.normal(0, 1, size=(4, 3))
    direction = ctx.rng.normal(size=logits.shape)
    S = ref.softmax(logits)
    want = ref.d_cross_entropy_softmax(Y, S)
    # through the softmax: the student's cross_entropy_loss of softmax(z +- H V)
    return _function_check(ctx, "d_cross_entropy_softmax", [Y, S], want, numeric=lambda: (
        _directional(ctx, "cross_entropy_loss", "d_cross_entropy_softmax", Y,
                     lambda h: ref.softmax(logits + h * direction), [Y, S], direction),
        "cross_entropy_loss"), hints=[
        ("the sign is flipped: dL/dz = y_hat - y (are the arguments swapped?)", -want),
        (_PER_SAMPLE, want / len(Y)),
        ("that is dL/dy_hat = -y / y_hat; through the softmax it simplifies to dL/dz = y_hat - y",
         -Y / S)])


# ----- Q2.3: Layer ----------------------------------------------------------------------------

_OWN_ATTRIBUTES = "keep the weights and the biases as NumPy arrays in attributes of their own"
_BIAS_FLAG = "the skeleton's Layer takes a third argument, the bias flag"


def _layers(ctx, bias):
    """Two Layer(3, 2) made with `bias` (asked once): ((layers, how the bias flag was passed),
    '') or (None, error); a layer is {"weights": [(path, transposed)], "biases": [path],
    "arrays": {path: array}}."""
    def ask():
        answer = ctx.ask({"op": "layer", "n_input": 3, "n_output": 2, "bias": bias,
                          "count": 2})
        if "error" in answer:
            return None, answer["error"]
        try:
            layers = [{"weights": [(clean(path)[:80], bool(flip))
                                   for path, flip in layer["weights"]],
                       "biases": [clean(path)[:80] for path in layer["biases"]],
                       "arrays": {clean(k)[:80]: v for k, v in layer["arrays"].items()
                                  if isinstance(v, np.ndarray)}}
                      for layer in answer["value"]["layers"]][:2]
            flag = answer["value"].get("flag")
            return (layers, clean(flag)[:40] if isinstance(flag, str) else None), ""
        except (KeyError, TypeError, ValueError, AttributeError):
            return None, "an answer of the wrong form"
    return ctx.once(("layer", bias), ask)


def check_layer_shapes(ctx):
    (with_bias, error), (without, error_plain) = _layers(ctx, True), _layers(ctx, False)
    if with_bias is None:
        return Verdict(False, "Layer(3, 2): a (3, 2) or (2, 3) weight array", error,
                       mistake="Layer raises")
    layer = with_bias[0][0]
    if len(layer["weights"]) != 1 or len(layer["biases"]) != 1:
        return Verdict(False, "one weight array (3, 2) or (2, 3) and one bias array of 2",
                       f"weights {[w for w, _ in layer['weights']]}, biases "
                       f"{layer['biases']}", _OWN_ATTRIBUTES,
                       mistake="Layer: parameters not found")
    path, transposed = layer["weights"][0]
    if not all(np.all(np.isfinite(layer["arrays"][p])) for p in (path, layer["biases"][0])):
        return Verdict(False, "finite weights and biases", "values that are not finite",
                       "initialize_weights must give finite numbers", mistake="Layer: not finite")
    if without is None:
        return Verdict(False, "Layer(3, 2, bias=False)", error_plain, _BIAS_FLAG,
                       mistake="Layer: no bias flag")
    plain, flag = without[0][0], without[1]
    convention = ["weights stored (n_output, n_input), the column convention of Q1.2"] \
        if transposed else []
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
                   f"{layer['biases'][0]!r}", convention="; ".join(convention))


def check_layer_seeded(ctx):
    layers, error = _layers(ctx, True)
    if layers is None:
        return Verdict(False, "two equal layers", error, mistake="Layer raises")
    first, second = layers[0]
    expected = "two Layer(3, 2) alike"
    if not first["arrays"] or first["arrays"].keys() != second["arrays"].keys():
        return Verdict(False, expected, "arrays not found", _OWN_ATTRIBUTES,
                       mistake="Layer: parameters not found")
    if not all(np.array_equal(first["arrays"][k], second["arrays"][k], equal_nan=True)
               for k in first["arrays"]):
        return Verdict(False, expected, "different weights",
                       "initialize_weights must draw from the rng it is given, "
                       "np.random.default_rng(2), not from np.random's global state",
                       mistake="Layer: unseeded initialisation")
    weights = first["arrays"][first["weights"][0][0]] if first["weights"] else None
    if weights is not None and np.ptp(weights) == 0:
        return Verdict(False, "small random weights", f"every weight {float(weights.flat[0])}",
                       "weights must be small random values: equal weights make every unit of a "
                       "layer learn the same", mistake="Layer: constant weights")
    return Verdict(True, expected, "alike")


# ----- Q2.4 and Q2.5: Network -----------------------------------------------------------------

SPECS = {"l2": {"activations": ["sigmoid", "sigmoid"], "derivatives": ["d_sigmoid", "d_sigmoid"],
                "loss": "l2_loss", "d_loss": "d_l2_loss"},
         "ce": {"activations": ["sigmoid", "softmax"], "derivatives": ["d_sigmoid", None],
                "loss": "cross_entropy_loss", "d_loss": "d_cross_entropy_softmax"}}
SIGMOID_L2 = SPECS["l2"]   # Q1.1, predict and Q2.5: sigmoid units and the L2 loss
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


def _network_request(ctx, sizes, spec, steps=(), data=None, parameters=None, bias=True,
                     stand_ins=(), op="network"):
    """A request for a network of the student's Layer(n_in, n_out, bias) for each of `sizes`
    and Network with the functions of `spec` (the homework's, or mlplab's for a name the file
    lacks, borrowed or in `stand_ins`), its `parameters` set if given, then `steps`
    [(method, arguments)], "$X" an array of `data`."""
    names = {*spec["activations"], *filter(None, spec["derivatives"]), spec["loss"],
             spec["d_loss"]}
    sources = {name: "mlplab" if name in stand_ins else ctx.source(name) for name in names}
    return {"op": op, "layers": [[n_in, n_out, bias] for n_in, n_out in sizes],
            "functions": {**spec, "sources": sources}, "parameters": parameters,
            "data": data or {}, "steps": [list(step) for step in steps]}


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
    """([(returned, [(W, b)])], error): a network answer's steps, every array checked, and its
    error (the request's, or a step's, which ends the steps) or ''."""
    if "error" in answer:
        return [], answer["error"]
    value = answer["value"]
    try:
        steps = []
        for step in value["steps"]:
            parameters = [(W, b) for W, b in step["parameters"]]
            if not all(isinstance(W, np.ndarray) and W.ndim == 2 and (
                    b is None or isinstance(b, np.ndarray)) for W, b in parameters):
                raise ValueError
            steps.append((step.get("returned"), parameters))
    except (ValueError, KeyError, TypeError, AttributeError):
        return [], "an answer of the wrong form"
    if "error" in value:
        step = value.get("failed_step")
        return steps, (f"step {step + 1}: " if isinstance(step, int) and step > 0 else "") + \
            clean(str(value["error"]))[:500]
    return steps, ""


def _network_hint(error):
    if "cannot tell the weights" in error:
        return ("keep each layer's weights and biases as NumPy arrays in attributes of their "
                "own, weights of shape (n_input, n_output) or (n_output, n_input)")
    return _BIAS_FLAG if "takes no bias flag" in error else ""


def _where(answer):
    """What the checker followed: parameters read from the network's own arrays."""
    where = answer.get("value", {}).get("where") or {}
    if not isinstance(where, dict) or not where:
        return []
    shown = ", ".join(f"{clean(k)[:8]} from {clean(v)[:60]}" for k, v in list(where.items())[:6])
    return [f"parameters read where the network keeps them: {shown}"]


def _uses_note(ctx, uses):
    """Notes on functions this check's network took from mlplab, and why."""
    notes = []
    for name in uses:
        if not ctx.defined(name):
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


def _depends(failed):
    return f"depends on {', '.join(code(n) for n in failed)}, which failed"


# --- one fit step

def step_variants(initial, spec, X, Y, learning_rate, reg_lambda):
    """The candidate new parameters of one step from `initial`: for the weights and for the
    biases, [(description, is_convention, [value per layer])], the reference's first."""
    _, gradients = reference_network(initial, spec).gradients(X, Y, reg_lambda)
    n, lr, c = len(X), learning_rate, reg_lambda
    data = [(dW - c * W, db) for (W, _), (dW, db) in zip(initial, gradients)]   # without L2

    def weights(scale, decay, sign=-1):
        return [W + sign * lr * scale * gW - decay * W for (W, _), (gW, _) in zip(initial, data)]

    def biases(change):
        return [None if b is None else b - change(b, gb) for (_, b), (_, gb) in zip(initial,
                                                                                    data)]

    summed = "the gradients summed over the samples, not averaged"
    W_rules = [("", False, weights(1, lr * c))]
    if c:
        W_rules += [
            ("the L2 term scaled by 1/n (reg_lambda / n * W)", True, weights(1, lr * c / n)),
            ("the penalty reg_lambda * ||W||^2, whose gradient is 2 reg_lambda W", True,
             weights(1, 2 * lr * c)),
            ("the decay without the learning rate: W - lr * grad - reg_lambda * W", False,
             weights(1, c)),
            ("reg_lambda is not used", False, weights(1, 0.0)),
            (f"{summed}: the step is n times too large", False, weights(n, lr * c)),
            (f"{summed}, and the L2 term added once per sample", False, weights(n, lr * c * n))]
    else:
        W_rules += [(f"{summed}: the step is n times too large", False, weights(n, 0.0))]
    W_rules += [("the step goes up the gradient: W + lr * dW", False, weights(1, -lr * c, +1))]
    b_rules = [("", False, biases(lambda b, gb: lr * gb)),
               ("the biases never updated", False, biases(lambda b, gb: 0 * b)),
               (f"{summed}: the step is n times too large", False,
                biases(lambda b, gb: lr * n * gb)),
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
    for index, ((_, b), (W1, b1)) in enumerate(zip(initial, after)):
        if b is None and b1 is not None and np.any(b1 != 0):   # no bias: none, or zeros kept
            return False, [], ["a layer made with bias=False got a bias in fit: skip the "
                               "bias when self.bias is False"], f"b{index + 1}"
        for key, value, rules in (("W", W1, W_rules),
                                  ("b", None if b1 is None else b1.reshape(-1), b_rules)):
            if key == "b" and b is None:
                continue
            rule = None if value is None else next(
                (r for r in rules if _close(value, r[2][index])), None)
            if rule is None:
                wrong.append(f"{key}{index + 1}")
            else:
                found.append(rule[:2])
    conventions = sorted({text for text, conv in found if text and conv})
    mistakes = sorted({text for text, conv in found if text and not conv})
    return not wrong and not mistakes, conventions, mistakes, ", ".join(wrong)


def _judge_fit(answer, spec, X, Y, learning_rate, reg_lambda, bias=True):
    steps, error = _steps(answer)
    if error or len(steps) < 2:
        return Verdict(False, "one fit step", error or "an answer of the wrong form",
                       _network_hint(error), mistake="fit raises")
    (_, initial), (_, after) = steps[:2]
    passed, conventions, mistakes, wrong = judge_step(initial, after, spec, X, Y,
                                                      learning_rate, reg_lambda, bias)
    expected = "the reference's new weights and biases"
    if passed:
        return Verdict(True, expected, "the same", convention="; ".join(conventions))
    if mistakes:
        return Verdict(False, expected, "other values" + (f" ({wrong} unmatched)" if wrong
                                                          else ""),
                       "your step equals the reference's with " + "; and ".join(mistakes),
                       mistake="fit: " + _first_clause(mistakes[0]))
    last = {f"W{len(initial)}", f"b{len(initial)}"}
    if wrong and not last & set(wrong.split(", ")):
        hint = (f"the output layer's step is right, {wrong} is not: check how delta is carried "
                "back, delta_prev = (delta @ W.T) * d_activation(z_prev), and dW = a_prev.T @ "
                "delta")
    else:
        hint = ("no known mistake matches: compare dW and db with mlplab's Network.gradients "
                "on the same weights")
    return Verdict(False, expected, f"other values ({wrong})", hint,
                   mistake="fit: unknown mistake")


FITS = [("fit: sigmoid and L2 loss", "l2", 0.0),
        ("fit: sigmoid and L2 loss, reg_lambda 0.1", "l2", 0.1),
        ("fit: softmax and cross-entropy", "ce", 0.0),
        ("fit: softmax and cross-entropy, reg_lambda 0.1", "ce", 0.1)]
LEARNING_RATE = 0.1


def _fit_check(label, targets, reg_lambda, bias=True):
    """The check of one fit step of a 4-5-n network on 6 samples (n: 2 for `targets` "l2", 3
    one-hot classes for "ce"), against the reference's new parameters."""
    spec, uses = SPECS[targets], STEP_USES[targets]
    sizes = [(4, 5), (5, 2 if targets == "l2" else 3)]

    def run(ctx):
        def data():
            X = ctx.rng.normal(size=(6, 4))
            return X, (ctx.rng.uniform(size=(6, 2)) if targets == "l2" else
                       np.eye(3)[ctx.rng.permutation([0, 1, 2, 0, 1, 2])])

        X, Y = ctx.once(("data", label), data)

        def judged(key, stand_ins=()):
            answer = _network_answer(ctx, key, _network_request(
                ctx, sizes, spec, [("fit", ["$X", "$Y", LEARNING_RATE, reg_lambda])],
                {"X": X, "Y": Y}, bias=bias, stand_ins=stand_ins))
            return answer, _judge_fit(answer, spec, X, Y, LEARNING_RATE, reg_lambda, bias)

        answer, verdict = judged(label)
        verdict.notes += _uses_note(ctx, uses) + _where(answer)
        if answer.get("ones_for_none"):
            verdict.convention = "; ".join(filter(None, [
                verdict.convention, "the network calls the softmax layer's derivative, so the "
                "checker gave ones for its None"]))
        failed = [] if verdict.passed else _failed_uses(ctx, (*uses, spec["loss"]))
        if failed:   # isolate the network: the same step with mlplab's functions for those
            _, isolated = judged(("alone", label), failed)
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


def check_fit_returns(ctx):
    """fit's returned value: the average loss over the samples, before the update."""
    seen, conventions = 0, set()
    for label, targets, reg in FITS:
        steps, error = _steps(ctx.cache.get(label, {"error": "not asked"}))
        if error or len(steps) < 2:
            continue
        (_, initial), (returned, after) = steps[:2]
        spec = SPECS[targets]
        X, Y = ctx.cache[("data", label)]
        net = reference_network(initial, spec)
        want = float(net.loss(X, Y))
        array = returned.get("array") if isinstance(returned, dict) else None
        got = float(array.ravel()[0]) if isinstance(array, np.ndarray) and array.size == 1 \
            and np.isfinite(array).all() else None
        seen += 1
        if got is not None and np.isclose(got, want, rtol=RTOL, atol=1e-12):
            continue
        if got is not None and reg and np.isclose(got, float(net.loss(X, Y, reg)), rtol=RTOL):
            conventions.add("fit returns the objective J, the mean loss plus the L2 penalty")
            continue
        loss = spec["loss"]
        if got is None:
            kind = clean(str(returned.get("type", "?")))[:40] if isinstance(returned, dict) \
                else "?"
            hint = ("fit returns " + ("None" if kind == "NoneType" else f"a {kind}") +
                    ": the skeleton's fit ends with return loss / n_sample")
        else:
            variants = [("fit returns the loss after the update, not before",
                         float(reference_network(after, spec).loss(X, Y))),
                        ("fit returns the total loss: divide by n_sample", want * len(X)),
                        ("the loss is divided by the number of samples twice", want / len(X))]
            if loss == "l2_loss":
                variants.append((f"twice the loss: depends on {code('l2_loss')} (the 1/2?)",
                                 2 * want))
            hint = next((text for text, value in variants if np.isclose(got, value, rtol=1e-6)),
                        "")
            failed = _failed_uses(ctx, [loss, *spec["activations"]])
            if not hint and failed:
                hint = _depends(failed)
        return Verdict(False, f"{want:.10g} ({label})", _show(got),
                       hint or "the returned value is not the average loss over the samples",
                       difference(np.array(want), None if got is None else np.array(got)),
                       mistake="fit's returned loss: " + (_first_clause(hint) if hint else
                                                          "wrong"))
    if not seen:
        return Verdict(False, "the average loss", "no fit step finished",
                       "see the fit checks", mistake="fit raises")
    return Verdict(True, "the average loss before the update", "the same",
                   convention="; ".join(sorted(conventions)))


# --- Q1.1, predict, Q2.5

def check_q1_forward(ctx):
    q1 = assignment.Q1
    parameters = [(np.array(q1["W1"]), np.array(q1["b1"])),
                  (np.array(q1["W2"]), np.array(q1["b2"]))]
    inputs = np.vstack([q1["input"], ctx.rng.normal(0, 1.5, size=(2, 2))])
    want = reference_network(parameters, SIGMOID_L2).forward(inputs)[-1][:, 0]

    def outputs(stand_ins=()):
        request = _network_request(ctx, [(2, 3), (3, 1)], SIGMOID_L2, parameters=parameters,
                                   stand_ins=stand_ins, op="output")
        # three ways to read the output, each with a request's time
        answer = ctx.ask({**request, "inputs": inputs}, seconds=2 * ctx.limits.request_seconds)
        if "error" in answer:
            return None, "", answer["error"]
        value = answer["value"]
        got = value.get("outputs") if isinstance(value, dict) else None
        if not isinstance(got, list) or len(got) != len(want) or not all(
                isinstance(v, (int, float)) for v in got):
            return None, "", "an answer of the wrong form"
        return np.array(got, dtype=float), clean(str(value.get("method", "")))[:80], ""

    got, method, error = outputs()
    notes = _uses_note(ctx, ["sigmoid"]) + ([f"output read by {method}"] if method else [])
    if got is not None and _close(got, want, 1e-9):
        return Verdict(True, f"{want[0]:.4f}", f"{got[0]:.4f}", notes=notes)
    hint = _network_hint(error) if error else (
        "check the forward pass: z = a_prev W + b and a = sigmoid(z) per layer")
    failed = _failed_uses(ctx, ["sigmoid"])
    if failed and got is not None:
        alone = outputs(failed)[0]
        hint = _depends(failed) + (": with mlplab's sigmoid in place of yours the output is "
                                   "right" if alone is not None and _close(alone, want, 1e-9)
                                   else "")
    return Verdict(False, f"{want[0]:.4f} (and {_show(want[1:])} for two other inputs)",
                   error or f"{got[0]:.4f}", hint, difference(want, got) if got is not None
                   else "", notes=notes, mistake="Q1.1 forward pass wrong")


def check_predict(ctx):
    X = np.vstack([ctx.rng.normal(0, 1, size=(3, 2)), [[0.0, 0.0]]])
    one = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
           (np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.zeros(1))]
    outputs = reference_network(one, SIGMOID_L2).forward(X)[-1][:, 0]
    threshold = float(outputs[3])   # a row exactly at the threshold: > says 0, >= says 1
    three = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
             (np.linspace(1, -1, 12).reshape(4, 3), np.linspace(-0.1, 0.1, 3))]
    want = [(outputs > threshold).astype(int), (outputs > 0.5).astype(int),
            np.argmax(reference_network(three, SIGMOID_L2).forward(X)[-1], axis=1)]
    returned = []
    for parameters, steps in ((one, [("predict", ["$X", threshold]), ("predict", ["$X"])]),
                              (three, [("predict", ["$X"])])):
        steps, error = _steps(ctx.ask(_network_request(
            ctx, [(2, 4), (4, len(parameters[1][1]))], SIGMOID_L2, steps, {"X": X},
            parameters)))
        if error:
            return Verdict(False, _show(want[0]), error, _network_hint(error),
                           mistake="predict raises")
        returned += [r for r, _ in steps[1:]]
    kinds = [clean(str(r.get("type", "?")))[:40] if isinstance(r, dict) else "?"
             for r in returned]
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
                   mistake="predict: " + (_first_clause(hint) if hint else "wrong labels"))


def check_q2_5(ctx):
    """The assignment's Q2.5 run, its targets as its cell passes them (1-D labels): the loss of
    the network's own parameters (mlplab's L2) must fall at every epoch."""
    X, y = assignment.load_q25()
    epochs, lr, reg = (assignment.Q2_5_EPOCHS, assignment.Q2_5_LEARNING_RATE,
                       assignment.Q2_5_REG_LAMBDA)
    expected, convention = f"{epochs} falling losses", ""
    for targets in (y.astype(float), y.astype(float)[:, None]):
        answer = ctx.ask(_network_request(ctx, [(2, 4), (4, 1)], SIGMOID_L2,
                                          [("fit", ["$X", "$Y", lr, reg])] * epochs,
                                          {"X": X, "Y": targets}),
                         seconds=ctx.limits.training_seconds)
        steps, error = _steps(answer)
        if not error:
            break
        convention = "fit needs the targets as a column (n, 1); the Q2.5 cell passes (n,)"
    if error:
        return Verdict(False, expected, error, _network_hint(error), mistake="Q2.5 raises")
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
            return Verdict(False, expected, "parameters of the wrong shape")
    notes = _uses_note(ctx, STEP_USES["l2"]) + _where(answer) + [
        "losses computed by mlplab from your network's parameters after each epoch"]
    failed = _failed_uses(ctx, STEP_USES["l2"])
    depends = _depends(failed) + "; " if failed else ""
    if diverged is not None:
        return Verdict(False, expected, f"parameters not finite after epoch {diverged} "
                       "(training diverged)", depends + "the step makes the weights overflow: "
                       "check the gradients", notes=notes, mistake="Q2.5 diverges")
    falling = all(b < a for a, b in zip(losses, losses[1:]))
    if falling and len(losses) == epochs:
        return Verdict(True, expected, f"{losses[0]:.4g} to {losses[-1]:.4g}",
                       convention=convention, notes=notes)
    first = next((i for i, (a, b) in enumerate(zip(losses, losses[1:])) if b >= a), 0)
    hint = depends + ("the loss must fall at every epoch of the Q2.5 run" if first else
                      "the loss rises at the first epoch: the step goes the wrong way or is "
                      "too large")
    return Verdict(False, expected,
                   f"{_show(np.array(losses))} (epoch {first + 2} does not fall)", hint,
                   notes=notes, mistake="Q2.5 loss does not fall")


# --- from scratch

def check_from_scratch(ctx):
    """Every name the homework defines is the student's own: not mlplab's, not a neural-network
    library's, however imported (decided from the objects and from what runs); and the file
    imports no such module at all (Q2.1)."""
    expected = "the homework's definitions written in the file, no neural-network package"
    borrowed = {name: ctx.borrowed(name) for name in NAMES if ctx.borrowed(name)}
    imported = ", ".join(map(code, sorted(set(ctx.imported) | ctx.tried)))
    if borrowed:
        return Verdict(False, expected, "; ".join(f"{n} {why}" for n, why in borrowed.items()),
                       "the assignment (Q2.1) forbids neural-network packages, and another's "
                       "network: write these yourself; the checks they serve score 0",
                       notes=[f"imports {imported}"] if imported else [],
                       mistake="borrowed " + ", ".join(borrowed))
    if imported:
        return Verdict(False, expected, f"the file imports {imported}",
                       "the assignment (Q2.1) forbids importing neural-network packages, even "
                       "where no checked definition uses them",
                       mistake="imports a forbidden package")
    if not ctx.names:
        return Verdict(False, expected, "none of the homework's names is defined",
                       mistake="nothing defined")
    return Verdict(True, expected, "yes")


# ----- the list -------------------------------------------------------------------------------

_NETWORK = ("Layer", "Network")
_FUNCTION_CHECKS = (check_sigmoid, check_d_sigmoid, check_softmax, check_l2_loss,
                    check_d_l2_loss, check_cross_entropy_loss, check_d_cross_entropy_softmax)


def all_checks():
    """Every check, in the assignment's order (Gradescope's test numbers)."""
    table = [("written from scratch", "Q2.1", "2.1", 1, NAMES, check_from_scratch)]
    table += [(name, "Q2.2", f"2.2.{i}", 1, (name,), run)
              for i, (name, run) in enumerate(zip(assignment.FUNCTIONS, _FUNCTION_CHECKS), 1)]
    table += [("Layer: shapes and biases", "Q2.3", "2.3.1", 2, ("Layer",), check_layer_shapes),
              ("Layer: seeded initialisation", "Q2.3", "2.3.2", 2, ("Layer",),
               check_layer_seeded),
              ("Network: the Q1.1 forward pass", "Q2.4", "2.4.1", 2, _NETWORK,
               check_q1_forward)]
    table += [(label, "Q2.4", f"2.4.{i}", 3, _NETWORK, _fit_check(label, targets, reg))
              for i, (label, targets, reg) in enumerate(FITS, start=2)]
    table += [("fit: layers without bias", "Q2.4", "2.4.6", 2, _NETWORK,
               _fit_check("fit: layers without bias", "l2", 0.1, bias=False)),
              ("fit: returns the average loss", "Q2.4", "2.4.7", 1, _NETWORK,
               check_fit_returns),
              ("predict: labels as an array, by threshold (>) and by arg-max", "Q2.4", "2.4.8",
               2, _NETWORK, check_predict),
              ("Q2.5: the loss falls at every epoch", "Q2.5", "2.5", 2, _NETWORK, check_q2_5)]
    return [Check(name, part, number, float(points), needs, run)
            for name, part, number, points, needs, run in table]


def run_checks(ctx, checks=None):
    """[(check, verdict)] in the checks' order: a check of a name the file does not define
    fails with the near names; the from-scratch check runs last (it needs what ran), and a
    check that runs a borrowed Layer or Network scores 0."""
    checks = list(all_checks() if checks is None else checks)
    if ctx.load_error:
        return [(check, Verdict(False, "", "", f"not reached: {ctx.load_error}",
                                mistake="the file could not be loaded")) for check in checks]
    last = [c for c in checks if c.run is check_from_scratch]
    for check in [c for c in checks if c not in last] + last:
        absent = [] if check in last else [n for n in check.needs if not ctx.defined(n)]
        try:
            verdict = ctx.missing(absent[0]) if absent else check.run(ctx)
        except Exception as exc:   # an answer of a form no check foresaw: that check fails
            verdict = Verdict(False, "", clean(f"{type(exc).__name__}: {exc}")[:300],
                              "the checker could not read an answer of the student's code")
        ctx.verdicts[check.name] = verdict
    for check in checks:
        verdict = ctx.verdicts[check.name]
        taken = [name for name in check.needs if name in (*_NETWORK, check.name)
                 and ctx.borrowed(name)] if check not in last else []
        if taken:
            ctx.verdicts[check.name] = Verdict(
                False, verdict.expected, verdict.got,
                "scores 0: " + "; ".join(f"{name} {ctx.borrowed(name)}" for name in taken),
                notes=verdict.notes, mistake="borrowed " + ", ".join(taken))
    return [(check, ctx.verdicts[check.name]) for check in checks]
