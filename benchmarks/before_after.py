"""This checkout's mlplab against an earlier commit's, taking turns, at equal BLAS threads.

    python benchmarks/before_after.py --before COMMIT [--rounds 15] [--threads 1]

Run it from a git checkout. COMMIT's `src/mlplab` is taken with `git archive` into a temporary
folder (removed at the end); each version is imported in processes of its own (PYTHONPATH set
to its `src`; the script checks which mlplab each imported), one per workload, all driven by
timing.py: the two versions of a workload take turns, the order swapped every round, each
turn after 0.2 s of untimed calls, both at `--threads` BLAS threads (threadpoolctl). Both
versions start from the same initial weights and make the same number of calls. Workloads:

  digits fit      one full-batch `net.fit(X, Y, 0.5, 0.0)`: scikit-learn's digits / 16
                  (1797 x 64), 64-32-10 sigmoid/softmax and cross-entropy; per call
  Q2.5 train      `net.train(X, Y, epochs=100, learning_rate=0.01)` on the assignment's Q2.5
                  network and data (iris, first 100 rows, 2 features, shuffled by
                  default_rng(2); 2-4-1 sigmoid, L2 loss); per epoch
  Q2.5 fit loop   the assignment's loop on the same, `for epoch in range(100): net.fit(X, Y,
                  0.01, 0.0)`; per epoch
  estimator sgd   `MLPClassifier(hidden_layer_sizes=(32,), activation="sigmoid", solver="sgd",
                  momentum=0, learning_rate=0.1, batch_size=32, epochs=10, shuffle=False)`
                  `.fit` on the first 898 digits / 16 (mini-batches of 32); per fit

It prints the medians over the rounds, after / before, and in brackets the median of the
per-round ratios; also the fit loop over `train` in each version, and the machine's load
before and after.
"""

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from timing import (Worker, cpu_sample, environment_lines, interleave, load_line, others_busy,
                    ratio, serve)

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = {"digits fit": "per call", "Q2.5 train": "per epoch",
             "Q2.5 fit loop": "per epoch", "estimator sgd": "per fit"}


# ----- in a worker: one version's mlplab, one workload -------------------------------------------

def initial_weights(sizes):
    """Glorot-uniform weights and zero biases from default_rng(0): the same in every version."""
    rng = np.random.default_rng(0)
    return [(rng.uniform(-1, 1, (n_in, n_out)) * np.sqrt(6 / (n_in + n_out)), np.zeros(n_out))
            for n_in, n_out in pairwise(sizes)]


def network(ml, sizes, output):
    pairs = list(pairwise(sizes))
    if output == "softmax":
        functions = [ml.sigmoid] * (len(pairs) - 1) + [ml.softmax]
        derivatives = [ml.d_sigmoid] * (len(pairs) - 1) + [None]
        loss, d_loss = ml.cross_entropy_loss, ml.d_cross_entropy_softmax
    else:
        functions, derivatives = [ml.sigmoid] * len(pairs), [ml.d_sigmoid] * len(pairs)
        loss, d_loss = ml.l2_loss, ml.d_l2_loss
    net = ml.Network([ml.Layer(n_in, n_out) for n_in, n_out in pairs], functions, derivatives,
                     loss, d_loss)
    for layer, (W, b) in zip(net.layers, initial_weights(sizes)):
        layer.weights, layer.biases = W.copy(), b.copy()
    return net


def make_contender(workload, src):
    from sklearn import datasets
    from sklearn.exceptions import ConvergenceWarning

    import mlplab as ml
    imported = Path(ml.__file__).resolve()
    if Path(src).resolve() not in imported.parents:
        raise RuntimeError(f"imported {imported}, not the mlplab in {src}")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)   # fixed epochs, on purpose
    if workload.startswith("Q2.5"):
        X, y = datasets.load_iris(return_X_y=True)
        order = np.arange(100)
        np.random.default_rng(2).shuffle(order)   # the assignment's Q2.5 shuffle
        X, Y = X[order, :2], y[order].reshape(-1, 1).astype(float)
        net = network(ml, (2, 4, 1), "sigmoid")
        if workload == "Q2.5 train":
            return SimpleNamespace(run=lambda: net.train(X, Y, epochs=100, learning_rate=0.01))

        def fit_loop():
            for _ in range(100):
                net.fit(X, Y, 0.01, 0.0)
        return SimpleNamespace(run=fit_loop)
    X, y = datasets.load_digits(return_X_y=True)
    X = X / 16.0
    if workload == "digits fit":
        net, Y = network(ml, (64, 32, 10), "softmax"), np.eye(10)[y]
        return SimpleNamespace(run=lambda: net.fit(X, Y, 0.5, 0.0))
    estimator = ml.MLPClassifier(
        hidden_layer_sizes=(32,), activation="sigmoid", solver="sgd", momentum=0.0,
        nesterovs_momentum=False, learning_rate=0.1, reg_lambda=1e-4, batch_size=32, epochs=10,
        shuffle=False, tol=0.0, n_iter_no_change=None, random_state=0)
    return SimpleNamespace(run=lambda: estimator.fit(X[:898], y[:898]))


# ----- the parent ---------------------------------------------------------------------------------

def git(*arguments):
    return subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, text=True,
                          check=True).stdout.strip()


def unpack_src(commit, folder):
    """COMMIT's src/ into `folder`; returns the path of that src."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit,
                              "src/mlplab"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return Path(folder) / "src"


def start_worker(workload, src):
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    return Worker([sys.executable, __file__, "--worker"], env=env, workload=workload,
                  src=str(src))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, metavar="COMMIT",
                        help="the commit to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=15, help="turns of each (default 15)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both (default 1)")
    args = parser.parse_args()
    commit = git("rev-parse", "--verify", f"{args.before}^{{commit}}")
    head = git("rev-parse", "--short", "HEAD") + (" with uncommitted changes"
                                                  if git("status", "--porcelain", "src") else "")
    print(f"before: {commit[:7]} ({git('log', '-1', '--format=%s', commit)[:70]})")
    print(f"after: this checkout's src (HEAD {head})")
    print("\n".join(environment_lines()))
    print(f"{args.threads} BLAS thread(s) for both; medians of {args.rounds} rounds, taking turns")
    print(load_line("load before"), flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="before-after-") as folder:
        sources = {"before": unpack_src(commit, folder), "after": ROOT / "src"}
        for workload, unit in WORKLOADS.items():
            workers = {}
            try:
                for version, src in sources.items():
                    workers[version] = start_worker(workload, src)
                once = workers["after"].ask(turn={"threads": args.threads, "calls": 1})
                calls = max(1, round(0.05 / once["seconds"]))
                pids = [os.getpid()] + [worker.process.pid for worker in workers.values()]
                start = cpu_sample(pids)
                times = interleave(workers, args.rounds, [args.threads], calls=calls)
                others = others_busy(start, cpu_sample(pids))
                times = {version: times[version, args.threads] for version in workers}
            finally:
                for worker in workers.values():
                    worker.close()
            units = 100 if workload.startswith("Q2.5") else 1
            results[workload] = {version: t / units for version, t in times.items()}
            median, paired = ratio(times["after"], times["before"])
            name, before, after = f"{workload} ({unit})", *results[workload].values()
            print(f"{name:28} before {format_time(before)}   after {format_time(after)}"
                  f"   after / before {median:.3f} ({paired:.3f}); others busy: {others}",
                  flush=True)
    for version in ("before", "after"):
        loop = ratio(results["Q2.5 fit loop"][version], results["Q2.5 train"][version])[0]
        print(f"Q2.5 fit loop / Q2.5 train, {version}: {loop:.3f}")
    print(load_line("load after"))


def format_time(seconds):
    median = float(np.median(seconds))
    return f"{median * 1e3:8.3f} ms" if median >= 1e-3 else f"{median * 1e6:8.2f} us"


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        serve(make_contender)
    else:
        main()
