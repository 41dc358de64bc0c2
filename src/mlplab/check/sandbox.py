"""The checker's side of the trust boundary: a student's code runs in the harness's processes
(`harness`), never in the checker's, and is only ever asked for values.

- `Zygote` starts the process that has loaded the libraries a homework imports, once per
  checker (or per worker of a class check), and forks each submission's processes from it.
- `Student` is one submission: its code loaded in a process of its own, asked one request at a
  time on a pipe. Every answer is untrusted bytes: read within a deadline and a size limit and
  decoded strictly; anything else (a crash, a hang, an answer too large or malformed) is that
  request's error, never the checker's. After such an error the submission's processes are
  ended and, for the next request, started again (the code loaded anew), a few times at most.

Nothing of the checker passes through a file or path the student's code can name: requests,
answers and the student's stderr travel on pipes, the verdicts are computed here, and output
files are written by the command line after every process of the submission has ended.
"""

import contextlib
import functools
import inspect
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass

from ..assignment import NAMES
from . import harness
from .text import clean

MAX_ANSWER_BYTES = 64 * 2**20
_STDERR_TAIL = 4000


@dataclass(frozen=True)
class Limits:
    """What a submission's code may use."""
    seconds: float = 60.0          # wall clock, all of the checks' calls together
    load_seconds: float = 30.0     # loading the file (then definitions only, and imports)
    request_seconds: float = 3.0   # one check's call (fit, a function)
    training_seconds: float = 20.0   # the Q2.5 run: 100 epochs of the student's fit
    statement_seconds: float = 2.0   # one top-level statement of the file
    import_seconds: float = 20.0   # one top-level import (scikit-learn on a loaded machine)
    memory: int = 2 * 2**30        # bytes of address space beyond what the process starts with
    file: int = 256 * 2**20        # bytes of one file the code writes
    processes: int = 64            # processes of the unprivileged user (when run as root)
    restarts: int = 4              # new processes after one ended or hung

    def for_harness(self):
        return {"memory": self.memory, "file": self.file, "processes": self.processes,
                "cpu": int(self.seconds + (self.restarts + 1) * self.load_seconds) + 10,
                "request": self.request_seconds, "statement": self.statement_seconds,
                "import": self.import_seconds, "load": self.load_seconds}


class CheckerError(RuntimeError):
    """The checker's own processes failed (not the student's code)."""


# Every process of the students' code carries this in the environment it started with, so that
# this checker can tell them from others of its children once their zygote is gone.
_MARK = f"MLPLAB_CHECK={secrets.token_hex(16)}"
_zygotes = weakref.WeakSet()


class Zygote:
    """The process that loads the homework's libraries once and forks submissions from it."""

    def __init__(self, preload=harness.PRELOAD):
        self.preload = list(preload)
        self._spawn()

    def _spawn(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        name, value = _MARK.split("=")
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", name: value}
        self.process = subprocess.Popen(
            [sys.executable, "-I", harness.__file__, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=environment, start_new_session=True)
        theirs.close()
        self.sock = ours
        self.sock.send(json.dumps({"sys_path": [p for p in sys.path[1:] if p],
                                   "preload": self.preload}).encode())
        self.ready = False
        _zygotes.add(self)

    def _reply(self, seconds):
        ready, _, _ = select.select([self.sock], [], [], seconds)
        message = self.sock.recv(1 << 16) if ready else b""
        if not message:
            self.close()
            raise CheckerError("the checker's helper process did not answer")
        return json.loads(message)

    def start(self, limits, forbidden, fds):
        """Fork a submission's processes, the pipes' far ends `fds` passed to them; returns
        (pid of its supervisor, its working folder)."""
        if not self.alive():   # a submission's code ended it: a new one for the next
            self.close()
            self._spawn()
        if not self.ready:
            self._reply(300)   # loading scikit-learn and matplotlib: seconds on a busy machine
            self.ready = True
        command = {"op": "start", "limits": limits.for_harness(), "forbidden": list(forbidden),
                   "stand_ins": stand_in_source()}
        socket.send_fds(self.sock, [json.dumps(command).encode()], fds)
        reply = self._reply(60)
        return reply["pid"], reply["work"]

    def end(self, pid, work):
        """End every process of the submission; how its process ended by itself, or None."""
        self.sock.send(json.dumps({"op": "end", "pid": pid, "work": work}).encode())
        return self._reply(60)["status"]

    def alive(self):
        return self.process.poll() is None

    def close(self):
        try:
            self.sock.close()
        finally:
            if self.alive():
                self.process.kill()
            self.process.wait()


def become_reaper():
    """Make this process the one orphans of the students' code come to if a submission ends its
    zygote (Linux); `reap_orphans` then ends them."""
    try:
        return harness.become_subreaper()
    except Exception:
        return False


def reap_orphans():
    """End every child of this process (and its descendants) that is a student's process no
    zygote holds any longer: one that outlived a zygote its submission ended."""
    live = {zygote.process.pid for zygote in list(_zygotes)}
    tree = harness.parents()
    for pid in [child for child, parent in tree.items() if parent == os.getpid()]:
        try:
            with open(f"/proc/{pid}/environ", "rb") as stream:
                ours = _MARK.encode() in stream.read().split(b"\0")
        except OSError:
            continue
        if ours and pid not in live:
            for each in [pid, *harness.descendants(pid, tree)]:
                harness.kill(each)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


@functools.cache
def stand_in_source():
    """mlplab's seven functions of the homework as source, for a student's process that needs
    one in place of the student's: it gets the text, never mlplab itself."""
    from .. import assignment, functions
    return "\n\n".join(inspect.getsource(function) for function in (
        functions._as_float_array, *(getattr(functions, n) for n in assignment.FUNCTIONS)))


_local = threading.local()


def shared_zygote(preload=harness.PRELOAD):
    """This thread's zygote, started on first use (a worker of a class check keeps its own)."""
    zygote = getattr(_local, "zygote", None)
    if zygote is None or not zygote.alive():
        zygote = _local.zygote = Zygote(preload)
    return zygote


# Parsing a file here costs up to several hundred times its size in memory (`x = 1` is
# several objects): a larger file is left to its own process, which parses it under limits.
MAX_ANALYSED_CHARACTERS = 1 << 19


def preload_for(sources):
    """The libraries of `harness.PRELOAD` that the checks of `sources` [(text, kind)] can make
    the homework import (a notebook's reader too), in its order: what their zygote loads first.
    An import only the experiments use waits for its first use instead (`harness.load`)."""
    imported = {"nbformat", "IPython.core.inputtransformer2"} if any(
        kind == "ipynb" for _, kind in sources) else set()
    for source, kind in sources:
        if len(source) > MAX_ANALYSED_CHARACTERS:   # its process imports what it needs itself
            continue
        try:
            units, _ = harness.code_units(source, kind)
            imported |= set(harness.checked_imports(units, NAMES))
        except Exception:   # too deep or too odd to parse here: its own check will say so
            continue
    return [name for name in harness.PRELOAD
            if any(name == m or name.startswith(m + ".") or m.startswith(name + ".")
                   for m in imported)]


class _Failure(Exception):
    """A request that got no usable answer."""


class Student:
    """One submission's code in its own processes. `ask(request)` returns the answer, a dict
    with "value" or "error" (and "warnings"); it never raises for what the student's code does.

    `load` is the answer to loading the file (its notes, the names it defines); `ended` lists
    how each of the submission's processes ended early."""

    def __init__(self, zygote, source, kind, folder, names, limits, forbidden):
        self.zygote, self.limits, self.forbidden = zygote, limits, forbidden
        self.load_request = {"op": "load", "source": source, "kind": kind, "folder": folder,
                             "names": list(names)}
        self.deadline = time.monotonic() + limits.seconds
        self.ended = []
        self.process = None
        self.dead = None   # why no more requests can be answered
        self.restarts = -1
        self.load = self._start()

    def _start(self):
        self.restarts += 1
        (request_r, request_w), (answer_r, answer_w), (stderr_r, stderr_w) = (
            os.pipe() for _ in range(3))
        try:
            pid, work = self.zygote.start(self.limits, self.forbidden,
                                          [request_r, answer_w, stderr_w])
        except (CheckerError, OSError) as exc:
            for fd in (request_w, answer_r, stderr_r):
                os.close(fd)
            self.dead = f"the checker's helper process failed ({exc})"
            return {"error": self.dead}
        finally:   # the far ends are the student's process's now
            for fd in (request_r, answer_w, stderr_w):
                os.close(fd)
        for fd in (request_w, answer_r, stderr_r):
            os.set_blocking(fd, False)
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        self.process = {"pid": pid, "work": work, "requests": request_w, "answers": answer_r,
                        "stderr": stderr_r, "pidfd": pidfd, "buffer": bytearray(),
                        "tail": bytearray()}
        # Its own time (imports may take long): a load never eats the checks' time.
        load_started = time.monotonic()
        answer = self._exchange(self.load_request, self.limits.load_seconds
                                + self.limits.import_seconds + 5)
        self.deadline += time.monotonic() - load_started
        if "error" in answer:
            self.dead = f"loading the file failed: {answer['error']}"
        return answer

    def remaining(self):
        return self.deadline - time.monotonic()

    def close(self):
        """End the submission's processes (through its zygote, which reaps what they started)
        and remove their working folder; how the process ended by itself, or None."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            status = self.zygote.end(process["pid"], process["work"])
        except (CheckerError, OSError):   # the zygote is gone: the folder is left to us
            shutil.rmtree(process["work"], ignore_errors=True)
            status = None
        for key in ("requests", "answers", "stderr", "pidfd"):
            if process[key] is not None:
                os.close(process[key])
        tail = clean(bytes(process["tail"]).decode("utf-8", "replace")).strip().splitlines()
        return status, tail[-1][:200] if tail else ""

    def _stop(self, why):
        """End the submission's processes; `why` says what happened, with how it ended."""
        status, last_line = self.close()
        text = why + (f" ({status})" if status else "")
        if last_line and status:
            text += f": {last_line}"
        self.ended.append(text)
        return text

    def ask(self, request, seconds=None):
        """The answer to `request`, within `seconds` (the limit of one request by default)."""
        if not self.dead and self.process is None and self.remaining() > 0:
            if self.restarts >= self.limits.restarts:
                self.dead = "the student's code was stopped too often"
            else:
                self._start()
        if not self.dead and self.remaining() <= 0:
            self.dead = f"the student's code ran longer than {self.limits.seconds:g} s in all"
            if self.process is not None:
                self._stop(self.dead)
        if self.dead:
            return {"error": f"not reached: {self.dead}"}
        seconds = self.limits.request_seconds if seconds is None else seconds
        return self._exchange({**request, "seconds": seconds},
                              min(seconds + 2.0, self.remaining()))

    def _exchange(self, request, seconds):
        """Send `request`, read its answer within `seconds`; on any failure end the processes
        and return the failure as the answer's error."""
        deadline = time.monotonic() + max(seconds, 0.0)
        nonce = secrets.randbits(60)   # an answer must name it: no answer written in advance
        try:
            self._send(harness.pack({**request, "nonce": nonce}), deadline)
            answer = self._receive(deadline, request.get("seconds", self.limits.load_seconds))
            if answer.pop("nonce", None) != nonce:
                raise _Failure("an answer to another request than the checker's")
            return answer
        except _Failure as failure:   # "stopped": the checker ended the processes
            return {"error": self._stop(str(failure)), "stopped": True, "warnings": []}

    def _send(self, data, deadline):
        fd, view = self.process["requests"], memoryview(data)
        while view:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Failure("the student's code stopped reading the checker's requests")
            if select.select([], [fd], [], wait)[1]:
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    continue
                except OSError:
                    raise _Failure("the student's process ended") from None

    def _receive(self, deadline, seconds):
        process = self.process
        watched = [process["answers"], process["stderr"]] + (
            [process["pidfd"]] if process["pidfd"] is not None else [])
        buffer, ended = process["buffer"], False
        while True:
            if len(buffer) >= 8:
                size = int.from_bytes(buffer[:8], "big")
                if size > MAX_ANSWER_BYTES:
                    raise _Failure(f"an answer over {MAX_ANSWER_BYTES // 2**20} MiB")
                if len(buffer) >= 8 + size:
                    data = bytes(buffer[8:8 + size])
                    del buffer[:8 + size]
                    try:
                        return _checked(harness.decode(data))
                    except ValueError as exc:
                        raise _Failure(f"an answer the checker cannot read ({exc})") from None
            if ended:
                raise _Failure("the student's code ended its process")
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Failure("it ran longer than " + (
                    f"{seconds:g} s" if self.remaining() > 0 else
                    f"{self.limits.seconds:g} s in all") + " and was stopped")
            for fd in select.select(watched, [], [], wait)[0]:
                if fd == process["stderr"]:
                    if not _drain(fd, process["tail"], keep=_STDERR_TAIL):
                        watched.remove(fd)
                elif fd == process["pidfd"]:   # the process ended: what it wrote, then stop
                    _drain(process["answers"], buffer)
                    ended = True
                elif not _drain(fd, buffer):
                    watched.remove(fd)
                    ended = ended or process["pidfd"] is None


def _drain(fd, buffer, keep=None):
    """Read what `fd` has now into `buffer` (its last `keep` bytes only, if given); False at the
    pipe's end with nothing read."""
    read_any = False
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return True
        except OSError:
            return read_any
        if not chunk:
            return read_any
        read_any = True
        buffer += chunk
        if keep is not None:
            del buffer[:max(0, len(buffer) - keep)]
        elif len(buffer) > MAX_ANSWER_BYTES + 8:
            raise _Failure(f"an answer over {MAX_ANSWER_BYTES // 2**20} MiB")


def _checked(answer):
    """An answer as the checker uses it: a dict with "value" or a text "error", a list of text
    "warnings" and of forbidden "imports"; anything else is an error."""
    if not isinstance(answer, dict) or not ("value" in answer or "error" in answer):
        return {"error": "an answer of the wrong form"}
    warnings, imports = answer.get("warnings"), answer.get("imports")
    out = {"warnings": [clean(str(w))[:300] for w in warnings[:10]]
           if isinstance(warnings, list) else [],
           "nonce": answer.get("nonce"), "imports": imports if isinstance(imports, list) else []}
    if "error" in answer:
        out["error"] = clean(str(answer["error"]))[:500]
    else:
        out["value"] = answer["value"]
    return out
