"""The lab end to end: a quick run into a temporary folder, read as a user would read it."""

import dataclasses
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mlplab as ml
from mlplab.cli import build_parser, main
from mlplab import _files, _html
from mlplab.lab import configs, figures, findings, report, runner
from conftest import run_cli


def test_run_writes_every_output(quick_run):
    out, _, _ = quick_run
    for name in ("report.md", "report.html", "results.json"):
        assert (out / name).stat().st_size > 0
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "q2_5_loss.png" in figures
    for name in ("linear", "nonlinear"):
        for kind in ("losses", "boundary", "confusion"):
            assert f"q3_{name}_{kind}.png" in figures
    for name in ("epochs", "learning_rate", "reg_lambda", "structure", "label_smoothing"):
        assert f"q4_{name}_metrics.png" in figures and f"q4_{name}_losses.png" in figures
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".mlplab-")]
    # The fold-1 models are model files, loadable as they are; the header holds the scaler.
    for name in ("linear", "nonlinear"):
        net = ml.Network.load(out / "models" / f"q3_{name}_fold1.npz")
        assert net.n_input == 2 and net.n_output == 1
        _, extra, _ = ml._model_file.load_network(out / "models" / f"q3_{name}_fold1.npz",
                                                  ml.Network)
        assert len(extra["input_mean"]) == len(extra["input_scale"]) == 2


def test_a_fold_1_model_file_loads_whole_and_gives_its_folds_accuracy(quick_run):
    out, results, _ = quick_run
    data, _ = runner.load_all()
    for cv in configs.Q3:
        X, y = data[cv.dataset]
        _, test = runner._folds(cv, y, results["seed"])[0]
        model = ml.load_model(out / "models" / f"q3_{cv.name}_fold1.npz")
        labels = np.unique(y)
        accuracy = np.mean(labels[model.predict(X[test])] == y[test])   # raw inputs
        assert accuracy == results["q3"][cv.name]["folds"][0]["accuracy"]
        assert not np.allclose(model.forward(X[test])[-1], model.network.forward(X[test])[-1])


def test_results_json_contract(quick_run):
    _, results, _ = quick_run
    assert results["seed"] == 3
    assert round(results["q1"]["output"], 4) == 0.8221
    assert len(results["q2_5"]["loss"]) == configs.quick(configs.Q2_5).epochs
    for name, n_samples in (("linear", 500), ("nonlinear", 1000)):
        R = results["q3"][name]
        for metric in runner.METRICS:
            assert R[metric] == pytest.approx(np.mean([f[metric] for f in R["folds"]]))
        assert len(R["folds"]) == 5
        assert np.sum(R["confusion_matrix"]) == n_samples
        assert np.array(R["confusion_matrix"]).shape == (2, 2)
    for name in ("epochs", "learning_rate", "reg_lambda", "structure", "label_smoothing"):
        S = results["q4"][name]
        for metric in runner.METRICS:
            assert len(S[metric]) == len(S["values"]) >= 2
            assert all(0 <= v <= 1 for v in S[metric])
        assert all(np.sum(m) == 899 for m in S["confusion_matrices"])
        assert len(S["test_loss"][0]) == len(S["loss"][0])
    structure = results["q4"]["structure"]
    assert all(s[0] == 64 and s[-1] == 10 for s in structure["layers"])
    assert [layers[1:-1] for layers in structure["layers"]] == structure["values"]
    assert structure["n_parameters"][0] == 64 * 10 + 10   # no hidden layer
    assert results["q1"]["given"] == ml.assignment.Q1
    assert set(results["findings"]["q4"]) == set(results["q4"])
    # Which L2 convention the lab trains with is part of every config.
    assert results["q4_baseline"]["reg_convention"] == "mean"
    assert results["q4"]["reg_lambda"]["config"]["base"]["reg_convention"] == "mean"


def test_the_report_says_how_reg_lambda_enters_a_step_once(quick_run):
    out, _, _ = quick_run
    text = (out / "report.md").read_text()
    rule = "each step adds reg_lambda * W to the mean gradient"
    assert text.count(rule) == 1 and text.index(rule) < text.index("## Q1")
    assert text.count("chosen on the test set") == 1
    other = {**configs.to_dict(configs.Q4_BASE), "reg_convention": "sum"}
    assert "reg_lambda / N * W" in report.l2_rule(other)


def test_report_holds_every_section_and_the_four_lists(quick_run):
    out, results, _ = quick_run
    text = (out / "report.md").read_text()
    for section in ("Q1.1", "Q1.2", "Q2.5", "Q3.1 LinearXY", "Q3.2 NonLinearXY", "Q4.1",
                    "Q4.2", "Q4.3", "Q4.4", "Q4.5", "Q5.1", "Q5.2", "Q5.3", "Q5.4"):
        assert f" {section}" in text, section
    assert "0.8221" in text and "$$" in text
    # Q4.5 holds its own setting fixed, and says so.
    q4_5 = text[text.index(" Q4.5"):text.index("## Q5")]
    assert "Held fixed in this sweep instead: network 64-256-10, relu hidden units" in q4_5
    n_values = len(results["q4"]["epochs"]["values"])
    for metric in runner.METRICS:
        match = re.search(rf"^{metric} scores: \[(.*)\]$", text, re.M)
        assert match and len(match.group(1).split(", ")) == n_values
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (out / figure).exists(), figure
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "figures/" not in html


def test_the_html_is_rendered_markdown_that_prints_well(quick_run):
    out, _, _ = quick_run
    html = (out / "report.html").read_text()
    body = re.sub(r"<[^>]+>", "", html[html.index("<body>"):])   # the text a reader sees
    assert "**" not in body and "`" not in body and "$" not in body
    assert "<strong>" in html and "<code>" in html and "<figcaption>" in html
    assert html.count("<figure>") == len(list((out / "figures").iterdir()))
    assert "<img class='math display' style=" in html and "<img class='math' style=" in html
    assert "max-width: 100%" in html and "@page { size: A4" in html
    assert re.search(r"@media print \{.*table, figure, pre, blockquote[^{]*\{ break-inside: avoid",
                     html, re.S)


def test_a_quick_run_says_it_is_a_smoke_test_and_concludes_nothing(quick_run):
    out, _, _ = quick_run
    text = (out / "report.md").read_text()
    first_lines = text[:text.index("## Q1")]
    assert "Quick run: a smoke test." in first_lines
    assert "What this shows" not in text and "over-fitting, in the loss" not in text
    assert "cannot say whether it happens" in text[text.index("### Q5.4"):]


def test_built_in_data_is_named_in_a_box_at_the_top(quick_run):
    out, results, _ = quick_run
    text = (out / "report.md").read_text()
    box = next(line for line in text.splitlines() if line.startswith("> **Built-in"))
    assert text.index(box) < text.index("## Q1")
    for name in ("make_classification(", "make_moons(", "load_digits()"):
        assert name in box
    assert "not the course's" in box and "--data-dir" in box
    assert "reference answers" in text[:text.index(box)]
    assert results["data"]["nonlinear"]["built_in"].startswith("generated by make_moons(")


def test_q5_prose_cites_this_runs_numbers(quick_run):
    out, results, _ = quick_run
    text = (out / "report.md").read_text()
    q5 = text[text.index("## Q5"):]
    cited = set(re.findall(r"\d+\.\d{4}", q5))
    assert f"{results['q3']['linear']['accuracy']:.4f}" in cited
    assert f"{results['q3']['nonlinear']['baseline']['accuracy']:.4f}" in cited
    assert f"{max(max(s['accuracy']) for s in results['q4'].values()):.4f}" in cited
    assert f"{results['q1']['output']:.4f}" in cited


def test_same_seed_gives_the_same_results_bit_for_bit(quick_run, tmp_path, capfd):
    out, _, _ = quick_run
    again = tmp_path / "again"
    assert main(["run", "--out", str(again), "--quick", "--no-progress", "--seed", "3",
                 "--jobs", "2"]) == 0
    quiet = capfd.readouterr()   # --no-progress: only the summary at the end
    assert "drawing the figures" not in quiet.out and not quiet.err
    assert (again / "results.json").read_bytes() == (out / "results.json").read_bytes()
    # The report too: with --jobs its formulas are drawn in the worker processes.
    for name in ("report.md", "report.html"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_markdown_tables_formulas_and_figures_render_to_html(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_bytes(b"\x89PNG fake")
    markdown = "\n\n".join([
        _html.table(["a", "b"], [[1, "x|y"]]), "$$\n\\frac{1}{2}\n$$",
        "inline $x^2$ and a bad one $\\notacommand{$", "![A caption](figures/a.png)\n*A caption*",
        "A path with dollars: `/data/$x$/a.csv`"])
    html = _html.to_html(markdown, "a title", "", tmp_path)
    assert "<td>x|y</td>" in html
    assert html.count("<img class='math") == 2 and "<code>\\notacommand{</code>" in html
    assert "<figure><img src=\"data:image/png;base64," in html
    assert "<figcaption><em>A caption</em></figcaption>" in html
    assert "<code>/data/$x$/a.csv</code>" in html   # no formula made of a user's path


def test_summarize_folds_accumulates_matrices_and_averages_scores():
    folds = [{"accuracy": 1.0, "precision": 0.5, "recall": 1.0, "f1": 0.5,
              "confusion_matrix": [[1, 0], [2, 3]]},
             {"accuracy": 0.5, "precision": 1.0, "recall": 0.0, "f1": 0.0,
              "confusion_matrix": [[4, 1], [0, 1]]}]
    summary = runner.summarize_folds(folds)
    assert summary["confusion_matrix"] == [[5, 1], [2, 4]]
    assert summary["accuracy"] == 0.75 and summary["precision"] == 0.75


def test_a_fold_that_never_predicts_a_class_scores_zero_without_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = runner.scores(np.array([0, 1, 1]), np.array([0, 0, 0]), np.array([0, 1]),
                               "binary")
    assert scores["precision"] == 0.0 and scores["recall"] == 0.0


def course_files(data_dir, given):
    """A --data-dir holding `given` ({path: text}) and, for every dataset not given, small
    valid files: a data folder must hold all three datasets."""
    blob = "\n".join(f"{i % 7},{i % 5}" for i in range(12)) + "\n"
    labels = "0\n1\n" * 6
    digits = "\n".join(",".join(str((i + j) % 3) for j in range(4)) for i in range(6)) + "\n"
    defaults = {"dataset1/LinearX.csv": blob, "dataset1/LinearY.csv": labels,
                "dataset1/NonlinearX.csv": blob, "dataset1/NonlinearY.csv": labels,
                "dataset2/Digit_X_train.csv": digits, "dataset2/Digit_y_train.csv": "0\n1\n2\n" * 2,
                "dataset2/Digit_X_test.csv": digits, "dataset2/Digit_y_test.csv": "0\n1\n2\n" * 2}
    given_sets = {path.split("/")[-1][:6] for path in given}   # "Linear", "Nonlin", "Digit_"
    for path, text in {**{p: t for p, t in defaults.items()
                          if p.split("/")[-1][:6] not in given_sets}, **given}.items():
        (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_text(text)


@pytest.mark.parametrize("files, message", [
    ({"LinearX.csv": "1,2\n3,4\n"}, "LinearY.csv"),
    ({"LinearX.csv": "1,2\n3,4\n", "LinearY.csv": "0\n1\n0\n"}, "LinearX.csv"),
    ({"LinearX.csv": "1,2\n3\n", "LinearY.csv": "0\n1\n"}, "line 2"),
    ({"LinearX.csv": "1,2\nx,4\n", "LinearY.csv": "0\n1\n"}, "line 2"),
    ({"LinearX.csv": "", "LinearY.csv": ""}, "empty"),
    ({"LinearX.csv": "1,2\n3,4\n5,6\n", "LinearY.csv": "0\n1\n1\n"}, "at least 5 samples"),
    ({"LinearX.csv": "1,2\n3,4\n", "LinearY.csv": "0\n0\n"}, "exactly 2 classes"),
    ({"LinearX.csv": "1,2,3\n" * 10, "LinearY.csv": "0\n1\n" * 5}, "needs 2 features"),
])
def test_bad_data_dir_gives_one_line_and_writes_nothing(tmp_path, files, message):
    data_dir = tmp_path / "course"
    course_files(data_dir, {f"dataset1/{name}": text for name, text in files.items()})
    out = tmp_path / "out"
    result = run_cli("run", "--quick", "--data-dir", str(data_dir), "--out", str(out),
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mlplab: error:") and message in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["run", "--jobs", "zero"], "--jobs"),
    (["run", "--seed", "-1"], "--seed"),
    (["run", "--no-such-flag"], "unrecognized arguments"),
    (["fly"], "invalid choice"),
])
def test_bad_flags_give_usage_not_a_traceback(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and message in result.stderr


def test_output_folder_that_is_not_ours_is_left_alone(tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.txt").write_text("keep me")
    result = run_cli("run", "--quick", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1 and "no record of an earlier mlplab run" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]


def test_q1_command_prints_the_forward_pass(tmp_path):
    result = run_cli("q1", cwd=tmp_path)
    assert result.returncode == 0
    assert "a2 = sigmoid(z2)  = [0.8221]" in result.stdout and "output: 0.8221" in result.stdout
    # Piped into a reader that leaves early (`mlplab q1 | head -1`): no traceback, no error.
    piped = subprocess.Popen([sys.executable, "-m", "mlplab", "q1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=tmp_path)
    piped.stdout.readline()
    piped.stdout.close()
    assert piped.wait(timeout=60) in (0, 141) and piped.stderr.read() == b""


def test_an_output_folder_under_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run_cli("run", "--quick", "--out", str(tmp_path / "afile" / "sub"), cwd=tmp_path)
    assert result.returncode == 1 and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


# ----- sentences that follow the numbers -------------------------------------------------

def tiny_studies():
    """Every kind of study, small enough to run in seconds, not in quick mode: the report
    then states its conclusions."""
    base = configs.Training(hidden=(8,), output="softmax", epochs=15, learning_rate=0.5,
                            reg_lambda=1e-4, batch_size=32)
    cv = configs.CrossValidation(
        "linear", "Q3.1 LinearXY", "linear", why="a test",
        training=configs.Training(hidden=(3,), output="sigmoid", epochs=20, learning_rate=1.0,
                                  batch_size=32, standardize=True))
    sweeps = (configs.Sweep("epochs", "Q4.1 Epochs", "epochs", (1, 5, 40), base),
              configs.Sweep("learning_rate", "Q4.2 Learning rate", "learning_rate",
                            (0.01, 0.5, 60.0), base),
              configs.Sweep("reg_lambda", "Q4.3 Regularization", "reg_lambda", (0.0, 0.01, 1.0),
                            base),
              configs.Sweep("structure", "Q4.4 Network structure", "hidden",
                            ((), (8,), (16, 8)), base),
              configs.Sweep("label_smoothing", "Q4.5 Label smoothing", "label_smoothing",
                            (0.0, 0.2), base))
    return configs.Training(hidden=(4,), output="sigmoid", epochs=5, learning_rate=0.01), \
        (cv,), sweeps


def write_course_folder(folder, data):
    """`data` ({"linear": (X, y), "nonlinear": (X, y), "digits": (X_train, y_train, X_test,
    y_test)}) as the course's CSV files in `folder`."""
    names = {"linear": ("dataset1/LinearX.csv", "dataset1/LinearY.csv"),
             "nonlinear": ("dataset1/NonlinearX.csv", "dataset1/NonlinearY.csv"),
             "digits": ("dataset2/Digit_X_train.csv", "dataset2/Digit_y_train.csv",
                        "dataset2/Digit_X_test.csv", "dataset2/Digit_y_test.csv")}
    for name, arrays in data.items():
        for path, values in zip(names[name], arrays):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(folder / path, values, delimiter=",", fmt="%.17g")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The tiny studies on the built-in data, and on course-format files of a variant where
    the conclusions differ: LinearXY made of two far-apart blobs (a line separates them), and
    digits whose test rows have their features shuffled (nothing generalises)."""
    built_in, built_in_sources = runner.load_all()
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(-4, 1, size=(100, 2)), rng.normal(4, 1, size=(100, 2))])
    X_train, y_train, X_test, y_test = built_in["digits"]
    folder = tmp_path_factory.mktemp("course")
    write_course_folder(folder, {"linear": (X, np.repeat([0, 1], 100)),
                                 "nonlinear": built_in["nonlinear"],
                                 "digits": (X_train, y_train, rng.permuted(X_test, axis=1),
                                            y_test)})
    runs = []
    for data, sources in ((built_in, built_in_sources), runner.load_all(folder)):
        results, _ = runner.run_all(data, seed=1, sources=sources, studies=tiny_studies())
        drawn = figures.figure_files(results["q3"], results["q4"])
        results = json.loads(_files.strict_json(results))   # as results.json holds it
        runs.append((results, report.build(results, drawn)))
    return runs


def test_each_report_names_its_data_at_the_top(two_runs):
    (built_in, built_in_text), (files, files_text) = two_runs
    top = built_in_text[:built_in_text.index("## Q1")]
    assert "> **Built-in stand-in data, not the course's.**" in top
    top = files_text[:files_text.index("## Q1")]
    assert "Built-in" not in top
    for record in files["data"]["linear"]["files"] + files["data"]["digits"]["files"]:
        assert record["path"].startswith("dataset")   # relative to --data-dir
        assert f"`{record['path']}`" in top and f"`{record['sha256'][:12]}`" in top
        assert len(record["sha256"]) == 64


def test_the_conclusions_follow_each_runs_numbers(two_runs):
    separable = []
    for results, text in two_runs:
        facts = results["findings"]
        linear = results["q3"]["linear"]
        separable.append(linear["linear_fit"]["separable"])
        # Separability is claimed only when a linear program finds a separating line.
        assert ("A line separates the classes" in text) == separable[-1]
        assert ("No line separates the classes" in text) == (not separable[-1])
        difference = linear["accuracy"] - linear["baseline"]["accuracy"]
        apart = findings.told_apart(linear["accuracy"], linear["baseline"]["accuracy"],
                                    linear["n_samples"])
        said = f"{abs(difference):.4f} {'above' if difference > 0 else 'below'} Logistic"
        assert (said in text) == apart
        # The best setting of each sweep is the highest test accuracy, labelled optimistic.
        for name, sweep in results["q4"].items():
            best = int(np.argmax(sweep["accuracy"]))
            assert facts["q4"][name]["best"] == best
            assert f"The highest test accuracy is {sweep['accuracy'][best]:.4f}" in text
        assert text.count("chosen on the test set") == 1
        # Over-fitting is claimed only where the longest run's test loss turns up.
        epochs = results["q4"]["epochs"]
        longest = int(np.argmax(epochs["values"]))
        test_loss = np.array(epochs["test_loss"][longest], dtype=float)
        lowest = int(np.nanargmin(test_loss))
        last_tenth = test_loss[len(test_loss) - len(test_loss) // 10:]
        turned_up = (len(test_loss) >= 10 and last_tenth.min() > 1.02 * test_loss[lowest]
                     and epochs["loss"][longest][-1] < epochs["loss"][longest][lowest])
        assert ("over-fitting, in the loss" in text) == turned_up
        rates = results["q4"]["learning_rate"]
        largest, best = int(np.argmax(rates["values"])), int(np.argmax(rates["accuracy"]))
        overshoots = findings.told_apart(rates["accuracy"][largest], rates["accuracy"][best],
                                         rates["n_test"]) and \
            rates["accuracy"][largest] < rates["accuracy"][best] and (
                rates["diverged_at"][largest] is not None
                or rates["loss"][largest][-1] > rates["loss"][best][-1])
        assert ("it overshoots" in text) == overshoots
        regs = results["q4"]["reg_lambda"]
        too_much = regs["train_accuracy"][-1] < regs["train_accuracy"][0] - 0.05
        assert ("no longer fits even the training data" in text) == too_much
    # The two data sets lead to different conclusions, and the report says so.
    assert separable == [False, True]
    assert two_runs[0][1] != two_runs[1][1]


def flattened_numbers(value):
    """Every number in results (also those inside strings, such as a stand-in's recipe)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [n for item in value for n in flattened_numbers(item)]
    if isinstance(value, str):
        return [float(n) for n in re.findall(r"\d+\.?\d*", value)]
    if isinstance(value, bool) or value is None:
        return []
    return [float(value)]


def test_every_number_of_the_report_is_in_results_json(two_runs):
    for results, text in two_runs:
        known = np.array(flattened_numbers(json.loads(json.dumps(results))))
        for match in re.finditer(r"(?<![\w.])(\d+)\.(\d+)(e[-+]?\d+)?(%?)(?![\w.]*\d)", text):
            percent = match.group(4) == "%"   # a fraction of results.json, shown as a percentage
            shown = float(match.group(0).rstrip("%")) / (100 if percent else 1)
            decimals = len(match.group(2)) - int((match.group(3) or "e0")[1:]) + 2 * percent
            tolerance = 0.5 * 10.0 ** -decimals
            assert np.any(np.abs(np.abs(known) - shown) <= tolerance * 1.0001), \
                (match.group(0), text[max(0, match.start() - 80):match.end() + 20])


def test_unusual_data_gives_a_report_that_says_what_happened():
    # One class much rarer, a constant feature, and every sweep setting diverging.
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=300), np.full(300, 2.0)])
    y = (np.arange(300) < 20).astype(int)
    X_train, y_train, X_test, y_test = ml.datasets.load_digits_split()
    data = {"linear": (X, y), "digits": (X_train, y_train, X_test, y_test)}
    q2_5, q3, q4 = tiny_studies()
    diverging = [dataclasses.replace(sweep, base=dataclasses.replace(sweep.base,
                                                                     learning_rate=1e6))
                 for sweep in q4 if sweep.param != "learning_rate"]
    results, _ = runner.run_all(data, seed=0, studies=(q2_5, q3, diverging))
    text = report.build(results, figures.figure_files(results["q3"], results["q4"]))
    assert "Class 1 is rare (0.0667 of the samples)" in text
    all_diverged = [name for name, sweep in results["q4"].items()
                    if None not in sweep["diverged_at"]]
    assert all_diverged and text.count("Every setting diverged") == len(all_diverged)
    _files.strict_json(results)   # what results.json will hold


def sweep_record(values, accuracy, train_accuracy, loss=None, test_loss=None, param="epochs",
                 diverged_at=None, classes=10):
    n = len(values)
    return {"values": values, "accuracy": accuracy, "train_accuracy": train_accuracy,
            "loss": loss or [[1.0]] * n, "test_loss": test_loss or [[1.0]] * n,
            "diverged_at": diverged_at or [None] * n, "n_train": 1000, "n_test": 1000,
            "layers": [[2, 1]] * n, "confusion_matrices": [[[0] * classes] * classes] * n,
            "config": {"param": param}}


def said_of(sweep):
    """What the report says of a planted sweep record."""
    facts = findings.sweep(sweep, sweep["config"]["param"])
    return str(report.sentences().discussion(sweep, facts)), facts


FALLING = np.linspace(1.0, 0.1, 20).tolist()   # a training loss over 20 epochs
TURNS_UP = [1.0, 0.8, 0.6, 0.5] + [0.6] * 16   # a test loss lowest at epoch 4, up by 20% after


@pytest.mark.parametrize("sweep, said, unsaid", [
    # the longest run diverged at once: no test loss to speak of
    (sweep_record([1, 5], [0.9, 0.8], [0.9, 0.8], loss=[[1.0], []], test_loss=[[1.0], []]),
     ["The highest test accuracy is 0.9000, at epochs = 1\\*",
      "The longest run's test accuracy (0.8000) is below the highest by more than two"],
     ["under-fitting", "over-fitting"]),
    # the test loss turns up, and stays up, while the training loss falls: both ends said
    (sweep_record([1, 20], [0.5, 0.9], [0.5, 1.0], loss=[[1.0], FALLING],
                  test_loss=[[1.0], TURNS_UP]),
     ["test loss is lowest at epoch 4 (0.5000) and stays at least 20.0% above it",
      "(never below 0.6000)", "the training loss falls by a further 88.3%, 0.8579 → 0.1000",
      ": over-fitting", "under-fitting"], []),
    # the longest run is the best: no sentence compares it with itself
    (sweep_record([1, 20], [0.5, 0.9], [0.5, 1.0], loss=[[1.0], FALLING],
                  test_loss=[[1.0], TURNS_UP]),
     ["The longest run, 20 epochs, scores the highest."], ["not lower", "is below"]),
    # a rise of 1% is noise, and so is a rise at the last epoch alone
    (sweep_record([1, 20], [0.5, 0.9], [0.5, 1.0], loss=[[1.0], FALLING],
                  test_loss=[[1.0], [1.0, 0.8, 0.6, 0.5] + [0.505] * 16]),
     ["under-fitting"], ["over-fitting"]),
    (sweep_record([1, 20], [0.5, 0.9], [0.5, 1.0], loss=[[1.0], FALLING],
                  test_loss=[[1.0], [1.0, 0.8, 0.6] + [0.5] * 16 + [0.6]]),
     ["under-fitting"], ["over-fitting"]),
    # one epoch that already fits its training data is not under-fitting
    (sweep_record([1, 20], [0.7, 0.9], [1.0, 1.0]), [], ["under-fitting"]),
    # ties are named
    (sweep_record([5, 40], [1.0, 1.0], [1.0, 1.0]), ["at epochs = 5\\*, tied with epochs = 40"],
     []),
    # the largest step is the best one
    (sweep_record([0.01, 0.1], [0.5, 0.9], [0.5, 0.9], param="learning_rate",
                  loss=[[2.0], [0.5]]),
     ["too slow", "The largest rate is the best: in this range no step overshot"],
     ["it overshoots"]),
    # ... unless it diverged
    (sweep_record([0.1, 8.0], [0.5, 0.9], [0.5, 0.9], param="learning_rate",
                  loss=[[2.0], [0.5]], diverged_at=[None, 3]), ["too slow"],
     ["no step overshot"]),
    # a largest rate that scores lower but fits its training data better does not overshoot
    (sweep_record([0.1, 8.0], [0.9, 0.7], [0.9, 1.0], param="learning_rate",
                  loss=[[0.3], [0.01]]),
     ["The largest, 8, scores 0.7000, below the highest"], ["overshoots", "too slow"]),
    # settings within noise of each other are not told apart
    (sweep_record([0.01, 0.1, 1.0], [0.90, 0.905, 0.91], [0.9, 0.9, 0.9], param="learning_rate"),
     ["does not tell them apart"], ["too slow", "overshoots", "no step overshot"]),
    # strong regularization still fits the training data; the gap's trend across settings
    (sweep_record([0.0, 0.1], [0.9, 0.88], [1.0, 0.99], param="reg_lambda"),
     ["At 0.1 the training accuracy (0.9900) stays within 0.05 of that at 0 (1.0000)",
      "reg_lambda 0 to 0.1, the gap between training and test accuracy goes 0.1000, 0.1100: "
      "it barely moves"], ["no longer fits", "at chance"]),
    # a setting at chance (test and train) is left out of the gap's comparison, and named
    (sweep_record([0.0, 0.001, 0.01, 1.0], [0.95, 0.94, 0.85, 0.1], [1.0, 0.99, 0.9, 0.1],
                  param="reg_lambda"),
     ["At reg_lambda 1 both the test and the training accuracy are at chance (one class in 10)",
      "reg_lambda 0 to 0.01, the gap between training and test accuracy goes 0.0500, 0.0500, "
      "0.0500: it barely moves", "At 1 the model no longer fits even the training data"],
     ["0.0000"]),
    # one setting: nothing to compare
    (sweep_record([0.1], [0.9], [0.9], param="reg_lambda"), ["The highest test accuracy"],
     ["gap", "stays within"]),
])
def test_each_sweeps_sentences_follow_its_numbers(sweep, said, unsaid):
    text, _ = said_of(sweep)
    for words in said:
        assert words in text, text
    for words in unsaid:
        assert words not in text, text


def test_every_number_in_a_sentence_is_the_quantity_its_words_name():
    sweep = sweep_record([1, 20], [0.5, 0.9], [0.5, 1.0], loss=[[1.0], FALLING],
                         test_loss=[[1.0], TURNS_UP])
    text, facts = said_of(sweep)
    lowest = re.search(r"lowest at epoch (\d+) \(([\d.]+)\) and stays at least ([\d.]+)% above "
                       r"it .* \(never below ([\d.]+)\)", text)
    epoch, low, rise, floor = int(lowest[1]), float(lowest[2]), float(lowest[3]), \
        float(lowest[4])
    curve = np.array(TURNS_UP)
    assert low == round(curve[epoch - 1], 4) == round(curve.min(), 4)
    assert floor == round(curve[-2:].min(), 4) and rise == round(100 * (floor / low - 1), 1)
    fall = re.search(r"falls by a further ([\d.]+)%, ([\d.]+) → ([\d.]+)", text)
    start, end = float(fall[2]), float(fall[3])
    assert start == round(FALLING[epoch - 1], 4) and end == round(FALLING[-1], 4)
    assert float(fall[1]) == round(100 * (1 - FALLING[-1] / FALLING[epoch - 1]), 1)
    regs = sweep_record([0.0, 0.01, 1.0], [0.95, 0.85, 0.1], [1.0, 0.95, 0.1],
                        param="reg_lambda")
    text, facts = said_of(regs)
    gaps = re.search(r"goes ([\d., ]+?):", text)[1].split(", ")
    assert [float(g) for g in gaps] == [round(t - a, 4) for t, a in
                                        zip(regs["train_accuracy"][:2], regs["accuracy"][:2])]


def test_a_results_json_of_another_version_is_refused(two_runs):
    results, _ = two_runs[0]
    older = {**results, "mlplab_version": "0.0.9"}
    with pytest.raises(ValueError, match="results.json of mlplab '0.0.9'"):
        report.build(older, figures.figure_files(results["q3"], results["q4"]))


def test_no_personal_path_in_the_report_or_results(two_runs, tmp_path_factory):
    (_, _), (files, text) = two_runs
    folder = str(tmp_path_factory.getbasetemp())
    assert folder not in text and folder not in json.dumps(files)


def test_the_q4_introduction_counts_the_data_and_lists_structures_by_parameters(two_runs):
    results, text = two_runs[0]
    digits = next(iter(results["q4"].values()))
    assert (f"Trained on the {digits['n_train']} samples of the training subset, scored on the "
            f"{digits['n_test']} of the test subset") in text
    structure = results["q4"]["structure"]
    listed = re.search(r"^layers = (.*) \(by parameter count\)$", text, re.M)[1].split(", ")
    counts = [structure["n_parameters"][configs.setting_labels(structure).index(label)]
              for label in listed]
    assert counts == sorted(counts)


def test_no_arguments_print_the_help(tmp_path, capsys):
    assert main([]) == 0
    assert "usage: mlplab" in capsys.readouterr().out
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 0 and "usage: mlplab" in result.stdout and "run" in result.stdout


def test_the_command_line_describes_itself(capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["--version"])
    assert exit_status.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlplab {ml.__version__}"
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in ("run", "check", "q1", "demo"):
        description = commands[command].format_help().split("\n\n")[1]   # after the usage
        assert not description.lstrip().startswith(("positional", "options")), command
    run_help = " ".join(commands["run"].format_help().split())
    for output in ("report.md", "report.html", "report.pdf", "results.json", "figures/",
                   "models/"):
        assert output in run_help, output


def test_a_log_file_gets_plain_lines_a_study_each(quick_run):
    out, _, output = quick_run
    assert not re.search(r"[\r\x1b]", output)   # no bar, no terminal control characters
    lines = output.splitlines()
    for title in ("Q3.1 LinearXY: accuracy", "Q3.2 NonLinearXY: accuracy",
                  "Q4.4 Network structure: test accuracy", "drawing the figures",
                  "writing the report"):
        assert any(line.startswith(title) for line in lines), title
    assert sum("the course's own numbers need --data-dir" in line for line in lines) == 3
    # Without WeasyPrint, one line says why there is no report.pdf and how to get it.
    no_pdf = [line for line in lines if line.startswith("no report.pdf")]
    if report.pdf_engine() is None:
        assert len(no_pdf) == 1 and "pip install weasyprint" in no_pdf[0]
    else:
        assert not no_pdf and (out / "report.pdf").stat().st_size > 0


def test_non_finite_numbers_are_written_as_null():
    cleaned = _files.strict_json({"a": [1.0, float("nan")], "b": {"c": float("inf")}, "d": 2})
    assert json.loads(cleaned) == {"a": [1.0, None], "b": {"c": None}, "d": 2}


def test_test_labels_unseen_in_training_are_a_one_line_error(tmp_path):
    data_dir = tmp_path / "course"
    rows = "\n".join(",".join(["0.5"] * 64) for _ in range(6)) + "\n"
    course_files(data_dir, {
        f"dataset2/{name}": text for name, text in (
            ("Digit_X_train.csv", rows), ("Digit_y_train.csv", "0\n1\n0\n1\n0\n1\n"),
            ("Digit_X_test.csv", rows), ("Digit_y_test.csv", "0\n1\n2\n0\n1\n2\n"))})
    result = run_cli("run", "--quick", "--data-dir", str(data_dir), "--out",
                     str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "test labels [2] never occur in the training labels" in result.stderr


def test_label_smoothing_trains_and_scores_on_smoothed_targets():
    # train_and_score with label_smoothing is Network.train on smooth_labels of the one-hot
    # targets, with the test loss measured against the smoothed test targets too.
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 3
    training = configs.Training(hidden=(4,), epochs=5, label_smoothing=0.3, batch_size=8)
    record = runner.train_and_score(training, (X[:30], y[:30], X[30:], y[30:]), seed=1)
    net = runner.network_for(training, 3, 3)
    Y_train, Y_test = (ml.smooth_labels(np.eye(3)[labels], 0.3) for labels in (y[:30], y[30:]))
    history = net.train(X[:30], Y_train, epochs=5, learning_rate=0.5, batch_size=8, seed=1,
                        validation_data=(X[30:], Y_test))
    assert record["loss"] == history["loss"].tolist()
    assert record["test_loss"] == history["val_loss"].tolist()
