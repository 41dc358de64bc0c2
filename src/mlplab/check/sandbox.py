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
import resource
import subprocess
import sys
import tempfile

WALL_SECONDS = 60
CPU_SECONDS = 60
MEMORY_BYTES = 2 * 2**30
ANSWERS_BYTES = 64 * 2**20


class ChildFailed(Exception):
    """The child ended without answering: the message says how."""


def _limit():   # runs in the child before it starts Python
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    os.setsid()   # its own process group, so that the whole of it can be stopped


def run_child(path, names, requests, wall_seconds=WALL_SECONDS):
    """The child's answers to `requests` about the student's file `path` (see `child`)."""
    with tempfile.TemporaryDirectory(prefix="mlplab-check-") as folder:
        requests_path = os.path.join(folder, "requests.json")
        answers_path = os.path.join(folder, "answers.json")
        with open(requests_path, "w") as stream:
            json.dump({"path": os.path.abspath(path), "names": names, "requests": requests},
                      stream)
        work = os.path.join(folder, "work")
        os.mkdir(work)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "mlplab.check.child", requests_path, answers_path],
            cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, preexec_fn=_limit)
        try:
            _, stderr = process.communicate(timeout=wall_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.communicate()
            raise ChildFailed(f"the student's code ran longer than {wall_seconds} s in all "
                              "and was stopped") from None
        finally:
            if process.poll() is None:
                os.killpg(process.pid, 9)
        size = os.path.getsize(answers_path) if os.path.exists(answers_path) else None
        if process.returncode != 0 or size is None:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            how = (f"was killed by signal {-process.returncode}" if process.returncode < 0
                   else f"ended with exit status {process.returncode}")
            raise ChildFailed(f"the student's code {how} before the checks could run"
                              + (f" ({tail[0][:200]})" if tail[0] else ""))
        if size > ANSWERS_BYTES:
            raise ChildFailed(f"the child's answers are {size} bytes, more than expected")
        with open(answers_path) as stream:
            return json.load(stream)
