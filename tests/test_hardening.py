"""Hardening: properties of mlplab.functions over any input hypothesis can find, and a command
line that answers every user error with one line, never a traceback."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mlplab as ml
from mlplab.functions import ACTIVATIONS
from conftest import run_cli

# derandomize: the same examples on every run, so that CI cannot fail by the luck of the draw.
SETTINGS = settings(deadline=None, max_examples=150, derandomize=True)
FLOAT_DTYPES = [np.float64, np.float32]


def finite(dtype=np.float64, **bounds):
    """Any finite float of `dtype` (full range unless bounded)."""
    width = 64 if dtype == np.float64 else 32
    return st.floats(allow_nan=False, allow_infinity=False, width=width, **bounds)


def batches(elements, dtype=np.float64, max_rows=4, max_units=6):
    shape = st.tuples(st.integers(1, max_rows), st.integers(1, max_units))
    return arrays(dtype, shape, elements=elements)


class no_warnings:
    """Turn every warning and floating-point error into an exception, as a failing check."""

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("error")
        self._errstate = np.errstate(over="raise", divide="raise", invalid="raise")
        self._errstate.__enter__()

    def __exit__(self, *exc):
        self._errstate.__exit__(*exc)
        return self._warnings.__exit__(*exc)


def two_sum_error(a, b):
    """The rounding error of a + b (Knuth's TwoSum): (a + b) + error == a + b exactly."""
    s = a + b
    b_virtual = s - a
    a_virtual = s - b_virtual
    return (a - a_virtual) + (b - b_virtual)


# ----- softmax ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@SETTINGS
@given(data=st.data())
def test_softmax_rows_are_probabilities_for_any_finite_input(dtype, data):
    x = data.draw(batches(finite(dtype), dtype))
    with no_warnings():
        s = ml.softmax(x)
    assert s.dtype == dtype and s.shape == x.shape
    assert np.all((s >= 0) & (s <= 1))
    tolerance = 10 * np.finfo(dtype).eps * x.shape[1]
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=tolerance)
    # the largest input gets the largest probability
    assert np.all(s[np.arange(len(x)), np.argmax(x, axis=1)] == s.max(axis=1))


# small integers (shifts that are often exact), moderate floats, and up to 1e307 (so that
# x + c cannot overflow)
_shift_values = st.one_of(st.integers(-1000, 1000).map(float),
                          finite(min_value=-1e3, max_value=1e3),
                          finite(min_value=-1e307, max_value=1e307))


@SETTINGS
@given(x=batches(_shift_values), c=_shift_values)
def test_softmax_is_invariant_to_adding_a_constant_to_a_row(x, c):
    shifted = x + c
    # softmax(x + c) = softmax(x) exactly; in floating point only the rounding of x + c itself
    # may change it. With every entry off by at most delta, each probability moves by a factor
    # within exp(+-2 delta), so |change| <= expm1(2 delta) (plus the evaluation's own rounding).
    delta = float(np.max(np.abs(two_sum_error(x, c))))
    bound = np.expm1(min(2 * delta, 700.0)) + 1e-12
    with no_warnings():
        difference = np.abs(ml.softmax(shifted) - ml.softmax(x))
    assert np.all(difference <= bound), (delta, difference.max())


@SETTINGS
@given(x=batches(st.integers(-50, 50).map(float)), c=st.integers(-10**6, 10**6).map(float))
def test_softmax_shift_by_an_exactly_representable_amount_changes_nothing(x, c):
    # small integers: x + c is exact, so the bound above is 1e-12
    np.testing.assert_allclose(ml.softmax(x + c), ml.softmax(x), rtol=0, atol=1e-12)


# ----- sigmoid ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@SETTINGS
@given(data=st.data())
def test_sigmoid_is_a_monotone_probability_for_any_finite_input(dtype, data):
    extremes = [0.0, 40.0, 745.0, 1e38] + ([1e308] if dtype == np.float64 else [3e38])
    extremes = st.sampled_from(extremes + [-v for v in extremes])
    x = np.sort(data.draw(arrays(dtype, st.integers(1, 20),
                                 elements=st.one_of(finite(dtype), extremes))))
    with no_warnings():
        s = ml.sigmoid(x)
        d = ml.d_sigmoid(x)
    assert s.dtype == dtype
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) >= 0)
    assert np.all((d >= 0) & (d <= 0.25))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(x=batches(finite()))
def test_every_activation_and_derivative_is_finite_without_warnings(name, x):
    f, d_f = ACTIVATIONS[name]
    with no_warnings():
        values = [f(x)] + ([] if d_f is None else [d_f(x)])
    for value in values:
        assert value.shape == x.shape and np.all(np.isfinite(value))


# ----- losses -------------------------------------------------------------------------------

probabilities = finite(min_value=0.0, max_value=1.0)


@SETTINGS
@given(data=st.data(), one_hot=st.booleans())
def test_losses_are_finite_and_non_negative_for_valid_inputs(data, one_hot):
    YPredict = data.draw(batches(probabilities))
    n_samples, n_units = YPredict.shape
    if one_hot:
        labels = data.draw(arrays(np.int64, n_samples, elements=st.integers(0, n_units - 1)))
        YTrue = np.eye(n_units)[labels]
    else:
        YTrue = data.draw(arrays(np.float64, YPredict.shape, elements=probabilities))
    with no_warnings():
        losses = [ml.l2_loss(YTrue, YPredict), ml.cross_entropy_loss(YTrue, YPredict)]
    for loss in losses:
        assert isinstance(loss, float) and np.isfinite(loss) and loss >= 0


# ----- derivatives against central differences ----------------------------------------------

H = 1e-6
moderate = finite(min_value=-5.0, max_value=5.0)


@pytest.mark.parametrize("name", [n for n, (_, d) in sorted(ACTIVATIONS.items()) if d is not None])
@SETTINGS
@given(x=batches(moderate))
def test_activation_derivatives_match_central_differences(name, x):
    f, d_f = ACTIVATIONS[name]
    if name == "relu":
        # Stay off the kink by moving the points near it (filtering them out instead would
        # discard most batches, which hypothesis reports as a failed health check).
        x = np.where(np.abs(x) > 1e-3, x, x + 0.01)
    numeric = (f(x + H) - f(x - H)) / (2 * H)
    np.testing.assert_allclose(d_f(x), numeric, rtol=1e-5, atol=1e-8)


def numeric_gradient(loss, P):
    gradient = np.empty_like(P)
    for i in np.ndindex(P.shape):
        step = np.zeros_like(P)
        step[i] = H
        gradient[i] = (loss(P + step) - loss(P - step)) / (2 * H)
    return gradient


@SETTINGS
@given(data=st.data())
def test_loss_derivatives_match_central_differences(data):
    z = data.draw(batches(moderate, max_rows=3, max_units=4))
    n_samples, n_units = z.shape
    labels = data.draw(arrays(np.int64, n_samples, elements=st.integers(0, n_units - 1)))
    YTrue = np.eye(n_units)[labels]
    np.testing.assert_allclose(
        ml.d_l2_loss(YTrue, z), numeric_gradient(lambda P: ml.l2_loss(YTrue, P), z),
        rtol=1e-5, atol=1e-7)
    # d_cross_entropy_softmax is the gradient with respect to the softmax's input z
    np.testing.assert_allclose(
        ml.d_cross_entropy_softmax(YTrue, ml.softmax(z)),
        numeric_gradient(lambda Z: ml.cross_entropy_loss(YTrue, ml.softmax(Z)), z),
        rtol=1e-5, atol=1e-7)


# ----- the command line: user errors are one line, never a traceback ------------------------
# tests/test_lab.py covers malformed CSV text, --jobs, --seed, an unknown flag and command; these
# add what it does not: a missing or non-folder --data-dir, binary garbage, and argparse's own
# errors for a missing value or command.

def garbage(size=4096):
    return np.random.default_rng(0).bytes(size)   # random bytes, not UTF-8 text


@pytest.mark.parametrize("files, data_dir, message", [
    ({}, "no-such-folder", "no such folder"),
    ({"notes.txt": b"a file"}, "notes.txt", "no such folder"),
    ({"dataset1/LinearX.csv": garbage(), "dataset1/LinearY.csv": b"0\n1\n"}, ".",
     "LinearX.csv"),
    ({"dataset1/LinearX.csv": b"1,2\n3,4\n", "dataset1/LinearY.csv": garbage()}, ".",
     "LinearY.csv"),
    ({"dataset1/LinearX.csv": b"1,2\n\x00\x01,\x7f\n", "dataset1/LinearY.csv": b"0\n1\n"}, ".",
     "LinearX.csv, line 2"),
    ({"dataset2/Digit_X_train.csv": garbage(), "dataset2/Digit_y_train.csv": b"0\n1\n",
      "dataset2/Digit_X_test.csv": b"0,1\n1,0\n", "dataset2/Digit_y_test.csv": b"0\n1\n",
      **{f"dataset1/{name}{axis}.csv": content for name in ("Linear", "Nonlinear")
         for axis, content in (("X", b"1,2\n3,4\n"), ("Y", b"0\n1\n"))}}, ".",
     "Digit_X_train.csv"),
    ({"dataset2/Digit_X.csv": b"1,2\n3,4\n", "dataset2/Digit_Y.csv": b"0\n1\n"}, ".",
     "LinearX.csv, LinearY.csv not found"),
])
def test_bad_data_dir_is_one_line_on_stderr(tmp_path, files, data_dir, message):
    course = tmp_path / "course"
    for name, content in files.items():
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        (course / name).write_bytes(content)
    course.mkdir(exist_ok=True)
    out = tmp_path / "out"
    result = run_cli("run", "--quick", "--no-progress", "--data-dir", str(course / data_dir),
                     "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mlplab: error:") and message in lines[0], \
        result.stderr
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["run", "--data-dir"], "expected one argument"),
    (["demo", "--epochs", "0"], "--epochs"),
    (["demo", "--epochs", "many"], "--epochs"),
])
def test_argparse_errors_give_usage_not_a_traceback(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and message in result.stderr
    assert "usage: mlplab" in result.stderr
