import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mlplab as ml

os.environ.setdefault("MPLBACKEND", "Agg")   # figures drawn in the tests' processes too


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """One `mlplab run --quick --seed 3`, as a user runs it with its output in a log file:
    (the report folder, named mlplab-report, its results.json as a dict, the console text)."""
    out = tmp_path_factory.mktemp("quick-run") / "mlplab-report"
    result = subprocess.run([sys.executable, "-m", "mlplab", "run", "--quick", "--seed", "3",
                             "--out", str(out)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "MPLBACKEND": "Agg"}, cwd=out.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    return out, results, result.stdout + result.stderr


def run_cli(*args, cwd):
    """`mlplab ARGS` from folder `cwd`, in this process (the library is imported once per test
    process, not once per call): a CompletedProcess with its status, standard output and error."""
    from mlplab import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = cli.main([os.fspath(arg) for arg in args])
            except SystemExit as exc:   # argparse's own errors
                status = exc.code
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(args, status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def make_network(sizes, hidden="sigmoid", output="sigmoid", loss=None, bias=True, **options):
    """`mlplab.build_network` of the given layer sizes, e.g. (2, 4, 1); `hidden` is one name or
    one per hidden layer. `loss`, if given, must be the one `OUTPUTS` pairs with `output`."""
    if loss is not None:
        assert ml.OUTPUTS[output][1] == loss, (output, loss)
    return ml.build_network(sizes, list(hidden) if isinstance(hidden, (list, tuple)) else hidden,
                            output, bias=bias, **options)


def data_for(net, rng, n_samples=13):
    """Random inputs for `net` and targets its loss accepts (one-hot rows for cross-entropy)."""
    X = rng.normal(size=(n_samples, net.n_input))
    if net.loss_function is ml.cross_entropy_loss:
        Y = np.eye(net.n_output)[rng.integers(0, net.n_output, n_samples)]
    else:
        Y = rng.uniform(0, 1, size=(n_samples, net.n_output))
    return X, Y


def iris_q25():
    """The assignment's Q2.5 data, exactly as its snippet builds it."""
    from sklearn import datasets

    X, Y = datasets.load_iris(return_X_y=True)
    X, Y = X[:100, :2], Y[:100]
    rng = np.random.default_rng(2)
    indices = [i for i in range(100)]
    rng.shuffle(indices)
    return X[indices], Y[indices]


def rewrite_model_file(path, header_change=None, arrays_change=None):
    """Rewrite a saved model file with its JSON header or its arrays changed in place."""
    with np.load(path, allow_pickle=False) as archive:
        contents = {name: archive[name] for name in archive.files}
    header = json.loads(contents["header"].tobytes())
    if header_change:
        header_change(header)
    contents["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    if arrays_change:
        arrays_change(contents)
    with open(path, "wb") as file:
        np.savez(file, **contents)
