"""The estimators' solvers and what surrounds them: SGD (momentum, Nesterov), Adam and L-BFGS,
the learning-rate schedules, convergence (tol, n_iter_no_change, ConvergenceWarning), the fitted
attributes, sample_weight, warm_start, the optimizer's state in model files, parameter checks,
divergence, and MLPRegressor (multi-output, scikit-learn's checks, its loss scaling).

Where a test replays a fit by hand, it builds the network itself (Glorot-uniform weights, then
biases, layer by layer, from default_rng(random_state)), and trains it with `Network.train`, one
epoch per call, with one `mlplab.optimizers` object for all epochs and the same generator.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_blobs, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab as ml
from mlplab import MLPClassifier, MLPRegressor
from mlplab.optimizers import SGD, Adam, Adaptive, InvScaling
from conftest import rewrite_model_file as rewrite

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

# Each solver as the estimators take it, with a learning rate that suits small scaled data.
SOLVERS = {
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate=0.01),
    "sgd-heavy-ball": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False,
                           learning_rate=0.01),
    "sgd-plain": dict(solver="sgd", momentum=0.0, learning_rate=0.05),
    "adam": dict(solver="adam", learning_rate=0.02),
    "lbfgs": dict(solver="lbfgs"),
}
STOCHASTIC = [name for name in SOLVERS if name != "lbfgs"]


# ----- data and helpers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, random_state=2)   # well separated
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=150, random_state=0)
    return StandardScaler().fit_transform(X), y


def weights_of(estimator):
    return [(layer.weights, layer.biases) for layer in estimator.network_.layers]


def assert_same_weights(a, b):
    for (W_a, b_a), (W_b, b_b) in zip(weights_of(a), weights_of(b), strict=True):
        np.testing.assert_array_equal(W_a, W_b)
        np.testing.assert_array_equal(b_a, b_b)


def assert_close_weights(a, b, atol):
    for (W_a, b_a), (W_b, b_b) in zip(weights_of(a), weights_of(b), strict=True):
        np.testing.assert_allclose(W_a, W_b, rtol=0, atol=atol)
        np.testing.assert_allclose(b_a, b_b, rtol=0, atol=atol)


def weights_differ(a, b):
    return any(not np.array_equal(W_a, W_b) for (W_a, _), (W_b, _) in
               zip(weights_of(a), weights_of(b), strict=True))


def network_by_hand(sizes, kind, seed):
    """The estimator's initial network, by the documented recipe (tanh hidden layers), and the
    generator it was drawn from, which then shuffles every epoch."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layer, limit = ml.Layer(n_in, n_out), np.sqrt(6 / (n_in + n_out))
        layer.weights = rng.uniform(-limit, limit, (n_in, n_out))
        layer.biases = rng.uniform(-limit, limit, n_out)
        layers.append(layer)
    hidden, d_hidden = [ml.tanh] * (len(layers) - 1), [ml.d_tanh] * (len(layers) - 1)
    if kind == "classifier":
        network = ml.Network(layers, hidden + [ml.softmax], d_hidden + [None],
                             ml.cross_entropy_loss, ml.d_cross_entropy_softmax)
    else:
        network = ml.Network(layers, hidden + [ml.identity], d_hidden + [ml.d_identity],
                             ml.l2_loss, ml.d_l2_loss)
    return network, rng


def train_by_hand(network, rng, X, Y, rates, optimizer, schedule=None, reg_lambda=1e-3,
                  batch_size=16):
    """One `Network.train` call per epoch at each of `rates`; the epochs' losses."""
    losses = []
    for rate in rates:
        history = network.train(X, Y, epochs=1, learning_rate=rate, reg_lambda=reg_lambda,
                                batch_size=batch_size, seed=rng, optimizer=optimizer,
                                schedule=schedule)
        losses.append(float(history["loss"][0]))
    return losses


def assert_network_is(network, estimator):
    for layer, (W, b) in zip(network.layers, weights_of(estimator), strict=True):
        np.testing.assert_array_equal(layer.weights, W)
        np.testing.assert_array_equal(layer.biases, b)


def problem(kind, blobs, friedman):
    """(estimator class, X, y, network targets Y, layer sizes) of a small problem."""
    if kind == "classifier":
        X, y = blobs
        return MLPClassifier, X, y, np.eye(3)[y], [2, 8, 3]
    X, y = friedman
    return MLPRegressor, X, y, y.reshape(-1, 1), [10, 8, 1]


def optimizer_for(params):
    if params["solver"] == "sgd":
        return SGD(params["momentum"], params["nesterovs_momentum"] and params["momentum"] > 0)
    return Adam(params["beta_1"], params["beta_2"], params["epsilon"])


# Every parameter the hand-made replay depends on, given explicitly.
REPLAYED = dict(hidden_layer_sizes=(8,), activation="tanh", reg_lambda=1e-3, batch_size=16,
                shuffle=True, tol=0.0, n_iter_no_change=10**6, random_state=3,
                momentum=0.9, nesterovs_momentum=True, beta_1=0.8, beta_2=0.99, epsilon=1e-7)


# ----- 1. each solver learns; training is Network.train with the optimizer ------------------

@ignore_convergence
@pytest.mark.parametrize("name", SOLVERS)
def test_each_solver_learns_blobs_iris_and_friedman1(name, blobs, iris, friedman):
    params = dict(activation="tanh", batch_size=16, tol=0.0, random_state=0, **SOLVERS[name])
    for X, y in (blobs, iris):
        clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=50, **params).fit(X, y)
        assert clf.score(X, y) > 0.9, (name, clf.score(X, y))
    X, y = friedman
    reg = MLPRegressor(hidden_layer_sizes=(16,), epochs=60, **params).fit(X, y)
    assert reg.score(X, y) > 0.5, (name, reg.score(X, y))


@ignore_convergence
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("name", STOCHASTIC)
def test_stochastic_fit_is_network_train_with_the_optimizer_by_hand(name, kind, blobs,
                                                                     friedman):
    Estimator, X, y, Y, sizes = problem(kind, blobs, friedman)
    params = {**REPLAYED, **SOLVERS[name]}
    fitted = Estimator(epochs=4, **params).fit(X, y)
    network, rng = network_by_hand(sizes, kind, 3)
    losses = train_by_hand(network, rng, X, Y, [params["learning_rate"]] * 4,
                           optimizer_for(params))
    assert fitted.loss_curve_ == losses
    assert_network_is(network, fitted)
    assert losses[-1] < losses[0]


@ignore_convergence
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("name", ["sgd-nesterov", "adam"])
def test_invscaling_divides_the_rate_by_samples_seen_to_the_power_t(name, kind, blobs,
                                                                    friedman):
    # Documented: lr / (t + 1)^power_t, t the samples seen before the epoch.
    Estimator, X, y, Y, sizes = problem(kind, blobs, friedman)
    params = {**REPLAYED, **SOLVERS[name], "learning_rate": 0.5, "power_t": 0.3}
    fitted = Estimator(epochs=4, learning_rate_schedule="invscaling", **params).fit(X, y)
    rates = [0.5 / (epoch * len(X) + 1) ** 0.3 for epoch in range(4)]
    network, rng = network_by_hand(sizes, kind, 3)
    losses = train_by_hand(network, rng, X, Y, rates, optimizer_for(params))
    assert fitted.loss_curve_ == losses
    assert_network_is(network, fitted)
    # and so with optimizers.InvScaling by hand, one schedule object for all epochs
    network, rng = network_by_hand(sizes, kind, 3)
    schedule = InvScaling(0.3)
    assert train_by_hand(network, rng, X, Y, [0.5] * 4, optimizer_for(params),
                         schedule) == losses
    assert_network_is(network, fitted)
    # the first epoch runs at the full rate; the others differ from a constant rate
    constant = Estimator(epochs=4, **params).fit(X, y)
    assert constant.loss_curve_[0] == fitted.loss_curve_[0]
    assert constant.loss_curve_[1:] != fitted.loss_curve_[1:]


def test_adaptive_divides_the_rate_by_5_after_more_than_n_iter_no_change_stalls(blobs):
    # A huge tol makes every epoch after the first a stall; with n_iter_no_change=1 the rate is
    # divided after epochs 3, 5, 7, ...: lr, lr, lr, lr/5, lr/5, lr/25, lr/25.
    X, y = blobs
    params = {**REPLAYED, **SOLVERS["sgd-heavy-ball"], "learning_rate": 0.1, "tol": 1e9,
              "n_iter_no_change": 1}
    # the stalls divide the rate instead of stopping (it is far above 1e-6): epochs run out
    with pytest.warns(ConvergenceWarning):
        fitted = MLPClassifier(epochs=7, learning_rate_schedule="adaptive", **params).fit(X, y)
    assert fitted.n_iter_ == 7
    rates = [0.1, 0.1, 0.1, 0.02, 0.02, 0.004, 0.004]
    network, rng = network_by_hand([2, 8, 3], "classifier", 3)
    assert train_by_hand(network, rng, X, np.eye(3)[y], rates, optimizer_for(params)) \
        == fitted.loss_curve_
    assert_network_is(network, fitted)
    # and so with optimizers.Adaptive by hand
    network, rng = network_by_hand([2, 8, 3], "classifier", 3)
    assert train_by_hand(network, rng, X, np.eye(3)[y], [0.1] * 7, optimizer_for(params),
                         Adaptive(1e9, 1)) == fitted.loss_curve_


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_adaptive_stops_once_the_rate_is_1e_6_as_scikit_learn(blobs, n_iter_no_change):
    X, y = blobs
    common = dict(hidden_layer_sizes=(8,), solver="sgd", tol=1e9, batch_size=32,
                  n_iter_no_change=n_iter_no_change, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = MLPClassifier(learning_rate=1e-3, learning_rate_schedule="adaptive",
                               epochs=200, **common).fit(X, y)
        theirs = SkMLPClassifier(learning_rate_init=1e-3, learning_rate="adaptive",
                                 max_iter=200, **common).fit(X, y)
    # five divisions by 5, then the sixth run of n_iter_no_change + 1 stalls finds the rate at
    # 1e-3 / 5^5 = 3.2e-7 <= 1e-6 and stops; the first epoch is never a stall
    assert fitted.n_iter_ == 1 + 6 * (n_iter_no_change + 1) == theirs.n_iter_


# ----- 2. convergence and the fitted attributes -----------------------------------------------

@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_iter_no_change", [1, 4])
def test_a_large_tol_stops_as_scikit_learn_without_a_warning(blobs, solver, n_iter_no_change):
    # scikit-learn's rule: stop after more than n_iter_no_change epochs in a row that do not
    # improve best_loss_ by tol. The first epoch always improves on best_loss_ = inf, so with a
    # huge tol training stops after n_iter_no_change + 2 epochs (scikit-learn's count too).
    X, y = blobs
    common = dict(hidden_layer_sizes=(8,), solver=solver, tol=1e9, batch_size=32,
                  n_iter_no_change=n_iter_no_change, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = MLPClassifier(epochs=50, **common).fit(X, y)
        theirs = SkMLPClassifier(max_iter=50, **common).fit(X, y)
    assert fitted.n_iter_ == len(fitted.loss_curve_) == n_iter_no_change + 2 == theirs.n_iter_


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_tol_0_runs_every_epoch_and_warns(kind, blobs, friedman):
    # Full-batch descent with a small rate improves every epoch, so tol=0 never stops it.
    Estimator, X, y, _, _ = problem(kind, blobs, friedman)
    estimator = Estimator(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0,
                          learning_rate=0.01, batch_size=None, tol=0.0, n_iter_no_change=1,
                          epochs=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="epochs=5"):
        estimator.fit(X, y)
    assert estimator.n_iter_ == 5 == len(estimator.loss_curve_)


def test_lbfgs_warns_only_when_it_runs_out_of_iterations(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="lbfgs"):
        short = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", epochs=3,
                              random_state=0).fit(X, y)
    assert short.n_iter_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        converged = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", tol=1e-2, epochs=500,
                                  random_state=0).fit(X, y)
    assert converged.n_iter_ < 500 and converged.score(X, y) > 0.9


CASES = {
    # mlplab estimator, its data, the scikit-learn estimator that must agree on the attributes
    "softmax, 3 classes": (lambda p: MLPClassifier(**p), "blobs",
                           lambda p: SkMLPClassifier(**p)),
    "sigmoid, 2 classes": (lambda p: MLPClassifier(output="sigmoid", **p), "binary",
                           lambda p: SkMLPClassifier(**p)),
    "regressor, 1-D y": (lambda p: MLPRegressor(**p), "friedman", lambda p: SkMLPRegressor(**p)),
    "regressor, 3 targets": (lambda p: MLPRegressor(**p), "friedman3",
                             lambda p: SkMLPRegressor(**p)),
}
EXPECTED_OUTPUT = {"softmax, 3 classes": (3, "softmax"), "sigmoid, 2 classes": (1, "logistic"),
                   "regressor, 1-D y": (1, "identity"), "regressor, 3 targets": (3, "identity")}


def data_named(name, blobs, friedman):
    X, y = {"blobs": blobs, "friedman": friedman, "friedman3": friedman,
            "binary": (blobs[0], blobs[1] == 2)}[name]
    if name == "friedman3":
        y = np.column_stack([y, -y, 2 * y])
    return X, y


@ignore_convergence
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize("case", CASES)
def test_fitted_attributes_as_scikit_learns(case, solver, blobs, friedman):
    make, data, make_theirs = CASES[case]
    X, y = data_named(data, blobs, friedman)
    params = dict(hidden_layer_sizes=(7, 5), solver=solver, random_state=0)
    fitted = make({**params, "epochs": 6, "learning_rate": 0.01}).fit(X, y)
    theirs = make_theirs({**params, "max_iter": 6, "learning_rate_init": 0.01}).fit(X, y)
    n_outputs, out_activation = EXPECTED_OUTPUT[case]
    # shapes: (n_in, n_out) and (n_out,), the network's own arrays
    shapes = [(X.shape[1], 7), (7, 5), (5, n_outputs)]
    assert [W.shape for W in fitted.coefs_] == shapes == [W.shape for W in theirs.coefs_]
    assert [b.shape for b in fitted.intercepts_] == [(7,), (5,), (n_outputs,)] == [
        b.shape for b in theirs.intercepts_]
    for W, b, layer in zip(fitted.coefs_, fitted.intercepts_, fitted.network_.layers,
                           strict=True):
        assert W is layer.weights and b is layer.biases
    assert fitted.n_layers_ == 4 == theirs.n_layers_
    assert fitted.n_outputs_ == n_outputs == theirs.n_outputs_
    assert fitted.out_activation_ == out_activation == theirs.out_activation_
    # the training record
    assert fitted.n_iter_ == len(fitted.loss_curve_) > 0
    assert fitted.loss_ == fitted.loss_curve_[-1]
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert all(np.isfinite(fitted.loss_curve_))
    if solver == "sgd":
        assert fitted.n_iter_ == 6 == theirs.n_iter_
        assert fitted.t_ == fitted.n_iter_ * len(X) == theirs.t_


def test_best_loss_is_the_lowest_loss_not_the_last(blobs):
    # A rate too high for this problem makes the curve go up and down.
    X, y = blobs
    fitted = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", momentum=0.9,
                           learning_rate=3.0, batch_size=16, tol=0.0, n_iter_no_change=100,
                           epochs=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted.fit(X, y)
    assert fitted.loss_curve_ != sorted(fitted.loss_curve_, reverse=True), "not a bumpy curve"
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.loss_ == fitted.loss_curve_[-1]


# ----- 3. predict_log_proba ---------------------------------------------------------------

@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_predict_log_proba_is_the_log_of_predict_proba(blobs, output):
    X, y = blobs
    y = y if output == "softmax" else y == 2
    clf = MLPClassifier(hidden_layer_sizes=(8,), output=output, epochs=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))
    # a probability of exactly 0 is -inf, without a warning
    clf.network_.layers[-1].biases[-1] = 1e4   # P(last class) = 1, the others exactly 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba, log_proba = clf.predict_proba(X), clf.predict_log_proba(X)
    assert np.all(proba[:, 0] == 0) and np.all(proba[:, -1] == 1)
    assert np.all(log_proba[:, 0] == -np.inf) and np.all(log_proba[:, -1] == 0)


# ----- 4. sample_weight -------------------------------------------------------------------

FULL_BATCH = {
    "lbfgs": dict(solver="lbfgs", epochs=15),
    "sgd": dict(solver="sgd", momentum=0.9, learning_rate=0.05, batch_size=None, epochs=15),
}


def fit_quietly(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("solver", FULL_BATCH)
def test_integer_weights_equal_repeated_samples(kind, solver, blobs, friedman):
    Estimator, X, y, _, _ = problem(kind, blobs, friedman)
    weights = np.random.default_rng(0).integers(0, 4, len(X))   # zeros included
    params = dict(hidden_layer_sizes=(6,), activation="tanh", tol=0.0, random_state=1,
                  **FULL_BATCH[solver])
    weighted = fit_quietly(Estimator(**params), X, y, sample_weight=weights)
    repeated = fit_quietly(Estimator(**params), np.repeat(X, weights, axis=0),
                           np.repeat(y, weights, axis=0))
    unweighted = fit_quietly(Estimator(**params), X, y)
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    assert_close_weights(weighted, repeated, atol=1e-10)
    assert not np.allclose(weighted.loss_curve_, unweighted.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("solver", FULL_BATCH)
def test_zero_weights_equal_dropping_the_samples(solver, blobs):
    X, y = blobs
    keep = np.arange(len(X)) % 3 != 0
    params = dict(hidden_layer_sizes=(6,), tol=0.0, random_state=1, **FULL_BATCH[solver])
    weighted = fit_quietly(MLPClassifier(**params), X, y, sample_weight=keep.astype(float))
    dropped = fit_quietly(MLPClassifier(**params), X[keep], y[keep])
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-10)
    assert_close_weights(weighted, dropped, atol=1e-10)


@pytest.mark.parametrize("setting", ["lbfgs", "sgd", "sgd mini-batches"])
def test_scaling_every_weight_by_a_constant_changes_nothing(setting, friedman):
    X, y = friedman
    params = FULL_BATCH["sgd" if setting.startswith("sgd") else "lbfgs"]
    if setting == "sgd mini-batches":
        params = {**params, "batch_size": 32}
    params = dict(hidden_layer_sizes=(6,), tol=0.0, random_state=1, **params)
    weights = np.random.default_rng(0).uniform(0.1, 2.0, len(X))
    a = fit_quietly(MLPRegressor(**params), X, y, sample_weight=weights)
    b = fit_quietly(MLPRegressor(**params), X, y, sample_weight=weights * 37.5)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)
    assert_close_weights(a, b, atol=1e-10)


def test_mini_batch_weighted_fit_differs_from_unweighted(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(6,), solver="sgd", batch_size=16, epochs=3,
                  random_state=1)
    weights = np.random.default_rng(0).uniform(0.1, 2.0, len(X))
    weighted = fit_quietly(MLPClassifier(**params), X, y, sample_weight=weights)
    unweighted = fit_quietly(MLPClassifier(**params), X, y)
    ones = fit_quietly(MLPClassifier(**params), X, y, sample_weight=np.ones(len(X)))
    assert weights_differ(weighted, unweighted)
    assert_close_weights(ones, unweighted, atol=1e-12)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_takes_sample_weight(kind, blobs, friedman):
    Estimator, X, y, _, _ = problem(kind, blobs, friedman)
    weights = np.random.default_rng(0).integers(0, 4, len(X))
    params = dict(hidden_layer_sizes=(6,), solver="sgd", batch_size=None, random_state=1)
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    weighted, repeated, unweighted = Estimator(**params), Estimator(**params), Estimator(**params)
    for _ in range(3):
        weighted.partial_fit(X, y, sample_weight=weights, **extra)
        repeated.partial_fit(np.repeat(X, weights, axis=0), np.repeat(y, weights), **extra)
        unweighted.partial_fit(X, y, **extra)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    assert_close_weights(weighted, repeated, atol=1e-10)
    assert weights_differ(weighted, unweighted)


BAD_WEIGHTS = {
    "wrong length": (lambda n: np.ones(n - 1), r"shape \(150,\)"),
    "negative": (lambda n: np.r_[np.ones(n - 1), -1.0], ">= 0"),
    "NaN": (lambda n: np.r_[np.ones(n - 1), np.nan], "finite"),
    "inf": (lambda n: np.r_[np.ones(n - 1), np.inf], "finite"),
    "all zeros": (lambda n: np.zeros(n), "zero for every sample"),
    "2-D": (lambda n: np.ones((n, 1)), r"shape \(150,\)"),
}
CALLS = {
    "MLPClassifier.fit": lambda X, y, w: MLPClassifier(epochs=1).fit(X, y, sample_weight=w),
    "MLPClassifier lbfgs fit": lambda X, y, w: MLPClassifier(solver="lbfgs", epochs=1).fit(
        X, y, sample_weight=w),
    "MLPClassifier.partial_fit": lambda X, y, w: MLPClassifier().partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=w),
    "MLPRegressor.fit": lambda X, y, w: MLPRegressor(epochs=1).fit(X, y, sample_weight=w),
    "MLPRegressor.partial_fit": lambda X, y, w: MLPRegressor().partial_fit(X, y,
                                                                          sample_weight=w),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("bad", BAD_WEIGHTS)
def test_bad_sample_weight_is_a_value_error_naming_the_problem(bad, call, blobs):
    X, y = blobs
    make_weights, message = BAD_WEIGHTS[bad]
    with pytest.raises(ValueError, match=f"sample_weight.*{message}|{message}.*sample_weight"):
        CALLS[call](X, y, make_weights(len(X)))


@ignore_convergence
# ----- 5. warm_start ------------------------------------------------------------------------

def test_warm_start_continues_from_the_weights_with_a_new_optimizer(blobs):
    X, y = blobs
    params = {**REPLAYED, **SOLVERS["sgd-heavy-ball"], "warm_start": True}
    clf = MLPClassifier(epochs=4, **params).fit(X, y)
    first_curve = list(clf.loss_curve_)
    loss_after_first = clf.network_.loss(X, np.eye(3)[y])
    clf.set_params(epochs=3).fit(X, y)
    assert clf.n_iter_ == 7 == len(clf.loss_curve_) and clf.t_ == 7 * len(X)
    assert clf.loss_curve_[:4] == first_curve
    # the second fit starts near where the first ended, far below where the first started
    assert abs(clf.loss_curve_[4] - loss_after_first) < 0.5 * (first_curve[0] - loss_after_first)
    # by hand: the same weights and generator, and (as scikit-learn) a new optimizer
    network, rng = network_by_hand([2, 8, 3], "classifier", 3)
    losses = train_by_hand(network, rng, X, np.eye(3)[y], [0.01] * 4, SGD(0.9))
    losses += train_by_hand(network, rng, X, np.eye(3)[y], [0.01] * 3, SGD(0.9))
    assert clf.loss_curve_ == losses
    assert_network_is(network, clf)


def test_full_batch_warm_start_begins_at_the_loss_the_first_fit_left(friedman):
    X, y = friedman
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, learning_rate=0.01,
                       batch_size=None, reg_lambda=0.0, epochs=3, tol=0.0, warm_start=True,
                       random_state=0)
    fit_quietly(reg, X, y)
    left = reg.network_.loss(X, y.reshape(-1, 1))
    fit_quietly(reg, X, y)
    np.testing.assert_allclose(reg.loss_curve_[3], left, rtol=1e-12)
    assert reg.n_iter_ == 6


def test_without_warm_start_a_second_fit_starts_from_scratch(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), solver="adam", epochs=3, random_state=2)
    clf = fit_quietly(MLPClassifier(**params), X, y)
    fit_quietly(clf, X, y)
    fresh = fit_quietly(MLPClassifier(**params), X, y)
    assert clf.n_iter_ == 3 and clf.loss_curve_ == fresh.loss_curve_ and clf.t_ == fresh.t_
    assert_same_weights(clf, fresh)


def test_warm_start_with_other_classes_is_a_value_error_and_changes_nothing(blobs):
    X, y = blobs
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), epochs=2, warm_start=True,
                                    random_state=0), X, y)
    before = [(W.copy(), b.copy()) for W, b in weights_of(clf)]
    for other in (np.where(y == 2, 5, y), np.where(y == 2, 1, y)):
        with pytest.raises(ValueError, match="same classes"):
            clf.fit(X, other)
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_iter_ == 2
    for (W, b), (W0, b0) in zip(weights_of(clf), before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_regressor_warm_start_with_another_number_of_targets_is_a_value_error(friedman):
    X, y = friedman
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), epochs=2, warm_start=True), X, y)
    with pytest.raises(ValueError, match="targets"):
        reg.fit(X, np.column_stack([y, y]))


# ----- 6. model files keep the optimizer's state --------------------------------------------

SAVED = {
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, learning_rate=0.01),
    "sgd-heavy-ball": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False,
                           learning_rate=0.01),
    "adam": dict(solver="adam", learning_rate=0.01),
    "adam invscaling": dict(solver="adam", learning_rate=0.05,
                            learning_rate_schedule="invscaling", power_t=0.3),
    # every epoch a stall: the rate is divided twice in the first 5 epochs
    "sgd adaptive": dict(solver="sgd", learning_rate=0.01, learning_rate_schedule="adaptive",
                         tol=1e9, n_iter_no_change=1),
}


@ignore_convergence
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("setting", SAVED)
def test_partial_fit_after_load_continues_bit_for_bit(setting, kind, blobs, friedman, tmp_path):
    Estimator, X, y, _, _ = problem(kind, blobs, friedman)
    original = Estimator(hidden_layer_sizes=(6,), batch_size=32, epochs=5, random_state=0,
                         **SAVED[setting]).fit(X, y)
    assert original.n_iter_ == 5
    path = tmp_path / "model.npz"
    original.save(path)
    loaded = Estimator.load(path)
    for _ in range(3):
        original.partial_fit(X, y)
        loaded.partial_fit(X, y)
        assert_same_weights(original, loaded)
    assert loaded.loss_curve_ == original.loss_curve_ and loaded.n_iter_ == 8
    assert loaded.t_ == original.t_ == 8 * len(X)


@pytest.mark.parametrize("header_change, arrays_change, setting", [
    (None, lambda c: c["optimizer_m"].fill(0.0), "adam"),
    (None, lambda c: c["optimizer_velocity"].fill(0.0), "sgd-nesterov"),
    (lambda h: h["extra"]["schedule"].update(samples_seen=0), None, "adam invscaling"),
    (lambda h: h["extra"]["schedule"].update(divisions=0), None, "sgd adaptive"),
], ids=["adam moments", "velocity", "invscaling's samples seen", "adaptive's divisions"])
def test_the_saved_state_is_what_partial_fit_continues_with(header_change, arrays_change,
                                                            setting, blobs, tmp_path):
    # The file's optimizer and schedule state are used: reset them and training goes otherwise.
    X, y = blobs
    original = fit_quietly(MLPClassifier(hidden_layer_sizes=(6,), batch_size=32, epochs=5,
                                         random_state=0, **SAVED[setting]), X, y)
    path = tmp_path / "model.npz"
    original.save(path)
    rewrite(path, header_change, arrays_change)
    reset = MLPClassifier.load(path)
    original.partial_fit(X, y)
    reset.partial_fit(X, y)
    assert weights_differ(original, reset)


@pytest.fixture
def saved_adam(blobs, tmp_path):
    X, y = blobs
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(6,), epochs=3, solver="adam",
                                    random_state=0), X, y)
    path = tmp_path / "adam.npz"
    clf.save(path)
    return path


@pytest.mark.parametrize("header_change, arrays_change, message", [
    (None, lambda c: c.update(optimizer_m=c["optimizer_m"][:-1]), "optimizer_m.*shape"),
    (None, lambda c: c.update(optimizer_s=np.r_[c["optimizer_s"], 0.0]), "optimizer_s.*shape"),
    (None, lambda c: c.pop("optimizer_m"), "'m' is missing"),
    (None, lambda c: c.update(optimizer_x=np.zeros(3)), "unexpected arrays.*optimizer_x"),
    (None, lambda c: c.update(optimizer_velocity=c["optimizer_m"]),
     "unexpected optimizer arrays.*optimizer_velocity"),
    (lambda h: h["extra"].pop("optimizer_t"), None, "unexpected optimizer arrays"),
    (lambda h: h["extra"].update(optimizer_t=-1), None, "step count t"),
    (None, lambda c: c["optimizer_m"].__setitem__(0, np.nan), "NaN or infinity"),
    # Adam's second moment is a running mean of squares: negative values are impossible
    (None, lambda c: c["optimizer_s"].fill(-1.0), "optimizer|negative|>= 0"),
], ids=["short m", "long s", "m missing", "optimizer_x", "velocity in an adam file",
        "arrays without t", "negative t", "NaN in m", "negative s"])
def test_tampered_optimizer_state_is_a_value_error(saved_adam, header_change, arrays_change,
                                                   message):
    rewrite(saved_adam, header_change, arrays_change)
    with pytest.raises(ValueError, match=message):
        MLPClassifier.load(saved_adam)


@pytest.mark.parametrize("solver, change", [
    ("adam", dict(solver="sgd")),
    ("sgd", dict(momentum=0.0)),
    ("sgd", dict(learning_rate_schedule="adaptive")),
])
def test_a_file_saved_after_set_params_of_the_solver_loads(blobs, tmp_path, solver, change):
    # save() records the network as built even after set_params (hidden_layer_sizes,
    # activation, dtype, output); for the solver it must either refuse to save or write a file
    # that load() reads.
    X, y = blobs
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(4,), epochs=3, solver=solver,
                                    random_state=0), X, y)
    clf.set_params(**change)
    path = tmp_path / "model.npz"
    try:
        clf.save(path)
    except ValueError:
        return   # refusing to save is a fine answer
    loaded = MLPClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("targets", [1, 2], ids=["1-D y", "2-D y"])
def test_regressor_round_trip_is_bit_identical(friedman, tmp_path, targets):
    X, y = friedman
    y = y if targets == 1 else np.column_stack([y, np.sin(y)])
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(6, 4), activation="tanh", epochs=5,
                                   random_state=0), X, y)
    path = tmp_path / "reg.npz"
    reg.save(path)
    loaded = MLPRegressor.load(path)
    predicted = loaded.predict(X)
    assert predicted.shape == y.shape == reg.predict(X).shape
    np.testing.assert_array_equal(predicted, reg.predict(X))
    assert loaded.get_params() == reg.get_params() and loaded.loss_curve_ == reg.loss_curve_
    reg.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_same_weights(reg, loaded)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_a_one_column_y_predicts_the_same_shape_after_a_model_file(friedman, tmp_path):
    # Whether a column y predicts a column or (as scikit-learn) 1-D, the file keeps it.
    X, y = friedman
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0),
                      X, y.reshape(-1, 1))
    assert reg.predict(X).shape in {(len(X),), (len(X), 1)}
    reg.save(tmp_path / "column.npz")
    loaded = MLPRegressor.load(tmp_path / "column.npz")
    assert loaded.predict(X).shape == reg.predict(X).shape
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


# ----- 7. bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("params", [
    {"solver": "foo"}, {"momentum": 1.0}, {"momentum": -0.1}, {"beta_1": 1.0},
    {"beta_2": 1.0}, {"epsilon": 0}, {"tol": -1}, {"n_iter_no_change": 0},
    {"learning_rate_schedule": "x"}, {"power_t": -1}, {"max_fun": 0}, {"batch_size": "big"},
    {"nesterovs_momentum": "yes"},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_out_of_range_parameters_raise_invalid_parameter_error(Estimator, params, blobs):
    X, y = blobs
    estimator = Estimator(**params)   # nothing is checked before fit, as scikit-learn
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        estimator.fit(X, y)
    assert not hasattr(estimator, "network_")


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_lbfgs_has_no_partial_fit_as_scikit_learn(Estimator, blobs):
    # As scikit-learn's MLPClassifier. (scikit-learn 1.9's MLPRegressor means to do the same but
    # its available_if tests `est._check_solver` without calling it, so it always has one.)
    X, y = blobs
    assert not hasattr(Estimator(solver="lbfgs"), "partial_fit")
    assert not hasattr(SkMLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(Estimator(solver="sgd"), "partial_fit")
    with pytest.raises(AttributeError) as caught:
        Estimator(solver="lbfgs").partial_fit(X, y)
    assert "lbfgs" in f"{caught.value} {caught.value.__cause__}"
    # and a fitted lbfgs estimator has none either
    fitted = fit_quietly(Estimator(hidden_layer_sizes=(4,), solver="lbfgs", epochs=2), X, y)
    assert not hasattr(fitted, "partial_fit")


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy may warn first
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_divergent_run_raises_divergence_error_and_keeps_finite_weights(kind, blobs,
                                                                          friedman):
    Estimator, X, y, _, _ = problem(kind, blobs, friedman)
    # n_iter_no_change high: else a loss stuck at a huge value counts as converged first
    estimator = Estimator(hidden_layer_sizes=(8,), activation="relu", solver="sgd",
                          momentum=0.9, learning_rate=1e6, batch_size=32, epochs=50,
                          n_iter_no_change=1000, random_state=0)
    with pytest.raises(ml.DivergenceError, match="non-finite") as caught:
        estimator.fit(X * 1e3, y)
    assert caught.value.epoch == estimator.n_iter_ == len(estimator.loss_curve_) < 50
    for W, b in weights_of(estimator):
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    assert np.all(np.isfinite(estimator.loss_curve_))


# ----- 8. MLPRegressor ----------------------------------------------------------------------

def test_multi_output_regression(friedman):
    X, y = friedman
    Y = np.column_stack([y, -y, 0.5 * y + 1])
    reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", epochs=40, random_state=0)
    fit_quietly(reg, X, Y)
    predicted = reg.predict(X)
    assert predicted.shape == (len(X), 3) and reg.n_outputs_ == 3
    assert reg.score(X, Y) == pytest.approx(r2_score(Y, predicted), rel=1e-12)
    assert reg.score(X, Y) > 0.5
    # 1-D y predicts 1-D
    single = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0), X, y)
    assert single.predict(X).shape == (len(X),)


def test_partial_fit_with_another_number_of_targets_is_a_value_error(friedman):
    X, y = friedman
    Y = np.column_stack([y, -y, y])
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", random_state=0)
    reg.partial_fit(X, Y)
    for other in (Y[:, :2], y):
        with pytest.raises(ValueError, match="targets"):
            reg.partial_fit(X, other)
    assert reg.n_iter_ == 1
    reg.partial_fit(X, Y)
    assert reg.n_iter_ == 2 and reg.predict(X).shape == (len(X), 3)


def regressor_expected_failures(estimator):
    if estimator.solver == "lbfgs":
        # Weighting is exact (test_integer_weights_equal_repeated_samples, 15 iterations, 1e-10);
        # the check's L-BFGS runs 78 (repeated) and 169 (weighted) iterations on 15 samples and
        # 3201 parameters, where the rounding of another summation order grows about tenfold
        # per 5 iterations. (scikit-learn's own lbfgs passes: its objective stops in 19.)
        return {"check_sample_weight_equivalence_on_dense_data":
                "a long L-BFGS run amplifies the rounding of another summation order (1e-14 "
                "apart after 20 iterations, 1e-8 after 50, 0.1 after 100)"}
    return {}


@ignore_convergence
@parametrize_with_checks([MLPRegressor(), MLPRegressor(solver="sgd", learning_rate=0.01),
                          MLPRegressor(solver="lbfgs")],
                         expected_failed_checks=regressor_expected_failures)
def test_scikit_learn_regressor_checks(estimator, check):
    check(estimator)


# ----- 9. the regressor's loss scaling --------------------------------------------------------

@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor_loss_is_half_the_squared_error_summed_over_targets(friedman, n_targets):
    # MLPRegressor's docstring: 1/2 * sum over targets of (y - y_hat)^2, averaged over samples;
    # loss_curve_[0] of one full-batch epoch is that of the initial network (before the step).
    X, y = friedman
    Y = y.reshape(-1, 1) * np.arange(1, n_targets + 1)
    reg = MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="sgd",
                       learning_rate=0.01, batch_size=None, epochs=1, random_state=4)
    fit_quietly(reg, X, Y if n_targets > 1 else y)
    network, _ = network_by_hand([10, 5, n_targets], "regressor", 4)
    (W1, b1), (W2, b2) = [(layer.weights, layer.biases) for layer in network.layers]
    predicted = np.tanh(X @ W1 + b1) @ W2 + b2
    expected = np.mean(0.5 * np.sum((Y - predicted) ** 2, axis=1))
    assert reg.loss_curve_[0] == pytest.approx(expected, rel=1e-12)
    # scikit-learn's squared error also divides by the number of targets
    assert reg.loss_curve_[0] == pytest.approx(n_targets * np.mean((Y - predicted) ** 2) / 2,
                                               rel=1e-12)


# ----- after a review: refused input changes nothing; one stall count; set_params ----------

def test_input_refused_by_fit_or_partial_fit_leaves_the_estimator_as_it_was(blobs, friedman):
    X, y = blobs
    classifier = MLPClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, y)
    before = dict(vars(classifier))
    labels = np.array(["a", "b"])[np.arange(len(y)) % 2]
    with pytest.raises(ValueError, match="zero for every sample"):
        classifier.fit(X, labels, sample_weight=np.zeros(len(y)))
    assert vars(classifier).keys() == before.keys()
    assert all(vars(classifier)[key] is value for key, value in before.items())
    assert classifier.predict(X).dtype == y.dtype
    # One weighted sample of 12: where the validation split holds it out, nothing is left to
    # train on; the estimator, which had to start a network to draw the split, stays unfitted.
    weights = np.zeros(12)
    weights[0] = 1.0
    refused = 0
    for seed in range(10):
        early = MLPClassifier(hidden_layer_sizes=(4,), epochs=3, early_stopping=True,
                              validation_fraction=0.5, random_state=seed)
        try:
            early.fit(X[:12], y[:12], sample_weight=weights)
        except ValueError as exc:
            assert "left to train on" in str(exc)
            assert not hasattr(early, "network_") and not hasattr(early, "classes_")
            refused += 1
    assert 0 < refused < 10
    X_r, y_r = friedman
    regressor = MLPRegressor(hidden_layer_sizes=(4,), epochs=3, random_state=0)
    regressor.fit(X_r, np.c_[y_r, y_r])
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        regressor.fit(X_r, y_r, sample_weight=-np.ones(len(y_r)))
    assert regressor.predict(X_r).shape == (len(y_r), 2)


def test_warm_start_with_the_adaptive_schedule_counts_the_stalls_once(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), solver="sgd", tol=1e9, batch_size=32,
                  n_iter_no_change=1, learning_rate=1e-3, learning_rate_schedule="adaptive",
                  epochs=200, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MLPClassifier(**params).fit(X, y)
        first = model.n_iter_
        model.fit(X, y)   # a new optimizer and schedule: the same count of stalls again
    assert first == 1 + 6 * 2 and model.n_iter_ == 2 * first


def test_set_params_of_a_setting_the_solver_does_not_use_keeps_its_state(blobs):
    X, y = blobs
    kept = MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, [0, 1, 2])
    again = MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, [0, 1, 2])
    again.set_params(tol=0.5, max_fun=10, momentum=0.5)   # not Adam's
    kept.partial_fit(X, y)
    again.partial_fit(X, y)
    assert_same_weights(kept, again)
    again.set_params(beta_1=0.5)   # Adam's: a new optimizer from here on
    kept.partial_fit(X, y)
    again.partial_fit(X, y)
    assert weights_differ(kept, again)
