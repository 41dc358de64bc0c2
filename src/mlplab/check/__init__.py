"""`mlplab check FILE`: a student's own homework against mlplab's reference.

`run(path)` loads the student's .py or .ipynb in a sandboxed child process (`sandbox`, `child`),
asks it for the values every check needs (`checks`), and judges the answers against mlplab's
reference functions and readable Network. `report` turns the verdicts into a table for people
and Gradescope's results.json for graders.
"""

from .checks import NAMES, all_checks
from .sandbox import ChildFailed, run_child


def run(path, wall_seconds=None):
    """[(check, verdict), ...] for the student's file `path`, and the loading notes."""
    from .checks import Verdict

    checks = all_checks()
    requests = [request for check in checks for request in check.requests]
    try:
        answers = run_child(str(path), list(NAMES), requests,
                            **({} if wall_seconds is None else {"wall_seconds": wall_seconds}))
    except ChildFailed as exc:
        return [(check, Verdict(False, "", "", str(exc))) for check in checks], []
    missing = [name for name in NAMES if name not in answers["names"]]
    results = []
    for check in checks:
        needs = {request.get("name") for request in check.requests} | (
            {"Layer"} if check.part == "Q2.3" else set()) | (
            {"Layer", "Network"} if check.part in ("Q2.4", "Q2.5") else set())
        absent = sorted(needs & set(missing))
        if absent:
            results.append((check, Verdict(False, "", "", f"{', '.join(absent)} not defined "
                                                          "in the file")))
            continue
        try:
            results.append((check, check.judge(answers["answers"])))
        except Exception as exc:   # an answer of an unexpected form
            results.append((check, Verdict(False, "", f"{type(exc).__name__}: {exc}")))
    return results, answers["notes"]
