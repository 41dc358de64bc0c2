"""`mlplab check FILE`: a student's own homework against mlplab's reference.

`run(path)` loads the student's .py or .ipynb in a sandboxed child process (`sandbox`, `child`),
asks it for the values every check needs (`checks`), and judges the answers against mlplab's
reference functions and readable Network. `report` turns the verdicts into a table for people
and Gradescope's results.json for graders.
"""

from .checks import NAMES, all_checks
from .sandbox import run_child


def run(path, wall_seconds=None):
    """[(check, verdict), ...] for the student's file `path`, and the loading notes."""
    from .checks import Verdict

    checks = all_checks()
    requests = list({request["id"]: request for check in checks
                     for request in check.requests}.values())
    answers, failure = run_child(str(path), list(NAMES), requests,
                                 **({} if wall_seconds is None else
                                    {"wall_seconds": wall_seconds}))
    results = []
    for check in checks:
        absent = [name for name in check.needs if name not in answers["names"]]
        if any(request["id"] not in answers["answers"] for request in check.requests):
            verdict = Verdict(False, "", "", f"not reached: {failure}" if failure else
                              "not reached")
        elif absent:
            verdict = Verdict(False, "", "", f"{', '.join(absent)} not defined in the file")
        else:
            try:
                verdict = check.judge(answers["answers"])
            except Exception as exc:   # an answer of an unexpected form
                verdict = Verdict(False, "", f"{type(exc).__name__}: {exc}")
        results.append((check, verdict))
    notes = answers["notes"] + ([failure] if failure else [])
    return results, notes
