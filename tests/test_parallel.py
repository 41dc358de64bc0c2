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


def children():
    """The process ids of this process's children (Linux: /proc)."""
    found = set()
    for task in pathlib.Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(map(int, (task / "children").read_text().split()))
    return found


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


def test_one_job_runs_the_calls_here_in_turn():
    assert {pid for _, pid in parallel.map_unordered(pid_after, [(0,)] * 3, jobs=1)} == {
        os.getpid()}
