"""Figures of a run, drawn from its results (never trains; the decision boundary evaluates the
saved fold-1 model file on a grid).

Uses matplotlib's object-oriented API (``Figure``), so no GUI backend is ever needed. Each
setting of a sweep keeps one colour in all of the sweep's figures; legends sit outside the
data; a sweep's loss curves are small multiples, one panel per setting.
"""

import pathlib

import numpy as np

from .. import _model_file
from .. import _parallel as parallel
from .configs import METRICS, fold1_model, setting_labels


def _figure(figsize, layout="constrained"):
    from matplotlib.figure import Figure
    return Figure(figsize=figsize, layout=layout)


def _save(fig, path):
    """Write `fig` to `path` and return the file's name; with no path, return the figure
    (a notebook displays it)."""
    if path is None:
        return fig
    fig.savefig(path, dpi=100)
    return path.name


def _legend_outside(ax, **options):
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small", **options)


def loss_curve(loss, title, path):
    fig = _figure((5, 3.2))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(loss) + 1), loss)
    ax.set(title=title, xlabel="Epoch", ylabel="mean training loss")
    return _save(fig, path)


def fold_losses(result, title, path):
    fig = _figure((6, 3.2))
    ax = fig.subplots()
    for number, fold in enumerate(result["folds"], start=1):
        ax.plot(np.arange(1, len(fold["loss"]) + 1), fold["loss"], label=f"fold {number}")
    ax.set(title=title, xlabel="Epoch", ylabel="mean training loss", yscale="log")
    ax.minorticks_off()
    _legend_outside(ax)
    return _save(fig, path)


def decision_boundary(model_path, X, y, title, path):
    """The saved network evaluated on a grid over the data, with every point of the data set."""
    net, extra, _ = _model_file.load_network(model_path)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 250)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 250)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    if extra.get("input_mean") is not None:   # the scaler fitted on the fold's training rows
        grid = (grid - np.array(extra["input_mean"])) / np.array(extra["input_scale"])
    output = net.forward(grid)[-1][:, 0].reshape(len(ys), len(xs))
    fig = _figure((6, 4))
    ax = fig.subplots()
    filled = ax.contourf(xs, ys, output, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xs, ys, output, levels=[0.5], colors="k", linewidths=1.5)
    for label, marker in zip(np.unique(y), "os"):
        ax.scatter(*X[y == label].T, s=8, marker=marker, edgecolors="k", linewidths=0.3,
                   label=f"class {label}")
    fig.colorbar(filled, ax=ax, label="network output", location="left", pad=0.12)
    ax.set(title=title, xlabel="x1", ylabel="x2")
    _legend_outside(ax)
    return _save(fig, path)


def confusion_heatmap(matrix, labels, title, path):
    matrix = np.array(matrix)
    fig = _figure((3.8, 3.2))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(title=title, xlabel="predicted label", ylabel="true label")
    ax.set_xticks(range(len(matrix)), labels)
    ax.set_yticks(range(len(matrix)), labels)
    fig.colorbar(image, ax=ax, label="samples")
    return _save(fig, path)


def _colour(i):
    return f"C{i % 10}"


def sweep_metrics(sweep, title, path):
    """The test scores per setting (settings evenly spaced, in the sweep's order; for
    structures, placed at their parameter count on a log scale)."""
    labels = setting_labels(sweep)
    fig = _figure((6.5, 3.4))
    ax = fig.subplots()
    structure = sweep["config"]["param"] == "hidden"
    positions = np.array(sweep["n_parameters"]) if structure else np.arange(len(labels))
    # Shades of grey and markers for the scores: the colours name the settings.
    for metric, shade, marker in zip(METRICS, ("black", "0.35", "0.55", "0.7"), "osD^"):
        ax.plot(positions, sweep[metric], marker=marker, color=shade, label=metric)
    ax.plot(positions, sweep["train_accuracy"], marker="x", linestyle="--", color="0.5",
            label="train accuracy")
    if structure:
        ax.set(xscale="log", xlabel="parameters (log scale); labels: layer sizes")
        for i, (x, label, score) in enumerate(zip(positions, labels, sweep["accuracy"])):
            ax.annotate(label, (x, score), textcoords="offset points", ha="center",
                        xytext=(0, -14 if i % 2 else 10), fontsize="x-small")
    else:
        ax.set_xticks(positions, labels, rotation=30 if max(map(len, labels)) > 4 else 0)
        for tick, i in zip(ax.get_xticklabels(), range(len(labels))):
            tick.set_color(_colour(i))   # the setting's colour in the loss panels
        ax.set_xlabel(sweep["config"]["param"])
    # From 0 when some setting fails badly; zoomed in when every setting scores high, so that
    # differences of a point or two show.
    lowest = np.nanmin([sweep[key] for key in (*METRICS, "train_accuracy")])
    bottom = np.floor(10 * lowest - 0.5) / 10 if lowest >= 0.5 else 0.0
    ax.set(title=title, ylabel="score (test: macro)", ylim=(bottom, 1.0 + (1 - bottom) / 50))
    _legend_outside(ax)
    return _save(fig, path)


def sweep_losses(sweep, title, path):
    """Train (solid) and test (dashed) loss per epoch, one panel per setting, shared axes:
    over-fitting shows as a test curve that turns up while its training curve keeps falling."""
    labels = setting_labels(sweep)
    if sweep["config"]["param"] == "epochs":
        # With one seed a shorter run is the start of the longest: draw that one, and mark
        # where each shorter run stopped.
        fig = _figure((6.5, 3.4))
        ax = fig.subplots()
        longest = int(np.argmax([len(curve) for curve in sweep["loss"]]))
        _curves(ax, sweep["loss"][longest], sweep["test_loss"][longest], "black")
        for i, value in enumerate(sweep["values"]):
            ax.axvline(value, color=_colour(i), linewidth=0.8, linestyle=":",
                       label=f"end of the {value}-epoch run")
        ax.set(title=title, xlabel="Epoch (log scale)", ylabel="mean loss", xscale="log")
        ax.minorticks_off()
        _legend_outside(ax)
        return _save(fig, path)
    columns = 3 if len(labels) > 4 else min(2, len(labels))
    rows = -(-len(labels) // columns)
    # Fixed margins (in inches) instead of a layout engine: it would double the drawing time.
    width, height = 2.6 * columns + 0.8, 2.0 * rows + 1.0
    fig = _figure((width, height), layout=None)
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.15 / width, bottom=0.6 / height,
                        top=1 - 0.6 / height, wspace=0.12, hspace=0.35)
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    param = "layers" if sweep["config"]["param"] == "hidden" else sweep["config"]["param"]
    for i, (ax, label) in enumerate(zip(axes, labels)):
        _curves(ax, sweep["loss"][i], sweep["test_loss"][i], _colour(i))
        ax.set_title(f"{param} = {label}", fontsize="small", color=_colour(i))
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    fig.supxlabel("Epoch", y=0.02)
    fig.supylabel("mean loss", x=0.01)
    fig.suptitle(title + " (solid: train, dashed: test)", y=1 - 0.12 / height)
    return _save(fig, path)


def _curves(ax, train, test, colour):
    epochs = np.arange(1, len(train) + 1)
    train, test = (np.array(curve, dtype=float) for curve in (train, test))
    ax.plot(epochs, train, color=colour, label="train")
    ax.plot(epochs, test, color=colour, linestyle="--", label="test")
    finite = np.concatenate([train, test])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if len(finite) and finite.max() / finite.min() > 10:   # values spanning decades
        ax.set_yscale("log")
        ax.minorticks_off()   # hundreds of unlabelled ticks: most of a figure's drawing time


def figure_files(cv_names, sweep_names):
    """{figure key: file name} of the figures a run of these studies draws (Q3's
    cross-validations, Q4's sweeps, by name): what `make_all` writes, known before the run."""
    files = {"q2_5_loss": "q2_5_loss.png"}
    for name in cv_names:
        files.update({f"q3_{name}_{kind}": f"q3_{name}_{kind}.png"
                      for kind in ("losses", "boundary", "confusion")})
    for name in sweep_names:
        files.update({f"q4_{name}_{kind}": f"q4_{name}_{kind}.png"
                      for kind in ("metrics", "losses")})
    return files


def make_all(results, data, out_dir, jobs=1, on_figure=None):
    """Draw every figure of a run into `out_dir`/figures; returns {figure key: file name}, as
    `figure_files` says. The decision boundaries read the model files in `out_dir`/models.

    The figures are independent: with ``jobs > 1`` they are drawn in parallel.
    `on_figure(done, total)` is called as each one is finished.
    """
    out_dir = pathlib.Path(out_dir)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    path = {key: figures_dir / name
            for key, name in figure_files(results["q3"], results["q4"]).items()}
    calls = {"q2_5_loss": (loss_curve, results["q2_5"]["loss"], "Q2.5 training loss",
                           path["q2_5_loss"])}
    for name, result in results["q3"].items():
        title = result["config"]["title"]
        X, y = data[result["config"]["dataset"]]
        calls[f"q3_{name}_losses"] = (fold_losses, result, f"{title}: training loss per fold",
                                      path[f"q3_{name}_losses"])
        calls[f"q3_{name}_boundary"] = (decision_boundary,
                                        out_dir / "models" / f"{fold1_model(name)}.npz",
                                        X, y, f"{title}: fold-1 network",
                                        path[f"q3_{name}_boundary"])
        calls[f"q3_{name}_confusion"] = (confusion_heatmap, result["confusion_matrix"],
                                         result["labels"],
                                         f"{title}\nconfusion matrix (all folds)",
                                         path[f"q3_{name}_confusion"])
    for name, sweep in results["q4"].items():
        title = sweep["config"]["title"]
        calls[f"q4_{name}_metrics"] = (sweep_metrics, sweep, f"{title}: scores",
                                       path[f"q4_{name}_metrics"])
        calls[f"q4_{name}_losses"] = (sweep_losses, sweep, title, path[f"q4_{name}_losses"])
    keys, names = list(calls), [None] * len(calls)
    finished = (enumerate(_draw(*call) for call in calls.values()) if jobs == 1
                else parallel.map_unordered(_draw, list(calls.values()), jobs))
    for done, (index, name) in enumerate(finished, 1):
        names[index] = name
        if on_figure is not None:
            on_figure(done, len(calls))
    return dict(zip(keys, names))


def _draw(function, *args):
    return function(*args)
