"""Input checks that raise ``ValueError`` with a message naming the problem.

Each rule is written once, here. The checks are cheap because ``Network.fit``
runs them on every call: an array already of the right kind passes without a copy, and a
finiteness test sums the array first and only scans it elementwise when the sum is not finite.
"""

import math
import numbers
import warnings

import numpy as np


def all_finite(array):
    """Whether every element is finite; a sum first, elementwise only if the sum is not."""
    # The sum of finite numbers can still overflow to inf, so confirm before complaining.
    # math.isfinite on the NumPy scalar: a tenth of the cost of np.isfinite on it.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
        return math.isfinite(total) or bool(np.isfinite(array).all())


def check_data(array, name, ndim=(2,), dtype=None, finite=True):
    """Return `array` as a non-empty float array of one of the allowed dimensions.

    Parameters
    ----------
    array : array-like
    name : str
        How the message refers to the argument ("X", "Y").
    ndim : tuple of int
        Allowed numbers of dimensions.
    dtype : numpy float dtype or None
        Convert to it; None keeps a float array's dtype and makes anything else float64.
    finite : bool
        Also check that every value is finite. `Network.fit` leaves this to the step, which
        looks for non-finite data only when its loss or weights come out non-finite.
    """
    if not (type(array) is np.ndarray and array.dtype == dtype and array.ndim in ndim
            and array.size):
        array = _converted(array, name, ndim, dtype)
    if finite and not all_finite(array):
        raise ValueError(non_finite_message(name, array.dtype))
    return array


def _numeric_array(value, name):
    """`value` as an array of numbers (bool, int or float), or a ValueError naming `name`."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a numeric array, could not convert it: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    return array


def _converted(array, name, ndim, dtype):
    array = _numeric_array(array, name)
    if array.ndim not in ndim:
        shapes = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {shapes}, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); at least one sample is needed")
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.float64
    with np.errstate(over="ignore"):   # values beyond float32's range become inf, caught later
        return np.asarray(array, dtype=dtype)


def non_finite_parameter_message(l, name, values):
    """Names the first non-finite entry of layers[l].<name>, with its position."""
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
    return (f"layers[{l}].{name}[{', '.join(map(str, where))}] is {values[where]}: training "
            "and prediction need finite weights and biases. Was it set by hand?")


def non_finite_message(name, dtype):
    return (f"{name} contains NaN or infinity (or values too large for {dtype}); clean or "
            "impute the data first")


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


def loss_total(loss_function, YTrue, YPredict, sample_weight=None):
    """loss_function(YTrue, YPredict) as a float: an array it returns is summed (losses are
    sums over samples and units, so the assignment's elementwise 1/2 (y - y_hat)^2 works as
    written). With `sample_weight` (N,), sum_i w_i L_i, L_i the loss of row i on its own."""
    if sample_weight is not None:
        return sum(w * loss_total(loss_function, YTrue[i:i + 1], YPredict[i:i + 1])
                   for i, w in enumerate(sample_weight))
    value = loss_function(YTrue, YPredict)
    if type(value) is float:
        return value
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"dtype {array.dtype}")
        return float(np.sum(array))
    except (TypeError, ValueError):
        name = getattr(loss_function, "__name__", repr(loss_function))
        raise ValueError(f"loss_function {name} returned {value!r} ({type(value).__name__}); "
                         "a loss must return a number, or an array of numbers to be "
                         "summed") from None


def check_network(network):
    """A Network's structure: a list of layers, one activation and derivative per layer (only
    the output layer's derivative may be None), callable functions, a known reg_convention,
    and `check_parameters`."""
    layers = network.layers
    if not isinstance(layers, (list, tuple)):
        raise ValueError(f"layers must be a list of Layer objects, got {type(layers).__name__}")
    if len(layers) == 0:
        raise ValueError("layers is empty; a network needs at least one Layer")
    for name in ("activation_list", "d_activation_list"):
        if len(getattr(network, name)) != len(layers):
            raise ValueError(f"{name} has {len(getattr(network, name))} entries but there are "
                             f"{len(layers)} layers; give one per layer")
    for l, (f, d_f) in enumerate(zip(network.activation_list, network.d_activation_list)):
        if not callable(f):
            raise ValueError(f"activation_list[{l}] must be callable, got {f!r}")
        if d_f is None and l != len(layers) - 1:
            raise ValueError(f"d_activation_list[{l}] is None; only the output layer's "
                             "derivative may be None (when the loss derivative is dL/dz)")
        if d_f is not None and not callable(d_f):
            raise ValueError(f"d_activation_list[{l}] must be callable or None, got {d_f!r}")
    for name in ("loss_function", "d_loss_function"):
        if not callable(getattr(network, name)):
            raise ValueError(f"{name} must be callable, got {getattr(network, name)!r}")
    check_reg_convention(network.reg_convention)
    check_parameters(layers)


def check_reg_convention(value):
    """How reg_lambda scales the L2 penalty: "mean" or "sum" (see `Network.fit`)."""
    if value not in ("mean", "sum"):
        raise ValueError(f"reg_convention must be 'mean' or 'sum', got {value!r}")


def check_parameters(layers):
    """Every layer's weights (and biases) are arrays of one float dtype, and the layers chain.

    Where it is safe, what a user assigned is converted and assigned back: ints become floats
    (of the dtype of the first float parameter, float64 if there is none), a bias given as a
    (1, n) row or (n, 1) column a vector. Checked before every use that could follow a change:
    users replace layers and arrays.
    """
    dtype = next((array.dtype for layer in layers for array in (layer.weights, layer.biases)
                  if isinstance(array, np.ndarray) and array.dtype.char in "fd"),
                 np.dtype(np.float64))
    for l, layer in enumerate(layers):
        W = layer.weights
        shape = (getattr(layer, "n_input", None), getattr(layer, "n_output", None))
        shape = None if None in shape else shape   # a layer of another class may not say
        if not (type(W) is np.ndarray and W.ndim == 2 and W.dtype.char in "fd"
                and W.shape == (shape or W.shape)):
            W = layer.weights = as_parameter(W, shape, f"layers[{l}].weights", dtype)
        b = layer.biases
        if b is not None and not (type(b) is np.ndarray and b.shape == (W.shape[1],)
                                  and b.dtype.char in "fd"):
            b = layer.biases = as_parameter(b, (W.shape[1],), f"layers[{l}].biases", dtype)
        for name, array in (("weights", W), ("biases", b)):
            if array is not None and array.dtype != dtype:
                raise ValueError(f"layers[{l}].{name} is {array.dtype} but the network's first "
                                 f"parameters are {dtype}; use Network.astype to give every "
                                 "layer one dtype")
            if array is not None and not all_finite(array):
                raise ValueError(non_finite_parameter_message(l, name, array))
        if l and W.shape[0] != layers[l - 1].weights.shape[1]:
            raise ValueError(f"layers {l - 1} and {l} do not chain: layer {l - 1} has "
                             f"{layers[l - 1].weights.shape[1]} outputs but layer {l} has "
                             f"{W.shape[0]} inputs")


def check_inputs(network, X, Y=None, finite=True):
    """X, or (X, Y), as float arrays of the network's dtype and widths; a 1-D Y (one output
    unit) becomes a column. `finite` as in `check_data`."""
    first, last = network.layers[0].weights, network.layers[-1].weights
    X = check_data(X, "X", dtype=first.dtype, finite=finite)
    if X.shape[1] != first.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features but the first layer expects "
                         f"{first.shape[0]}")
    if Y is None:
        return X
    Y = check_data(Y, "Y", ndim=(1, 2), dtype=X.dtype, finite=finite)
    n_output = last.shape[1]
    if len(Y) != len(X):
        raise ValueError(f"X and Y have different numbers of samples: {len(X)} and {len(Y)}")
    if Y.ndim == 1:
        if n_output != 1:
            raise ValueError(f"Y is 1-D but the network has {n_output} output units; give Y "
                             "of shape (n_samples, n_output), e.g. one-hot rows")
        Y = Y.reshape(-1, 1)
    elif Y.shape[1] != n_output:
        raise ValueError(f"Y has {Y.shape[1]} columns but the network has {n_output} output "
                         "units")
    return X, Y


def check_step(network, X, Y, learning_rate, reg_lambda):
    """`Network.fit`'s arguments: (X, Y) as `check_inputs` gives them, but for finiteness (the
    step looks for non-finite data only when it fails), and the two numbers."""
    first, last = network.layers[0].weights, network.layers[-1].weights
    if (type(X) is np.ndarray and type(Y) is np.ndarray and X.ndim == 2 == Y.ndim
            and X.dtype is first.dtype and Y.dtype is first.dtype
            and X.shape[1] == first.shape[0] and Y.shape[1] == last.shape[1]
            and len(X) == len(Y) and len(X)
            and type(learning_rate) in (float, int) and 0 < learning_rate < math.inf
            and type(reg_lambda) in (float, int) and 0 <= reg_lambda < math.inf):
        return X, Y   # what the assignment's loop gives `fit` at every epoch, passed cheaply
    X, Y = check_inputs(network, X, Y, finite=False)
    check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
    check_number(reg_lambda, "reg_lambda", low=0)
    return X, Y


def check_sample_weight(sample_weight, n_samples, mean_one=False, dtype=np.float64):
    """`sample_weight` as an array of shape (n_samples,) of finite weights >= 0, not all zero
    (divided by their mean if `mean_one`, then in `dtype`); None stays None."""
    if sample_weight is None:
        return None
    weights = _numeric_array(sample_weight, "sample_weight")
    if weights.ndim == 0:   # one number for every sample, as scikit-learn allows
        weights = np.full(n_samples, weights, dtype=np.float64)
    weights = weights.astype(np.float64)
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},), one weight per sample, "
                         f"got shape {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"sample_weight must be finite, got {weights[~np.isfinite(weights)][0]}"
                         f" at index {int(np.flatnonzero(~np.isfinite(weights))[0])}")
    if np.any(weights < 0):
        raise ValueError(f"sample_weight must be >= 0, got {weights[weights < 0][0]} at index "
                         f"{int(np.flatnonzero(weights < 0)[0])}")
    if not weights.any():
        raise ValueError("sample_weight is zero for every sample: there is nothing to learn "
                         "from")
    if not 1e-300 < weights.max() < 1e300 / n_samples:
        # so large that sums overflow, or so small that means underflow: only their ratios
        # matter, so bring them near 1 (ordinary weights are kept as they are, bit for bit)
        weights = weights / weights.max()
    return (weights / weights.mean()).astype(dtype) if mean_one else weights


def check_threshold(threshold, n_output):
    """`Network.predict`'s threshold: a number, 0.5 if None; with several output units it is
    not used, and a warning says so."""
    if threshold is None:
        return 0.5
    check_number(threshold, "threshold")
    if n_output > 1:
        warnings.warn(f"threshold={threshold!r} is ignored: it is used with one output unit, "
                      f"and this network has {n_output}, so it predicts the index of the "
                      "largest output", UserWarning, stacklevel=3)
    return threshold


def check_dtype(dtype):
    """`dtype` as np.float32 or np.float64, the dtypes a network computes in."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def check_training(network, n_samples, epochs, learning_rate, reg_lambda, batch_size, seed,
                   validation_data, sample_weight=None):
    """`Network.train`'s settings (its optimizer and schedule: `optimizers.check_choice`);
    returns the batch size (at most `n_samples`; None is the full batch), the checked
    validation pair or None, and the sample weights or None."""
    check_number(epochs, "epochs", low=1, integer=True)
    check_number(learning_rate, "learning_rate", low=0, low_inclusive=False)
    check_number(reg_lambda, "reg_lambda", low=0)
    batch_size = n_samples if batch_size is None else batch_size
    batch_size = min(check_number(batch_size, "batch_size", low=1, integer=True), n_samples)
    if not (seed is None or isinstance(seed, np.random.Generator)):
        check_number(seed, "seed", low=0, integer=True)
    weights = check_sample_weight(sample_weight, n_samples)
    if validation_data is None:
        return batch_size, None, weights
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError("validation_data must be a pair (X_val, Y_val), got "
                         f"{type(validation_data).__name__}")
    return batch_size, check_inputs(network, *validation_data), weights


def as_parameter(value, shape, what, dtype=None):
    """`value` as a float array of `shape` (None: any 2-D shape), or a ValueError naming `what`
    and both shapes.

    Integers become `dtype` (float64 if None); other floats than float32 and float64 become
    float64. A vector may be given as a (1, n) row or (n, 1) column, as much student code stores
    biases, and a single weight column 1-D. Nothing is copied that need not be.
    """
    array = _numeric_array(value, what)
    if array.dtype.char not in "fd":
        array = array.astype(dtype if array.dtype.kind in "biu" and dtype else np.float64)
    if shape is None:
        if array.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array, got shape {array.shape}")
        return array
    if (array.shape != shape and array.size == int(np.prod(shape))
            and sum(n != 1 for n in array.shape) <= 1 and sum(n != 1 for n in shape) <= 1):
        array = array.reshape(shape)   # a row, a column or a vector of the right length
    if array.shape != shape:
        raise ValueError(f"{what} must have shape {shape}, got shape {array.shape}"
                         + ("; transpose it (w_ij connects input i to output j)"
                            if array.shape == shape[::-1] else ""))
    return array
