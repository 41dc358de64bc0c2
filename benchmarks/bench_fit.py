"""One `fit` epoch, vectorised vs the assignment's sample-by-sample algorithm, in one run.

    python benchmarks/bench_fit.py [--repeats 15]

Workloads: (a) the Q2.5 2-4-1 sigmoid/L2 network on iris (100 x 2); (b) scikit-learn's digits
(1797 x 64, scaled by 1/16), 64-64-10 sigmoid/softmax/cross-entropy. The two implementations are
timed alternately (A B A B ...), each turn after untimed runs of the same implementation, and the
medians and their ratio are printed, with the BLAS in use.
"""

import argparse
import pathlib
import sys
import time

import numpy as np
from sklearn import datasets
from threadpoolctl import threadpool_info

import mlplab as ml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from reference import reference_fit  # noqa: E402  (the tests' sample-by-sample oracle)


def workloads():
    X, y = datasets.load_iris(return_X_y=True)
    X, y = X[:100, :2], y[:100]
    order = np.arange(100)
    np.random.default_rng(2).shuffle(order)
    iris = (X[order], y[order].reshape(-1, 1).astype(float))
    q25 = ml.Network([ml.Layer(2, 4), ml.Layer(4, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                     ml.l2_loss, ml.d_l2_loss)
    digits_X, digits_y = datasets.load_digits(return_X_y=True)
    digits = (digits_X / 16.0, np.eye(10)[digits_y])
    digits_net = ml.Network([ml.Layer(64, 64), ml.Layer(64, 10)], [ml.sigmoid, ml.softmax],
                            [ml.d_sigmoid, None], ml.cross_entropy_loss,
                            ml.d_cross_entropy_softmax)
    return {"(a) Q2.5 iris 2-4-1": (q25, *iris, 1e-2), "(b) digits 64-64-10": (digits_net, *digits, 0.5)}


def time_once(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed vectorised epochs before each timed one (default 3)")
    args = parser.parse_args()
    for info in threadpool_info():
        print(f"BLAS: {info.get('internal_api')} {info.get('version')}, "
              f"{info.get('num_threads')} threads")
    for name, (net, X, Y, learning_rate) in workloads().items():
        def vectorised():
            net.fit(X, Y, learning_rate, 0.0)

        def sample_by_sample():
            reference_fit([layer.weights for layer in net.layers],
                          [layer.biases for layer in net.layers], net.activation_list,
                          net.d_activation_list, net.loss_function, net.d_loss_function,
                          X, Y, learning_rate, 0.0)

        fast, slow = [], []
        for _ in range(args.repeats):
            # Each turn first runs its implementation untimed, as training runs epoch after
            # epoch: otherwise each is timed cold, right after the other has filled the caches.
            for _ in range(args.warmup):
                vectorised()
            fast.append(time_once(vectorised))
            sample_by_sample()
            slow.append(time_once(sample_by_sample))
        fast_ms, slow_ms = 1e3 * np.median(fast), 1e3 * np.median(slow)
        print(f"{name}: vectorised {fast_ms:.3f} ms, sample-by-sample {slow_ms:.2f} ms, "
              f"ratio {slow_ms / fast_ms:.0f}x (medians of {args.repeats})")


if __name__ == "__main__":
    main()
