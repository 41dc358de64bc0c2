"""A W1 epoch with one and with two BLAS threads, on a quiet machine and beside other work.

    python benchmarks/contention.py [--epochs 40]

W1 is one full-batch epoch of scikit-learn's digits / 16 (stratified 80/20 split, 1437 rows),
64-64-10 sigmoid/softmax, `Network.train(X, Y, epochs=1, learning_rate=0.5, reg_lambda=1e-4)`
with MLPLAB_BLAS_THREADS=1 or 2 (src/mlplab/_engine/threads.py: mlplab's own rule would run it on
one thread). Each setting is timed three times, the thread counts taking turns (the median of
--epochs epochs each): alone, beside a process running a 2-thread matrix product loop, and beside
two busy-looping processes, which are stopped at the end. The lowest and highest of the three
medians are printed: OpenBLAS's threads spin-wait for each other, so two threads beside busy
processes can swing between normal and tens of times slower.
"""

import argparse
import copy
import os
import subprocess
import sys
import time

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split
from timing import load_line, time_calls

import mlplab as ml

MATMUL_LOOP = "import numpy as np\na = np.random.rand(800, 800)\nwhile True:\n    a @ a"
BUSY_LOOP = "while True:\n    pass"


def w1():
    X, y = datasets.load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16, y, test_size=0.2, stratify=y,
                                              random_state=0)
    net = ml.build_network([64, 64, 10], "sigmoid", "softmax")
    return net, X_train, np.eye(10)[y_train]


def epoch_ms(net, X, Y, threads, epochs):
    """Median milliseconds of an epoch on `threads` BLAS threads (a new copy of the network:
    MLPLAB_BLAS_THREADS is read when its engine is set up)."""
    os.environ["MLPLAB_BLAS_THREADS"] = str(threads)
    net = copy.deepcopy(net)

    def one_epoch():
        net.train(X, Y, epochs=1, learning_rate=0.5, reg_lambda=1e-4)

    time_calls(one_epoch, 5)   # settle after switching
    return 1e3 * float(np.median([time_calls(one_epoch, 1) for _ in range(epochs)]))


def measure(label, net, X, Y, epochs):
    medians = {1: [], 2: []}
    for threads in (1, 2, 1, 2, 1, 2):
        medians[threads].append(epoch_ms(net, X, Y, threads, epochs))
    print(f"{label:32s} " + "   ".join(
        f"{n} thread{'s' if n > 1 else ''} {min(medians[n]):6.2f} to {max(medians[n]):6.2f} ms"
        for n in (1, 2)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="epochs per median (default 40)")
    epochs = parser.parse_args().epochs
    print(load_line("load before"), flush=True)
    net, X, Y = w1()
    measure("quiet", net, X, Y, epochs)
    for label, code, count in (("beside a 2-thread matmul loop", MATMUL_LOOP, 1),
                               ("beside 2 busy processes", BUSY_LOOP, 2)):
        others = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]
        try:
            time.sleep(1)
            measure(label, net, X, Y, epochs)
        finally:
            for process in others:
                process.kill()
                process.wait()
    print(load_line("load after"))


if __name__ == "__main__":
    main()
