"""The assignment's datasets, loadable offline: Q2.5's iris subset, dataset1 and dataset2.

Given ``data_dir``, each loader reads the course's CSV files from it (first from the dataset's
subfolder, ``dataset1/`` or ``dataset2/``, then from ``data_dir`` itself). When ``data_dir`` is
None, or holds none of a dataset's files, the loader builds a built-in stand-in instead, so
every experiment runs without the course files; `source_of` says which was used, for the report.

The CSV files are headerless, comma-separated numbers, one sample per line. The parser here is
deliberately small and strict: any malformed input raises `DataError` with a one-line message
naming the file and, where it helps, the line, never a traceback from deep inside NumPy.

Not imported by ``mlplab/__init__.py`` (it pulls in scikit-learn's dataset loaders); use
``from mlplab import datasets``.
"""

import numbers
import re
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, load_iris, make_classification, make_moons
from sklearn.preprocessing import OneHotEncoder

__all__ = [
    "DataError",
    "load_digits_split",
    "load_linear",
    "load_nonlinear",
    "load_q25",
    "one_hot_encode",
    "source_of",
]


class DataError(ValueError):
    """A data file is missing, unreadable or malformed.

    The message is a single line naming the file and, where relevant, the 1-based line number.
    """


# LinearXY stand-in: make_classification's class_sep, chosen so the classes overlap a little.
# With random_state=seed=0, LogisticRegression under 5-fold StratifiedKFold(shuffle=True,
# random_state=0) scores 0.930 (measured: 0.916 at 1.2, 0.946 at 1.4).
_LINEAR_CLASS_SEP = 1.3

# The digits split: load_digits() has 1797 rows; the first 898 (= 1797 // 2) are for training.
_DIGITS_N_TRAIN = 898

_LINEAR_FILES = ("LinearX.csv", "LinearY.csv")
_NONLINEAR_FILES = ("NonlinearX.csv", "NonlinearY.csv")
_DIGITS_SPLIT_FILES = (
    "Digit_X_train.csv",
    "Digit_y_train.csv",
    "Digit_X_test.csv",
    "Digit_y_test.csv",
)
_DIGITS_WHOLE_FILES = ("Digit_X.csv", "Digit_Y.csv")

# Labels are stored as floats; beyond this they are surely not class indices (and int64 casts
# of huge floats are undefined).
_MAX_LABEL = 2**31


# --- Q2.5 ------------------------------------------------------------------------------------


def load_q25():
    """Return the assignment's Q2.5 data: iris, first 100 rows, first 2 features, shuffled.

    Built exactly as the assignment's snippet builds it (``default_rng(2)`` shuffling a list
    of indices), so results match the handout.

    Returns
    -------
    X : ndarray of shape (100, 2), float64
        Sepal length and sepal width, in cm.
    y : ndarray of shape (100,), int64
        0 (setosa) or 1 (versicolor), 50 of each.
    """
    X, Y = load_iris(return_X_y=True)
    X, Y = X[:100, :2], Y[:100]
    rng = np.random.default_rng(2)
    indices = [i for i in range(100)]
    rng.shuffle(indices)
    X, Y = X[indices], Y[indices]
    return X.astype(np.float64), Y.astype(np.int64)


# --- dataset1 --------------------------------------------------------------------------------


def load_linear(data_dir=None, seed=0):
    """Return dataset1's LinearXY: two features, two classes, nearly linearly separable.

    Parameters
    ----------
    data_dir : str or path-like or None
        Folder with the course files ``LinearX.csv`` and ``LinearY.csv`` (looked for in
        ``data_dir/dataset1/`` first, then in ``data_dir``). None, or a folder with neither
        file, gives the built-in stand-in.
    seed : int, >= 0
        Seeds the built-in stand-in (``random_state=seed``); ignored when files are read.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        The built-in stand-in has 500 samples, exactly 250 per class (labels 0 and 1).

    Raises
    ------
    DataError
        If only one of the two files is present, or a file is malformed.

    Notes
    -----
    The stand-in is ``make_classification(n_samples=500, n_features=2, n_informative=2,
    n_redundant=0, n_repeated=0, n_clusters_per_class=1, flip_y=0, class_sep=1.3,
    random_state=seed)``. For seed=0, LogisticRegression under 5-fold
    ``StratifiedKFold(shuffle=True, random_state=0)`` measures 0.930 accuracy. Only seed=0 is
    calibrated: make_classification also draws each class's spread and orientation, so other
    seeds are easier (0.92 to 1.00 over seeds 0-9, most of them above 0.98).
    """
    _check_seed(seed)
    paths = _resolve(data_dir, "dataset1", _LINEAR_FILES)
    if paths is not None:
        return _load_xy(*paths)
    X, y = make_classification(
        n_samples=500,
        n_features=2,
        n_informative=2,
        n_redundant=0,
        n_repeated=0,
        n_clusters_per_class=1,
        flip_y=0,  # no label noise: the overlap comes from class_sep alone, and 250/250 holds
        class_sep=_LINEAR_CLASS_SEP,
        random_state=seed,
    )
    return X.astype(np.float64), y.astype(np.int64)


def load_nonlinear(data_dir=None, seed=0):
    """Return dataset1's NonLinearXY: two features, two classes, not linearly separable.

    Parameters
    ----------
    data_dir : str or path-like or None
        Folder with the course files ``NonlinearX.csv`` and ``NonlinearY.csv`` (looked for in
        ``data_dir/dataset1/`` first, then in ``data_dir``). None, or a folder with neither
        file, gives the built-in stand-in.
    seed : int, >= 0
        Seeds the built-in stand-in (``random_state=seed``); ignored when files are read.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        The built-in stand-in has 1000 samples, exactly 500 per class (labels 0 and 1).

    Raises
    ------
    DataError
        If only one of the two files is present, or a file is malformed.

    Notes
    -----
    The stand-in is ``make_moons(n_samples=1000, noise=0.2, random_state=seed)``: two
    interleaved half-circles. A linear model tops out near 0.87 accuracy on it (0.863 for
    seed=0, LogisticRegression, 5-fold stratified CV), a small MLP does much better.
    """
    _check_seed(seed)
    paths = _resolve(data_dir, "dataset1", _NONLINEAR_FILES)
    if paths is not None:
        return _load_xy(*paths)
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)


# --- dataset2 --------------------------------------------------------------------------------


def load_digits_split(data_dir=None):
    """Return dataset2, the 8x8 handwritten digits, as a fixed training and test split.

    Parameters
    ----------
    data_dir : str or path-like or None
        Folder with the course files (looked for in ``data_dir/dataset2/`` first, then in
        ``data_dir``): either the split ``Digit_X_train.csv``, ``Digit_y_train.csv``,
        ``Digit_X_test.csv``, ``Digit_y_test.csv``, or an unsplit ``Digit_X.csv`` and
        ``Digit_Y.csv`` pair, whose first ``n // 2`` rows (in file order) become the
        training subset and the rest the test subset. The split files win if both are
        present. None, or a folder with none of these files, gives the built-in data.

    Returns
    -------
    X_train : ndarray of shape (n_train, 64), float64
    y_train : ndarray of shape (n_train,), int64
        Digits 0-9.
    X_test : ndarray of shape (n_test, 64), float64
    y_test : ndarray of shape (n_test,), int64

    Raises
    ------
    DataError
        If only some of a file set is present, a file is malformed, or the training and test
        files disagree on the number of features.

    Notes
    -----
    Built-in: scikit-learn's bundled ``load_digits()`` (1797 samples), pixel values 0-16
    divided by 16 into [0, 1]; the first 898 rows are the training subset and the other 899
    the test subset, in the original order. File data is used exactly as given, not
    rescaled: the course files are already scaled. Some pixel columns are zero in every
    sample (the image border), so any per-feature standardisation must guard against a
    zero standard deviation.
    """
    paths = _resolve_digits(data_dir)
    if paths is None:
        digits = load_digits()
        X = digits.data.astype(np.float64) / 16.0  # pixels are counts 0..16
        y = digits.target.astype(np.int64)
        n = _DIGITS_N_TRAIN
        return X[:n], y[:n], X[n:], y[n:]

    if len(paths) == 4:
        X_train, y_train = _load_xy(paths[0], paths[1])
        X_test, y_test = _load_xy(paths[2], paths[3])
        if X_train.shape[1] != X_test.shape[1]:
            raise DataError(
                f"{paths[0]} has {X_train.shape[1]} columns but {paths[2]} has "
                f"{X_test.shape[1]}; training and test data must have the same features"
            )
        return X_train, y_train, X_test, y_test

    X, y = _load_xy(*paths)
    if len(X) < 2:
        raise DataError(f"{paths[0]} has {len(X)} row; at least 2 are needed to split it")
    n_train = len(X) // 2  # as the built-in split: 1797 // 2 = 898
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def one_hot_encode(YTrain, YTest):
    """One-hot encode labels, exactly as the assignment's helper (Q4) does.

    The encoder is fitted on the training labels only, so a test label never seen in
    training raises scikit-learn's ValueError.

    Parameters
    ----------
    YTrain : array-like of shape (n_train,)
    YTest : array-like of shape (n_test,)

    Returns
    -------
    YTrain_encoded : ndarray of shape (n_train, n_classes), float64
    YTest_encoded : ndarray of shape (n_test, n_classes), float64
        Column k stands for the k-th smallest training label.
    """
    encoder = OneHotEncoder(sparse_output=False)
    return (
        encoder.fit_transform(np.asarray(YTrain).reshape(-1, 1)),
        encoder.transform(np.asarray(YTest).reshape(-1, 1)),
    )


def source_of(name, data_dir=None):
    """Say where a loader would take its data from, for the report.

    Parameters
    ----------
    name : {"linear", "nonlinear", "digits"}
    data_dir : str or path-like or None
        As passed to the loader.

    Returns
    -------
    str
        ``"built-in"``, or the file paths that would be read, comma-separated, in the order
        X, y (train, then test, for split digits files). Paths are built from ``data_dir`` as
        given, so a relative ``data_dir`` gives relative paths.

    Raises
    ------
    ValueError
        If `name` is unknown.
    DataError
        If only some of the dataset's files are present (as the loader would).
    """
    resolvers = {
        "linear": lambda: _resolve(data_dir, "dataset1", _LINEAR_FILES),
        "nonlinear": lambda: _resolve(data_dir, "dataset1", _NONLINEAR_FILES),
        "digits": lambda: _resolve_digits(data_dir),
    }
    if name not in resolvers:
        expected = ", ".join(map(repr, resolvers))
        raise ValueError(f"unknown dataset {name!r}; expected one of {expected}")
    paths = resolvers[name]()
    return "built-in" if paths is None else ", ".join(str(path) for path in paths)


# --- finding files ---------------------------------------------------------------------------


def _check_seed(seed):
    # make_classification would accept a RandomState too, but then "same seed, same data"
    # no longer holds across calls; keep the seed a plain integer.
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")


def _resolve(data_dir, subfolder, names):
    """Return the paths of all `names` in `data_dir`, or None if none of them is there.

    Each file is looked for in ``data_dir/subfolder`` first, then in ``data_dir``. Raises
    DataError if some but not all are present: falling back to built-in data then would
    silently replace the user's data.
    """
    if data_dir is None:
        return None
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise DataError(f"{data_dir}: data_dir must be a folder, but it is a file")
    found = {}
    for name in names:
        candidates = [data_dir / subfolder / name, data_dir / name]
        found[name] = next((path for path in candidates if path.exists()), None)
    present = [path for path in found.values() if path is not None]
    if not present:
        return None
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise DataError(
            f"{missing[0]} not found in {data_dir / subfolder} or {data_dir}, but {present[0]} "
            f"is there; provide all of {', '.join(names)} or none"
        )
    return [found[name] for name in names]


def _resolve_digits(data_dir):
    split = _resolve(data_dir, "dataset2", _DIGITS_SPLIT_FILES)
    return split if split is not None else _resolve(data_dir, "dataset2", _DIGITS_WHOLE_FILES)


# --- parsing ---------------------------------------------------------------------------------

# A plain decimal number as np.savetxt writes it ("1.000000000000000000e+00"). Stricter than
# float(), which also takes "1_000", "nan", "inf" and non-ASCII digits.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(_NUMBER)
_ROW_RE = re.compile(rf"[ \t]*{_NUMBER}[ \t]*(?:,[ \t]*{_NUMBER}[ \t]*)*")


def _load_xy(x_path, y_path):
    """Read a feature file and its label file and check they match row for row."""
    X = _read_table(x_path)
    y = _read_labels(y_path)
    if len(X) != len(y):
        raise DataError(
            f"{x_path} has {len(X)} rows but {y_path} has {len(y)}; they must match row for row"
        )
    return X, y


def _read_labels(path):
    """Read a one-column file of integer labels (possibly written as floats) as int64."""
    table = _read_table(path)
    if table.shape[1] != 1:
        raise DataError(
            f"{path}: a label file must have one column (one label per line), "
            f"but line 1 has {table.shape[1]}"
        )
    labels = table[:, 0]
    bad = (labels != np.round(labels)) | (np.abs(labels) > _MAX_LABEL)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, line {row + 1}: label {float(labels[row])!r} is not an integer class label"
        )
    return labels.astype(np.int64)


def _read_table(path):
    """Parse a headerless comma-separated file of numbers into a 2-D float64 array.

    Tolerates CRLF or CR line endings, a UTF-8 byte-order mark, spaces around fields and
    trailing blank lines. Everything else that is not a rectangular table of finite
    numbers raises DataError. Row i of the result is line i + 1 of the file.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig", errors="strict")  # -sig drops a BOM some editors add
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a UTF-8 text file (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None

    # Split on line endings only: str.splitlines would also split on form feeds and the like,
    # and the line numbers in messages would no longer match an editor's.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()  # np.savetxt ends with a newline; editors often add another
    if not lines:
        raise DataError(f"{path}: the file is empty")

    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError(
                f"{path}, line {number}: blank line; only trailing blank lines are allowed"
            )
        if not _ROW_RE.fullmatch(line):
            _check_fields(path, number, line)  # raises, naming the bad field, if there is one
        values = [float(field.strip()) for field in line.split(",")]
        if rows and len(values) != len(rows[0]):
            raise DataError(
                f"{path}, line {number}: {len(values)} columns, but line 1 has {len(rows[0])}"
            )
        rows.append(values)

    table = np.array(rows, dtype=np.float64)
    # Numbers such as 1e999 pass the pattern but overflow to inf.
    non_finite = ~np.isfinite(table)
    if non_finite.any():
        row, column = (int(i) for i in np.argwhere(non_finite)[0])
        raise DataError(
            f"{path}, line {row + 1}, column {column + 1}: {float(table[row, column])} "
            f"(NaN and infinity are not allowed)"
        )
    return table


def _check_fields(path, number, line):
    """Raise DataError for the first field of `line` that is not a plain number."""
    for column, field in enumerate(line.split(","), start=1):
        text = field.strip()
        if _NUMBER_RE.fullmatch(text):
            continue  # the row pattern failed only on unusual whitespace around this field
        where = f"{path}, line {number}, column {column}"
        if not text:
            raise DataError(f"{where}: empty field")
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise DataError(f"{where}: {text} (NaN and infinity are not allowed)")
        shown = text if len(text) <= 20 else text[:20] + "..."
        hint = ""
        if any(separator in text for separator in " \t;"):
            hint = "; fields must be separated by commas"
        elif number == 1:
            hint = "; the file must have no header line"
        # repr() keeps control characters from breaking the message onto several lines.
        raise DataError(f"{where}: not a number: {shown!r}{hint}")
