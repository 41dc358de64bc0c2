"""`mlplab check` on student-style homework (`homework_variants`): the correct ones pass every
check; each seeded mistake fails exactly its checks, with its hint; borrowed definitions score
nothing; hostile code fails its checks within the limits; a class is graded the same serially,
in parallel and on Dask; the command line, its outputs and the Gradescope bundle."""

import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from homework_variants import (EVERY, FOLDERS, FUNCTIONS, MUTATIONS, NETWORK, PLAIN, SCRATCH,
                               STUDENTS, appended, edited, notebook_v3, notebook_v4)
from mlplab import check, cli
from mlplab.assignment import NAMES
from mlplab.check import checks, config, harness, text
from mlplab.check.submissions import Submission

CORRECT = ["correct.py", "correct_transposed.py", "correct_vectorised.py",
           "correct_one_sample.py", "notebook (today's format)", "notebook (format 3)",
           "a module of its own"]
MLPLAB = [sys.executable, "-m", "mlplab", "check"]
# Hostile code waits out these limits: short ones keep the suite quick.
FAST = check.Limits(request_seconds=1.0, statement_seconds=1.0)


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
    sources = {"notebook (today's format)": notebook_v4(), "notebook (format 3)": notebook_v3(),
               **{name: source for name, (source, *_) in MUTATIONS.items()}}
    for number, (name, source) in enumerate(sources.items()):
        path = root / (f"{number}.ipynb" if name.startswith("notebook") else f"{number}.py")
        path.write_text(source)
        found[name] = Submission(name, path, root)
    for number, (name, (files, _)) in enumerate(FOLDERS.items()):
        _write_folder(root / f"folder{number}", files)
        found[name] = Submission(name, root / f"folder{number}" / "hw2.py",
                                 root / f"folder{number}")
    return found


@pytest.fixture(scope="module")
def checked(homework):
    """Every homework checked once, as a class on two workers: {name: Result}."""
    results = check.check_class(list(homework.values()), limits=FAST, seed=7, jobs=2)
    return {result.name: result for result in results}


def failed(result):
    return {c.name: v for c, v in result.verdicts if not v.passed}


def verdicts(result):
    return {c.name: v for c, v in result.verdicts}


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
    for check_name, phrase in phrases.items():
        assert phrase in said(verdicts(result)[check_name]), said(verdicts(result)[check_name])
    assert result.score == sum(p for (c, v), p in zip(result.verdicts, result.points)
                               if c.name not in failures)


def test_what_the_checker_did_is_said(checked):
    vectorised = verdicts(checked["correct_vectorised.py"])
    assert "add_bias=False" in vectorised["Layer: shapes and biases"].convention
    assert "zeros" in vectorised["Layer: shapes and biases"].convention
    assert any("the network's params" in note for note in vectorised[
        "fit: sigmoid and L2 loss"].notes)
    one_sample = verdicts(checked["correct_one_sample.py"])
    assert "one sample" in one_sample["l2_loss"].convention
    transposed = verdicts(checked["correct_transposed.py"])
    assert "(n_output, n_input)" in transposed["Layer: shapes and biases"].convention
    # a missing name: mlplab's in its place, and said
    renamed = verdicts(checked["dSigmoid for d_sigmoid"])
    assert any("mlplab's d_sigmoid" in note for note in renamed["fit: sigmoid and L2 loss"].notes)
    # what a notebook could not run whole
    notes = " ".join(checked["notebook (format 3)"].notes)
    assert "is not valid Python" in notes and "relu" in notes


def test_borrowed_definitions_score_nothing_and_are_named(checked):
    only = checked["only imports mlplab"]
    assert only.score == 0
    assert "mlplab.functions.sigmoid" in verdicts(only)[SCRATCH].got
    assert "torch.softmax" in verdicts(checked["a package named torch"])[SCRATCH].got
    wrapped = verdicts(checked["Network around scikit-learn's MLPClassifier"])
    assert all(not wrapped[name].passed and "scores 0" in wrapped[name].hint
               for name in NETWORK)


def test_hostile_code_stays_within_the_limits(checked):
    for name in ("exits in sigmoid", "allocates in sigmoid", "predict never returns",
                 "a bare except in softmax", "top-level code that would never end"):
        assert checked[name].seconds < 30, (name, checked[name].seconds)
    assert checked["exits in sigmoid"].ended   # its process ended early, and that is kept


def _same_verdicts(results, checked, names, fields=("passed", "hint", "got")):
    for name in names:
        assert [(c.name, *(getattr(v, f) for f in fields)) for c, v in results[name].verdicts] \
            == [(c.name, *(getattr(v, f) for f in fields)) for c, v in checked[name].verdicts], \
            name


def test_a_class_gets_the_same_verdicts_serially(checked, homework):
    names = ["correct.py", "notebook (format 3)", "a wrong d_sigmoid", "predict with >=",
             "sigmoid imported under a built name", "a package named torch"]
    serial = {r.name: r for r in check.check_class([homework[n] for n in names], limits=FAST,
                                                   seed=7)}
    _same_verdicts(serial, checked, names)


def test_another_seed_draws_other_inputs_and_the_same_verdicts(homework, checked):
    name = "a wrong d_sigmoid"
    again = check.check_submission(homework[name], limits=FAST, seed=8)
    assert [(c.name, v.passed) for c, v in again.verdicts] == \
        [(c.name, v.passed) for c, v in checked[name].verdicts]
    assert [v.got for _, v in again.verdicts] != [v.got for _, v in checked[name].verdicts]


def test_the_instructor_can_clear_or_extend_the_forbidden_modules(homework):
    cleared = config.parse_config({"forbidden": []}, checks.all_checks())
    result = check.check_submission(homework["only imports mlplab"], cleared, FAST, seed=1)
    assert failed(result) == {}
    added = config.parse_config({"forbidden_add": ["mymath"]}, checks.all_checks())
    result = check.check_submission(homework["a module of its own"], added, FAST, seed=1)
    assert set(failed(result)) == {SCRATCH, "sigmoid"}


def test_a_dask_cluster_gives_the_same_verdicts(homework, checked):
    distributed = pytest.importorskip("dask.distributed",
                                      reason="the 'cluster' extra is not installed")
    names = ["a wrong d_sigmoid", "softmax through importlib"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        results = {r.name: r for r in check.check_class([homework[n] for n in names],
                                                        limits=FAST, seed=7, backend="dask")}
    _same_verdicts(results, checked, names, fields=("passed", "hint"))


# ----- the command line -----------------------------------------------------------------------

def test_one_file_table_exit_status_and_gradescope_json(tmp_path):
    # A wrong softmax, and a sigmoid whose error holds a terminal's escape codes and a lone
    # surrogate; the --json path is a pipe someone made, to be replaced, not written through.
    student = tmp_path / "student.py"
    student.write_text(appended(
        "def sigmoid(x):\n    raise ValueError('\\x1b[2K\\rPASS  Q2.2  sigmoid \\udcff')",
        edited(("    shifted = x - np.max(x, axis=-1, keepdims=True)\n    e = np.exp(shifted)",
                "    e = np.exp(x)"), source=PLAIN)))
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"points": {"Q2.2": 2, "softmax": 5},
                                   "visibility": {"Q2.5": "after_due_date"}}))
    out = tmp_path / "results.json"
    os.mkfifo(out)
    run = subprocess.run([*MLPLAB, str(student), "--json", str(out), "--weights", str(weights),
                          "--seed", "3"], capture_output=True, timeout=120,
                         env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == 1, run.stderr
    assert b"FAIL  Q2.2  softmax" in run.stdout and b"hint" in run.stdout
    assert b"\x1b" not in run.stdout and b"\\x1b[2K" in run.stdout
    assert b"FAIL  Q2.2  sigmoid" in run.stdout
    assert out.is_file()
    report = json.loads(out.read_text())
    assert {"score", "execution_time", "output", "output_format", "stdout_visibility",
            "tests"} <= set(report)
    assert report["output_format"] == "md" and len(report["tests"]) == 19
    tests = {test["name"]: test for test in report["tests"]}
    for test in report["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output",
                "visibility"} <= set(test)
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
    assert tests["softmax"]["max_score"] == 5 and tests["softmax"]["score"] == 0
    assert tests["sigmoid"]["max_score"] == 2
    assert tests["Q2.5: the loss falls at every epoch"]["visibility"] == "after_due_date"
    assert report["score"] == sum(test["score"] for test in report["tests"])


def test_a_class_folder_grades_csv_and_summary_that_no_student_can_touch(tmp_path):
    students, out = tmp_path / "class", tmp_path / "grades"
    students.mkdir()
    (students / "alice.py").write_text(PLAIN)
    (students / "bob.py").write_text(edited((
        "YPredict.append(1 if out[0] > threshold else 0)",
        "YPredict.append(1 if out[0] >= threshold else 0)"), source=PLAIN))
    (students / "carol").mkdir()
    (students / "carol" / "hw2.ipynb").write_text(notebook_v4(PLAIN))
    (students / "carol" / "notes.txt").write_text("not code")
    (students / "dave.py").write_bytes(b"\x00\x01 binary")
    (students / "readme.pdf").write_bytes(b"%PDF")
    # eve's code overwrites bob's file and forges the grades in the --out folder it finds
    (students / "eve.py").write_text(appended(_at_load(
        "import glob, os\n"
        f"for _path in glob.glob(os.path.join({str(students)!r}, 'bob.py')):\n"
        "    open(_path, 'w').write('x = 1')\n"
        "for _pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        _line = open(f'/proc/{_pid}/cmdline', 'rb').read().split(b'\\0')\n"
        "        if b'--out' in _line:\n"
        "            _folder = _line[_line.index(b'--out') + 1].decode()\n"
        "            open(os.path.join(_folder, 'grades.csv'), 'w').write('forged')\n"
        "            open(os.path.join(_folder, 'planted.txt'), 'w').write('x')\n"
        "    except (OSError, ValueError):\n"
        "        pass\n"), PLAIN))
    run = subprocess.run([*MLPLAB, str(students), "--out", str(out), "--jobs", "2",
                          "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    grades = (out / "grades.csv").read_text()
    assert "forged" not in grades and "planted.txt" not in os.listdir(out)
    scores = {row["submission"]: float(row["score"]) for row in csv.DictReader(
        grades.splitlines())}
    assert scores == {"alice.py": 33, "bob.py": 31, "carol": 33, "dave.py": 0, "eve.py": 33}
    assert sorted(p.name for p in (out / "results").iterdir()) == [
        "alice.py.json", "bob.py.json", "carol.json", "dave.py.json", "eve.py.json"]
    summary = (out / "summary.md").read_text()
    assert "5 submissions" in summary and "readme.pdf" in summary
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


def _at_load(code):
    """`code` made to run when the file loads: inside a definition's default argument."""
    return f"def _at_load(_=exec({code!r})):\n    pass\n"


def _cli(capsys, *arguments):
    """`mlplab ARGUMENTS` in this process: (exit status, stdout, stderr)."""
    try:
        status = cli.main([str(a) for a in arguments])
    except SystemExit as exit:   # argparse's usage errors
        status = exit.code
    return (status, *capsys.readouterr())


BAD_SETTINGS = {'{"Q2.2": 1e999}': "got inf", '{"sigmod": 1}': "unknown check or part 'sigmod'",
                '{"Q2.9": 1}': "unknown check or part 'Q2.9'",
                '{"points": {"Q2.2": -1}}': "must be a number from 0 to 1000",
                '{"visibility": {"Q2.2": "x"}}': "visibility for 'Q2.2' must be one of",
                '[1, 2]': "must be a JSON object", '{"Q2.2": NaN}': "NaN is not a number",
                '{"forbidden": "torch"}': "forbidden must be a list of module names"}


@pytest.mark.parametrize("arguments, says", [
    (["{empty}", "--out", "{out}"], "no .py or .ipynb"),
    (["{notes}"], "not a .py module or .ipynb notebook"),
    (["{binary}"], "binary"),
    (["{huge}", "--json", "{json}"], "larger than 8 MiB"),
    (["{correct}", "--out", "{theirs}"], "no record of an earlier mlplab run"),
    (["{correct}", "{correct}"], "need --out"),
    (["{correct}", "--timeout", "1e19"], "from 1 to 3600"),
    ([], "give a homework file"),
    *[(["--gradescope-bundle", "{zip}", "--weights", "{weights}"], says)
      for says in BAD_SETTINGS.values()],
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, arguments, says):
    places = {"empty": tmp_path / "empty", "out": tmp_path / "out", "notes": tmp_path / "a.txt",
              "binary": tmp_path / "b.py", "correct": STUDENTS / "correct.py",
              "huge": tmp_path / "huge.py", "json": tmp_path / "results.json",
              "weights": tmp_path / "w.json", "zip": tmp_path / "a.zip",
              "theirs": tmp_path / "theirs"}
    places["empty"].mkdir()
    places["notes"].write_text("x")
    places["binary"].write_bytes(b"\xff\xfe\x00")
    with open(places["huge"], "w") as stream:
        stream.write(PLAIN + ("# " + "x" * 1022 + "\n") * (9 * 1024))
    places["weights"].write_text(next((k for k, v in BAD_SETTINGS.items() if v == says), "{}"))
    places["theirs"].mkdir()
    (places["theirs"] / "thesis.tex").write_text("mine")
    status, _, stderr = _cli(capsys, "check", *[a.format(**places) for a in arguments])
    assert status == 2 and says in stderr
    assert len([line for line in stderr.splitlines() if "error:" in line]) == 1
    assert not places["out"].exists() and not places["zip"].exists()
    assert os.listdir(places["theirs"]) == ["thesis.tex"]
    if "--weights" in arguments:
        assert "--weights" in stderr
    if "--json" in arguments:   # a grader still gets its file: no points, and why
        assert json.loads(places["json"].read_text())["score"] == 0


def test_the_gradescope_bundle_runs_in_a_tree_laid_out_like_gradescopes(tmp_path, capsys):
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"points": {"Q2.4": 4}}))
    bundle = tmp_path / "autograder.zip"
    assert _cli(capsys, "check", "--gradescope-bundle", bundle, "--weights", weights)[0] == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "config.json", "mlplab/pyproject.toml",
                "mlplab/src/mlplab/check/harness.py"} <= set(names)
        archive.extractall(root / "source")
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
    (root / "submission").mkdir()
    (root / "submission" / "hw2.ipynb").write_text(notebook_v4(PLAIN))
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


def test_the_checker_reads_the_core_and_the_assignment_never_the_lab():
    folder = pathlib.Path(check.__file__).parent
    for path in folder.glob("*.py"):
        modules = set()
        for package, names in re.findall(r"^\s*from (?:\.\.|mlplab\.?)([\w.]*) import (.+)$",
                                         path.read_text(), re.MULTILINE):
            modules |= {package.split(".")[0]} if package else {
                name.split(" as ")[0].strip() for name in names.strip("()").split(",")}
        assert not modules & {"lab", "datasets", "estimator", "plot"}, (path.name, modules)
    # the student's side loads nothing of mlplab: its processes hold only what the student's
    # code brought
    harness = (folder / "harness.py").read_text()
    assert not re.search(r"^\s*(from \.|import mlplab|from mlplab)", harness, re.MULTILINE)


LOADED = textwrap.dedent("""\
    import numpy as np
    import matplotlib.pyplot as plt
    from sklearn import datasets
    from scipy.special import expit
    EPS = 1e-12
    X, Y = datasets.load_iris(return_X_y=True)
    model = None

    def sigmoid(x):
        return expit(x)

    def cross_entropy_loss(Y, P):
        return -np.sum(Y * np.log(P + EPS))

    def plot(losses):
        plt.plot(losses)

    def later():
        import pandas
        return pandas

    class Network:
        def predict(self, X):
            return X

    def endless(self, X):
        while True:
            pass

    Network.predict = endless
    """)


def test_only_what_the_checks_can_reach_runs_at_load():
    # The experiments' imports wait and their data is not loaded; a constant a checked function
    # reads, an import it uses and a change to a checked class run.
    units, _ = harness.code_units(LOADED, "py")
    hot, deferred, skipped = harness.plan_load(units, NAMES)
    assert [node.lineno for node in deferred] == [2, 3]   # pyplot, sklearn's datasets
    assert [node.lineno for node in skipped] == [6, 7]    # the iris data, a model
    assert {"np", "expit", "EPS", "Network", "endless"} <= hot
    assert not {"X", "Y", "plt", "datasets", "model"} & hot   # X, Y: parameters, not these
    modules = set(harness.checked_imports(units, NAMES))
    assert {"numpy", "scipy.special"} <= modules
    assert not {"matplotlib.pyplot", "sklearn", "pandas"} & modules


def test_a_deferred_import_is_made_at_its_first_use():
    assert harness._Deferred("math", "sqrt")(4.0) == 2.0
    assert harness._Deferred("os.path", top=True).path.join("a", "b") == os.path.join("a", "b")
    deferred = harness._Deferred("json")
    with pytest.raises(AttributeError):   # the checker's looks at it import nothing
        deferred.__code__
    assert deferred.dumps([1]) == "[1]"
