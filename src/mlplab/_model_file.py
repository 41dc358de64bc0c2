"""Model files: one ``.npz`` holding the parameter arrays and a JSON header.

Layout (format version 1):
    header   uint8 array: UTF-8 JSON {"format": "mlplab-model", "version": 1, "kind": ...,
             "layer_sizes": [n_0, ..., n_L], "bias": [bool per layer],
             "activations": [registry name per layer], "loss": registry name,
             "dtype": "float32" | "float64", "reg_convention": "mean" | "sum" (optional,
             "mean" if absent), "extra": {...}}
    W0, W1, ...  weights, shape (layer_sizes[l], layer_sizes[l + 1])
    b0, b1, ...  biases, shape (layer_sizes[l + 1],), for layers with bias
    plus any extra arrays the caller declares (the estimator keeps ``classes`` there).

Loading treats the file as untrusted bytes. It never unpickles and never runs code from the
file (functions are looked up by name in the registries); it checks every size the file
declares against the limits below before it allocates, reads only the members the header
declares, parses each ``.npy`` member's own header before reading its data, and reads no more
bytes than the checked sizes allow. Whatever the bytes, a file that is not a valid model is a
ValueError naming what is wrong. Saving writes a temporary file beside the target and renames
it into place, so an interrupted save leaves the earlier file whole.
"""

import ast
import json
import math
import os
import stat
import zipfile

import numpy as np

from ._validation import all_finite
from .functions import ACTIVATIONS, LOSSES

FORMAT = "mlplab-model"
VERSION = 1

# Limits on what a file may declare, checked before anything is allocated.
MAX_FILE_BYTES = 2**30           # 1 GiB on disk
MAX_HEADER_BYTES = 2**24         # 16 MiB of JSON (an estimator's curves of many epochs)
MAX_LAYERS = 1000
MAX_UNITS = 2**20                # units in one layer
MAX_PARAMETERS = 2**26           # weights and biases together: 512 MiB in float64
# Members stored or deflated only: zipfile inflates bzip2 and LZMA members whole, unbounded.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
MAX_EXTRA_ELEMENTS = 2**20       # in an extra 1-D array, such as the estimator's classes
# A trained network's parameters are many orders of magnitude smaller; beyond this, outputs on
# ordinary inputs could overflow, so a file that loads always gives finite outputs on them.
MAX_MAGNITUDE = 1e100
_NPY_HEADER_BYTES = 2**16        # a .npy member's own header (NumPy writes about 128 bytes)


class _Invalid(ValueError):
    """What is wrong with a model file; `load_network` adds the path."""


def _registry_name(function, derivative, registry, what):
    for name, pair in registry.items():
        if pair == (function, derivative):
            return name
    raise ValueError(f"{what} {getattr(function, '__name__', function)!r} is not one of "
                     f"mlplab's registered functions ({', '.join(registry)}) paired with its "
                     "derivative; only such networks can be saved")


def save_network(network, path, kind="Network", extra=None, arrays=None):
    """Write `network` (and the caller's `extra` JSON and `arrays`) to the .npz file `path`.

    The file is written under a temporary name in the same folder, flushed to disk and then
    renamed over `path`: a full disk or a kill midway leaves any earlier file at `path` whole.
    """
    names = [_registry_name(f, d_f, ACTIVATIONS, f"activation_list[{l}]")
             for l, (f, d_f) in enumerate(zip(network.activation_list,
                                               network.d_activation_list))]
    loss = _registry_name(network.loss_function, network.d_loss_function, LOSSES, "loss")
    contents = {}
    for l, layer in enumerate(network.layers):
        for key, values in ((f"W{l}", layer.weights), (f"b{l}", layer.biases)):
            if values is None:
                continue
            if _refusal(values):
                raise ValueError(f"layers[{l}].{'weights' if key[0] == 'W' else 'biases'} hold "
                                 f"{_refusal(values)}; a model file refuses them, so this "
                                 "network cannot be saved")
            contents[key] = values
    for key, values in (arrays or {}).items():
        if np.asarray(values).dtype.kind == "f" and _refusal(values):
            raise ValueError(f"{key} holds {_refusal(values)}; a model file refuses them, so "
                             "this cannot be saved")
    header = {
        "format": FORMAT, "version": VERSION, "kind": kind,
        "layer_sizes": [network.n_input] + [layer.weights.shape[1] for layer in network.layers],
        "bias": [layer.biases is not None for layer in network.layers],
        "activations": names, "loss": loss, "dtype": str(network.dtype),
        "reg_convention": network.reg_convention, "extra": extra or {},
    }
    contents = {"header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
                **contents, **(arrays or {})}
    path = os.path.realpath(path)   # through a link: the file it leads to is replaced
    file, temporary = _temporary_beside(path)
    try:
        with os.fdopen(file, "wb") as stream:   # np.savez would append ".npz" to a bare path
            np.savez(stream, **contents)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _temporary_beside(path):
    """(descriptor, name) of a new file in `path`'s folder, with the mode `path` has, or the
    mode a new file gets there (the umask's), for `os.replace` onto `path`."""
    folder, name = os.path.split(path)
    for _ in range(100):
        temporary = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            file = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        return file, temporary
    raise FileExistsError(f"cannot make a temporary file beside {path}")


def load_network(path, kind="Network", extra_arrays=(), parameter_arrays=()):
    """Read a model file; returns (network, extra, arrays) after checking every part of it.

    `extra_arrays`: names of the 1-D numeric arrays the caller stores besides the parameters;
    `parameter_arrays`: names of 1-D arrays of one value per parameter, in the network's dtype
    (an optimizer's state). Both are returned in `arrays` when present. Any other member is an
    error.
    """
    try:
        return _load(path, kind, extra_arrays, parameter_arrays)
    except _Invalid as exc:
        raise ValueError(f"{path}: not a valid mlplab model file: {exc}") from None


def _load(path, kind, extra_arrays, parameter_arrays=()):
    from . import Layer, Network   # the package's classes, imported late to avoid a cycle

    status = os.stat(path)   # FileNotFoundError and the like stay what they are
    if not stat.S_ISREG(status.st_mode):
        raise _Invalid("it is not a regular file")
    if status.st_size > MAX_FILE_BYTES:
        raise _Invalid(f"{status.st_size} bytes, more than the limit of {MAX_FILE_BYTES}")
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:   # the zip reader's answers to arbitrary bytes are many kinds
        raise _Invalid(f"cannot read it as .npz ({type(exc).__name__}: {exc})") from None
    with archive:
        members = _members(archive)
        header = _header(_read_npy(archive, members.pop("header", None), "header", np.uint8,
                                   None, MAX_HEADER_BYTES))
        if header.get("kind") != kind:
            raise _Invalid(f"it holds a {header.get('kind')!r}, not a {kind}")
        sizes, bias, dtype = header["layer_sizes"], header["bias"], header["dtype"]
        parameters = []   # read first, so that a file lacking them allocates nothing more
        for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            W = _read_npy(archive, members.pop(f"W{l}", None), f"W{l}", dtype, (n_in, n_out))
            b = None
            if bias[l]:
                b = _read_npy(archive, members.pop(f"b{l}", None), f"b{l}", dtype, (n_out,))
            parameters.append((W, b))
        arrays = {name: _read_npy(archive, members.pop(name), name, None, None,
                                  MAX_EXTRA_ELEMENTS)
                  for name in extra_arrays if name in members}
        n_parameters = sum(W.size + (0 if b is None else b.size) for W, b in parameters)
        arrays.update({name: _read_npy(archive, members.pop(name), name, dtype, (n_parameters,))
                       for name in parameter_arrays if name in members})
        if members:
            raise _Invalid(f"unexpected arrays {sorted(members)}")
    layers = []
    for W, b in parameters:
        # The file's arrays as the layer's initialisation, so that none is drawn; then the usual
        # scheme, should the layer be initialised again.
        layer = Layer(*W.shape, bias=b is not None,
                      init=lambda rng, n_in, n_out, W=W, b=b: (W, np.zeros(0) if b is None else b))
        layer.init = "glorot_uniform"
        layers.append(layer)
    names = header["activations"]
    network = Network(layers, [ACTIVATIONS[n][0] for n in names],
                      [ACTIVATIONS[n][1] for n in names], *LOSSES[header["loss"]],
                      reg_convention=header["reg_convention"])
    return network, header["extra"], arrays


def _members(archive):
    """{array name: ZipInfo} of an .npz archive, each member a distinct ``name.npy``."""
    members = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy") or name[:-4] in members or info.is_dir():
            raise _Invalid(f"unexpected member {name!r}")
        if info.compress_type not in _COMPRESSIONS:
            raise _Invalid(f"member {name!r} is compressed by method {info.compress_type}; "
                           "only stored or deflated members are read")
        members[name[:-4]] = info
    return members


def _read_npy(archive, info, name, dtype, shape, max_elements=None):
    """The array of member `info`, checked before its data is read.

    `dtype` and `shape` are what it must have; None for `shape` means any 1-D shape of at most
    `max_elements` (and `dtype` None any numeric dtype).
    """
    if info is None:
        raise _Invalid(f"array {name} is missing")
    if shape is not None:
        max_elements = math.prod(shape)
    itemsize = 16 if dtype is None else np.dtype(dtype).itemsize   # 16: the widest number
    if info.file_size > max_elements * itemsize + _NPY_HEADER_BYTES:
        raise _Invalid(f"array {name} declares {info.file_size} bytes, more than its shape "
                       "allows")
    try:
        with archive.open(info) as stream:
            found_dtype, found_shape = _npy_header(stream, name)
            if found_dtype.kind not in "biuf" or (dtype is not None and found_dtype != dtype):
                raise _Invalid(f"array {name} has dtype {found_dtype}, expected "
                               f"{np.dtype(dtype) if dtype is not None else 'numbers'}")
            if (found_shape != shape if shape is not None else
                    len(found_shape) != 1 or found_shape[0] > max_elements):
                expected = shape if shape is not None else f"(n,) with n <= {max_elements}"
                raise _Invalid(f"array {name} has shape {found_shape}, expected {expected}")
            array = np.empty(found_shape, found_dtype)   # the data is read straight into it
            n_read = stream.readinto(memoryview(array).cast("B")) if array.size else 0
            if n_read != array.nbytes or stream.read(1):
                raise _Invalid(f"array {name} does not hold {array.nbytes} bytes of data, as "
                               "its shape says")
    except (_Invalid, MemoryError):
        raise
    except Exception as exc:   # bad compression, CRC, truncation: the zip reader's many kinds
        raise _Invalid(f"cannot read array {name} ({type(exc).__name__}: {exc})") from None
    if array.dtype.kind == "f" and _refusal(array):
        raise _Invalid(f"array {name} holds {_refusal(array)}")
    return array


def _refusal(array):
    """Why a float array cannot be in a model file ('' if it can): for `save` and `load`."""
    if not all_finite(array):
        return "NaN or infinity"
    if array.size and float(np.max(np.abs(array))) > MAX_MAGNITUDE:
        return f"values beyond +-{MAX_MAGNITUDE:g} (up to {float(np.max(np.abs(array))):.3g})"
    return ""


def _npy_header(stream, name):
    """The (dtype, shape) of a C-ordered .npy array, read from its header in `stream`."""
    magic = stream.read(8)
    if len(magic) != 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise _Invalid(f"array {name} is not .npy data")
    length_bytes = 2 if magic[6] == 1 else 4
    length = int.from_bytes(stream.read(length_bytes), "little")
    if length > _NPY_HEADER_BYTES:
        raise _Invalid(f"array {name} has a .npy header of {length} bytes")
    text = stream.read(length)
    try:
        fields = ast.literal_eval(text.decode("latin1"))
        dtype, fortran, shape = fields["descr"], fields["fortran_order"], fields["shape"]
        if (not isinstance(dtype, str) or fortran is not False or not isinstance(shape, tuple)
                or not all(type(n) is int and 0 <= n <= MAX_PARAMETERS for n in shape)):
            raise TypeError("unexpected header fields")
        return np.dtype(dtype), shape
    except Exception as exc:   # literal_eval and np.dtype answer bad text in many ways
        raise _Invalid(f"array {name} has a malformed .npy header ({type(exc).__name__})") \
            from None


def _header(raw):
    """The JSON header, every field checked for type and range."""
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except Exception as exc:   # bad UTF-8, bad JSON, nesting too deep for the parser
        raise _Invalid(f"the header is not JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _Invalid("the header does not say it is an mlplab model")
    if header.get("version") != VERSION:
        raise _Invalid(f"format version {header.get('version')!r}; this mlplab reads version "
                       f"{VERSION}")
    sizes, bias, names = header.get("layer_sizes"), header.get("bias"), header.get("activations")
    if not (isinstance(sizes, list) and isinstance(bias, list) and isinstance(names, list)
            and isinstance(header.get("loss"), str) and isinstance(header.get("extra"), dict)
            and isinstance(header.get("dtype"), str)):
        raise _Invalid("the header is incomplete or malformed")
    if not (2 <= len(sizes) <= MAX_LAYERS + 1
            and all(type(n) is int and 1 <= n <= MAX_UNITS for n in sizes)):
        raise _Invalid(f"layer_sizes must be 2 to {MAX_LAYERS + 1} whole numbers from 1 to "
                       f"{MAX_UNITS}")
    if len(bias) != len(sizes) - 1 or len(names) != len(sizes) - 1 or not all(
            type(b) is bool for b in bias):
        raise _Invalid("layer_sizes, bias and activations do not agree")
    n_parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if n_parameters > MAX_PARAMETERS:
        raise _Invalid(f"layer_sizes declare {n_parameters} parameters, more than the limit of "
                       f"{MAX_PARAMETERS}")
    if header["dtype"] not in ("float32", "float64"):
        raise _Invalid(f"dtype {header['dtype']!r} is not float32 or float64")
    header.setdefault("reg_convention", "mean")   # files written before it existed
    if header["reg_convention"] not in ("mean", "sum"):
        raise _Invalid(f"reg_convention {header['reg_convention']!r} is not 'mean' or 'sum'")
    unknown = [n for n in names if not isinstance(n, str) or n not in ACTIVATIONS]
    if header["loss"] not in LOSSES:
        unknown.append(header["loss"])
    if unknown:
        raise _Invalid(f"unknown function name(s) {unknown}")
    return header


def load_model(path):
    """A model file as what predicts on raw inputs: a file that holds an input scaler (the
    lab's fold-1 models: ``input_mean`` and ``input_scale`` in its header) gives a
    `ScaledNetwork`; any other file gives the Network."""
    network, extra, _ = load_network(path)
    mean, scale = extra.get("input_mean"), extra.get("input_scale")
    if mean is None and scale is None:
        return network
    try:
        mean, scale = (np.array(values, dtype=np.float64) for values in (mean, scale))
    except (TypeError, ValueError):
        raise ValueError(f"{path}: not a valid mlplab model file: a malformed input scaler") \
            from None
    if (mean.shape != (network.n_input,) or scale.shape != mean.shape or not all_finite(mean)
            or not all_finite(scale) or np.any(scale <= 0)):
        raise ValueError(f"{path}: not a valid mlplab model file: the input scaler does not "
                         f"fit the network's {network.n_input} inputs")
    return ScaledNetwork(network, mean, scale)


class ScaledNetwork:
    """A network behind the input scaler it was trained with (the mean and scale of its
    training rows, as scikit-learn's StandardScaler keeps them): `predict` and `forward` take
    raw inputs; `transform` is the scaling; `network` the Network itself."""

    def __init__(self, network, mean, scale):
        self.network, self.mean, self.scale = network, mean, scale

    def transform(self, X):
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def predict(self, X, threshold=None):
        return self.network.predict(self.transform(X), threshold)

    def forward(self, X):
        return self.network.forward(self.transform(X))
