"""Running the lab's independent tasks, one after another or in parallel, with the same results.

A task is a ``(function, args)`` pair whose function is importable by name (joblib sends it to
worker processes). Results come back in task order whatever order the tasks ran in, and each
task's randomness comes from its own arguments, so ``jobs`` never changes a number.
"""

import os
import threading
import time

from .training import train_network

_warm_up = None   # the thread started by `start_workers`, if any
_started = []     # the process ids of the workers it started


def _local_settings(backend):
    # Local worker processes (loky) with one BLAS thread each; the same settings every time,
    # so that joblib reuses the workers that `start_workers` started.
    return {"backend": backend} if backend is not None else {"backend": "loky",
                                                             "inner_max_num_threads": 1}


def _ready():
    # Loads what the run's tasks need (the trainings: NumPy and mlplab, already loaded with
    # this module; the figures after them: matplotlib) while the main process is busy, and is
    # held a moment, so that each of `start_workers`'s tasks lands on a worker of its own.
    import matplotlib.figure  # noqa: F401  (plots imports it with its first figure)
    time.sleep(0.1)
    return os.getpid()


def start_workers(jobs):
    """Start `jobs` local worker processes in the background and return at once.

    Starting a worker takes about half a second (a new Python loading NumPy and mlplab); the
    command line calls this before loading scikit-learn and the data, so that both happen at
    the same time. `run_task_groups` waits for it before using the workers.
    """
    global _warm_up

    def warm_up():
        try:
            from joblib import Parallel, delayed, parallel_config
            with parallel_config(**_local_settings(None)):
                _started[:] = Parallel(n_jobs=jobs)(delayed(_ready)() for _ in range(jobs))
        except Exception:   # only a head start: the real run meets (and reports) any problem
            pass

    _warm_up = threading.Thread(target=warm_up, name="mlplab-start-workers", daemon=True)
    _warm_up.start()


def run_task_groups(groups, jobs=1, progress=False, backend=None):
    """Run groups of independent (function, args) tasks; returns one result list per group.

    All tasks go to one pool at once (better balance than a pool per group), the costliest
    first (`task_cost`), so the last worker to finish is not left holding a long task; results
    are put back in task order, so the outcome never depends on `jobs` or `backend`. With
    ``jobs=1`` and no backend the tasks run in this process. Otherwise joblib runs them: by
    default in local worker processes (loky) with one BLAS thread each, so N workers do not
    oversubscribe N cores; ``backend="dask"`` sends them to the Dask cluster of the active
    ``dask.distributed.Client`` (``jobs=-1``: every worker it has).
    ``groups`` is a list of (description, tasks); each group gets its own progress bar.
    """
    bars = []
    if progress:
        from tqdm.auto import tqdm
        bars = [tqdm(total=len(tasks), desc=description, unit="run")
                for description, tasks in groups]
    owner = [g for g, (_, tasks) in enumerate(groups) for _ in tasks]
    flat = [task for _, tasks in groups for task in tasks]
    order = sorted(range(len(flat)), key=lambda i: -task_cost(flat[i]))
    outputs = [None] * len(flat)
    try:
        if jobs == 1 and backend is None:
            finished = ((i, flat[i][0](*flat[i][1])) for i in order)
            _collect(finished, outputs, owner, bars)
        else:
            from joblib import Parallel, delayed, parallel_config

            if _warm_up is not None:
                _warm_up.join()   # two pools at once would not share the workers
            with parallel_config(**_local_settings(backend)):
                finished = Parallel(n_jobs=jobs, return_as="generator")(
                    delayed(_indexed)(i, *flat[i]) for i in order)
                _collect(finished, outputs, owner, bars)
    finally:
        for bar in bars:
            bar.close()
    results = [[] for _ in groups]
    for group, output in zip(owner, outputs):
        results[group].append(output)
    return results


def task_cost(task):
    """A rough cost of a task, for ordering only: epochs x rows x weights for a training."""
    function, args = task
    if function is train_network:
        training, X_train, Y_train = args[0], args[1], args[2]
        n_output = 1 if Y_train.ndim == 1 else Y_train.shape[1]
        sizes = (X_train.shape[1], *training.hidden, n_output)
        return training.epochs * len(X_train) * sum(a * b for a, b in zip(sizes, sizes[1:]))
    return 0


def _indexed(index, function, args):
    return index, function(*args)


def _collect(finished, outputs, owner, bars):
    for index, output in finished:
        outputs[index] = output
        if bars:
            bars[owner[index]].update()
