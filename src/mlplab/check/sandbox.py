"""Runs the student's code in a child process with limits, never in the checker's process.

What it protects against: code that loops forever (a wall-clock and a CPU-time limit), that
allocates without bound (an address-space limit: MemoryError in the child, or its end), that
crashes the interpreter or calls `os._exit` / `sys.exit`, that prints megabytes (its output is
discarded), and files it writes in its working folder (a temporary one, removed after). What it
does not protect against: it is not a security sandbox. The child runs as the same user, with the
same file system and network; code written to do harm can still do it. Run untrusted submissions
in a container or a separate account, as autograders do.
"""

import json
import os
import subprocess
import sys
import tempfile

WALL_SECONDS = 60
CPU_SECONDS = 60
MEMORY_BYTES = 2 * 2**30
ANSWERS_BYTES = 64 * 2**20


FILE_BYTES = 256 * 2**20   # the most the student's code may write into one file


def run_child(path, names, requests, wall_seconds=WALL_SECONDS):
    """(answers, failure): the child's answers to `requests` about the student's file `path`
    (see `child`) as {"notes", "names", "answers": {id: answer}}, and None, or a sentence
    saying how the child ended early (the answers then hold what it gave before)."""
    with tempfile.TemporaryDirectory(prefix="mlplab-check-") as folder:
        requests_path = os.path.join(folder, "requests.json")
        answers_path = os.path.join(folder, "answers.jsonl")
        limits = {"cpu": int(max(CPU_SECONDS, wall_seconds)), "memory": MEMORY_BYTES,
                  "file": FILE_BYTES}
        with open(requests_path, "w") as stream:
            json.dump({"path": os.path.abspath(path), "names": names, "requests": requests,
                       "limits": limits}, stream)
        work = os.path.join(folder, "work")
        os.mkdir(work)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
        with open(os.path.join(folder, "stderr"), "w+b") as stderr:
            # Its own session: the whole of it can be stopped, its children too.
            process = subprocess.Popen(
                [sys.executable, "-m", "mlplab.check.child", requests_path, answers_path],
                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr, start_new_session=True)
            failure = None
            try:
                process.wait(timeout=wall_seconds)
            except subprocess.TimeoutExpired:
                failure = (f"the student's code ran longer than {wall_seconds:g} s in all and "
                           "was stopped")
            finally:
                try:
                    os.killpg(process.pid, 9)
                except ProcessLookupError:
                    pass
                process.wait()
            stderr.seek(max(0, os.path.getsize(stderr.name) - 2000))
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        answers = _read_answers(answers_path)
        if failure is None and len(answers["answers"]) < len(requests):
            how = (f"was killed by signal {-process.returncode}" if process.returncode < 0
                   else f"ended with exit status {process.returncode}")
            failure = (f"the student's code {how} before this check"
                       + (f" ({tail[0][:200]})" if tail[0] else ""))
        return answers, failure


def _read_answers(path):
    """The child's answer lines so far: a malformed one (a process cut short) ends them."""
    answers = {"notes": [], "names": [], "answers": {}}
    if not os.path.exists(path) or os.path.getsize(path) > ANSWERS_BYTES:
        return answers
    with open(path) as stream:
        for number, line in enumerate(stream):
            try:
                record = json.loads(line)
            except ValueError:
                break
            if number == 0:
                answers["notes"], answers["names"] = record["notes"], record["names"]
            else:
                answers["answers"][record.pop("id")] = record
    return answers
