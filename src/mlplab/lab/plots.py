"""Figures of a run, drawn from its results (never trains; the decision boundary re-evaluates
the saved fold-1 model on a grid).

Uses matplotlib's object-oriented API (``Figure``), so no GUI backend is ever needed.
matplotlib is imported with the first figure, not with this module: with ``--jobs`` the
figures are drawn in worker processes, and the main process, which imports this module at
start-up, never needs it (about 0.6 s of its start-up, before any training can begin).
"""

import pathlib

import numpy as np

from . import configs
from .configs import METRICS
from .tasks import run_task_groups
from .training import network_for


def _figure(figsize):
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def _save(fig, path):
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path.name


def loss_curve(loss, title, path):
    fig = _figure((5, 3.2))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(loss) + 1), loss)
    ax.set(title=title, xlabel="Epoch", ylabel="mean training loss")
    return _save(fig, path)


def fold_losses(result, title, path):
    fig = _figure((5, 3.2))
    ax = fig.subplots()
    for number, fold in enumerate(result["folds"], start=1):
        ax.plot(np.arange(1, len(fold["loss"]) + 1), fold["loss"], label=f"fold {number}")
    ax.set(title=title, xlabel="Epoch", ylabel="mean training loss")
    ax.legend(fontsize="small")
    return _save(fig, path)


def rebuild(model, training, n_input, n_output):
    """The Network of a record's ``model`` (`runner.score_training`), ready to predict."""
    net = network_for(training, n_input, n_output)
    for layer, W, b in zip(net.layers, model["weights"], model["biases"]):
        layer.weights, layer.biases = np.array(W), np.array(b)
    return net


def decision_boundary(result, X, y, title, path):
    """Fold 1's network evaluated on a grid over the data, with every point of the data set."""
    model = result["folds"][0]["model"]
    training = configs.Training(**{**result["config"]["training"],
                                   "hidden": tuple(result["config"]["training"]["hidden"])})
    net = rebuild(model, training, X.shape[1], 1)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 250)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 250)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    if model["scaler_mean"] is not None:
        grid_in = (grid - np.array(model["scaler_mean"])) / np.array(model["scaler_scale"])
    else:
        grid_in = grid
    output = net.forward(grid_in)[-1][:, 0].reshape(len(ys), len(xs))
    fig = _figure((5, 4))
    ax = fig.subplots()
    filled = ax.contourf(xs, ys, output, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xs, ys, output, levels=[0.5], colors="k", linewidths=1.5)
    for label, marker in zip(np.unique(y), "os"):
        ax.scatter(*X[y == label].T, s=8, marker=marker, edgecolors="k", linewidths=0.3,
                   label=f"class {label}")
    fig.colorbar(filled, ax=ax, label="network output")
    ax.set(title=title, xlabel="x1", ylabel="x2")
    ax.legend(fontsize="small", loc="upper right")
    return _save(fig, path)


def confusion_heatmap(matrix, title, path):
    matrix = np.array(matrix)
    fig = _figure((3.6, 3.2))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(title=title, xlabel="predicted label", ylabel="true label",
           xticks=range(len(matrix)), yticks=range(len(matrix)))
    fig.colorbar(image, ax=ax)
    return _save(fig, path)


def _setting_labels(sweep):
    return ["-".join(map(str, v)) if isinstance(v, list) else f"{v:g}" for v in sweep["values"]]


def sweep_metrics(sweep, title, path):
    labels = _setting_labels(sweep)
    fig = _figure((5.5, 3.4))
    ax = fig.subplots()
    positions = np.arange(len(labels))
    for metric in METRICS:
        ax.plot(positions, sweep[metric], marker="o", label=metric)
    ax.plot(positions, sweep["train_accuracy"], marker="x", linestyle="--", color="gray",
            label="train accuracy")
    ax.set_xticks(positions, labels, rotation=30 if len(labels[0]) > 4 else 0)
    # From 0 when some setting fails badly; zoomed in when every setting scores high (to a
    # tenth at least 0.05 below the lowest score), so that differences of a point or two show.
    lowest = np.nanmin([sweep[key] for key in (*METRICS, "train_accuracy")])
    bottom = np.floor(10 * lowest - 0.5) / 10 if lowest >= 0.5 else 0.0
    ax.set(title=title, ylabel="test score (macro)", ylim=(bottom, 1.0 + (1 - bottom) / 50))
    ax.legend(fontsize="small")
    return _save(fig, path)


def sweep_losses(sweep, title, path):
    """Train (solid) and test (dashed) loss curves of every setting: over-fitting shows as a
    test curve that turns up while its training curve keeps falling."""
    labels = _setting_labels(sweep)
    fig = _figure((5.5, 3.6))
    ax = fig.subplots()
    if sweep["config"]["param"] == "epochs":
        # With one seed, a shorter run is the start of the longest one: draw that once and
        # mark where each shorter run stopped.
        longest = int(np.argmax([len(curve) for curve in sweep["loss"]]))
        epochs = np.arange(1, len(sweep["loss"][longest]) + 1)
        ax.plot(epochs, sweep["loss"][longest], color="C0", label="train")
        ax.plot(epochs, sweep["test_loss"][longest], color="C1", linestyle="--", label="test")
        for value in sweep["values"]:
            ax.axvline(value, color="gray", linewidth=0.6, linestyle=":")
        ax.set(title=title + " (dotted: each run's last epoch)", xlabel="Epoch",
               ylabel="mean cross-entropy", yscale="log", xscale="log")
        ax.legend(fontsize="small")
        return _save(fig, path)
    colors = [f"C{i}" for i in range(len(labels))]
    for label, color, train, test in zip(labels, colors, sweep["loss"], sweep["test_loss"]):
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, color=color, label=label)
        ax.plot(epochs, test, color=color, linestyle="--")
    ax.set(title=title + " (solid: train, dashed: test)", xlabel="Epoch",
           ylabel="mean cross-entropy", yscale="log")
    ax.legend(fontsize="small", title=sweep["config"]["param"])
    return _save(fig, path)


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


def make_all(results, data, figures_dir, jobs=1):
    """Draw every figure of a run into `figures_dir`; returns {figure key: file name}, as
    `figure_files` says.

    The figures are independent, so with ``jobs > 1`` they are drawn in parallel.
    """
    figures_dir = pathlib.Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    path = {key: figures_dir / name
            for key, name in figure_files(results["q3"], results["q4"]).items()}
    tasks = {"q2_5_loss": (loss_curve, (results["q2_5"]["loss"], "Q2.5 training loss",
                                        path["q2_5_loss"]))}
    for name, result in results["q3"].items():
        title = result["config"]["title"]
        X, y = data[name]
        tasks[f"q3_{name}_losses"] = (fold_losses, (result, f"{title}: training loss per fold",
                                                    path[f"q3_{name}_losses"]))
        tasks[f"q3_{name}_boundary"] = (decision_boundary, (
            result, X, y, f"{title}: decision boundary (fold 1 model)",
            path[f"q3_{name}_boundary"]))
        tasks[f"q3_{name}_confusion"] = (confusion_heatmap, (
            result["confusion_matrix"], f"{title}\nconfusion matrix (all folds)",
            path[f"q3_{name}_confusion"]))
    for name, sweep in results["q4"].items():
        title = sweep["config"]["title"]
        tasks[f"q4_{name}_metrics"] = (sweep_metrics, (sweep, f"{title}: test scores",
                                                       path[f"q4_{name}_metrics"]))
        tasks[f"q4_{name}_losses"] = (sweep_losses, (sweep, title, path[f"q4_{name}_losses"]))
    [names] = run_task_groups([("figures", list(tasks.values()))], jobs=jobs)
    return dict(zip(tasks, names))
