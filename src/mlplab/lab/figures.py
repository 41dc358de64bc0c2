"""The figures of a run, drawn by `mlplab.plot` from its results (never trains; a decision
boundary is the saved fold-1 model file, read back by `mlplab.load_model`)."""

import pathlib

from .. import _parallel, plot
from ..scaled_network import load_model
from .configs import METRICS, fold1_model, setting_labels


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


def boundary(model_path, X, y, title):
    return plot.decision_boundary(load_model(model_path), X, y, title=title)   # raw inputs


def sweep_scores(sweep, title):
    structure = sweep["config"]["param"] == "hidden"
    scores = {metric: sweep[metric] for metric in METRICS}
    scores["train accuracy"] = sweep["train_accuracy"]
    return plot.setting_scores(setting_labels(sweep), scores, title,
                               "parameters (log scale); labels: layer sizes" if structure
                               else sweep["config"]["param"],
                               sweep["n_parameters"] if structure else None)


def sweep_losses(sweep, title):
    if sweep["config"]["param"] == "epochs":
        # With one seed, a shorter run is the start of the longest: draw that one, and mark
        # where each shorter run stopped.
        longest = max(range(len(sweep["loss"])), key=lambda i: len(sweep["loss"][i]))
        return plot.one_run_losses(sweep["loss"][longest], sweep["test_loss"][longest],
                                   sweep["values"], title)
    name = "layers" if sweep["config"]["param"] == "hidden" else sweep["config"]["param"]
    return plot.setting_losses(setting_labels(sweep), sweep["loss"], sweep["test_loss"], title,
                               name)


def make_all(results, data, out_dir, jobs=1, on_figure=None):
    """Draw every figure of a run into `out_dir`/figures; returns {figure key: file name}, as
    `figure_files` says (the decision boundaries read the model files in `out_dir`/models).
    The figures are independent: ``jobs > 1`` draws them in parallel. `on_figure(done, total)`
    is called as each one is finished."""
    out_dir = pathlib.Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    files = figure_files(results["q3"], results["q4"])
    calls = {"q2_5_loss": (plot.losses, results["q2_5"]["loss"], "Q2.5 training loss")}
    for name, result in results["q3"].items():
        title = result["config"]["title"]
        X, y = data[result["config"]["dataset"]]
        calls[f"q3_{name}_losses"] = (plot.losses, [fold["loss"] for fold in result["folds"]],
                                      f"{title}: training loss per fold",
                                      [f"fold {k}" for k in range(1, len(result["folds"]) + 1)])
        calls[f"q3_{name}_boundary"] = (boundary, out_dir / "models" / f"{fold1_model(name)}.npz",
                                        X, y, f"{title}: fold-1 network")
        calls[f"q3_{name}_confusion"] = (plot.confusion_matrix, result["confusion_matrix"],
                                         result["labels"],
                                         f"{title}\nconfusion matrix (all folds)")
    for name, sweep in results["q4"].items():
        title = sweep["config"]["title"]
        calls[f"q4_{name}_metrics"] = (sweep_scores, sweep, f"{title}: scores")
        calls[f"q4_{name}_losses"] = (sweep_losses, sweep, title)
    keys = list(calls)
    jobs_of = [(key, out_dir / "figures" / files[key], *calls[key]) for key in keys]
    for done, _ in enumerate(_parallel.map_unordered(_draw, jobs_of, jobs), 1):
        if on_figure is not None:
            on_figure(done, len(calls))
    return files


def _draw(key, path, function, *args):
    function(*args).savefig(path, dpi=100)
    return key
