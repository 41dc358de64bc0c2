"""The assignment's datasets, loadable offline: Q2.5's iris subset, dataset1 and dataset2.

Given ``data_dir``, each loader reads the course's CSV files from it (from the dataset's
subfolder, ``dataset1/`` or ``dataset2/``, or else from ``data_dir`` itself; a name that matches
but for case is accepted, and `load_dataset` says so). Every file of a dataset must be there:
a folder that lacks them is an error naming what was looked for and what is there, never a
silent switch to other data. Without ``data_dir`` the loader builds a built-in stand-in, so
every experiment runs without the course files. `load_dataset` returns, with the data, where it
came from: each file's path and SHA-256, or the stand-in's recipe.

The CSV files are headerless, comma-separated numbers, one sample per line. The parser here is
deliberately small and strict: any malformed input raises `DataError` with a one-line message
naming the file and, where it helps, the line and column, never a traceback from deep inside
NumPy. It reads only regular files of at most `MAX_FILE_BYTES`, in memory proportional to the
file (a few times its size), and refuses values beyond +-`MAX_VALUE`.

Not imported by ``mlplab/__init__.py`` (it pulls in scikit-learn's dataset loaders); use
``from mlplab import datasets``.
"""

import array
import codecs
import hashlib
import numbers
import os
import re
import stat
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, load_iris, make_classification, make_moons
from sklearn.preprocessing import OneHotEncoder

__all__ = [
    "DataError",
    "MAX_FILE_BYTES",
    "MAX_VALUE",
    "display_path",
    "load_dataset",
    "load_digits_split",
    "load_linear",
    "load_nonlinear",
    "load_q25",
    "one_hot_encode",
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

# The largest data file read: the course's files are a few megabytes.
MAX_FILE_BYTES = 256 * 2**20
# The largest magnitude of a value: its square (in a variance, an L2 loss) must stay finite.
MAX_VALUE = 1e150

# How each built-in stand-in is made, for the record of where data came from.
_STAND_INS = {
    "linear": "built-in stand-in: make_classification(n_samples=500, n_features=2, "
              "n_informative=2, n_redundant=0, n_clusters_per_class=1, flip_y=0, "
              f"class_sep={_LINEAR_CLASS_SEP}, random_state={{seed}})",
    "nonlinear": "built-in stand-in: make_moons(n_samples=1000, noise=0.2, "
                 "random_state={seed})",
    "digits": "built-in stand-in: scikit-learn's load_digits() / 16, the first 898 rows for "
              "training and the last 899 for testing",
}


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
    return load_dataset("linear", data_dir, seed)[0]


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
    return load_dataset("nonlinear", data_dir, seed)[0]


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
    return load_dataset("digits", data_dir)[0]


def load_dataset(name, data_dir=None, seed=0):
    """A dataset of the lab, and where it came from.

    Parameters
    ----------
    name : {"linear", "nonlinear", "digits"}
    data_dir, seed
        As for `load_linear`, `load_nonlinear` and `load_digits_split` (the digits ignore
        `seed`).

    Returns
    -------
    data : tuple
        What the loader of that name returns.
    source : dict, ready for JSON
        ``{"files": [{"path": ..., "sha256": ..., "bytes": ...}, ...]}`` for the files read
        (with ``"for": name`` where a file was matched ignoring case), in the order X, y (train,
        then test, for split digits files); or ``{"built_in": "<how the stand-in is made>"}``.
    """
    if name not in _STAND_INS:
        raise ValueError(f"unknown dataset {name!r}; expected one of "
                         f"{', '.join(map(repr, _STAND_INS))}")
    _check_seed(seed)
    if data_dir is None:
        return _built_in(name, seed), {"built_in": _STAND_INS[name].format(seed=seed)}
    if name == "digits":
        paths, expected = _resolve_digits(data_dir)
    else:
        expected = _LINEAR_FILES if name == "linear" else _NONLINEAR_FILES
        paths = _resolve(data_dir, "dataset1", expected)
    tables, files = [], []
    for path, wanted in zip(paths, expected):
        table, record = _read_table(path)
        if path.name != wanted:
            record["for"] = wanted
        tables.append(table)
        files.append(record)
    pairs = [_xy(tables[i], tables[i + 1], paths[i], paths[i + 1])
             for i in range(0, len(tables), 2)]
    if len(pairs) == 2:   # split digits files
        (X_train, y_train), (X_test, y_test) = pairs
        if X_train.shape[1] != X_test.shape[1]:
            raise DataError(
                f"{display_path(paths[0])} has {X_train.shape[1]} columns but "
                f"{display_path(paths[2])} has {X_test.shape[1]}; training and test data must "
                "have the same features")
        data = (X_train, y_train, X_test, y_test)
    elif name == "digits":   # an unsplit pair: the first n // 2 rows train, as the built-in
        X, y = pairs[0]
        if len(X) < 2:
            raise DataError(f"{display_path(paths[0])} has {len(X)} row; at least 2 are needed "
                            "to split it")
        n_train = len(X) // 2
        data = (X[:n_train], y[:n_train], X[n_train:], y[n_train:])
    else:
        data = pairs[0]
    return data, {"files": files}


def _built_in(name, seed):
    if name == "linear":
        X, y = make_classification(
            n_samples=500, n_features=2, n_informative=2, n_redundant=0, n_repeated=0,
            n_clusters_per_class=1,
            flip_y=0,  # no label noise: the overlap comes from class_sep alone, and 250/250 holds
            class_sep=_LINEAR_CLASS_SEP, random_state=seed)
        return X.astype(np.float64), y.astype(np.int64)
    if name == "nonlinear":
        X, y = make_moons(n_samples=1000, noise=0.2, random_state=seed)
        return X.astype(np.float64), y.astype(np.int64)
    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0  # pixels are counts 0..16
    y = digits.target.astype(np.int64)
    n = _DIGITS_N_TRAIN
    return X[:n], y[:n], X[n:], y[n:]


def display_path(path):
    """`path` as text that can be printed and written as UTF-8 whatever its bytes: a name that
    is not valid UTF-8 shows its odd bytes as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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


# --- finding files ---------------------------------------------------------------------------


def _check_seed(seed):
    # make_classification would accept a RandomState too, but then "same seed, same data"
    # no longer holds across calls; keep the seed a plain integer.
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")


def _resolve(data_dir, subfolder, names):
    """The paths of all `names`, each looked for in ``data_dir/subfolder``, then in `data_dir`.

    A name that matches but for case is taken (and reported by `load_dataset`). Every file must
    be found: none of them, or only some, is a DataError naming what is missing and what the
    folders hold, so that the user's data is never silently replaced by other data.
    """
    data_dir = _data_folder(data_dir)
    found = {name: _find(data_dir, subfolder, name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        present = [display_path(path) for path in found.values() if path is not None]
        raise DataError(
            f"{display_path(data_dir)}: {', '.join(missing)} not found in "
            f"{display_path(data_dir / subfolder)} or {display_path(data_dir)}"
            + (f" (but {', '.join(present)} is there)" if present else "")
            + f"; they hold: {_listing(data_dir, subfolder)}")
    return [found[name] for name in names]


def _resolve_digits(data_dir):
    """The split digits files, or else the unsplit pair: (paths, expected names)."""
    data_dir = _data_folder(data_dir)
    split = {name: _find(data_dir, "dataset2", name) for name in _DIGITS_SPLIT_FILES}
    whole = {name: _find(data_dir, "dataset2", name) for name in _DIGITS_WHOLE_FILES}
    if any(split.values()) or not any(whole.values()):
        return _resolve(data_dir, "dataset2", _DIGITS_SPLIT_FILES), _DIGITS_SPLIT_FILES
    return _resolve(data_dir, "dataset2", _DIGITS_WHOLE_FILES), _DIGITS_WHOLE_FILES


def _data_folder(data_dir):
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        what = "a file" if data_dir.exists() else "not there"
        raise DataError(f"{display_path(data_dir)}: data_dir must be a folder, but it is {what}")
    return data_dir


def _find(data_dir, subfolder, name):
    """The file `name` in ``data_dir/subfolder`` or `data_dir` (its exact name first, else the
    one name that matches it ignoring case), or None. A symbolic link that leads nowhere is a
    DataError naming it."""
    for folder in (data_dir / subfolder, data_dir):
        if os.path.lexists(folder):
            _followed(folder)   # a dataset1/ or dataset2/ link that leads nowhere is named
        if not folder.is_dir():
            continue
        if os.path.lexists(folder / name):
            return _followed(folder / name)
        matches = sorted(entry.name for entry in os.scandir(folder)
                         if entry.name.lower() == name.lower())
        if len(matches) > 1:
            raise DataError(f"{display_path(folder)}: {', '.join(matches)} all match {name} "
                            "but for case; keep one")
        if matches:
            return _followed(folder / matches[0])
    return None


def _followed(path):
    """`path`, checked that it leads to something if it is a symbolic link."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:   # a dangling link, or a loop of links
            target = display_path(os.readlink(path))
            reason = "which does not exist" if isinstance(exc, FileNotFoundError) else \
                f"which cannot be followed ({getattr(exc, 'strerror', None) or exc})"
            raise DataError(f"{display_path(path)} is a symbolic link to {target}, {reason}") \
                from None
    return path


def _listing(data_dir, subfolder, most=8):
    """What the two folders hold, for a message: a few names, sorted."""
    names = []
    for folder in (data_dir / subfolder, data_dir):
        if folder.is_dir():
            prefix = f"{subfolder}/" if folder != data_dir else ""
            names += sorted(prefix + display_path(entry.name) for entry in os.scandir(folder))
    if not names:
        return "nothing"
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most
                                      else "")


# --- parsing ---------------------------------------------------------------------------------

# A plain decimal number as np.savetxt writes it ("1.000000000000000000e+00"). Stricter than
# float(), which also takes "1_000", "nan", "inf" and non-ASCII digits.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _xy(X, labels, x_path, y_path):
    """A feature table and its label table, checked to match row for row."""
    y = _labels(labels, y_path)
    if len(X) != len(y):
        raise DataError(f"{display_path(x_path)} has {len(X)} rows but {display_path(y_path)} "
                        f"has {len(y)}; they must match row for row")
    return X, y


def _labels(table, path):
    """A one-column table of integer labels (possibly written as floats) as int64."""
    if table.shape[1] != 1:
        raise DataError(f"{display_path(path)}: a label file must have one column (one label "
                        f"per line), but line 1 has {table.shape[1]}")
    labels = table[:, 0]
    bad = (labels != np.round(labels)) | (np.abs(labels) > _MAX_LABEL)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{display_path(path)}, line {row + 1}: label {float(labels[row])!r} "
                        "is not an integer class label")
    return labels.astype(np.int64)


# The parser works on the file's bytes, with positions into them: no line or field is copied,
# so memory stays a few times the file's size whatever it holds. Fields are plain ASCII numbers
# with spaces or tabs around them; lines end in \r\n, \r or \n, as an editor numbers them.
_FIELD_RE = re.compile(rb"[ \t]*(" + _NUMBER.encode() + rb")[ \t]*(,)?")
_LINE_END_RE = re.compile(rb"\r\n|\r|\n")
_BLANK_RE = re.compile(rb"[ \t]*")
_BOM = b"\xef\xbb\xbf"


def _read_table(path):
    """Parse a headerless comma-separated file of numbers into a 2-D float64 array.

    Tolerates CRLF or CR line endings, a UTF-8 byte-order mark, spaces or tabs around fields and
    trailing blank lines. Everything else that is not a rectangular table of finite numbers
    within +-MAX_VALUE raises DataError. Row i of the result is line i + 1 of the file. Returns
    (table, record), the record being the file's path, SHA-256 and size.
    """
    raw = _read_bytes(path)
    record = {"path": display_path(path), "sha256": hashlib.sha256(raw).hexdigest(),
              "bytes": len(raw)}
    _check_utf8(raw, path)
    values = array.array("d")   # 8 bytes a value
    n_columns, n_rows, blank_since = None, 0, None
    start = len(_BOM) if raw.startswith(_BOM) else 0   # a BOM some editors add
    number = 0
    while start < len(raw) or number == 0:
        number += 1
        ending = _LINE_END_RE.search(raw, start)
        end = len(raw) if ending is None else ending.start()
        if _BLANK_RE.fullmatch(raw, start, end):
            blank_since = blank_since or number
        else:
            if blank_since is not None:
                raise DataError(f"{display_path(path)}, line {blank_since}: blank line; only "
                                "trailing blank lines are allowed")
            count = _parse_line(raw, start, end, values, path, number)
            if n_columns is None:
                n_columns = count
            elif count != n_columns:
                raise DataError(f"{display_path(path)}, line {number}: {count} columns, but "
                                f"line 1 has {n_columns}")
            n_rows += 1
        if ending is None:
            break
        start = ending.end()
    if n_rows == 0:
        raise DataError(f"{display_path(path)}: the file is empty")
    return np.frombuffer(values, dtype=np.float64).reshape(n_rows, n_columns), record


def _check_utf8(raw, path):
    """A DataError unless `raw` is UTF-8 text, checked in blocks (no decoded copy is kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for offset in range(0, len(raw), 1 << 20):
        try:
            decoder.decode(raw[offset:offset + (1 << 20)])
        except UnicodeDecodeError as exc:
            where = offset + exc.start
            raise DataError(f"{display_path(path)}: not a UTF-8 text file (byte "
                            f"0x{raw[where]:02x} at offset {where})") from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DataError(f"{display_path(path)}: not a UTF-8 text file (it ends inside a "
                        "character)") from None


def _read_bytes(path):
    """The bytes of a regular file of at most MAX_FILE_BYTES, or a DataError saying why not."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise DataError(f"{display_path(path)}: not a regular file (a folder, a device or "
                            "a pipe cannot be read as data)")
        if status.st_size > MAX_FILE_BYTES:
            raise DataError(f"{display_path(path)}: {status.st_size} bytes, more than the "
                            f"limit of {MAX_FILE_BYTES} for a data file")
        raw = bytearray()
        with open(path, "rb") as file:
            # In blocks, not read(limit): that would reserve the whole limit at once. The
            # limit is checked again as it is read, since the file may grow.
            while block := file.read(1 << 20):
                raw += block
                if len(raw) > MAX_FILE_BYTES:
                    raise DataError(f"{display_path(path)}: more than the limit of "
                                    f"{MAX_FILE_BYTES} bytes for a data file")
    except OSError as exc:
        raise DataError(f"{display_path(path)}: cannot read the file "
                        f"({exc.strerror or exc})") from None
    return raw


def _parse_line(raw, start, end, values, path, number):
    """Append the numbers of the line raw[start:end] to `values`; returns how many."""
    position, count = start, 0
    while True:
        match = _FIELD_RE.match(raw, position, end)
        if match is None or (match.group(2) is None and match.end() != end):
            raise _field_error(path, number, raw, start, end, position)
        value = float(match.group(1))
        if not abs(value) <= MAX_VALUE:
            what = ("NaN and infinity are not allowed" if not np.isfinite(value) else
                    f"beyond +-{MAX_VALUE:g}, where squares overflow")
            raise DataError(f"{display_path(path)}, line {number}, column "
                            f"{raw.count(b',', start, position) + 1}: "
                            f"{_shown(match.group(1))} ({what})")
        values.append(value)
        count += 1
        if match.group(2) is None:
            return count
        position = match.end()


def _shown(field):
    """A field's bytes as text for a message, at most 20 characters of it."""
    text = field.decode("utf-8", "backslashreplace")
    return text if len(text) <= 20 else text[:20] + "..."


def _field_error(path, number, raw, start, end, position):
    """The DataError for the field of line raw[start:end] at `position`: not a plain number."""
    comma = raw.find(b",", position, end)
    field = raw[position:end if comma < 0 else comma].strip(b" \t")
    where = f"{display_path(path)}, line {number}, column {raw.count(b',', start, position) + 1}"
    if not field:
        return DataError(f"{where}: empty field")
    text = _shown(field)
    if field.lower().lstrip(b"+-") in (b"nan", b"inf", b"infinity"):
        return DataError(f"{where}: {text} (NaN and infinity are not allowed)")
    hint = ""
    if any(separator in field for separator in (b" ", b"\t", b";")):
        hint = "; fields must be separated by commas"
    elif number == 1:
        hint = "; the file must have no header line"
    # repr() keeps control characters from breaking the message onto several lines.
    return DataError(f"{where}: not a number: {text!r}{hint}")
