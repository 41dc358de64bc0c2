"""What Adam and momentum cost per step: mlplab against scikit-learn's adam and PyTorch's Adam.

    python benchmarks/optimizer_speed.py [--quick] [--rounds 9] [--epochs 20] [--no-torch]

The workload: scikit-learn's digits / 16 (all 1797 rows, 64 features, 10 classes), a 64-100-10
network with a ReLU hidden layer, softmax and cross-entropy, float64, mini-batches of 32
shuffled every epoch (57 steps an epoch, the last of 5 rows), learning rate 1e-3, L2 1e-4 on the
weights only (added to the gradient, biases not decayed), Adam with betas (0.9, 0.999) and eps
1e-8. Each contender trains `--epochs` epochs per timed run:
  mlplab-est-adam     mlplab.MLPClassifier(solver="adam", reg_lambda=1e-4, batch_size=32, ...).fit
  mlplab-adam         Network.train(..., batch_size=32, optimizer=optimizers.Adam())
  mlplab-momentum     Network.train(..., optimizer=optimizers.SGD(0.9, nesterov=True))
  mlplab-sgd          Network.train(..., optimizer=None): plain SGD, what a step costs without
                      an optimizer's state
  sklearn-adam        sklearn.neural_network.MLPClassifier(solver="adam", alpha=1e-4 * 32, ...)
                      .fit (scikit-learn divides alpha by the batch's rows, so this is the same
                      gradient term)
  torch-adam          a plain PyTorch CPU loop: nn.Linear, ReLU, nn.Linear, CrossEntropyLoss,
                      torch.randperm per epoch, slices, zero_grad / backward / step with
                      torch.optim.Adam (weight_decay=1e-4 on the weights only, by two groups)
  torch-momentum      the same loop with torch.optim.SGD(momentum=0.9, nesterov=True)
The two estimators start each run from scratch (`fit` includes their own initialisation, as a
user pays it); the Network.train and PyTorch contenders start each run from the same initial
weights (mlplab's Glorot init from default_rng(0)) and a new optimizer, set up untimed.

How: everything runs at one thread (threadpoolctl's limit for NumPy's BLAS and the OpenMP pools,
torch.set_num_threads(1) for PyTorch). Each contender first runs once untimed (2 epochs:
first-call costs, caches), then the contenders take turns in rounds, each once per round, the
order rotated by one every round, so that a noisy neighbour slows all of them alike. The script
prints the median (and min, max) of each contender's time per step (run time / (epochs * 57)) in
microseconds, the ratios of the medians and the median of the per-round ratios ("paired"), and
whether the goals hold (both ratios at least the goal): scikit-learn's adam at least 2x mlplab's
estimator, PyTorch's Adam loop at least 1x mlplab's Network.train with Adam. It also prints each
contender's training accuracy after its last run, so that the Adam contenders can be seen to have
done the same work. PyTorch is optional (a benchmark peer only): without it the script says so
and runs the others.
"""

import argparse
import math
import os
import platform
import time
import warnings

import numpy as np
import sklearn

# benchmarks/peers.py, beside this script: PyTorch, if it loads, and a BLAS library's owner
from peers import TORCH_MISSING, library_owner, torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import mlplab as ml
from mlplab.optimizers import SGD, Adam

HIDDEN = 100
BATCH = 32
LEARNING_RATE = 1e-3
REG_LAMBDA = 1e-4
WARM_UP_EPOCHS = 2


# ----- the contenders ----------------------------------------------------------------------------
# Each has `prepare()` (untimed: a fresh start), `run(epochs)` (timed: train that many epochs)
# and `accuracy(X, y)` (the training accuracy of what the last run trained).

class MlplabEstimator:
    name = "mlplab-est-adam"

    def prepare(self):
        self.clf = None

    def run(self, epochs):
        self.clf = ml.MLPClassifier(
            hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam",
            learning_rate=LEARNING_RATE, reg_lambda=REG_LAMBDA, batch_size=BATCH, epochs=epochs,
            tol=0, n_iter_no_change=10**6, random_state=0)
        self.clf.fit(self.X, self.y)

    def accuracy(self, X, y):
        return self.clf.score(X, y)


class MlplabTrain:
    """Network.train with one of mlplab's optimizers (None: plain SGD)."""

    def __init__(self, name, make_optimizer):
        self.name, self.make_optimizer = name, make_optimizer

    def prepare(self):
        self.net = ml.build_network([64, HIDDEN, 10], "relu", "softmax",
                                    rng=np.random.default_rng(0))
        self.optimizer = self.make_optimizer()

    def run(self, epochs):
        self.net.train(self.X, self.Y, epochs=epochs, learning_rate=LEARNING_RATE,
                       reg_lambda=REG_LAMBDA, batch_size=BATCH, seed=0,
                       optimizer=self.optimizer)

    def accuracy(self, X, y):
        return float(np.mean(self.net.predict(X) == y))


class SklearnAdam:
    name = "sklearn-adam"

    def prepare(self):
        self.clf = None

    def run(self, epochs):
        # scikit-learn's batch gradient is mean_grad + (alpha / batch_rows) * W, mlplab's
        # mean_grad + reg_lambda * W: alpha = reg_lambda * batch_size gives the same term.
        self.clf = SkMLPClassifier(
            hidden_layer_sizes=(HIDDEN,), activation="relu", solver="adam",
            learning_rate_init=LEARNING_RATE, alpha=REG_LAMBDA * BATCH, batch_size=BATCH,
            beta_1=0.9, beta_2=0.999, epsilon=1e-8, max_iter=epochs, tol=0,
            n_iter_no_change=10**6, shuffle=True, random_state=0)
        self.clf.fit(self.X, self.y)

    def accuracy(self, X, y):
        return self.clf.score(X, y)


class TorchLoop:
    """A plain PyTorch training loop, float64 on the CPU, from mlplab's initial weights."""

    def __init__(self, name, make_optimizer):
        self.name, self.make_optimizer = name, make_optimizer
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(),
                                   nn.Linear(HIDDEN, 10)).to(torch.float64)
        self.linears = [self.model[0], self.model[2]]
        self.loss_fn = nn.CrossEntropyLoss()   # softmax folded in, mean over the batch

    def prepare(self):
        with torch.no_grad():
            for linear, (W, b) in zip(self.linears, self.initial):
                linear.weight.copy_(torch.from_numpy(W.T))   # nn.Linear stores (n_out, n_in)
                linear.bias.copy_(torch.from_numpy(b))
        # weight_decay adds wd * p to the gradient (L2, as mlplab; not AdamW's decoupled decay);
        # two groups, so that the biases are not decayed.
        groups = [{"params": [m.weight for m in self.linears], "weight_decay": REG_LAMBDA},
                  {"params": [m.bias for m in self.linears], "weight_decay": 0.0}]
        self.optimizer = self.make_optimizer(groups)
        self.generator = torch.Generator().manual_seed(0)

    def run(self, epochs):
        n_rows = len(self.X)
        for _ in range(epochs):
            order = torch.randperm(n_rows, generator=self.generator)
            for start in range(0, n_rows, BATCH):
                batch = order[start:start + BATCH]
                self.optimizer.zero_grad()
                loss = self.loss_fn(self.model(self.X[batch]), self.y[batch])
                loss.backward()
                self.optimizer.step()

    def accuracy(self, X, y):
        with torch.no_grad():
            predicted = self.model(torch.from_numpy(X)).argmax(dim=1).numpy()
        return float(np.mean(predicted == y))


def torch_adam(groups):
    return torch.optim.Adam(groups, lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8)


def torch_momentum(groups):
    return torch.optim.SGD(groups, lr=LEARNING_RATE, momentum=0.9, nesterov=True)


def make_contenders(X, y, use_torch):
    Y = np.eye(10)[y]
    contenders = [MlplabEstimator(), MlplabTrain("mlplab-adam", Adam),
                  MlplabTrain("mlplab-momentum", lambda: SGD(momentum=0.9, nesterov=True)),
                  MlplabTrain("mlplab-sgd", lambda: None), SklearnAdam()]
    if use_torch:
        net = ml.build_network([64, HIDDEN, 10], "relu", "softmax", rng=np.random.default_rng(0))
        initial = [(layer.weights.copy(), layer.biases.copy()) for layer in net.layers]
        for contender in (TorchLoop("torch-adam", torch_adam),
                          TorchLoop("torch-momentum", torch_momentum)):
            contender.initial = initial
            contender.X, contender.y = torch.from_numpy(X), torch.from_numpy(y).long()
            contenders.append(contender)
    for contender in contenders[:5]:
        contender.X, contender.Y, contender.y = X, Y, y
    return contenders


# ----- measurement -------------------------------------------------------------------------------

def time_rounds(contenders, rounds, epochs):
    """Seconds of each contender's timed runs, in rounds of turns, the order rotated each round.

    Every contender first runs once untimed (`WARM_UP_EPOCHS` epochs).
    """
    for c in contenders:
        c.prepare()
        c.run(WARM_UP_EPOCHS)
    times = {c.name: [] for c in contenders}
    for round_ in range(rounds):
        shift = round_ % len(contenders)
        for c in contenders[shift:] + contenders[:shift]:
            c.prepare()
            start = time.perf_counter()
            c.run(epochs)
            times[c.name].append(time.perf_counter() - start)
        print(f"  round {round_ + 1}/{rounds} done", flush=True)
    return {name: np.array(t) for name, t in times.items()}


# ----- reporting ---------------------------------------------------------------------------------

def print_environment():
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"NumPy {np.__version__}, scikit-learn {sklearn.__version__}, mlplab {ml.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}")
    for info in threadpool_info():
        print(f"  threadpool: {info['user_api']} {info['internal_api']} {info.get('version')} "
              f"({library_owner(info.get('filepath', ''))}, {info.get('architecture', '-')}), "
              f"{info['num_threads']} threads before the limit")
    if torch is None:
        print(f"  {TORCH_MISSING}")
    else:
        torch.set_num_threads(1)
        print(f"  torch: set_num_threads(1) -> {torch.get_num_threads()} thread")
    print(f"  load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def print_times(times, steps):
    print(f"\nmicroseconds per step (median over rounds; {steps} steps per run):")
    print(f"  {'':16} {'median':>8} {'min':>8} {'max':>8}")
    for name, t in times.items():
        per_step = t / steps * 1e6
        print(f"  {name:16} {np.median(per_step):8.1f} {per_step.min():8.1f} "
              f"{per_step.max():8.1f}")


def ratio(times, numerator, denominator):
    """(ratio of the medians, median of the per-round ratios)."""
    a, b = times[numerator], times[denominator]
    return np.median(a) / np.median(b), float(np.median(a / b))


def print_ratios(times):
    print("\nratios (of the medians; paired: median of the per-round ratios):")
    goals = [("sklearn-adam", "mlplab-est-adam", 2.0, "estimator against estimator"),
             ("torch-adam", "mlplab-adam", 1.0, "training loop against training loop")]
    for slower, faster, goal, what in goals:
        if slower not in times:
            print(f"  {slower} / {faster}: not measured (PyTorch left out)")
            continue
        median, paired = ratio(times, slower, faster)
        holds = "holds" if median >= goal and paired >= goal else "does NOT hold"   # both
        print(f"  {slower:14} / {faster:16} {median:5.2f}x (paired {paired:5.2f}x)   goal >= "
              f"{goal:g}x ({what}; median and paired): {holds}")
    others = [("sklearn-adam", "mlplab-adam"), ("torch-adam", "mlplab-est-adam"),
              ("mlplab-est-adam", "mlplab-adam"), ("mlplab-adam", "mlplab-sgd"),
              ("mlplab-momentum", "mlplab-sgd"), ("torch-adam", "torch-momentum"),
              ("torch-momentum", "mlplab-momentum")]
    for numerator, denominator in others:
        if numerator in times and denominator in times:
            median, paired = ratio(times, numerator, denominator)
            print(f"  {numerator:14} / {denominator:16} {median:5.2f}x (paired {paired:5.2f}x)")


def print_accuracies(contenders, X, y, epochs):
    print(f"\ntraining accuracy on all {len(X)} rows after {epochs} epochs (the last timed run):")
    adam = {}
    for c in contenders:
        accuracy = c.accuracy(X, y)
        print(f"  {c.name:16} {accuracy:.4f}")
        if c.name.endswith("adam"):
            adam[c.name] = accuracy
    spread = max(adam.values()) - min(adam.values())
    print(f"  Adam contenders: {min(adam.values()):.4f} to {max(adam.values()):.4f} (spread "
          f"{spread:.4f}): {'the same range' if spread <= 0.02 else 'NOT the same range'} "
          "(within 0.02). The SGD contenders take the same steps at the same learning rate and "
          "are listed for reference, not compared.")


# ----- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds (default 9)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per timed run (default 20)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3 rounds of 5 epochs (overrides --rounds, --epochs)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = parser.parse_args()
    rounds, epochs = (3, 5) if args.quick else (args.rounds, args.epochs)
    if rounds < 1 or epochs < 1:
        parser.error("--rounds and --epochs must be at least 1")
    global torch, TORCH_MISSING
    if args.no_torch and torch is not None:
        torch, TORCH_MISSING = None, "PyTorch left out by --no-torch"
    # Both estimators warn that `epochs` / `max_iter` ended before convergence: that is the plan.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    print_environment()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    steps = epochs * math.ceil(len(X) / BATCH)
    print(f"digits {X.shape[0]}x{X.shape[1]}, 64-{HIDDEN}-10 relu/softmax, float64, batches of "
          f"{BATCH}; {rounds} rounds of {epochs} epochs per contender, one thread"
          f"{' (quick)' if args.quick else ''}")
    contenders = make_contenders(X, y, torch is not None)
    with threadpool_limits(1):   # NumPy's and SciPy's BLAS, and the OpenMP pools
        times = time_rounds(contenders, rounds, epochs)
        print_times(times, steps)
        print_ratios(times)
        print_accuracies(contenders, X, y, epochs)
    print(f"\nload average at the end (1, 5, 15 min): "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
