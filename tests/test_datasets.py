"""mlplab.datasets: built-in data, the course-file parser and its error messages."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import datasets as skdatasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from mlplab import _files, assignment, datasets
from mlplab.datasets import DataError
from conftest import iris_q25


def cv_accuracy(X, y):
    """Mean 5-fold stratified CV accuracy of a linear model, as the docstrings quote it."""
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return cross_val_score(LogisticRegression(), X, y, cv=cv).mean()


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, newline="")  # newline="" keeps "\r\n" as written
    return path


def savetxt(path, array):
    """Write as the course files are written: np.savetxt's default "%.18e", comma-separated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, array, delimiter=",")
    with open(path, "a") as f:
        f.write("\n")  # a trailing blank line, as some of the course files have
    return path


# --- built-in data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "load, n_samples, n_features",
    [(datasets.load_linear, 500, 2), (datasets.load_nonlinear, 1000, 2)],
)
def test_dataset1_shapes_dtypes_balance(load, n_samples, n_features):
    X, y = load()
    assert X.shape == (n_samples, n_features) and X.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype.kind == "i"
    assert np.bincount(y).tolist() == [n_samples // 2, n_samples // 2]
    assert np.isfinite(X).all()


@pytest.mark.parametrize("load", [datasets.load_linear, datasets.load_nonlinear])
def test_dataset1_deterministic_per_seed(load):
    X0, y0 = load(seed=3)
    X1, y1 = load(seed=3)
    X2, _ = load(seed=4)
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(y0, y1)
    assert not np.array_equal(X0, X2)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", 2**32])
def test_bad_seed_is_a_value_error(seed):
    with pytest.raises(ValueError, match="seed"):
        datasets.load_linear(seed=seed)


def test_linear_is_nearly_linearly_separable():
    acc = cv_accuracy(*datasets.load_linear())
    assert 0.90 <= acc <= 0.96
    assert acc == pytest.approx(0.930)  # the figure the docstring quotes


def test_nonlinear_defeats_a_linear_model():
    assert cv_accuracy(*datasets.load_nonlinear()) < 0.92


def test_q25_matches_the_assignment_snippet():
    X, Y = iris_q25()   # the assignment's snippet, written out in conftest

    Xq, yq = assignment.load_q25()
    assert Xq.shape == (100, 2) and Xq.dtype == np.float64
    assert yq.shape == (100,) and yq.dtype.kind == "i"
    np.testing.assert_array_equal(Xq, X)
    np.testing.assert_array_equal(yq, Y)
    assert not np.array_equal(yq, np.sort(yq))  # really shuffled


def test_iris_is_read_as_load_iris_returns_it_without_importing_scikit_learn():
    X, y = assignment._iris()
    X_sk, y_sk = skdatasets.load_iris(return_X_y=True)
    np.testing.assert_array_equal(X, X_sk)
    np.testing.assert_array_equal(y, y_sk)
    assert X.dtype == X_sk.dtype and y.dtype == np.int64
    code = ("import sys; from mlplab import assignment; assignment.load_q25(); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"   # mlplab check's own process stays quick to start


def test_builtin_digits_split():
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    digits = skdatasets.load_digits()
    assert X_train.shape == (898, 64) and X_test.shape == (899, 64)
    assert y_train.shape == (898,) and y_test.shape == (899,)
    assert X_train.dtype == np.float64 and y_train.dtype.kind == "i"
    np.testing.assert_array_equal(X_train, digits.data[:898] / 16)
    np.testing.assert_array_equal(X_test, digits.data[898:] / 16)
    np.testing.assert_array_equal(y_train, digits.target[:898])
    np.testing.assert_array_equal(y_test, digits.target[898:])
    assert X_train.min() == 0.0 and X_train.max() == 1.0


def test_built_in_sources_say_how_the_stand_in_is_made(tmp_path):
    for name in ("linear", "nonlinear", "digits"):
        _, source = datasets.load_dataset(name)
        assert "to resemble the course's" in source["built_in"]
        assert source["built_in"].split()[0] in ("generated", "scikit-learn's")
    assert "random_state=3" in datasets.load_dataset("linear", seed=3)[1]["built_in"]
    with pytest.raises(ValueError, match="'iris'"):
        datasets.load_dataset("iris")


@pytest.mark.parametrize("name", ["linear", "nonlinear", "digits"])
def test_a_folder_without_the_files_is_an_error_not_the_built_in_data(tmp_path, name):
    # Never a silent substitute: the message says what was looked for and what is there.
    write(tmp_path / "notes.txt", "hello")
    with pytest.raises(datasets.DataError, match=r"not found in .* \(?.*they hold: notes.txt"):
        datasets.load_dataset(name, tmp_path)


# --- course files ----------------------------------------------------------------------------


@pytest.mark.parametrize("subfolder", ["dataset1", ""])
@pytest.mark.parametrize(
    "load, x_name, y_name, name",
    [
        (datasets.load_linear, "LinearX.csv", "LinearY.csv", "linear"),
        (datasets.load_nonlinear, "NonlinearX.csv", "NonlinearY.csv", "nonlinear"),
    ],
)
def test_dataset1_round_trip(tmp_path, subfolder, load, x_name, y_name, name):
    X, y = datasets.load_linear(seed=1)
    x_path = savetxt(tmp_path / subfolder / x_name, X)
    y_path = savetxt(tmp_path / subfolder / y_name, y.astype(float))
    assert "1.000000000000000000e+00" in y_path.read_text()  # labels written as floats

    X_read, y_read = load(tmp_path, seed=7)  # the seed is ignored for file data
    np.testing.assert_array_equal(X_read, X)  # %.18e round-trips float64 exactly
    np.testing.assert_array_equal(y_read, y)
    assert y_read.dtype.kind == "i"
    _, source = datasets.load_dataset(name, str(tmp_path))
    # named relative to data_dir, so that no one's home folder shows in a report
    assert [record["path"] for record in source["files"]] == [
        str(x_path.relative_to(tmp_path)), str(y_path.relative_to(tmp_path))]
    for record, path in zip(source["files"], (x_path, y_path)):
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["bytes"] == path.stat().st_size


def test_subfolder_wins_over_data_dir(tmp_path):
    write(tmp_path / "dataset1" / "LinearX.csv", "1,2\n")
    write(tmp_path / "dataset1" / "LinearY.csv", "1\n")
    write(tmp_path / "LinearX.csv", "3,4\n")
    write(tmp_path / "LinearY.csv", "0\n")
    X, y = datasets.load_linear(tmp_path)
    assert X.tolist() == [[1.0, 2.0]] and y.tolist() == [1]


def test_first_row_kept_crlf_whitespace_and_trailing_blank_lines(tmp_path):
    write(tmp_path / "LinearX.csv", "\ufeff 0.5 , -1e-3\r\n2,3\r\n\r\n  \r\n")
    write(tmp_path / "LinearY.csv", "1.000000000000000000e+00\r\n0.000000000000000000e+00\n\n")
    X, y = datasets.load_linear(tmp_path)
    assert X.tolist() == [[0.5, -0.001], [2.0, 3.0]]  # the headerless first row is data
    assert y.tolist() == [1, 0]


def test_nonlinear_files_are_not_taken_for_linear_ones(tmp_path):
    write(tmp_path / "NonlinearX.csv", "1,2\n")
    write(tmp_path / "NonlinearY.csv", "1\n")
    with pytest.raises(datasets.DataError, match="LinearX.csv, LinearY.csv not found"):
        datasets.load_linear(tmp_path)
    assert datasets.load_nonlinear(tmp_path)[0].tolist() == [[1.0, 2.0]]


def test_a_name_that_matches_but_for_case_is_taken_and_said(tmp_path):
    write(tmp_path / "linearx.csv", "1,2\n")
    write(tmp_path / "dataset1" / "LINEARY.CSV", "1\n")
    (X, y), source = datasets.load_dataset("linear", tmp_path)
    assert X.tolist() == [[1.0, 2.0]] and y.tolist() == [1]
    assert [record.get("for") for record in source["files"]] == ["LinearX.csv", "LinearY.csv"]
    write(tmp_path / "LINEARX.csv", "3,4\n")   # two candidates: which was meant is unclear
    with pytest.raises(datasets.DataError, match="LINEARX.csv, linearx.csv all match "
                                                 "LinearX.csv but for case"):
        datasets.load_linear(tmp_path)


def test_a_dataset_folder_link_that_leads_nowhere_is_named(tmp_path):
    (tmp_path / "dataset1").symlink_to(tmp_path / "moved-away")
    with pytest.raises(datasets.DataError, match="dataset1 is a symbolic link to .*moved-away, "
                                                 "which does not exist"):
        datasets.load_linear(tmp_path)


@pytest.mark.parametrize("target", ["nowhere.csv", "loop"])
def test_a_link_that_leads_nowhere_is_named(tmp_path, target):
    write(tmp_path / "LinearY.csv", "1\n")
    link = tmp_path / "LinearX.csv"
    link.symlink_to(tmp_path / target)
    if target == "loop":
        (tmp_path / "loop").symlink_to(link)
    message = "which does not exist" if target != "loop" else "which cannot be followed"
    with pytest.raises(datasets.DataError, match=f"LinearX.csv is a symbolic link to .*{message}"):
        datasets.load_linear(tmp_path)


@pytest.mark.parametrize("subfolder", ["dataset2", ""])
def test_digits_split_files_round_trip(tmp_path, subfolder):
    rng = np.random.default_rng(0)
    X_train, X_test = rng.random((7, 64)), rng.random((5, 64))
    y_train, y_test = rng.integers(0, 10, 7), rng.integers(0, 10, 5)
    folder = tmp_path / subfolder
    savetxt(folder / "Digit_X_train.csv", X_train)
    savetxt(folder / "Digit_y_train.csv", y_train.astype(float))
    savetxt(folder / "Digit_X_test.csv", X_test)
    savetxt(folder / "Digit_y_test.csv", y_test.astype(float))
    got = datasets.load_digits_split(tmp_path)
    for read, written in zip(got, (X_train, y_train, X_test, y_test)):
        np.testing.assert_array_equal(read, written)  # file data used as given, not rescaled
    _, source = datasets.load_dataset("digits", tmp_path)
    assert [record["path"].rsplit("/", 1)[-1] for record in source["files"]] == [
        "Digit_X_train.csv", "Digit_y_train.csv", "Digit_X_test.csv", "Digit_y_test.csv"]


def test_digits_unsplit_pair_splits_in_file_order(tmp_path):
    X = np.arange(9 * 3, dtype=float).reshape(9, 3)
    y = np.arange(9) % 10
    savetxt(tmp_path / "dataset2" / "Digit_X.csv", X)
    savetxt(tmp_path / "dataset2" / "Digit_Y.csv", y.astype(float))
    X_train, y_train, X_test, y_test = datasets.load_digits_split(tmp_path)
    np.testing.assert_array_equal(X_train, X[:4])  # n // 2 rows, like the built-in 898 of 1797
    np.testing.assert_array_equal(X_test, X[4:])
    assert y_train.tolist() == [0, 1, 2, 3] and y_test.tolist() == [4, 5, 6, 7, 8]


def test_digits_split_files_win_over_unsplit(tmp_path):
    for name, text in [
        ("Digit_X_train.csv", "1,1\n"),
        ("Digit_y_train.csv", "1\n"),
        ("Digit_X_test.csv", "2,2\n"),
        ("Digit_y_test.csv", "2\n"),
        ("Digit_X.csv", "9,9\n9,9\n"),
        ("Digit_Y.csv", "9\n9\n"),
    ]:
        write(tmp_path / name, text)
    X_train, y_train, X_test, y_test = datasets.load_digits_split(tmp_path)
    assert X_train.tolist() == [[1.0, 1.0]] and y_test.tolist() == [2]


def test_one_hot_encode():
    y_train = np.array([2, 0, 1, 2, 1])
    y_test = np.array([1, 1, 0])
    Y_train, Y_test = datasets.one_hot_encode(y_train, y_test)
    assert Y_train.shape == (5, 3) and Y_test.shape == (3, 3)
    assert Y_train.dtype == np.float64
    np.testing.assert_array_equal(Y_train.argmax(axis=1), y_train)
    np.testing.assert_array_equal(Y_test.argmax(axis=1), y_test)
    np.testing.assert_array_equal(Y_train.sum(axis=1), 1.0)


def test_one_hot_encode_float_labels_from_files(tmp_path):
    write(tmp_path / "LinearX.csv", "1,2\n3,4\n5,6\n")
    write(tmp_path / "LinearY.csv", "1.000000000000000000e+00\n0.000000000000000000e+00\n1.0\n")
    _, y = datasets.load_linear(tmp_path)
    Y_train, Y_test = datasets.one_hot_encode(y, y[:2])
    np.testing.assert_array_equal(Y_train.argmax(axis=1), [1, 0, 1])
    np.testing.assert_array_equal(Y_test.argmax(axis=1), [1, 0])


def test_builtin_digits_one_hot():
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    Y_train, Y_test = datasets.one_hot_encode(y_train, y_test)
    assert Y_train.shape == (898, 10) and Y_test.shape == (899, 10)


# --- errors ----------------------------------------------------------------------------------

GOOD_X = "1,2\n3,4\n"
GOOD_Y = "0\n1\n"

# (X text, Y text, file the message must name, fragments the message must contain)
ERROR_CASES = {
    "empty X": ("", GOOD_Y, "LinearX.csv", ["empty"]),
    "blank-only Y": (GOOD_X, "\n \r\n", "LinearY.csv", ["empty"]),
    "ragged": (
        "1,2\n3,4\n5,6,7\n", "0\n1\n0\n", "LinearX.csv", ["line 3", "3 columns", "line 1 has 2"]
    ),
    "non-numeric": ("1,2\n3,abc\n", GOOD_Y, "LinearX.csv", ["line 2", "column 2", "'abc'"]),
    "long non-numeric is truncated": (
        "1,2\n3," + "x" * 200 + "\n", GOOD_Y, "LinearX.csv", ["line 2", "x" * 20 + "..."]
    ),
    "header line": ("x1,x2\n1,2\n", GOOD_Y, "LinearX.csv", ["line 1", "header"]),
    "space-separated": ("1 2\n3 4\n", GOOD_Y, "LinearX.csv", ["line 1", "commas"]),
    "empty field": ("1,2\n3,\n", GOOD_Y, "LinearX.csv", ["line 2", "empty field"]),
    "underscore number": ("1,2\n3,1_000\n", GOOD_Y, "LinearX.csv", ["line 2", "1_000"]),
    "nan": ("1,2\nnan,4\n", GOOD_Y, "LinearX.csv", ["line 2", "NaN"]),
    "inf label": (GOOD_X, "0\n-inf\n", "LinearY.csv", ["line 2", "infinity"]),
    "overflow to inf": ("1,2\n3,1e999\n", GOOD_Y, "LinearX.csv", ["line 2", "column 2", "inf"]),
    "blank line inside": ("1,2\n\n3,4\n", "0\n1\n0\n", "LinearX.csv", ["line 2", "blank"]),
    "label not integral": (GOOD_X, "0\n0.5\n", "LinearY.csv", ["line 2", "0.5", "not an integer"]),
    "label file with two columns": (GOOD_X, "0,1\n1,0\n", "LinearY.csv", ["one column", "2"]),
    "label row vector": (GOOD_X, "0,1\n", "LinearY.csv", ["one column"]),
    "row counts differ": (GOOD_X, "0\n1\n1\n", "LinearX.csv", ["LinearY.csv", "2 rows", "has 3"]),
    "binary garbage": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", GOOD_Y, "LinearX.csv", ["not a UTF-8"]),
    "nul byte": ("1,2\n3,\x004\n", GOOD_Y, "LinearX.csv", ["line 2", "not a number"]),
}


@pytest.mark.parametrize("case", list(ERROR_CASES), ids=list(ERROR_CASES))
def test_malformed_files_raise_data_error(tmp_path, case):
    x_text, y_text, culprit, fragments = ERROR_CASES[case]
    for name, content in (("LinearX.csv", x_text), ("LinearY.csv", y_text)):
        path = tmp_path / "dataset1" / name
        path.parent.mkdir(exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, newline="")
    with pytest.raises(DataError) as info:
        datasets.load_linear(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "dataset1" / culprit) in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "present, missing",
    [
        ("LinearX.csv", "LinearY.csv"),
        ("LinearY.csv", "LinearX.csv"),
        ("NonlinearX.csv", "NonlinearY.csv"),
        ("Digit_X_train.csv", "Digit_y_train.csv"),
        ("Digit_X.csv", "Digit_Y.csv"),
    ],
)
def test_missing_partner_file(tmp_path, present, missing):
    write(tmp_path / present, "1,2\n")
    name = "digits" if present.startswith("Digit") else present[: -len("X.csv")].lower()
    load = {
        "linear": datasets.load_linear,
        "nonlinear": datasets.load_nonlinear,
        "digits": datasets.load_digits_split,
    }[name]
    for call in (lambda: load(tmp_path), lambda: datasets.load_dataset(name, tmp_path)):
        with pytest.raises(DataError, match=missing) as info:
            call()
        assert present in str(info.value) and "\n" not in str(info.value)


def test_digits_partial_split_set_is_an_error_even_with_unsplit_pair(tmp_path):
    for name in ("Digit_X_train.csv", "Digit_y_train.csv", "Digit_X.csv", "Digit_Y.csv"):
        write(tmp_path / name, "1\n")
    with pytest.raises(DataError, match="Digit_X_test.csv"):
        datasets.load_digits_split(tmp_path)


def test_digits_feature_count_mismatch(tmp_path):
    write(tmp_path / "Digit_X_train.csv", "1,2,3\n")
    write(tmp_path / "Digit_y_train.csv", "1\n")
    write(tmp_path / "Digit_X_test.csv", "1,2\n")
    write(tmp_path / "Digit_y_test.csv", "1\n")
    expected = r"Digit_X_train\.csv has 3 columns .*Digit_X_test\.csv has 2"
    with pytest.raises(DataError, match=expected):
        datasets.load_digits_split(tmp_path)


def test_unsplit_digits_need_two_rows(tmp_path):
    write(tmp_path / "Digit_X.csv", "1,2\n")
    write(tmp_path / "Digit_Y.csv", "1\n")
    with pytest.raises(DataError, match=r"Digit_X\.csv has 1 row"):
        datasets.load_digits_split(tmp_path)


def test_data_dir_that_is_a_file(tmp_path):
    path = write(tmp_path / "LinearX.csv", GOOD_X)
    with pytest.raises(DataError, match="must be a folder"):
        datasets.load_linear(path)


def test_a_folder_or_a_pipe_where_a_file_should_be_is_a_data_error(tmp_path):
    import os
    (tmp_path / "LinearX.csv").mkdir()
    write(tmp_path / "LinearY.csv", GOOD_Y)
    with pytest.raises(DataError, match="LinearX.csv: not a regular file"):
        datasets.load_linear(tmp_path)
    (tmp_path / "LinearX.csv").rmdir()
    os.mkfifo(tmp_path / "LinearX.csv")   # reading it would wait for a writer forever
    with pytest.raises(DataError, match="LinearX.csv: not a regular file"):
        datasets.load_linear(tmp_path)


def test_an_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    write(tmp_path / "LinearX.csv", "1,2\n")
    write(tmp_path / "LinearY.csv", GOOD_Y)

    def refused(path, *args, **kwargs):   # as for a file without read permission
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_files.os, "open", refused)   # the one reader of data files opens so
    with pytest.raises(DataError, match=r"LinearX.csv: cannot read the data file "
                                        r"\(Permission denied\)"):
        datasets.load_linear(tmp_path)


def test_what_is_read_is_what_was_checked(tmp_path, monkeypatch):
    # A file is opened, then looked at: a link or a pipe put in its place after a check of the
    # path is refused, never followed or waited on.
    (tmp_path / "target.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    monkeypatch.setattr(_files.os.path, "islink", lambda path: False)   # the check, fooled
    with pytest.raises(_files.FileRefused, match="link.json: cannot read"):
        _files.read_regular_file(tmp_path / "link.json", 100, follow_links=False)
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(_files.FileRefused, match="pipe.csv: not a regular file"):
        _files.read_regular_file(tmp_path / "pipe.csv", 100)


# --- fuzz ------------------------------------------------------------------------------------

# Text built from the characters that matter to the parser, so malformed-but-close CSV is common.
csv_like_text = st.text(
    alphabet=st.sampled_from(list("0123456789.,-+eE nai\t\r\n_\x00é")), max_size=60
)
# Rows of plausible and implausible fields: often ragged, non-integral or non-finite,
# sometimes valid.
field = st.one_of(
    st.integers(-3, 3).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " 1 ", "1e999", "nan", "abc", "1_0", "0.5", "1.000000000000000000e+00"]),
)
rows = st.lists(st.lists(field, min_size=1, max_size=3), max_size=4)
csv_rows = st.builds(
    lambda rows, eol, tail: (eol.join(",".join(row) for row in rows) + tail).encode("utf-8"),
    rows,
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "\n", "\n\n"]),
)
file_content = st.one_of(
    st.binary(max_size=60), csv_like_text.map(lambda s: s.encode("utf-8")), csv_rows
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,   # the same examples on every run: CI cannot fail by the luck of the draw
    # tmp_path is shared across examples on purpose: each example overwrites both files.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(x_bytes=file_content, y_bytes=file_content)
def test_fuzz_loading_succeeds_or_raises_data_error(tmp_path, x_bytes, y_bytes):
    (tmp_path / "LinearX.csv").write_bytes(x_bytes)
    (tmp_path / "LinearY.csv").write_bytes(y_bytes)
    try:
        X, y = datasets.load_linear(tmp_path)
    except DataError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert "LinearX.csv" in message or "LinearY.csv" in message
    else:
        assert X.ndim == 2 and X.dtype == np.float64 and np.isfinite(X).all()
        assert y.shape == (len(X),) and y.dtype.kind == "i"
