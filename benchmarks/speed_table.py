"""One table of every speed path a user of mlplab takes, each against scikit-learn and PyTorch.

    python benchmarks/speed_table.py [--markdown] [--quick] [--rounds 9] [--threads 1,2]
        [--rows q25,digits,estimator,mnist64,mnist32,run] [--no-torch] [--no-run]
        [--mnist-rows 60000] [--run-rounds 3]

Rows (float64 unless said; sigmoid hidden layers; plain SGD, no momentum, no shuffling):
  q25        the assignment's Q2.5 loop, ``for epoch in range(100): net.fit(X, Y, 0.01, 0.0)``, on
             the 2-4-1 network (sigmoid output, L2 loss; iris, first 100 rows and 2 features,
             shuffled with default_rng(2): peers.q25_workload); unit one epoch. Against mlplab's
             ``net.train(X, Y, epochs=100, learning_rate=0.01)`` (aim: fit loop / train <= 1.15),
             a plain NumPy loop written out for this network, scikit-learn's MLPClassifier and a
             plain PyTorch loop (peers' contenders; scikit-learn's one-output classifier uses
             log-loss where the others use L2: the same matrix products).
  digits     load_digits() / 16, all 1797 rows, 64-64-10 softmax and cross-entropy, learning rate
             0.5, reg_lambda 0, ``net.fit(X, Y, 0.5, 0.0)`` once per epoch; unit one epoch. The
             same contenders (aim: fit loop / train <= 1.05), and mlplab's share of the measured
             matrix-product peak.
  estimator  mlplab.MLPClassifier against sklearn.neural_network.MLPClassifier, each fitted from
             scratch: the first 898 digits / 16, hidden (64,), sigmoid, batches of 32, 10
             epochs, plain SGD at learning rate 0.1, L2 1e-4 (scikit-learn's alpha = 1e-4 * 32,
             see peers.SklearnContender); and peers' PyTorch loop on the same batches from
             mlplab's initial weights; unit one fit of 10 epochs.
  mnist64,   peers' W2: MNIST-shaped synthetic data (--mnist-rows x 784), 784-256-10, batches of
  mnist32    128, learning rate 0.1, reg_lambda 1e-4, float64 / float32; unit one epoch. Also
             the share of the peak, and mlplab's speed-up from one to two threads (aim >= 1.7),
             measured once more in a process of its own where mlplab alone runs, one and two
             threads taking turns: in a process where PyTorch has run, OpenBLAS's second thread
             was seen to buy nothing at all (1.00x), against 1.5-1.7x on its own.
  run        the whole command ``python -m mlplab run --out DIR --no-progress`` (this Python's
             mlplab), serial and with ``--jobs 2``, alternating, wall time, median over
             --run-rounds; the aims are 12 s and 7 s. Every run's results.json must be the same,
             byte for byte.

How the timing is done. Everything but `mlplab run` runs in this one process. For each row and
thread count (--threads), under threadpoolctl's ``threadpool_limits(limits=t)`` (NumPy's BLAS,
the OpenMP pools: the same limit for every library) and ``torch.set_num_threads(t)``, the
contenders take turns in rounds, the order rotated by one every round. A turn first runs its
contender untimed for 0.2 s (peers' handover: the previous library's idle threads stop spinning
and this library's start), then times as many calls as take about 0.1 s (one for an epoch of
MNIST, whose handover runs the same library on the first 2048 rows). mlplab still picks its own
BLAS threads below the limit (one for a step with small products). The table gives mlplab's
median time per unit (perf_counter) and, for each peer, the ratio of its median to mlplab's,
with the median of the per-round ratios in brackets: above 1, mlplab is faster. The matrix-
product peak is a 2048 x 2048 product through NumPy in the row's dtype (as peers.matmul_peaks
times it), timed as one more contender in the row's rounds. Before timing, the script checks
that the fit loop and `train` give the same weights after the same epochs (q25, digits), and
before and after all it reports the load average and the other processes using the CPU.
PyTorch is optional: without it (or with --no-torch) its column says n/a.
"""

import argparse
import contextlib
import dataclasses
import datetime
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

import mlplab as ml

# benchmarks/peers.py, beside this script: the workloads, contenders and environment report
import peers
from peers import (MlplabContender, SklearnContender, TorchContender, Workload,
                   mlplab_flops_per_epoch, mnist_shaped_workloads, print_environment,
                   q25_workload)

ROWS = ("q25", "digits", "estimator", "mnist64", "mnist32", "run")
HANDOVER_SECONDS = 0.2        # untimed running before each timed turn
TURN_SECONDS = 0.1            # timed calls per turn, about
HANDOVER_ROWS = 2048          # rows of the handover contenders of long runs (MNIST epochs)
DIGITS_EPOCHS_PER_RUN = 20    # epochs per call of train / the fit loop / scikit-learn's fit
FIT_OVER_TRAIN_AIMS = {"q25": 1.15, "digits": 1.05}
TWO_THREAD_SPEEDUP_AIM = 1.7
RUN_AIMS = {"serial": 12.0, "--jobs 2": 7.0}   # seconds
PEERS = (("numpy", "NumPy loop"), ("sklearn", "scikit-learn"), ("torch", "PyTorch"))


# ----- contenders beyond peers' -------------------------------------------------------------------
# Each has `run()`, one call of what is timed, like peers' contenders.

class MlplabFitLoop(MlplabContender):
    """The assignment's loop: one `Network.fit` per epoch, `epochs_per_run` epochs per call."""

    def __init__(self, wl, initial):
        super().__init__(wl)
        for layer, (W, b) in zip(self.net.layers, initial):
            layer.weights, layer.biases = W.copy(), b.copy()
        self.how = f"for epoch in range({wl.epochs_per_run}): net.fit(X, Y, lr, reg_lambda)"

    def run(self):
        wl, net = self.wl, self.net
        for _ in range(wl.epochs_per_run):
            net.fit(wl.X, wl.Y, wl.learning_rate, wl.reg_lambda)


class NumpyLoop:
    """The full-batch step of a one-hidden-layer sigmoid network written out in plain NumPy, as a
    student would: new arrays for everything, the loss computed as `fit` returns it."""

    how = "forward, loss, backward, update in plain NumPy, new arrays each step"

    def __init__(self, wl, initial):
        self.wl = wl
        (self.W1, self.b1), (self.W2, self.b2) = [(W.copy(), b.copy()) for W, b in initial]

    def run(self):
        wl = self.wl
        X, Y, lr, reg, n = wl.X, wl.Y, wl.learning_rate, wl.reg_lambda, wl.n_samples
        for _ in range(wl.epochs_per_run):
            A1 = 1.0 / (1.0 + np.exp(-(X @ self.W1 + self.b1)))
            Z2 = A1 @ self.W2 + self.b2
            if wl.output == "softmax":
                E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
                A2 = E / E.sum(axis=1, keepdims=True)
                self.loss = -np.sum(Y * np.log(A2)) / n
                D2 = (A2 - Y) / n
            else:
                A2 = 1.0 / (1.0 + np.exp(-Z2))
                self.loss = 0.5 * np.sum((Y - A2) ** 2) / n
                D2 = (A2 - Y) * A2 * (1.0 - A2) / n
            D1 = (D2 @ self.W2.T) * A1 * (1.0 - A1)
            self.W2 = self.W2 - lr * (A1.T @ D2 + reg * self.W2)
            self.b2 = self.b2 - lr * D2.sum(axis=0)
            self.W1 = self.W1 - lr * (X.T @ D1 + reg * self.W1)
            self.b1 = self.b1 - lr * D1.sum(axis=0)

    def params(self):
        return [(self.W1, self.b1), (self.W2, self.b2)]


class MatmulPeak:
    """One n x n @ n x n product through NumPy's BLAS in `dtype`, as peers.matmul_peaks times it,
    but as a contender: the peak is then measured in the same rounds as the row it divides."""

    def __init__(self, dtype, n=2048):
        rng = np.random.default_rng(0)
        self.A, self.B, self.C = (rng.random((n, n)).astype(dtype) for _ in range(3))
        self.flops = 2 * n ** 3
        self.how = f"np.matmul of {n} x {n} {np.dtype(dtype).name} matrices"

    def run(self):
        np.matmul(self.A, self.B, out=self.C)


class EstimatorFit:
    """`fit` of a freshly made estimator: what a user of either library's MLPClassifier times."""

    def __init__(self, make_estimator, X, y, how):
        self.make_estimator, self.X, self.y, self.how = make_estimator, X, y, how

    def run(self):
        self.make_estimator().fit(self.X, self.y)


# ----- rows ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Turn:
    role: str                 # "mlplab" (the row's reference), "train", "numpy", "sklearn",
                              # "torch", "peak" (the matrix-product peak of the row's dtype)
    contender: object         # has run()
    units: int                # units (epochs, fits) in one run()
    handover: object = None   # what runs untimed before a timed turn; None: the contender itself
    calls: int = 0            # timed calls per turn; 0: as many as take about TURN_SECONDS


@dataclasses.dataclass
class Row:
    key: str
    path: str                 # the row's name in the table
    unit: str
    turns: list
    workload: Workload = None   # for the share of the matrix-product peak ("peak" turn)
    notes: list = dataclasses.field(default_factory=list)
    results: dict = dataclasses.field(default_factory=dict)   # threads -> {role: seconds array}
    alone: dict = dataclasses.field(default_factory=dict)     # threads -> mlplab alone, seconds
    others: dict = dataclasses.field(default_factory=dict)    # threads -> other processes' CPU


def peak_turn(dtype):
    """The matrix-product peak as a turn: one 2048 x 2048 product timed, smaller ones (about 5 ms
    each) as its handover."""
    return Turn("peak", MatmulPeak(dtype), 1, handover=MatmulPeak(dtype, 512), calls=1)


def full_batch_turns(wl, use_torch):
    """The fit loop (the reference), train, the NumPy loop, scikit-learn and PyTorch, all from the
    same initial weights; asserts that the fit loop and train agree after one run each."""
    train = MlplabContender(wl)
    initial = train.initial_params()
    fit_loop = MlplabFitLoop(wl, initial)
    train.run()
    fit_loop.run()
    gap = max(max(np.abs(W - W0).max(), np.abs(b - b0).max())
              for (W, b), (W0, b0) in zip(fit_loop.params(), train.params()))
    assert gap <= 1e-12, (f"{wl.name}: after {wl.epochs_per_run} epochs the fit loop's weights "
                          f"differ from train's by {gap:.3g}: the benchmark is broken")
    units = wl.epochs_per_run
    turns = [Turn("mlplab", fit_loop, units), Turn("train", train, units),
             Turn("numpy", NumpyLoop(wl, initial), units),
             Turn("sklearn", SklearnContender(wl, initial), units)]
    if use_torch:
        turns.append(Turn("torch", TorchContender(wl, initial), units))
    note = f"fit loop = train after {units} epochs (max difference {gap:.1g})"
    return turns, note


def q25_row(rounds, use_torch):
    wl = q25_workload(rounds)[0]
    turns, note = full_batch_turns(wl, use_torch)
    return Row("q25", "Q2.5 fit loop, 2-4-1, 100 rows", "epoch", turns, None,
               [note, "scikit-learn: log-loss output (one-output classifier), same products"])


def digits_row(rounds, use_torch):
    X, y = datasets.load_digits(return_X_y=True)
    n = len(X)
    wl = Workload("digits", f"digits 64-64-10, full batch ({n} rows), float64", X / 16.0,
                  np.eye(10)[y], y, (64, 64, 10), "softmax", 0.5, 0.0, n,
                  DIGITS_EPOCHS_PER_RUN, rounds, n)
    turns, note = full_batch_turns(wl, use_torch)
    turns.append(peak_turn(wl.dtype))
    return Row("digits", f"digits fit loop, 64-64-10, {n} rows", "epoch", turns, wl, [note])


def estimator_row(rounds, use_torch):
    X, y = datasets.load_digits(return_X_y=True)
    X, y = X[:898] / 16.0, y[:898]
    hidden, batch, epochs, learning_rate, reg_lambda = 64, 32, 10, 0.1, 1e-4
    n = len(X)

    def mlplab_estimator():
        return ml.MLPClassifier(
            hidden_layer_sizes=(hidden,), activation="sigmoid", solver="sgd", momentum=0.0,
            nesterovs_momentum=False, learning_rate=learning_rate, reg_lambda=reg_lambda,
            epochs=epochs, batch_size=batch, shuffle=False, tol=0.0, n_iter_no_change=10**6,
            random_state=0)

    def sklearn_estimator():
        # scikit-learn's batch gradient is mean_grad + (alpha / batch_rows) * W.
        return SkMLPClassifier(
            hidden_layer_sizes=(hidden,), activation="logistic", solver="sgd", momentum=0.0,
            nesterovs_momentum=False, learning_rate="constant", learning_rate_init=learning_rate,
            alpha=reg_lambda * batch, batch_size=batch, max_iter=epochs, shuffle=False, tol=0.0,
            n_iter_no_change=10**6, random_state=0)

    turns = [Turn("mlplab", EstimatorFit(mlplab_estimator, X, y, "mlplab.MLPClassifier(solver="
                                         "'sgd', momentum=0, batch_size=32, epochs=10).fit"), 1),
             Turn("sklearn", EstimatorFit(sklearn_estimator, X, y, "MLPClassifier(solver='sgd', "
                                          "momentum=0, batch_size=32, max_iter=10).fit"), 1)]
    if use_torch:
        wl = Workload("estimator", f"digits {n} rows, 64-{hidden}-10, batches of {batch}", X,
                      np.eye(10)[y], y, (64, hidden, 10), "softmax", learning_rate, reg_lambda,
                      batch, epochs, rounds, n)
        initial = MlplabContender(wl).initial_params()
        turns.append(Turn("torch", TorchContender(wl, initial), 1))
    return Row("estimator", f"estimator, {n} digits, 64-{hidden}-10, batches of {batch}",
               f"fit of {epochs} epochs", turns, None,
               ["no shuffling: the same batches everywhere",
                f"last batch of {n % batch} rows: scikit-learn's L2 term is larger there"])


def handover_workload(wl):
    """The first HANDOVER_ROWS rows of `wl`: the same library, shapes and dtype, a short run."""
    rows = slice(0, HANDOVER_ROWS)
    return dataclasses.replace(wl, X=wl.X[rows], Y=wl.Y[rows], labels=wl.labels[rows],
                               init_rows=min(wl.init_rows, HANDOVER_ROWS))


def mnist_row(wl, key, use_torch):
    mlplab = MlplabContender(wl)
    initial = mlplab.initial_params()
    small = handover_workload(wl)
    small_mlplab = MlplabContender(small)
    pairs = [("mlplab", mlplab, small_mlplab),
             ("sklearn", SklearnContender(wl, initial), SklearnContender(small, initial))]
    if use_torch:
        pairs.append(("torch", TorchContender(wl, initial), TorchContender(small, initial)))
    turns = [Turn(role, contender, 1, handover, calls=1) for role, contender, handover in pairs]
    turns.append(peak_turn(wl.dtype))
    return Row(key, f"MNIST-shaped {wl.n_samples}x784, 784-256-10, batch 128, {wl.dtype.name}",
               "epoch", turns, wl, [])


# ----- timing -------------------------------------------------------------------------------------

def calls_per_turn(turn):
    """The turn's timed calls: its own number, or as many as take about TURN_SECONDS, from the
    second of two calls (the first pays the first-call costs)."""
    if turn.calls:
        return turn.calls
    turn.contender.run()
    start = time.perf_counter()
    turn.contender.run()
    return max(1, round(TURN_SECONDS / max(time.perf_counter() - start, 1e-9)))


def time_in_turns(turns, rounds, threads, label):
    """Seconds per unit of every turn's contender: {role: array, one value per round}.

    peers.time_interleaved, generalised: the order rotates each round, a turn times several
    calls, and its handover may run something shorter than the contender itself.
    """
    times = {turn.role: [] for turn in turns}
    if peers.torch is not None:
        peers.torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        calls = {turn.role: calls_per_turn(turn) for turn in turns}
        for round_ in range(rounds):
            shift = round_ % len(turns)
            for turn in turns[shift:] + turns[:shift]:
                handover = turn.handover or turn.contender
                deadline = time.perf_counter() + HANDOVER_SECONDS
                while time.perf_counter() < deadline:
                    handover.run()
                start = time.perf_counter()
                for _ in range(calls[turn.role]):
                    turn.contender.run()
                elapsed = time.perf_counter() - start
                times[turn.role].append(elapsed / (calls[turn.role] * turn.units))
            progress(f"{label}: round {round_ + 1}/{rounds}")
    return {role: np.array(values) for role, values in times.items()}


def time_thread_counts(turn, rounds, thread_counts, label):
    """Seconds per unit of `turn`'s contender alone at each thread count, the counts taking turns
    within each round, so that the machine's drift and the peers' idle threads affect none of
    them: {threads: array, one value per round}."""
    times = {threads: [] for threads in thread_counts}
    for round_ in range(rounds):
        for threads in thread_counts[::-1] if round_ % 2 else thread_counts:
            times[threads].append(time_in_turns([turn], 1, threads, label)[turn.role][0])
    return {threads: np.array(values) for threads, values in times.items()}


def mlplab_alone(key, args):
    """`time_thread_counts` of mlplab on MNIST row `key`, in a new process in which no other
    library has run: {threads: array of seconds}."""
    done = subprocess.run([sys.executable, __file__, "--alone", key, "--rounds", str(args.rounds),
                           "--mnist-rows", str(args.mnist_rows)], capture_output=True,
                          text=True, check=True)
    return {int(threads): np.array(values)
            for threads, values in json.loads(done.stdout.splitlines()[-1]).items()}


def ratio(times, numerator, denominator):
    """(ratio of the medians, median of the per-round ratios)."""
    a, b = times[numerator], times[denominator]
    return float(np.median(a) / np.median(b)), float(np.median(a / b))


# ----- `mlplab run` -------------------------------------------------------------------------------

def time_mlplab_run(rounds, python):
    """Wall times of `mlplab run` by the Python `python`, serial and --jobs 2 alternating (the
    order rotating); returns ({variant: array of seconds}, notes)."""
    variants = {"serial": [], "--jobs 2": ["--jobs", "2"]}
    command = [python, "-m", "mlplab", "run", "--no-progress"]
    times = {variant: [] for variant in variants}
    failures, pdf_written, results = [], [], {}
    ticks, started = cpu_ticks(), time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(rounds):
            order = list(variants)[round_ % 2:] + list(variants)[:round_ % 2]
            for variant in order:
                out = Path(folder) / f"{variant.strip('-').replace(' ', '')}-{round_}"
                start = time.perf_counter()
                done = subprocess.run(command + ["--out", str(out)] + variants[variant],
                                      capture_output=True, text=True)
                elapsed = time.perf_counter() - start
                progress(f"mlplab run {variant}, round {round_ + 1}/{rounds}: {elapsed:.1f} s")
                if done.returncode != 0:
                    failures.append(f"{variant}: exit {done.returncode}: "
                                    f"{done.stderr.strip().splitlines()[-1:]}")
                    continue
                times[variant].append(elapsed)
                pdf_written.append((out / "report.pdf").exists())
                results[out.name] = (out / "results.json").read_bytes()
    # The runs' own processes have ended by now, so they are not among the others.
    notes = [f"others: {other_cpu(ticks, cpu_ticks(), time.perf_counter() - started)}"]
    notes += [f"FAILED: {failure}" for failure in failures]
    if len(set(results.values())) == 1:
        notes.append(f"results.json identical in all {len(results)} runs")
    elif results:
        names = sorted(results)
        differing = [name for name in names if results[name] != results[names[0]]]
        message = f"results.json DIFFERS between runs: {names[0]} vs {', '.join(differing)}"
        print(f"\n!!! {message} !!!\n", file=sys.stderr)
        notes.append(f"**{message}**")
    if pdf_written:
        notes.append("report.pdf written" if all(pdf_written) else
                     "report.pdf not written (WeasyPrint not installed)" if not any(pdf_written)
                     else "report.pdf written in some runs only")
    return {variant: np.array(t) for variant, t in times.items()}, notes


# ----- the machine --------------------------------------------------------------------------------

def cpu_ticks():
    """{pid: (name, CPU ticks used so far)} of every process, from Linux's /proc; None where
    there is no /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    ticks = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:   # the process ended meanwhile
            continue
        name, fields = text[text.find("(") + 1:text.rfind(")")], text.rsplit(")", 1)[1].split()
        ticks[stat.parent.name] = (name, int(fields[11]) + int(fields[12]))   # utime + stime
    return ticks


def other_cpu(before, after, seconds, share=0.05):
    """What processes other than this one used between two `cpu_ticks()`: "N cores (name NN%,
    ...)", naming those above `share` of a core; "not known" without /proc."""
    if before is None or after is None:
        return "not known"
    hertz, mine = os.sysconf("SC_CLK_TCK"), str(os.getpid())
    used = {}
    for pid, (name, ticks) in after.items():
        if pid != mine:
            used[pid] = (name, (ticks - before.get(pid, (name, 0))[1]) / hertz / seconds)
    busy = sorted((cores, name) for name, cores in used.values() if cores >= share)[::-1]
    total = sum(cores for _, cores in used.values())
    return f"{total:.2f} cores" + (" (" + ", ".join(f"{name} {100 * cores:.0f}%"
                                                    for cores, name in busy) + ")" if busy else "")


def machine_state(when, interval=0.5):
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    before = cpu_ticks()
    time.sleep(interval)
    others = other_cpu(before, cpu_ticks(), interval)
    return (f"{when}: load average (1, 5, 15 min) {load}; CPU of the other processes over "
            f"{interval:g} s: {others}")


def progress(message):
    print(f"  {message}", file=sys.stderr, flush=True)


# ----- the table ----------------------------------------------------------------------------------

def seconds_text(seconds):
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def ratio_text(times, role):
    if role not in times:
        return "n/a"
    median, paired = ratio(times, role, "mlplab")
    return f"{median:.2f}x ({paired:.2f})"


def peak_text(row, times):
    """mlplab's matrix-product GFLOP/s as a share of the row's peak, measured in its rounds."""
    if row.workload is None:
        return "-"
    peak = next(turn.contender for turn in row.turns if turn.role == "peak")
    mlplab_rate = mlplab_flops_per_epoch(row.workload) / np.median(times["mlplab"])
    peak_rate = peak.flops / np.median(times["peak"])
    return f"{100 * mlplab_rate / peak_rate:.0f}% of {peak_rate / 1e9:.3g} GFLOP/s"


def table_lines(rows, thread_counts, run_times, run_notes, use_torch):
    """[header, rows...]: each a list of cells."""
    lines = [["path", "threads", "mlplab per unit", "unit"] + [name for _, name in PEERS]
             + ["% of GEMM peak", "notes"]]
    for row in rows:
        for threads in thread_counts:
            times = row.results[threads]
            mlplab = float(np.median(times["mlplab"]))
            cells = [row.path, str(threads), seconds_text(mlplab), row.unit]
            for role, _ in PEERS:
                missing = role == "torch" and not use_torch
                cells.append("n/a" if missing else ratio_text(times, role) if role in times
                             else "-")
            notes = []
            if "train" in times:
                median, paired = ratio(times, "mlplab", "train")
                notes.append(f"fit loop / train {median:.3f} (paired {paired:.3f}; aim <= "
                             f"{FIT_OVER_TRAIN_AIMS[row.key]})")
            if row.alone and threads == 2 and 1 in row.alone:
                alone = np.median(row.alone[1]) / np.median(row.alone[2])
                beside = float(np.median(row.results[1]["mlplab"])) / mlplab
                notes.append(f"mlplab 1 -> 2 threads: {alone:.2f}x faster alone, the thread "
                             f"counts taking turns (aim >= {TWO_THREAD_SPEEDUP_AIM}); "
                             f"{beside:.2f}x in the rounds with the peers")
            notes.append(f"others: {row.others[threads]}")
            if threads == thread_counts[0]:   # what holds for the row, once
                notes += row.notes
            cells += [peak_text(row, times), "; ".join(notes)]
            lines.append(cells)
    for variant, times in run_times.items():
        path = f"mlplab run {variant}".replace("run serial", "run (serial)")
        notes = [f"aim {RUN_AIMS[variant]:g} s"]
        if len(times) > 1:
            notes.append(f"{len(times)} runs, {seconds_text(times.min())}-"
                         f"{seconds_text(times.max())}")
        if variant == "--jobs 2" and len(times) and len(run_times["serial"]):
            serial = float(np.median(run_times["serial"]))
            notes.append(f"serial / --jobs 2 {serial / np.median(times):.2f}x")
        if variant == "serial":   # what holds for both rows, once
            notes += run_notes
        median = seconds_text(float(np.median(times))) if len(times) else "failed"
        lines.append([path, "-", median, "whole command", "-", "-", "-", "-", "; ".join(notes)])
    return lines


def render(lines, markdown):
    if markdown:
        rendered = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
        rendered += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
        return "\n".join(rendered)
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(lines[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(cells, widths))
                     + "  " + cells[-1] for cells in lines)


def contender_lines(rows):
    """What each row's contenders call, a line per row: "path: role: call; role: call"."""
    return [f"{row.path}: " + "; ".join(f"{turn.role}: {turn.contender.how}"
                                          for turn in row.turns) for row in rows]


# ----- main ---------------------------------------------------------------------------------------

def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, 6000 MNIST-shaped rows, 1 run round (about a minute)")
    parser.add_argument("--rounds", type=int, help="rounds of turns (default 9; --quick 3)")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"comma-separated subset of {','.join(ROWS)} (default: all)")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts (default 1,2)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-run", action="store_true", help="leave the `mlplab run` rows out")
    parser.add_argument("--mnist-rows", type=int,
                        help="rows of the MNIST-shaped data (default 60000; --quick 6000)")
    parser.add_argument("--run-rounds", type=int,
                        help="pairs of `mlplab run` (default 3; --quick 1)")
    parser.add_argument("--alone", choices=("mnist64", "mnist32"),
                        help=argparse.SUPPRESS)   # mlplab_alone's child process
    parser.add_argument("--run-python", default=sys.executable, metavar="PYTHON",
                        help="the Python whose mlplab the `mlplab run` rows time (default: this "
                             "one), e.g. .venv/bin/python of a venv made as the README says")
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.mnist_rows = args.mnist_rows or (6000 if args.quick else 60000)
    args.run_rounds = args.run_rounds or (1 if args.quick else 3)
    args.rows = [row.strip() for row in args.rows.split(",") if row.strip()]
    unknown = sorted(set(args.rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    if args.no_run and "run" in args.rows:
        args.rows.remove("run")
    try:
        args.threads = sorted({int(t) for t in args.threads.split(",") if t.strip()})
    except ValueError:
        parser.error(f"--threads takes whole numbers, e.g. 1,2; got {args.threads!r}")
    if not args.threads or min(args.threads) < 1 or args.rounds < 1 or args.run_rounds < 1 \
            or args.mnist_rows < 128:
        parser.error("--threads, --rounds and --run-rounds must be at least 1, --mnist-rows "
                     "at least 128")
    return args


def main():
    args = parse_arguments()
    if args.alone:   # mlplab_alone's child: only mlplab runs here
        float64, float32 = mnist_shaped_workloads(args.mnist_rows, args.rounds)
        wl = float64 if args.alone == "mnist64" else float32
        turn = Turn("mlplab", MlplabContender(wl), 1,
                    MlplabContender(handover_workload(wl)), calls=1)
        times = time_thread_counts(turn, args.rounds, [1, 2], f"{args.alone}, mlplab alone")
        print(json.dumps({threads: values.tolist() for threads, values in times.items()}))
        return
    command = "python benchmarks/speed_table.py " + shlex.join(sys.argv[1:])
    if args.no_torch and peers.torch is not None:
        peers.torch, peers.TORCH_MISSING = None, "PyTorch left out by --no-torch"
    use_torch = peers.torch is not None
    # The estimators and scikit-learn's warm-started fits stop at their epochs on purpose.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    started, state_before = time.perf_counter(), machine_state("before")
    environment = io.StringIO()
    with contextlib.redirect_stdout(environment):
        print_environment()

    timed_rows = [key for key in args.rows if key != "run"]

    mnist = {}
    if {"mnist64", "mnist32"} & set(timed_rows):
        float64, float32 = mnist_shaped_workloads(args.mnist_rows, args.rounds)
        mnist = {"mnist64": float64, "mnist32": float32}
    builders = {
        "q25": lambda: q25_row(args.rounds, use_torch),
        "digits": lambda: digits_row(args.rounds, use_torch),
        "estimator": lambda: estimator_row(args.rounds, use_torch),
        "mnist64": lambda: mnist_row(mnist["mnist64"], "mnist64", use_torch),
        "mnist32": lambda: mnist_row(mnist["mnist32"], "mnist32", use_torch),
    }
    rows = []
    for key in timed_rows:
        row = builders[key]()
        for threads in args.threads:
            ticks, start = cpu_ticks(), time.perf_counter()
            row.results[threads] = time_in_turns(row.turns, args.rounds, threads,
                                                 f"{key}, {threads} thread(s)")
            seconds = time.perf_counter() - start
            row.others[threads] = other_cpu(ticks, cpu_ticks(), seconds)
            progress(f"{key}, {threads} thread(s): {seconds:.0f} s; other processes "
                     f"{row.others[threads]}")
        if key.startswith("mnist") and {1, 2} <= set(args.threads):
            row.alone = mlplab_alone(key, args)
        rows.append(row)
    mnist.clear()

    run_times, run_notes = {}, []
    if "run" in args.rows:
        run_times, run_notes = time_mlplab_run(args.run_rounds, args.run_python)
    state_after = machine_state("after")
    elapsed = time.perf_counter() - started

    table = render(table_lines(rows, args.threads, run_times, run_notes, use_torch),
                   args.markdown)
    header = [f"Command: `{command}`" if args.markdown else f"Command: {command}",
              f"Date: {datetime.date.today().isoformat()}; this run took {elapsed:.0f} s."]
    machine = environment.getvalue().rstrip().splitlines() + [state_before, state_after]
    if not use_torch:
        machine.append(f"PyTorch: n/a. {peers.TORCH_MISSING}")
    legend = [
        f"Rounds: {args.rounds} per row and thread count, contenders taking turns in rotating "
        f"order, each turn after {HANDOVER_SECONDS:g} s untimed; threadpoolctl's limit and "
        "torch.set_num_threads at the row's thread count.",
        "Ratios: the peer's median time over mlplab's (above 1: mlplab is faster); in brackets "
        "the median of the per-round ratios. mlplab's reference is the fit loop on the q25 and "
        "digits rows, the estimator's fit on the estimator row, Network.train on MNIST.",
        "% of GEMM peak: mlplab's matrix-product FLOPs per epoch (peers.mlplab_flops_per_epoch) "
        "over its median epoch, against a 2048 x 2048 product in the row's dtype timed as one "
        "more contender in the same rounds (so at the same thread count and machine load).",
        "others: the CPU that other processes used while the row was timed (Linux's /proc), "
        "in cores; a busy neighbour slows two threads most.",
    ] + contender_lines(rows)
    if run_times:
        which = ("this script's Python" if args.run_python == sys.executable
                 else "the Python given by --run-python")
        legend.append("mlplab run: `python -m mlplab run --out DIR --no-progress [--jobs 2]` "
                      f"with {which}, wall time from start to exit; "
                      f"{args.run_rounds} round(s) of both, alternating.")
    if args.markdown:
        print("\n".join(header) + "\n\n```text\n" + "\n".join(machine) + "\n```\n")
        print(table + "\n")
        print("\n".join(f"- {line}" for line in legend))
    else:
        print("\n".join(header + machine) + "\n")
        print(table + "\n")
        print("\n".join(legend))


if __name__ == "__main__":
    main()
