"""The report of a run: results (and figure files) -> report.md and a self-contained report.html.

Never trains. The report is first built as a list of blocks (heading, paragraph, table, figure,
formula, code), then rendered twice: as GitHub Markdown (formulas as $$...$$) and as one HTML
file with every figure and formula embedded as a PNG data URI, so it opens anywhere offline.
Every number in the prose comes from the results dict.
"""

import base64
import html
import io
import pathlib

import numpy as np

from .configs import METRICS
from .tasks import run_task_groups


# ----- blocks and their two renderings ---------------------------------------------------

def heading(level, text):
    return ("heading", level, text)


def paragraph(text):
    return ("paragraph", text)


def table(header, rows, text=False):
    """A table; `text`: of words rather than numbers (left-aligned, long words broken)."""
    return ("table", header, rows, text)


def figure(file_name, caption):
    return ("figure", file_name, caption)


def formula(latex):
    return ("formula", latex)


def code(text):
    return ("code", text)


def _markdown_cell(value):
    return str(value).replace("|", "\\|")


def to_markdown(blocks, figures_prefix):
    lines = []
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "paragraph":
            lines += [block[1], ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(map(_markdown_cell, header)) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(map(_markdown_cell, row)) + " |" for row in rows]
            lines.append("")
        elif kind == "figure":
            lines += [f"![{block[2]}]({figures_prefix}{block[1]})", "", f"*{block[2]}*", ""]
        elif kind == "formula":
            lines += ["$$", block[1], "$$", ""]
        elif kind == "code":
            lines += ["```", block[1], "```", ""]
    return "\n".join(lines)


def _formula_png(latex):
    """A formula drawn by matplotlib's mathtext (a LaTeX subset), as PNG bytes; None if it
    cannot be parsed."""
    from matplotlib.mathtext import math_to_image

    buffer = io.BytesIO()
    try:
        math_to_image(f"${latex}$", buffer, dpi=130, format="png")
    except ValueError:
        return None
    return buffer.getvalue()


def _data_uri(png_bytes):
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


HTML_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.6rem; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
table.text td, table.text th { text-align: left; overflow-wrap: anywhere; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
figure { margin: 1rem 0; } figcaption { font-style: italic; color: #555; }
.formula { margin: 0.6rem 0; }
"""


def formula_images(blocks, jobs=1):
    """{latex: PNG bytes or None} for the formulas among `blocks`, drawn by matplotlib.

    With ``jobs > 1`` they are drawn in the worker processes (`tasks.run_task_groups`), which
    load matplotlib for the figures anyway: the main process then never loads it.
    """
    latex = sorted({block[1] for block in blocks if block[0] == "formula"})
    [images] = run_task_groups([("formulas", [(_formula_png, (text,)) for text in latex])],
                               jobs=jobs)
    return dict(zip(latex, images))


def to_html(blocks, figures_dir, title, formulas=None):
    """One HTML file with every figure and formula embedded; `formulas` as `formula_images`
    returns (drawn here if None)."""
    if formulas is None:
        formulas = formula_images(blocks)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{HTML_STYLE}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            parts.append(f"<h{block[1]}>{html.escape(block[2])}</h{block[1]}>")
        elif kind == "paragraph":
            text = html.escape(block[1]).replace("**", "")
            parts.append(f"<p>{text}</p>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                           + "</tr>" for row in block[2])
            style = " class='text'" if block[3] else ""
            parts.append(f"<table{style}><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                         "</table>")
        elif kind == "figure":
            png = (pathlib.Path(figures_dir) / block[1]).read_bytes()
            parts.append(f"<figure><img src='{_data_uri(png)}' alt='{html.escape(block[2])}'>"
                         f"<figcaption>{html.escape(block[2])}</figcaption></figure>")
        elif kind == "formula":
            png = formulas[block[1]]
            if png is None:
                parts.append(f"<pre class='formula'>{html.escape(block[1])}</pre>")
            else:
                parts.append(f"<div class='formula'><img src='{_data_uri(png)}' "
                             f"alt='{html.escape(block[1])}'></div>")
        elif kind == "code":
            parts.append(f"<pre>{html.escape(block[1])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ----- content -----------------------------------------------------------------------------

def _f(value, digits=4):
    return f"{value:.{digits}f}"


def _vector(values, digits=4):
    return "[" + ", ".join(_f(v, digits) for v in np.ravel(values)) + "]"


def _batches(batch_size):
    return "full batch" if batch_size is None else f"mini-batches of {batch_size}"


def score_lists(sweep):
    """The assignment's four lists of a Q4 sweep, one line each: "accuracy scores: [...]"."""
    return "\n".join(f"{metric} scores: [{', '.join(_f(v) for v in sweep[metric])}]"
                     for metric in METRICS)


def _setting(value):
    return "-".join(map(str, value)) if isinstance(value, list) else f"{value:g}"


def q1_blocks(q1):
    blocks = [heading(2, "Q1 Written problems"), heading(3, "Q1.1 Forward pass"),
              paragraph("The 2-3-1 network of the assignment (w1 = [[0.4, 0.6, 0.2], [0.3, 0.9, "
                        "0.5]], b1 = [1, 1, 1], w2 = [0.2, 0.2, 0.8]^T, b2 = 0.5, input [1, 1]), "
                        "computed by mlplab's Layer and Network:"),
              formula(r"z^{(1)} = w^{(1)T} a^{(0)} + b^{(1)T},\quad a^{(1)} = \sigma(z^{(1)}),"
                      r"\quad z^{(2)} = w^{(2)T} a^{(1)} + b^{(2)T},\quad a^{(2)} = \sigma(z^{(2)})"),
              table(["step", "value"], [
                  ["z1 = w1^T a0 + b1", _vector(q1["z1"])],
                  ["a1 = sigmoid(z1)", _vector(q1["a1"])],
                  ["z2 = w2^T a1 + b2", _vector(q1["z2"])],
                  ["a2 = sigmoid(z2)", _vector(q1["a2"], 6)],
              ]),
              paragraph(f"**The network output is {q1['output']:.4f}** (4 decimals)."),
              heading(3, "Q1.2 Backward propagation"),
              paragraph("By the chain rule, with eta the error at the output's pre-activation:")]
    blocks += [formula(latex) for latex in (
        r"\eta = (a^{(2)} - y_{true}) \odot \sigma(z^{(2)}) \odot (1 - \sigma(z^{(2)}))",
        r"\frac{\partial L}{\partial w^{(2)}} = a^{(1)} \cdot \eta^T,\quad "
        r"\frac{\partial L}{\partial b^{(2)}} = \eta^T",
        r"\frac{\partial L}{\partial w^{(1)}} = a^{(0)} \cdot \left((w^{(2)} \cdot \eta) \odot "
        r"\sigma(z^{(1)}) \odot (1 - \sigma(z^{(1)}))\right)^T",
        r"\frac{\partial L}{\partial b^{(1)}} = \left((w^{(2)} \cdot \eta) \odot "
        r"\sigma(z^{(1)}) \odot (1 - \sigma(z^{(1)}))\right)^T")]
    g = q1["gradients"]
    blocks += [
        paragraph(f"Numeric check for y_true = {q1['y_true']:g}: these formulas and the "
                  f"network's backpropagation differ by at most "
                  f"{q1['formula_max_abs_difference']:.1e} (absolute), and backpropagation agrees "
                  f"with central differences to a relative error of "
                  f"{q1['gradcheck_relative_error']:.1e}."),
        table(["gradient", "value"], [["dL/dw1", str(np.round(g["dW1"], 6).tolist())],
                                      ["dL/db1", _vector(g["db1"], 6)],
                                      ["dL/dw2", _vector(g["dW2"], 6)],
                                      ["dL/db2", _vector(g["db2"], 6)]]),
    ]
    return blocks


def q2_5_blocks(q2_5, figures):
    loss = q2_5["loss"]
    return [heading(2, "Q2.5 Test model"),
            paragraph(f"The assignment's snippet: iris (first 100 rows, 2 features), 2-4-1 "
                      f"sigmoid network, L2 loss, {len(loss)} epochs at learning rate "
                      f"{q2_5['config']['learning_rate']:g}. The loss falls from "
                      f"{loss[0]:.6f} to {loss[-1]:.6f}; strictly decreasing: "
                      f"{'yes' if q2_5['strictly_decreasing'] else 'no'}."),
            figure(figures["q2_5_loss"], "Q2.5 training loss")]


def _metrics_row(label, record):
    return [label] + [_f(record[m]) for m in METRICS]


def q3_blocks(q3, figures, zero_division):
    blocks = [heading(2, "Q3 Dataset 1: 5-fold stratified cross-validation"),
              paragraph("Each subset is split by StratifiedKFold(n_splits=5, shuffle=True, "
                        "random_state=seed); a fresh network is trained per fold. The confusion "
                        "matrix is accumulated over the folds; accuracy, precision, recall and F1 "
                        "(positive class: the larger label, 1 for 0/1 labels) are averaged over "
                        "the folds. A fold where a class is "
                        f"never predicted scores its precision as {zero_division} "
                        f"(zero_division={zero_division}). LogisticRegression on the same folds "
                        "is the linear baseline.")]
    for name, result in q3.items():
        config = result["config"]
        training = config["training"]
        structure = "-".join(map(str, [2, *training["hidden"], 1]))
        blocks += [
            heading(3, config["title"]),
            paragraph(f"Network {structure}, {training['activation']} hidden units, "
                      f"{training['output']} output, {training['epochs']} epochs, learning rate "
                      f"{training['learning_rate']:g}, {_batches(training['batch_size'])}. "
                      f"Why: {config['why']}"),
            paragraph("Confusion matrix (rows: true label; columns: predicted label), "
                      f"accumulated over the folds of all {result['n_samples']} samples:"),
            table(["", *(f"predicted {label}" for label in result["labels"])],
                  [[f"true {label}", *row]
                   for label, row in zip(result["labels"], result["confusion_matrix"])]),
            paragraph(f"Accuracy: {_f(result['accuracy'])}"),
            paragraph(f"Precision: {_f(result['precision'])}"),
            paragraph(f"Recall: {_f(result['recall'])}"),
            paragraph(f"F1: {_f(result['f1'])}"),
            table(["", *METRICS],
                  [_metrics_row(f"fold {i}", fold) for i, fold in enumerate(result["folds"], 1)]
                  + [_metrics_row("network, mean", result),
                     _metrics_row("LogisticRegression, mean", result["baseline"])]),
            figure(figures[f"q3_{name}_losses"], f"{config['title']}: training loss per fold"),
            figure(figures[f"q3_{name}_boundary"],
                   f"{config['title']}: decision boundary of the fold-1 network"),
            figure(figures[f"q3_{name}_confusion"],
                   f"{config['title']}: accumulated confusion matrix"),
        ]
    return blocks


def _describe(training, n_input, n_output, varied=None):
    """A Training config (as in results.json) in words, for the report; the `varied` field
    is left out."""
    structure = "-".join(map(str, [n_input, *training["hidden"], n_output]))
    smoothing = training.get("label_smoothing", 0.0)
    targets = f"labels smoothed by {smoothing:g}" if smoothing else "one-hot labels"
    if varied == "label_smoothing":
        targets = "smoothed labels"
    return (f"network {structure}, {training['activation']} hidden units, softmax output with "
            f"cross-entropy on {targets}, {training['epochs']} epochs, learning rate "
            f"{training['learning_rate']:g}, reg_lambda {training['reg_lambda']:g} "
            f"({_l2_rule(training)}), {_batches(training['batch_size'])}")


def _l2_rule(training):
    """How reg_lambda enters a step, by the config's `reg_convention` (`Network.fit`)."""
    if training.get("reg_convention", "mean") == "mean":
        return ("L2 convention \"mean\": each step adds reg_lambda * W to the mean gradient, "
                "J = mean loss + reg_lambda / 2 * sum ||W||^2")
    return ("L2 convention \"sum\": each step adds reg_lambda / N * W to the mean gradient of "
            "a batch of N, J = (sum of losses + reg_lambda / 2 * sum ||W||^2) / N")


def q4_blocks(q4, baseline, figures):
    n_input, n_output = q4["structure"]["values"][0][0], q4["structure"]["values"][0][-1]
    blocks = [heading(2, "Q4 Dataset 2: handwritten digits"),
              paragraph(f"Train on the training subset, score on the test subset. Baseline held "
                        f"fixed while one setting varies: "
                        f"{_describe(baseline, n_input, n_output)}. Precision, recall and F1 "
                        f"are macro-averaged over the {n_output} classes.")]
    for name, sweep in q4.items():
        title = sweep["config"]["title"]
        values = [_setting(v) for v in sweep["values"]]
        lists = score_lists(sweep)
        rows = [[value, *(_f(sweep[m][i]) for m in METRICS), _f(sweep["train_accuracy"][i]),
                 "-" if sweep["diverged_at"][i] is None else f"epoch {sweep['diverged_at'][i]}"]
                for i, value in enumerate(values)]
        blocks.append(heading(3, title))
        if sweep["config"].get("note"):
            blocks.append(paragraph(sweep["config"]["note"]))
        base, param = sweep["config"]["base"], sweep["config"]["param"]
        if base != baseline:
            blocks.append(paragraph("Held fixed in this sweep instead of the baseline: "
                                    f"{_describe(base, n_input, n_output, param)}."))
        blocks += [
            paragraph(f"{sweep['config']['param']} = {', '.join(values)}"),
            code(lists),
            table([sweep["config"]["param"], *METRICS, "train accuracy", "diverged"], rows),
            figure(figures[f"q4_{name}_metrics"], f"{title}: test scores per setting"),
            figure(figures[f"q4_{name}_losses"], f"{title}: train and test loss per epoch"),
        ]
    return blocks


def _extremes(sweep, metric="accuracy"):
    scores = sweep[metric]
    best = int(np.argmax(scores))
    return scores, best


def q5_blocks(results):
    """Q5's answers, written from this run's numbers."""
    q3, q4, q1 = results["q3"], results["q4"], results["q1"]
    linear, nonlinear = q3["linear"], q3["nonlinear"]
    best = max(((name, i, sweep["accuracy"][i]) for name, sweep in q4.items()
                for i in range(len(sweep["values"]))), key=lambda t: t[2])
    best_sweep = q4[best[0]]
    blocks = [heading(2, "Q5 Follow-up questions"), heading(3, "Q5.1 Workflow")]
    blocks.append(paragraph(
        "A sample is a row of features. The network passes it through its layers (forward "
        "propagation) and reads the output layer: with one sigmoid output unit (dataset 1) the "
        "label is 1 when the output exceeds 0.5; with a softmax output (dataset 2) it is the "
        "class of the largest probability. Training repeats forward and backward propagation "
        "and a gradient step, epoch after epoch, until the loss is low. In this run that gave a "
        f"cross-validated accuracy of {linear['accuracy']:.4f} on LinearXY (LogisticRegression: "
        f"{linear['baseline']['accuracy']:.4f}), {nonlinear['accuracy']:.4f} on NonLinearXY "
        f"(LogisticRegression: {nonlinear['baseline']['accuracy']:.4f}), and a best test "
        f"accuracy of {best[2]:.4f} on the digits ({best_sweep['config']['param']} = "
        f"{_setting(best_sweep['values'][best[1]])})."))
    blocks += [heading(3, "Q5.2 Forward propagation"), paragraph(
        "Each layer multiplies its input rows by its weight matrix, adds its biases and applies "
        "its activation: Z = A_prev @ W + b, A = f(Z); the output of one layer is the input of "
        "the next. All samples of a batch go through together as the rows of one matrix. For "
        f"the Q1.1 network, input [1, 1] gives z1 = {_vector(q1['z1'])}, a1 = "
        f"{_vector(q1['a1'])}, z2 = {_vector(q1['z2'])} and the output {q1['output']:.4f}.")]
    blocks += [heading(3, "Q5.3 Backward propagation"), paragraph(
        "Backward propagation applies the chain rule from the loss back to every weight. The "
        "error at the output's pre-activation, delta = dL/dz, is the loss derivative times the "
        "activation derivative (for softmax with cross-entropy simply prediction minus target). "
        "Each layer's weight gradient is its input transposed times its delta, the bias "
        "gradient is the sum of delta over the samples, and the delta of the layer before is "
        "delta @ W^T times that layer's activation derivative. The gradients are averaged over "
        f"the samples, the L2 term is added ({_l2_rule(results['q4_baseline'])}), and every "
        "weight takes a step of -learning_rate times its gradient. In this run the Q1 gradients "
        "from "
        "backpropagation match the closed-form Q1.2 formulas to "
        f"{q1['formula_max_abs_difference']:.1e} and central differences to a relative error "
        f"of {q1['gradcheck_relative_error']:.1e}.")]
    blocks += [heading(3, "Q5.4 Epochs, learning rate and regularization")]
    blocks += _q5_4_paragraphs(q4)
    return blocks


def _q5_4_paragraphs(q4):
    paragraphs = []
    epochs = q4["epochs"]
    values, accuracy, train_accuracy = epochs["values"], epochs["accuracy"], epochs["train_accuracy"]
    best = int(np.argmax(accuracy))
    longest = int(np.argmax(values))
    test_loss = np.asarray(epochs["test_loss"][longest], dtype=float)
    text = ("Epochs. In theory too few epochs leave the model under-fitted and too many let it "
            "over-fit the training data. Here, ")
    if best != 0:
        text += (f"with {values[0]} epoch(s) the test accuracy is {accuracy[0]:.4f} "
                 f"(train {train_accuracy[0]:.4f}), which is under-fitting; it rises to "
                 f"{accuracy[best]:.4f} at {values[best]} epochs. ")
    else:
        text += f"already {values[0]} epoch(s) give the best test accuracy, {accuracy[0]:.4f}. "
    if np.isfinite(test_loss).any():
        lowest = int(np.nanargmin(test_loss))
        if lowest < len(test_loss) - 1 and test_loss[-1] > test_loss[lowest]:
            text += (f"In the {values[longest]}-epoch run the test loss is lowest at epoch "
                     f"{lowest + 1} ({test_loss[lowest]:.4f}) and ends at {test_loss[-1]:.4f} "
                     f"while the training loss falls to {epochs['loss'][longest][-1]:.4f}: the "
                     "start of over-fitting. ")
    if accuracy[longest] < accuracy[best]:
        text += (f"The test accuracy at {values[longest]} epochs ({accuracy[longest]:.4f}) is "
                 "below the best, as the theory predicts.")
    else:
        text += (f"The test accuracy itself does not drop at {values[longest]} epochs "
                 f"({accuracy[longest]:.4f}): over-fitting shows in the loss before it shows in "
                 "the accuracy, if at all.")
    paragraphs.append(paragraph(text))

    rates = q4["learning_rate"]
    values, accuracy = rates["values"], rates["accuracy"]
    best, last = int(np.argmax(accuracy)), len(values) - 1
    text = "Learning rate. A small step learns slowly; a large one overshoots. Here, "
    if best == 0:
        text += f"the smallest, {values[0]:g}, is already the best ({accuracy[0]:.4f}); "
    else:
        text += (f"the smallest, {values[0]:g}, reaches only {accuracy[0]:.4f} test accuracy in "
                 f"the same epochs; ")
    if 0 < best < last:
        text += f"{values[best]:g} is best with {accuracy[best]:.4f}; "
    diverged = [v for v, d in zip(values, rates["diverged_at"]) if d is not None]
    if best == last:
        text += (f"and the largest, {values[last]:g}, is best ({accuracy[last]:.4f}): in this "
                 "range no step overshot.")
    else:
        text += (f"and the largest, {values[last]:g}, falls back to {accuracy[last]:.4f}"
                 + (f" (training diverged at learning rate "
                    f"{', '.join(f'{v:g}' for v in diverged)})" if diverged else "")
                 + ": it overshoots.")
    paragraphs.append(paragraph(text))

    regs = q4["reg_lambda"]
    values, accuracy, train_accuracy = regs["values"], regs["accuracy"], regs["train_accuracy"]
    best = int(np.argmax(accuracy))
    text = ("Regularization. Too little does not prevent over-fitting; too much keeps the "
            f"weights too small to learn. Here, reg_lambda {values[0]:g} gives test accuracy "
            f"{accuracy[0]:.4f} with training accuracy {train_accuracy[0]:.4f}; the best is "
            f"{accuracy[best]:.4f} at {values[best]:g}. ")
    if train_accuracy[-1] < train_accuracy[0] - 0.05:
        text += (f"At {values[-1]:g} the model can no longer fit even the training data (train "
                 f"{train_accuracy[-1]:.4f}, test {accuracy[-1]:.4f}): too much.")
    else:
        text += (f"Even at {values[-1]:g} the model still fits the training data (train "
                 f"{train_accuracy[-1]:.4f}): this range does not reach too much.")
    if best == 0:
        text += (" The baseline over-fits little here, so the smallest values are as good as "
                 "none.")
    paragraphs.append(paragraph(text))
    return paragraphs


def build(results, figures):
    """All blocks of the report, in the assignment's order."""
    seed = results["seed"]
    intro = (f"Generated by mlplab {results['mlplab_version']} (`mlplab run`, seed {seed}"
             + (", quick mode: shortened epochs and sweeps" if results["quick"] else "") + "). "
             "Every number below is in results.json. The data each study used:")
    return ([heading(1, "CS640 Homework 2: neural network report"), paragraph(intro),
             data_table(results["data"])]
            + q1_blocks(results["q1"]) + q2_5_blocks(results["q2_5"], figures)
            + q3_blocks(results["q3"], figures, results["zero_division"])
            + q4_blocks(results["q4"], results["q4_baseline"], figures)
            + q5_blocks(results))


def data_table(sources):
    """Where each data set came from (`datasets.load_dataset`'s sources), as a table."""
    titles = {"linear": "LinearXY (Q3.1)", "nonlinear": "NonLinearXY (Q3.2)",
              "digits": "dataset 2, digits (Q4)"}
    rows = []
    for name, source in (sources or {}).items():
        if "built_in" in source:
            rows.append([titles.get(name, name), source["built_in"], "-"])
        for record in source.get("files", []):
            also = f" (for {record['for']})" if "for" in record else ""
            rows.append([titles.get(name, name), f"{record['path']}{also}, {record['bytes']} "
                         "bytes", record["sha256"]])
    if not rows:
        return paragraph("Not recorded: the run was given data without its sources.")
    return table(["data set", "source", "SHA-256"], rows, text=True)


def write_report(results, figures, out_dir, figures_subdir="figures", jobs=1):
    """Write report.md and report.html into `out_dir` (figures already in its subfolder);
    `jobs` as for `formula_images`."""
    out_dir = pathlib.Path(out_dir)
    blocks = build(results, figures)
    (out_dir / "report.md").write_text(to_markdown(blocks, f"{figures_subdir}/"), encoding="utf-8")
    (out_dir / "report.html").write_text(
        to_html(blocks, out_dir / figures_subdir, "CS640 Homework 2 report",
                formula_images(blocks, jobs)), encoding="utf-8")
