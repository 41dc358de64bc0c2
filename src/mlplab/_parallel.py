"""Independent calls of one function in parallel, with the results of running them in turn.

joblib runs the calls in local worker processes (loky) with one BLAS thread each, so N workers
do not oversubscribe N cores, or, with ``backend="dask"``, on the cluster of the active
``dask.distributed.Client``. Each call's randomness comes from its own arguments, so the
results never depend on how many workers there are or which call finishes first.
"""

import importlib
import os
import threading
import time

# Local workers: one BLAS thread each. The same settings every time, so that joblib reuses the
# workers that `start_workers` started.
_LOCAL = {"backend": "loky", "inner_max_num_threads": 1, "initializer": None}
_starting = None   # the thread of `start_workers`, if any


def start_workers(jobs, module):
    """Start `jobs` local workers in the background, each importing `module` (scikit-learn:
    most of a second), and return at once: the command line calls this first, so that the
    workers load while the main process does."""
    global _starting
    from joblib import Parallel, delayed, parallel_config

    def start():
        try:
            with parallel_config(**_LOCAL):
                Parallel(n_jobs=jobs)(delayed(importlib.import_module)(module)
                                      for _ in range(jobs))
        except Exception:   # only a head start: the run itself meets and reports any failure
            pass

    _starting = threading.Thread(target=start, name="mlplab-start-workers", daemon=True)
    _starting.start()


def map_unordered(function, calls, jobs, backend=None, cost=None):
    """Yield ``(index, function(*calls[index]))`` for every call, as each one finishes.

    `cost(args)` orders the calls, the costliest first, so that the last worker to finish is
    not left holding a long call. ``jobs=-1``: every worker the backend has.
    """
    from joblib import Parallel, delayed, parallel_config

    order = range(len(calls))
    if cost is not None:
        order = sorted(order, key=lambda index: -cost(calls[index]))
    if not backend and _starting is not None:
        _starting.join()   # two pools at once would not share the workers
    with parallel_config(**({"backend": backend} if backend else _LOCAL)):
        yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_indexed)(function, index, calls[index]) for index in order)


def run_one(function, args, jobs):
    """``function(*args)``: here with ``jobs=1``, else in a local worker (whose modules, such
    as matplotlib for the figures, are loaded already)."""
    if jobs == 1:
        return function(*args)
    return next(map_unordered(function, [args], jobs))[1]


def _indexed(function, index, args):
    return index, function(*args)


def _end_with_parent():
    """A local worker's first act: a thread that ends it once the process that started it has
    ended, however (after a `kill -9` a worker would finish its task and linger)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="mlplab-parent-watch", daemon=True).start()


_LOCAL["initializer"] = _end_with_parent
