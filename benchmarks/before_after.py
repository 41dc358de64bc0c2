"""This checkout's mlplab against an earlier commit's, in one process, taking turns.

    python benchmarks/before_after.py [--before 856d226] [--rounds 15] [--threads 1]

Run it from a git checkout with this mlplab installed: the earlier commit's `src/mlplab` is
taken with `git archive` into a temporary folder and imported as `mlplab_before` (the package
uses relative imports only, so both load side by side). Workloads, each timed per call:

- digits fit: one full-batch `fit` on scikit-learn's digits / 16 (1797 x 64), 64-64-10
  sigmoid/softmax, learning rate 0.5;
- Q2.5 train: `train(epochs=100)` on the assignment's Q2.5 network and data (2-4-1 sigmoid,
  L2 loss, learning rate 0.01), per epoch;
- Q2.5 fit loop: the assignment's own loop, ``for epoch in range(100): net.fit(X, Y, lr, 0)``,
  per epoch, shown against Q2.5 train of the same version;
- estimator: `MLPClassifier(hidden_layer_sizes=(64,), epochs=10)` (mini-batches of 32) fit, with
  the settings of its defaults before the optimizers (plain SGD, learning rate 0.1, sigmoid)
  on the first 898 digits, per fit;
- reference path: Q2.5 train and digits fit with ``engine=False`` (this checkout only), shown
  against the engine.

The contenders of a workload take turns (their order rotating each round), each turn timing
about `--seconds` of calls after an untimed warm-up call; the medians over the rounds and
their ratio are printed. Everything runs
under threadpoolctl's limit of `--threads` BLAS threads, the same for both versions.
"""

import argparse
import importlib
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import mlplab


def load_before(revision, folder):
    """The mlplab of `revision` as the module `mlplab_before`."""
    root = pathlib.Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", revision, "src/mlplab"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    (pathlib.Path(folder) / "src" / "mlplab").rename(pathlib.Path(folder) / "mlplab_before")
    sys.path.insert(0, folder)
    return importlib.import_module("mlplab_before")


def q25_data():
    X, y = datasets.load_iris(return_X_y=True)
    X, y = X[:100, :2], y[:100]
    order = list(range(100))
    np.random.default_rng(2).shuffle(order)   # the assignment's Q2.5 shuffle
    return X[order], y[order].reshape(-1, 1).astype(float)


def digits_data():
    X, y = datasets.load_digits(return_X_y=True)
    return X / 16.0, np.eye(10)[y], y


def q25_net(ml, **options):
    return ml.Network([ml.Layer(2, 4), ml.Layer(4, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                      ml.l2_loss, ml.d_l2_loss, **options)


def digits_net(ml, **options):
    return ml.Network([ml.Layer(64, 64), ml.Layer(64, 10)], [ml.sigmoid, ml.softmax],
                      [ml.d_sigmoid, None], ml.cross_entropy_loss, ml.d_cross_entropy_softmax,
                      **options)


def workloads(before, after):
    """name -> {contender: (function, the units one call is divided into)}."""
    X25, Y25 = q25_data()
    Xd, Yd, yd = digits_data()
    digit_rows = slice(0, 898)

    def digits_fit(ml, **options):
        net = digits_net(ml, **options)
        return lambda: net.fit(Xd, Yd, 0.5, 0.0)

    def q25_train(ml, **options):
        net = q25_net(ml, **options)
        return lambda: net.train(X25, Y25, epochs=100, learning_rate=0.01)

    def q25_fit_loop(ml):
        net = q25_net(ml)

        def loop():
            for _ in range(100):
                net.fit(X25, Y25, 0.01, 0)
        return loop

    def estimator(ml):
        model = ml.MLPClassifier(hidden_layer_sizes=(64,), epochs=10, random_state=0)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)   # 10 epochs, on purpose
        if "solver" in model.get_params():   # since the optimizers: the earlier defaults
            model.set_params(solver="sgd", momentum=0.0, learning_rate=0.1, batch_size=32,
                             activation="sigmoid", reg_lambda=1e-4, n_iter_no_change=10)
        return lambda: model.fit(Xd[digit_rows], yd[digit_rows])

    return {
        "digits fit (per call)": {
            "before": (digits_fit(before), 1), "after": (digits_fit(after), 1)},
        "Q2.5 train (per epoch)": {
            "before": (q25_train(before), 100), "after": (q25_train(after), 100)},
        "Q2.5 fit loop vs train, after (per epoch)": {
            "train": (q25_train(after), 100), "fit loop": (q25_fit_loop(after), 100)},
        "Q2.5 fit loop vs train, before (per epoch)": {
            "train": (q25_train(before), 100), "fit loop": (q25_fit_loop(before), 100)},
        "estimator, 10 epochs of batches of 32 (per fit)": {
            "before": (estimator(before), 1), "after": (estimator(after), 1)},
        "Q2.5 train, engine vs reference, after (per epoch)": {
            "engine": (q25_train(after), 100),
            "reference": (q25_train(after, engine=False), 100)},
        "digits fit, engine vs reference, after (per call)": {
            "engine": (digits_fit(after), 1),
            "reference": (digits_fit(after, engine=False), 1)},
    }


def calls_for(function, seconds):
    """How many calls of `function` take about `seconds`."""
    start = time.perf_counter()
    function()
    return max(1, round(seconds / max(time.perf_counter() - start, 1e-9)))


def measure(contenders, rounds, seconds):
    """Median seconds per unit of each contender, taking turns; each turn times about
    `seconds` of calls, after an untimed one."""
    calls = {name: calls_for(function, seconds) for name, (function, units) in contenders.items()}
    times = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            function, units = contenders[name]
            function()   # warm-up: each turn starts with its own state in the caches
            start = time.perf_counter()
            for _ in range(calls[name]):
                function()
            times[name].append((time.perf_counter() - start) / (calls[name] * units))
    return {name: float(np.median(values)) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="856d226",
                        help="the commit to compare with (default 856d226, the last before the "
                             "reference/engine split)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.05,
                        help="time of calls per turn (default 0.05)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(args.threads):
        before = load_before(args.before, folder)
        for info in threadpool_info():
            print(f"BLAS: {info.get('internal_api')} {info.get('version')}, "
                  f"{info.get('num_threads')} threads")
        print(f"before: {args.before}; after: this checkout; medians of {args.rounds} rounds")
        for name, contenders in workloads(before, mlplab).items():
            medians = measure(contenders, args.rounds, args.seconds)
            first, second = medians
            ratio = medians[second] / medians[first]
            print(f"{name}: " + ", ".join(f"{who} {1e6 * seconds:.1f} us"
                                          for who, seconds in medians.items())
                  + f"; {second}/{first} {ratio:.3f}")


if __name__ == "__main__":
    main()
