"""Untrusted input, through the command line and real processes: a student's code that tries to
forge its grade, break the checker or outlive it; answers of every malformed kind; --scheduler
addresses that are not Dask schedulers; a run killed with SIGKILL, in its workers and during its
final moves; model files and training data at the edges. (A class whose student attacks the
others, and files and settings at their limits: test_check.py.)"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from homework_variants import CORRECT, PLAIN, appended
from mlplab import MLPClassifier, MLPRegressor, check
from mlplab import _report_folder as folder
from mlplab.check import harness, sandbox
from mlplab.check.submissions import Submission

MLPLAB = [sys.executable, "-m", "mlplab"]
# Wrong functions throughout, so that any point they get is a forged one.
WRONG = PLAIN.replace("    return s * (1 - s)", "    return s").replace(
    "    return 0.5 * np.sum((", "    return 3 * np.sum((")
FAST = check.Limits(request_seconds=1.0, statement_seconds=1.0)


def _frame(payload):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return len(data).to_bytes(8, "big") + data


FORGED = [
    _frame({"value": {"notes": [], "names": {}, "defined": [], "imported": []}, "nonce": 1}),
    _frame({"value": {"result": {"type": "ndarray"}}, "nonce": 2}),
    _frame(b"[" * 100_000),
    _frame(b'["a JSON list"]'),
    _frame({"value": {"notes": "a string"}, "warnings": []}),
    (2**62).to_bytes(8, "big"),
    _frame({"value": {"result": {"array": {"__array__": [10**400], "f8": ""}}}, "nonce": 3}),
]


def test_a_message_of_many_tiny_values_is_refused_before_it_is_parsed():
    # 3 bytes of `{},` become a dict of about 64: the count, not the 64 MiB cap, bounds it.
    with pytest.raises(ValueError, match="more than"):
        harness.decode(b"[" + b"{}," * harness.MAX_JSON_VALUES + b"{}]")
    big = {"value": np.arange(harness.MAX_ARRAY_ELEMENTS, dtype=float), "notes": ["a, b: c"]}
    decoded = harness.decode(harness.pack(big)[8:])
    np.testing.assert_array_equal(decoded["value"], big["value"])


def test_a_file_too_deep_to_parse_costs_only_its_own_checks():
    # The checker parses every file to choose what to load first; Python's parser gives up on
    # this one (RecursionError). The file's own check says so; the class goes on.
    deep = "import numpy as np\nx = 1" + " + 1" * 300_000 + "\n"
    assert sandbox.preload_for([(deep, "py"), (CORRECT, "py")]) == \
        sandbox.preload_for([(CORRECT, "py")])


def test_the_checker_parses_no_large_file_itself():
    # Choosing what to load first means parsing; a file beyond the bound is left to its own
    # process (which parses it under limits), so the grader's memory stays bounded.
    small = "from sklearn.preprocessing import scale\n\ndef sigmoid(x):\n    return scale(x)\n"
    assert sandbox.preload_for([(small, "py")]) == ["sklearn.preprocessing"]
    large = small + "#" * sandbox.MAX_ANALYSED_CHARACTERS + "\n"
    assert sandbox.preload_for([(large, "py")]) == []


def _at_load(code):
    """`code` made to run when the file loads: inside a definition's default argument."""
    return f"def _at_load(_=exec({code!r})):\n    pass\n"


def _check(tmp_path, source, name="student.py"):
    path = tmp_path / name
    path.write_text(source)
    return check.check_submission(Submission(name, path, tmp_path), limits=FAST, seed=3)


@pytest.mark.parametrize("frames", [FORGED[:2], *([frame] for frame in FORGED[2:])])
def test_forged_or_malformed_frames_on_the_answer_pipe_earn_nothing(tmp_path, frames):
    code = ("import os, stat\n"
            "for _fd in range(3, 64):\n"
            "    try:\n"
            "        if stat.S_ISFIFO(os.fstat(_fd).st_mode):\n"
            f"            [os.write(_fd, _f) for _f in {frames!r}]\n"
            "    except OSError:\n"
            "        pass\n"
            "os._exit(0)\n")
    result = _check(tmp_path, appended(_at_load(code), WRONG))
    assert result.score == 0, [(c.name, v.got) for c, v in result.verdicts if v.passed]
    assert result.error   # the load failed, and that is said
    assert result.seconds < 20


def test_a_grandchild_in_its_own_session_ends_with_the_check(tmp_path):
    shared = tmp_path / "shared"   # where the student's code may write, whatever user it runs as
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    marker = shared / "survivor"
    out = shared / "results.json"
    code = ("import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        for _ in range(300):\n"
            f"            open({str(marker)!r}, 'a').write('.')\n"
            f"            open({str(out)!r}, 'w').write('{{\"score\": 144}}')\n"
            "            time.sleep(0.1)\n"
            "    os._exit(0)\n")
    student = tmp_path / "student.py"
    student.write_text(appended(_at_load(code), WRONG))
    run = subprocess.run([*MLPLAB, "check", str(student), "--json", str(out), "--seed", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    written = marker.stat().st_size
    time.sleep(1)   # ten of its periods
    assert marker.stat().st_size == written   # nothing of it runs after the check
    report = json.loads(out.read_text())
    assert report["score"] < 33 and len(report["tests"]) == 19


def test_code_that_deletes_folders_it_finds_changes_nothing(tmp_path):
    code = ("import glob, os, shutil, tempfile\n"
            "shutil.rmtree(os.getcwd(), ignore_errors=True)\n"
            "for _folder in glob.glob(os.path.join(tempfile.gettempdir(), 'mlplab-*')):\n"
            "    shutil.rmtree(_folder, ignore_errors=True)\n")
    result = _check(tmp_path, appended(_at_load(code)))
    assert result.score == 33, [(c.name, v.got, v.hint) for c, v in result.verdicts
                                if not v.passed]


def test_code_that_kills_its_parents_costs_only_its_own_checks(tmp_path):
    code = ("import os, signal\n"
            "_parent = os.getppid()\n"
            "_grandparent = int(open(f'/proc/{_parent}/stat').read().rsplit(')', 1)[1].split()[1]) "
            "if _parent > 1 else 0\n"
            "for _pid in (_grandparent, _parent):\n"
            "    if _pid > 1:\n"
            "        try:\n"
            "            os.kill(_pid, signal.SIGKILL)\n"
            "        except OSError:\n"
            "            pass\n")
    result = _check(tmp_path, appended(_at_load(code)))
    assert result.seconds < 30   # (as root, its own PID namespace hides its parents from it)
    after = _check(tmp_path, CORRECT, name="next.py")   # the next student is unharmed
    assert after.score == 33, [(c.name, v.got) for c, v in after.verdicts if not v.passed]


def test_huge_or_strange_return_values_fail_their_check_only(tmp_path):
    result = _check(tmp_path, appended(
        "class _Odd:\n    def __array__(self, *a, **k):\n        raise RuntimeError('no')\n\n"
        "def softmax(x):\n    return np.zeros(10**7)\n\n"
        "def l2_loss(YTrue, YPredict):\n    return _Odd()\n\n"
        "def cross_entropy_loss(YTrue, YPredict):\n    return 'a string'\n"))
    failed = {c.name for c, v in result.verdicts if not v.passed}
    assert {"softmax", "l2_loss", "cross_entropy_loss"} <= failed
    assert "sigmoid" not in failed and "Layer: shapes and biases" not in failed


# ----- --scheduler --------------------------------------------------------------------------

def _server(behaviour):
    """A local TCP server that behaves as asked; returns its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        while True:
            connection, _ = listener.accept()
            if behaviour == "http":   # answers a request, as a dashboard does
                connection.recv(4096)
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            elif behaviour == "ssh":
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            elif behaviour == "close":
                connection.close()
            else:   # accepts and never answers
                time.sleep(60)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


@pytest.mark.parametrize("behaviour, says", [
    ("http", "nothing answered"), ("silent", "nothing answered"),
    ("ssh", r"b'SSH-2.0-OpenSSH_9.2\r\n'"),   # its bytes, each escaped once
    ("close", "closed the connection"), ("nobody", "cannot connect")])
def test_a_scheduler_address_that_is_not_dask_fails_in_bounded_time(tmp_path, behaviour, says):
    if behaviour == "nobody":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    else:
        port = _server(behaviour)
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "a.py").write_text(CORRECT)
    start = time.monotonic()
    run = subprocess.run([*MLPLAB, "check", str(tmp_path / "class"), "--out",
                          str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "MLPLAB_SCHEDULER_SECONDS": "0.5"})
    assert time.monotonic() - start < 20
    assert run.returncode == 1 and says in run.stderr and f"127.0.0.1:{port}" in run.stderr
    assert "Traceback" not in run.stderr and "out of memory" not in run.stderr
    assert not (tmp_path / "out").exists()


# ----- a run killed hard ----------------------------------------------------------------------

def _descendants(pid):
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        for task in pathlib.Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            stack += children
    return found


@pytest.mark.skipif(not pathlib.Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_workers_end_when_their_run_is_killed(tmp_path):
    run = subprocess.Popen([*MLPLAB, "run", "--jobs", "2", "--out", str(tmp_path / "out"),
                            "--no-progress"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_descendants(run.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)   # the workers busy with a training
    workers = _descendants(run.pid)
    assert len(workers) >= 2
    run.kill()
    run.wait()
    deadline = time.monotonic() + 10
    while any(pathlib.Path(f"/proc/{pid}").exists() for pid in workers) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    alive = [pid for pid in workers if pathlib.Path(f"/proc/{pid}").exists()
             and "Z" not in pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]]
    assert alive == []


def test_a_switch_killed_midway_is_completed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    planned = ["results.json", "report.md", "figures/a.png"]
    kill_after = (
        "import os, signal, sys, pathlib\n"
        "from mlplab import _report_folder as f\n"
        "out, version, after = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
        "folder = f.ReportFolder(out, ['results.json', 'report.md', 'figures/a.png'])\n"
        "(folder.staging / 'figures').mkdir()\n"
        "for name in ('results.json', 'report.md', 'figures/a.png'):\n"
        "    (folder.staging / name).write_text(version)\n"
        "moves, real = [0], f._move\n"
        "def move(source, target, done):\n"
        "    if moves[0] == after:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    moves[0] += 1\n"
        "    real(source, target, done)\n"
        "f._move = move\n"
        "folder.switch()\n")
    script = tmp_path / "switch.py"
    script.write_text(kill_after)
    subprocess.run([sys.executable, str(script), str(out), "old", "99"], check=True, timeout=60)
    killed = subprocess.run([sys.executable, str(script), str(out), "new", "4"], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert (out / folder.JOURNAL).exists()   # old files in the hidden backup, some new ones in
    again = folder.ReportFolder(out, planned)
    assert again.completed and not (out / folder.JOURNAL).exists()
    assert {(out / name).read_text() for name in planned} == {"new"}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".mlplab-")) == [
        ".mlplab-run.json", again.staging.name]
    again.discard()


# ----- model files and training data at the edges -----------------------------------------------

def test_save_refuses_what_load_would_refuse_and_round_trips_what_it_keeps(tmp_path):
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        regressor = MLPRegressor(random_state=0, epochs=3).fit(X, y.astype(float))
        classifier = MLPClassifier(random_state=0, epochs=5).fit(X, y)
    regressor.network_.layers[0].weights[0, 0] = 2.8e137
    with pytest.raises(ValueError, match="beyond"):
        regressor.save(tmp_path / "huge.npz")
    assert not (tmp_path / "huge.npz").exists()
    classifier.save(tmp_path / "c.npz")
    assert MLPClassifier.load(tmp_path / "c.npz").best_loss_ == classifier.best_loss_
    regressor.network_.layers[0].weights[0, 0] = 0.0
    regressor.save(tmp_path / "r.npz")
    # a header whose y_ndim disagrees with the network's one output
    import zipfile
    with zipfile.ZipFile(tmp_path / "r.npz") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(bytes(np.load(tmp_path / "r.npz")["header"]))
    header["extra"]["y_ndim"] = 2
    np.savez(tmp_path / "r2.npz", **{**{k[:-4]: np.load(tmp_path / "r.npz")[k[:-4]]
                                        for k in members},
                                     "header": np.frombuffer(json.dumps(header).encode(),
                                                             dtype=np.uint8)})
    with pytest.raises(ValueError, match="y_ndim"):
        MLPRegressor.load(tmp_path / "r2.npz")


def test_sample_weights_train_as_their_ratios_whatever_their_scale():
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("error", category=RuntimeWarning)
        plain = MLPClassifier(random_state=0, epochs=20).fit(X, y)
        huge = MLPClassifier(random_state=0, epochs=20).fit(X, y, sample_weight=np.full(150, 2e306))
        weights = np.where(y == 1, 0.0, 5e-324)
        tiny = MLPClassifier(random_state=0, epochs=20).fit(X, y, sample_weight=weights)
    assert np.allclose(huge.loss_curve_, plain.loss_curve_)
    assert np.all(np.isfinite(tiny.loss_curve_))


def test_data_far_from_one_is_told_to_be_scaled_not_the_learning_rate():
    from mlplab import DivergenceError
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    with pytest.raises(DivergenceError, match="Scale the data") as error:
        MLPClassifier(random_state=0, epochs=20).fit(X * 1e200, y)
    assert "reach 7.9e+200" in str(error.value)
