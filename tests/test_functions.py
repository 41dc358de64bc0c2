import warnings

import numpy as np
import pytest

import mlplab as ml
from mlplab.functions import ACTIVATIONS, LOSSES

H = 1e-6


def central_difference(f, x):
    """Elementwise derivative of an elementwise function f at x."""
    return (f(x + H) - f(x - H)) / (2 * H)


@pytest.mark.parametrize("name", [n for n, (_, d) in ACTIVATIONS.items() if d is not None])
@pytest.mark.parametrize("shape", [(7,), (5, 4)])
def test_derivative_matches_central_difference(name, shape, rng):
    f, d_f = ACTIVATIONS[name]
    x = rng.uniform(-3, 3, size=shape)
    if name == "relu":
        x[np.abs(x) < 1e-3] = 0.5   # stay off the kink
    np.testing.assert_allclose(d_f(x), central_difference(f, x), rtol=1e-6, atol=1e-9)


def test_registry_has_a_pair_for_every_name():
    for name, (f, d_f) in ACTIVATIONS.items():
        assert callable(f), name
        assert d_f is None or callable(d_f), name
    assert ACTIVATIONS["softmax"][1] is None
    for name, (loss, d_loss) in LOSSES.items():
        assert callable(loss) and callable(d_loss), name


def test_sigmoid_is_stable_and_exact_at_the_extremes():
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        values = ml.sigmoid(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]))
        assert ml.d_sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 0.0]
    assert values[0] == 0.0 and values[-1] == 1.0 and values[2] == 0.5
    # sigma(-50) = e^-50 / (1 + e^-50): relative precision kept in the tail
    assert values[1] == pytest.approx(np.exp(-50.0), rel=1e-12)


def test_sigmoid_matches_its_definition_where_that_is_safe(rng):
    x = rng.uniform(-20, 20, size=(6, 3))
    np.testing.assert_allclose(ml.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)


def test_softmax_rows_sum_to_one_and_survive_huge_inputs():
    x = np.array([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = ml.softmax(x)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(ml.softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75])


def test_softmax_of_one_sample_equals_its_row_in_a_batch(rng):
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(ml.softmax(x[2]), ml.softmax(x)[2], rtol=1e-15)


def test_losses_return_the_sum_over_samples_and_units():
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert ml.l2_loss(y, p) == pytest.approx(0.5 * (0.25 + 0.25 + 0.0625 + 0.0625))
    assert ml.cross_entropy_loss(y, p) == pytest.approx(-np.log(0.5) - np.log(0.75))
    assert ml.l2_loss(np.array([1.0]), np.array([0.8])) == pytest.approx(0.02)
    assert isinstance(ml.l2_loss(y, p), float)


def test_cross_entropy_is_finite_when_a_predicted_probability_is_zero():
    # regression test in the style of scikit-learn's test_log_loss_1_prob_finite
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = ml.cross_entropy_loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
        zero_term = ml.cross_entropy_loss(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]))
    assert np.isfinite(loss) and loss > 700
    assert zero_term == 0.0


def test_d_l2_loss_matches_central_difference(rng):
    y, p = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    numeric = np.empty_like(p)
    for i in np.ndindex(p.shape):
        step = np.zeros_like(p)
        step[i] = H
        numeric[i] = (ml.l2_loss(y, p + step) - ml.l2_loss(y, p - step)) / (2 * H)
    np.testing.assert_allclose(ml.d_l2_loss(y, p), numeric, rtol=1e-6, atol=1e-9)


def test_d_cross_entropy_softmax_is_the_gradient_with_respect_to_the_softmax_input(rng):
    y = np.eye(4)[[0, 3, 1]]
    z = rng.normal(size=(3, 4))
    numeric = np.empty_like(z)
    for i in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[i] = H
        numeric[i] = (ml.cross_entropy_loss(y, ml.softmax(z + step))
                      - ml.cross_entropy_loss(y, ml.softmax(z - step))) / (2 * H)
    np.testing.assert_allclose(ml.d_cross_entropy_softmax(y, ml.softmax(z)), numeric,
                               rtol=1e-6, atol=1e-9)


def test_integer_input_gives_float_output():
    assert ml.sigmoid(np.array([0, 1])).dtype == np.float64
    assert ml.relu(np.array([-1, 2])).tolist() == [0.0, 2.0]
    assert ml.d_relu(np.array([-1, 0, 2])).tolist() == [0.0, 0.0, 1.0]


def test_smooth_labels_moves_targets_towards_uniform_and_keeps_rows_summing_to_one():
    Y = np.eye(4)[[0, 3, 1]]
    smoothed = ml.smooth_labels(Y, 0.2)
    np.testing.assert_allclose(smoothed[Y == 1], 0.8 + 0.05)
    np.testing.assert_allclose(smoothed[Y == 0], 0.05)
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0)
    # one sigmoid unit (a column, or 1-D 0/1 targets) counts as two classes
    np.testing.assert_allclose(ml.smooth_labels(np.array([[0.0], [1.0]]), 0.2), [[0.1], [0.9]])
    np.testing.assert_allclose(ml.smooth_labels(np.array([0, 1]), 0.2), [0.1, 0.9])
    np.testing.assert_array_equal(ml.smooth_labels(Y, 0.0), Y)


@pytest.mark.parametrize("smoothing", [1.0, -0.1, float("nan"), "0.1"])
def test_smooth_labels_rejects_a_smoothing_outside_0_1(smoothing):
    with pytest.raises(ValueError, match="smoothing"):
        ml.smooth_labels(np.eye(2), smoothing)


@pytest.mark.parametrize("Y, message", [
    (np.array([0, 1, 2]), "not class indices"),
    (np.array(1.0), "1-D"),
    (np.zeros((2, 2, 2)), "1-D"),
    (np.array([[0.5, 0.2, 0.1]]), "sum to 1"),
    (np.array([[np.nan, 1.0]]), r"\[0, 1\]"),
])
def test_smooth_labels_rejects_targets_it_cannot_smooth(Y, message):
    with pytest.raises(ValueError, match=message):
        ml.smooth_labels(Y, 0.1)


def test_softmax_of_a_row_spanning_the_float_range_does_not_warn():
    # Found by hypothesis: the shifted row overflows to -inf, whose probability is exactly 0.
    x = np.array([[-1.7976931348623157e308, 9.97920155e291]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = ml.softmax(x)
    np.testing.assert_array_equal(s, [[0.0, 1.0]])
