"""Peer benchmark: the same network, data and epochs in mlplab, scikit-learn and PyTorch (CPU).

    python benchmarks/peers.py [--quick] [--workloads W1,W2,W3] [--no-torch] [--handover 0.2]

Workloads (all sigmoid hidden layers, plain SGD without momentum, no shuffling):
  W1  scikit-learn digits / 16, stratified 80/20 split (1437 training rows), 64-64-10 softmax and
      cross-entropy, full batch, learning rate 0.5, reg_lambda 1e-4, float64; one epoch is timed.
  W2  MNIST-shaped synthetic data (60000 x 784 in [0, 1], 10 classes from a random linear
      teacher), 784-256-10, mini-batches of 128, learning rate 0.1, reg_lambda 1e-4, float64 and
      float32; one epoch is timed.
  W3  the assignment's Q2.5 network: iris, first 100 rows and 2 features, shuffled with
      default_rng(2); 2-4-1 sigmoid output and L2 loss, full batch, learning rate 1e-2,
      reg_lambda 0, float64; 100 epochs are timed together.

The contenders take turns (mlplab, scikit-learn, PyTorch, mlplab, ...) so that a noisy neighbour
slows all of them alike; each turn runs untimed for 0.2 s before its timed run, so that no library
is timed while the previous one's idle threads still spin (see `time_interleaved`). The script
prints medians, each peer's ratio to mlplab, and mlplab's GFLOP/s against this machine's peak.
All three start from mlplab's initial weights, so for W1 their weights after the same epochs can
be compared directly. PyTorch is optional: without it the script says so and runs the others.
"""

import argparse
import os
import platform
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info

import mlplab as ml

try:
    import torch
    TORCH_MISSING = None
except (ImportError, OSError) as exc:   # OSError: a wheel whose shared libraries do not load
    torch = None
    TORCH_MISSING = (f"PyTorch is not available ({exc.__class__.__name__}: {exc}); skipping it. "
                     "To include it, install a CPU build, e.g. "
                     "pip install torch --index-url https://download.pytorch.org/whl/cpu")

SANITY_EPOCHS = 50   # W1 epochs after which the three libraries' weights are compared


# ----- workloads ---------------------------------------------------------------------------------

@dataclass
class Workload:
    name: str
    title: str
    X: np.ndarray            # (n_samples, n_input), already in `dtype`
    Y: np.ndarray            # mlplab's targets: one-hot rows, or a column of 0/1 for W3
    labels: np.ndarray       # integer class of each row (scikit-learn, PyTorch cross-entropy)
    sizes: tuple             # units per layer, input first: (64, 64, 10)
    output: str              # "softmax" (cross-entropy) or "sigmoid" (L2 loss, as Q2.5)
    learning_rate: float
    reg_lambda: float
    batch_size: int          # equal to n_samples for full batch
    epochs_per_run: int      # epochs in one timed run
    repeats: int
    init_rows: int           # rows of scikit-learn's first, shape-making fit (all unless slow)

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def n_samples(self):
        return len(self.X)


def digits_workload(repeats):
    X, y = datasets.load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16.0, y, test_size=0.2, stratify=y,
                                              random_state=0)
    n = len(X_train)
    return [Workload("W1", f"digits 64-64-10, full batch ({n} rows), float64", X_train,
                     np.eye(10)[y_train], y_train, (64, 64, 10), "softmax", 0.5, 1e-4, n, 1,
                     repeats, n)]


def mnist_shaped_workloads(n_samples, repeats):
    # Uniform pixels and a random linear teacher: dense, like MNIST's shape if not its content;
    # only the shapes matter for timing.
    rng = np.random.default_rng(0)
    X = rng.random((n_samples, 784))
    labels = np.argmax((X - 0.5) @ rng.standard_normal((784, 10)), axis=1)
    Y = np.eye(10)[labels]
    workloads = []
    for dtype in (np.float64, np.float32):
        title = (f"MNIST-shaped {n_samples}x784, 784-256-10, batches of 128, "
                 f"{np.dtype(dtype).name}")
        workloads.append(Workload("W2", title, X.astype(dtype), Y.astype(dtype), labels,
                                  (784, 256, 10), "softmax", 0.1, 1e-4, 128, 1, repeats,
                                  min(n_samples, 2048)))
    return workloads


def q25_workload(repeats):
    X, y = datasets.load_iris(return_X_y=True)
    X, y = X[:100, :2], y[:100]
    order = np.arange(100)
    np.random.default_rng(2).shuffle(order)   # the assignment's Q2.5 shuffle
    X, y = X[order], y[order]
    return [Workload("W3", "Q2.5 iris 2-4-1, sigmoid output, L2 loss, full batch (100 rows), "
                     "100 epochs per run, float64", X, y.reshape(-1, 1).astype(float), y,
                     (2, 4, 1), "sigmoid", 1e-2, 0.0, 100, 100, repeats, 100)]


# ----- the three contenders ----------------------------------------------------------------------
# Each has `run()` (one run of `epochs_per_run` epochs over all of X) and `params()` (float64
# [(W, b), ...] in mlplab's orientation).

class MlplabContender:
    name = "mlplab"

    def __init__(self, wl):
        pairs = list(zip(wl.sizes, wl.sizes[1:]))
        n_hidden = len(pairs) - 1
        if wl.output == "softmax":
            activations = [ml.sigmoid] * n_hidden + [ml.softmax]
            derivatives = [ml.d_sigmoid] * n_hidden + [None]
            loss, d_loss = ml.cross_entropy_loss, ml.d_cross_entropy_softmax
        else:
            activations, derivatives = [ml.sigmoid] * len(pairs), [ml.d_sigmoid] * len(pairs)
            loss, d_loss = ml.l2_loss, ml.d_l2_loss
        self.net = ml.Network([ml.Layer(n_in, n_out) for n_in, n_out in pairs], activations,
                              derivatives, loss, d_loss).astype(wl.dtype)
        self.wl = wl
        full_batch = wl.batch_size >= wl.n_samples
        # `fit` is the assignment's one-epoch call; `train` for mini-batches and for W3's 100
        # epochs in one call (as scikit-learn's fit(max_iter=100) does them in one call).
        self.how = ("Network.fit (one full-batch step)" if full_batch and wl.epochs_per_run == 1
                    else f"Network.train(epochs={wl.epochs_per_run}, batch_size="
                         f"{'None' if full_batch else wl.batch_size}, shuffle=False)")

    def initial_params(self):
        return [(layer.weights.copy(), layer.biases.copy()) for layer in self.net.layers]

    def run(self):
        wl = self.wl
        if wl.batch_size >= wl.n_samples and wl.epochs_per_run == 1:
            self.net.fit(wl.X, wl.Y, wl.learning_rate, wl.reg_lambda)
        else:
            self.net.train(wl.X, wl.Y, wl.epochs_per_run, wl.learning_rate, wl.reg_lambda,
                           batch_size=None if wl.batch_size >= wl.n_samples else wl.batch_size,
                           shuffle=False)

    def params(self):
        return [(layer.weights.astype(np.float64), layer.biases.astype(np.float64))
                for layer in self.net.layers]


class SklearnContender:
    name = "sklearn"

    def __init__(self, wl, initial):
        self.wl = wl
        # L2 strength. scikit-learn's gradient for a batch of n rows is
        #     coef_grad = (A_prev.T @ delta + alpha * W) / n = mean_grad + (alpha / n) * W
        # (_compute_loss_grad; its loss adds alpha / (2 n) * ||W||^2), while mlplab steps with
        # mean_grad + reg_lambda * W. So alpha = reg_lambda * batch_size gives the same update;
        # neither decays the biases. (In W2 the last, shorter batch of 96 rows then decays a
        # little more in scikit-learn: one step in 469, irrelevant to timing.)
        alpha = wl.reg_lambda * wl.batch_size
        # W3 cannot be matched exactly: with one output unit MLPClassifier is a binary classifier
        # with a logistic output and log-loss, whose output delta is a - y, where the Q2.5 L2
        # loss gives (a - y) * a * (1 - a). The matrix products are the same, so the timing
        # compares; the weights do not.
        # warm_start + max_iter=epochs_per_run: each fit() continues from the current weights and
        # runs exactly that many epochs; n_iter_no_change=inf so W3's 100 epochs never stop early.
        self.clf = MLPClassifier(
            hidden_layer_sizes=wl.sizes[1:-1], activation="logistic", solver="sgd",
            momentum=0.0, nesterovs_momentum=False, alpha=alpha, batch_size=wl.batch_size,
            shuffle=False, learning_rate_init=wl.learning_rate, learning_rate="constant",
            max_iter=wl.epochs_per_run, warm_start=True, early_stopping=False, tol=0.0,
            n_iter_no_change=np.inf, random_state=0)
        self.how = f"MLPClassifier.fit(warm_start=True, max_iter={wl.epochs_per_run})"
        # The first fit only creates coefs_/intercepts_ with the right shapes and dtype; they are
        # then overwritten in place (the optimiser updates these very arrays) with mlplab's.
        self.clf.fit(wl.X[:wl.init_rows], wl.labels[:wl.init_rows])
        for coef, intercept, (W, b) in zip(self.clf.coefs_, self.clf.intercepts_, initial):
            coef[...], intercept[...] = W, b

    def run(self):
        self.clf.fit(self.wl.X, self.wl.labels)

    def params(self):
        return [(W.astype(np.float64), b.astype(np.float64))
                for W, b in zip(self.clf.coefs_, self.clf.intercepts_)]


class TorchContender:
    name = "torch"

    def __init__(self, wl, initial):
        nn = torch.nn
        self.wl = wl
        pairs = list(zip(wl.sizes, wl.sizes[1:]))
        modules = []
        for l, (n_in, n_out) in enumerate(pairs):
            modules.append(nn.Linear(n_in, n_out))
            if l < len(pairs) - 1 or wl.output == "sigmoid":
                modules.append(nn.Sigmoid())
        self.model = nn.Sequential(*modules).to(torch.float64 if wl.dtype == np.float64
                                                else torch.float32)
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for linear, (W, b) in zip(self.linears, initial):
                linear.weight.copy_(torch.from_numpy(W.T))   # nn.Linear stores (n_out, n_in)
                linear.bias.copy_(torch.from_numpy(b))
        # SGD's weight_decay adds wd * p to the gradient: p <- p - lr * (mean_grad + wd * p),
        # mlplab's update. A naive SGD(model.parameters()) would decay the biases too; mlplab
        # does not, hence two parameter groups.
        self.optimizer = torch.optim.SGD(
            [{"params": [m.weight for m in self.linears], "weight_decay": wl.reg_lambda},
             {"params": [m.bias for m in self.linears], "weight_decay": 0.0}],
            lr=wl.learning_rate, momentum=0.0)
        self.X = torch.from_numpy(wl.X)   # shares memory with the NumPy array
        if wl.output == "softmax":
            # CrossEntropyLoss takes the logits (softmax folded in) and averages over the batch:
            # its gradient w.r.t. the logits is (softmax - one_hot) / n, as mlplab's.
            self.targets = torch.from_numpy(wl.labels).long()
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            # mlplab's L2 loss is 1/2 (y - a)^2 averaged over the rows; MSELoss lacks the 1/2.
            self.targets = torch.from_numpy(wl.Y)
            mse = nn.MSELoss()
            self.loss_fn = lambda output, target: 0.5 * mse(output, target)
        self.how = ("nn.Sequential + " + ("CrossEntropyLoss" if wl.output == "softmax"
                                          else "0.5*MSELoss") + ", optim.SGD, a Python loop")

    def run(self):
        n_rows, batch = self.wl.n_samples, self.wl.batch_size
        for _ in range(self.wl.epochs_per_run):
            total = 0.0
            for start in range(0, n_rows, batch):
                stop = min(start + batch, n_rows)
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss_fn(self.model(self.X[start:stop]), self.targets[start:stop])
                loss.backward()
                self.optimizer.step()
                total += loss.item() * (stop - start)   # the epoch loss, as the others compute

    def params(self):
        return [(m.weight.detach().numpy().T.astype(np.float64),
                 m.bias.detach().numpy().astype(np.float64)) for m in self.linears]


# ----- measurement -------------------------------------------------------------------------------

def mlplab_flops_per_epoch(wl):
    """Floating-point operations of mlplab's matrix products in one epoch, 2*m*n*k each.

    Per layer: forward A_prev @ W, backward A_prev.T @ delta and the bias sum ones @ delta, and
    delta @ W.T for every layer but the first (nothing needs dL/dX). All are linear in the rows,
    so the split into mini-batches does not change the total.
    """
    per_row = 0
    for l, (n_in, n_out) in enumerate(zip(wl.sizes, wl.sizes[1:])):
        per_row += 2 * n_in * n_out * 2 + 2 * n_out + (2 * n_out * n_in if l > 0 else 0)
    return per_row * wl.n_samples


def matmul_peaks(n=2048, repeats=7):
    """This machine's n x n @ n x n matrix-multiply GFLOP/s through NumPy's BLAS, per dtype.

    The two dtypes alternate, like the contenders, and the median is kept.
    """
    rng = np.random.default_rng(0)
    operands = {np.dtype(d).name: [rng.random((n, n)).astype(d) for _ in range(3)]
                for d in (np.float64, np.float32)}
    times = {name: [] for name in operands}
    for round_ in range(1 + repeats):
        for name, (A, B, C) in operands.items():
            start = time.perf_counter()
            np.matmul(A, B, out=C)
            if round_:   # round 0 is the warm-up: thread start-up, page faults
                times[name].append(time.perf_counter() - start)
    return {name: 2 * n ** 3 / np.median(t) / 1e9 for name, t in times.items()}


def time_interleaved(contenders, repeats, handover):
    """Seconds of one timed run per turn of each contender, in turns A B C A B C ...

    Alternating makes a noisy neighbour slow all contenders alike. Each turn first runs the
    contender untimed for `handover` seconds: the previous library's idle worker threads
    (OpenBLAS's and OpenMP's spin-waits) keep spinning for a while, and on 2 cores they made
    whoever came next 2-4x slower. The timed run then follows the library's own previous run,
    as one epoch follows another in a training loop.
    """
    times = {c.name: [] for c in contenders}
    for _ in range(repeats):
        for c in contenders:
            deadline = time.perf_counter() + handover
            while time.perf_counter() < deadline:
                c.run()
            start = time.perf_counter()
            c.run()
            times[c.name].append(time.perf_counter() - start)
    return {name: np.array(t) for name, t in times.items()}


def mean_training_loss(params, wl):
    """W1's mean cross-entropy on the training rows, the same NumPy code for every contender."""
    A = wl.X.astype(np.float64)
    for l, (W, b) in enumerate(params):
        Z = A @ W + b
        A = ml.softmax(Z) if l == len(params) - 1 else ml.sigmoid(Z)
    return ml.cross_entropy_loss(wl.Y, A) / wl.n_samples


# ----- reporting ---------------------------------------------------------------------------------

def library_owner(filepath):
    """The package that loaded a shared library ("numpy.libs", "torch"), not its full path."""
    parts = Path(filepath).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return Path(filepath).name


def print_environment():
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, mlplab {ml.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}")
    blas_threads = None
    for info in threadpool_info():
        owner = library_owner(info.get("filepath", ""))
        print(f"  threadpool: {info['user_api']} {info['internal_api']} {info.get('version')} "
              f"({owner}, {info.get('architecture', '-')}), {info['num_threads']} threads")
        if info["user_api"] == "blas" and owner.startswith("numpy") and blas_threads is None:
            blas_threads = info["num_threads"]
    if blas_threads is None:   # NumPy linked against a system BLAS: take the first one seen
        blas_threads = next((i["num_threads"] for i in threadpool_info()
                             if i["user_api"] == "blas"), os.cpu_count())
    print(f"  mlplab and scikit-learn both multiply through NumPy's BLAS ({blas_threads} threads)")
    if torch is None:
        print(f"  {TORCH_MISSING}")
    else:
        torch.set_num_threads(blas_threads)   # the same number of threads as the BLAS above
        blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
        print(f"  torch: its own BLAS ({blas.group(1) if blas else 'unknown'}), "
              f"set_num_threads({blas_threads}) -> {torch.get_num_threads()} threads")


def print_results(wl, contenders, times, peaks):
    per_epoch = {name: t / wl.epochs_per_run for name, t in times.items()}
    base = np.median(per_epoch["mlplab"])
    print(f"\n{wl.name}: {wl.title}; {wl.repeats} interleaved timed runs each")
    # "vs mlplab" is the ratio of the medians; "paired" the median of the per-turn ratios, which
    # cancels the machine's slower spells when they last longer than one round of turns.
    print(f"  {'':8} {'median s/epoch':>15} {'min':>10} {'max':>10} {'vs mlplab':>10} "
          f"{'paired':>7}   timed call")
    for c in contenders:
        t = per_epoch[c.name]
        paired = np.median(t / per_epoch["mlplab"])
        print(f"  {c.name:8} {np.median(t):15.4g} {t.min():10.4g} {t.max():10.4g} "
              f"{np.median(t) / base:9.2f}x {paired:6.2f}x   {c.how}")
    gflops = mlplab_flops_per_epoch(wl) / base / 1e9
    peak = peaks[wl.dtype.name]
    print(f"  mlplab: {mlplab_flops_per_epoch(wl) / 1e9:.3g} GFLOP per epoch in matrix products "
          f"-> {gflops:.3g} GFLOP/s, {100 * gflops / peak:.1f}% of the {wl.dtype.name} "
          f"matmul peak ({peak:.3g} GFLOP/s)")
    if wl.name == "W3":
        print("  note: scikit-learn's binary MLPClassifier uses log-loss (output delta a - y) "
              "where mlplab and torch use L2 (delta (a - y) * a * (1 - a)); same matrix products")


def train_and_compare(wl, contenders, epochs):
    """Train every contender `epochs` epochs; (name, mean training loss, max |param - mlplab's|).

    Called while all still hold the same initial weights. The loss is mean cross-entropy from
    one NumPy evaluator for all, so the three libraries' own loss bookkeeping does not enter.
    """
    for c in contenders:
        for _ in range(epochs // wl.epochs_per_run):
            c.run()
    reference = contenders[0].params()
    rows = []
    for c in contenders:
        params = c.params()
        gap = max(max(np.abs(W - W0).max(), np.abs(b - b0).max())
                  for (W, b), (W0, b0) in zip(params, reference))
        rows.append((c.name, mean_training_loss(params, wl), gap))
    return rows


def print_sanity(rows, epochs):
    print(f"  sanity: mean training cross-entropy after {epochs} epochs from the same initial "
          "weights (not asserted):")
    for name, loss, gap in rows:
        print(f"    {name:8} {loss:.10f}   max |parameter - mlplab's| = {gap:.2g}")


# ----- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and W2 on 10000 rows (about 30 s)")
    parser.add_argument("--workloads", default="W1,W2,W3",
                        help="comma-separated subset of W1,W2,W3 (default: all)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--handover", type=float, default=0.2, metavar="SECONDS",
                        help="untimed running before each timed run (default 0.2; see "
                             "time_interleaved; 0 times the first run after another library)")
    args = parser.parse_args()
    chosen = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(chosen) - {"W1", "W2", "W3"})
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from W1, W2, W3")
    global torch, TORCH_MISSING
    if args.no_torch and torch is not None:
        torch, TORCH_MISSING = None, "PyTorch left out by --no-torch"
    # warm_start fits of max_iter epochs always end with "maximum iterations reached".
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    print_environment()
    peaks = matmul_peaks()
    print("matmul peak (2048x2048 @ 2048x2048 through NumPy, median of 7): " +
          ", ".join(f"{name} {value:.3g} GFLOP/s" for name, value in peaks.items()))
    print(f"timing: the contenders take turns; each turn runs untimed for {args.handover:g} s, "
          "then times one run")

    builders = {
        "W1": lambda: digits_workload(repeats=15 if args.quick else 50),
        "W2": lambda: mnist_shaped_workloads(10000 if args.quick else 60000,
                                             repeats=2 if args.quick else 5),
        "W3": lambda: q25_workload(repeats=10 if args.quick else 30),
    }
    for key in chosen:
        for wl in builders[key]():
            mlplab = MlplabContender(wl)
            initial = mlplab.initial_params()
            contenders = [mlplab, SklearnContender(wl, initial)]
            if torch is not None:
                contenders.append(TorchContender(wl, initial))
            if wl.name == "W1":   # before timing, while all still hold the same weights
                sanity = train_and_compare(wl, contenders, SANITY_EPOCHS)
            times = time_interleaved(contenders, wl.repeats, args.handover)
            print_results(wl, contenders, times, peaks)
            if wl.name == "W1":
                print_sanity(sanity, SANITY_EPOCHS)


if __name__ == "__main__":
    main()
