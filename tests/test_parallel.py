"""Parallel and distributed runs give exactly the serial numbers."""

import dataclasses
import os
import pathlib
import subprocess
import sys
import time

import pytest

from mlplab import datasets
from mlplab.lab import configs, runner, tasks


def small_sweep():
    base = dataclasses.replace(configs.Q4_BASE, hidden=(8,), epochs=3)
    return configs.Sweep("learning_rate", "small sweep", "learning_rate", (0.1, 0.5, 2.0), base)


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits_split()


@pytest.fixture(scope="module")
def serial(digits):
    return tasks.run_task_groups([("sweep", runner.SweepStudy(small_sweep(), digits, 0).tasks)])


def test_process_workers_give_the_serial_results(digits, serial):
    groups = [("sweep", runner.SweepStudy(small_sweep(), digits, 0).tasks)]
    assert tasks.run_task_groups(groups, jobs=2) == serial


def test_a_dask_local_cluster_gives_the_serial_results(digits, serial):
    distributed = pytest.importorskip("dask.distributed", reason="the 'cluster' extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        groups = [("sweep", runner.SweepStudy(small_sweep(), digits, 0).tasks)]
        assert tasks.run_task_groups(groups, jobs=-1, backend="dask") == serial


def test_groups_come_back_in_order():
    groups = [("a", [(pow, (2, k)) for k in range(5)]), ("b", [(abs, (-k,)) for k in range(3)])]
    assert tasks.run_task_groups(groups, jobs=2) == [[1, 2, 4, 8, 16], [0, 1, 2]]


def test_what_workers_import_leaves_scikit_learn_out():
    # Workers unpickle training.train_network and the plots' functions; loading scikit-learn
    # there would add about 1.3 s to every worker's start.
    code = ("import sys, mlplab.lab.training, mlplab.lab.tasks, mlplab.lab.plots; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert imported == "[]"


def children():
    """The process ids of this process's children (Linux: /proc)."""
    found = set()
    for task in pathlib.Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(map(int, (task / "children").read_text().split()))
    return found


def test_started_workers_are_the_ones_that_run_the_tasks():
    # start_workers (the CLI calls it before loading scikit-learn) must leave joblib a pool
    # that the next run reuses: no process is started (or stopped) by the run itself.
    if not pathlib.Path(f"/proc/{os.getpid()}/task").is_dir():
        pytest.skip("needs /proc to list child processes")
    tasks.start_workers(2)
    tasks._warm_up.join()
    before = children()
    used = set(tasks.run_task_groups([("pids", [(pid_after, (0.05,)) for _ in range(4)])],
                                     jobs=2)[0])
    assert set(tasks._started) <= before and used <= before and os.getpid() not in used
    assert children() == before


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()
