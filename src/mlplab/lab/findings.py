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


def final_value(curve):
    """The last value of a loss curve, or None if there is none or it is not finite."""
    return float(curve[-1]) if curve and curve[-1] is not None and np.isfinite(curve[-1]) \
        else None


def sweep(result, param):
    """Facts of every sweep, then those of its kind (`param`)."""
    accuracy = result["accuracy"]
    best = int(np.argmax(accuracy))
    facts = {"best": best,   # index of the highest test accuracy (the first, if tied)
             "tied_with_best": [i for i, a in enumerate(accuracy) if a == accuracy[best]
                                and i != best],
             "diverged": [i for i, epoch in enumerate(result["diverged_at"]) if epoch is not None],
             "final_loss": [final_value(curve) for curve in result["loss"]],
             "train_test_gap": [t - a for t, a in zip(result["train_accuracy"], accuracy)]}
    if len(accuracy) < 2:
        return facts
    order = np.argsort([np.sum(value) for value in result["values"]], kind="stable")
    smallest, largest = int(order[0]), int(order[-1])   # by value (layer sizes: their sum)
    n = result["n_test"]
    facts.update(smallest=smallest, largest=largest,
                 largest_is_best=largest == best or largest in facts["tied_with_best"],
                 smallest_below_best=told_apart(accuracy[smallest], accuracy[best], n)
                 and smallest != best,
                 largest_below_best=told_apart(accuracy[largest], accuracy[best], n)
                 and largest != best,
                 all_within_noise=not any(told_apart(a, accuracy[best], n) for a in accuracy))
    kind = {"epochs": _epochs, "learning_rate": _learning_rate, "reg_lambda": _regularization,
            "hidden": _structure, "label_smoothing": _smoothing}.get(param)
    if kind is not None:
        facts.update(kind(result, facts))
    return facts


def _higher_loss(facts, i, j):
    """Whether setting i ends with a higher training loss than setting j (both finite)."""
    loss = facts["final_loss"]
    return loss[i] is not None and loss[j] is not None and loss[i] > loss[j]


def _epochs(result, facts):
    """Under-fitting: the fewest epochs fit worse, on the training data too. Over-fitting in
    the longest run: through its last tenth of epochs the test loss stays above its lowest by
    more than LOSS_RISE, while the training loss keeps falling."""
    smallest, longest = facts["smallest"], facts["largest"]
    train = result["train_accuracy"]
    under = facts["smallest_below_best"] and train[smallest] < train[longest] and told_apart(
        train[smallest], train[longest], result["n_test"])
    test_loss = np.asarray(result["test_loss"][longest], dtype=float)
    loss = np.asarray(result["loss"][longest], dtype=float)
    if not np.isfinite(test_loss).all() or len(test_loss) < 10:
        return {"under_fitting": under, "lowest_test_loss_epoch": None, "over_fitting": False}
    lowest = int(np.argmin(test_loss))
    last_tenth = slice(len(test_loss) - len(test_loss) // 10, None)
    rise = float(test_loss[last_tenth].min() / test_loss[lowest] - 1)
    fall = float(1 - loss[-1] / loss[lowest]) if loss[lowest] else 0.0
    # the ends of each relative change, for the sentences that state it
    return {"under_fitting": under, "lowest_test_loss_epoch": lowest + 1,
            "test_loss_rise": rise, "train_loss_fall_after": fall,
            "test_loss_lowest": float(test_loss[lowest]),
            "test_loss_last_tenth_lowest": float(test_loss[last_tenth].min()),
            "train_loss_at_lowest": float(loss[lowest]), "train_loss_last": float(loss[-1]),
            "over_fitting": bool(rise > LOSS_RISE and fall > 0)}


def _learning_rate(result, facts):
    """Too slow: the smallest rate scores lower and has not fit its training data as far.
    Overshoots: the largest scores lower and diverged or ends at a higher training loss."""
    smallest, largest, best = facts["smallest"], facts["largest"], facts["best"]
    return {"too_slow": facts["smallest_below_best"] and smallest not in facts["diverged"]
            and _higher_loss(facts, smallest, best),
            "overshoots": facts["largest_below_best"] and (
                largest in facts["diverged"] or _higher_loss(facts, largest, best)),
            "largest_alone_best": largest == best and not facts["tied_with_best"]
            and not facts["all_within_noise"] and largest not in facts["diverged"]}


def _regularization(result, facts):
    """Whether the strongest setting keeps the model from fitting even the training data; the
    settings at chance (test and training accuracy both within two standard errors of one
    class in K), and how the train-test gap moves across the others, weakest to strongest."""
    train, accuracy, n = result["train_accuracy"], result["accuracy"], result["n_test"]
    chance = 1 / len(result["confusion_matrices"][0])
    at_chance = [i for i in range(len(accuracy)) if not told_apart(accuracy[i], chance, n)
                 and not told_apart(train[i], chance, result.get("n_train", n))]
    learning = sorted((i for i in range(len(accuracy)) if i not in at_chance),
                      key=lambda i: result["values"][i])
    trend = None
    if len(learning) >= 2:
        first, last = learning[0], learning[-1]
        change = facts["train_test_gap"][last] - facts["train_test_gap"][first]
        moved = abs(change) > 2 * difference_standard_error(accuracy[first], accuracy[last], n)
        trend = 0 if not moved else (-1 if change < 0 else 1)   # -1: the gap narrows
    return {"fit_lost": train[facts["largest"]] < train[facts["smallest"]] - FIT_LOST,
            "at_chance": at_chance, "learning": learning, "gap_trend": trend}


def _structure(result, facts):
    """Accuracy against the parameter count, and depth against width, over the structures
    whose training did not diverge."""
    accuracy, n_parameters = result["accuracy"], result["n_parameters"]
    n = result["n_test"]
    kept = [i for i in range(len(accuracy)) if i not in facts["diverged"]]
    depth = [len(layers) - 2 for layers in result["layers"]]
    trend = None   # +1: more parameters score higher, -1: lower, 0: neither, None: too few
    if len({n_parameters[i] for i in kept}) >= 4:
        rank = spearmanr([n_parameters[i] for i in kept], [accuracy[i] for i in kept]).statistic
        small = min(kept, key=lambda i: n_parameters[i])
        large = max(kept, key=lambda i: n_parameters[i])
        apart = told_apart(accuracy[small], accuracy[large], n)
        trend = (1 if rank > 0.7 and apart and accuracy[large] > accuracy[small] else
                 -1 if rank < -0.7 and apart and accuracy[large] < accuracy[small] else 0)
    deep = [i for i in kept if depth[i] > 1]
    shallow = [i for i in kept if depth[i] <= 1]
    best_deep = max(deep, key=lambda i: accuracy[i]) if deep else None
    best_shallow = max(shallow, key=lambda i: accuracy[i]) if shallow else None
    return {"depth": depth, "parameter_trend": trend,
            "best_deep": best_deep, "best_shallow": best_shallow,
            "depth_told_apart": best_deep is not None and best_shallow is not None
            and told_apart(accuracy[best_deep], accuracy[best_shallow], n)}


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
