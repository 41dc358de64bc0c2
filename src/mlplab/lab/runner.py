"""Run the assignment's experiments and return plain records (dicts of numbers and lists).

One function does the work: `train_and_score(training, split, seed)` trains a fresh network on
a split's training rows and scores it on its test rows. A study (a cross-validation, a sweep)
is a list of such calls and a function that assembles their records; `run_studies` maps the
calls of any studies (here one after another, or on local workers, or on a Dask cluster) and
gets exactly the same numbers either way: each call's randomness comes from its own seed.
`run_all` is every study of the assignment, and `write` saves a run: results.json, the fold-1
model files, the figures and the report.
"""

import dataclasses
import json
import pathlib
import warnings

import numpy as np
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from .. import Layer, Network, __version__, _model_file, _parallel, assignment, build_network
from .._files import strict_json
from .._progress import Progress
from .. import datasets, gradcheck
from ..errors import DivergenceError
from ..functions import d_l2_loss, d_sigmoid, l2_loss, sigmoid, smooth_labels
from . import configs, figures, findings, report
from .configs import METRICS

# Folds or settings where a class is never predicted make precision (and so F1) 0/0: scored
# as 0 rather than warned about (zero_division=0), and said so in the report.
ZERO_DIVISION = 0


def scores(y_true, y_pred, labels, average):
    """Accuracy, precision, recall, F1 and the confusion matrix, by scikit-learn."""
    kwargs = {"pos_label": labels[-1]} if average == "binary" else {"labels": labels}
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average=average, zero_division=ZERO_DIVISION, **kwargs)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "precision": float(precision),
            "recall": float(recall), "f1": float(f1),
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()}


def network_for(training, n_input, n_output):
    """A fresh Network for `training` (a configs.Training) with the given input/output widths."""
    return build_network((n_input, *training.hidden, n_output), training.activation,
                         training.output, reg_convention=training.reg_convention)


def train_and_score(training, split, seed, keep_model=False):
    """Train a fresh network on a split's training rows and score it on its test rows.

    `split` is (X_train, y_train, X_test, y_test) with 1-D class labels. A sigmoid output is
    trained on 0/1 targets (binary only), a softmax output on one-hot rows (column k: the k-th
    smallest training label), smoothed if the config asks (the test targets too, so that the
    train and test loss curves measure the same objective). Inputs are standardised if the
    config asks, by a scaler fitted on the training rows only. `seed` draws the mini-batches.

    Returns the test scores (`scores`), ``train_accuracy``, the per-epoch ``loss`` and
    ``test_loss``, ``diverged_at`` (the epoch where training stopped on a non-finite step,
    else None; the network is scored with its last finite weights) and, with `keep_model`,
    ``model``: the trained Network and the scaler's ``input_mean`` and ``input_scale``.
    """
    X_train, y_train, X_test, y_test = split
    labels = np.unique(y_train)
    scaler = StandardScaler().fit(X_train) if training.standardize else None
    if scaler is not None:
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if training.output == "softmax":
        Y_train, Y_test = datasets.one_hot_encode(y_train, y_test)
    elif len(labels) != 2:
        raise ValueError(f"a sigmoid output needs 2 classes, got {len(labels)}")
    else:
        Y_train, Y_test = (y_train == labels[1]) * 1.0, (y_test == labels[1]) * 1.0
    if training.label_smoothing:
        Y_train = smooth_labels(Y_train, training.label_smoothing)
        Y_test = smooth_labels(Y_test, training.label_smoothing)
    net = network_for(training, X_train.shape[1], 1 if Y_train.ndim == 1 else Y_train.shape[1])
    diverged_at = None
    try:
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging step: diverged_at
            history = net.train(X_train, Y_train, epochs=training.epochs,
                                learning_rate=training.learning_rate,
                                reg_lambda=training.reg_lambda, batch_size=training.batch_size,
                                seed=seed, validation_data=(X_test, Y_test))
    except DivergenceError as exc:
        diverged_at, history = exc.epoch, exc.history
    result = scores(y_test, labels[net.predict(X_test)], labels,
                    "macro" if training.output == "softmax" else "binary")
    result.update(train_accuracy=float(accuracy_score(y_train, labels[net.predict(X_train)])),
                  loss=history["loss"].tolist(), test_loss=history["val_loss"].tolist(),
                  diverged_at=diverged_at)
    if keep_model:
        result["model"] = {"network": net,
                           "input_mean": None if scaler is None else scaler.mean_.tolist(),
                           "input_scale": None if scaler is None else scaler.scale_.tolist()}
    return result


def sample_epochs(call):
    """The training work of a `train_and_score` call: epochs x training rows."""
    training, split = call[0], call[1]
    return training.epochs * len(split[0])


def multiply_adds(call):
    """A `train_and_score` call's sample-epochs times its network's weights: how long it
    takes, roughly, to run the longest calls first."""
    training, (X_train, y_train, *_) = call[0], call[1]
    n_output = len(np.unique(y_train)) if training.output == "softmax" else 1
    sizes = (X_train.shape[1], *training.hidden, n_output)
    return sample_epochs(call) * sum(a * b for a, b in zip(sizes, sizes[1:]))


# ----- Q1 and Q2.5: one network each, run here ---------------------------------------------

def q1_network():
    """The assignment's Q1 network: 2-3-1, sigmoid on both layers, L2 loss."""
    layers = [Layer(2, 3), Layer(3, 1)]
    for layer, W, b in zip(layers, ("W1", "W2"), ("b1", "b2")):
        layer.weights, layer.biases = np.array(assignment.Q1[W]), np.array(assignment.Q1[b])
    return Network(layers, [sigmoid, sigmoid], [d_sigmoid, d_sigmoid], l2_loss, d_l2_loss)


def run_q1():
    """Q1: the worked forward pass, and the Q1.2 gradients by the closed-form formulas (in
    the assignment's column orientation) beside the network's backpropagation."""
    net, given = q1_network(), assignment.Q1
    a0 = np.array([given["input"]])
    y_true = np.array([[given["y_true"]]])
    activations, zs = net.forward(a0, return_z=True)
    _, grads = net.gradients(a0, y_true)
    W1, b1, W2, b2 = (np.array(given[key]) for key in ("W1", "b1", "W2", "b2"))
    z1 = W1.T @ a0.T + b1[:, None]
    z2 = W2.T @ sigmoid(z1) + b2[:, None]
    eta = (sigmoid(z2) - y_true) * sigmoid(z2) * (1 - sigmoid(z2))        # dL/dz2, (1, 1)
    delta1 = (W2 @ eta) * sigmoid(z1) * (1 - sigmoid(z1))                 # dL/dz1, (3, 1)
    formula = {"dW1": a0.T @ delta1.T, "db1": delta1.T, "dW2": sigmoid(z1) @ eta.T,
               "db2": eta.T}
    backprop = {"dW1": grads[0][0], "db1": grads[0][1], "dW2": grads[1][0], "db2": grads[1][1]}
    return {
        "z1": zs[0][0].tolist(), "a1": activations[1][0].tolist(),
        "z2": zs[1][0].tolist(), "a2": activations[2][0].tolist(),
        "given": given, "output": float(activations[2][0, 0]), "y_true": given["y_true"],
        "gradients": {name: value.tolist() for name, value in backprop.items()},
        "formula_max_abs_difference": max(float(np.max(np.abs(
            np.ravel(backprop[name]) - np.ravel(formula[name])))) for name in formula),
        "gradcheck_relative_error": gradcheck(net, a0, y_true),
    }


def run_q2_5(training):
    """Q2.5: the 2-4-1 network on iris, full batch; its loss must fall at every epoch."""
    X, y = assignment.load_q25()
    net = network_for(training, X.shape[1], 1)
    loss = net.train(X, y * 1.0, epochs=training.epochs, learning_rate=training.learning_rate,
                     reg_lambda=training.reg_lambda)["loss"]
    return {"loss": loss.tolist(), "strictly_decreasing": bool(np.all(np.diff(loss) < 0)),
            "train_accuracy": float(np.mean(net.predict(X) == y)),
            "config": configs.to_dict(training)}


# ----- Q3 and Q4: studies of many trainings ----------------------------------------------

def _folds(cv, y, seed):
    splitter = StratifiedKFold(n_splits=cv.n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def study_calls(study, data, seed):
    """The `train_and_score` calls (argument tuples) of a CrossValidation or a Sweep; `data`
    is (X, y) for a cross-validation, (X_train, y_train, X_test, y_test) for a sweep."""
    if isinstance(study, configs.CrossValidation):
        X, y = data
        return [(study.training, (X[train], y[train], X[test], y[test]), seed + fold, fold == 0)
                for fold, (train, test) in enumerate(_folds(study, y, seed))]
    return [(dataclasses.replace(study.base, **{study.param: value}), data, seed)
            for value in study.values]


def assemble(study, data, records, seed):
    """A study's record from its calls' records, in the order of `study_calls`."""
    if isinstance(study, configs.CrossValidation):
        return _assemble_cross_validation(study, *data, records, seed)
    X_train, y_train, _, y_test = data
    n_input, n_output = X_train.shape[1], len(np.unique(y_train))
    layers = [[n_input, *(value if study.param == "hidden" else study.base.hidden), n_output]
              for value in study.values]
    result = {"values": [list(v) if study.param == "hidden" else v for v in study.values],
              "layers": layers,
              "n_parameters": [sum(a * b + b for a, b in zip(s, s[1:])) for s in layers],
              "n_train": len(y_train), "n_test": len(y_test)}
    for key in (*METRICS, "train_accuracy", "diverged_at", "loss", "test_loss"):
        result[key] = [record[key] for record in records]
    result["confusion_matrices"] = [record["confusion_matrix"] for record in records]
    result["config"] = configs.to_dict(study)
    return result


def _assemble_cross_validation(cv, X, y, records, seed):
    """Q3's record: fold scores averaged, confusion matrices summed, each fold kept; the
    LogisticRegression baseline on the same folds; and how well a line fits all the data."""
    baseline = []
    for train, test in _folds(cv, y, seed):
        scaler = StandardScaler().fit(X[train])
        model = LogisticRegression().fit(scaler.transform(X[train]), y[train])
        baseline.append(scores(y[test], model.predict(scaler.transform(X[test])),
                               np.unique(y), "binary"))
    # How far from linearly separable: a nearly unregularised linear model on every point.
    X_scaled = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():   # on separable data its weights grow without bound
        warnings.simplefilter("ignore", ConvergenceWarning)
        line = LogisticRegression(C=1e6, max_iter=10_000).fit(X_scaled, y)
    errors = int(np.sum(line.predict(X_scaled) != y))
    labels, counts = np.unique(y, return_counts=True)
    return {**summarize_folds(records), "folds": records,
            "baseline": {"name": "LogisticRegression", **summarize_folds(baseline),
                         "folds": baseline},
            "linear_fit": {"separable": linearly_separable(X, y), "errors": errors,
                           "accuracy": 1 - errors / len(y)},
            "n_samples": len(y), "labels": labels.tolist(), "class_counts": counts.tolist(),
            "config": configs.to_dict(cv)}


def linearly_separable(X, y):
    """Whether a hyperplane separates the two classes of `y`, exactly: a linear program looks
    for w, b with s_i (w . x_i + b) >= 1 for every sample (s_i = +-1 by class)."""
    sign = np.where(y == y.max(), 1.0, -1.0)
    rows = -sign[:, None] * np.column_stack([X, np.ones(len(X))])
    found = linprog(np.zeros(X.shape[1] + 1), A_ub=rows, b_ub=-np.ones(len(X)),
                    bounds=(None, None), method="highs")
    return bool(found.status == 0)   # 2: infeasible, no such line


def summarize_folds(folds):
    """Q3's aggregation: metrics averaged over folds, confusion matrices accumulated (summed)."""
    summary = {metric: float(np.mean([fold[metric] for fold in folds])) for metric in METRICS}
    summary["confusion_matrix"] = np.sum([fold["confusion_matrix"] for fold in folds],
                                         axis=0).tolist()
    return summary


def headline(record):
    """One line of a finished study's record, for the console."""
    config = record["config"]
    if "baseline" in record:
        return (f"{config['title']}: accuracy {record['accuracy']:.4f} "
                f"(LogisticRegression {record['baseline']['accuracy']:.4f})")
    best = int(np.argmax(record["accuracy"]))
    return (f"{config['title']}: test accuracy {min(record['accuracy']):.4f} to "
            f"{record['accuracy'][best]:.4f} (highest at {configs.setting_name(record, best)})")


def run_studies(studies, data, seed=0, jobs=1, backend=None, progress=None):
    """({study name: record}, {model name: fold-1 model}) of `studies` (CrossValidations and
    Sweeps), on `data` (from `load_all`): every training of them mapped at once, here one after
    another (``jobs=1``) or over workers, the costliest first; the same numbers either way."""
    progress = progress or Progress(False)
    runs = [(study, data[study.dataset] if isinstance(study, configs.CrossValidation)
             else data["digits"]) for study in studies]
    calls = [(s, call) for s, (study, study_data) in enumerate(runs)
             for call in study_calls(study, study_data, seed)]
    progress.start(sum(sample_epochs(call) for _, call in calls))
    waiting = [sum(s == study for s, _ in calls) for study in range(len(runs))]
    records, done, models = [{} for _ in runs], {}, {}
    for n, record in _parallel.map_unordered(train_and_score, [call for _, call in calls], jobs,
                                             backend, cost=multiply_adds):
        s, call = calls[n]
        progress.advance(sample_epochs(call))
        records[s][n] = record
        if len(records[s]) == waiting[s]:   # the study's last training: its record, and a line
            (study, study_data), ordered = runs[s], [records[s][k] for k in sorted(records[s])]
            if "model" in ordered[0]:
                models[configs.fold1_model(study.name)] = ordered[0].pop("model")
            done[study.name] = assemble(study, study_data, ordered, seed)
            progress.say(headline(done[study.name]))
    return {study.name: done[study.name] for study, _ in runs}, models


# ----- everything ------------------------------------------------------------------------------

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
    return ", ".join(record["path"] for record in source.get("files", [])) or "built-in"


def run_all(data, seed=0, quick=False, jobs=1, backend=None, progress=None, sources=None,
            studies=(configs.Q2_5, configs.Q3, configs.Q4)):
    """Every experiment of the assignment on `data` (from `load_all`).

    Returns (results, models): results is the dict saved as results.json (with the
    `findings` computed from it), models maps `configs.fold1_model(name)` to the `model` of that
    fold's training. `studies` is (Q2.5's Training, the Q3 CrossValidations, the Q4 Sweeps);
    `quick` shrinks each (`configs.quick`); `jobs`, `backend` and `progress` as in
    `run_studies`.
    """
    pick = configs.quick if quick else (lambda config: config)
    q2_5, q3, q4 = pick(studies[0]), [pick(cv) for cv in studies[1]], [pick(s) for s in studies[2]]
    results = {"mlplab_version": __version__, "seed": seed, "quick": quick, "data": sources,
               "zero_division": ZERO_DIVISION, "q1": run_q1(), "q2_5": run_q2_5(q2_5)}
    records, models = run_studies(q3 + q4, data, seed, jobs, backend, progress)
    results.update(q3={cv.name: records[cv.name] for cv in q3},
                   q4={sweep.name: records[sweep.name] for sweep in q4},
                   q4_baseline=configs.to_dict(q4[0].base) if q4 else None)
    results["findings"] = findings.compute(results)
    return results, models


def write(results, models, data, folder, jobs=1, progress=None):
    """Save a run into `folder`: results.json (strict JSON: a diverged curve's NaN as null),
    models/ (the fold-1 networks, their input scaler in the header), figures/ and the report.
    Returns a note saying why report.pdf was not written, or None."""
    folder = pathlib.Path(folder)
    progress = progress or Progress(False)
    text = strict_json(results, indent=1)
    (folder / "results.json").write_text(text, encoding="utf-8")
    results = json.loads(text)   # the figures and the report read what results.json holds
    (folder / "models").mkdir()
    for name, model in models.items():
        _model_file.save_network(model["network"], folder / "models" / f"{name}.npz",
                                 extra={"input_mean": model["input_mean"],
                                        "input_scale": model["input_scale"]})
    progress.step("drawing the figures")
    drawn = figures.make_all(results, data, folder, jobs, on_figure=progress.count)
    progress.step("writing the report")
    return report.write_report(results, drawn, folder)[1]
