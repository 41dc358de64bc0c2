"""mlplab's estimators with their defaults against scikit-learn's MLP with its defaults.

    python benchmarks/defaults.py [--seeds 0-4] [--sets iris,wine] [--set KEY=VALUE ...]
                                  [--markdown]

For every data set, scaler (StandardScaler, MinMaxScaler) and seed, the same pipeline
``make_pipeline(scaler, estimator(random_state=seed))`` is fitted with mlplab's estimator and
with scikit-learn's, on the same folds, the two taking turns fold by fold, at one BLAS thread
each (threadpoolctl). Classifiers are scored by accuracy, regressors by R^2:
- digits-course: dataset 2 as `mlplab run` builds it (scikit-learn's digits / 16, the first 898
  rows to train, the last 899 to test), one split;
- iris, wine, breast_cancer: scikit-learn's, stratified 5-fold cross-validation (shuffled with
  the seed);
- moons, circles, classification: generated 2-D and tabular sets (make_moons(500, noise=0.3),
  make_circles(500, noise=0.2, factor=0.5), make_classification(600, 20 features, 3 classes)),
  stratified 5-fold;
- diabetes (regression): scikit-learn's, 5-fold; friedman1: make_friedman1(500, noise=1), 5-fold.

Per data set and scaler it prints the mean, min and max over the seeds of each library's score
(each seed's score the mean over its folds) and the ratio of mlplab's total fit time to
scikit-learn's. ``--set`` changes an mlplab parameter (to try other defaults); ``--markdown``
prints the table for benchmarks/README.md.
"""

import argparse
import platform
import warnings
from functools import partial

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits
from timing import time_calls

import mlplab as ml
from mlplab.datasets import load_digits_split

SCALERS = {"StandardScaler": StandardScaler, "MinMaxScaler": MinMaxScaler}


def classification_sets():
    X_train, y_train, X_test, y_test = load_digits_split()
    yield "digits-course", X_train, y_train, (X_test, y_test)
    for name in ("iris", "wine", "breast_cancer"):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        yield name, X, y, None
    yield "moons", *datasets.make_moons(500, noise=0.3, random_state=0), None
    yield "circles", *datasets.make_circles(500, noise=0.2, factor=0.5, random_state=0), None
    yield "classification", *datasets.make_classification(
        600, n_features=20, n_informative=8, n_classes=3, random_state=0), None


def regression_sets():
    yield "diabetes", *datasets.load_diabetes(return_X_y=True), None
    yield "friedman1", *datasets.make_friedman1(500, noise=1.0, random_state=0), None


def splits(X, y, test, seed, classifier):
    """(X_train, y_train, X_test, y_test) of each fold."""
    if test is not None:
        yield X, y, *test
        return
    folds = (StratifiedKFold if classifier else KFold)(5, shuffle=True, random_state=seed)
    for train, held_out in folds.split(X, y):
        yield X[train], y[train], X[held_out], y[held_out]


def timed_score(pipeline, X_train, y_train, X_test, y_test):
    elapsed = time_calls(lambda: pipeline.fit(X_train, y_train), 1)
    return pipeline.score(X_test, y_test), elapsed


def run(seeds, only, settings):
    rows = []
    for classifier, sets, ours, theirs in (
            (True, classification_sets(), ml.MLPClassifier, SkClassifier),
            (False, regression_sets(), ml.MLPRegressor, SkRegressor)):
        for name, X, y, test in sets:
            if only and name not in only:
                continue
            for scaler_name, scaler in SCALERS.items():
                scores = {"mlplab": [], "scikit-learn": []}
                times = {"mlplab": 0.0, "scikit-learn": 0.0}
                for seed in seeds:
                    fold_scores = {"mlplab": [], "scikit-learn": []}
                    for X_train, y_train, X_test, y_test in splits(X, y, test, seed, classifier):
                        for label, make in (("mlplab", partial(ours, random_state=seed,
                                                               **settings)),
                                            ("scikit-learn", partial(theirs, random_state=seed))):
                            score, elapsed = timed_score(make_pipeline(scaler(), make()),
                                                         X_train, y_train, X_test, y_test)
                            fold_scores[label].append(score)
                            times[label] += elapsed
                    for label, values in scores.items():
                        values.append(float(np.mean(fold_scores[label])))
                row = (name, scaler_name, "accuracy" if classifier else "R^2", scores,
                       times["mlplab"] / times["scikit-learn"], times)
                rows.append(row)
                print_row(row)
    return rows


def print_row(row):
    name, scaler, metric, scores, ratio, times = row
    ours, theirs = np.array(scores["mlplab"]), np.array(scores["scikit-learn"])
    verdict = "ok" if ours.mean() >= theirs.mean() and ratio <= 0.7 else "BELOW"
    print(f"{name:15} {scaler:15} {metric:8} mlplab {ours.mean():.4f} [{ours.min():.4f}, "
          f"{ours.max():.4f}]  scikit-learn {theirs.mean():.4f} [{theirs.min():.4f}, "
          f"{theirs.max():.4f}]  time ratio {ratio:.2f} ({times['mlplab']:.1f} s / "
          f"{times['scikit-learn']:.1f} s)  {verdict}", flush=True)


def markdown(rows, seeds):
    print("\n| data set | scaler | score | mlplab mean [min, max] | scikit-learn mean [min, max] "
          "| fit time, mlplab / scikit-learn |\n|---|---|---|---|---|---|")
    for name, scaler, metric, scores, ratio, times in rows:
        ours, theirs = np.array(scores["mlplab"]), np.array(scores["scikit-learn"])
        print(f"| {name} | {scaler} | {metric} | {ours.mean():.4f} [{ours.min():.4f}, "
              f"{ours.max():.4f}] | {theirs.mean():.4f} [{theirs.min():.4f}, {theirs.max():.4f}]"
              f" | {ratio:.2f} ({times['mlplab']:.1f} s / {times['scikit-learn']:.1f} s) |")
    print(f"\nSeeds {seeds[0]}-{seeds[-1]}; one BLAS thread each.")


def parse_seeds(text):
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def parse_setting(text):
    key, _, value = text.partition("=")
    for convert in (int, float):
        try:
            return key, convert(value)
        except ValueError:
            pass
    return key, {"None": None, "True": True, "False": False}.get(value, value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-4"))
    parser.add_argument("--sets", type=lambda text: set(text.split(",")), default=set())
    parser.add_argument("--set", dest="settings", type=parse_setting, action="append",
                        default=[])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    blas = [f"{info['internal_api']} {info.get('version')}" for info in threadpool_info()
            if info["user_api"] == "blas"]
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}, mlplab {ml.__version__}, BLAS {', '.join(blas)}; one BLAS "
          f"thread; mlplab settings {dict(args.settings) or 'default'}")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    with threadpool_limits(1, user_api="blas"):
        rows = run(args.seeds, args.sets, dict(args.settings))
    if args.markdown:
        markdown(rows, args.seeds)


if __name__ == "__main__":
    main()
