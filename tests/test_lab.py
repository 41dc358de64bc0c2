"""The lab end to end: a quick run into a temporary folder, read as a user would read it."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mlplab as ml
from mlplab.cli import main
from mlplab.lab import configs, report, runner
from mlplab.lab import training as training_module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "report"
    assert main(["run", "--out", str(out), "--quick", "--no-progress", "--seed", "3"]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_run_writes_every_output(quick_run):
    out, _ = quick_run
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


def test_results_json_contract(quick_run):
    _, results = quick_run
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
    structures = results["q4"]["structure"]["values"]
    assert all(s[0] == 64 and s[-1] == 10 for s in structures)
    # Which L2 convention the lab trains with is part of every config.
    assert results["q4_baseline"]["reg_convention"] == "mean"
    assert results["q4"]["reg_lambda"]["config"]["base"]["reg_convention"] == "mean"


def test_the_report_says_how_reg_lambda_enters_a_step(quick_run):
    out, _ = quick_run
    text = (out / "report.md").read_text()
    rule = "each step adds reg_lambda * W to the mean gradient"
    assert rule in text[text.index(" Q4.3"):text.index(" Q4.4")] or rule in text[
        text.index("## Q4"):text.index(" Q4.1")]
    assert rule in text[text.index(" Q5.3"):text.index(" Q5.4")]
    other = {**configs.to_dict(configs.Q4_BASE), "reg_convention": "sum"}
    assert "reg_lambda / N * W" in report._describe(other, 64, 10)


def test_report_holds_every_section_and_the_four_lists(quick_run):
    out, results = quick_run
    text = (out / "report.md").read_text()
    for section in ("Q1.1", "Q1.2", "Q2.5", "Q3.1 LinearXY", "Q3.2 NonLinearXY", "Q4.1",
                    "Q4.2", "Q4.3", "Q4.4", "Q4.5", "Q5.1", "Q5.2", "Q5.3", "Q5.4"):
        assert f" {section}" in text, section
    assert "0.8221" in text and "$$" in text
    # Q4.5 holds its own setting fixed, and says so.
    q4_5 = text[text.index(" Q4.5"):text.index("## Q5")]
    assert "instead of the baseline: network 64-256-10, relu hidden units" in q4_5
    n_values = len(results["q4"]["epochs"]["values"])
    for metric in runner.METRICS:
        match = re.search(rf"^{metric} scores: \[(.*)\]$", text, re.M)
        assert match and len(match.group(1).split(", ")) == n_values
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (out / figure).exists(), figure
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "src='figures/" not in html


def test_q5_prose_cites_this_runs_numbers(quick_run):
    out, results = quick_run
    text = (out / "report.md").read_text()
    q5 = text[text.index("## Q5"):]
    cited = set(re.findall(r"\d+\.\d{4}", q5))
    epochs = results["q4"]["epochs"]
    assert f"{epochs['accuracy'][0]:.4f}" in cited          # smallest epoch count
    assert f"{results['q3']['linear']['accuracy']:.4f}" in cited
    assert f"{results['q4']['reg_lambda']['accuracy'][-1]:.4f}" in cited


def test_same_seed_gives_the_same_results_bit_for_bit(quick_run, tmp_path):
    out, _ = quick_run
    again = tmp_path / "again"
    assert main(["run", "--out", str(again), "--quick", "--no-progress", "--seed", "3",
                 "--jobs", "2"]) == 0
    assert (again / "results.json").read_bytes() == (out / "results.json").read_bytes()
    # The report too: with --jobs its formulas are drawn in the worker processes.
    for name in ("report.md", "report.html"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_markdown_table_and_formula_rendering():
    blocks = [report.table(["a", "b"], [[1, "x|y"]]), report.formula(r"\frac{1}{2}")]
    markdown = report.to_markdown(blocks, "figures/")
    assert "| a | b |" in markdown and "x\\|y" in markdown and "$$\n\\frac{1}{2}\n$$" in markdown
    assert "<img src='data:image/png;base64," in report.to_html(blocks, ".", "t")


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


def run_cli(*args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "mlplab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


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


def test_an_output_folder_under_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run_cli("run", "--quick", "--out", str(tmp_path / "afile" / "sub"), cwd=tmp_path)
    assert result.returncode == 1 and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def sweep_record(values, accuracy, train_accuracy, loss=None, test_loss=None):
    n = len(values)
    return {"values": values, "accuracy": accuracy, "train_accuracy": train_accuracy,
            "loss": loss or [[1.0]] * n, "test_loss": test_loss or [[1.0]] * n,
            "diverged_at": [None] * n}


def test_q5_4_prose_follows_the_numbers_not_the_theory():
    q4 = {
        # the longest run diverged at once: no test loss to speak of
        "epochs": sweep_record([1, 5], [0.9, 0.8], [0.9, 0.8], loss=[[1.0], []],
                               test_loss=[[1.0], []]),
        # the largest step is the best one
        "learning_rate": sweep_record([0.01, 0.1], [0.5, 0.9], [0.5, 0.9]),
        # strong regularization still fits the training data
        "reg_lambda": sweep_record([0.0, 0.1], [0.9, 0.88], [1.0, 0.99]),
    }
    text = " ".join(block[1] for block in report._q5_4_paragraphs(q4))
    assert "already 1 epoch(s) give the best test accuracy, 0.9000" in text
    assert "is best (0.9000): in this range no step overshot" in text
    assert "Even at 0.1 the model still fits the training data" in text


def test_non_finite_numbers_are_written_as_null():
    from mlplab.cli import _finite_or_null

    cleaned = _finite_or_null({"a": [1.0, float("nan")], "b": {"c": float("inf")}, "d": 2})
    assert cleaned == {"a": [1.0, None], "b": {"c": None}, "d": 2}
    json.dumps(cleaned, allow_nan=False)


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
    record = runner.train_and_score(training, X[:30], y[:30], X[30:], y[30:], seed=1)
    net = training_module.network_for(training, 3, 3)
    Y_train, Y_test = (ml.smooth_labels(np.eye(3)[labels], 0.3) for labels in (y[:30], y[30:]))
    history = net.train(X[:30], Y_train, epochs=5, learning_rate=0.5, batch_size=8, seed=1,
                        validation_data=(X[30:], Y_test))
    assert record["loss"] == history["loss"].tolist()
    assert record["test_loss"] == history["val_loss"].tolist()
