"""Input checks that raise ``ValueError`` with a message naming the problem.

Each rule is written once, here. The checks are cheap (microseconds) because ``Network.fit``
runs them on every call: a finiteness test sums the array first and only scans it elementwise
when the sum is not finite.
"""

import math
import numbers

import numpy as np


def all_finite(array, quiet=False):
    """Whether every element is finite; a sum first, elementwise only if the sum is not.

    `quiet`: the caller already runs under ``np.errstate(over="ignore", invalid="ignore")``,
    as the training step does; entering it again would cost a few microseconds per step.
    """
    if not quiet:
        with np.errstate(over="ignore", invalid="ignore"):
            return all_finite(array, quiet=True)
    # The sum of finite numbers can still overflow to inf, so confirm before complaining.
    # math.isfinite on the NumPy scalar: a tenth of the cost of np.isfinite on it.
    total = np.add.reduce(array, axis=None)
    return math.isfinite(total) or bool(np.isfinite(array).all())


def check_data(array, name, ndim=(2,), dtype=None):
    """Return `array` as a finite, non-empty float array of one of the allowed dimensions.

    Parameters
    ----------
    array : array-like
    name : str
        How the message refers to the argument ("X", "Y").
    ndim : tuple of int
        Allowed numbers of dimensions.
    dtype : numpy float dtype or None
        Convert to it; None keeps a float array's dtype and makes anything else float64.
    """
    try:
        array = np.asarray(array)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a numeric array, could not convert it: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if array.ndim not in ndim:
        shapes = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {shapes}, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); at least one sample is needed")
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.float64
    with np.errstate(over="ignore"):   # values beyond float32's range become inf, caught next
        array = np.asarray(array, dtype=dtype)
    if not all_finite(array):
        raise ValueError(f"{name} contains NaN or infinity (or values too large for "
                         f"{array.dtype}); clean or impute the data first")
    return array


def check_number(value, name, low=None, low_inclusive=True, integer=False):
    """Return `value` if it is a finite real number (an integer if asked) above `low`."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        what = "an integer" if integer else "a finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        rule = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {rule} {low}, got {value!r}")
    return value
