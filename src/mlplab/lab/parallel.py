"""Independent calls of one function in parallel, with the results of running them in turn.

joblib runs the calls in local worker processes (loky) with one BLAS thread each, so N workers
do not oversubscribe N cores, or, with ``backend="dask"``, on the cluster of the active
``dask.distributed.Client``. Each call's randomness comes from its own arguments, so the
results never depend on how many workers there are or which call finishes first.
"""


def map_unordered(function, calls, jobs, backend=None, cost=None):
    """Yield ``(index, function(*calls[index]))`` for every call, as each one finishes.

    `cost(args)` orders the calls, the costliest first, so that the last worker to finish is
    not left holding a long call. ``jobs=-1``: every worker the backend has.
    """
    from joblib import Parallel, delayed, parallel_config

    order = range(len(calls))
    if cost is not None:
        order = sorted(order, key=lambda index: -cost(calls[index]))
    settings = {"backend": backend} if backend else {"backend": "loky",
                                                     "inner_max_num_threads": 1}
    with parallel_config(**settings):
        yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_indexed)(function, index, calls[index]) for index in order)


def _indexed(function, index, args):
    return index, function(*args)
