"""Figures of training and of its results: the lab's report, its notebook and yours draw these.

Every function returns a matplotlib `Figure` (the object API: no window, no global state); a
notebook shows it, and ``fig.savefig(path)`` writes it. Nothing here trains.

- `losses`: loss curves per epoch, of one training's history or several; `LiveLoss`, a
  `Network.train` callback that redraws them as training runs;
- `decision_boundary`: a network's output over the plane of two features, with the data;
- `confusion_matrix`: counts of true against predicted labels;
- `setting_scores` and `setting_losses`: a sweep's scores and loss curves, one setting each;
- `learning_rate_range`: the loss after a few steps at each learning rate (`mlplab.diagnose`).
"""

import sys

import numpy as np

# The score series of a sweep: each its own marker and line style (readable in grey too).
_SERIES = {"accuracy": ("o", "-"), "precision": ("s", "--"), "recall": ("D", "-."),
           "f1": ("^", ":"), "train accuracy": ("x", (0, (1, 3)))}


def _figure(size, layout="constrained"):
    from matplotlib.figure import Figure
    return Figure(figsize=size, layout=layout)


def _scale_for(ax, curves):
    """A log axis only where the finite values span more than a decade (else a linear axis
    with labelled ticks)."""
    values = np.concatenate([np.asarray(c, dtype=float).ravel() for c in curves]) \
        if curves else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) and values.max() / values.min() > 10:
        ax.set_yscale("log")
        ax.minorticks_off()


def _legend_outside(ax, **options):
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small", **options)


def _as_runs(history):
    """[(label, train curve, test curve or None)] of a history dict, a curve, or a list of
    either."""
    if isinstance(history, dict):
        test = history.get("val_loss", history.get("test_loss"))
        return [("", history["loss"], test if test is not None and len(test) else None)]
    if len(history) and np.ndim(history[0]) == 0:
        return [("", history, None)]
    runs = []
    for number, run in enumerate(history, start=1):
        (_, train, test), = _as_runs(run)
        runs.append((f"run {number}", train, test))
    return runs


def losses(history, title="Training loss", labels=None):
    """Loss per epoch: `history` is `Network.train`'s dict ("loss", and "val_loss" if
    validated: dashed), a list of losses, or a list of either (one line each, `labels` naming
    them)."""
    runs = _as_runs(history)
    if labels is not None:
        runs = [(label, train, test) for label, (_, train, test) in zip(labels, runs)]
    fig = _figure((6, 3.2) if len(runs) > 1 else (5, 3.2))
    ax = fig.subplots()
    for i, (label, train, test) in enumerate(runs):
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, color=f"C{i % 10}", label=label or "train")
        if test is not None:
            ax.plot(epochs, test, color=f"C{i % 10}", linestyle="--",
                    label=f"{label} test" if label else "test")
    _scale_for(ax, [c for _, train, test in runs for c in (train, test) if c is not None])
    ax.set(title=title, xlabel="Epoch", ylabel="mean loss")
    if len(runs) > 1 or runs[0][2] is not None:
        _legend_outside(ax)
    return fig


class LiveLoss:
    """A `Network.train` callback that shows the loss as training runs:
    ``net.train(X, Y, epochs=100, learning_rate=0.5, callback=LiveLoss())``.

    In a notebook the `losses` figure is drawn and redrawn in place every `every` epochs (and
    at the last); elsewhere a line is printed to `stream` (standard output by default), e.g.
    ``epoch 10: loss 0.2345, val_loss 0.3456``. `figure` holds the last figure drawn.
    """

    def __init__(self, every=1, title="Training loss", notebook=None, stream=None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number >= 1, got {every!r}")
        self.every, self.title, self.stream = every, title, stream
        self.notebook = _in_notebook() if notebook is None else notebook
        self.figure, self._shown = None, None

    def __call__(self, epoch, history):
        # `train` fills its arrays as it goes: the epochs so far are the first epoch + 1.
        so_far = {key: np.asarray(values[:epoch + 1]) for key, values in history.items()}
        last = epoch + 1 == len(history["loss"])
        if (epoch + 1) % self.every and not last:
            return
        if not self.notebook:
            print(f"epoch {epoch + 1}: " + ", ".join(f"{key} {values[-1]:.4g}"
                                                    for key, values in so_far.items()),
                  file=self.stream or sys.stdout)
            return
        from IPython.display import display

        self.figure = losses(so_far, self.title)
        if self._shown is None:
            self._shown = display(self.figure, display_id=True)
        else:
            self._shown.update(self.figure)


def _in_notebook():
    """Whether this runs in a notebook's kernel (IPython already loaded, not imported here)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def decision_boundary(network, X, y, scaler=None, title="Decision boundary"):
    """The output of a network with one output unit over a grid spanning the data (X: two
    features), its 0.5 contour, and every sample by class. `network`: a Network, or what
    `mlplab.load_model` gives (which scales raw inputs itself); `scaler`: a transform the
    network was trained behind (anything with ``transform``), applied to the grid."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 250)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 250)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    if scaler is not None:
        grid = scaler.transform(grid)
    output = network.forward(grid)[-1][:, 0].reshape(len(ys), len(xs))
    fig = _figure((6.2, 4))
    ax = fig.subplots()
    filled = ax.contourf(xs, ys, output, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xs, ys, output, levels=[0.5], colors="k", linewidths=1.5)
    for label, marker in zip(np.unique(y), "os^v"):
        ax.scatter(*X[y == label].T, s=8, marker=marker, edgecolors="k", linewidths=0.3,
                   label=f"class {label}")
    fig.colorbar(filled, ax=ax, label="network output", pad=0.02)
    ax.set(title=title, xlabel="x1", ylabel="x2")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return fig


def confusion_matrix(matrix, labels, title="Confusion matrix"):
    """Counts of true (rows) against predicted (columns) labels, each cell with its count."""
    matrix = np.asarray(matrix)
    fig = _figure((3.8, 3.2))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(title=title, xlabel="predicted label", ylabel="true label")
    ax.set_xticks(range(len(matrix)), labels)
    ax.set_yticks(range(len(matrix)), labels)
    fig.colorbar(image, ax=ax, label="samples", pad=0.02)
    return fig


def setting_scores(labels, scores, title="Scores per setting", xlabel="setting",
                   positions=None):
    """Scores per setting of a sweep: `scores` maps a series ("accuracy", ..., "train
    accuracy") to a value per setting. `positions` places the settings (a log axis: parameter
    counts, say); by default evenly, in order, each tick in the setting's colour."""
    fig = _figure((6.5, 3.4))
    ax = fig.subplots()
    x = np.arange(len(labels)) if positions is None else np.asarray(positions)
    for name, values in scores.items():
        marker, style = _SERIES.get(name, ("o", "-"))
        ax.plot(x, values, marker=marker, linestyle=style, color="black" if name !=
                "train accuracy" else "0.45", label=name, markersize=5)
    if positions is None:
        ax.set_xticks(x, labels, rotation=30 if max(map(len, labels)) > 4 else 0)
        for i, tick in enumerate(ax.get_xticklabels()):
            tick.set_color(f"C{i % 10}")   # the setting's colour in `setting_losses`
    else:
        ax.set_xscale("log")
        for i, (where, label) in enumerate(zip(x, labels)):
            ax.annotate(label, (where, scores["accuracy"][i]), textcoords="offset points",
                        ha="center", xytext=(0, -16 if i % 2 else 10), fontsize="x-small",
                        bbox=dict(boxstyle="square,pad=0.1", facecolor="white",
                                  edgecolor="none", alpha=0.8))
    # From 0 when a setting fails badly; zoomed in when all score high, so differences show.
    lowest = np.nanmin([v for values in scores.values() for v in values])
    bottom = np.floor(10 * lowest - 0.5) / 10 if lowest >= 0.5 else 0.0
    ax.set(title=title, xlabel=xlabel, ylabel="score", ylim=(bottom, 1 + (1 - bottom) / 50))
    _legend_outside(ax)
    return fig


def setting_losses(labels, train, test, title="Loss per setting", name="setting"):
    """Train (solid) and test (dashed) loss per epoch, one panel per setting, axes shared:
    over-fitting shows as a test curve that turns up while its training curve keeps falling."""
    columns = 3 if len(labels) > 4 else min(2, len(labels))
    rows = -(-len(labels) // columns)
    # Fixed margins (inches) instead of a layout engine, which would double the drawing time.
    width, height = 2.4 * columns + 0.8, 1.45 * rows + 1.0
    fig = _figure((width, height), layout=None)
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.15 / width, bottom=0.6 / height,
                        top=1 - 0.6 / height, wspace=0.12, hspace=0.35)
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    for i, (ax, label) in enumerate(zip(axes, labels)):
        epochs = np.arange(1, len(train[i]) + 1)
        ax.plot(epochs, np.asarray(train[i], dtype=float), color=f"C{i % 10}")
        ax.plot(epochs, np.asarray(test[i], dtype=float), color=f"C{i % 10}", linestyle="--")
        ax.set_title(f"{name} = {label}", fontsize="small", color=f"C{i % 10}")
    _scale_for(axes[0], list(train) + list(test))
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    fig.supxlabel("Epoch", y=0.02)
    fig.supylabel("mean loss", x=0.01)
    fig.suptitle(f"{title} (solid: train, dashed: test)", y=1 - 0.12 / height)
    return fig


def one_run_losses(train, test, ends, title="Loss per epoch"):
    """One long run's train (solid) and test (dashed) loss, with a dotted line where each of
    shorter runs (`ends`, epochs; the same run, cut there) ends."""
    fig = _figure((6.5, 3.4))
    ax = fig.subplots()
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, np.asarray(train, dtype=float), color="black", label="train")
    ax.plot(epochs, np.asarray(test, dtype=float), color="black", linestyle="--", label="test")
    for i, end in enumerate(ends):
        ax.axvline(end, color=f"C{i % 10}", linewidth=0.8, linestyle=":",
                   label=f"end of the {end}-epoch run")
    _scale_for(ax, [train, test])
    ax.set(title=title, xlabel="Epoch (log scale)", ylabel="mean loss", xscale="log")
    ax.minorticks_off()
    _legend_outside(ax)
    return fig


def learning_rate_range(rates, losses, start_loss, chosen=None, title="Learning-rate range test"):
    """A range test (`mlplab.diagnose`): the mean loss after a few steps from the same start at
    each rate (`rates`, `losses` of shape (R,), on a log x axis; a diverged, non-finite loss is
    left out), a dotted line at `start_loss`, and the rate `chosen` (if given) marked."""
    rates, losses = np.asarray(rates, dtype=float), np.asarray(losses, dtype=float)
    shown = np.where(np.isfinite(losses), losses, np.nan)   # a gap where training diverged
    fig = _figure((5.5, 3.4))
    ax = fig.subplots()
    ax.plot(rates, shown, marker="o", color="C0", label="after the steps")
    ax.axhline(start_loss, color="0.4", linestyle=":", label="at the start")
    if chosen is not None:
        ax.axvline(chosen, color="C3", linestyle="--", label=f"chosen: {chosen:g}")
    _scale_for(ax, [shown, [start_loss]])
    ax.set(title=title, xlabel="learning rate (log scale)", ylabel="mean loss", xscale="log")
    _legend_outside(ax)
    return fig



__all__ = ["LiveLoss", "confusion_matrix", "decision_boundary", "learning_rate_range", "losses",
           "one_run_losses", "setting_losses", "setting_scores"]
