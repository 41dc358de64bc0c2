"""One table of every path a user of mlplab waits on, against scikit-learn, PyTorch and NumPy.

    python benchmarks/speed_table.py [--rows q25,digits,...] [--threads 1,2] [--rounds 9]
        [--quick] [--no-torch] [--class-size 100] [--command-rounds 3]

Training rows (float64 unless said; sigmoid hidden layers; plain SGD unless said; no shuffling,
so every contender takes the same batches; all start from the same Glorot-uniform weights):
  q25      the assignment's loop, `for epoch in range(100): net.fit(X, Y, 0.01, 0.0)`, on the
           Q2.5 network (iris, first 100 rows, 2 features, shuffled by default_rng(2); 2-4-1,
           sigmoid output, L2 loss); per epoch. Also `net.train(X, Y, 100, 0.01)`, the fit loop's
           own floor. scikit-learn's one-output classifier has a log-loss output: same products.
  digits   the same loop on scikit-learn's digits / 16 (1797 x 64), 64-32-10 softmax and
           cross-entropy, learning rate 0.5, 20 epochs a call; per epoch.
  train    `Network.train(X, Y, 2, 0.1, 1e-4, batch_size=32, shuffle=False)` on the digits,
           64-32-10; per epoch.
  sgd      `mlplab.MLPClassifier(hidden_layer_sizes=(32,), activation="sigmoid", solver="sgd",
           momentum=0, learning_rate=0.1, reg_lambda=1e-4, batch_size=32, epochs=10,
           shuffle=False)`.fit on the first 898 digits / 16, against scikit-learn's with the same
           settings (alpha = 1e-4 * 32: it divides alpha by the batch's rows); per fit.
  adam     the same with solver="adam", learning rate 1e-3 (PyTorch: torch.optim.Adam).
  rules-adam, rules-momentum  `mlplab.MLPClassifier((100,), solver="adam" or "sgd" (momentum
           0.9, Nesterov), batch_size=32, epochs=10, n_iter_no_change=None, random_state=0)`.fit
           on the first 898 digits / 16: the engine's flat optimizer rules (_engine/updates.py)
           against optimizers.py's readable rules run inside the engine; per fit.
  mnist64  `Network.train` one epoch of MNIST-shaped data (60000 x 784 uniform pixels, labels
  mnist32  from a random linear teacher), 784-256-10, batches of 128, learning rate 0.1, L2
           1e-4, float64 / float32; per epoch.
Against: a plain NumPy loop (forward, loss, backward, update, new arrays every step, as a
student writes it), scikit-learn's MLPClassifier (warm_start, max_iter = the epochs of a call,
or a new estimator's fit for sgd and adam) and a plain PyTorch loop (nn.Sequential, CrossEntropy
or 0.5 * MSE loss, optim.SGD or Adam with weight decay on the weights only, slices of the data).
Command rows (whole processes; mlplab picks its own BLAS threads):
  check    `mlplab check`: each of tests/students/correct*.py checked by a checker whose
           libraries are loaded (what each file of a class costs); the whole command on
           correct.py; a class of --class-size copies of the four with --out and --jobs 2.
  run      `mlplab run --out DIR --no-progress`, serial and with --jobs 2; results.json must be
           the same in every run.

How: every contender runs in a process of its own and they take turns (timing.py), at each
thread count in --threads (threadpoolctl; torch.set_num_threads), in the same rounds. The
table gives mlplab's median time and each peer's median over mlplab's, with the median of the
per-round ratios in brackets: above 1, mlplab is faster. Command rows run once untimed first.
"""

import argparse
import atexit
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from timing import (Worker, cpu_sample, environment_lines, interleave, load_line, markdown,
                    others_busy, ratio, serve)

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = sorted((ROOT / "tests" / "students").glob("correct*.py"))
PEERS = {"numpy": "NumPy loop", "sklearn": "scikit-learn", "torch": "PyTorch"}


@dataclass
class Row:
    title: str
    contenders: tuple        # mlplab's reference first
    data: str = "digits"     # q25, digits, digits898, mnist
    sizes: tuple = (64, 32, 10)
    learning_rate: float = 0.1
    reg_lambda: float = 1e-4
    batch_size: int = None   # None: full batch
    epochs: int = 1          # epochs a call
    solver: str = "sgd"
    dtype: str = "float64"
    unit: str = "epoch"


FIT_LOOP = ("fit loop", "train", "numpy", "sklearn", "torch")
MINI_BATCHES = ("train", "numpy", "sklearn", "torch")
ESTIMATOR = ("estimator", "sklearn", "torch")
RULES = ("estimator", "readable rules")
ROWS = {
    "q25": Row("the assignment's fit loop, Q2.5 net 2-4-1, iris 100 x 2", FIT_LOOP, "q25",
               (2, 4, 1), 0.01, 0.0, epochs=100),
    "digits": Row("the assignment's fit loop, digits 1797 x 64, 64-32-10", FIT_LOOP,
                  learning_rate=0.5, reg_lambda=0.0, epochs=20),
    "train": Row("Network.train, digits 1797 x 64, 64-32-10, batches of 32", MINI_BATCHES,
                 batch_size=32, epochs=2),
    "sgd": Row("MLPClassifier(solver='sgd'), 898 digits, 64-32-10, batches of 32", ESTIMATOR,
               "digits898", batch_size=32, epochs=10, unit="fit of 10 epochs"),
    "adam": Row("MLPClassifier(solver='adam'), 898 digits, 64-32-10, batches of 32", ESTIMATOR,
                "digits898", learning_rate=1e-3, batch_size=32, epochs=10, solver="adam",
                unit="fit of 10 epochs"),
    "rules-adam": Row("MLPClassifier((100,), solver='adam'), 898 digits, batches of 32", RULES,
                      "digits898", (64, 100, 10), batch_size=32, epochs=10, solver="adam",
                      unit="fit of 10 epochs"),
    "rules-momentum": Row("MLPClassifier((100,), solver='sgd', momentum 0.9), 898 digits, "
                          "batches of 32", RULES, "digits898", (64, 100, 10), batch_size=32,
                          epochs=10, unit="fit of 10 epochs"),
    "mnist64": Row("Network.train, MNIST-shaped 60000 x 784, 784-256-10, batches of 128, "
                   "float64", MINI_BATCHES, "mnist", (784, 256, 10), batch_size=128),
    "mnist32": Row("Network.train, MNIST-shaped 60000 x 784, 784-256-10, batches of 128, "
                   "float32", MINI_BATCHES, "mnist", (784, 256, 10), batch_size=128,
                   dtype="float32"),
}
COMMAND_ROWS = {"check": ("per file", "one file", "class"), "run": ("serial", "--jobs 2")}


# ----- in a worker: the data and the contenders -----------------------------------------------

def load_data(row, mnist_rows):
    """X, one-hot (or 0/1 column) Y and integer labels of `row`, in its dtype."""
    from sklearn import datasets
    if row.data == "q25":
        X, y = datasets.load_iris(return_X_y=True)
        order = np.arange(100)
        np.random.default_rng(2).shuffle(order)   # the assignment's Q2.5 shuffle
        X, y = X[order, :2], y[order]
        return X, y.reshape(-1, 1).astype(float), y
    if row.data == "mnist":
        rng = np.random.default_rng(0)
        X = rng.random((mnist_rows, 784))
        y = np.argmax((X - 0.5) @ rng.standard_normal((784, 10)), axis=1)
    else:
        X, y = datasets.load_digits(return_X_y=True)
        X, y = (X[:898], y[:898]) if row.data == "digits898" else (X, y)
        X = X / 16.0
    return X.astype(row.dtype), np.eye(10, dtype=row.dtype)[y], y


def initial_weights(row):
    rng = np.random.default_rng(0)
    return [((rng.uniform(-1, 1, (n_in, n_out)) * np.sqrt(6 / (n_in + n_out))).astype(row.dtype),
             np.zeros(n_out, row.dtype)) for n_in, n_out in pairwise(row.sizes)]


def mlplab_network(row):
    import mlplab as ml
    net = ml.build_network(list(row.sizes), "sigmoid",
                           "softmax" if row.sizes[-1] > 1 else "sigmoid").astype(row.dtype)
    for layer, (W, b) in zip(net.layers, initial_weights(row)):
        layer.weights, layer.biases = W.copy(), b.copy()
    return net


class MlplabTrain:
    def __init__(self, row, X, Y):
        self.net, self.row, self.X, self.Y = mlplab_network(row), row, X, Y

    def run(self):
        self.net.train(self.X, self.Y, self.row.epochs, self.row.learning_rate,
                       self.row.reg_lambda, batch_size=self.row.batch_size, shuffle=False)


class MlplabFitLoop(MlplabTrain):
    """The assignment's loop; checks on making that it gives `train`'s weights."""

    def __init__(self, row, X, Y):
        super().__init__(row, X, Y)
        twin = MlplabTrain(row, X, Y)
        twin.run()
        self.run()
        gap = max(np.abs(a.weights - b.weights).max() for a, b in zip(self.net.layers,
                                                                       twin.net.layers))
        self.note = f"fit loop = train after {row.epochs} epochs (max difference {gap:.1g})"

    def run(self):
        for _ in range(self.row.epochs):
            self.net.fit(self.X, self.Y, self.row.learning_rate, self.row.reg_lambda)


class NumpyLoop:
    """A one-hidden-layer sigmoid network's training written out in plain NumPy."""

    def __init__(self, row, X, Y):
        self.row, self.X, self.Y = row, X, Y
        (self.W1, self.b1), (self.W2, self.b2) = initial_weights(row)

    def run(self):
        row, n = self.row, len(self.X)
        batch = row.batch_size or n
        for _ in range(row.epochs):
            for start in range(0, n, batch):
                X, Y = self.X[start:start + batch], self.Y[start:start + batch]
                A1 = 1.0 / (1.0 + np.exp(-(X @ self.W1 + self.b1)))
                Z2 = A1 @ self.W2 + self.b2
                if row.sizes[-1] > 1:   # softmax and cross-entropy
                    E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
                    A2 = E / E.sum(axis=1, keepdims=True)
                    self.loss = -np.sum(Y * np.log(A2)) / len(X)
                    D2 = (A2 - Y) / len(X)
                else:                   # sigmoid and L2 loss
                    A2 = 1.0 / (1.0 + np.exp(-Z2))
                    self.loss = 0.5 * np.sum((Y - A2) ** 2) / len(X)
                    D2 = (A2 - Y) * A2 * (1.0 - A2) / len(X)
                D1 = (D2 @ self.W2.T) * A1 * (1.0 - A1)
                self.W2 = self.W2 - row.learning_rate * (A1.T @ D2 + row.reg_lambda * self.W2)
                self.b2 = self.b2 - row.learning_rate * D2.sum(axis=0)
                self.W1 = self.W1 - row.learning_rate * (X.T @ D1 + row.reg_lambda * self.W1)
                self.b1 = self.b1 - row.learning_rate * D1.sum(axis=0)


def sklearn_classifier(row, n_rows, **options):
    from sklearn.neural_network import MLPClassifier
    batch = row.batch_size or n_rows
    return MLPClassifier(
        hidden_layer_sizes=row.sizes[1:-1], activation="logistic", solver=row.solver,
        momentum=0.0, nesterovs_momentum=False, alpha=row.reg_lambda * batch, batch_size=batch,
        learning_rate_init=row.learning_rate, max_iter=row.epochs, shuffle=False, tol=0.0,
        n_iter_no_change=10**9, random_state=0, **options)


class SklearnWarmStart:
    """scikit-learn's fit continuing from the weights (warm_start), `row.epochs` a call."""

    def __init__(self, row, X, labels):
        self.X, self.labels = X, labels
        self.classifier = sklearn_classifier(row, len(X), warm_start=True)
        self.classifier.fit(X[:2048], labels[:2048])   # makes the arrays, then mlplab's weights
        for W, b, (W0, b0) in zip(self.classifier.coefs_, self.classifier.intercepts_,
                                  initial_weights(row)):
            W[...], b[...] = W0, b0

    def run(self):
        self.classifier.fit(self.X, self.labels)


class EstimatorFit:
    """A new estimator's `fit`, as a user of either library's MLPClassifier calls it."""

    def __init__(self, make_estimator, X, labels):
        self.make_estimator, self.X, self.labels = make_estimator, X, labels

    def run(self):
        self.make_estimator().fit(self.X, self.labels)


def mlplab_estimator(row):
    import mlplab as ml
    if row.contenders == RULES:   # the estimator's defaults: what a user's fit runs
        return ml.MLPClassifier(row.sizes[1:-1], solver=row.solver, batch_size=row.batch_size,
                                epochs=row.epochs, n_iter_no_change=None, random_state=0)
    return ml.MLPClassifier(
        hidden_layer_sizes=row.sizes[1:-1], activation="sigmoid", solver=row.solver,
        momentum=0.0, nesterovs_momentum=False, learning_rate=row.learning_rate,
        reg_lambda=row.reg_lambda, batch_size=row.batch_size, epochs=row.epochs, shuffle=False,
        tol=0.0, n_iter_no_change=None, random_state=0)


class ReadableRules:
    """The engine's flat-update interface (_engine/updates.py) around optimizers.py's own
    `update`: per-parameter views of the flat buffers in, new arrays out, copied back."""
    plain = False

    def __init__(self, optimizer, trainer):
        self.optimizer = optimizer
        self.like = [np.empty(theta.shape, theta.dtype) for W, b in trainer.current.views
                     for theta in (W, b) if theta is not None]
        self.state = self.stored = optimizer.state_for(self.like)
        self.ends = np.cumsum([a.size for a in self.like])
        self.scratch = np.empty(trainer.size, trainer.dtype)   # the trainer's, for weight decay
        self.pending = None

    def split(self, flat):
        return [flat[end - a.size:end].reshape(a.shape) for end, a in zip(self.ends, self.like)]

    def apply(self, theta, g, new, learning_rate):
        parameters, self.pending = self.optimizer.update(self.split(theta), self.split(g),
                                                         learning_rate, self.state)
        for view, parameter in zip(self.split(new), parameters):
            view[...] = parameter

    def finite(self):
        return all(np.isfinite(a).all() for a in self.optimizer.state_arrays(self.pending))

    def commit(self):
        self.state = self.pending

    def store(self):
        self.optimizer.state = self.stored = self.state


def readable_rules(X, labels, row):
    """Makes this process's engine step with `ReadableRules`; checks that a fit gives the flat
    rules' weights."""
    from mlplab._engine import trainer
    flat = mlplab_estimator(row).fit(X, labels)
    trainer.flat_update = lambda optimizer, owner: (
        ReadableRules(optimizer, owner) if optimizer is not None else None)
    readable = mlplab_estimator(row).fit(X, labels)
    gap = max(np.abs(a - b).max() for a, b in zip(flat.coefs_, readable.coefs_))
    contender = EstimatorFit(lambda: mlplab_estimator(row), X, labels)
    contender.note = f"readable rules = flat after a fit (max difference {gap:.1g})"
    return contender


class TorchLoop:
    def __init__(self, row, X, Y, labels):
        import torch
        nn, self.row = torch.nn, row
        pairs = list(pairwise(row.sizes))
        modules = [nn.Linear(n_in, n_out) for n_in, n_out in pairs]
        layers = [modules[0]] + [m for linear in modules[1:] for m in (nn.Sigmoid(), linear)]
        if row.sizes[-1] == 1:
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers).to(getattr(torch, row.dtype))
        with torch.no_grad():
            for linear, (W, b) in zip(modules, initial_weights(row)):
                linear.weight.copy_(torch.from_numpy(W.T))
                linear.bias.copy_(torch.from_numpy(b))
        groups = [{"params": [m.weight for m in modules], "weight_decay": row.reg_lambda},
                  {"params": [m.bias for m in modules], "weight_decay": 0.0}]
        optimizer = torch.optim.Adam if row.solver == "adam" else torch.optim.SGD
        self.optimizer = optimizer(groups, lr=row.learning_rate)
        self.X = torch.from_numpy(X)
        if row.sizes[-1] > 1:
            self.targets, self.loss = torch.from_numpy(labels).long(), nn.CrossEntropyLoss()
        else:
            mse = nn.MSELoss()
            self.targets, self.loss = torch.from_numpy(Y), lambda a, y: 0.5 * mse(a, y)

    def run(self):
        n = len(self.X)
        batch = self.row.batch_size or n
        for _ in range(self.row.epochs):
            for start in range(0, n, batch):
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss(self.model(self.X[start:start + batch]),
                                 self.targets[start:start + batch])
                loss.backward()
                self.optimizer.step()
                loss.item()   # the epoch's loss, as the others compute it


class CheckedFiles:
    """`mlplab check`'s work on each test homework, the checker's libraries loaded."""

    def __init__(self):
        from mlplab.check import check_submission
        from mlplab.check.sandbox import Zygote
        from mlplab.check.submissions import one_submission
        self.zygote = Zygote()
        atexit.register(self.zygote.close)
        self.check = lambda path: check_submission(one_submission(path), seed=0,
                                                   zygote=self.zygote)

    def run(self):
        for path in STUDENTS:
            self.check(path)


class Command:
    """A whole command, in a new process each call; `out`: give it a new --out folder."""
    handover_seconds = 0

    def __init__(self, argv, out=False):
        self.argv, self.out, self.folder = argv, out, tempfile.mkdtemp(prefix="speed-table-")
        atexit.register(shutil.rmtree, self.folder, True)
        self.run()   # once untimed: the same caches for every timed call

    def run(self):
        out = Path(self.folder) / "out"
        done = subprocess.run(self.argv + (["--out", str(out)] if self.out else []), check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{self.argv} exit {done.returncode}: {done.stderr[-500:]}")
        if (out / "results.json").exists():
            digest = hashlib.sha256((out / "results.json").read_bytes()).hexdigest()
            self.note = f"results.json {digest[:16]}"
        shutil.rmtree(out, ignore_errors=True)


def make_contender(row, who, mnist_rows=60000, class_size=100):
    warnings.filterwarnings("ignore")   # scikit-learn's ConvergenceWarning: fixed epochs
    mlplab = [sys.executable, "-m", "mlplab"]
    if row == "check":
        if who == "per file":
            return CheckedFiles()
        if who == "one file":
            return Command(mlplab + ["check", str(STUDENTS[0]), "--seed", "0"])
        folder = Path(tempfile.mkdtemp(prefix="speed-table-class-"))
        atexit.register(shutil.rmtree, folder, True)
        for number in range(class_size):
            shutil.copy(STUDENTS[number % len(STUDENTS)], folder / f"student{number:03d}.py")
        return Command(mlplab + ["check", str(folder), "--jobs", "2", "--seed", "0"], out=True)
    if row == "run":
        return Command(mlplab + ["run", "--no-progress"] + (["--jobs", "2"] if who != "serial"
                                                            else []), out=True)
    spec = ROWS[row]
    X, Y, labels = load_data(spec, mnist_rows)
    if who == "readable rules":
        return readable_rules(X, labels, spec)
    if who == "estimator":
        return EstimatorFit(lambda: mlplab_estimator(spec), X, labels)
    if who == "sklearn" and spec.unit != "epoch":
        return EstimatorFit(lambda: sklearn_classifier(spec, len(X)), X, labels)
    if who == "torch":
        return TorchLoop(spec, X, Y, labels)
    classes = {"fit loop": MlplabFitLoop, "train": MlplabTrain, "numpy": NumpyLoop}
    if who == "sklearn":
        return SklearnWarmStart(spec, X, labels)
    return classes[who](spec, X, Y)


# ----- the parent -------------------------------------------------------------------------------

def progress(message):
    print(f"  {message}", file=sys.stderr, flush=True)


def seconds_text(seconds):
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


def time_row(key, args, contenders, thread_counts):
    """{(contender, threads): seconds per unit} of one row, and its contenders' notes."""
    workers = {}
    try:
        for who in contenders:
            try:
                workers[who] = Worker([sys.executable, __file__, "--worker"], row=key, who=who,
                                      mnist_rows=args.mnist_rows, class_size=args.class_size)
            except RuntimeError as error:
                if who != "torch":
                    raise
                progress(f"{key}: PyTorch not measured: {str(error).splitlines()[-1]}")
        rounds = args.command_rounds if key in COMMAND_ROWS else args.rounds
        pids = [os.getpid()] + [worker.process.pid for worker in workers.values()]
        start = cpu_sample(pids)
        times = interleave(workers, rounds, thread_counts, calls=1 if key in COMMAND_ROWS
                           else None, progress=lambda text: progress(f"{key}: {text}"))
        others = f"other processes busy during the row: {others_busy(start, cpu_sample(pids))}"
    finally:
        for worker in workers.values():
            worker.close()
    return times, [others] + sorted({note for worker in workers.values() for note in worker.notes})


def training_lines(key, args, use_torch):
    row = ROWS[key]
    contenders = [who for who in row.contenders if use_torch or who != "torch"]
    times, notes = time_row(key, args, contenders, args.threads)
    units = row.epochs if row.unit == "epoch" else 1
    command = f"`python benchmarks/speed_table.py --rows {key}`"
    lines = []
    for threads in args.threads:
        mlplab = times[row.contenders[0], threads]
        per_unit = f"({'an' if row.unit == 'epoch' else 'a'} {row.unit})"
        cells = [row.title, str(threads), f"{seconds_text(np.median(mlplab) / units)} {per_unit}"]
        for peer in PEERS:
            if (peer, threads) in times:
                cells.append("{:.2f}x ({:.2f})".format(*ratio(times[peer, threads], mlplab)))
            else:
                cells.append("not measured" if peer in row.contenders else "-")
        row_notes = list(notes if threads == args.threads[0] else notes[:1])
        if ("readable rules", threads) in times:
            row_notes.insert(0, "optimizers.py's rules in the engine: {:.2f}x ({:.2f}) the "
                                "time".format(*ratio(times["readable rules", threads], mlplab)))
        if ("train", threads) in times and row.contenders[0] == "fit loop":
            row_notes.insert(0, "fit loop / train {:.3f} ({:.3f})".format(
                *ratio(mlplab, times["train", threads])))
        if threads != args.threads[0]:
            first = times[row.contenders[0], args.threads[0]]
            row_notes.insert(0, "mlplab at {} / at {} threads: {:.2f}x ({:.2f})".format(
                args.threads[0], threads, *ratio(first, mlplab)))
        lines.append(cells + ["; ".join(row_notes), command])
    return lines


def command_lines(key, args):
    times, notes = time_row(key, args, COMMAND_ROWS[key], [None])
    command = f"`python benchmarks/speed_table.py --rows {key}`"
    if key == "run":
        others, *digests = notes
        notes = [others, "results.json the same in all runs" if len(digests) == 1 else
                 f"results.json DIFFERS between runs: {', '.join(digests)}"]
        titles = {"serial": "`mlplab run`, serial", "--jobs 2": "`mlplab run --jobs 2`"}
        units = dict.fromkeys(titles, ("", 1))
    else:
        titles = {"per file": f"`mlplab check`, per file, libraries loaded ({len(STUDENTS)} "
                              "styles of tests/students/)",
                  "one file": f"`mlplab check {STUDENTS[0].name}`, the whole command",
                  "class": f"`mlplab check` a class of {args.class_size}, --jobs 2"}
        units = {"per file": (" a file", len(STUDENTS)), "one file": ("", 1),
                 "class": (f" ({args.class_size} files)", 1)}
    lines = []
    for who, title in titles.items():
        seconds, (unit, files) = times[who, None], units[who]
        row_notes = list(notes)
        if len(seconds) > 1:
            row_notes.insert(0, f"{len(seconds)} runs, {seconds_text(seconds.min() / files)}"
                                f"-{seconds_text(seconds.max() / files)}")
        if who == "class":
            row_notes.insert(0, f"{seconds_text(np.median(seconds) / args.class_size)} a file")
        lines.append([title, "-", seconds_text(np.median(seconds) / files) + unit, "-", "-",
                      "-", "; ".join(row_notes), command])
    return lines


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    keys = list(ROWS) + list(COMMAND_ROWS)
    parser.add_argument("--rows", default=",".join(keys), help=f"some of {','.join(keys)}")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts (default 1,2)")
    parser.add_argument("--rounds", type=int, help="rounds of turns (default 9; --quick 3)")
    parser.add_argument("--command-rounds", type=int, help="rounds of the command rows "
                                                           "(default 3; --quick 1)")
    parser.add_argument("--class-size", type=int, help="files of the class (default 100)")
    parser.add_argument("--mnist-rows", type=int, help="default 60000; --quick 6000")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, rows and files")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.command_rounds = args.command_rounds or (1 if args.quick else 3)
    args.class_size = args.class_size or (20 if args.quick else 100)
    args.mnist_rows = args.mnist_rows or (6000 if args.quick else 60000)
    args.rows = [key.strip() for key in args.rows.split(",") if key.strip()]
    args.threads = [int(threads) for threads in args.threads.split(",")]
    if set(args.rows) - set(keys) or min(args.threads) < 1:
        parser.error(f"--rows takes some of {', '.join(keys)}; --threads counts from 1")
    return args


def main():
    args = parse_arguments()
    use_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    started = time.perf_counter()
    print("\n".join(environment_lines()))
    print(load_line("load before"), flush=True)
    lines = []
    for key in args.rows:
        lines += (command_lines(key, args) if key in COMMAND_ROWS
                  else training_lines(key, args, use_torch))
    print(load_line("load after"))
    print(f"{args.rounds} rounds a training row, {args.command_rounds} a command row; "
          f"{time.perf_counter() - started:.0f} s in all")
    if not use_torch:
        print("PyTorch: not measured (not installed, or --no-torch); to measure it: "
              "pip install torch")
    print()
    print(markdown(["path", "BLAS threads", "mlplab (median)"] + list(PEERS.values())
                   + ["notes", "command"], lines))


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        serve(make_contender)
    else:
        main()
