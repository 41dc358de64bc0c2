"""MLPClassifier: scikit-learn's estimator checks, and what the wrapper adds around Network."""

import functools
import pickle
import warnings

import numpy as np
import pytest
import scipy.special
from sklearn.datasets import load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab as ml
from mlplab import MLPClassifier
from mlplab.datasets import load_linear
from conftest import rewrite_model_file as rewrite


def softplus(z):
    """log(1 + e^z), a smooth relu; not in mlplab's registry."""
    return np.logaddexp(0.0, z)


def d_softplus(z):
    """Derivative of `softplus` at the pre-activation z: the logistic sigmoid."""
    return ml.sigmoid(z)


# Small, fast settings that still learn scikit-learn's check problems (blobs, accuracy > 0.83),
# one instance per code path: softmax on mini-batches with label smoothing; one sigmoid unit per
# class in float32; early stopping with full-batch steps; a custom activation pair (softplus and
# its derivative, written with ufuncs so that the test ids, made from the repr, hold no memory
# address).
# Plain mini-batch gradient descent as the assignment's (and mlplab's estimator before it had
# optimizers): the tests of mechanics that compare with Network.train by hand use it.
PLAIN = dict(solver="sgd", momentum=0.0, learning_rate=0.1, batch_size=32, reg_lambda=1e-4,
             activation="sigmoid", n_iter_no_change=10**6)

CHECKED = [
    MLPClassifier(),   # the defaults, and each solver with its defaults
    MLPClassifier(solver="sgd"),
    MLPClassifier(solver="lbfgs"),
    MLPClassifier(hidden_layer_sizes=(8,), epochs=30, label_smoothing=0.1,
                  **{**PLAIN, "momentum": 0.9}),
    MLPClassifier(hidden_layer_sizes=(8, 4), activation="relu", output="sigmoid",
                  learning_rate=0.03, epochs=50, dtype="float32"),
    MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", early_stopping=True,
                  solver="sgd", batch_size=None, learning_rate=0.5, epochs=30, patience=5),
    MLPClassifier(hidden_layer_sizes=(8,), activation=(functools.partial(np.logaddexp, 0.0),
                                                       scipy.special.expit), epochs=30,
                  learning_rate=0.01),
]


def expected_failures(estimator):
    # A weight of 2 and a repeated sample agree to the check's 1e-7 only where neither the
    # held-out data nor the rounding differ.
    if estimator.early_stopping:
        return {"check_sample_weight_equivalence_on_dense_data":
                "the validation split draws other samples once some are repeated"}
    if estimator.dtype == "float32":
        return {"check_sample_weight_equivalence_on_dense_data":
                "in float32 a weight of 2 and a repeated sample round differently (1e-5)"}
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    return StandardScaler().fit_transform(X), y


def weights_of(classifier):
    return [(layer.weights, layer.biases) for layer in classifier.network_.layers]


def assert_same_weights(a, b):
    for (W_a, b_a), (W_b, b_b) in zip(weights_of(a), weights_of(b), strict=True):
        np.testing.assert_array_equal(W_a, W_b)
        np.testing.assert_array_equal(b_a, b_b)


# ----- labels, outputs, activations ---------------------------------------------------------

def test_string_labels_are_learned_and_predicted():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=100, random_state=0,
                        **PLAIN).fit(X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    predicted = clf.predict(X)
    assert predicted.dtype == names.dtype and set(predicted) <= set(names)
    assert clf.score(X, names) > 0.95
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 100 == len(clf.loss_curve_)


@pytest.mark.parametrize("as_list", [False, True], ids=["object array", "list"])
@pytest.mark.parametrize("labels", [[1, "a", 2.5, "b"], [True, "x", False, "x"], [True, 2, 1, 3]])
def test_labels_of_mixed_types_are_named(labels, as_list):
    # As a list, NumPy would quietly make [0, "a"] strings and [True, 2] integers.
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = labels * 2 if as_list else np.array(labels * 2, dtype=object)
    with pytest.raises(ValueError, match="y mixes labels of different types"):
        MLPClassifier(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="y mixes labels of different types"):
        MLPClassifier(epochs=1).partial_fit(X, y, classes=np.unique(np.asarray(y).astype(str)))


def test_integral_float_labels_keep_their_dtype(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=20, random_state=0).fit(X, y + 0.0)
    assert clf.classes_.dtype == np.float64 and clf.predict(X).dtype == np.float64
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(epochs=1).fit(X, y + 0.5)


def test_binary_sigmoid_output_is_the_assignments_network():
    X, y = load_linear()
    clf = MLPClassifier(hidden_layer_sizes=(4,), output="sigmoid", learning_rate=0.5,
                        epochs=50, random_state=0).fit(X, y)
    network = clf.network_
    assert network.n_output == 1
    assert network.loss_function is ml.l2_loss and network.activation_list[-1] is ml.sigmoid
    p = network.forward(X)[-1]
    np.testing.assert_array_equal(clf.predict_proba(X), np.hstack([1 - p, p]))
    np.testing.assert_array_equal(clf.predict(X), network.predict(X))
    assert clf.score(X, y) > 0.9


def test_sigmoid_output_with_several_classes_uses_one_unit_per_class(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), output="sigmoid", learning_rate=0.5,
                        epochs=50, random_state=0).fit(X, y)
    assert clf.network_.n_output == 3
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    output = clf.network_.forward(X)[-1]
    np.testing.assert_array_equal(np.argmax(proba, axis=1), np.argmax(output, axis=1))
    assert clf.score(X, y) > 0.9


def test_a_custom_activation_pair_trains_and_cannot_be_saved(blobs, tmp_path):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0,
                        **{**PLAIN, "activation": (softplus, d_softplus)}).fit(X, y)
    assert clf.network_.activation_list[0] is softplus
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="custom .* cannot be saved"):
        clf.save(tmp_path / "model.npz")
    assert not (tmp_path / "model.npz").exists()


def test_no_hidden_layer_is_softmax_regression(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(), epochs=30, random_state=0, **PLAIN).fit(X, y)
    assert len(clf.network_.layers) == 1 and clf.score(X, y) > 0.9


def test_float32_trains_and_predicts_in_float32(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=10, dtype="float32",
                        random_state=0).fit(X, y)
    assert clf.network_.dtype == np.float32 and clf.predict_proba(X).dtype == np.float32


# ----- parameters and input errors ----------------------------------------------------------

@pytest.mark.parametrize("params, name", [
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"reg_lambda": -1e-3}, "reg_lambda"),
    ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
    ({"hidden_layer_sizes": (8, 2.5)}, "hidden_layer_sizes"),
    ({"activation": "softsign"}, "activation"),
    ({"activation": (softplus,)}, "activation"),
    ({"activation": (softplus, "d_softplus")}, "activation"),
    ({"output": "linear"}, "output"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"patience": 0}, "patience"),
    ({"dtype": "float16"}, "dtype"),
    ({"random_state": -1}, "random_state"),
    ({"label_smoothing": 1.0}, "label_smoothing"),
    ({"label_smoothing": -0.1}, "label_smoothing"),
])
def test_bad_parameters_are_a_value_error_naming_the_parameter(blobs, params, name):
    X, y = blobs
    with pytest.raises(ValueError, match=name):
        MLPClassifier(**params).fit(X, y)


def test_input_errors_use_scikit_learns_messages(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier(epochs=1).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier(epochs=1).fit(np.where(X > 2, np.nan, X), y)
    clf = MLPClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 1 features, but MLPClassifier is expecting 2"):
        clf.predict(X[:, :1])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.predict_proba(np.full((1, 2), np.inf))
    with pytest.raises(ValueError, match="early_stopping .* leaves none to train on"):
        MLPClassifier(early_stopping=True, validation_fraction=0.9).fit(X[:5], y[:5])


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")   # NumPy may warn first
def test_divergence_propagates_with_its_message_and_epoch(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0,
                        **{**PLAIN, "activation": "identity", "learning_rate": 1e6,
                           "batch_size": None})
    with pytest.raises(ml.DivergenceError, match="non-finite.*learning_rate") as caught:
        clf.fit(X * 1e3, y)
    assert caught.value.epoch == clf.n_iter_ == len(clf.loss_curve_)
    assert np.all(np.isfinite(clf.network_.layers[0].weights))


def test_verbose_shows_a_progress_bar_with_the_loss(blobs, capsys):
    X, y = blobs
    MLPClassifier(hidden_layer_sizes=(4,), epochs=3, verbose=True).fit(X, y)
    assert "loss=" in capsys.readouterr().err


# ----- randomness, early stopping, partial_fit ----------------------------------------------

def test_random_state_gives_the_same_model_bit_for_bit(blobs):
    X, y = blobs
    make = lambda seed: MLPClassifier(hidden_layer_sizes=(8,), epochs=5,  # noqa: E731
                                      random_state=seed).fit(X, y)
    a, b, c = make(7), make(7), make(8)
    assert_same_weights(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.network_.layers[0].weights, c.network_.layers[0].weights)
    # without a seed, every fit draws new weights
    d, e = make(None), make(None)
    assert not np.array_equal(d.network_.layers[0].weights, e.network_.layers[0].weights)
    # a RandomState (scikit-learn's convention) or a numpy Generator is accepted too
    f = make(np.random.RandomState(0))
    g = make(np.random.default_rng(0))
    assert f.n_iter_ == g.n_iter_ == 5


def test_fit_is_network_train_from_glorot_weights_drawn_from_random_state(blobs):
    # The documented recipe, by hand: Glorot-uniform weights then biases, layer by layer,
    # from default_rng(random_state); then the same generator shuffles every epoch.
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=3, **PLAIN).fit(X, y)
    rng = np.random.default_rng(3)
    layers = []
    for n_in, n_out in ((2, 8), (8, 3)):
        layer, limit = ml.Layer(n_in, n_out), np.sqrt(6 / (n_in + n_out))
        layer.weights = rng.uniform(-limit, limit, (n_in, n_out))
        layer.biases = rng.uniform(-limit, limit, n_out)
        layers.append(layer)
    network = ml.Network(layers, [ml.sigmoid, ml.softmax], [ml.d_sigmoid, None],
                         ml.cross_entropy_loss, ml.d_cross_entropy_softmax)
    history = network.train(X, np.eye(3)[y], epochs=3, learning_rate=0.1, reg_lambda=1e-4,
                            batch_size=32, seed=rng)
    assert clf.loss_curve_ == history["loss"].tolist()
    for layer, (W, b) in zip(network.layers, weights_of(clf), strict=True):
        np.testing.assert_array_equal(layer.weights, W)
        np.testing.assert_array_equal(layer.biases, b)


@pytest.mark.parametrize("output, width", [("softmax", 3), ("sigmoid", 1)])
def test_label_smoothing_trains_towards_the_smoothed_targets(output, width, tmp_path):
    # The same as training the network by hand on mlplab.smooth_labels of the targets, and
    # (softmax) its probabilities stay further from 0 and 1 than without smoothing.
    X, y = make_blobs(n_samples=60, centers=width if width > 1 else 2, random_state=1)
    params = dict(hidden_layer_sizes=(8,), output=output, epochs=20, random_state=3, **PLAIN)
    smoothed = MLPClassifier(label_smoothing=0.2, **params).fit(X, y)
    rng = np.random.default_rng(3)
    plain = MLPClassifier(**params)
    plain.classes_ = np.unique(y)
    plain._start(X.shape[1], rng)
    targets = np.eye(3)[y] if width == 3 else y.reshape(-1, 1).astype(float)
    history = plain.network_.train(X, ml.smooth_labels(targets, 0.2), epochs=20,
                                   learning_rate=0.1, reg_lambda=1e-4, batch_size=32, seed=rng)
    assert smoothed.loss_curve_ == history["loss"].tolist()
    for layer, (W, b) in zip(plain.network_.layers, weights_of(smoothed), strict=True):
        np.testing.assert_array_equal(layer.weights, W)
        np.testing.assert_array_equal(layer.biases, b)
    smoothed.save(tmp_path / "smoothed.npz")
    assert MLPClassifier.load(tmp_path / "smoothed.npz").get_params() == smoothed.get_params()
    if output == "softmax":
        sharp = MLPClassifier(**params).fit(X, y)
        assert smoothed.predict_proba(X).max() < sharp.predict_proba(X).max()


def test_partial_fit_equals_fit_epoch_by_epoch(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), epochs=6, batch_size=16, random_state=5)
    fitted = MLPClassifier(**params).fit(X, y)
    stepped = MLPClassifier(**params)
    for _ in range(6):
        stepped.partial_fit(X, y, classes=np.unique(y))
    assert_same_weights(fitted, stepped)
    assert fitted.loss_curve_ == stepped.loss_curve_ and stepped.n_iter_ == 6
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    # and partial_fit after fit continues both the same way
    fitted.partial_fit(X, y)
    stepped.partial_fit(X, y)
    assert_same_weights(fitted, stepped)


def test_partial_fit_rules(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="not in classes: \\[2\\]"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "network_")
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])   # a batch may lack a class
    assert clf.network_.n_output == 3
    with pytest.raises(ValueError, match="is not the same"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="expecting 2 features"):
        clf.partial_fit(X[:, :1], y)
    assert not hasattr(MLPClassifier(early_stopping=True), "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit") as caught:
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    assert "not available with early_stopping=True" in str(caught.value.__cause__)


def test_training_continues_correctly_after_pickling(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    network = clf.network_
    copy = pickle.loads(pickle.dumps(clf))
    assert clf.network_ is network   # pickling changed nothing in the original
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert_same_weights(clf, copy)


def test_early_stopping_records_curves_stops_and_restores_the_best_weights(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(16,), learning_rate=2.0, batch_size=8, epochs=300,
                  early_stopping=True, validation_fraction=0.2, patience=4, random_state=0)
    clf = MLPClassifier(**params).fit(X, y)
    n = clf.n_iter_
    assert n < 300, "this setting is meant to overfit and stop early"
    assert len(clf.loss_curve_) == len(clf.validation_loss_curve_) == len(
        clf.validation_scores_) == n
    assert clf.best_epoch_ == int(np.argmin(clf.validation_loss_curve_))
    assert n == clf.best_epoch_ + params["patience"] + 1
    assert all(0 <= score <= 1 for score in clf.validation_scores_)
    # the kept weights are those after the best epoch: a run that ends there has them too
    short = MLPClassifier(**{**params, "epochs": clf.best_epoch_ + 1}).fit(X, y)
    assert_same_weights(clf, short)
    # a later fit without early stopping drops the curves
    clf.set_params(early_stopping=False, epochs=2).fit(X, y)
    assert not hasattr(clf, "best_epoch_") and not hasattr(clf, "validation_scores_")


# ----- model files --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("labels", ["int", "str", "float"])
def test_save_load_round_trip_is_bit_identical(blobs, tmp_path, dtype, labels):
    X, y = blobs
    y = {"int": y, "str": np.array(["ant", "bee", "cat"])[y], "float": y * 2.0 - 1.0}[labels]
    clf = MLPClassifier(hidden_layer_sizes=(8, 5), activation="tanh", epochs=5,
                        dtype=dtype, random_state=0).fit(X, y)
    path = tmp_path / "model.npz"
    clf.save(path)
    loaded = MLPClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert loaded.get_params() == clf.get_params()
    assert loaded.loss_curve_ == clf.loss_curve_ and loaded.n_iter_ == clf.n_iter_
    # the random stream is saved too: training goes on exactly as it would have
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_same_weights(clf, loaded)


def test_save_load_keeps_the_early_stopping_record(blobs, tmp_path):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), output="sigmoid", epochs=5,
                        early_stopping=True, random_state=0).fit(X, y)
    clf.save(tmp_path / "m.npz")
    loaded = MLPClassifier.load(tmp_path / "m.npz")
    assert loaded.validation_loss_curve_ == clf.validation_loss_curve_
    assert loaded.validation_scores_ == clf.validation_scores_
    assert loaded.best_epoch_ == clf.best_epoch_
    # training on with partial_fit (without early stopping) keeps the record, and the file valid
    clf.set_params(early_stopping=False).partial_fit(X, y)
    clf.save(tmp_path / "m.npz")
    assert MLPClassifier.load(tmp_path / "m.npz").n_iter_ == clf.n_iter_ == 6


def test_save_records_the_network_even_after_set_params(blobs, tmp_path):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), activation="relu", epochs=2).fit(X, y)
    clf.set_params(hidden_layer_sizes=(3, 3), activation="tanh")
    clf.save(tmp_path / "m.npz")
    loaded = MLPClassifier.load(tmp_path / "m.npz")
    assert loaded.hidden_layer_sizes == (8,) and loaded.activation == "relu"


@pytest.fixture
def saved(blobs, tmp_path):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(6,), epochs=2, random_state=0).fit(X, y)
    path = tmp_path / "m.npz"
    clf.save(path)
    return path


@pytest.mark.parametrize("header_change, arrays_change, message", [
    (lambda h: h["extra"]["params"].update(hidden_layer_sizes=[7]), None, "does not match"),
    (lambda h: h["extra"]["params"].update(activation="tanh"), None, "does not match"),
    (lambda h: h["extra"]["params"].update(output="sigmoid"), None, "does not match"),
    (lambda h: h["extra"]["params"].update(dtype="float32"), None, "does not match"),
    (lambda h: h["extra"]["params"].update(learning_rate=-1), None, "bad parameters"),
    (lambda h: h["extra"]["params"].update(exec="print"), None, "the parameters are"),
    (lambda h: h["extra"].pop("params"), None, "no estimator parameters"),
    (lambda h: h["extra"].update(loss_curve=["x", 1]), None, "loss_curve"),
    (lambda h: h["extra"].update(n_features_in=5), None, "does not match"),
    (lambda h: h["extra"].update(rng_state={"bit_generator": "PCG64"}), None, "rng_state"),
    (lambda h: h["extra"].update(classes={"dtype": "<U3", "values": ["a"]}), None,
     "given once"),
    (None, lambda c: c.pop("classes"), "given once"),
    (None, lambda c: c.update(classes=np.array([2, 1, 0])), "sorted"),
    (None, lambda c: c.update(classes=np.array([0, 1, 2, 3])), "does not match"),
    (None, lambda c: c.update(extra=np.zeros(2)), "unexpected arrays"),
    (lambda h: h.update(kind="Network"), None, "not a MLPClassifier"),
])
def test_tampered_files_are_a_value_error(saved, header_change, arrays_change, message):
    rewrite(saved, header_change, arrays_change)
    with pytest.raises(ValueError, match=message):
        MLPClassifier.load(saved)


def test_network_and_classifier_files_are_not_interchangeable(saved, tmp_path):
    with pytest.raises(ValueError, match="not a Network"):
        ml.Network.load(saved)
    network = MLPClassifier.load(saved).network_
    network.save(tmp_path / "net.npz")
    with pytest.raises(ValueError, match="not a MLPClassifier"):
        MLPClassifier.load(tmp_path / "net.npz")


# ----- scikit-learn's names -----------------------------------------------------------------

@pytest.mark.parametrize("estimator", [MLPClassifier, ml.MLPRegressor])
@pytest.mark.parametrize("keyword, value, equivalent", [
    ("alpha", 1e-4, "reg_lambda = alpha / batch_size"),
    ("max_iter", 50, "epochs (the same number"),
    ("learning_rate_init", 0.01, "learning_rate (the same number"),
])
def test_scikit_learns_renamed_keywords_name_mlplabs_equivalent(estimator, keyword, value,
                                                                 equivalent):
    # At construction, in set_params and through a Pipeline (as GridSearchCV sets them).
    attempts = [lambda: estimator(**{keyword: value}),
                lambda: estimator().set_params(**{keyword: value}),
                lambda: Pipeline([("mlp", estimator())]).set_params(**{f"mlp__{keyword}": value})]
    for attempt in attempts:
        with pytest.raises(ValueError, match="scikit-learn's name") as error:
            attempt()
        assert f"{keyword}={value!r}" in str(error.value) and equivalent in str(error.value)


def test_scikit_learns_regressor_loss_is_refused_with_what_mlplab_trains_on():
    with pytest.raises(TypeError, match="always trains on the squared error"):
        ml.MLPRegressor(loss="squared_error")


@pytest.mark.parametrize("params, ours", [
    (dict(learning_rate="adaptive"), 'learning_rate_schedule="adaptive"'),
    (dict(learning_rate="invscaling"), 'learning_rate_schedule="invscaling"'),
    (dict(learning_rate="constant"), 'learning_rate_schedule="constant"'),
    (dict(activation="logistic"), 'activation="sigmoid"'),
])
def test_scikit_learns_spelling_of_a_value_names_mlplabs(blobs, params, ours):
    X, y = blobs
    with pytest.raises(ValueError, match="scikit-learn's spelling") as error:
        MLPClassifier(**params).fit(X, y)
    assert ours in str(error.value)


def test_alpha_converts_to_reg_lambda_as_the_error_says():
    # One full-batch step of scikit-learn's own MLP with alpha, against mlplab's gradient with
    # reg_lambda = alpha / batch_size from the same weights.
    sk_mlp = pytest.importorskip("sklearn.neural_network")
    X, y = load_iris(return_X_y=True)
    X, y, alpha, rate = (X - X.mean(0)) / X.std(0), y, 0.3, 0.05
    theirs = sk_mlp.MLPClassifier((5,), activation="tanh", solver="sgd", alpha=alpha,
                                  batch_size=len(X), learning_rate_init=rate, momentum=0.0,
                                  shuffle=False, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)
        before = [W.copy() for W in theirs.coefs_] + [b.copy() for b in theirs.intercepts_]
        theirs.partial_fit(X, y)
    after = theirs.coefs_ + theirs.intercepts_
    ours = ml.build_network([4, 5, 3], "tanh", "softmax")
    for layer, W, b in zip(ours.layers, before[:2], before[2:]):
        layer.weights, layer.biases = W.copy(), b.copy()
    _, gradients = ours.gradients(X, np.eye(3)[y], reg_lambda=alpha / len(X))
    steps = [(old - new) / rate for old, new in zip(before, after)]
    for (dW, db), step_W, step_b in zip(gradients, steps[:2], steps[2:]):
        np.testing.assert_allclose(dW, step_W, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(db, step_b, rtol=1e-9, atol=1e-12)


def test_n_iter_no_change_none_trains_every_epoch_without_a_convergence_warning(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MLPClassifier((4,), epochs=7, n_iter_no_change=None, random_state=0).fit(X, y)
    assert model.n_iter_ == 7
    with pytest.warns(ConvergenceWarning):   # with a count, a run cut short still warns
        MLPClassifier((4,), epochs=7, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="n_iter_no_change must be a number"):
        MLPClassifier(learning_rate_schedule="adaptive", n_iter_no_change=None).fit(X, y)
