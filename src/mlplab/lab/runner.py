"""Run the assignment's experiments and return plain records (dicts of numbers and lists).

Nothing here plots or writes a report: `plots` and `report` read what this returns. Every
training is an independent task (a fold, a sweep point), so ``jobs > 1`` runs them in parallel
with joblib and gives exactly the same numbers as ``jobs=1``: each task's randomness comes from
its own seed, never from the order tasks run in.
"""

import dataclasses

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from .. import Layer, Network, __version__, datasets, gradcheck
from ..functions import d_l2_loss, d_sigmoid, l2_loss, sigmoid, smooth_labels
from . import configs
from .configs import METRICS
from .tasks import run_task_groups
from .training import network_for, train_network

# Folds or settings where a class is never predicted make precision (and so F1) 0/0: scored
# as 0 rather than warned about (zero_division=0), and said so in the report.
ZERO_DIVISION = 0


# ----- one network ---------------------------------------------------------------------------
# A training runs as `training.train_network` (anywhere, e.g. in a worker process) between two
# steps taken here: `training_task` prepares its inputs and targets, `score_training` scores
# its predictions with scikit-learn's metrics.

def scores(y_true, y_pred, labels, average):
    """Accuracy, precision, recall, F1 and the confusion matrix, by scikit-learn."""
    kwargs = {"average": average, "zero_division": ZERO_DIVISION}
    if average == "binary":
        kwargs["pos_label"] = labels[-1]
    else:
        kwargs["labels"] = labels
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, **kwargs)),
        "recall": float(recall_score(y_true, y_pred, **kwargs)),
        "f1": float(f1_score(y_true, y_pred, **kwargs)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


@dataclasses.dataclass(frozen=True)
class Scoring:
    """What scoring one training's predictions needs, kept from when its task was made."""
    labels: np.ndarray    # the sorted training labels: class index k means labels[k]
    average: str          # "binary" (positive class: the larger label) or "macro"
    y_train: np.ndarray
    y_test: np.ndarray
    scaler: object        # the StandardScaler fitted on the training rows, or None


def training_task(training, X_train, y_train, X_test, y_test, seed, keep_model=False):
    """One training on these rows: its (train_network, args) task and its `Scoring`.

    Labels are 1-D class labels; a sigmoid output gets them as 0/1 targets (binary only), a
    softmax output as one-hot rows (column k: the k-th smallest training label); then
    smoothed if the config asks (test targets too, so that the train and test loss curves
    measure the same objective). Inputs are standardised if the config asks, with a scaler
    fitted on the training rows only (StandardScaler leaves zero-variance columns alone).
    """
    labels = np.unique(y_train)
    scaler = StandardScaler().fit(X_train) if training.standardize else None
    if scaler is not None:
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if training.output == "softmax":
        Y_train, Y_test = datasets.one_hot_encode(y_train, y_test)
    else:
        if len(labels) != 2:
            raise ValueError(f"a sigmoid output needs 2 classes, got {len(labels)}")
        Y_train = (y_train == labels[1]).astype(float)
        Y_test = (y_test == labels[1]).astype(float)
    if training.label_smoothing:
        Y_train = smooth_labels(Y_train, training.label_smoothing)
        Y_test = smooth_labels(Y_test, training.label_smoothing)
    task = (train_network, (training, X_train, Y_train, X_test, Y_test, seed, keep_model))
    average = "macro" if training.output == "softmax" else "binary"
    return task, Scoring(labels, average, y_train, y_test, scaler)


def score_training(output, scoring):
    """The record of one training from `train_network`'s output: scores on the test rows,
    training accuracy, the loss curves, ``diverged_at`` and, if kept, the model (with its
    input scaler) as lists."""
    labels = scoring.labels
    record = scores(scoring.y_test, labels[output["test_prediction"]], labels, scoring.average)
    record["train_accuracy"] = float(accuracy_score(scoring.y_train,
                                                    labels[output["train_prediction"]]))
    record["loss"], record["test_loss"] = output["loss"], output["test_loss"]
    record["diverged_at"] = output["diverged_at"]
    if "weights" in output:
        scaler = scoring.scaler
        record["model"] = {
            "weights": output["weights"], "biases": output["biases"],
            "scaler_mean": None if scaler is None else scaler.mean_.tolist(),
            "scaler_scale": None if scaler is None else scaler.scale_.tolist(),
        }
    return record


def train_and_score(training, X_train, y_train, X_test, y_test, seed, keep_model=False):
    """Train one network on the training rows and score it on the test rows, here.

    The record holds the scores plus the per-epoch training and test loss, ``diverged_at``
    and, with `keep_model`, the trained parameters (see `score_training`).
    """
    (function, args), scoring = training_task(training, X_train, y_train, X_test, y_test,
                                              seed, keep_model)
    return score_training(function(*args), scoring)


def logistic_regression_scores(X_train, y_train, X_test, y_test):
    """The linear baseline of Q3: scikit-learn's LogisticRegression on standardised inputs."""
    scaler = StandardScaler().fit(X_train)
    model = LogisticRegression().fit(scaler.transform(X_train), y_train)
    return scores(y_test, model.predict(scaler.transform(X_test)), np.unique(y_train), "binary")


# ----- aggregation ---------------------------------------------------------------------------


def summarize_folds(folds):
    """Q3's aggregation: metrics averaged over folds, confusion matrices accumulated (summed)."""
    summary = {metric: float(np.mean([fold[metric] for fold in folds])) for metric in METRICS}
    summary["confusion_matrix"] = np.sum([fold["confusion_matrix"] for fold in folds],
                                         axis=0).tolist()
    return summary


# ----- the studies ---------------------------------------------------------------------------

def run_q1():
    """Assignment Q1: the worked forward pass and the gradients of its 2-3-1 network.

    Q1.2 gives no target; y_true = 1 is used for the gradients.
    """
    net = q1_network()
    a0 = np.array([[1.0, 1.0]])
    y_true = np.array([[1.0]])
    activations, zs = net.forward(a0, return_z=True)
    _, grads = net.gradients(a0, y_true)
    formula = q1_formula_gradients(y_true[0, 0])
    difference = max(float(np.max(np.abs(np.ravel(grads[l][k]) - np.ravel(formula[name]))))
                     for l, k, name in ((0, 0, "dW1"), (0, 1, "db1"), (1, 0, "dW2"), (1, 1, "db2")))
    return {
        "z1": zs[0][0].tolist(), "a1": activations[1][0].tolist(),
        "z2": zs[1][0].tolist(), "a2": activations[2][0].tolist(),
        "output": float(activations[2][0, 0]),
        "y_true": 1.0,
        "gradients": {"dW1": grads[0][0].tolist(), "db1": grads[0][1].tolist(),
                      "dW2": grads[1][0].tolist(), "db2": grads[1][1].tolist()},
        "formula_max_abs_difference": difference,
        "gradcheck_relative_error": gradcheck(net, a0, y_true),
    }


Q1_W1 = [[0.4, 0.6, 0.2], [0.3, 0.9, 0.5]]
Q1_B1 = [1.0, 1.0, 1.0]
Q1_W2 = [[0.2], [0.2], [0.8]]
Q1_B2 = [0.5]


def q1_network():
    """The assignment's Q1 network: 2-3-1, sigmoid on both layers, L2 loss."""
    layers = [Layer(2, 3), Layer(3, 1)]
    for layer, W, b in zip(layers, (Q1_W1, Q1_W2), (Q1_B1, Q1_B2)):
        layer.weights, layer.biases = np.array(W), np.array(b)
    return Network(layers, [sigmoid, sigmoid], [d_sigmoid, d_sigmoid], l2_loss, d_l2_loss)


def q1_formula_gradients(y_true):
    """Q1.2's closed-form gradients, in the assignment's column orientation."""
    W1, b1, W2, b2 = (np.array(v, dtype=float) for v in (Q1_W1, Q1_B1, Q1_W2, Q1_B2))
    a0 = np.ones((2, 1))
    z1 = W1.T @ a0 + b1.reshape(-1, 1)
    a1 = sigmoid(z1)
    z2 = W2.T @ a1 + b2.reshape(-1, 1)
    a2 = sigmoid(z2)
    eta = (a2 - y_true) * (sigmoid(z2) * (1 - sigmoid(z2)))
    inner = (W2 @ eta) * (sigmoid(z1) * (1 - sigmoid(z1)))
    return {"dW2": a1 @ eta.T, "db2": eta.T, "dW1": a0 @ inner.T, "db1": inner.T}


def run_q2_5(training):
    """Assignment Q2.5: the 2-4-1 network on iris, full batch; its loss must fall."""
    X, y = datasets.load_q25()
    net = network_for(training, X.shape[1], 1)
    loss = net.train(X, y.astype(float), epochs=training.epochs,
                     learning_rate=training.learning_rate,
                     reg_lambda=training.reg_lambda)["loss"]
    return {"loss": loss.tolist(), "strictly_decreasing": bool(np.all(np.diff(loss) < 0)),
            "train_accuracy": float(np.mean(net.predict(X) == y))}


class CrossValidationStudy:
    """Assignment Q3 on one data set: a training task per fold (``tasks``, run anywhere), and
    the study's record made from their outputs (`assemble`, here), saved as
    ``results[part][name]``."""

    part = "q3"

    def __init__(self, cv, X, y, seed):
        self.cv, self.X, self.y = cv, X, y
        self.name, self.title = cv.name, cv.title
        splitter = StratifiedKFold(n_splits=cv.n_splits, shuffle=True, random_state=seed)
        self.folds = list(splitter.split(X, y))   # (training rows, test rows) per fold
        self.tasks, self.scorings = zip(*(
            training_task(cv.training, X[train], y[train], X[test], y[test], seed + fold,
                          keep_model=True)
            for fold, (train, test) in enumerate(self.folds)))

    def assemble(self, outputs):
        """Q3's record: fold scores averaged, confusion matrices summed, each fold kept, and
        the LogisticRegression baseline on the same folds (computed here: milliseconds)."""
        X, y = self.X, self.y
        folds = [score_training(output, scoring)
                 for output, scoring in zip(outputs, self.scorings, strict=True)]
        baseline_folds = [logistic_regression_scores(X[train], y[train], X[test], y[test])
                          for train, test in self.folds]
        summary = summarize_folds(folds)
        summary["folds"] = folds
        summary["baseline"] = {"name": "LogisticRegression", **summarize_folds(baseline_folds),
                               "folds": baseline_folds}
        summary["n_samples"] = len(y)
        summary["labels"] = np.unique(y).tolist()
        summary["config"] = configs.to_dict(self.cv)
        return summary


class SweepStudy:
    """Assignment Q4: one sweep on `data` (X_train, y_train, X_test, y_test), a training task
    per setting (``tasks``, run anywhere), and the sweep's record from their outputs
    (`assemble`, here), saved as ``results[part][name]``."""

    part = "q4"

    def __init__(self, sweep, data, seed):
        self.sweep, self.data = sweep, data
        self.name, self.title = sweep.name, sweep.title
        self.tasks, self.scorings = zip(*(
            training_task(dataclasses.replace(sweep.base, **{sweep.param: value}), *data, seed)
            for value in sweep.values))

    def assemble(self, outputs):
        sweep, (X_train, y_train, _, _) = self.sweep, self.data
        records = [score_training(output, scoring)
                   for output, scoring in zip(outputs, self.scorings, strict=True)]
        if sweep.param == "hidden":
            # Structures are written as full lists of layer sizes, e.g. [64, 32, 10].
            n_input, n_output = X_train.shape[1], len(np.unique(y_train))
            values = [[n_input, *hidden, n_output] for hidden in sweep.values]
        else:
            values = list(sweep.values)
        result = {"values": values}
        for key in (*METRICS, "train_accuracy", "diverged_at", "loss", "test_loss"):
            result[key] = [record[key] for record in records]
        result["confusion_matrices"] = [record["confusion_matrix"] for record in records]
        result["config"] = configs.to_dict(sweep)
        return result


def load_all(data_dir=None):
    """Every data set of the lab, loaded (and so checked) before any training or writing.

    Returns (data, sources): data is {"linear": (X, y), "nonlinear": (X, y), "digits":
    (X_train, y_train, X_test, y_test)}, sources says where each came from
    (`datasets.load_dataset`). A missing or bad course file raises datasets.DataError.
    """
    data, sources = {}, {}
    for name in ("linear", "nonlinear", "digits"):
        data[name], sources[name] = datasets.load_dataset(name, data_dir)
    for cv in configs.Q3:
        X, y = data[cv.dataset]
        where = f"{cv.title} ({_describe_source(sources[cv.dataset])})"
        labels, counts = np.unique(y, return_counts=True)
        if len(labels) != 2:
            raise datasets.DataError(f"{where}: needs exactly 2 classes, found {len(labels)}")
        if counts.min() < cv.n_splits:
            raise datasets.DataError(
                f"{where}: {cv.n_splits}-fold cross-validation needs at least {cv.n_splits} "
                f"samples of each class; class {labels[counts.argmin()]} has {counts.min()}")
        if X.shape[1] != 2:
            raise datasets.DataError(f"{where}: needs 2 features (the decision boundary is "
                                     f"drawn in the plane), found {X.shape[1]}")
    _, y_train, _, y_test = data["digits"]
    where = f"dataset 2 ({_describe_source(sources['digits'])})"
    if len(np.unique(y_train)) < 2:
        raise datasets.DataError(f"{where}: the training labels hold fewer than 2 classes")
    unseen = np.setdiff1d(y_test, y_train)
    if len(unseen):
        raise datasets.DataError(f"{where}: test labels {unseen.tolist()} never occur in the "
                                 "training labels")
    return data, sources


def _describe_source(source):
    """A source of `datasets.load_dataset` in a few words: its files, or "built-in"."""
    if "built_in" in source:
        return "built-in"
    return ", ".join(record["path"] for record in source["files"])


def run_all(data, seed=0, quick=False, jobs=1, progress=False, sources=None, backend=None):
    """Every experiment of the assignment on `data` (from `load_all`); returns the results
    dict that is saved as results.json. `jobs` and `backend` are as in `run_task_groups`.
    """
    pick = configs.quick if quick else (lambda config: config)
    q2_5 = pick(configs.Q2_5)
    q3 = [pick(cv) for cv in configs.Q3]
    q4 = [pick(sweep) for sweep in configs.Q4]
    results = {
        "mlplab_version": __version__,
        "seed": seed,
        "quick": quick,
        "data": sources,
        "zero_division": ZERO_DIVISION,
        "q1": run_q1(),
        "q2_5": {**run_q2_5(q2_5), "config": configs.to_dict(q2_5)},
        "q3": {},
        "q4": {},
    }
    studies = ([CrossValidationStudy(cv, *data[cv.dataset], seed) for cv in q3]
               + [SweepStudy(sweep, data["digits"], seed) for sweep in q4])
    outputs = run_task_groups([(study.title, study.tasks) for study in studies], jobs,
                              progress, backend)
    for study, study_outputs in zip(studies, outputs):
        results[study.part][study.name] = study.assemble(study_outputs)
    results["q4_baseline"] = configs.to_dict(q4[0].base)
    return results
