"""`mlplab check` on student-style homework (`homework_variants`): the correct ones pass every
check; each seeded mistake fails exactly its checks, with its hint; borrowed definitions score
nothing; hostile code fails its checks within the limits; a class is graded the same serially
and in parallel; the command line, its outputs and the Gradescope bundle."""

import csv
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from homework_variants import (EVERY, FOLDERS, FUNCTIONS, MUTATIONS, NETWORK, SCRATCH,
                               STUDENTS, notebook_v3, notebook_v4)
from mlplab import check
from mlplab.check import checks, config, text
from mlplab.check.submissions import Submission

CORRECT = ["correct.py", "correct_transposed.py", "correct_vectorised.py",
           "correct_one_sample.py", "notebook (today's format)", "notebook (format 3)",
           "a module of its own"]
MLPLAB = [sys.executable, "-m", "mlplab", "check"]


def _write_folder(root, files):
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    """{name: Submission} of every homework of the suite."""
    root = tmp_path_factory.mktemp("homework")
    found = {name: Submission(name, STUDENTS / name, STUDENTS)
             for name in CORRECT if name.endswith(".py")}
    for name, text_of in (("notebook (today's format)", notebook_v4),
                          ("notebook (format 3)", notebook_v3)):
        path = root / f"{len(found)}.ipynb"
        path.write_text(text_of())
        found[name] = Submission(name, path, root)
    for number, (name, (source, *_)) in enumerate(MUTATIONS.items()):
        path = root / f"mutation{number}.py"
        path.write_text(source)
        found[name] = Submission(name, path, root)
    for number, (name, (files, _)) in enumerate(FOLDERS.items()):
        folder = root / f"folder{number}"
        _write_folder(folder, files)
        found[name] = Submission(name, folder / "hw2.py", folder)
    return found


@pytest.fixture(scope="module")
def checked(homework):
    """Every homework checked once, as a class on two workers: {name: Result}."""
    results = check.check_class(list(homework.values()), seed=7, jobs=2)
    return {result.name: result for result in results}


def failed(result):
    return {c.name: v for c, v in result.verdicts if not v.passed}


def said(verdict):
    return " ".join([verdict.got, verdict.hint, verdict.convention, *verdict.notes])


@pytest.mark.parametrize("name", CORRECT)
def test_a_correct_homework_passes_every_check(checked, name):
    result = checked[name]
    assert failed(result) == {}, {k: said(v) for k, v in failed(result).items()}
    assert len(result.verdicts) == len(checks.all_checks()) == 19
    assert result.score == result.max_score == 33


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_variant_fails_exactly_its_checks_with_its_hint(checked, name):
    _, expected, phrases = MUTATIONS[name]
    result = checked[name]
    failures = failed(result)
    if expected is not None:
        assert set(failures) == expected, {k: said(v)[:300] for k, v in failures.items()}
    verdicts = {c.name: v for c, v in result.verdicts}
    for check_name, phrase in phrases.items():
        assert phrase in said(verdicts[check_name]), said(verdicts[check_name])
    assert result.score == sum(p for (c, v), p in zip(result.verdicts, result.points)
                               if c.name not in failures)


def test_what_the_checker_did_is_said(checked):
    vectorised = {c.name: v for c, v in checked["correct_vectorised.py"].verdicts}
    assert "add_bias=False" in vectorised["Layer: shapes and biases"].convention
    assert "zeros" in vectorised["Layer: shapes and biases"].convention
    assert any("the network's params" in note for note in vectorised[
        "fit: sigmoid and L2 loss"].notes)
    one_sample = {c.name: v for c, v in checked["correct_one_sample.py"].verdicts}
    assert "one sample" in one_sample["l2_loss"].convention
    transposed = {c.name: v for c, v in checked["correct_transposed.py"].verdicts}
    assert "(n_output, n_input)" in transposed["Layer: shapes and biases"].convention
    # a missing name: mlplab's in its place, and said
    renamed = {c.name: v for c, v in checked["dSigmoid for d_sigmoid"].verdicts}
    assert any("mlplab's d_sigmoid" in note for note in renamed["fit: sigmoid and L2 loss"].notes)
    # what a notebook could not run whole
    notes = " ".join(checked["notebook (format 3)"].notes)
    assert "is not valid Python" in notes and "relu" in notes


def test_borrowed_definitions_score_nothing_and_are_named(checked):
    only = checked["only imports mlplab"]
    assert only.score == 0
    verdicts = {c.name: v for c, v in only.verdicts}
    assert "mlplab.functions.sigmoid" in verdicts[SCRATCH].got
    torch = {c.name: v for c, v in checked["a package named torch"].verdicts}
    assert "torch.softmax" in torch[SCRATCH].got
    wrapped = {c.name: v for c, v in checked["Network around scikit-learn's MLPClassifier"]
               .verdicts}
    assert all(not wrapped[name].passed and "scores 0" in wrapped[name].hint
               for name in NETWORK)


def test_hostile_code_stays_within_the_limits(checked):
    for name in ("exits in sigmoid", "allocates in sigmoid", "predict never returns",
                 "a bare except in softmax", "top-level code that would never end"):
        assert checked[name].seconds < 30, (name, checked[name].seconds)
    assert checked["exits in sigmoid"].ended   # its process ended early, and that is kept


def test_a_class_gets_the_same_verdicts_serially(checked, homework):
    names = ["correct.py", "notebook (format 3)", "a wrong d_sigmoid", "predict with >=",
             "sigmoid imported under a built name", "a package named torch"]
    serial = {r.name: r for r in check.check_class([homework[n] for n in names], seed=7)}
    for name in names:
        assert [(c.name, v.passed, v.hint, v.got) for c, v in serial[name].verdicts] == \
            [(c.name, v.passed, v.hint, v.got) for c, v in checked[name].verdicts], name


def test_another_seed_draws_other_inputs_and_the_same_verdicts(homework, checked):
    name = "a wrong d_sigmoid"
    again = next(check.check_class([homework[name]], seed=8))
    assert [(c.name, v.passed) for c, v in again.verdicts] == \
        [(c.name, v.passed) for c, v in checked[name].verdicts]
    assert [v.got for _, v in again.verdicts] != [v.got for _, v in checked[name].verdicts]


def test_the_instructor_can_clear_or_extend_the_forbidden_modules(homework):
    cleared = config.parse_config({"forbidden": []}, checks.all_checks())
    result = check.check_submission(homework["only imports mlplab"], cleared, seed=1)
    assert failed(result) == {}
    added = config.parse_config({"forbidden_add": ["mymath"]}, checks.all_checks())
    result = check.check_submission(homework["a module of its own"], added, seed=1)
    assert set(failed(result)) == {SCRATCH, "sigmoid"}


# ----- the command line -----------------------------------------------------------------------

def test_one_file_table_exit_status_and_gradescope_json(tmp_path, homework):
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"points": {"Q2.2": 2, "softmax": 5},
                                   "visibility": {"Q2.5": "after_due_date"}}))
    out = tmp_path / "results.json"
    run = subprocess.run([*MLPLAB, str(homework["softmax without the maximum"].path), "--json",
                          str(out), "--weights", str(weights), "--seed", "3"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "FAIL  Q2.2  softmax" in run.stdout and "hint" in run.stdout
    report = json.loads(out.read_text())
    assert {"score", "execution_time", "output", "output_format", "stdout_visibility",
            "tests"} <= set(report)
    assert report["output_format"] == "md"
    tests = {test["name"]: test for test in report["tests"]}
    for test in report["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output",
                "visibility"} <= set(test)
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
    assert tests["softmax"]["max_score"] == 5 and tests["softmax"]["score"] == 0
    assert tests["sigmoid"]["max_score"] == 2
    assert tests["Q2.5: the loss falls at every epoch"]["visibility"] == "after_due_date"
    assert report["score"] == sum(test["score"] for test in report["tests"])


def test_a_class_folder_grades_csv_and_summary(tmp_path):
    students = tmp_path / "class"
    students.mkdir()
    (students / "alice.py").write_text((STUDENTS / "correct.py").read_text())
    (students / "bob.py").write_text(MUTATIONS["predict with >="][0])
    (students / "carol").mkdir()
    (students / "carol" / "hw2.ipynb").write_text(notebook_v4())
    (students / "carol" / "notes.txt").write_text("not code")
    (students / "dave.py").write_bytes(b"\x00\x01 binary")
    (students / "readme.pdf").write_bytes(b"%PDF")
    out = tmp_path / "grades"
    run = subprocess.run([*MLPLAB, str(students), "--out", str(out), "--jobs", "2",
                          "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader((out / "grades.csv").open()))
    scores = {row["submission"]: float(row["score"]) for row in rows}
    assert scores == {"alice.py": 33, "bob.py": 31, "carol": 33, "dave.py": 0}
    assert sorted(p.name for p in (out / "results").iterdir()) == [
        "alice.py.json", "bob.py.json", "carol.json", "dave.py.json"]
    summary = (out / "summary.md").read_text()
    assert "4 submissions" in summary and "readme.pdf" in summary
    assert "an output equal to the threshold is labelled 1" in summary
    page = (out / "summary.html").read_text()
    assert "<table>" in page and "dave.py: a binary file" in page
    # a second run into the same folder replaces what the first wrote, and nothing else
    (out / "mine.txt").write_text("keep")
    again = subprocess.run([*MLPLAB, str(students / "alice.py"), "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (out / "mine.txt").read_text() == "keep"
    assert [row["submission"] for row in csv.DictReader((out / "grades.csv").open())] == [
        "alice.py"]


@pytest.mark.parametrize("arguments, says", [
    (["{empty}", "--out", "{out}"], "no .py or .ipynb"),
    (["{notes}"], "not a .py module or .ipynb notebook"),
    (["{binary}"], "binary"),
    (["{correct}", "--weights", "{unknown}"], "unknown check or part 'sigmod'"),
    (["{correct}", "--weights", "{negative}"], "must be a number from 0 to 1000"),
    (["{correct}", "--weights", "{infinite}"], "got inf"),
    (["{correct}", "--out", "{theirs}"], "no record of an earlier mlplab run"),
    (["{correct}", "{correct}"], "need --out"),
    (["{correct}", "--timeout", "1e19"], "from 1 to 3600"),
    ([], "give a homework file"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, arguments, says):
    places = {"empty": tmp_path / "empty", "out": tmp_path / "out", "notes": tmp_path / "a.txt",
              "binary": tmp_path / "b.py", "correct": STUDENTS / "correct.py",
              "unknown": tmp_path / "u.json", "negative": tmp_path / "n.json",
              "infinite": tmp_path / "i.json", "theirs": tmp_path / "theirs"}
    places["empty"].mkdir()
    places["notes"].write_text("x")
    places["binary"].write_bytes(b"\xff\xfe\x00")
    places["unknown"].write_text('{"sigmod": 1}')
    places["negative"].write_text('{"points": {"Q2.2": -1}}')
    places["infinite"].write_text('{"Q2.2": 1e999}')
    places["theirs"].mkdir()
    (places["theirs"] / "thesis.tex").write_text("mine")
    run = subprocess.run([*MLPLAB, *[a.format(**places) for a in arguments]],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert says in run.stderr and "Traceback" not in run.stderr
    assert len([line for line in run.stderr.splitlines() if "error:" in line]) == 1
    assert not places["out"].exists()
    assert os.listdir(places["theirs"]) == ["thesis.tex"]


def test_the_gradescope_bundle_runs_in_a_tree_laid_out_like_gradescopes(tmp_path):
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"points": {"Q2.4": 4}}))
    bundle = tmp_path / "autograder.zip"
    made = subprocess.run([*MLPLAB, "--gradescope-bundle", str(bundle), "--weights",
                           str(weights)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "config.json", "mlplab/pyproject.toml",
                "mlplab/src/mlplab/check/harness.py"} <= set(names)
        archive.extractall(root / "source")
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
    (root / "submission").mkdir()
    (root / "submission" / "hw2.ipynb").write_text(notebook_v4())
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")],
                         env={**os.environ, "MLPLAB_AUTOGRADER_ROOT": str(root),
                              "MLPLAB_AUTOGRADER_PYTHON": sys.executable},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads((root / "results" / "results.json").read_text())
    tests = {test["name"]: test for test in report["tests"]}
    assert tests["fit: sigmoid and L2 loss"]["max_score"] == 4
    assert report["score"] == sum(test["max_score"] for test in report["tests"])


# ----- pieces ---------------------------------------------------------------------------------

def test_text_from_student_code_is_inert():
    shown = text.clean("\x1b[2K\rPASS \udcff \u202e")
    assert "\x1b" not in shown and "\r" not in shown and "\udcff" not in shown
    assert "\u202e" not in shown and "\\x1b" in shown
    shown.encode("utf-8")
    assert text.code("a `b` c") == "``a `b` c``"
    assert text.markdown("*bold* <b>") == "\\*bold\\* \\<b\\>"


def test_near_names():
    assert checks.near_names("d_sigmoid", ["dSigmoid", "Layer"]) == ["dSigmoid"]
    assert checks.near_names("Network", ["NeuralNetwork"]) == ["NeuralNetwork"]
    assert checks.near_names("softmax", ["soft_max", "sigmoid"]) == ["soft_max"]
    assert checks.near_names("l2_loss", ["Layer"]) == []


def test_a_difference_is_said_in_words():
    said = checks.difference(np.array(0.0690579), np.array(0.06905791432103274))
    assert "1.43e-08" in said and "significant digit" in said
    assert "shape (3,)" in checks.difference(np.zeros((3, 1)), np.zeros(3))


def test_every_check_is_listed_in_the_points_table():
    names = {c.name for c in checks.all_checks()}
    assert names == EVERY | set(FUNCTIONS)
    assert sum(c.points for c in checks.all_checks()) == 33


def test_a_dask_cluster_gives_the_same_verdicts(homework, checked):
    distributed = pytest.importorskip("dask.distributed",
                                      reason="the 'cluster' extra is not installed")
    names = ["a wrong d_sigmoid", "softmax through importlib"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        results = {r.name: r for r in check.check_class([homework[n] for n in names], seed=7,
                                                        backend="dask")}
    for name in names:
        assert [(c.name, v.passed, v.hint) for c, v in results[name].verdicts] == \
            [(c.name, v.passed, v.hint) for c, v in checked[name].verdicts], name
