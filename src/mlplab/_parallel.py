"""Independent calls of one function, mapped: one after another, on local worker processes, or
on a Dask cluster, with the same results whichever.

joblib runs the calls: with ``jobs=1`` here, in turn; else in local worker processes (loky)
with one BLAS thread each, so N workers do not oversubscribe N cores; or, with
``backend="dask"``, on the cluster of the active ``dask.distributed.Client``. Each call's
randomness comes from its own arguments, so the results never depend on how many workers there
are or which call finishes first.
"""

import os
import threading
import time


def _end_with_parent():
    """A local worker's first act: a thread that ends it once the process that started it has
    ended, however (after a `kill -9` a worker would finish its task and linger)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="mlplab-parent-watch", daemon=True).start()


# Local workers: one BLAS thread each. The same settings every time, so that joblib reuses its
# workers from one map to the next.
_LOCAL = {"backend": "loky", "inner_max_num_threads": 1, "initializer": _end_with_parent}


def map_unordered(function, calls, jobs, backend=None, cost=None):
    """Yield ``(index, function(*calls[index]))`` for every call, as each one finishes.

    `cost(args)` orders the calls, the costliest first, so that the last worker to finish is
    not left holding a long call. ``jobs=-1``: every worker the backend has.
    """
    from joblib import Parallel, delayed, parallel_config

    order = range(len(calls))
    if cost is not None:
        order = sorted(order, key=lambda index: -cost(calls[index]))
    with parallel_config(**({"backend": backend} if backend else _LOCAL)):
        yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_indexed)(function, index, calls[index]) for index in order)


def _indexed(function, index, args):
    return index, function(*args)
