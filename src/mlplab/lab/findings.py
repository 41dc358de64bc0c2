"""What a run's numbers show, measured: the facts the report's sentences state.

`compute(results)` reads only the results of `runner.run_all` and returns plain numbers and
yes/no answers, saved in results.json beside the numbers they come from, so that every claim of
the report can be traced to results.json. Each fact is the measurement behind a sentence
(e.g. "the test loss is lowest at epoch 123 and rises by 6% by the end"); whether the sentence
is said at all depends on it (`report`).

Two accuracies on the same n test samples are told apart only when they differ by more than
two standard errors of their difference, sqrt(v1 + v2) with v = p (1 - p) / n, p smoothed to
(correct + 1) / (n + 2) so that a perfect or a zero score still has some uncertainty. A "best"
setting is the one of highest test accuracy: chosen on the test set, so its score is
optimistic, and the report says so.
"""

import numpy as np
from scipy.stats import spearmanr

# A rise of the test loss smaller than this (a fraction of its lowest value) is noise.
LOSS_RISE = 0.02
# Regularization is "too much" when the training accuracy falls by more than this.
FIT_LOST = 0.05


def compute(results):
    """{"q3": {name: facts}, "q4": {name: facts}} of a run's results."""
    return {"q3": {name: cross_validation(r) for name, r in results["q3"].items()},
            "q4": {name: sweep(r, r["config"]["param"]) for name, r in results["q4"].items()}}


def difference_standard_error(p1, p2, n):
    """The standard error of p1 - p2, two accuracies measured on n samples each."""
    def variance(p):
        p = (p * n + 1) / (n + 2)
        return p * (1 - p) / n
    return float(np.sqrt(variance(p1) + variance(p2)))


def told_apart(p1, p2, n):
    """Whether two accuracies on n samples differ by more than two standard errors."""
    return abs(p1 - p2) > 2 * difference_standard_error(p1, p2, n)


def cross_validation(result):
    network, baseline = result["folds"], result["baseline"]["folds"]
    ahead = sum(a["accuracy"] > b["accuracy"] for a, b in zip(network, baseline))
    behind = sum(a["accuracy"] < b["accuracy"] for a, b in zip(network, baseline))
    counts = result["class_counts"]
    rare = int(np.argmin(counts))
    matrix = result["confusion_matrix"]
    return {"accuracy_over_baseline": result["accuracy"] - result["baseline"]["accuracy"],
            "told_apart_from_baseline": told_apart(result["accuracy"],
                                                   result["baseline"]["accuracy"],
                                                   result["n_samples"]),
            "folds_ahead_of_baseline": ahead, "folds_behind_baseline": behind,
            "rarest_class": result["labels"][rare],
            "rarest_class_share": counts[rare] / result["n_samples"],
            "rarest_class_recall": matrix[rare][rare] / counts[rare]}


def sweep(result, param):
    """Facts of every sweep, then those of its kind (`param`)."""
    accuracy = result["accuracy"]
    best = int(np.argmax(accuracy))
    facts = {"best": best,   # index of the highest test accuracy (the first, if tied)
             "diverged": [i for i, epoch in enumerate(result["diverged_at"]) if epoch is not None],
             "train_test_gap": [t - a for t, a in zip(result["train_accuracy"], accuracy)]}
    if len(accuracy) < 2:
        return facts
    order = np.argsort([np.sum(value) for value in result["values"]], kind="stable")
    smallest, largest = int(order[0]), int(order[-1])   # by value (layer sizes: their sum)
    n = result["n_test"]
    facts.update(smallest=smallest, largest=largest,
                 smallest_below_best=told_apart(accuracy[smallest], accuracy[best], n)
                 and smallest != best,
                 largest_below_best=told_apart(accuracy[largest], accuracy[best], n)
                 and largest != best,
                 all_within_noise=not any(told_apart(a, accuracy[best], n) for a in accuracy))
    kind = {"epochs": _epochs, "reg_lambda": _regularization, "hidden": _structure,
            "label_smoothing": _smoothing}.get(param)
    if kind is not None:
        facts.update(kind(result, facts))
    return facts


def _epochs(result, facts):
    """Over-fitting in the longest run: the test loss turns up, by more than LOSS_RISE and
    before the last tenth of the epochs, while the training loss keeps falling."""
    longest = facts["largest"]
    test_loss = np.asarray(result["test_loss"][longest], dtype=float)
    loss = np.asarray(result["loss"][longest], dtype=float)
    if not np.isfinite(test_loss).any():
        return {"lowest_test_loss_epoch": None, "over_fitting": False}
    lowest = int(np.nanargmin(test_loss))
    rise = float(test_loss[-1] / test_loss[lowest] - 1)
    fall = float(1 - loss[-1] / loss[lowest]) if loss[lowest] else 0.0
    return {"lowest_test_loss_epoch": lowest + 1, "test_loss_rise": rise,
            "train_loss_fall_after": fall,
            "over_fitting": bool(rise > LOSS_RISE and fall > 0
                                 and lowest + 1 <= 0.9 * len(test_loss))}


def _regularization(result, facts):
    """Whether the strongest setting keeps the model from fitting even the training data."""
    train = result["train_accuracy"]
    return {"fit_lost": train[facts["largest"]] < train[facts["smallest"]] - FIT_LOST}


def _structure(result, facts):
    """Accuracy against the parameter count, and depth against width."""
    accuracy, n_parameters = result["accuracy"], result["n_parameters"]
    depth = [len(layers) - 2 for layers in result["layers"]]
    rank = None
    if len(set(n_parameters)) >= 3 and len(set(accuracy)) > 1:
        rank = float(spearmanr(n_parameters, accuracy).statistic)
    deep = [i for i, d in enumerate(depth) if d > 1]
    shallow = [i for i, d in enumerate(depth) if d <= 1]
    best_deep = max(deep, key=lambda i: accuracy[i]) if deep else None
    best_shallow = max(shallow, key=lambda i: accuracy[i]) if shallow else None
    return {"depth": depth, "accuracy_parameter_rank_correlation": rank,
            "best_deep": best_deep, "best_shallow": best_shallow,
            "depth_told_apart": best_deep is not None and best_shallow is not None
            and told_apart(accuracy[best_deep], accuracy[best_shallow], result["n_test"])}


def _smoothing(result, facts):
    """The best smoothed setting against none."""
    values, accuracy = result["values"], result["accuracy"]
    if 0 not in values:
        return {}
    none = values.index(0)
    smoothed = max((i for i in range(len(values)) if i != none), key=lambda i: accuracy[i])
    difference = accuracy[smoothed] - accuracy[none]
    error = difference_standard_error(accuracy[smoothed], accuracy[none], result["n_test"])
    return {"unsmoothed": none, "best_smoothed": smoothed, "difference": difference,
            "difference_standard_error": error,
            "told_apart": told_apart(accuracy[smoothed], accuracy[none], result["n_test"])}
