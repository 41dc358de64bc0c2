"""`mlplab check`: a student's own homework graded against mlplab's reference.

- `submissions` finds the homework: a file, a student's folder, or a class of them.
- `sandbox` runs each submission's code in processes of its own (`harness`), forked from one
  that loaded the usual libraries once, and asks it for values on a pipe.
- `checks` decides every verdict here, from the values answered, against mlplab's functions and
  readable Network; `config` holds the grader's points, visibility and forbidden modules.
- `report` writes the table, Gradescope's results.json, a class's grades.csv and summary;
  `bundle` makes the Gradescope autograder.

`check_submission` checks one submission; `check_class` many, one or several at a time (or on a
Dask cluster), with the same verdicts either way.
"""

import concurrent.futures
import hashlib
import queue
import time
from collections import namedtuple
from dataclasses import dataclass, field

from .. import _parallel
from ..assignment import NAMES, load_q25
from .checks import Context, Verdict, all_checks, run_checks
from .config import Config
from .sandbox import Limits, Student, Zygote, preload_for, shared_zygote
from .submissions import SubmissionError, read_source

CheckInfo = namedtuple("CheckInfo", "name part number")


@dataclass
class Result:
    """One submission's verdicts, with what the grade sheet needs."""
    name: str
    file: str
    verdicts: list                # [(CheckInfo, Verdict)]
    points: list                  # each check's points if passed
    visibility: list
    seed: int
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    ended: list = field(default_factory=list)   # how the code's processes ended early
    error: str = ""               # why the submission could not be checked at all

    @property
    def score(self):
        return float(sum(p for (_, v), p in zip(self.verdicts, self.points) if v.passed))

    @property
    def max_score(self):
        return float(sum(self.points))


def submission_seed(seed, name):
    """The seed of one submission's inputs: the run's seed and its name, nothing else."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{name}".encode()).digest()[:8], "big") >> 1


def check_submission(submission, config=None, limits=None, seed=0, zygote=None, source=None):
    """The `Result` of checking one `submissions.Submission` (its file's `source`, (text, kind)
    or the SubmissionError reading it gave, if read already) with `zygote` (by default this
    thread's); never raises for what the student's code does (a crash, a hang, an unreadable
    file is that submission's zero)."""
    config, limits = config or Config(), limits or Limits()
    start = time.monotonic()
    checks = all_checks()
    own_seed = submission_seed(seed, submission.name)
    notes = [submission.note] if submission.note else []
    ended, error = [], ""
    try:
        if isinstance(source, SubmissionError):
            raise source
        source, kind = source or read_source(submission.path)
    except SubmissionError as exc:
        error = f"{submission.path.name}: {exc}"
        verdicts = [Verdict(False, "", "", f"not checked: {error}",
                            mistake="the file could not be read") for _ in checks]
    else:
        student = Student(zygote or shared_zygote(), source, kind,
                          str(submission.folder.resolve()), NAMES, limits, config.forbidden)
        try:
            context = Context(student, own_seed)
            verdicts = [verdict for _, verdict in run_checks(context, checks)]
            notes += context.notes
        finally:
            student.close()
        ended = list(student.ended) + [f"{name} ran past its time limit or ended its process"
                                       for name in sorted(context.hung)]
        if context.load_error:
            error = f"loading the file failed: {context.load_error}"
    return Result(submission.name, str(submission.path),
                  [(CheckInfo(c.name, c.part, c.number), v) for c, v in zip(checks, verdicts)],
                  [config.points_of(c) for c in checks], [config.visibility_of(c) for c in checks],
                  own_seed, time.monotonic() - start, notes, ended, error)


def check_class(submissions, config=None, limits=None, seed=0, jobs=1, backend=None):
    """Yield each submission's `Result` as it finishes: ``jobs`` at a time, each on a zygote of
    its own (this thread's for the first; the students' code runs in their processes, so
    threads here are enough), or over a Dask cluster with ``backend="dask"``. The verdicts do
    not depend on which."""
    # Every file read before any student's code runs: none can change another's.
    sources = []
    for submission in submissions:
        try:
            sources.append(read_source(submission.path))
        except SubmissionError as exc:
            sources.append(exc)
    calls = [(submission, config, limits, seed, None, source)
             for submission, source in zip(submissions, sources)]
    if backend is not None:
        for _, result in _parallel.map_unordered(check_submission, calls, -1, backend=backend):
            yield result
        return
    preload = preload_for([s for s in sources if not isinstance(s, SubmissionError)])
    started = [Zygote(preload) for _ in range(1, min(jobs, len(submissions)))]
    zygotes = queue.SimpleQueue()
    for zygote in [shared_zygote(preload), *started]:
        zygotes.put(zygote)
    load_q25()   # while the zygotes load their libraries

    def check_one(submission, config, limits, seed, _, source):
        zygote = zygotes.get()
        try:
            return check_submission(submission, config, limits, seed, zygote, source)
        finally:
            zygotes.put(zygote)

    try:
        with concurrent.futures.ThreadPoolExecutor(len(started) + 1) as pool:
            for future in concurrent.futures.as_completed(
                    [pool.submit(check_one, *call) for call in calls]):
                yield future.result()
    finally:
        for zygote in started:
            zygote.close()
