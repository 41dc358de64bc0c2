"""How many BLAS threads a training step gets.

A second thread buys little on small products and can cost a lot as soon as anything else uses
the cores (OpenBLAS threads spin-wait for each other; benchmarks/README.md has the figures). So
a step whose largest matrix product is below `SMALL_PRODUCT` multiply-adds runs on one BLAS
thread; larger steps keep the BLAS default.
The per-epoch validation loss follows the same rule, as a step on as many rows would.
Products too small for BLAS to thread at all are left alone, which also skips the cost of the
limit itself.

For experts, the environment variable MLPLAB_BLAS_THREADS=N runs every step that BLAS could
thread on N threads instead. It is read when a network's engine first trains on a batch size
(a copy of the network, or a network whose layers changed, reads it anew).
"""

import contextlib
import os

# Largest product (m * n * k multiply-adds) that still runs on one thread: a digits epoch's
# does, an MNIST-sized batch's does not.
SMALL_PRODUCT = 2 ** 24
# Below this OpenBLAS runs single-threaded by itself.
UNTHREADED_PRODUCT = 2 ** 16

_blas_libraries = None


def largest_product(shapes, n_rows):
    """The multiply-adds of the largest matrix product in a step on `n_rows` rows, given the
    layers' weight shapes (n_in, n_out)."""
    return max(n_rows * n_in * n_out for n_in, n_out in shapes)


def threads_for(shapes, n_rows, vectors_too=False):
    """The BLAS threads a step on `n_rows` rows should run on, or None to leave BLAS as it is.

    `vectors_too`: for work that also makes BLAS calls of its own on the parameter vectors
    (SciPy's L-BFGS), which are threaded even where the step's products are too small to be."""
    product = largest_product(shapes, n_rows)
    if product < UNTHREADED_PRODUCT and not vectors_too:
        return None
    threads = _threads_from_environment()
    if threads is None and product < SMALL_PRODUCT:
        threads = 1
    return threads


def limited(threads, refresh=False):
    """A context manager running BLAS on `threads` threads, restoring the setting after.
    `refresh`: look again for the BLAS libraries loaded (one a library loaded since, SciPy's)."""
    global _blas_libraries
    if _blas_libraries is None or refresh:
        from threadpoolctl import ThreadpoolController
        _blas_libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    return _limited(_blas_libraries, threads)


def _threads_from_environment():
    value = os.environ.get("MLPLAB_BLAS_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MLPLAB_BLAS_THREADS must be a whole number >= 1, got {value!r}")
    return int(value)


@contextlib.contextmanager
def _limited(libraries, threads):
    # What threadpoolctl's limit() does, through its library controllers directly: cheaper,
    # and `Network.fit` pays it on every call.
    previous = [library.get_num_threads() for library in libraries]
    for library in libraries:
        library.set_num_threads(threads)
    try:
        yield
    finally:
        for library, count in zip(libraries, previous):
            library.set_num_threads(count)
