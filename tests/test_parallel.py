"""Parallel and distributed runs give exactly the serial numbers."""

import dataclasses
import os
import pathlib
import time

import pytest

from mlplab import datasets
from mlplab import _parallel as parallel
from mlplab.lab import configs, runner


def small_sweep():
    base = dataclasses.replace(configs.Q4_BASE, hidden=(8,), epochs=3)
    return configs.Sweep("learning_rate", "small sweep", "learning_rate", (0.1, 0.5, 2.0), base)


@pytest.fixture(scope="module")
def calls():
    return runner.study_calls(small_sweep(), datasets.load_digits_split(), 0)


@pytest.fixture(scope="module")
def serial(calls):
    return [runner.train_and_score(*call) for call in calls]


def in_call_order(finished):
    """The results of `parallel.map_unordered`, in the order of its calls."""
    results = dict(finished)
    return [results[index] for index in range(len(results))]


def test_process_workers_give_the_serial_results(calls, serial):
    assert in_call_order(parallel.map_unordered(runner.train_and_score, calls, jobs=2,
                                                cost=runner.multiply_adds)) == serial


def test_a_dask_local_cluster_gives_the_serial_results(calls, serial):
    distributed = pytest.importorskip("dask.distributed",
                                      reason="the 'cluster' extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        assert in_call_order(parallel.map_unordered(runner.train_and_score, calls, jobs=-1,
                                                    backend="dask")) == serial


def test_each_result_comes_with_its_calls_index_whatever_the_cost_order():
    calls = [(2, k) for k in range(6)]
    finished = list(parallel.map_unordered(pow, calls, jobs=2, cost=lambda args: args[1]))
    assert sorted(finished) == [(k, 2 ** k) for k in range(6)]


def test_serial_progress_is_counted_per_epoch_and_changes_nothing(calls, serial):
    counted = []
    training, split, seed = calls[0]
    record = runner.train_and_score(training, split, seed, on_epoch=counted.append)
    assert record == serial[0]
    assert counted == [len(split[0])] * training.epochs
    assert sum(counted) == runner.sample_epochs(calls[0])


def children():
    """The process ids of this process's children (Linux: /proc)."""
    found = set()
    for task in pathlib.Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(map(int, (task / "children").read_text().split()))
    return found


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


def test_started_workers_are_the_ones_that_run_the_calls():
    # start_workers (the command line calls it first) must leave joblib a pool that the run
    # then reuses: the run itself starts (or stops) no process.
    if not pathlib.Path(f"/proc/{os.getpid()}/task").is_dir():
        pytest.skip("needs /proc to list child processes")
    parallel.start_workers(2, "mlplab.lab.runner")
    parallel._starting.join()
    before = children()
    used = {pid for _, pid in parallel.map_unordered(pid_after, [(0.05,)] * 4, jobs=2)}
    assert used <= before and os.getpid() not in used
    assert children() == before


def test_run_one_runs_here_or_in_a_worker():
    assert parallel.run_one(pid_after, (0,), jobs=1) == os.getpid()
    assert parallel.run_one(pid_after, (0,), jobs=2) != os.getpid()
