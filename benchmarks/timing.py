"""The benchmarks' one timing helper: each contender in a process of its own, taking turns.

A contender is an object with `run()`, one call of what is timed. A script that times
contenders starts itself as a worker per contender (`Worker`), which builds the contender with
the script's own `make_contender(**spec)` (`serve`) and then times turns on request. The
parent asks the workers for turns in rounds, the order rotated by one each round (`interleave`),
so that a noisy neighbour slows all of them alike; in a turn the worker first runs its
contender untimed for `HANDOVER_SECONDS` (at least one call: its caches and BLAS threads are
its own again, and the previous turn's idle threads, in another process, have stopped
spinning), then times `calls` calls with time.perf_counter under threadpoolctl's limit of
`threads` BLAS/OpenMP threads (and torch.set_num_threads, where PyTorch is loaded). Separate
processes keep one library's threads and imports from slowing another.
"""

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HANDOVER_SECONDS = 0.2   # untimed running before each timed turn
TURN_SECONDS = 0.1       # timed calls per turn, about


def time_calls(run, calls):
    """Seconds that `calls` calls of `run` take."""
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return time.perf_counter() - start


def serve(make_contender):
    """A worker's loop: JSON requests on stdin ({"make": spec}, {"turn": {"threads", "calls"}}),
    one JSON answer a line on stdout ({"seconds", "note"}, or {"error"})."""
    from threadpoolctl import threadpool_limits
    answers, sys.stdout = sys.stdout, sys.stderr   # the libraries' prints stay off the answers
    contender = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if "make" in request:
                contender, answer = make_contender(**request["make"]), {}
            else:
                threads, calls = request["turn"]["threads"], request["turn"]["calls"]
                with threadpool_limits(limits=threads):
                    if threads and "torch" in sys.modules:
                        sys.modules["torch"].set_num_threads(threads)
                    handover = getattr(contender, "handover_seconds", HANDOVER_SECONDS)
                    if handover:   # 0 for whole commands: nothing runs untimed
                        deadline = time.perf_counter() + handover
                        contender.run()
                        while time.perf_counter() < deadline:
                            contender.run()
                    seconds = time_calls(contender.run, calls)
                answer = {"seconds": seconds, "note": getattr(contender, "note", None)}
        except Exception:   # noqa: BLE001 -- the parent reports it, with the traceback
            answer = {"error": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


class Worker:
    """A process running `argv` (a script's worker mode, see `serve`) with one contender."""

    def __init__(self, argv, env=None, **spec):
        self.argv, self.notes = argv, []
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.ask(make=spec)

    def ask(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.argv} ended (exit {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"worker {self.argv}, {request}:\n{answer['error']}")
        if answer.get("note"):
            self.notes.append(answer["note"])
        return answer

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def interleave(workers, rounds, thread_counts=(None,), calls=None, progress=None):
    """Seconds per call of each worker's contender at each thread count, {(name, threads):
    array, one value per round}: every (worker, thread count) takes a turn each round, the order
    rotated by one every round. `calls` per turn: as many as take about TURN_SECONDS (from one
    untimed turn) unless given; threads None sets no limit."""
    turns = [(name, threads) for threads in thread_counts for name in workers]

    def ask(turn, calls):
        name, threads = turn
        return workers[name].ask(turn={"threads": threads, "calls": calls})["seconds"]

    if calls is None:
        calls = {turn: max(1, round(TURN_SECONDS / ask(turn, 1))) for turn in turns}
    else:
        calls = dict.fromkeys(turns, calls)
    times = {turn: [] for turn in turns}
    for round_ in range(rounds):
        shift = round_ % len(turns)
        for turn in turns[shift:] + turns[:shift]:
            times[turn].append(ask(turn, calls[turn]) / calls[turn])
        if progress:
            progress(f"round {round_ + 1}/{rounds}")
    return {turn: np.array(values) for turn, values in times.items()}


def ratio(numerator, denominator):
    """(ratio of the medians, median of the per-round ratios) of two arrays of times."""
    return (float(np.median(numerator) / np.median(denominator)),
            float(np.median(numerator / denominator)))


# ----- the machine ------------------------------------------------------------------------------

def cpu_sample(pids=()):
    """(seconds, busy CPU ticks of the machine, ticks of `pids` and all their descendants,
    those ended included), from Linux's /proc; None without it."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        processes = {}   # pid: (parent, utime + stime + cutime + cstime)
        for path in Path("/proc").glob("[0-9]*/stat"):
            try:
                after_name = path.read_text().rsplit(")", 1)[1].split()
            except OSError:   # ended meanwhile
                continue
            processes[int(path.parent.name)] = (int(after_name[1]),
                                                sum(map(int, after_name[11:15])))
    except OSError:
        return None
    ours, grown = set(pids), True
    while grown:
        more = {pid for pid, (parent, _) in processes.items() if parent in ours} - ours
        ours, grown = ours | more, bool(more)
    own = sum(processes[pid][1] for pid in ours if pid in processes)
    return time.perf_counter(), sum(fields) - fields[3] - fields[4], own   # not idle, iowait


def others_busy(start, end):
    """The cores that processes other than the sampled ones kept busy between two
    `cpu_sample`s of the same pids: "0.85 of 2 cores", or "not known"."""
    if start is None or end is None:
        return "not known"
    ticks = (end[1] - start[1]) - (end[2] - start[2])
    return f"{ticks / os.sysconf('SC_CLK_TCK') / (end[0] - start[0]):.2f} of {os.cpu_count()} cores"


def busy_cores(seconds=0.5):
    """What other processes keep busy while this one sleeps `seconds`."""
    start = cpu_sample([os.getpid()])
    time.sleep(seconds)
    return others_busy(start, cpu_sample([os.getpid()]))


def load_line(when):
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{when}: load average (1, 5, 15 min) {load}; other processes busy: {busy_cores()}"


def version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment_lines():
    """Python, the CPU, the packages and NumPy's BLAS, a line each."""
    from threadpoolctl import threadpool_info
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    blas = [f"{info['internal_api']} {info.get('version')} ({info.get('architecture', '-')}), "
            f"{info['num_threads']} threads by default"
            for info in threadpool_info() if info["user_api"] == "blas"]
    return [f"Python {platform.python_version()}; {os.cpu_count()} CPUs, {cpu}",
            "numpy {}, scikit-learn {}, mlplab {}, torch {}".format(
                *(version(name) for name in ("numpy", "scikit-learn", "mlplab", "torch"))),
            f"NumPy's BLAS: {'; '.join(blas) or 'not found'}"]


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
