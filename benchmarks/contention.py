"""A W1 epoch with one and with two BLAS threads, on a quiet machine and beside other work.

    python benchmarks/contention.py

W1 is one full-batch epoch of scikit-learn's digits / 16 (stratified 80/20 split, 1437 rows),
64-64-10 sigmoid/softmax. Each setting is timed three times (median of 40 epochs each): alone,
beside a process running a 2-thread matrix product loop, and beside two busy-looping processes.
The lowest and highest of the three medians are printed: two BLAS threads beside busy processes
swing between normal and about 40 times slower. The background processes are stopped at the
end.
"""

import copy
import os
import subprocess
import sys
import time

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

import mlplab as ml

MATMUL_LOOP = "import numpy as np\na = np.random.rand(800, 800)\nwhile True:\n    a @ a"
BUSY_LOOP = "while True:\n    pass"


def w1():
    X, y = datasets.load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16, y, test_size=0.2, stratify=y,
                                              random_state=0)
    net = ml.Network([ml.Layer(64, 64), ml.Layer(64, 10)], [ml.sigmoid, ml.softmax],
                     [ml.d_sigmoid, None], ml.cross_entropy_loss, ml.d_cross_entropy_softmax)
    return net, X_train, np.eye(10)[y_train]


def epoch_ms(net, X, Y, threads, repeats=40):
    # MLPLAB_BLAS_THREADS is read when a network's engine is set up: a fresh copy per setting.
    os.environ["MLPLAB_BLAS_THREADS"] = str(threads)
    net = copy.deepcopy(net)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        net.train(X, Y, epochs=1, learning_rate=0.5, reg_lambda=1e-4)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def measure(label, net, X, Y):
    best = {1: [], 2: []}
    for threads in (1, 2, 1, 2, 1, 2):
        epoch_ms(net, X, Y, threads, repeats=5)   # settle after switching
        best[threads].append(epoch_ms(net, X, Y, threads))
    print(f"{label:32s} " + "   ".join(
        f"{n} thread{'s' if n > 1 else ''} {min(best[n]):6.2f} to {max(best[n]):6.2f} ms"
        for n in (1, 2)))


def main():
    net, X, Y = w1()
    measure("quiet", net, X, Y)
    for label, code, count in (("beside a 2-thread matmul loop", MATMUL_LOOP, 1),
                               ("beside 2 busy processes", BUSY_LOOP, 2)):
        others = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]
        try:
            time.sleep(1)
            measure(label, net, X, Y)
        finally:
            for process in others:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
