"""A step's matrix products in one BLAS call vs in row blocks within OpenBLAS's small-matrix path.

    python benchmarks/products.py [--repeats 21] [--dtype float32]

For each product shape of the digits networks (see `mlplab._products`), the two ways are timed
alternately on one BLAS thread, each turn after two untimed calls, and the medians are printed
in microseconds. Row blocks are formed here whatever the BLAS core, so that the script also shows
what they would cost where mlplab does not use them (try OPENBLAS_CORETYPE=Haswell).
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from mlplab import _products

# (rows, n_in, n_out): digits 64-64-10 on all 1797 rows, W1's 1437 training rows, a wider layer.
SHAPES = [(1797, 64, 64), (1797, 64, 10), (1437, 64, 64), (1437, 64, 10), (898, 256, 10),
          (898, 64, 256)]


def median_time(function, repeats):
    times = []
    for _ in range(repeats):
        function()
        function()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e6 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = parser.parse_args()
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            print(f"BLAS: {info.get('internal_api')} {info.get('version')}, "
                  f"core {info.get('architecture')}; {args.dtype}, timed on 1 thread")
    _products._small_path = True   # form blocks whatever the core, to measure them
    rng = np.random.default_rng(0)
    print(f"{'product':34s} {'one call':>9s} {'blocks':>9s}  blocks")
    with threadpool_limits(1, user_api="blas"):
        for n_rows, n_in, n_out in SHAPES:
            blocks = _products.row_blocks(n_rows, n_in, n_out)
            A = rng.normal(size=(n_rows, n_in)).astype(args.dtype)
            W = rng.normal(size=(n_in, n_out)).astype(args.dtype)
            delta = rng.normal(size=(n_rows, n_out)).astype(args.dtype)
            W_T = np.empty((n_out, n_in), args.dtype)   # matmul_nt copies W.T into it
            Z, delta_in = np.empty((n_rows, n_out), args.dtype), np.empty((n_rows, n_in), args.dtype)
            dW, scratch = np.empty((n_in, n_out), args.dtype), np.empty((n_in, n_out), args.dtype)
            cases = {
                f"{n_rows} x {n_in} @ {n_in} x {n_out}": (
                    lambda: np.dot(A, W, out=Z),
                    lambda: _products.matmul(A, W, out=Z, blocks=blocks)),
                f"({n_rows} x {n_in}).T @ {n_rows} x {n_out}": (
                    lambda: np.dot(A.T, delta, out=dW),
                    lambda: _products.matmul_tn(A, delta, out=dW, blocks=blocks,
                                                scratch=scratch)),
                f"{n_rows} x {n_out} @ ({n_in} x {n_out}).T": (
                    lambda: np.dot(delta, W.T, out=delta_in),
                    lambda: _products.matmul_nt(delta, W, out=delta_in, blocks=blocks, W_T=W_T)),
            }
            for name, (one_call, in_blocks) in cases.items():
                if blocks is None:
                    print(f"{name:34s} {median_time(one_call, args.repeats):9.0f} "
                          f"{'-':>9s}  left whole (blocks would be too thin or too large)")
                    continue
                whole, blocked = [], []
                for _ in range(args.repeats):   # alternate turns, then medians
                    whole.append(median_time(one_call, 1))
                    blocked.append(median_time(in_blocks, 1))
                print(f"{name:34s} {np.median(whole):9.0f} {np.median(blocked):9.0f}  "
                      f"{len(blocks)} of {blocks[0].stop - blocks[0].start} rows")


if __name__ == "__main__":
    main()
