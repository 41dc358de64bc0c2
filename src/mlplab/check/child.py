"""The child process of `mlplab check`: loads a student's code and answers the checker's requests.

    python -m mlplab.check.child REQUESTS.json ANSWERS.json

It runs in the sandbox that `sandbox.run_child` sets up (its own process, time and memory limits,
a temporary working folder), never in the checker's process. REQUESTS.json holds the student's
file and a list of requests; ANSWERS.json gets, for each request, the values the student's code
computed (arrays as nested lists; NaN and infinity as JSON's NaN and Infinity), the warnings it
raised and the error it raised, if any. The checker compares them with mlplab's reference.

Loading: a notebook's code cells, statement by statement, or a module's top-level statements
that define names (imports, functions, classes, assignments; not calls or loops, the
experiments), run one by one in one namespace, each under a time limit; one that fails or runs
too long (a training experiment) is skipped with a note, and loading goes on. Output the
student's code prints is discarded.
"""

import ast
import io
import json
import resource
import signal
import sys
import traceback
import warnings

import numpy as np

STATEMENT_SECONDS = 2.0   # a top-level statement or cell that runs longer is skipped
REQUEST_SECONDS = 3.0


class _TimeUp(BaseException):
    """Raised by the alarm; a BaseException, so that a student's `except Exception` lets it by."""


def _alarm(signum, frame):
    raise _TimeUp


class _Discard(io.TextIOBase):
    """Where the student's prints go: nowhere (printing megabytes costs nothing)."""

    def write(self, text):
        return len(text)


def _timed(seconds, function, *args):
    # Repeating: a student's bare `except:` that swallows one alarm meets the next.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# The top-level statements of a module that define names; the others (calls, loops: the
# experiments) are not run.
DEFINING = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
            ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.Try, ast.With)


def code_units(path):
    """([(label, code)], notes): the statements to run, each a compiled unit with its label: a
    notebook's cells statement by statement (so that one failing line, an import of Colab's say,
    does not take the rest of its cell with it), or a module's top-level statements that define
    names (the notes say which lines were left out, and which cells could not be parsed)."""
    text = open(path, encoding="utf-8-sig").read()
    if not path.endswith(".ipynb"):
        tree = ast.parse(text, filename=path)
        left_out = [node.lineno for node in tree.body if not isinstance(node, DEFINING)]
        notes = [f"not run: the top-level statements at lines {', '.join(map(str, left_out))}, "
                 "which define nothing (experiments, prints)"] if left_out else []
        return [(f"line {node.lineno}", _compiled(node, path)) for node in tree.body
                if isinstance(node, DEFINING)], notes
    units, notes = [], []
    for number, cell in enumerate(json.loads(text)["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        # IPython's magics and shell lines, blanked (the line numbers stay)
        source = "\n".join("" if line.startswith(("%", "!")) else line
                           for line in source.splitlines())
        try:
            tree = ast.parse(source, filename=f"cell {number}")
        except SyntaxError as exc:
            notes.append(f"cell {number}: skipped, it is not valid Python ({exc.msg}, line "
                         f"{exc.lineno})")
            continue
        units += [(f"cell {number}, line {node.lineno}", _compiled(node, f"cell {number}"))
                  for node in tree.body]
    return units, notes


def _compiled(node, filename):
    """One top-level statement as code, decorators and line numbers kept."""
    return compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")


def load(path, namespace):
    """Run the student's code units in `namespace`; returns notes on the units skipped."""
    units, notes = code_units(path)
    for label, code in units:
        try:
            _timed(STATEMENT_SECONDS, exec, code, namespace)
        except _TimeUp:
            notes.append(f"{label}: skipped, it ran longer than {STATEMENT_SECONDS:g} s")
        except SystemExit as exc:
            notes.append(f"{label}: skipped, it called sys.exit({exc.code!r})")
        except BaseException as exc:   # a student's error, MemoryError included
            notes.append(f"{label}: skipped, it raised {type(exc).__name__}: {exc}"[:300])
    return notes


def _plain(value):
    """A student's result as JSON: arrays (and lists of numbers) as nested lists."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return {"unreadable": repr(value)[:200]}
    if array.size == 1 and not isinstance(value, (list, tuple)):   # a loss as a (1, 1) array
        return float(array.ravel()[0])
    return {"shape": list(array.shape), "values": array.ravel().tolist(),
            "type": type(value).__name__}


def _parameters_of(layer, n_in, n_out):
    """The names of a student layer's weight and bias attributes, and whether the weights are
    stored (n_out, n_in), found from their shapes."""
    weights, biases = [], []
    for name, value in vars(layer).items():
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            continue
        if value.shape in ((n_in, n_out), (n_out, n_in)):
            weights.append((name, value.shape != (n_in, n_out)))
        elif value.size == n_out and (value.ndim == 1 or 1 in value.shape):
            biases.append(name)
    # Arrays kept beside the parameters (gradients, caches, velocities) share their shapes:
    # where there are several, the names decide.
    weights = [w for w in weights if not _helper_name(w[0])] or weights
    return weights, [b for b in biases if not _helper_name(b)]


def _helper_name(name):
    name = name.lower()
    return name.startswith(("d_", "dw", "db")) or any(
        word in name for word in ("grad", "delta", "cache", "velocity", "moment", "prev", "accum"))


def describe_layer(layer, n_in, n_out):
    """A student layer's weight and bias attributes, and their values."""
    weights, biases = _parameters_of(layer, n_in, n_out)
    names = [name for name, _ in weights] + biases
    return {"weights": [[name, transposed] for name, transposed in weights], "biases": biases,
            "arrays": {name: _plain(getattr(layer, name)) for name in names}}


def run_network(namespace, request):
    """Build the student's Network from their Layer and functions, set its parameters if given,
    then take the requested steps; returns what each step gave and the parameters after it."""
    Layer, Network = namespace["Layer"], namespace["Network"]
    shapes = request["layers"]
    layers = [Layer(n_in, n_out, **({} if bias else {"bias": False}))
              for n_in, n_out, bias in shapes]
    found = []
    for layer, (n_in, n_out, bias) in zip(layers, shapes):
        weights, biases = _parameters_of(layer, n_in, n_out)
        if len(weights) != 1 or (bias and len(biases) != 1):
            raise LookupError(f"cannot tell the weights and biases of Layer({n_in}, {n_out}) "
                              f"apart: arrays {sorted(vars(layer))}")
        found.append((weights[0][0], weights[0][1], biases[0] if bias else None))
    if request.get("parameters"):
        for layer, (W_name, transposed, b_name), (W, b) in zip(layers, found,
                                                               request["parameters"]):
            W = np.array(W, dtype=float)
            setattr(layer, W_name, W.T.copy() if transposed else W)
            if b_name is not None:
                setattr(layer, b_name, np.array(b, dtype=float).reshape(
                    np.shape(getattr(layer, b_name))))
    functions = [namespace[name] if name else None for name in request["derivatives"]]
    network = Network(layers, [namespace[name] for name in request["activations"]], functions,
                      namespace[request["loss"]], namespace[request["d_loss"]])

    def parameters():
        return [[_plain(np.asarray(getattr(layer, W)).T if transposed
                        else getattr(layer, W)),
                 None if b is None else _plain(np.ravel(getattr(layer, b)))]
                for layer, (W, transposed, b) in zip(layers, found)]

    steps = [{"parameters": parameters()}]
    for step in request["steps"]:
        method, args = step
        args = [np.array(a, dtype=float) if isinstance(a, list) else a for a in args]
        value = getattr(network, method)(*args)
        steps.append({"value": _plain(value), "parameters": parameters()})
    return {"steps": steps, "attributes": [[W, transposed, b] for W, transposed, b in found]}


def answer(namespace, request):
    kind = request["kind"]
    if kind == "call":
        args = [np.array(a, dtype=float) for a in request["args"]]
        return _plain(namespace[request["name"]](*args))
    if kind == "layer":
        n_in, n_out = request["args"]
        layers = [namespace["Layer"](n_in, n_out, **request.get("kwargs", {}))
                  for _ in range(2)]
        return [describe_layer(layer, n_in, n_out) for layer in layers]
    if kind == "network":
        try:
            return run_network(namespace, request)
        except TypeError as exc:
            if "NoneType" not in str(exc) or None not in request["derivatives"]:
                raise
            # The skeleton has no derivative for softmax: a network that calls the one it is
            # given gets ones (the loss derivative is already dL/dz), and the checks say so.
            namespace["__ones__"] = np.ones_like
            request = {**request, "derivatives": [name or "__ones__"
                                                  for name in request["derivatives"]]}
            return {**run_network(namespace, request), "ones_for_none": True}
    raise ValueError(f"unknown request {kind!r}")


def main(requests_path, answers_path):
    """Load the student's file, then answer each request, one JSON line each, flushed: if the
    student's code ends the process, the answers so far are there."""
    with open(requests_path) as stream:
        job = json.load(stream)
    limits = job["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file"], limits["file"]))
    signal.signal(signal.SIGALRM, _alarm)
    sys.stdout = _Discard()
    namespace = {"__name__": "__student__"}
    with open(answers_path, "w") as out:
        def write(record):
            out.write(json.dumps(record) + "\n")
            out.flush()

        notes = load(job["path"], namespace)
        write({"notes": notes, "names": [name for name in job["names"] if name in namespace]})
        for request in job["requests"]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                np.seterr(all="warn")
                try:
                    result = {"value": _timed(REQUEST_SECONDS, answer, namespace, request)}
                except _TimeUp:
                    result = {"error": f"it ran longer than {REQUEST_SECONDS:g} s"}
                except BaseException as exc:
                    lines = traceback.format_exception_only(type(exc), exc)
                    result = {"error": "".join(lines).strip()[:500]}
            result["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
            write({"id": request["id"], **result})


if __name__ == "__main__":
    main(*sys.argv[1:3])
