"""What a run's numbers show, measured: the facts the report's sentences state.

`compute(results)` reads only the results of `runner.run_all` and returns plain numbers and
yes/no answers, saved in results.json beside the numbers they come from, so that every claim of
the report can be traced to results.json. Each fact is the measurement behind a sentence
(e.g. "the test loss is lowest at epoch 123 and rises 6% by the end"); whether the sentence is
said at all depends on it (`report`). A "best" setting is the one of highest test accuracy:
chosen on the test set, so its score is optimistic, and the report says so.
"""

import numpy as np
from scipy.stats import spearmanr


def compute(results):
    """{"q3": {name: facts}, "q4": {name: facts}} of a run's results."""
    return {"q3": {name: cross_validation(r) for name, r in results["q3"].items()},
            "q4": {name: sweep(r, r["config"]["param"]) for name, r in results["q4"].items()}}


def cross_validation(result):
    network, baseline = result["folds"], result["baseline"]["folds"]
    ahead = sum(a["accuracy"] > b["accuracy"] for a, b in zip(network, baseline))
    behind = sum(a["accuracy"] < b["accuracy"] for a, b in zip(network, baseline))
    return {"linearly_separable": result["linear_fit"]["errors"] == 0,
            "accuracy_over_baseline": result["accuracy"] - result["baseline"]["accuracy"],
            "folds_ahead_of_baseline": ahead, "folds_behind_baseline": behind,
            "rarest_class_share": min(result["class_counts"]) / result["n_samples"]}


def sweep(result, param):
    """Facts of every sweep, then those of its kind (`param`)."""
    accuracy = np.asarray(result["accuracy"])
    best = int(np.argmax(accuracy))
    facts = {"best": best,   # index of the highest test accuracy (the first, if tied)
             "best_standard_error": float(np.sqrt(accuracy[best] * (1 - accuracy[best])
                                                  / result["n_test"])),
             "diverged": [i for i, epoch in enumerate(result["diverged_at"]) if epoch is not None],
             "train_test_gap": [t - a for t, a in zip(result["train_accuracy"], accuracy)]}
    kind = {"epochs": _epochs, "hidden": _structure, "label_smoothing": _smoothing}.get(param)
    if kind is not None:
        facts.update(kind(result, facts))
    return facts


def _epochs(result, facts):
    """Over-fitting in the longest run: the test loss turns up while the training loss falls."""
    longest = int(np.argmax(result["values"]))
    test_loss = np.asarray(result["test_loss"][longest], dtype=float)
    loss = np.asarray(result["loss"][longest], dtype=float)
    if not np.isfinite(test_loss).any():
        return {"longest": longest, "lowest_test_loss_epoch": None}
    lowest = int(np.nanargmin(test_loss))
    return {"longest": longest, "lowest_test_loss_epoch": lowest + 1,
            "test_loss_rise": float(test_loss[-1] / test_loss[lowest] - 1),
            "train_loss_fall_after": float(1 - loss[-1] / loss[lowest]) if loss[lowest] else 0.0}


def _structure(result, facts):
    """Accuracy and final losses against the parameter count, and depth against width."""
    accuracy, n_parameters = result["accuracy"], result["n_parameters"]
    depth = [len(layers) - 2 for layers in result["layers"]]
    rank = spearmanr(n_parameters, accuracy).statistic if len(set(accuracy)) > 1 else 0.0
    deep = [i for i, d in enumerate(depth) if d > 1]
    shallow = [i for i, d in enumerate(depth) if d <= 1]
    best_of = lambda indices: max(indices, key=lambda i: accuracy[i]) if indices else None  # noqa: E731
    return {"depth": depth, "accuracy_parameter_rank_correlation": float(rank),
            "best_deep": best_of(deep), "best_shallow": best_of(shallow)}


def _smoothing(result, facts):
    """The best smoothed setting against none, in standard errors of a test accuracy."""
    values, accuracy = result["values"], result["accuracy"]
    if 0 not in values or len(values) < 2:
        return {}
    none = values.index(0)
    smoothed = max((i for i in range(len(values)) if i != none), key=lambda i: accuracy[i])
    difference = accuracy[smoothed] - accuracy[none]
    return {"unsmoothed": none, "best_smoothed": smoothed, "difference": difference,
            "difference_in_standard_errors": difference / max(facts["best_standard_error"],
                                                              1e-12)}
