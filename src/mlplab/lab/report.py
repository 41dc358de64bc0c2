"""The report of a run: results (and figure files) -> report.md, report.html and report.pdf.

Never trains. The report's words are a Jinja2 template, ``report.md.j2``, filled from the
results dict and its `findings`; this module gives the template its tables and number formats.
The Markdown (it renders on GitHub, formulas as $...$) becomes one self-contained HTML file by
markdown-it-py, every figure and formula embedded as a PNG, so that it opens anywhere offline;
WeasyPrint, where installed (``pip install mlplab[pdf]``), prints that HTML to report.pdf.
"""

import importlib.resources
import pathlib

import numpy as np

from .. import __version__
from .._html import code_span, table, to_html
from .configs import METRICS, layers_label, setting_labels, setting_name
from .findings import final_value

TITLE = "CS640 Homework 2: mlplab's reference answers"
DATA_TITLES = {"linear": "LinearXY (Q3.1)", "nonlinear": "NonLinearXY (Q3.2)",
               "digits": "dataset 2, digits (Q4)"}
STAND_IN_NOTE = "built-in stand-in data: the course's own numbers need --data-dir"
THEORY = {"epochs": "**Epochs.** In theory too few epochs leave the model under-fitted and too "
                    "many let it over-fit the training data.",
          "learning_rate": "**Learning rate.** A small step learns slowly; a large one "
                           "overshoots the minimum, oscillates or diverges.",
          "reg_lambda": "**Regularization.** Too little does not prevent over-fitting; too much "
                        "keeps the weights too small to learn."}


def _f(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _vector(values, digits=4):
    return "[" + ", ".join(_f(v, digits) for v in np.ravel(values)) + "]"


def l2_rule(training):
    """How reg_lambda enters a step, by the config's `reg_convention` (`Network.fit`)."""
    if training.get("reg_convention", "mean") == "mean":
        return ("The L2 term: each step adds reg_lambda * W to the mean gradient, so "
                "J = mean loss + reg_lambda / 2 * sum ||W||^2 (biases are not decayed)")
    return ("The L2 term: each step adds reg_lambda / N * W to the mean gradient of a batch of "
            "N, J = (sum of losses + reg_lambda / 2 * sum ||W||^2) / N")


def describe_sources(sources):
    """(data set, where it came from) lines for the console: each file (relative to the data
    folder) with its SHA-256, or the stand-in's recipe."""
    lines = []
    for name, source in (sources or {}).items():
        if "built_in" in source:
            lines.append((DATA_TITLES.get(name, name),
                          f"built-in stand-in, {source['built_in']} ({STAND_IN_NOTE})"))
        for record in source.get("files", []):
            also = f" (for {record['for']})" if "for" in record else ""
            lines.append((DATA_TITLES.get(name, name), f"{record['path']}{also}, "
                          f"{record['bytes']} bytes, sha256 {record['sha256']}"))
    return lines


def order(sweep):
    """The indices of a sweep's settings as the report lists them: structures by parameter
    count, other settings as the sweep gives them."""
    indices = range(len(sweep["values"]))
    if sweep["config"]["param"] == "hidden":
        return sorted(indices, key=lambda i: sweep["n_parameters"][i])
    return list(indices)


def score_lists(sweep):
    """The assignment's four lists of a Q4 sweep, one line each: "accuracy scores: [...]"."""
    return "\n".join(f"{metric} scores: [{', '.join(_f(sweep[metric][i]) for i in order(sweep))}]"
                     for metric in METRICS)


def _sweep_label(sweep):
    return "layers" if sweep["config"]["param"] == "hidden" else sweep["config"]["param"]


def _sweep_header(sweep):
    structure = sweep["config"]["param"] == "hidden"
    return [_sweep_label(sweep), *(["parameters"] if structure else []), *METRICS,
            "train accuracy", "diverged at"]


def _sweep_rows(sweep, facts):
    labels, best = setting_labels(sweep), {facts["best"], *facts["tied_with_best"]}
    structure = sweep["config"]["param"] == "hidden"
    return [[labels[i] + ("\\*" if i in best and len(labels) > 1 else ""),
             *([sweep["n_parameters"][i]] if structure else []),
             *(_f(sweep[m][i]) for m in METRICS), _f(sweep["train_accuracy"][i]),
             "-" if sweep["diverged_at"][i] is None else f"epoch {sweep['diverged_at'][i] + 1}"]
            for i in order(sweep)]


def _fold_rows(cv):
    row = lambda label, record: [label, *(_f(record[m]) for m in METRICS)]   # noqa: E731
    return ([row(f"fold {i}", fold) for i, fold in enumerate(cv["folds"], 1)]
            + [row("network, mean", cv), row("LogisticRegression, mean", cv["baseline"])])


def _best_digits(q4):
    name, i = max(((name, i) for name, sweep in q4.items()
                   for i in range(len(sweep["values"]))),
                  key=lambda pair: q4[pair[0]]["accuracy"][pair[1]])
    return {"accuracy": q4[name]["accuracy"][i], "name": setting_name(q4[name], i)}


def q1_2_derivation():
    """Q1.2's derivation by the chain rule, step by step (Markdown with $...$ formulas)."""
    path = importlib.resources.files(__package__).joinpath("q1_2_derivation.md")
    return path.read_text(encoding="utf-8").strip()


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader(__package__, "."), undefined=StrictUndefined,
                      extensions=["jinja2.ext.do"], keep_trailing_newline=True,
                      autoescape=False)
    env.filters.update(f4=_f, g=lambda v: f"{v:g}", pct=lambda v: f"{100 * v:.1f}%",
                       vector=_vector, final=final_value, prefix=lambda v, p: f"{p}{v}",
                       label=lambda i, sweep: setting_labels(sweep)[i])
    env.globals.update(table=table, layers=layers_label, setting=setting_name, order=order,
                       score_lists=score_lists, sweep_label=_sweep_label,
                       sweep_header=_sweep_header, sweep_rows=_sweep_rows, fold_rows=_fold_rows,
                       confusion_rows=lambda cv: [[f"true {label}", *row] for label, row in
                                                  zip(cv["labels"], cv["confusion_matrix"])])
    return env


def sentences():
    """The macros of sentences.md.j2 (`discussion(sweep, facts)`, `cv_discussion(cv, facts)`,
    `training(...)`), for a notebook that says what the report says."""
    return _environment().get_template("sentences.md.j2").module


def build(results, figures):
    """The report as Markdown, in the assignment's order; a results dict of another version
    of mlplab is refused (its keys may not be the ones the template reads)."""
    if results.get("mlplab_version") != __version__:
        raise ValueError(f"results.json of mlplab {results.get('mlplab_version')!r}: this is "
                         f"mlplab {__version__}, whose report may read other keys; run "
                         "mlplab run again")
    sources = results.get("data") or {}
    q1, q4 = results["q1"], results["q4"]
    files = [[DATA_TITLES.get(name, name), code_span(record["path"])
              + (f" (for {record['for']})" if "for" in record else ""),
              record["bytes"], code_span(record["sha256"][:12])]
             for name, source in sources.items() for record in source.get("files", [])]
    context = dict(
        title=TITLE, r=results, f=results["findings"], q1=q1, files=files,
        stand_ins=[name for name, source in sources.items() if "built_in" in source],
        data_titles=DATA_TITLES, derivation=q1_2_derivation(),
        l2_rule=l2_rule(results["q4_baseline"] or results["q2_5"]["config"]),
        gradients=[[f"dL/d{name[1:]}", "x".join(map(str, np.shape(q1["gradients"][name]))),
                    str(np.round(q1["gradients"][name], 6).tolist())]
                   for name in ("dW2", "db2", "dW1", "db1")],
        digits=next(iter(q4.values())) if q4 else None,
        best_digits=_best_digits(q4) if q4 else None, q5_theory=THEORY,
        figure=lambda key, caption: f"![{caption}](figures/{figures[key]})\n*{caption}*")
    return _environment().get_template("report.md.j2").render(context).strip() + "\n"


# ----- HTML and PDF ----------------------------------------------------------------------

STYLE = (pathlib.Path(__file__).with_name("report.css")).read_text(encoding="utf-8")


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
    page = to_html(markdown, TITLE, STYLE, out_dir)
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
