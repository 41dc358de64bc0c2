"""What `mlplab check` prints and writes: a table for people, Gradescope's results.json.

Gradescope's autograder format: a top-level ``score`` and ``tests``, each with ``name``,
``score``, ``max_score``, ``status`` ("passed" or "failed") and ``output``. Points per check
follow the assignment's parts (`DEFAULT_POINTS`), or a small JSON file given with ``--weights``:
``{"check name or part (Q2.2, ...)": points, ...}``.
"""

import json

# Points of one check, by the assignment's part.
DEFAULT_POINTS = {"Q2.2": 1.0, "Q2.3": 2.0, "Q2.4": 3.0, "Q2.5": 2.0}


def points(check, weights):
    return float(weights.get(check.name, weights.get(check.part, DEFAULT_POINTS[check.part])))


def read_weights(path):
    """The --weights file: {check name or part: points >= 0}; a ValueError names what is wrong."""
    with open(path, encoding="utf-8") as stream:
        weights = json.load(stream)
    if not isinstance(weights, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in weights.values()):
        raise ValueError(f"{path}: the weights must be a JSON object of names to points >= 0")
    return weights


def _output(verdict):
    lines = []
    if verdict.expected or verdict.got:
        lines.append(f"expected {verdict.expected}; got {verdict.got}")
    if verdict.convention:
        lines.append(f"convention: {verdict.convention}")
    if verdict.hint:
        lines.append(f"hint: {verdict.hint}")
    return "\n".join(lines)


def table(results, notes):
    """The terminal report: one block per check, then the loading notes and the total."""
    lines = []
    for check, verdict in results:
        mark = "PASS" if verdict.passed else "FAIL"
        lines.append(f"{mark}  {check.part}  {check.name}")
        shown = _output(verdict) if not verdict.passed else (
            f"convention: {verdict.convention}" if verdict.convention else "")
        lines += [f"        {line}" for line in shown.splitlines()]
    lines += [f"note: {note}" for note in notes]
    passed = sum(verdict.passed for _, verdict in results)
    lines.append(f"{passed} of {len(results)} checks passed")
    return "\n".join(lines)


def gradescope(results, notes, weights=None):
    """Gradescope's results.json as a dict."""
    weights = weights or {}
    tests = [{"name": f"{check.part} {check.name}",
              "score": points(check, weights) if verdict.passed else 0.0,
              "max_score": points(check, weights),
              "status": "passed" if verdict.passed else "failed",
              "output": _output(verdict)} for check, verdict in results]
    return {"score": sum(test["score"] for test in tests), "tests": tests,
            "output": "\n".join(notes)}
