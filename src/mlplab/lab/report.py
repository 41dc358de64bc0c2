"""The report of a run: results (and figure files) -> report.md, report.html and report.pdf.

Never trains. The report is written once, in Markdown (it renders on GitHub, formulas as
$...$), and converted to one self-contained HTML file by markdown-it-py, every figure and
formula embedded as a PNG, so that it opens anywhere offline; WeasyPrint, where installed
(``pip install mlplab[pdf]``), prints that HTML to report.pdf. Every number comes from the
results dict, and every sentence about what the results show from its `findings`; a quick run
states none.
"""

import base64
import importlib.resources
import io
import pathlib
import re

import numpy as np

from .configs import METRICS, Q1, layers_label, setting_labels, setting_name
from .findings import final_value

TITLE = "CS640 Homework 2: neural network report"
DATA_TITLES = {"linear": "LinearXY (Q3.1)", "nonlinear": "NonLinearXY (Q3.2)",
               "digits": "dataset 2, digits (Q4)"}
STAND_IN_WARNING = ("not the course's data; use mlplab run --data-dir DIR with the course's "
                    "files for results you hand in")


def _f(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _vector(values, digits=4):
    return "[" + ", ".join(_f(v, digits) for v in np.ravel(values)) + "]"


def _code(text):
    """`text` as a Markdown code span (taken literally, even with backticks or $ in it)."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"`{text}`"


def _cell(value):
    return str(value).replace("|", "\\|")


def table(header, rows):
    lines = ["| " + " | ".join(map(_cell, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(_cell, row)) + " |" for row in rows])


def figure(file_name, caption):
    """An image and its caption in one paragraph (a <figure> in the HTML)."""
    return f"![{caption}](figures/{file_name})\n*{caption}*"


def score_lists(sweep):
    """The assignment's four lists of a Q4 sweep, one line each: "accuracy scores: [...]"."""
    return "\n".join(f"{metric} scores: [{', '.join(_f(v) for v in sweep[metric])}]"
                     for metric in METRICS)


def _batches(batch_size):
    return "full batch" if batch_size is None else f"mini-batches of {batch_size}"


def l2_rule(training):
    """How reg_lambda enters a step, by the config's `reg_convention` (`Network.fit`)."""
    if training.get("reg_convention", "mean") == "mean":
        return ("L2 convention \"mean\": each step adds reg_lambda * W to the mean gradient, "
                "J = mean loss + reg_lambda / 2 * sum ||W||^2")
    return ("L2 convention \"sum\": each step adds reg_lambda / N * W to the mean gradient of "
            "a batch of N, J = (sum of losses + reg_lambda / 2 * sum ||W||^2) / N")


def describe_training(training, n_input, n_output, varied=None):
    """A Training config (as in results.json) in words; the `varied` field is left out."""
    smoothing = training.get("label_smoothing", 0.0)
    targets = f"labels smoothed by {smoothing:g}" if smoothing else "one-hot labels"
    if varied == "label_smoothing":
        targets = "smoothed labels"
    output = (f"softmax output with cross-entropy on {targets}" if training["output"] == "softmax"
              else "sigmoid output with L2 loss")
    words = {"hidden": f"network {layers_label([n_input, *training['hidden'], n_output])}",
             "activation": f"{training['activation']} hidden units", "output": output,
             "epochs": f"{training['epochs']} epochs",
             "learning_rate": f"learning rate {training['learning_rate']:g}",
             "reg_lambda": f"reg_lambda {training['reg_lambda']:g} ({l2_rule(training)})",
             "batch_size": _batches(training["batch_size"])}
    if training.get("standardize"):
        words["standardize"] = "inputs standardised on the training rows"
    return ", ".join(text for field, text in words.items() if field != varied)


def describe_sources(sources):
    """(data set, where it came from) lines: each file with its SHA-256, or the stand-in."""
    lines = []
    for name, source in (sources or {}).items():
        if "built_in" in source:
            lines.append((DATA_TITLES.get(name, name),
                           f"built-in stand-in, {source['built_in']}; {STAND_IN_WARNING}"))
        for record in source.get("files", []):
            also = f" (for {record['for']})" if "for" in record else ""
            lines.append((DATA_TITLES.get(name, name),
                          f"{record['path']}{also}, {record['bytes']} bytes, "
                          f"sha256 {record['sha256']}"))
    return lines


# ----- the sections ----------------------------------------------------------------------

def header(results):
    parts = [f"# {TITLE}"]
    if results["quick"]:
        parts.append("> **Quick run: a smoke test, not for submission.** Epochs and sweeps are "
                     "shortened below the assignment's minimum, so the numbers only show that "
                     "every part runs; no conclusions are drawn from them.")
    parts.append(f"Generated by mlplab {results['mlplab_version']} (`mlplab run`, seed "
                 f"{results['seed']}). Every number below is in results.json; every sentence "
                 "about what the results show is computed from them, and the facts behind it "
                 "are under `findings` there.")
    sources = results.get("data") or {}
    stand_ins = [name for name, source in sources.items() if "built_in" in source]
    if stand_ins:
        parts.append("> **Built-in stand-in data.** " + " ".join(
            f"{DATA_TITLES[name]}: {sources[name]['built_in']}." for name in stand_ins)
            + f" This is {STAND_IN_WARNING}.")
    rows = [[DATA_TITLES.get(name, name), _code(record["path"])
             + (f" (for {record['for']})" if "for" in record else ""),
             record["bytes"], _code(record["sha256"])]
            for name, source in sources.items() for record in source.get("files", [])]
    if rows:
        parts.append("The course's files this run read:\n\n"
                     + table(["data set", "file", "bytes", "SHA-256"], rows))
    if not sources:
        parts.append("Where the data came from was not recorded: the run was given data "
                     "without its sources.")
    return parts


def q1_2_derivation():
    """Q1.2's derivation by the chain rule, step by step (Markdown with $...$ formulas)."""
    path = importlib.resources.files(__package__).joinpath("q1_2_derivation.md")
    return path.read_text(encoding="utf-8").strip()


def q1_section(q1):
    g = q1["gradients"]
    return [
        "## Q1 Written problems", "### Q1.1 Forward pass",
        f"The 2-3-1 network of the assignment (w1 = {Q1['W1']}, b1 = {Q1['b1']}, w2 = "
        f"{Q1['W2']}, b2 = {Q1['b2']}, input {Q1['input']}), computed by mlplab's Layer and "
        "Network, with $z^{(1)} = w^{(1)T} a^{(0)} + b^{(1)T}$ and $a^{(1)} = \\sigma(z^{(1)})$, "
        "then the same for the second layer:",
        table(["step", "value"], [["z1 = w1^T a0 + b1", _vector(q1["z1"])],
                                  ["a1 = sigmoid(z1)", _vector(q1["a1"])],
                                  ["z2 = w2^T a1 + b2", _vector(q1["z2"])],
                                  ["a2 = sigmoid(z2)", _vector(q1["a2"], 6)]]),
        f"**The network output is {q1['output']:.4f}** (4 decimals).",
        "### Q1.2 Backward propagation", q1_2_derivation(),
        f"**Numeric check** for y_true = {q1['y_true']:g}: the formulas of steps 1 to 6 and the "
        "network's backpropagation differ by at most "
        f"{q1['formula_max_abs_difference']:.1e} (absolute), and backpropagation agrees with "
        f"central differences to a relative error of {q1['gradcheck_relative_error']:.1e}.",
        table(["gradient", "shape", "value"],
              [[f"dL/d{name[1:]}", "x".join(map(str, np.shape(g[name]))),
                str(np.round(g[name], 6).tolist())] for name in ("dW2", "db2", "dW1", "db1")]),
    ]


def q2_5_section(q2_5, figures):
    loss = q2_5["loss"]
    return ["## Q2.5 Test model",
            f"The assignment's snippet: iris (first 100 rows, 2 features), 2-4-1 sigmoid "
            f"network, L2 loss, {len(loss)} epochs at learning rate "
            f"{q2_5['config']['learning_rate']:g}. The loss falls from {loss[0]:.6f} to "
            f"{loss[-1]:.6f}; strictly decreasing at every epoch: "
            f"{'yes' if q2_5['strictly_decreasing'] else 'no'}.",
            figure(figures["q2_5_loss"], "Q2.5 training loss")]


def _metrics_row(label, record):
    return [label] + [_f(record[m]) for m in METRICS]


def q3_section(results, figures):
    parts = ["## Q3 Dataset 1: stratified cross-validation",
             "Each subset is split by StratifiedKFold(n_splits, shuffle=True, random_state=seed) "
             "(n_splits as each study says); a fresh network is trained per fold. Two accuracies "
             "are called different only when they differ by more than two standard errors of "
             "their difference. The confusion matrix is "
             "accumulated over the folds; accuracy, precision, recall and F1 (positive class: "
             "the larger label) are averaged over the folds. A fold where a class is never "
             f"predicted scores its precision as {results['zero_division']}. LogisticRegression "
             "on the same folds is the linear baseline."]
    for name, result in results["q3"].items():
        config = result["config"]
        parts += [
            f"### {config['title']}",
            f"{config['n_splits']}-fold cross-validation of a "
            f"{describe_training(config['training'], 2, 1)}. Why: {config['why']}",
            "Confusion matrix (rows: true label; columns: predicted label), accumulated over "
            f"the folds of all {result['n_samples']} samples:",
            table(["", *(f"predicted {label}" for label in result["labels"])],
                  [[f"true {label}", *row]
                   for label, row in zip(result["labels"], result["confusion_matrix"])]),
            *(f"{metric.capitalize() if metric != 'f1' else 'F1'}: {_f(result[metric])}"
              for metric in METRICS),
            table(["", *METRICS],
                  [_metrics_row(f"fold {i}", fold) for i, fold in enumerate(result["folds"], 1)]
                  + [_metrics_row("network, mean", result),
                     _metrics_row("LogisticRegression, mean", result["baseline"])]),
            figure(figures[f"q3_{name}_boundary"],
                   f"{config['title']}: decision boundary of the fold-1 network"),
            figure(figures[f"q3_{name}_losses"], f"{config['title']}: training loss per fold"),
            figure(figures[f"q3_{name}_confusion"],
                   f"{config['title']}: accumulated confusion matrix"),
        ]
        if not results["quick"]:
            parts.append("**What this shows.** " + cross_validation_discussion(
                result, results["findings"]["q3"][name]))
    return parts


def cross_validation_discussion(result, facts):
    n, fit = result["n_samples"], result["linear_fit"]
    if fit["separable"]:
        text = (f"A line separates the classes: a linear program finds a line with all {n} "
                "points on their own side. ")
    else:
        text = (f"No line separates the classes (a linear program finds none); "
                f"LogisticRegression with almost no regularisation, fitted to all {n} points, "
                f"misclassifies {fit['errors']} of them (accuracy {_f(fit['accuracy'])}). ")
    difference, k = facts["accuracy_over_baseline"], len(result["folds"])
    if facts["told_apart_from_baseline"]:
        text += (f"The network's mean accuracy is {_f(abs(difference))} "
                 f"{'above' if difference > 0 else 'below'} LogisticRegression's")
    else:
        text += ("The network's mean accuracy and LogisticRegression's lie within two standard "
                 "errors of each other")
    text += (f" ({_f(result['accuracy'])} against {_f(result['baseline']['accuracy'])}); the "
             f"network is ahead in {facts['folds_ahead_of_baseline']} of the {k} folds and "
             f"behind in {facts['folds_behind_baseline']}.")
    if facts["rarest_class_share"] < 0.2:
        label = facts["rarest_class"]
        text += (f" Class {label} is rare ({_f(facts['rarest_class_share'])} of the samples), "
                 "so look at it on its own: the network finds "
                 f"{_f(facts['rarest_class_recall'])} of the class-{label} samples (its recall, "
                 "from the accumulated confusion matrix).")
    return text


def q4_section(results, figures):
    q4, baseline = results["q4"], results["q4_baseline"]
    if not q4:
        return []
    any_sweep = next(iter(q4.values()))
    n_input, n_output = any_sweep["layers"][0][0], any_sweep["layers"][0][-1]
    parts = ["## Q4 Dataset 2: handwritten digits",
             f"Train on the training subset ({any_sweep['n_test']} test samples), score on the "
             f"test subset. Held fixed while one setting varies: "
             f"{describe_training(baseline, n_input, n_output)}. Precision, recall and F1 are "
             f"macro-averaged over the {n_output} classes. The highest test accuracy of a sweep "
             "is chosen on the test set, so it is optimistic: it is the best of several tries "
             "on the same test digits. Two accuracies are called different only when they "
             "differ by more than two standard errors of their difference."]
    for name, sweep in q4.items():
        config = sweep["config"]
        param = config["param"]
        structure = param == "hidden"
        values = setting_labels(sweep)
        parts += [f"### {config['title']}"] + ([config["why"]] if config["why"] else [])
        if config["base"] != baseline:
            parts.append("Held fixed in this sweep instead: "
                         f"{describe_training(config['base'], n_input, n_output, param)}.")
        rows = [[value, *([sweep["n_parameters"][i]] if structure else []),
                 *(_f(sweep[m][i]) for m in METRICS), _f(sweep["train_accuracy"][i]),
                 "-" if sweep["diverged_at"][i] is None else f"epoch {sweep['diverged_at'][i] + 1}"]
                for i, value in enumerate(values)]
        parts += [
            f"{'layers' if structure else param} = {', '.join(values)}",
            f"```\n{score_lists(sweep)}\n```",
            table(["layers" if structure else param, *(["parameters"] if structure else []),
                   *METRICS, "train accuracy", "diverged at"], rows),
            figure(figures[f"q4_{name}_metrics"], f"{config['title']}: test scores per setting"),
            figure(figures[f"q4_{name}_losses"], f"{config['title']}: train (solid) and test "
                   "(dashed) loss per epoch"),
        ]
        if not results["quick"]:
            parts.append("**What this shows.** " + sweep_discussion(
                sweep, results["findings"]["q4"][name]))
    return parts


def _best(sweep, facts):
    best, tied = facts["best"], facts["tied_with_best"]
    also = f", tied with {', '.join(setting_name(sweep, i) for i in tied)}" if tied else ""
    return (f"The highest test accuracy is {_f(sweep['accuracy'][best])} at "
            f"{setting_name(sweep, best)}{also} (optimistic: chosen on the test set).")


def sweep_discussion(sweep, facts):
    """The sentences of one sweep that its numbers support, `_best` first. Two accuracies are
    compared only when they differ by more than two standard errors (`findings`)."""
    text = [_best(sweep, facts)]
    if len(facts["diverged"]) == len(sweep["values"]):
        return text[0] + (" Every setting diverged: training stopped on a non-finite step, and "
                          "each was scored with its last finite weights.")
    if len(sweep["values"]) < 2:
        return text[0]
    if facts["all_within_noise"]:
        text.append("Every setting's test accuracy lies within two standard errors of the "
                    "highest: this sweep does not tell them apart.")
    param = sweep["config"]["param"]
    discussion = {"epochs": _epochs_discussion, "learning_rate": _learning_rate_discussion,
                  "reg_lambda": _regularization_discussion, "hidden": _structure_discussion,
                  "label_smoothing": _smoothing_discussion}.get(param)
    if discussion is not None:
        text += discussion(sweep, facts)
    return " ".join(text)


def _epochs_discussion(sweep, facts):
    values, accuracy = sweep["values"], sweep["accuracy"]
    smallest, longest = facts["smallest"], facts["largest"]
    text = []
    if facts["under_fitting"]:
        text.append(f"With {values[smallest]} epoch(s) the test accuracy is "
                    f"{_f(accuracy[smallest])} (train {_f(sweep['train_accuracy'][smallest])}): "
                    "under-fitting.")
    if facts["over_fitting"]:
        text.append(f"In the {values[longest]}-epoch run the test loss is lowest at epoch "
                    f"{facts['lowest_test_loss_epoch']} and stays higher, by a fraction "
                    f"{_f(facts['test_loss_rise'])} or more, through the last tenth of the "
                    f"epochs, while the training loss falls by a further "
                    f"{_f(facts['train_loss_fall_after'])}: over-fitting, in the loss.")
    if facts["largest_below_best"]:
        text.append(f"The test accuracy of the longest run ({_f(accuracy[longest])}) is below "
                    "the highest by more than two standard errors.")
    else:
        text.append(f"The test accuracy of the longest run ({_f(accuracy[longest])}) is not "
                    "lower than the highest by more than two standard errors.")
    return text


def _learning_rate_discussion(sweep, facts):
    values, accuracy = sweep["values"], sweep["accuracy"]
    smallest, largest = facts["smallest"], facts["largest"]
    text = []
    if facts["too_slow"]:
        text.append(f"The smallest rate, {values[smallest]:g}, reaches only "
                    f"{_f(accuracy[smallest])} and a higher training loss in the same epochs: "
                    "too slow.")
    if facts["overshoots"]:
        why = ("training diverged" if largest in facts["diverged"]
               else "its training loss ends higher too")
        text.append(f"The largest, {values[largest]:g}, falls back to "
                    f"{_f(accuracy[largest])} ({why}): it overshoots.")
    elif facts["largest_below_best"]:
        text.append(f"The largest, {values[largest]:g}, scores {_f(accuracy[largest])}, below "
                    "the highest by more than two standard errors.")
    elif facts["largest_alone_best"]:
        text.append("The largest rate is the best: in this range no step overshot.")
    return text


def _regularization_discussion(sweep, facts):
    values, train = sweep["values"], sweep["train_accuracy"]
    weakest, strongest = facts["smallest"], facts["largest"]
    gap = facts["train_test_gap"]
    text = [f"The gap between training and test accuracy is {_f(gap[weakest])} at reg_lambda "
            f"{values[weakest]:g} and {_f(gap[strongest])} at {values[strongest]:g}."]
    if facts["fit_lost"]:
        text.append(f"At {values[strongest]:g} the model no longer fits even the training data "
                    f"(train accuracy {_f(train[strongest])} against {_f(train[weakest])}): too "
                    "much.")
    else:
        text.append(f"At {values[strongest]:g} the training accuracy ({_f(train[strongest])}) "
                    f"stays within 0.05 of that at {values[weakest]:g} "
                    f"({_f(train[weakest])}): this range does not stop the model fitting.")
    if strongest in facts["diverged"]:
        text.append(f"Training at {values[strongest]:g} diverged.")
    return text


def _structure_discussion(sweep, facts):
    accuracy, params, layers = sweep["accuracy"], sweep["n_parameters"], sweep["layers"]
    loss = facts["final_loss"]
    test_loss = [final_value(curve) for curve in sweep["test_loss"]]
    small, large = int(np.argmin(params)), int(np.argmax(params))
    text = [f"From {params[small]} parameters (layers {layers_label(layers[small])}) to "
            f"{params[large]} ({layers_label(layers[large])}) the test accuracy goes from "
            f"{_f(accuracy[small])} to {_f(accuracy[large])}, the final training loss from "
            f"{_f(loss[small])} to {_f(loss[large])} and the final test loss from "
            f"{_f(test_loss[small])} to {_f(test_loss[large])}."]
    if facts["diverged"]:
        text.append("Training diverged for layers "
                    + ", ".join(layers_label(layers[i]) for i in facts["diverged"])
                    + "; the comparisons below leave them out.")
    trend = facts["parameter_trend"]
    if trend is not None:
        text.append({1: "Over all structures, more parameters score higher.",
                     -1: "Over all structures, more parameters score lower.",
                     0: "Over all structures, the test accuracy does not clearly follow the "
                        "parameter count."}[trend])
    deep, shallow = facts["best_deep"], facts["best_shallow"]
    if deep is not None and shallow is not None:
        verdict = ("within two standard errors of each other: this run does not tell them "
                   "apart" if not facts["depth_told_apart"] else
                   "deeper is better here" if accuracy[deep] > accuracy[shallow]
                   else "deeper is worse here")
        text.append(f"Depth: the best network with more than one hidden layer "
                    f"({layers_label(layers[deep])}, {params[deep]} parameters) scores "
                    f"{_f(accuracy[deep])}, the best with at most one "
                    f"({layers_label(layers[shallow])}, {params[shallow]} parameters) "
                    f"{_f(accuracy[shallow])} (both chosen on the test set): {verdict}.")
    return text


def _smoothing_discussion(sweep, facts):
    if "difference" not in facts:
        return []
    values, accuracy = sweep["values"], sweep["accuracy"]
    none, smoothed = facts["unsmoothed"], facts["best_smoothed"]
    verdict = ("more than two standard errors of the difference (though the smoothed setting "
               "is the best of several, chosen on the test set)" if facts["told_apart"]
               else "within two standard errors of the difference: this run does not tell "
               "them apart")
    return [f"The best smoothed setting, s = {values[smoothed]:g}, scores "
            f"{_f(accuracy[smoothed])} against {_f(accuracy[none])} without smoothing, a "
            f"difference of {_f(facts['difference'])}, {verdict}."]


def q5_section(results):
    """Q5's answers, with this run's numbers."""
    q1, q3, q4 = results["q1"], results["q3"], results["q4"]
    found = [f"a cross-validated accuracy of {_f(r['accuracy'])} in {r['config']['title']} "
             f"(LogisticRegression: {_f(r['baseline']['accuracy'])})" for r in q3.values()]
    if q4:
        name, i = max(((name, i) for name, sweep in q4.items()
                       for i in range(len(sweep["values"]))),
                      key=lambda pair: q4[pair[0]]["accuracy"][pair[1]])
        found.append(f"a highest test accuracy of {_f(q4[name]['accuracy'][i])} on the digits "
                     f"({setting_name(q4[name], i)}; optimistic: chosen on the test set)")
    parts = ["## Q5 Follow-up questions", "### Q5.1 Workflow",
             "A sample is a row of features. The network passes it through its layers (forward "
             "propagation) and reads the output layer: with one sigmoid output unit (dataset 1) "
             "the label is the larger of the two labels when the output exceeds 0.5, else the "
             "smaller; with a softmax output (dataset 2) it is "
             "the class of the largest probability. Training repeats forward and backward "
             "propagation and a gradient step, epoch after epoch."
             + (f" In this run that gave {'; '.join(found)}." if found else ""),
             "### Q5.2 Forward propagation",
             "Each layer multiplies its input rows by its weight matrix, adds its biases and "
             "applies its activation: Z = A_prev @ W + b, A = f(Z); the output of one layer is "
             "the input of the next. All samples of a batch go through together as the rows of "
             f"one matrix. For the Q1.1 network, input {Q1['input']} gives z1 = "
             f"{_vector(q1['z1'])}, a1 = {_vector(q1['a1'])}, z2 = {_vector(q1['z2'])} and the "
             f"output {q1['output']:.4f}.",
             "### Q5.3 Backward propagation",
             "Backward propagation applies the chain rule from the loss back to every weight "
             "(Q1.2 shows each step). The error at the output's pre-activation, delta = dL/dz, is "
             "the loss derivative times the activation derivative (for softmax with "
             "cross-entropy simply prediction minus target). Each layer's weight gradient is its "
             "input transposed times its delta, the bias gradient is the sum of delta over the "
             "samples, and the delta of the layer before is delta @ W^T times that layer's "
             "activation derivative. The gradients are averaged over the samples, the L2 term is "
             f"added ({l2_rule(results['q4_baseline'] or results['q2_5']['config'])}), and "
             "every weight takes a step of "
             "-learning_rate times its gradient. In this run the Q1 gradients from "
             "backpropagation match the closed-form Q1.2 formulas to "
             f"{q1['formula_max_abs_difference']:.1e} and central differences to a relative "
             f"error of {q1['gradcheck_relative_error']:.1e}.",
             "### Q5.4 Epochs, learning rate and regularization"]
    theory = {"epochs": "**Epochs.** In theory too few epochs leave the model under-fitted "
                        "and too many let it over-fit the training data.",
              "learning_rate": "**Learning rate.** A small step learns slowly; a large one "
                               "overshoots the minimum, oscillates or diverges.",
              "reg_lambda": "**Regularization.** Too little does not prevent over-fitting; too "
                            "much keeps the weights too small to learn."}
    for name, text in theory.items():
        if name not in q4:
            continue
        if results["quick"]:
            parts.append(f"{text} A quick run's shortened sweeps cannot say whether it happens.")
        else:
            parts.append(f"{text} What this run shows: "
                         + sweep_discussion(q4[name], results["findings"]["q4"][name]))
    return parts


def build(results, figures):
    """The report as Markdown, in the assignment's order."""
    parts = (header(results) + q1_section(results["q1"])
             + q2_5_section(results["q2_5"], figures) + q3_section(results, figures)
             + q4_section(results, figures) + q5_section(results))
    return "\n\n".join(parts) + "\n"


# ----- HTML and PDF ----------------------------------------------------------------------

STYLE = (pathlib.Path(__file__).with_name("report.css")).read_text(encoding="utf-8")


def _formula_png(latex, display):
    """A formula drawn by matplotlib's mathtext (a LaTeX subset): (PNG bytes, black on
    transparent; pixels below the baseline), or None if it cannot be parsed."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser
    from PIL import Image

    try:
        drawn = MathTextParser("agg").parse(f"${latex}$", dpi=130 if display else 100,
                                            prop=FontProperties(size=10))
    except ValueError:
        return None
    coverage = np.asarray(drawn.image)
    pixels = np.zeros((*coverage.shape, 4), dtype=np.uint8)
    pixels[..., 3] = coverage
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="png")
    return buffer.getvalue(), drawn.depth


def _data_uri(png_bytes):
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def to_html(markdown, folder):
    """One HTML file of `markdown`, its figures (paths relative to `folder`) and formulas
    embedded."""
    import html

    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    def formula(latex, options):
        drawn = images.get((latex.strip(), options["display_mode"]))
        if drawn is None:
            return f"<code>{html.escape(latex)}</code>"
        png, depth = drawn   # the image's baseline on the text's
        return (f"<img class='math{' display' if options['display_mode'] else ''}' "
                f"style='vertical-align: -{depth:g}px' src='{_data_uri(png)}' "
                f"alt='{html.escape(latex, quote=True)}'>")

    images = {}
    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(
        dollarmath_plugin, double_inline=True, renderer=formula)
    tokens = md.parse(markdown)
    wanted = sorted({(t.content.strip(), t.type == "math_block") for t in _walk(tokens)
                     if t.type in ("math_inline", "math_block")})
    images.update((key, _formula_png(*key)) for key in wanted)
    for i, token in enumerate(tokens):
        children = token.children or []
        if token.type == "inline" and children and children[0].type == "image":
            # A paragraph that starts with an image is a figure; the rest is its caption.
            tokens[i - 1].tag = tokens[i + 1].tag = "figure"
            children[0].attrs["src"] = _data_uri((pathlib.Path(folder)
                                                  / children[0].attrs["src"]).read_bytes())
            caption = [c for c in children[1:] if c.type != "softbreak"]
            token.children = [children[0], _html_token("<figcaption>"), *caption,
                              _html_token("</figcaption>")]
    body = md.renderer.render(tokens, md.options, {})
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta "
            f"name='viewport' content='width=device-width, initial-scale=1'><title>{TITLE}"
            f"</title><style>{STYLE}</style></head><body>\n{body}</body></html>\n")


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _html_token(text):
    from markdown_it.token import Token
    token = Token("html_inline", "", 0)
    token.content = text
    return token


def pdf_engine():
    """WeasyPrint's HTML class where the `pdf` extra is installed, else None."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):   # OSError: installed without the system's Pango
        return None
    return HTML


def write_report(results, figures, out_dir):
    """Write report.md, report.html and, where WeasyPrint is installed, report.pdf into
    `out_dir` (the figures already in its figures/); returns (the names written, a note
    saying why report.pdf was not written, or None)."""
    out_dir = pathlib.Path(out_dir)
    markdown = build(results, figures)
    (out_dir / "report.md").write_text(markdown, encoding="utf-8")
    page = to_html(markdown, out_dir)
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    written = ["report.md", "report.html"]
    engine = pdf_engine()
    if engine is None:
        return written, None
    try:
        engine(string=page).write_pdf(out_dir / "report.pdf")
    except Exception as exc:   # WeasyPrint's failures share no base class; the rest stands
        (out_dir / "report.pdf").unlink(missing_ok=True)
        return written, f"report.pdf not written ({type(exc).__name__}: {exc}); print " \
            "report.html from a browser instead"
    return [*written, "report.pdf"], None
