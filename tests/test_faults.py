"""Faults and hostile input at the command line and in the data loaders: nothing lost, nothing
silent, nothing unbounded.

Most report-folder cases run `mlplab run` in this process with the training, the figures and
the report replaced by quick stand-ins that write the same files (`fake_run`): what is tested is
what the run does to the folder. Signals go to real runs in subprocesses.
"""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pytest

from mlplab import cli, datasets
from mlplab import _report_folder as folder
from mlplab.lab import runner
from conftest import run_cli

MANIFEST = folder.MANIFEST


# ----- helpers ----------------------------------------------------------------------------------

@pytest.fixture
def fake_run(monkeypatch):
    """`mlplab run` with quick stand-ins for the data, the training, the figures and the report;
    returns a dict whose "version" says what the files written hold."""
    state = {"version": "first"}
    sources = {name: {"built_in": "stand-in"} for name in ("linear", "nonlinear", "digits")}
    monkeypatch.setattr(runner, "load_all", lambda data_dir: ({}, sources))
    monkeypatch.setattr(runner, "run_all", lambda **kw: ({"version": state["version"]}, {}))

    def write(results, models, data, out_dir, jobs=1, progress=None):
        for name in cli._planned_files():
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / name).write_text(json.dumps(results) if name == "results.json"
                                        else state["version"])

    monkeypatch.setattr(runner, "write", write)
    monkeypatch.setattr(cli, "_print_summary", lambda *args: None)
    return state


def snapshot(path):
    """{relative path: bytes} of every file under `path`."""
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def leftovers(*folders):
    """The run's working folders (staging, backup) left in any of `folders`."""
    return [p.name for folder in folders if folder.is_dir() for p in folder.iterdir()
            if p.name.startswith((".mlplab-staging-", ".mlplab-old-"))]


# ----- the report folder ------------------------------------------------------------------------

def test_a_users_folder_with_a_results_json_is_left_alone(tmp_path, fake_run, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.json").write_text('{"my": "experiment"}')
    (out / "figures").mkdir()
    (out / "figures" / "plot.png").write_bytes(b"my plot")
    before = snapshot(out)
    assert cli.main(["run", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "no record of an earlier mlplab run" in error and "results.json" in error
    assert snapshot(out) == before and not leftovers(tmp_path, out)


def test_a_rerun_replaces_only_its_own_files_and_keeps_the_users(tmp_path, fake_run):
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    first = snapshot(out)
    (out / "figures" / "notes.png").write_bytes(b"the user's")
    (out / "my-analysis.txt").write_text("keep")
    fake_run["version"] = "second"
    assert cli.main(["run", "--out", str(out)]) == 0
    after = snapshot(out)
    assert after["figures/notes.png"] == b"the user's" and after["my-analysis.txt"] == b"keep"
    assert set(after) == set(first) | {"figures/notes.png", "my-analysis.txt"}
    assert all(after[name] == b"second" for name in first
               if name not in (MANIFEST, "results.json"))
    assert json.loads(after["results.json"]) == {"version": "second"}
    assert not leftovers(tmp_path, out)


def test_a_forged_or_broken_manifest_is_no_record(tmp_path, fake_run, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("mine")
    for manifest in ("not json", json.dumps({"format": "mlplab-run", "files": {
            "../outside.txt": "0" * 64}}), json.dumps({"files": {"report.md": "0" * 64}})):
        (out / MANIFEST).write_text(manifest)
        assert cli.main(["run", "--out", str(out)]) == 1
        assert "report.md" in capsys.readouterr().err
    assert (out / "report.md").read_text() == "mine"


def test_an_interrupt_during_the_switch_waits_for_it(tmp_path, fake_run, monkeypatch, capsys):
    # SIGTERM arrives after the first file is moved in: the switch completes, then the run
    # ends as interrupted, with the whole new report in place.
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    fake_run["version"] = "second"
    real_rename = os.rename
    calls = []

    def rename(source, target):
        calls.append(target)
        real_rename(source, target)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(folder.os, "rename", rename)
    assert cli.main(["run", "--out", str(out)]) == 128 + signal.SIGTERM
    assert f"interrupted (SIGTERM); the new report is complete in {out}" in \
        capsys.readouterr().err
    assert len(calls) > 1
    files = snapshot(out)
    assert all(content == b"second" for name, content in files.items()
               if name not in (MANIFEST, "results.json"))
    assert json.loads(files["results.json"]) == {"version": "second"}
    assert not leftovers(tmp_path, out)


def test_a_report_that_cannot_be_written_names_the_users_path(tmp_path, fake_run, monkeypatch,
                                                             capsys):
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    before = snapshot(out)

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "write", full_disk)
    assert cli.main(["run", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert f"--out {out}: cannot write the report (No space left on device)" in error
    assert ".mlplab-" not in error and snapshot(out) == before and not leftovers(tmp_path, out)


@pytest.mark.parametrize("place, message", [
    ("/proc/mlplab-test/out", "cannot write there"),
    ("{file}/out", "is a file, not a folder"),
    ("{file}", "exists and is not a folder"),
])
def test_an_out_that_cannot_be_written_is_refused_before_the_run(tmp_path, place, message):
    (tmp_path / "a-file").write_text("x")
    out = place.format(file=tmp_path / "a-file")
    start = time.perf_counter()
    result = run_cli("run", "--quick", "--out", out, cwd=tmp_path)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert "Q1.1" not in result.stdout and time.perf_counter() - start < 30


def test_an_out_whose_parents_are_missing_is_made_and_removed_if_the_run_fails(tmp_path):
    out = tmp_path / "new" / "deeper" / "report"
    result = run_cli("run", "--quick", "--data-dir", str(tmp_path), "--out", str(out),
                     cwd=tmp_path)
    assert result.returncode == 1 and "LinearX.csv, LinearY.csv not found" in result.stderr
    assert not (tmp_path / "new").exists()


def test_a_manifest_cannot_make_a_users_file_ours(tmp_path, fake_run):
    # A manifest names files with their right hashes, but they are no report's files: kept.
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    (out / "src").mkdir()
    (out / "src" / "main.py").write_text("print('mine')")
    (out / "thesis.tex").write_text("mine")
    manifest = json.loads((out / MANIFEST).read_text())
    for name in ("src/main.py", "thesis.tex", "../outside.txt"):
        manifest["files"][name] = folder._regular_sha256(out / name) or "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    fake_run["version"] = "second"
    assert cli.main(["run", "--out", str(out)]) == 0
    assert (out / "src" / "main.py").read_text() == "print('mine')"
    assert (out / "thesis.tex").read_text() == "mine"


@pytest.mark.parametrize("make", ["changed file", "directory", "link", "fifo"])
def test_anything_at_a_planned_path_that_is_not_ours_is_in_the_way(tmp_path, fake_run, make,
                                                                    capsys):
    # Refused, naming it; with --force moved aside, and left alone by later runs.
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    (out / "report.md").unlink()
    if make == "changed file":
        (out / "report.md").write_text("my edits")
    elif make == "directory":
        (out / "report.md").mkdir()
        (out / "report.md" / "draft.txt").write_text("mine")
    elif make == "link":
        (tmp_path / "elsewhere.md").write_text("mine")
        (out / "report.md").symlink_to(tmp_path / "elsewhere.md")
    else:
        os.mkfifo(out / "report.md")
    before = snapshot(out)
    fake_run["version"] = "second"
    assert cli.main(["run", "--out", str(out)]) == 1
    assert "report.md" in capsys.readouterr().err and snapshot(out) == before
    assert cli.main(["run", "--out", str(out), "--force"]) == 0
    [aside] = [p for p in out.iterdir() if p.name.startswith("mlplab-set-aside-")]
    assert os.path.lexists(aside / "report.md") and (out / "report.md").read_text() == "second"
    if make == "link":
        assert (tmp_path / "elsewhere.md").read_text() == "mine"
    set_aside = snapshot(aside)
    assert cli.main(["run", "--out", str(out)]) == 0 and snapshot(aside) == set_aside
    if make == "changed file":
        assert set_aside == {"report.md": b"my edits"}


def test_a_users_own_file_named_like_the_manifest_is_set_aside_not_replaced(tmp_path, fake_run):
    out = tmp_path / "report"
    out.mkdir()
    (out / MANIFEST).write_text("my own notes")
    assert cli.main(["run", "--out", str(out), "--force"]) == 0
    [aside] = [p for p in out.iterdir() if p.name.startswith("mlplab-set-aside-")]
    assert (aside / MANIFEST).read_text() == "my own notes"
    assert json.loads((out / MANIFEST).read_text())["format"] == "mlplab-run"


@pytest.mark.parametrize("manifest", ["fifo", "deep", "huge", "link to /dev/zero"])
def test_a_hostile_manifest_is_no_record_without_hanging(tmp_path, fake_run, manifest, capsys):
    out = tmp_path / "report"
    out.mkdir()
    path = out / MANIFEST
    if manifest == "fifo":
        os.mkfifo(path)
    elif manifest == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif manifest == "huge":
        path.write_text(json.dumps({"format": "mlplab-run", "files": {}, "pad": "x" * 3_000_000}))
    else:
        path.symlink_to("/dev/zero")
    assert cli.main(["run", "--out", str(out)]) == 1
    assert "no record of an earlier mlplab run" in capsys.readouterr().err


def test_a_switch_that_fails_midway_puts_everything_back(tmp_path, fake_run, monkeypatch,
                                                          capsys):
    out = tmp_path / "report"
    assert cli.main(["run", "--out", str(out)]) == 0
    (out / "figures" / "notes.png").write_bytes(b"the user's")
    before = snapshot(out)
    fake_run["version"] = "second"
    real_rename = os.rename
    calls = []

    def rename(source, target):
        calls.append(target)
        if len(calls) == 12:   # the old files are in the backup, some new ones are in
            raise OSError(errno.EIO, "Input/output error")
        real_rename(source, target)

    monkeypatch.setattr(folder.os, "rename", rename)
    assert cli.main(["run", "--out", str(out)]) == 1
    assert "Input/output error" in capsys.readouterr().err
    monkeypatch.setattr(folder.os, "rename", real_rename)
    assert snapshot(out) == before and not leftovers(tmp_path, out)


@pytest.mark.parametrize("where", ["dot", "link", "other file system"])
def test_out_may_be_the_current_folder_or_a_link(tmp_path, fake_run, monkeypatch, where):
    if where == "dot":
        monkeypatch.chdir(tmp_path)
        out, target = ".", tmp_path
    else:
        base = "/dev/shm" if where == "other file system" else str(tmp_path)
        if not os.path.isdir(base):
            pytest.skip("no /dev/shm here")
        target = __import__("pathlib").Path(__import__("tempfile").mkdtemp(dir=base))
        out = str(tmp_path / "link")
        os.symlink(target, out)
    try:
        assert cli.main(["run", "--out", out]) == 0
        fake_run["version"] = "second"
        assert cli.main(["run", "--out", out]) == 0
        assert (target / "report.md").read_text() == "second" and (target / MANIFEST).exists()
        assert not leftovers(target)
    finally:
        if where != "dot":
            __import__("shutil").rmtree(target)


def test_a_dangling_out_link_is_refused_before_the_run(tmp_path, fake_run, capsys):
    (tmp_path / "out").symlink_to(tmp_path / "not-yet")
    assert cli.main(["run", "--out", str(tmp_path / "out")]) == 1
    assert "not-yet, which does not exist" in capsys.readouterr().err


def test_signals_after_the_switch_or_during_a_failed_one(tmp_path, fake_run, monkeypatch,
                                                          capsys):
    out = tmp_path / "report"
    monkeypatch.setattr(cli, "_print_summary",
                        lambda *args: os.kill(os.getpid(), signal.SIGTERM))
    assert cli.main(["run", "--out", str(out)]) == 128 + signal.SIGTERM
    assert f"the new report is complete in {out}" in capsys.readouterr().err

    def fails_after_a_signal(self):
        os.kill(os.getpid(), signal.SIGHUP)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(folder.ReportFolder, "switch", fails_after_a_signal)
    assert cli.main(["run", "--out", str(out)]) == 128 + signal.SIGHUP
    assert "interrupted (SIGHUP); nothing was written" in capsys.readouterr().err


# ----- signals ------------------------------------------------------------------------------------

def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []


@pytest.mark.parametrize("name, jobs", [("SIGTERM", "2"), ("SIGHUP", "1"), ("SIGINT", "1")])
def test_a_signal_ends_a_run_with_one_line_and_nothing_left_behind(tmp_path, name, jobs):
    signum = getattr(signal, name)
    out = tmp_path / "report"
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mlplab", "run", "--no-progress",
                                "--jobs", jobs, "--out", str(out)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not leftovers(out) and time.monotonic() < deadline:   # the staging folder
        time.sleep(0.05)
    time.sleep(1.5)   # into the training
    workers = [child for child in _children(process.pid)]
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [f"mlplab: interrupted ({name}); nothing was written"], stderr
    assert not out.exists() and not leftovers(tmp_path)
    deadline = time.monotonic() + 20
    while any(os.path.exists(f"/proc/{child}") for child in workers) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [child for child in workers if os.path.exists(f"/proc/{child}")
             and open(f"/proc/{child}/stat").read().split()[2] != "Z"]
    assert not alive


# ----- data: the user's, or a clear error ---------------------------------------------------------

def course(folder_path, names=None):
    """Small valid course files in `folder_path`/dataset1 and dataset2, names as given."""
    names = names or {}
    blob = "\n".join(f"{i % 7},{i % 5}" for i in range(12)) + "\n"
    digits = "\n".join(",".join(str((i + j) % 3) for j in range(4)) for i in range(6)) + "\n"
    files = {"dataset1/LinearX.csv": blob, "dataset1/LinearY.csv": "0\n1\n" * 6,
             "dataset1/NonlinearX.csv": blob, "dataset1/NonlinearY.csv": "0\n1\n" * 6,
             "dataset2/Digit_X_train.csv": digits, "dataset2/Digit_y_train.csv": "0\n1\n2\n" * 2,
             "dataset2/Digit_X_test.csv": digits, "dataset2/Digit_y_test.csv": "0\n1\n2\n" * 2}
    for path, text in files.items():
        path = names.get(path, path)
        if path is None:
            continue
        target = folder_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.mark.parametrize("setup, message", [
    (lambda d: d.mkdir(), "LinearX.csv, LinearY.csv not found"),
    (lambda d: course(d, {"dataset2/Digit_X_test.csv": None}), "Digit_X_test.csv not found"),
    (lambda d: (course(d, {"dataset1/LinearX.csv": None}),
                (d / "dataset1" / "LinearX.csv").symlink_to(d / "gone.csv")),
     "is a symbolic link to .*gone.csv, which does not exist"),
    (lambda d: (course(d, {"dataset1/LinearX.csv": None}),
                (d / "dataset1" / "LinearX.csv").symlink_to("/dev/zero")),
     "LinearX.csv: not a regular file"),
    (lambda d: (course(d, {"dataset1/LinearX.csv": None}),
                os.mkfifo(d / "dataset1" / "LinearX.csv")), "LinearX.csv: not a regular file"),
    (lambda d: (course(d, {"dataset1/LinearX.csv": None}),
                (d / "dataset1" / "LinearX.csv").write_text("1,2\n" * 6 + "3,1e308\n" * 6)),
     r"LinearX.csv, line 7, column 2: 1e308 \(beyond \+-1e\+150"),
], ids=["empty folder", "one file missing", "dangling link", "link to /dev/zero", "FIFO",
        "1e308"])
def test_a_data_dir_without_the_users_data_stops_the_run_before_training(tmp_path, setup,
                                                                         message):
    data_dir = tmp_path / "course"
    setup(data_dir)
    result = run_cli("run", "--quick", "--no-progress", "--data-dir", str(data_dir), "--out",
                     str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and __import__("re").search(message, lines[0]), result.stderr
    assert "Q1.1" not in result.stdout and not (tmp_path / "out").exists()


def test_the_run_says_which_data_it_used_and_a_non_utf8_folder_works(tmp_path):
    # Names that differ only in case are taken and said; the folder's name is not valid UTF-8.
    data_dir = os.path.join(os.fsencode(tmp_path), b"course-\xff")
    course(tmp_path / os.fsdecode(data_dir), {"dataset1/LinearX.csv": "dataset1/linearx.csv"})
    out = tmp_path / "out"
    result = run_cli("run", "--quick", "--no-progress", "--data-dir", os.fsdecode(data_dir),
                     "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # a file is named within the data folder, whatever the folder's own name
    assert "dataset1/linearx.csv (for LinearX.csv), " in result.stdout
    assert "sha256 " in result.stdout
    results = json.loads((out / "results.json").read_text())
    record = results["data"]["linear"]["files"][0]
    path = os.path.join(data_dir, b"dataset1", b"linearx.csv")
    assert record["sha256"] == __import__("hashlib").sha256(open(path, "rb").read()).hexdigest()
    assert record["for"] == "LinearX.csv" and record["path"] == "dataset1/linearx.csv"
    assert "course-" not in (out / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("tail", ["", "\u3000", ",\U0001F600"], ids=["ASCII", "wide space",
                                                                      "emoji"])
def test_a_long_line_costs_memory_in_proportion_to_the_file(tmp_path, tail):
    # One value a character pair, the densest a file can hold: a non-ASCII character at the
    # end (which NumPy or a str would widen the whole line for) changes nothing.
    path = tmp_path / "LinearX.csv"
    path.write_text(",".join("0" for _ in range(300_000)) + tail + "\n", encoding="utf-8")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        table, _ = datasets._read_table(path)
    except datasets.DataError:
        table = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert (table is not None) == (tail == "")
    # NumPy's tokenizer holds a line whole and 16 bytes a field: about 20 times a line of "0,".
    assert peak < 25 * size, f"peak {peak / size:.1f} times the file"


def test_a_data_file_above_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MAX_FILE_BYTES", 1000)
    (tmp_path / "LinearX.csv").write_text("1,2\n" * 300)
    (tmp_path / "LinearY.csv").write_text("0\n" * 300)
    with pytest.raises(datasets.DataError, match=r"LinearX.csv: 1200 bytes, more than the "
                                                 r"limit of 1000"):
        datasets.load_linear(tmp_path)


def test_seeded_mutation_fuzz_of_the_csv_loader(tmp_path):
    # 500 mutations of valid files: each loads or raises DataError (a ValueError), never
    # anything else, and never warns.
    rng = random.Random(0)
    X = "\n".join(",".join(f"{v:.6g}" for v in row)
                  for row in np.random.default_rng(0).normal(size=(20, 3))) + "\n"
    y = "\n".join(str(i % 2) for i in range(20)) + "\n"
    outcomes = {"loaded": 0, "DataError": 0}
    for case in range(500):
        files = {"LinearX.csv": bytearray(X.encode()), "LinearY.csv": bytearray(y.encode())}
        target = files[rng.choice(list(files))]
        for _ in range(rng.randint(1, 5)):
            position = rng.randrange(len(target))
            choice = rng.random()
            if choice < 0.4:
                target[position] = rng.choice(b"0123456789.,-+eE \t\r\n\x00\xff;xn")
            elif choice < 0.7:
                del target[position:position + rng.randint(1, 5)]
            else:
                target[position:position] = rng.choice(
                    [b"1e999", b"nan", b",", b"\n", b"\r", b"\xef\xbb\xbf", b"1" * 400, b"-"])
        for name, content in files.items():
            (tmp_path / name).write_bytes(bytes(content))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                datasets.load_linear(tmp_path)
                outcomes["loaded"] += 1
            except datasets.DataError as exc:
                assert "\n" not in str(exc), f"case {case}: {exc!r}"
                outcomes["DataError"] += 1
    assert sum(outcomes.values()) == 500 and outcomes["DataError"] > 100


# ----- resources at the command line ------------------------------------------------------------

def test_jobs_beyond_the_cpus_are_capped_with_a_note(tmp_path):
    result = run_cli("run", "--jobs", "1000", "--data-dir", "nowhere", cwd=tmp_path)
    cpus = len(os.sched_getaffinity(0))
    assert f"--jobs 1000 is more than the {cpus} CPUs here; running {cpus} workers" in \
        result.stderr


def test_out_of_memory_is_one_line(tmp_path, monkeypatch, capsys):
    def exhausted(data_dir):
        raise MemoryError()

    monkeypatch.setattr(runner, "load_all", exhausted)
    assert cli.main(["run", "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == "mlplab: error: out of memory; nothing was written\n"
    assert not leftovers(tmp_path) and not (tmp_path / "out").exists()
