"""mlplab.diagnose: sanity checks with verdicts, each failing on a network built to fail it."""

import json

import numpy as np
import pytest

import mlplab as ml
from mlplab.diagnose import RANGE_RATES
from conftest import make_network

CHECKS = ("initial loss", "gradient check", "overfit 10 samples", "gradient norms",
          "saturated units", "dead ReLUs", "learning rate")


@pytest.fixture(scope="module")
def iris():
    """The iris data's first two classes, all four features scaled: (X (100, 4), y (100,))."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = X[:100]
    return (X - X.mean(axis=0)) / X.std(axis=0), y[:100].astype(float)


def network(hidden="sigmoid", output="sigmoid", sizes=(4, 8, 1)):
    return make_network(sizes, hidden, output, rng=np.random.default_rng(1))


def verdicts(diagnosis):
    return {finding.name: finding.verdict for finding in diagnosis.findings}


@pytest.mark.parametrize("learning_rate", [1.0, None])
def test_a_healthy_network_passes_every_check(iris, learning_rate):
    X, y = iris
    diagnosis = ml.diagnose(network(), X, y, learning_rate)
    assert verdicts(diagnosis) == dict.fromkeys(CHECKS, "ok"), str(diagnosis)
    assert diagnosis.ok
    assert diagnosis.largest_rate >= diagnosis.best_rate > 0
    assert diagnosis["initial loss"].value["chance"] == pytest.approx(0.125)   # 0/1, balanced


def test_a_healthy_softmax_relu_network_passes_every_check(iris):
    X, y = iris
    Y = np.eye(2)[y.astype(int)]
    diagnosis = ml.diagnose(network("relu", "softmax", (4, 8, 2)), X, Y, 0.5)
    assert verdicts(diagnosis) == dict.fromkeys(CHECKS, "ok"), str(diagnosis)
    assert diagnosis["initial loss"].value["chance"] == pytest.approx(np.log(2))


@pytest.mark.parametrize("layer", [0, 1])
def test_a_wrong_derivative_fails_the_gradient_check_and_is_named(iris, layer):
    X, y = iris
    net = network()
    net.d_activation_list[layer] = ml.sigmoid   # f(z) given for f'(z)
    finding = ml.diagnose(net, X, y, 1.0)["gradient check"]
    assert finding.verdict == "problem"
    assert finding.value["relative_error"] > 1e-2
    assert f"d_activation_list[{layer}] (sigmoid, layer {layer + 1}" in finding.advice
    assert list(finding.value["wrong_derivatives"]) == [
        f"d_activation_list[{layer}] (sigmoid, layer {layer + 1}, against sigmoid)"]


def test_a_wrong_loss_derivative_is_named(iris):
    X, y = iris
    net = network()
    net.d_loss_function = lambda YTrue, YPredict: YTrue - YPredict   # the sign flipped
    finding = ml.diagnose(net, X, y, 1.0)["gradient check"]
    assert finding.verdict == "problem" and "d_loss_function" in finding.advice


def test_a_learning_rate_too_high_is_a_problem(iris):
    X, y = iris
    diagnosis = ml.diagnose(network(), X, y, 1000.0)
    finding = diagnosis["learning rate"]
    assert finding.verdict == "problem" and "too high" in finding.advice
    assert finding.value["largest"] < 1000 and not diagnosis.ok


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")
def test_a_learning_rate_that_diverges_is_a_problem(rng):
    net = make_network((2, 8, 1), "relu", "identity", rng=np.random.default_rng(1))
    X, Y = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    diagnosis = ml.diagnose(net, X, Y, 1e6)
    assert diagnosis["learning rate"].verdict == "problem"
    assert "diverges" in diagnosis["learning rate"].advice
    assert diagnosis.losses[list(diagnosis.rates).index(1e6)] == np.inf


def test_a_learning_rate_far_below_the_best_is_a_warning(iris):
    X, y = iris
    finding = ml.diagnose(network(), X, y, 1e-4)["learning rate"]
    assert finding.verdict == "warning" and "slow" in finding.advice


def test_an_initialisation_that_saturates_is_a_problem(iris):
    X, y = iris
    net = network()
    for layer in net.layers:
        layer.weights = layer.weights * 50
    diagnosis = ml.diagnose(net, X, y, 1.0)
    assert diagnosis["saturated units"].verdict == "problem"
    assert diagnosis["saturated units"].value["layer 1"] > 0.5
    assert diagnosis["overfit 10 samples"].verdict == "problem"
    # Its tiny gradients defeat central differences, but no derivative is wrong: not a problem.
    assert diagnosis["gradient check"].verdict != "problem"


def test_dead_relus_are_a_problem(iris):
    X, y = iris
    net = network("relu")
    net.layers[0].biases = net.layers[0].biases - 10
    diagnosis = ml.diagnose(net, X, y, 1.0)
    assert diagnosis["dead ReLUs"].verdict == "problem"
    assert diagnosis["dead ReLUs"].value == {"layer 1": 1.0}
    assert diagnosis["gradient norms"].verdict == "problem"
    assert diagnosis["overfit 10 samples"].verdict == "problem"


def test_a_loss_far_above_chance_at_the_start_is_a_problem(iris):
    X, y = iris
    net = network(output="identity")
    finding = ml.diagnose(net, X, 100 + 5 * y, 0.01)["initial loss"]
    assert finding.verdict == "problem" and finding.value["ratio"] > 3
    # chance: predicting the mean, 100 + 5 * 0.5, by the L2 loss 1/2 (y - mean)^2 = 1/2 * 6.25
    assert finding.value["chance"] == pytest.approx(3.125)


def test_the_network_is_unchanged(iris):
    X, y = iris
    net = network()
    arrays = net.parameters()
    values = [theta.copy() for theta in arrays]
    functions = list(net.d_activation_list)
    ml.diagnose(net, X, y, 1.0)
    assert all(a is b for a, b in zip(net.parameters(), arrays))
    assert all(np.array_equal(a, b) for a, b in zip(net.parameters(), values))
    assert net.d_activation_list == functions
    assert net.loss(X, y) == ml.diagnose(net, X, y, 1.0)["initial loss"].value["loss"]


def test_the_same_seed_gives_the_same_numbers(iris):
    X, y = iris
    first = json.dumps(ml.diagnose(network(), X, y, 1.0, seed=3).to_dict())
    assert json.dumps(ml.diagnose(network(), X, y, 1.0, seed=3).to_dict()) == first
    assert json.loads(first)["range_test"]["rates"] == sorted(RANGE_RATES)   # 1.0 is on it


def test_the_table_dict_and_figure(iris):
    X, y = iris
    diagnosis = ml.diagnose(network(), X, y, 2.0)
    text = str(diagnosis)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["check", "verdict", "value", "advice"]
    for name, line in zip(CHECKS, lines[2:]):
        assert line.startswith(name) and " ok " in line
    assert lines[-1] == "Diagnosis: no problem found."
    plain = json.loads(json.dumps(diagnosis.to_dict(), allow_nan=False))
    assert [f["name"] for f in plain["findings"]] == list(CHECKS)
    assert 2.0 in plain["range_test"]["rates"] and plain["range_test"]["learning_rate"] == 2.0
    from matplotlib.figure import Figure

    figure = diagnosis.figure()
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_xscale() == "log"


def test_the_range_figure_leaves_out_diverged_rates():
    from mlplab.plot import learning_rate_range

    fig = learning_rate_range([0.1, 1, 10], [0.5, 0.2, np.inf], 0.7, chosen=1)
    line = fig.axes[0].lines[0]
    assert np.isnan(line.get_ydata()[-1]) and list(line.get_ydata()[:2]) == [0.5, 0.2]


def test_bad_input_is_one_line_as_fit_gives_it(iris):
    X, y = iris
    net = network()
    cases = [((X[:, :3], y), "X has 3 features but the first layer expects 4"),
             ((X, y[:50]), "X and Y have different numbers of samples"),
             ((X, np.eye(3)[y.astype(int)]), "Y has 3 columns but the network has 1 output")]
    for (X_bad, Y_bad), message in cases:
        with pytest.raises(ValueError, match=message) as caught:
            ml.diagnose(net, X_bad, Y_bad)
        with pytest.raises(ValueError, match=message):
            net.fit(X_bad, Y_bad, 0.1, 0.0)
        assert "\n" not in str(caught.value)
    softmax = network(output="softmax", sizes=(4, 8, 2))
    with pytest.raises(ValueError, match="Y is 1-D but the network has 2 output units"):
        ml.diagnose(softmax, X, y)   # class labels, not one-hot rows
    net.layers[1].weights[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"layers\[1\]\.weights") as caught:
        ml.diagnose(net, X, y)
    assert "\n" not in str(caught.value)
    for rate in (0, -1, np.inf, "fast"):
        with pytest.raises(ValueError, match="learning_rate"):
            ml.diagnose(network(), X, y, rate)
    with pytest.raises(ValueError, match="seed"):
        ml.diagnose(network(), X, y, seed=-1)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")
def test_divergence_errors_point_to_diagnose(rng):
    net = make_network((2, 8, 1), hidden="relu", output="identity")
    X, Y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    with pytest.raises(ml.DivergenceError, match=r"mlplab\.diagnose\(network, X, Y\) checks"):
        net.train(X, Y, 50, 1e150)
