"""The checks of `mlplab check`: what to ask the student's code, and the verdict on its answers.

Each check is a named unit (`Check`): the requests it sends to the child (`child.answer`), and a
function of the answers that returns its `Verdict`: passed or not, what was expected and what
came back, and a hint where a known mistake matches. The reference is mlplab's own functions and
its readable `Network` (``engine=False``).
"""

import functools
from dataclasses import dataclass, field

import numpy as np

from .. import functions as ref
from ..layer import Layer
from ..network import Network

NAMES = ("sigmoid", "d_sigmoid", "softmax", "l2_loss", "d_l2_loss", "cross_entropy_loss",
         "d_cross_entropy_softmax", "Layer", "Network")
RTOL = 1e-8


@dataclass
class Verdict:
    passed: bool
    expected: str = ""
    got: str = ""
    hint: str = ""
    convention: str = ""   # a choice the skeleton leaves open, named instead of failed

    def __post_init__(self):
        self.passed = bool(self.passed)   # a NumPy comparison gives np.bool_


@dataclass
class Check:
    name: str
    part: str                      # the assignment's part: Q2.2, Q2.3, Q2.4, Q2.5
    requests: list = field(default_factory=list)
    judge: object = None           # answers -> Verdict

    @property
    def needs(self):
        """The assignment's names the check's requests use, in the order of `NAMES`."""
        used = set()
        for request in self.requests:
            if request["kind"] == "call":
                used.add(request["name"])
            else:
                used |= {"Layer"} | ({"Network", request["loss"], request["d_loss"],
                                      *request["activations"],
                                      *filter(None, request["derivatives"])}
                                     if request["kind"] == "network" else set())
        return [name for name in NAMES if name in used]


def _array(answer):
    """A child's answer as a float array (None if it is not one)."""
    if isinstance(answer, dict) and "values" in answer:
        return np.array(answer["values"], dtype=float).reshape(answer["shape"])
    if isinstance(answer, float):
        return np.array(answer)
    return None


def _close(got, want, rtol=RTOL):
    return (got is not None and np.shape(got) == np.shape(want)
            and np.allclose(got, want, rtol=rtol, atol=rtol * max(1.0, np.max(np.abs(want)))))


def _show(value):
    if value is None:
        return "nothing usable"
    return np.array2string(np.asarray(value), precision=6, threshold=8, max_line_width=60)


# ----- Q2.2: the functions --------------------------------------------------------------------

Z = np.array([[-1000.0, -20.0, -1.0], [0.0, 0.5, 3.0], [20.0, 709.0, 1000.0]])
ROWS = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1000.0, 1000.0, 1000.0],
                 [-1000.0, 0.0, 1000.0]])
Y_ONE_HOT = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
P_WITH_ZERO = np.array([[0.2, 0.8, 0.0], [0.7, 0.1, 0.2], [0.0, 0.0, 1.0]])
H = 1e-6
LOGITS = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -1.0], [0.5, 0.5, -0.7]])
DIRECTION = np.array([[1.0, -0.5, 0.2], [-0.3, 0.8, 0.1], [0.6, -0.9, 0.4]])


def _call(name, *args):
    return {"kind": "call", "name": name, "args": [np.asarray(a).tolist() for a in args]}


def _function_check(name, args, want, hints=(), combine=np.stack):
    """Check `name` on `args` against `want`; `hints`: (description, alternative value). A
    function written for one sample (a 1-D row) at a time, as the skeleton allows, is asked row
    by row too: its rows put together by `combine` (np.stack; np.sum for a loss)."""
    rows = [{"id": f"{name} row {i}", **_call(name, *(a[i] for a in args))}
            for i in range(len(args[0]))]

    def judge(answers):
        answer = answers[f"{name}"]
        got = None if "error" in answer else _array(answer["value"])
        bad_warnings = [w for w in answer.get("warnings", []) if "overflow" in w
                        or "divide" in w or "invalid" in w]
        if got is not None and _close(got, want) and np.all(np.isfinite(got)):
            return Verdict(True, _show(want), _show(got), convention=(
                f"right values, but NumPy warned ({bad_warnings[0]})" if bad_warnings else ""))
        hint = next((text for text, alternative in hints
                     if got is not None and _close(got, alternative, 1e-6)), "")
        by_row = [_array(answers[row["id"]].get("value")) for row in rows]
        if not hint and all(r is not None for r in by_row) and all(
                np.shape(r) == np.shape(by_row[0]) for r in by_row):
            stacked = combine(by_row)
            if _close(stacked, want) and np.all(np.isfinite(stacked)):
                return Verdict(True, _show(want), _show(stacked), convention=(
                    "computes one sample (a 1-D row) at a time, not a batch of rows"))
        if got is None:
            return Verdict(False, _show(want), answer.get("error", "nothing usable"))
        if not hint and not np.all(np.isfinite(got)):
            hint = "not finite for extreme inputs: compute it in a way that cannot overflow"
        if not hint and bad_warnings:
            hint = f"NumPy warned: {bad_warnings[0]}"
        return Verdict(False, _show(want), _show(got), hint)
    return Check(name, "Q2.2", [{"id": name, **_call(name, *args)}, *rows], judge)


def _sum(rows):
    return np.array(float(np.sum(rows)))


def _derivative_check(name, function, args, analytic, output_hint, shifted=None,
                      reduce=None):
    """`name` against the reference and against central differences of the student's own
    `function`: `shifted` gives the arguments of `function` with the point moved by +-H along
    one direction (default: the last argument, all of it at once), and `reduce` what the
    derivative adds up to along that direction (None: elementwise). `output_hint`: the value a
    derivative written in terms of the output gives."""
    if shifted is None:
        def shifted(sign):
            return [*args[:-1], args[-1] + sign * H]
    requests = [{"id": name, **_call(name, *args)},
                {"id": f"{name}+", **_call(function, *shifted(+1))},
                {"id": f"{name}-", **_call(function, *shifted(-1))}]

    def judge(answers):
        answer = answers[name]
        if "error" in answer:
            return Verdict(False, _show(analytic), answer["error"])
        got = _array(answer["value"])
        up, down = (_array(answers[key].get("value")) for key in (f"{name}+", f"{name}-"))
        numeric = None if up is None or down is None else (up - down) / (2 * H)
        if _close(got, analytic, 1e-7):
            along = got if reduce is None else reduce(got)
            if numeric is not None and not _close(along, numeric, 1e-4):
                return Verdict(False, _show(numeric), _show(got),
                               f"matches mlplab's but not central differences of your {function}")
            return Verdict(True, _show(analytic), _show(got))
        hint = ""
        if got is not None and _close(got, output_hint, 1e-6):
            hint = (f"{name} is written in terms of the activation a = {function}(z), but the "
                    "network calls it with z: take z and compute the activation inside")
        return Verdict(False, _show(analytic), _show(got), hint)
    return Check(name, "Q2.2", requests, judge)


def function_checks():
    z = Z[1:2]   # moderate values for the derivatives
    Y, P = Y_ONE_HOT, np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
    return [
        _function_check("sigmoid", [Z], ref.sigmoid(Z)),
        _derivative_check("d_sigmoid", "sigmoid", [z], ref.d_sigmoid(z), z * (1 - z)),
        _function_check("softmax", [ROWS], ref.softmax(ROWS), hints=
                        [("normalised down the columns (axis 0) instead of along each row: use "
                          "axis=-1 (or 1) with keepdims=True", _columns_softmax(ROWS))]),
        _function_check("l2_loss", [Y, P], ref.l2_loss(Y, P), combine=_sum, hints=
                        [("the 1/2 is missing: L = 1/2 (y - y_hat)^2", 2 * ref.l2_loss(Y, P)),
                         ("it averages over the samples; the skeleton's fit divides by "
                          "n_sample, so the loss must be the sum", ref.l2_loss(Y, P) / len(Y))]),
        _derivative_check("d_l2_loss", "l2_loss", [Y, P], ref.d_l2_loss(Y, P),
                          np.full(P.shape, np.nan),
                          lambda sign: [Y, P + sign * H * DIRECTION],
                          lambda g: np.sum(g * DIRECTION)),
        _function_check("cross_entropy_loss", [Y_ONE_HOT, P_WITH_ZERO],
                        ref.cross_entropy_loss(Y_ONE_HOT, P_WITH_ZERO), combine=_sum),
        # dL/dz through the softmax: your cross_entropy_loss of softmax(z +- H V) along V
        _derivative_check("d_cross_entropy_softmax", "cross_entropy_loss", [Y, ref.softmax(LOGITS)],
                          ref.d_cross_entropy_softmax(Y, ref.softmax(LOGITS)),
                          np.full(P.shape, np.nan),
                          lambda sign: [Y, ref.softmax(LOGITS + sign * H * DIRECTION)],
                          lambda g: np.sum(g * DIRECTION)),
    ]


def _columns_softmax(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


# ----- Q2.3: Layer ----------------------------------------------------------------------------

def layer_checks():
    def shapes(answers):
        answer, plain = answers["Layer(3, 2)"], answers["Layer(3, 2, bias=False)"]
        for a in (answer, plain):
            if "error" in a:
                return Verdict(False, "a (3, 2) or (2, 3) weight array", a["error"])
        layer, no_bias = answer["value"][0], plain["value"][0]
        if len(layer["weights"]) != 1 or len(layer["biases"]) != 1:
            return Verdict(False, "one weight array (3, 2) or (2, 3) and one bias array of 2",
                           f"weights {layer['weights']}, biases {layer['biases']}")
        if no_bias["biases"]:
            return Verdict(False, "no bias array with bias=False",
                           f"bias arrays {no_bias['biases']}")
        transposed = layer["weights"][0][1]
        return Verdict(True, "weights and biases", f"weights {layer['weights'][0][0]!r} "
                       f"({'(n_output, n_input)' if transposed else '(n_input, n_output)'}), "
                       f"biases {layer['biases'][0]!r}",
                       convention=("weights stored (n_output, n_input), the column convention "
                                   "of Q1.2" if transposed else ""))

    def seeded(answers):
        answer = answers["Layer(3, 2)"]
        if "error" in answer:
            return Verdict(False, "two equal layers", answer["error"])
        first, second = answer["value"]
        same = all(first["arrays"].get(name) == second["arrays"].get(name)
                   for name in first["arrays"])
        if same and first["arrays"]:
            return Verdict(True, "two Layer(3, 2) alike", "alike")
        return Verdict(False, "two Layer(3, 2) alike", "different weights",
                       "initialize_weights must draw from the rng it is given, "
                       "np.random.default_rng(2), not from np.random's global state")

    requests = [{"id": "Layer(3, 2)", "kind": "layer", "args": [3, 2]},
                {"id": "Layer(3, 2, bias=False)", "kind": "layer", "args": [3, 2],
                 "kwargs": {"bias": False}}]
    return [Check("Layer: shapes and biases", "Q2.3", requests, shapes),
            Check("Layer: seeded initialisation", "Q2.3", requests[:1], seeded)]


# ----- Q2.4 and Q2.5: Network -----------------------------------------------------------------

SIGMOID_L2 = dict(activations=["sigmoid", "sigmoid"], derivatives=["d_sigmoid", "d_sigmoid"],
                  loss="l2_loss", d_loss="d_l2_loss")
SOFTMAX_CE = dict(activations=["sigmoid", "softmax"], derivatives=["d_sigmoid", None],
                  loss="cross_entropy_loss", d_loss="d_cross_entropy_softmax")
_RNG = np.random.default_rng(0)
X_STEP = _RNG.normal(size=(6, 4))
Y_STEP = {"l2": _RNG.uniform(size=(6, 2)), "ce": np.eye(3)[[0, 1, 2, 2, 1, 0]]}


def reference_network(parameters, spec):
    """mlplab's readable Network with the given [(W (n_in, n_out), b or None), ...]."""
    layers = []
    for W, b in parameters:
        layer = Layer(*np.shape(W), bias=b is not None)
        layer.weights = np.array(W, dtype=float)
        if b is not None:
            layer.biases = np.array(b, dtype=float)
        layers.append(layer)
    functions = {name: getattr(ref, name) for name in NAMES[:7]}
    return Network(layers, [functions[name] for name in spec["activations"]],
                   [functions[name] if name else None for name in spec["derivatives"]],
                   functions[spec["loss"]], functions[spec["d_loss"]], engine=False)


def _parameters(step):
    return [(_array(W), None if b is None else _array(b)) for W, b in step["parameters"]]


def fit_variants(initial, spec, X, Y, learning_rate, reg_lambda):
    """{description: (loss, parameters)}: the reference step, then the known mistakes and
    conventions, each from the same initial parameters."""
    net = reference_network(initial, spec)
    n = len(X)
    loss, gradients = net.gradients(X, Y, reg_lambda)
    lr, c = learning_rate, reg_lambda

    def step(dW_of, db_of, returned=None):
        params = [(W - lr * dW_of(W, dW), None if b is None else b - db_of(b, db))
                  for (W, b), (dW, db) in zip(initial, gradients)]
        if returned is None:
            returned = loss
        return returned, params

    def data_gradient(W, dW):   # dJ/dW without the penalty
        return dW - c * W

    variants = {
        "reference": step(lambda W, dW: dW, lambda b, db: lr * db),
        "the gradients summed over the samples, not averaged: the step is n times too large":
            step(lambda W, dW: n * data_gradient(W, dW) + c * W, lambda b, db: lr * n * db),
        "the biases decayed by reg_lambda too (only weights are)":
            step(lambda W, dW: dW, lambda b, db: lr * (db + c * b)),
        "the decay without the learning rate: W - lr * grad - reg_lambda * W":
            step(lambda W, dW: data_gradient(W, dW) + c * W / lr, lambda b, db: lr * db),
        "the biases never updated":
            step(lambda W, dW: dW, lambda b, db: 0 * b),
        "CONVENTION the L2 term scaled by 1/n (reg_lambda / n * W)":
            step(lambda W, dW: data_gradient(W, dW) + c / n * W, lambda b, db: lr * db),
    }
    updated = reference_network(variants["reference"][1], spec)
    variants["fit returns the loss after the update, not before"] = (
        updated.loss(X, Y), variants["reference"][1])
    variants["CONVENTION fit returns the objective J, the mean loss plus the L2 penalty"] = (
        net.loss(X, Y, reg_lambda), variants["reference"][1])
    return variants


def _matches(loss, params, want_loss, want_params):
    return (loss is not None and np.isclose(loss, want_loss, rtol=RTOL, atol=1e-12)
            and all(_close(W, W_want) and (b_want is None or _close(b, b_want))
                    for (W, b), (W_want, b_want) in zip(params, want_params)))


def _fit_check(label, spec, sizes, targets, reg_lambda):
    X, Y = X_STEP, Y_STEP[targets]
    request = {"id": label, "kind": "network", "layers": [[*size, True] for size in sizes],
               **spec, "steps": [["fit", [X.tolist(), Y.tolist(), 0.1, reg_lambda]]]}

    def judge(answers):
        answer = answers[label]
        if "error" in answer:
            return Verdict(False, "one fit step", answer["error"], _network_hint(answer))
        before, after = answer["value"]["steps"]
        loss = after["value"] if isinstance(after["value"], float) else None
        variants = fit_variants(_parameters(before), spec, X, Y, 0.1, reg_lambda)
        want_loss, want_params = variants.pop("reference")
        got_params = _parameters(after)
        if _matches(loss, got_params, want_loss, want_params):
            return Verdict(True, f"loss {want_loss:.6g} and the reference's new weights",
                           f"loss {loss:.6g}, the same weights", convention=(
                               "the network calls the softmax layer's derivative, so the "
                               "checker gave ones for its None" if answer["value"].get(
                                   "ones_for_none") else ""))
        for description, (v_loss, v_params) in variants.items():
            if _matches(loss, got_params, v_loss, v_params):
                if description.startswith("CONVENTION "):
                    return Verdict(True, f"loss {want_loss:.6g}", f"loss {loss:.6g}",
                                   convention=description[len("CONVENTION "):])
                return Verdict(False, f"loss {want_loss:.6g} and the reference's new weights",
                               f"loss {loss}", f"your step equals the reference's with "
                               f"{description}")
        if _matches(want_loss, got_params, want_loss, want_params):
            return Verdict(False, f"loss {want_loss:.6g}", f"loss {loss}, the right weights",
                           "the step is right but the loss it returns is not the mean loss "
                           f"before the update: check {spec['loss']} (a missing 1/2?) and the "
                           "division by n_sample")
        return Verdict(False, f"loss {want_loss:.6g} and the reference's new weights",
                       f"loss {loss}, other weights",
                       "no known mistake matches: compare dW and db with mlplab's "
                       "Network.gradients on the same weights")
    return Check(label, "Q2.4", [request], judge)


def _network_hint(answer):
    if "cannot tell the weights" in answer.get("error", ""):
        return ("keep each layer's weights and biases as NumPy arrays in attributes of their "
                "own, weights of shape (n_input, n_output) or (n_output, n_input)")
    if "NoneType" in answer.get("error", ""):
        return ("the checker gives None as the softmax layer's derivative: "
                "d_cross_entropy_softmax already returns dL/dz")
    return ""


def network_checks():
    from ..lab import configs

    q1 = configs.Q1
    q1_parameters = [(q1["W1"], q1["b1"]), (q1["W2"], q1["b2"])]
    x = np.array([q1["input"]])
    output = reference_network([(np.array(W), np.array(b)) for W, b in q1_parameters],
                               SIGMOID_L2).forward(x)[-1][0, 0]
    q11 = {"id": "Q1.1", "kind": "network", "layers": [[2, 3, True], [3, 1, True]], **SIGMOID_L2,
           "parameters": q1_parameters, "steps": [["fit", [x.tolist(), [[0.0]], 1e-12, 0.0]]]}

    def forward(answers):
        answer, unit = answers["Q1.1"], answers["l2_loss of 1"].get("value")
        if "error" in answer:
            return Verdict(False, f"{output:.4f}", answer["error"], _network_hint(answer))
        # fit's loss on the target 0 is k * output^2, k the student's l2_loss of a difference
        # of 1 (1/2 as it should be): the output, whatever l2_loss's scale
        loss = answer["value"]["steps"][1]["value"]
        got = (np.sqrt(loss / unit) if isinstance(loss, float) and isinstance(unit, float)
               and loss >= 0 and unit > 0 else None)
        verdict = Verdict(got is not None and abs(got - output) < 1e-6, f"{output:.4f}",
                          "nothing usable" if got is None else f"{got:.4f}")
        if not verdict.passed:
            verdict.hint = ("read from fit's loss on the target 0: check the forward pass, "
                            "z = a_prev W + b and a = sigmoid(z) per layer")
        return verdict

    from ..datasets import load_q25
    X25, Y25 = load_q25()
    q25 = {"id": "Q2.5", "kind": "network", "layers": [[2, 4, True], [4, 1, True]],
           **SIGMOID_L2, "steps": [["fit", [X25.tolist(), Y25.astype(float).tolist(), 1e-2,
                                            0]]] * 100}

    def decreasing(answers):
        answer = answers["Q2.5"]
        if "error" in answer:
            return Verdict(False, "100 falling losses", answer["error"], _network_hint(answer))
        losses = [step["value"] for step in answer["value"]["steps"][1:]]
        if all(isinstance(v, float) for v in losses) and all(
                b < a for a, b in zip(losses, losses[1:])):
            return Verdict(True, "100 falling losses", f"{losses[0]:.4g} to {losses[-1]:.4g}")
        return Verdict(False, "100 falling losses", _show(np.array(losses, dtype=float)),
                       "the loss must fall at every epoch of the Q2.5 run")

    predict_parameters = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
                          (np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.zeros(1))]
    X_predict = np.array([[0.5, -1.0], [1.0, 2.0], [-2.0, 0.3], [0.0, 0.0]])
    outputs = reference_network(predict_parameters, SIGMOID_L2).forward(X_predict)[-1][:, 0]
    threshold = float(outputs[3])   # a row exactly at the threshold: > says 0, >= says 1
    parameters = [[np.asarray(W).tolist(), np.asarray(b).tolist()]
                  for W, b in predict_parameters]
    predict = {"id": "predict", "kind": "network", "layers": [[2, 4, True], [4, 1, True]],
               **SIGMOID_L2, "parameters": parameters,
               "steps": [["predict", [X_predict.tolist(), threshold]],
                         ["predict", [X_predict.tolist()]]]}
    three = [(np.linspace(-1, 1, 8).reshape(2, 4), np.zeros(4)),
             (np.linspace(1, -1, 12).reshape(4, 3), np.linspace(-0.1, 0.1, 3))]
    argmax = {"id": "predict (arg-max)", "kind": "network",
              "layers": [[2, 4, True], [4, 3, True]], **SIGMOID_L2,
              "parameters": [[np.asarray(W).tolist(), np.asarray(b).tolist()]
                             for W, b in three],
              "steps": [["predict", [X_predict.tolist()]]]}
    want = [(outputs > threshold).astype(int), (outputs > 0.5).astype(int),
            np.argmax(reference_network(three, SIGMOID_L2).forward(X_predict)[-1], axis=1)]

    def labels(answers):
        if "error" in answers["predict (arg-max)"]:
            answer = answers["predict (arg-max)"]
        else:
            answer = answers["predict"]
        if "error" in answer:
            return Verdict(False, _show(want[0]), answer["error"], _network_hint(answer))
        steps = (answer["value"]["steps"][1:]
                 + answers["predict (arg-max)"]["value"]["steps"][1:])
        got = [_array(step["value"]) for step in steps]
        column = any(g is not None and g.ndim == 2 and g.shape[1] == 1 for g in got)
        got = [g.ravel() if g is not None and g.ndim == 2 and g.shape[1] == 1 else g
               for g in got]
        kinds = [step["value"].get("type") if isinstance(step["value"], dict) else None
                 for step in steps]
        if kinds != ["ndarray"] * 3:
            return Verdict(False, "an np.ndarray of labels", f"{kinds[0]}",
                           "return np.array(YPredict), as the skeleton does")
        if all(_close(g, w) for g, w in zip(got, want)):
            return Verdict(True, _show(want[0]), _show(got[0]), convention=(
                "labels as a column (n, 1), not a vector (n,)" if column else ""))
        hint = ""
        if _close(got[0], (outputs >= threshold).astype(int)):
            hint = "an output equal to the threshold is labelled 1: use >, not >="
        return Verdict(False, _show(want[0]), _show(got[0]), hint)

    return [
        Check("Network: the Q1.1 forward pass", "Q2.4",
              [q11, {"id": "l2_loss of 1", **_call("l2_loss", [[0.0]], [[1.0]])}], forward),
        _fit_check("fit: sigmoid and L2 loss", SIGMOID_L2, [(4, 5), (5, 2)], "l2", 0.0),
        _fit_check("fit: sigmoid and L2 loss, reg_lambda 0.1", SIGMOID_L2, [(4, 5), (5, 2)],
                   "l2", 0.1),
        _fit_check("fit: softmax and cross-entropy", SOFTMAX_CE, [(4, 5), (5, 3)], "ce", 0.0),
        _fit_check("fit: softmax and cross-entropy, reg_lambda 0.1", SOFTMAX_CE,
                   [(4, 5), (5, 3)], "ce", 0.1),
        Check("predict: labels as an array, by threshold (>) and by arg-max", "Q2.4",
              [predict, argmax], labels),
        Check("Q2.5: the loss falls at every epoch", "Q2.5", [q25], decreasing),
    ]


@functools.cache
def all_checks():
    """Every check, in the assignment's order; made once (their reference values included)."""
    return tuple(function_checks() + layer_checks() + network_checks())
