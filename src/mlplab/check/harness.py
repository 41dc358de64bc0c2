"""The student's side of `mlplab check`: the processes that run a student's code.

    python -I harness.py FD     (started by `sandbox.Zygote`; FD: a socket to the checker)

Nothing here imports mlplab: whatever of mlplab (or of a neural-network library) is in these
processes after loading, the student's code brought it. Three kinds of process:

- the *zygote* loads, once, the libraries a homework imports, then forks one process per
  submission on the checker's request and ends every process of that submission when asked
  (it is their reaper);
- per submission, a *supervisor* that only waits: as root it first makes a new PID namespace,
  so that every process the student's code starts dies with the submission's process;
- the *student's process*: its own session, limits on memory, CPU time and file size, no
  terminal, stdout discarded; as root it drops to the user nobody. It loads the student's code
  and answers the checker's requests, one at a time, on a pipe.

Requests and answers are messages (`pack`, `decode`): an 8-byte length, then JSON, arrays as
base64 float64. The checker decides every verdict itself from the values answered here.
"""

import ast
import base64
import builtins
import ctypes
import dataclasses
import dis
import inspect
import io
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import stat
import struct
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

_HEADER = struct.Struct(">Q")
MAX_ARRAY_ELEMENTS = 2_000_000   # in one answer: a (1000, 2000) array at most
# JSON values in one message (counted by their brackets, commas and colons): arrays travel as
# base64 text, so an answer needs few, and a flood of tiny ones would cost the checker about
# 30 times its bytes in memory.
MAX_JSON_VALUES = 1 << 18
# The libraries a homework of this course imports (the skeleton's Q2.1 and Q2.5 cells).
PRELOAD = ("sklearn.model_selection", "sklearn.metrics", "sklearn.preprocessing",
           "sklearn.datasets", "matplotlib.pyplot", "matplotlib.ticker", "pandas", "nbformat",
           "IPython.core.inputtransformer2")


# ----- messages ---------------------------------------------------------------------------------

def pack(message):
    """`message` as bytes: its length, then its JSON (NumPy arrays as base64 float64)."""
    def encode(value):
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value, dtype="<f8")
            return {"__array__": list(array.shape),
                    "f8": base64.b64encode(array.tobytes()).decode("ascii")}
        if isinstance(value, np.integer):
            return int(value)
        raise TypeError(f"cannot send {type(value).__name__}")

    data = json.dumps(message, default=encode, allow_nan=False,
                      separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _HEADER.pack(len(data)) + data


def decode(data):
    """A message's JSON with its arrays; ValueError for anything malformed or too large."""
    def array(obj):
        if "__array__" not in obj:
            return obj
        shape, text = obj["__array__"], obj.get("f8")
        if (not isinstance(shape, list) or len(shape) > 4 or not isinstance(text, str)
                or not all(type(n) is int and 0 <= n <= MAX_ARRAY_ELEMENTS for n in shape)
                or math.prod(shape) > MAX_ARRAY_ELEMENTS):
            raise ValueError("a malformed array")
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        if len(raw) != 8 * math.prod(shape):
            raise ValueError("an array of the wrong size")
        return np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)

    if sum(map(data.count, (b"[", b"{", b",", b":"))) > MAX_JSON_VALUES:
        raise ValueError(f"more than {MAX_JSON_VALUES} values")
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"), object_hook=array)
    except (RecursionError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        raise ValueError(f"a malformed message ({type(exc).__name__})") from None


def _read_message(fd):
    def exactly(n):
        chunks = []
        while n:
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    (length,) = _HEADER.unpack(exactly(_HEADER.size))
    return decode(exactly(length))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ----- processes --------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_KEEPCAPS = 1, 4, 8
_PR_SET_CHILD_SUBREAPER, _PR_SET_NO_NEW_PRIVS = 36, 38
_CLONE_NEWPID = 0x20000000


def prctl(option, value):
    try:
        return _libc.prctl(option, value, 0, 0, 0) == 0
    except AttributeError:   # not Linux
        return False


def become_subreaper():
    """Make orphans of this process's descendants its children (Linux), so it can end them."""
    return prctl(_PR_SET_CHILD_SUBREAPER, 1)


def parents():
    """{pid: parent pid} of every process in sight (Linux's /proc; {} elsewhere)."""
    found = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in filter(str.isdigit, entries):
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                found[int(entry)] = int(stream.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return found


def descendants(pid, tree=None):
    """Every process below `pid` (`tree`: `parents()`, read now if not given)."""
    tree = parents() if tree is None else tree
    found, level = set(), {pid}
    while level:   # (a pid reused while /proc was read cannot make it loop)
        level = {child for child, parent in tree.items() if parent in level} - found - {pid}
        found |= level
    return list(found)


def zygote(sock_fd):
    """Load the libraries, then serve the checker: "start" forks a submission's processes
    (with the pipes' ends passed along), "end" ends them all; the checker's end ends it."""
    parent = os.getppid()
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:   # the checker ended before the line above
        os._exit(0)
    prctl(_PR_SET_DUMPABLE, 0)   # the student's processes cannot read or trace this one
    subreaper = become_subreaper()
    sock = socket.socket(fileno=sock_fd)
    setup = json.loads(sock.recv(1 << 20))
    sys.path[:] = setup["sys_path"]
    os.environ["MPLBACKEND"] = "Agg"
    for name in setup["preload"]:
        try:
            __import__(name)
        except Exception:   # a library this environment lacks: the student's import will say
            pass
    sock.send(json.dumps({"ready": True, "subreaper": subreaper}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        except OSError:
            message = b""
        if not message:
            _end_tree(None)
            os._exit(0)
        command = json.loads(message)
        if command["op"] == "start":
            work = tempfile.mkdtemp(prefix="mlplab-check-")
            supervisor = os.fork()
            if supervisor == 0:
                sock.close()
                _supervise(command, fds, work)
            for fd in fds:
                os.close(fd)
            reply = {"pid": supervisor, "work": work}
        else:
            reply = {"status": _end_tree(command["pid"])}
            shutil.rmtree(command["work"], ignore_errors=True)
        sock.send(json.dumps(reply).encode())


def _end_tree(supervisor):
    """End a submission's processes: its supervisor, then every process left below this one (a
    student's process that forked and left its session came here as an orphan), until none is
    left. Returns how the student's process ended if it ended by itself, else None."""
    status = None
    if supervisor is not None:
        try:
            pid, raw = os.waitpid(supervisor, os.WNOHANG)
            status = _described(raw) if pid else None
        except ChildProcessError:
            pass
    for _ in range(10_000):
        tree = descendants(os.getpid())
        if not tree:
            break
        for pid in tree:
            kill(pid)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.001)
    return status


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _described(raw):
    code = os.waitstatus_to_exitcode(raw)
    if 0 <= code < 128:
        return f"exit status {code}"
    number = -code if code < 0 else code - 128
    try:
        return f"signal {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


def _supervise(command, fds, work):
    """The supervisor: a new PID namespace where it may (root), then the student's process."""
    try:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() == 0:
            _libc.unshare(_CLONE_NEWPID)
        student = os.fork()
        if student == 0:
            _student_process(command, fds, work)
        for fd in fds:
            os.close(fd)
        code = os.waitstatus_to_exitcode(os.waitpid(student, 0)[1])
        os._exit(code if code >= 0 else 128 - code)
    except BaseException:
        os._exit(70)


def _student_process(command, fds, work):
    requests, answers, stderr = fds
    try:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()   # no controlling terminal: nothing reaches the grader's screen
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd, target in ((devnull, 0), (devnull, 1), (stderr, 2)):
            os.dup2(fd, target)
        low, high = sorted((requests, answers))
        os.closerange(3, low)
        os.closerange(low + 1, high)
        os.closerange(high + 1, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1 << 16))
        limits = command["limits"]
        user = _nobody() if os.geteuid() == 0 else None
        if user is not None:
            os.chown(work, *user)
        os.chdir(work)
        _set_limits(limits)
        if user is not None:
            _become(user, read_everything=unprivileged_user() is None)
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
        prctl(_PR_SET_NO_NEW_PRIVS, 1)   # no set-uid program gives root back
        sys.stdout = _Discard()
        sys.stdin = io.StringIO("")
        Server(requests, answers, command).serve()
    except BaseException:
        pass
    os._exit(0)


def _nobody():
    """(uid, gid) of the user 'nobody', or None where there is none."""
    try:
        import pwd
        entry = pwd.getpwnam("nobody")
    except (ImportError, KeyError):
        return None
    return entry.pw_uid, entry.pw_gid


def unprivileged_user():
    """(uid, gid) of the user 'nobody' if Python and its libraries are readable to it (else
    the student's code runs as nobody with root's right to read, and only that)."""
    needed = {os.path.realpath(sys.executable), os.path.dirname(os.__file__),
              os.path.dirname(np.__file__)}
    return _nobody() if all(map(_open_to_others, needed)) else None


def _open_to_others(path):
    """Whether users other than the owner can reach `path` (every folder above searchable)."""
    path = os.path.abspath(path)
    while True:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return False
        if not mode & (stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH):
            return False
        if os.path.dirname(path) == path:
            return True
        path = os.path.dirname(path)


def _become(user, read_everything):
    """Drop from root to `user`; with `read_everything`, keep the one capability of reading any
    file (CAP_DAC_READ_SEARCH: Python's own files may be readable to root alone), none other:
    no writing root's files, no signals to root's processes."""
    if read_everything:
        prctl(_PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setgid(user[1])
    os.setuid(user[0])
    if read_everything:
        read_search = 1 << 2   # CAP_DAC_READ_SEARCH, effective and permitted
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this pid
        data = (ctypes.c_uint32 * 6)(read_search, read_search, 0, 0, 0, 0)
        if _libc.capset(header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")


def _set_limits(limits):
    """Memory beyond what this process has now, CPU seconds, bytes of one file written."""
    with open("/proc/self/status") as stream:
        memory = limits["memory"] + next((int(line.split()[1]) * 1024 for line in stream
                                          if line.startswith("VmSize:")), 0)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file"], limits["file"]))


class _Discard(io.TextIOBase):
    """Where the student's prints go: nowhere (printing megabytes costs nothing)."""

    def write(self, text):
        return len(text)


class _TimeUp(BaseException):
    """Raised by the alarm; a BaseException, so that a student's `except Exception` lets it by."""


def _alarm(signum, frame):
    raise _TimeUp


def _timed(seconds, function, *args):
    """`function(*args)`, stopped by `_TimeUp` after `seconds` (or the enclosing limit, if it
    comes first; that limit runs on after)."""
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    # Repeating: a student's bare `except:` that swallows one alarm meets the next.
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds, 0.05)
    try:
        return function(*args)
    finally:
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3),
                             0.05)
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)


class _NoIPython:
    """`get_ipython()` for code written in a notebook: every magic and shell line does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


# ----- loading the student's code ---------------------------------------------------------------

# The top-level statements that define names; the others (calls, loops: the experiments) are
# not run.
DEFINING = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
            ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.Try, ast.With)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
HOMEWORK = "<homework>"   # the start of the file name every unit of the student's code has
# Cell magics that run their cell as Python (timing, capturing it); the others hold no Python.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "memit", "debug"}


def code_units(source, kind):
    """([(label, statement, is_import)], notes): the student's top-level statements that define
    names, each an ast node with its label, and notes on what was left out."""
    notes = []
    cells = _notebook_cells(source, notes) if kind == "ipynb" else [(None, source)]
    units = []
    for number, text in cells:
        body, problem = _parse(text, "the file" if number is None else f"cell {number}")
        notes += [problem] if problem else []
        left_out = []
        for node in body:
            if isinstance(node, DEFINING):
                units.append((f"line {node.lineno}" if number is None else
                              f"cell {number}, line {node.lineno}", node,
                              not isinstance(node, _DEFINITIONS) and any(
                                  isinstance(child, (ast.Import, ast.ImportFrom))
                                  for child in ast.walk(node))))
            elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                left_out.append(str(node.lineno))
        if left_out and number is None:
            lines = (f"statement at line {left_out[0]}" if len(left_out) == 1 else
                     f"statements at lines {', '.join(left_out)}")
            notes.append(f"not run: the top-level {lines}, which define nothing (experiments, "
                         "prints)")
    return units, notes


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def plan_load(units, names):
    """(hot, deferred, skipped) for the file's top-level statements `units`, given the names
    the checks use. `hot`: every global name the checks can reach, through the file's classes
    (their bodies run at load), the functions those names reach and the statements that bind
    any of them, transitively. `deferred`: the import statements that bind only other names
    (an experiment's libraries), which can wait for a first use. `skipped`: the other
    statements that bind only other names (an experiment's data and results), which need not
    run. Functions and classes are always defined."""
    reads = {id(node): _reads(node) for _, node, _ in units}
    bound = {id(node): _bound_names(node) for _, node, _ in units}
    functions = {node.name: node for _, node, _ in units if isinstance(node, _FUNCTIONS)}
    hot = set(names)
    for _, node, _ in units:
        if isinstance(node, _FUNCTIONS):   # what runs when it is defined
            hot |= reads[id(node)][0]
        elif isinstance(node, ast.ClassDef):
            hot |= reads[id(node)][0] | reads[id(node)][1]
    others = [node for _, node, _ in units
              if not isinstance(node, (*_FUNCTIONS, ast.ClassDef, *_IMPORTS))]
    reached, running, size = set(), set(), -1
    while size != len(hot):
        size = len(hot)
        for name in hot & functions.keys() - reached:
            reached.add(name)
            hot |= reads[id(functions[name])][1]
        for node in others:
            if id(node) not in running and bound[id(node)] & hot:
                running.add(id(node))
                hot |= reads[id(node)][0] | reads[id(node)][1]
    deferred = [node for _, node, _ in units if isinstance(node, ast.Import) or (
        isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__"
        and all(alias.name != "*" for alias in node.names)) if not bound[id(node)] & hot]
    skipped = [node for node in others if id(node) not in running]
    return hot, deferred, skipped


def checked_imports(units, names):
    """The modules that code the checks can run imports: what to load before a check."""
    hot, deferred, skipped = plan_load(units, names)
    left_out = set(map(id, deferred + skipped))
    modules = []
    for _, node, _ in units:
        if id(node) in left_out:
            continue
        parts = [node]
        if isinstance(node, _FUNCTIONS) and node.name not in hot:
            parts = [*node.decorator_list, node.args, node.returns]
        modules += [module for part in parts if part is not None for each in ast.walk(part)
                    if isinstance(each, _IMPORTS) for module in imported_modules(each)]
    return modules


def _reads(statement):
    """(now, later): the global names a top-level statement reads when it runs, and those the
    functions, lambdas, comprehensions and class bodies in it read when they run."""
    now, _, scopes = _scope(statement, module_level=True)
    later = set()
    for scope in scopes:
        later |= _global_reads(scope, frozenset())
    return now, later


def _global_reads(scope, enclosing):
    """The names the code of `scope` (a function, lambda, class body or comprehension) and the
    scopes in it read that neither it nor a function around it (`enclosing`) binds."""
    read, bound, scopes = _scope(scope)
    is_class = isinstance(scope, ast.ClassDef)
    local = enclosing if is_class else enclosing | bound   # a class's names are not its methods'
    found = read - (enclosing if is_class else local)
    for inner in scopes:
        found |= _global_reads(inner, local)
    return found


def _scope(root, module_level=False):
    """(read, bound, scopes): the names read and bound in the scope `root` opens (at module
    level, in the statement `root` itself), and the scopes nested in it (whose defaults,
    decorators and bases belong to this one)."""
    read, bound, declared, scopes = set(), set(), set(), []
    if module_level:
        waiting = [root]
    elif isinstance(root, ast.ClassDef):
        waiting = list(root.body)
    elif isinstance(root, _COMPREHENSIONS):
        waiting = [*root.generators, *(getattr(root, field) for field in ("elt", "key", "value")
                                       if hasattr(root, field))]
    else:   # a function or a lambda: its parameters are its own
        arguments = root.args
        bound |= {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                  arguments.vararg, arguments.kwarg) if a is not None}
        waiting = list(root.body) if isinstance(root.body, list) else [root.body]
    while waiting:
        node = waiting.pop()
        if isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef, *_COMPREHENSIONS)):
            scopes.append(node)
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                bound.add(node.name)
            header = [] if isinstance(node, _COMPREHENSIONS) else [
                *getattr(node, "decorator_list", []), *getattr(node, "bases", []),
                *getattr(node, "keywords", []), *([node.args] if hasattr(node, "args") else []),
                *([node.returns] if getattr(node, "returns", None) else [])]
            for part in header:   # evaluated where it is written (annotations included)
                if isinstance(part, ast.arguments):
                    waiting += [*part.defaults, *[d for d in part.kw_defaults if d],
                                *[a.annotation for a in (*part.posonlyargs, *part.args,
                                                         *part.kwonlyargs, part.vararg,
                                                         part.kwarg) if a and a.annotation]]
                else:
                    waiting.append(part)
            continue
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared |= set(node.names) if isinstance(node, ast.Global) else set()
            bound |= set(node.names) if isinstance(node, ast.Nonlocal) else set()
        elif isinstance(node, _IMPORTS):
            bound |= _bound_names(node)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        waiting += ast.iter_child_nodes(node)
    return read, bound - declared, scopes


def _bound_names(node):
    """The names a statement binds or changes: its targets' names (`Network.predict = f`
    changes Network), and the names of what it defines or imports."""
    bound = set()
    for each in ast.walk(node):
        if isinstance(each, ast.Import):
            bound |= {alias.asname or alias.name.partition(".")[0] for alias in each.names}
        elif isinstance(each, ast.ImportFrom):
            bound |= {alias.asname or alias.name for alias in each.names}
        elif isinstance(each, (*_FUNCTIONS, ast.ClassDef)):
            bound.add(each.name)
        elif isinstance(each, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = each.targets if isinstance(each, ast.Assign) else [each.target]
            bound |= {n.id for target in targets for n in ast.walk(target)
                      if isinstance(n, ast.Name)}
        elif isinstance(each, ast.Name) and not isinstance(each.ctx, ast.Load):
            bound.add(each.id)
    return bound


def imported_modules(node):
    """The modules an import statement `node` names (for `from a import b`, a and a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level or node.module is None:
        return []
    return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]


class _Deferred:
    """What a deferred import binds: the module (or the name from it) imported on first use."""

    def __init__(self, module, name=None, top=False):
        self._where, self._value = (module, name, top), None

    def _resolve(self):
        if self._value is None:
            import importlib
            module, name, top = self._where
            value = importlib.import_module(module)
            if top:   # `import a.b` binds a
                value = sys.modules[module.partition(".")[0]]
            elif name is not None:
                try:
                    value = getattr(value, name)
                except AttributeError:   # `from package import submodule`
                    value = importlib.import_module(f"{module}.{name}")
            self._value = value
        return self._value

    def __getattr__(self, attribute):
        if attribute.startswith("__") and attribute.endswith("__"):   # the checker's looks
            raise AttributeError(attribute)
        return getattr(self._resolve(), attribute)

    def __call__(self, *args, **kwargs):
        return self._resolve()(*args, **kwargs)


def _bind_deferred(node, namespace):
    for alias in node.names:
        if isinstance(node, ast.Import):
            name = alias.asname or alias.name.partition(".")[0]
            namespace[name] = _Deferred(alias.name, top=alias.asname is None)
        else:
            namespace[alias.asname or alias.name] = _Deferred(node.module, alias.name)


def _notebook_cells(source, notes):
    """[(number, code)] of a notebook's code cells, any nbformat version (read by nbformat);
    a cell under a cell magic is its Python without the magic's line, or left out (noted)."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        notebook = nbformat.reads(source, as_version=4)
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        text = cell.source
        magic = re.match(r"\s*%%(\w+)[^\n]*\n?", text)
        if magic and magic.group(1) in _PYTHON_CELL_MAGICS:
            text = "\n" * text[:magic.end()].count("\n") + text[magic.end():]
        elif magic:
            notes.append(f"cell {number}: not run, a %%{magic.group(1)} cell holds no Python")
            continue
        cells.append((number, text))
    return cells


def _parse(text, where):
    """(statements, note): `text` parsed; IPython's own syntax (magics, `!shell`, `name?`)
    turned into calls as IPython turns it; if it still does not parse, each top-level block
    that parses on its own (a finished function above an unfinished one) is kept."""
    try:
        return ast.parse(text).body, None
    except (SyntaxError, ValueError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        text = TransformerManager().transform_cell(text)
    except ImportError:   # without IPython: magics and shell lines blanked, indentation kept
        text = "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line)
                         for line in text.splitlines())
    except Exception:
        pass
    try:
        return ast.parse(text).body, None
    except (SyntaxError, ValueError) as exc:
        error = f"{getattr(exc, 'msg', exc)}, line {getattr(exc, 'lineno', '?')}"
    body = _parseable_blocks(text)
    kept = ", ".join(node.name if isinstance(node, _DEFINITIONS) else f"line {node.lineno}"
                     for node in body) or "nothing"
    return body, f"{where} is not valid Python ({error}); run on their own: {kept}"


def _parseable_blocks(text, span=50):
    """The top-level blocks of `text` (from one unindented line to another) that parse, each
    with its own line numbers; a block that does not parse is tried with up to `span` more."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines)
              if line.strip() and not line[0].isspace() and not line.startswith("#")]
    body, i = [], 0
    while i < len(starts):
        for j in range(i + 1, min(len(starts), i + span) + 1):
            try:
                tree = ast.parse("".join(lines[starts[i]:starts[j] if j < len(starts) else None]))
            except (SyntaxError, ValueError):
                continue
            ast.increment_lineno(tree, starts[i])
            body += tree.body
            i = j
            break
        else:
            i += 1
    return body


# ----- from scratch: where a definition comes from ---------------------------------------------

# Names that fetch code or change the interpreter at run time, out of a reader's sight: a
# homework's definition that uses one cannot be shown to be its own.
_OPAQUE = {"__import__": "imports a module by a computed name",
           "import_module": "imports a module by a computed name",
           "exec": "runs code from a string", "eval": "runs code from a string",
           "compile": "compiles code from a string",
           "setprofile": "changes the interpreter's profiler",
           "settrace": "changes the interpreter's tracer",
           "_getframe": "reads the interpreter's frames", "f_back": "reads the caller's frame",
           "f_locals": "reads another frame's variables"}
_DATACLASS_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
                      "__lt__", "__le__", "__gt__", "__ge__")
# The methods a check calls on Layer and Network (forward-like ones by `_FORWARD`); a class is
# judged by these and what they use, a method of its own that nothing calls apart.
_CALLED = {"__init__", "__call__", "initialize_weights", "fit", "predict"}
_FORWARD = re.compile(r"_*(forward|feed_?forward|forward_?pass|forward_?prop\w*|propagate\w*)",
                      re.IGNORECASE)


class Provenance:
    """Whether the student's definitions come from a forbidden module (mlplab, a neural-network
    library): by what the objects are and what their code uses (`borrowed`), by the imports the
    code tries (`on_import`, an audit hook), and by what runs while the checker calls them
    (`profile`)."""

    def __init__(self, forbidden):
        self.forbidden = tuple(forbidden)
        self.folders = []     # where the forbidden modules' code is
        self.named = {}       # code object -> the homework's name it is the definition of
        self.imports = []     # forbidden imports tried: {"target", "callers"}

    def locate(self, namespace, names):
        """Find the forbidden modules' code (once the student's folder is importable) and
        which code is which of the homework's definitions."""
        self.folders = [folder for folder in map(_module_folder, self.forbidden) if folder]
        for name in names:
            code = getattr(_unwrapped(namespace[name]), "__code__", None)
            if code is not None:
                self.named[code] = name

    def is_forbidden(self, module):
        return isinstance(module, str) and any(
            module == name or module.startswith(name + ".") for name in self.forbidden)

    def on_import(self, event, args):
        """An audit hook (it cannot be removed): every import of a forbidden module the code
        tries, with the student's functions on the stack."""
        if event == "import" and self.is_forbidden(args[0]) and len(self.imports) < 100:
            self.imports.append({"target": args[0], "callers": _callers(sys._getframe(1))})

    def _imported(self, code):
        return [instruction.argval for instruction in dis.get_instructions(code)
                if instruction.opname == "IMPORT_NAME" and self.is_forbidden(instruction.argval)]

    def imports_in(self, obj):
        """The forbidden modules that a function's or a class's code imports anywhere."""
        functions = [f for member in vars(obj).values() for f in _functions_in(member)] \
            if isinstance(obj, type) else [obj]
        return {module for function in functions if hasattr(function, "__code__")
                for code in _code_objects(function.__code__) for module in self._imported(code)}

    def borrowed(self, obj, others=()):
        """Why `obj` (a definition the homework must write) is not the student's own, or ''.
        The student's helpers it uses are followed; `others`, the homework's other required
        definitions, are not (each is judged on its own)."""
        module = _module_of(obj)
        if self.is_forbidden(module):
            return f"is {module}.{getattr(obj, '__qualname__', type(obj).__name__)}"
        self._others = {id(other) for other in others if other is not obj}
        self._generated = set()
        seen, found = set(), []
        self._visit(obj, seen, found, depth=0)
        return found[0] if found else ""

    def _visit(self, obj, seen, found, depth):
        obj = _unwrapped(obj)
        if id(obj) in seen or depth > 20 or found:
            return
        seen.add(id(obj))
        if isinstance(obj, type):
            for base in obj.__mro__[1:]:
                if self.is_forbidden(base.__module__):
                    found.append(f"is a subclass of {base.__module__}.{base.__qualname__}")
                    return
            members = {name: member for klass in reversed(obj.__mro__[:-1])
                       for name, member in vars(klass).items()}
            if dataclasses.is_dataclass(obj):   # methods it wrote from text: not a borrowing
                self._generated |= {id(members.get(name)) for name in _DATACLASS_METHODS}
            wanted = [name for name in members if name in _CALLED or _FORWARD.fullmatch(name)]
            while wanted and not found:   # the methods the checks call, and those they call
                for function in _functions_in(members.pop(wanted.pop(), None)):
                    self._visit(function, seen, found, depth + 1)
                    wanted += [n for code in _code_objects(function.__code__)
                               for n in code.co_names if n in members]
            return
        code = getattr(obj, "__code__", None)
        if code is None:
            return
        if _made_from_a_string(obj) and id(obj) not in self._generated:
            found.append(f"is made at run time from a string, not written in the file "
                         f"({_qualname(code)})")
            return
        for each in _code_objects(code):
            why = self._in_code(each, getattr(obj, "__globals__", {}), seen, found, depth)
            if why:
                found.append(f"{why} ({_qualname(each)})")
                return
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                module = _module_of(cell.cell_contents)
            except ValueError:   # an empty cell
                continue
            if self.is_forbidden(module):
                found.append(f"uses {module} ({_qualname(code)})")
                return

    def _in_code(self, code, namespace, seen, found, depth):
        """Why one code object is not the student's own ('' if nothing says so), visiting the
        student's helpers it names."""
        imported = self._imported(code)
        if imported:
            return f"imports {imported[0]}"
        if {"__import__", "import_module"} & set(code.co_names):
            named = [c for c in code.co_consts if self.is_forbidden(c)]
            if named:
                return f"imports {named[0]} at run time"
        for name in code.co_names:
            if name in _OPAQUE:
                return f"{_OPAQUE[name]} ({name})"
            value = namespace.get(name, getattr(builtins, name, None))
            if value is None or id(value) in self._others:
                continue
            if isinstance(value, (dict, list, tuple)) and any(
                    map(_made_from_a_string, list(value.values() if isinstance(value, dict)
                                                  else value)[:1000])):
                return f"calls code made at run time from a string ({name})"
            module = value.__name__ if inspect.ismodule(value) else _module_of(value)
            if self.is_forbidden(module):
                return "uses " + (module if inspect.ismodule(value) else
                                  f"{module}.{getattr(value, '__qualname__', name)}")
            if _is_homework(value):
                self._visit(value, seen, found, depth + 1)
                if found:
                    return ""
        return ""

    def profile(self, function, *args):
        """`function(*args)` with every call watched: returns its value and the first call
        into a forbidden module, as {"target", "callers"} (the student's functions on the stack,
        innermost first), or None."""
        hits = []

        def watch(frame, event, arg):
            if hits:
                return
            if event == "call":
                code = frame.f_code
                if code.co_filename != __file__ and code.co_filename.startswith(
                        tuple(self.folders)):
                    own = [self.named[code]] if code in self.named else []
                    hits.append({"target": f"{frame.f_globals.get('__name__', '?')}."
                                           f"{_qualname(code)}",
                                 "callers": own + _callers(frame.f_back)})
            elif event == "c_call":
                module = getattr(arg, "__module__", None) or _module_of(
                    getattr(arg, "__self__", None))
                if self.is_forbidden(module):
                    hits.append({"target": f"{module}.{getattr(arg, '__name__', '?')}",
                                 "callers": _callers(frame)})

        sys.setprofile(watch)
        try:
            value = function(*args)
        finally:
            sys.setprofile(None)
        return value, (hits[0] if hits else None)


def _module_folder(name):
    """Where module `name`'s code is (a package's folder, a module's file), found without
    running any of it: the parents of a submodule are not imported to find it."""
    import importlib.util

    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    if not spec.submodule_search_locations:
        return None if rest else spec.origin
    path = os.path.join(os.path.dirname(spec.origin), *rest)
    return path + os.sep if os.path.isdir(path) else path + ".py" if os.path.isfile(
        path + ".py") else None


def _unwrapped(obj):
    return inspect.unwrap(obj) if callable(obj) else obj


def _module_of(obj):
    if obj is None:
        return None
    target = getattr(obj, "func", obj)   # functools.partial
    target = getattr(target, "__func__", target)   # a bound method
    module = getattr(target, "__module__", None)
    if module is None and not isinstance(target, type):
        module = getattr(type(target), "__module__", None)
    return module if isinstance(module, str) else None


def _functions_in(member):
    if isinstance(member, (staticmethod, classmethod)):
        return [member.__func__]
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f]
    return [member] if inspect.isfunction(member) else []


def _code_objects(code):
    yield code
    for constant in code.co_consts:
        if inspect.iscode(constant):
            yield from _code_objects(constant)


# Every code object compiled from the student's file (by id, kept alive here): the file's own
# code, whatever name a function made from a string at run time gives its file.
_FILES_CODE = {}


def _is_homework(value):
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    if code is not None:
        return id(code) in _FILES_CODE
    return isinstance(value, type) and value.__module__ == "__homework__"


def _made_from_a_string(function):
    """Whether `function` was made at run time from text (exec, compile): its code is not the
    file's, and its globals are no module's, as a library's function's are."""
    code = getattr(function, "__code__", None)
    if code is None or id(code) in _FILES_CODE:
        return False
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    return getattr(function, "__globals__", None) is not getattr(module, "__dict__", None)


def _qualname(code):
    return getattr(code, "co_qualname", code.co_name)   # Python 3.11 has co_qualname


def _callers(frame):
    """The student's functions on the stack from `frame` up, innermost first (at most 8)."""
    names = []
    while frame is not None and len(names) < 8:
        if frame.f_code.co_filename.startswith(HOMEWORK):
            names.append(_qualname(frame.f_code))
        frame = frame.f_back
    return names


# ----- the requests -----------------------------------------------------------------------------

class Server:
    """The student's process: loads the student's code, then answers requests until the
    checker closes the pipe. Every answer: {"value": ...} or {"error": text}, with "warnings",
    the request's "nonce" and the forbidden "imports" tried so far."""

    def __init__(self, requests, answers, command):
        self.requests, self.answers = requests, answers
        self.limits = command["limits"]
        self.provenance = Provenance(command["forbidden"])
        self.namespace = None
        self.stand_in_source = command["stand_ins"]
        self.stand_ins = {"np": np}

    def serve(self):
        signal.signal(signal.SIGALRM, _alarm)
        sys.addaudithook(self.provenance.on_import)
        while True:
            try:
                request = _read_message(self.requests)
            except (EOFError, OSError, ValueError):
                return
            _write_all(self.answers, pack(self.answer(request)))

    def answer(self, request):
        seconds = float(request.get("seconds", self.limits["request"]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            np.seterr(all="warn")
            try:
                if request["op"] == "load":   # timed statement by statement
                    result = {"value": self.load(request)}
                else:
                    result = {"value": _timed(seconds, getattr(self, request["op"]), request)}
            except _TimeUp:
                result = {"error": f"it ran longer than {seconds:g} s"}
            except BaseException as exc:   # a student's error, MemoryError and exits included
                result = {"error": _error_text(exc)}
            result["warnings"] = sorted({f"{w.category.__name__}: {w.message}"[:300]
                                         for w in caught})[:10]
        result["nonce"] = request.get("nonce")   # which request this answers
        result["imports"] = self.provenance.imports[:20]
        return result

    def load(self, request):
        """Run the file's defining statements; what it defines, and notes on what it skipped."""
        if request.get("folder"):
            sys.path.insert(0, request["folder"])
        before = set(sys.modules)
        namespace = {"__name__": "__homework__", "__builtins__": builtins,
                     "get_ipython": _NoIPython, "display": lambda *args, **kwargs: None}
        given = set(namespace)
        units, notes = code_units(request["source"], request["kind"])
        # What nothing checked uses waits: an experiment's imports until their first use (a
        # check need not wait for scikit-learn or matplotlib to load), its other statements
        # for ever. A forbidden module's import runs, so that the checks see it.
        _, deferred, skipped = plan_load(units, request["names"])
        deferred = {id(node) for node in deferred
                    if not any(map(self.provenance.is_forbidden, imported_modules(node)))}
        skipped = {id(node) for node in skipped}
        flags, start, late, unused = 0, time.monotonic(), [], []
        for label, node, is_import in units:
            if id(node) in deferred:
                _bind_deferred(node, namespace)
                continue
            if id(node) in skipped:
                unused.append(label)
                continue
            if not isinstance(node, _DEFINITIONS) and \
                    time.monotonic() - start > self.limits["load"]:
                late.append(label)   # the load's time is up: functions and classes only
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                import __future__
                for alias in node.names:
                    flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
            seconds = self.limits["import" if is_import else "statement"]
            try:
                code = compile(ast.Module(body=[node], type_ignores=[]),
                               f"{HOMEWORK} {label}", "exec", flags=flags, dont_inherit=True)
                _FILES_CODE.update((id(each), each) for each in _code_objects(code))
                _timed(seconds, exec, code, namespace)
            except _TimeUp:
                notes.append(f"{label}: skipped, it ran longer than {seconds:g} s")
            except BaseException as exc:   # a student's error, MemoryError and exits included
                notes.append((f"{label}: skipped, " + (
                    f"it called sys.exit({exc.code!r})" if isinstance(exc, SystemExit)
                    else f"it raised {_error_text(exc)}"))[:300])
        if unused:
            statements = "statement" if len(unused) == 1 else "statements"
            notes.append(f"not run: {len(unused)} top-level {statements} ("
                         f"{', '.join(unused[:5])}{', ...' if len(unused) > 5 else ''}) whose "
                         "names nothing checked uses (experiments)")
        if late:
            notes.append(f"not run: {len(late)} top-level statements from {late[0]} on that "
                         f"define no function or class: loading had used its "
                         f"{self.limits['load']:g} s")
        self.namespace = namespace
        present = [name for name in request["names"] if name in namespace]
        self.provenance.locate(namespace, present)
        required = [namespace[name] for name in present]
        names = {name: {"kind": "class" if isinstance(namespace[name], type) else "function"
                        if callable(namespace[name]) else type(namespace[name]).__name__,
                        "borrowed": self.provenance.borrowed(namespace[name], required)}
                 for name in present}
        imported = {name for name in self.provenance.forbidden
                    if name in sys.modules and name not in before}
        for value in list(namespace.values()):   # imports anywhere in the code, run or not
            if _is_homework(value) or (isinstance(value, type) and any(
                    map(_is_homework, vars(value).values()))):
                imported |= self.provenance.imports_in(value)
        defined = sorted(name for name, value in namespace.items()
                         if name not in given and not name.startswith("__") and callable(value))
        return {"notes": notes, "names": names, "defined": defined[:2000],
                "imported": sorted(imported)}

    def _function(self, name, source="homework"):
        if name == "ones":   # for a network that calls the softmax layer's derivative (None)
            return lambda z: np.ones_like(np.asarray(z, dtype=float))
        if source == "homework":
            return self.namespace[name]
        if name not in self.stand_ins:   # mlplab's functions from their text, never mlplab
            exec(compile(self.stand_in_source, "<mlplab's functions>", "exec"), self.stand_ins)
        return self.stand_ins[name]

    def call(self, request):
        """One function on the given arrays: its result, and a call into a forbidden module."""
        function = self._function(request["name"], request.get("source", "homework"))
        value, hit = self.provenance.profile(function, *request["args"])
        return {"result": plain(value), "calls": hit}

    def layer(self, request):
        """`count` layers made as asked, each described: its arrays, found by shape, and how
        the bias flag was passed."""
        Layer = self.namespace["Layer"]
        n_in, n_out, bias = request["n_input"], request["n_output"], request["bias"]
        described = []
        for _ in range(request.get("count", 1)):
            layer = _make_layer(Layer, n_in, n_out, bias)
            weights, biases = _parameters_of(layer, n_in, n_out)
            found = {path for path, _ in weights} | set(biases)
            described.append({"weights": weights, "biases": biases, "arrays": {
                path: array for path, array in _arrays_of(layer).items() if path in found}})
        flag = _bias_flag(Layer)
        return {"layers": described,
                "flag": None if flag is None else f"{flag[1]}=False" if flag[0] else
                f"False as its third argument ({flag[1]})"}

    def network(self, request):
        """A network of the student's Layer and Network, its parameters set if given, then the
        steps asked for (fit, predict), with what each returned and the parameters after it."""
        net = _StudentNetwork(self, request)
        steps = [{"parameters": net.parameters()}]
        data = request.get("data", {})
        for number, (method, args) in enumerate(request["steps"]):
            args = [data[a[1:]] if isinstance(a, str) and a.startswith("$") else a
                    for a in args]
            call = getattr(net.network, method)
            try:
                if number == 0:
                    value, net.calls = self.provenance.profile(call, *args)
                else:
                    value = call(*args)
            except _TimeUp:
                raise
            except BaseException as exc:
                return {"steps": steps, "error": _error_text(exc), "failed_step": number,
                        "where": net.where, "calls": net.calls}
            steps.append({"returned": plain(value), "parameters": net.parameters()})
        return {"steps": steps, "where": net.where, "calls": net.calls}

    def output(self, request):
        """The network's output for each input, read from the network itself: by the threshold
        of `predict` (bisection), else a forward-like method, else the layers' arrays run
        through the student's activations."""
        net = _StudentNetwork(self, request)
        for method in (_output_by_predict, _output_by_forward, _output_by_layers):
            try:   # each way its own share of the time: a predict that hangs leaves the others
                outputs = _timed(self.limits["request"], lambda read=method: [
                    read(net, x) for x in request["inputs"]])
            except (Exception, _TimeUp):
                continue
            if all(value is not None for value, _ in outputs):
                return {"outputs": [value for value, _ in outputs], "method": outputs[0][1],
                        "calls": net.calls}
        raise LookupError("the output could not be read: predict does not use its threshold, "
                          "and no forward method returns it")


def _error_text(exc):
    if isinstance(exc, SystemExit):
        return f"SystemExit: it called sys.exit({exc.code!r})"[:500]
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:500]


def plain(value):
    """A student's result as a message: its type, and its value as a float array if it is one."""
    out = {"type": type(value).__name__}
    if value is None:
        return out
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":   # text, objects: not numbers, whatever they say
            raise TypeError
        array = array.astype(float)
    except (TypeError, ValueError, OverflowError):
        try:
            out["repr"] = repr(value)[:200]
        except Exception:
            out["repr"] = f"a {type(value).__name__}"
        return out
    if array.size > MAX_ARRAY_ELEMENTS or array.ndim > 4:
        out["repr"] = f"an array of shape {array.shape}"
    else:
        out["array"] = array
    return out


# --- the student's Layer and Network

# Words in the names of arrays kept beside the parameters (gradients, caches, copies), which
# share their shapes: names decide.
_HELPER_PARTS = ("grad", "delta", "cache", "velocity", "moment", "prev", "accum", "init",
                 "orig", "copy", "backup", "best", "saved", "snapshot")
_HELPER_NAMES = ("old", "last", "input", "output", "out", "act", "z", "start")


def _helper_name(name):
    name = name.lower().strip("_")
    return name.startswith(("d_", "dw", "db")) or name in _HELPER_NAMES or any(
        part in name for part in _HELPER_PARTS)


def _bias_flag(Layer):
    """How to pass Layer's bias flag: (keyword or None for the third position, its name)."""
    try:
        parameters = list(inspect.signature(Layer).parameters.values())
    except (TypeError, ValueError):
        return None
    named = [p.name for p in parameters if p.name == "bias"] or [
        p.name for p in parameters if "bias" in p.name.lower()]
    if named:
        return named[0], named[0]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
    return (None, positional[2].name) if len(positional) >= 3 else None


def _make_layer(Layer, n_in, n_out, bias):
    if bias:
        return Layer(n_in, n_out)
    flag = _bias_flag(Layer)
    if flag is None:
        raise TypeError("Layer takes no bias flag: the skeleton's is Layer(n_input, n_output, "
                        "bias=True)")
    return Layer(n_in, n_out, **{flag[0]: False}) if flag[0] else Layer(n_in, n_out, False)


def _arrays_of(obj):
    """{path: array} of an object's numeric arrays: its attributes, and two levels into its
    lists, tuples and dicts ('weights', 'params[0][1]', "params['W']")."""
    found = {}

    def visit(path, value, depth):
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "fiu":
                found[path] = value
        elif depth < 2 and isinstance(value, (list, tuple)) and len(value) <= 64:
            for i, item in enumerate(value):
                visit(f"{path}[{i}]", item, depth + 1)
        elif depth < 2 and isinstance(value, dict) and len(value) <= 64:
            for key, item in value.items():
                if isinstance(key, int) or (isinstance(key, str) and key.isidentifier()):
                    visit(f"{path}[{key!r}]", item, depth + 1)

    for name, value in list(vars(obj).items()) if hasattr(obj, "__dict__") else []:
        visit(name, value, 0)
    return found


def _parameters_of(layer, n_in, n_out):
    """([(path, transposed)], [path]): a layer's weight and bias arrays, found by shape."""
    weights, biases = [], []
    for path, value in _arrays_of(layer).items():
        if value.shape in ((n_in, n_out), (n_out, n_in)):
            weights.append((path, value.shape != (n_in, n_out)))
        elif value.size == n_out and (value.ndim == 1 or (value.ndim == 2 and 1 in value.shape)):
            biases.append(path)
    weights = [w for w in weights if not _helper_name(w[0])] or weights
    return weights, [b for b in biases if not _helper_name(b)]


def _path(path):
    """('attribute', [key, ...]) of a path that `_arrays_of` made."""
    name = re.match(r"\w+", path).group()
    return name, [ast.literal_eval(key) for key in re.findall(r"\[([^\[\]]+)\]", path)]


def _get(obj, path):
    name, keys = _path(path)
    value = getattr(obj, name)
    for key in keys:
        value = value[key]
    return value


def _set(obj, path, array):
    """Put `array` at `path`, rebuilding a tuple on the way if there is one."""
    name, keys = _path(path)

    def put(container, keys):
        if not keys:
            return array
        if isinstance(container, tuple):
            items = list(container)
            items[keys[0]] = put(items[keys[0]], keys[1:])
            return tuple(items)
        container[keys[0]] = put(container[keys[0]], keys[1:])
        return container

    setattr(obj, name, put(getattr(obj, name), keys))


class _StudentNetwork:
    """The student's network for one request, and where its parameters live: each layer's
    weight and bias arrays, and any list the network keeps of them (read after every step, the
    place that changed wins)."""

    def __init__(self, server, request):
        Layer, Network = server.namespace["Layer"], server.namespace["Network"]
        self.layers, self.found = [], []   # found: (weights' path, transposed, biases' path)
        for n_in, n_out, bias in request["layers"]:
            layer = _make_layer(Layer, n_in, n_out, bias)
            weights, biases = _parameters_of(layer, n_in, n_out)
            if len(weights) != 1 or (bias and len(biases) != 1) or len(biases) > 1:
                raise LookupError(
                    f"cannot tell the weights and biases of Layer({n_in}, {n_out}) apart: "
                    f"arrays {sorted(_arrays_of(layer))}")
            self.layers.append(layer)
            self.found.append((*weights[0], biases[0] if biases else None))
        for layer, (W_path, transposed, b_path), (W, b) in zip(
                self.layers, self.found, request.get("parameters") or []):
            _set(layer, W_path, np.array(W.T if transposed else W))
            if b_path is not None and b is not None:
                _set(layer, b_path, np.array(b).reshape(np.shape(_get(layer, b_path))))
        functions = request["functions"]
        sources = functions.get("sources", {})

        def pick(name):
            return None if name is None else server._function(name, sources.get(name,
                                                                                "homework"))

        self.activations = [pick(name) for name in functions["activations"]]
        self.network = Network(self.layers, [pick(name) for name in functions["activations"]],
                               [pick(name) for name in functions["derivatives"]],
                               pick(functions["loss"]), pick(functions["d_loss"]))
        self.held = self._held_by_network()
        self.previous, self.chosen = {}, {}   # each place's last value; the place in use
        self.where = {}   # parameters read from a place of the network's: what, where
        self.calls = None

    def _held_by_network(self):
        """{(layer, 'W' or 'b'): [(path, transposed)]}: the network's own arrays equal to a
        layer's parameters when it is made."""
        held = {}
        arrays = _arrays_of(self.network)
        for index, (layer, (W_path, _, b_path)) in enumerate(zip(self.layers, self.found)):
            targets = {"W": _get(layer, W_path), "b": _get(layer, b_path) if b_path else None}
            for path, array in arrays.items():
                for key, target in targets.items():
                    if target is None:
                        continue
                    if array.shape == target.shape and np.array_equal(array, target):
                        held.setdefault((index, key), []).append((path, False))
                    elif key == "W" and array.shape == target.T.shape != target.shape \
                            and np.array_equal(array, target.T):
                        held.setdefault((index, key), []).append((path, True))
        return held

    def parameters(self):
        """[[W (n_in, n_out), b (n_out,) or None]] now: each from the place that holds it, the
        layer's attribute until a place of the network's changes instead (then that one)."""
        layers = getattr(self.network, "layers", None)   # the network's, if it replaced ours
        if not (isinstance(layers, (list, tuple)) and len(layers) == len(self.layers)):
            layers = self.layers
        current = []
        for index, (W_path, transposed, b_path) in enumerate(self.found):
            pair = []
            for key, path, flip in (("W", W_path, transposed), ("b", b_path, False)):
                if path is None:
                    pair.append(None)
                    continue
                places = [(f"the layer's {path}", layers[index], path, flip)] + [
                    (f"the network's {held}", self.network, held, t)
                    for held, t in self.held.get((index, key), [])]
                own = places[0][0]
                chosen = self.chosen.get((index, key), own)
                for label, owner, place, flip_here in places:
                    array = np.asarray(_get(owner, place), dtype=float)
                    array = array.T if flip_here else array
                    before = self.previous.get((index, key, label))
                    if before is not None and chosen == own and (
                            array.shape != before.shape
                            or not np.array_equal(array, before, equal_nan=True)):
                        chosen = label
                    self.previous[(index, key, label)] = array
                self.chosen[(index, key)] = chosen
                if chosen != own:
                    self.where[f"{key}{index + 1}"] = chosen
                array = self.previous[(index, key, chosen)]
                pair.append(array if key == "W" else array.reshape(-1))
            current.append(pair)
        return current


def _output_by_predict(net, x):
    """The output of a one-output network from `predict`'s threshold, by bisection."""
    X = np.array([x])
    value = np.asarray(net.network.predict(X), dtype=float).ravel()
    if value.size == 1 and 0 < value[0] < 1:
        return float(value[0]), "predict's value"

    def label(threshold):
        value = np.asarray(net.network.predict(X, threshold), dtype=float).ravel()
        if value.size != 1 or value[0] not in (0.0, 1.0):
            raise ValueError("not a label")
        return value[0]

    low, high = -1.0, 2.0
    if label(low) != 1.0 or label(high) != 0.0:
        return None, ""
    for _ in range(64):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        low, high = (middle, high) if label(middle) == 1.0 else (low, middle)
    return low, "predict's threshold (bisection)"


def _output_by_forward(net, x):
    """The output from a forward-like method: the last value in (0, 1) of one element."""
    def flatten(value, depth=0):
        if isinstance(value, (list, tuple, dict)) and depth < 3:
            for item in value.values() if isinstance(value, dict) else value:
                yield from flatten(item, depth + 1)
        else:
            try:
                yield np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                return

    for name in filter(_FORWARD.fullmatch, dir(net.network)):
        method = getattr(net.network, name)
        for argument in (np.array([x]), np.array(x), np.array([x]).T):
            try:
                result = method(argument)
            except Exception:
                continue
            candidates = [float(np.ravel(a)[0]) for a in flatten(result)
                          if np.size(a) == 1 and 0 < float(np.ravel(a)[0]) < 1]
            if candidates:
                return candidates[-1], f"Network.{name}"
    return None, ""


def _output_by_layers(net, x):
    """The output from the layers' arrays run through the student's activation functions."""
    a = np.array([x], dtype=float)
    for (W, b), activation in zip(net.parameters(), net.activations):
        a = np.asarray(activation(a @ W + (0 if b is None else b)), dtype=float)
    return float(a.ravel()[0]), "the layers' arrays through your activations"


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    zygote(int(sys.argv[1]))
