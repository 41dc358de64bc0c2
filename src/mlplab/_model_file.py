"""Model files: one ``.npz`` of the parameter arrays and a JSON header (docs/model-files.md).

    header       uint8 array of UTF-8 JSON: {"format": "mlplab-model", "version": 1, "kind",
                 "layer_sizes": [n_0, ..., n_L], "bias": [bool per layer], "activations":
                 [registry name per layer], "loss", "dtype", "reg_convention", "extra": {...}}
    W0, W1, ...  weights, shape (layer_sizes[l], layer_sizes[l + 1])
    b0, b1, ...  biases, shape (layer_sizes[l + 1],), for layers with bias
    ...          1-D arrays the caller declares (an estimator's classes and optimizer state)

Loading treats the file as untrusted bytes: nothing is unpickled or run (functions are looked
up by name), and every size the file declares (the zip's, the JSON header's, each .npy
header's) is checked against the limits below before anything is allocated. A file that is not
a valid model, whatever its bytes, is an `InvalidModelFile` (a ValueError) saying what is wrong.
Saving writes a temporary file beside the target and renames it into place, so an interrupted
save leaves the earlier file whole.
"""

import contextlib
import json
import math
import os
import stat
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from ._files import open_regular
from ._validation import all_finite
from .functions import ACTIVATIONS, LOSSES
from .layer import Layer

FORMAT, VERSION = "mlplab-model", 1
MAX_FILE_BYTES = 2**30           # 1 GiB on disk
MAX_HEADER_BYTES = 2**24         # 16 MiB of JSON (an estimator's curves of many epochs)
MAX_LAYERS = 1000
MAX_UNITS = 2**20                # units in one layer
MAX_PARAMETERS = 2**26           # weights and biases together: 512 MiB in float64
MAX_EXTRA_ELEMENTS = 2**20       # in a caller's 1-D array, such as an estimator's classes
# Far beyond a trained network's parameters, and small enough that a file that loads gives
# finite outputs on ordinary inputs.
MAX_MAGNITUDE = 1e100
_NPY_HEADER_BYTES = 2**16        # a .npy member's own header (NumPy writes 128 bytes)
# zipfile inflates bzip2 and LZMA members whole, whatever size they declare.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_NPY_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0,
                       (2, 0): npy_format.read_array_header_2_0}
# The header's fields and their JSON types, beyond format and version.
_HEADER_TYPES = {"kind": str, "layer_sizes": list, "bias": list, "activations": list,
                 "loss": str, "dtype": str, "extra": dict}


class InvalidModelFile(ValueError):
    """What makes a file not a valid mlplab model file. Raised inside ``with reading(path)``,
    its message is "PATH: not a valid mlplab model file: WHAT IS WRONG"."""

    path = None

    def __str__(self):
        reason = super().__str__()
        return reason if self.path is None else \
            f"{self.path}: not a valid mlplab model file: {reason}"


@contextlib.contextmanager
def reading(path):
    """``with reading(path):`` an `InvalidModelFile` raised inside names `path`."""
    try:
        yield
    except InvalidModelFile as exc:
        exc.path = path if exc.path is None else exc.path
        raise


def describe(network):
    """The header fields that say what `network` is: all but its arrays and ``extra``."""
    def name(pair, registry, what):
        found = [key for key, registered in registry.items() if registered == pair]
        if not found:
            raise ValueError(f"{what} {getattr(pair[0], '__name__', pair[0])!r} is not one of "
                             f"mlplab's registered functions ({', '.join(registry)}) paired "
                             "with its derivative; only such networks can be saved")
        return found[0]
    return {"layer_sizes": [network.n_input] + [layer.weights.shape[1] for layer in network.layers],
            "bias": [layer.biases is not None for layer in network.layers],
            "activations": [name(pair, ACTIVATIONS, f"activation_list[{l}]") for l, pair in
                            enumerate(zip(network.activation_list, network.d_activation_list))],
            "loss": name((network.loss_function, network.d_loss_function), LOSSES, "loss"),
            "dtype": str(network.dtype), "reg_convention": network.reg_convention}


def save_network(network, path, kind="Network", extra=None, arrays=None):
    """Write `network`, the caller's `extra` JSON and 1-D `arrays` to the .npz file `path`:
    under a temporary name in the same folder, flushed to disk, then renamed over `path`, so
    that a full disk or a kill midway leaves any earlier file at `path` whole."""
    header = {"format": FORMAT, "version": VERSION, "kind": kind, **describe(network),
              "extra": extra or {}}
    contents = {"header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    for l, layer in enumerate(network.layers):
        for key, what, values in ((f"W{l}", "weights", layer.weights),
                                  (f"b{l}", "biases", layer.biases)):
            if values is None:
                continue
            if _refusal(values):
                raise ValueError(f"layers[{l}].{what} hold {_refusal(values)}; a model file "
                                 "refuses them, so this network cannot be saved")
            contents[key] = values
    for name, values in (arrays or {}).items():
        if np.asarray(values).dtype.kind == "f" and _refusal(values):
            raise ValueError(f"{name} holds {_refusal(values)}; a model file refuses them, so "
                             "this cannot be saved")
    path = os.path.realpath(path)   # through a link: the file it leads to is replaced
    file, temporary = _temporary_beside(path)
    try:
        with os.fdopen(file, "wb") as stream:   # np.savez would append ".npz" to a bare path
            np.savez(stream, **contents, **(arrays or {}))
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
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        return file, temporary
    raise FileExistsError(f"cannot make a temporary file beside {path}")


def load_network(path, network_type, kind="Network", extra_arrays=(), parameter_arrays=()):
    """Read a model file: (network, extra, arrays), every part checked, the network made by
    `network_type` (`Network`, which calls this module for its `load`).

    `extra_arrays` names the caller's 1-D numeric arrays, `parameter_arrays` its 1-D arrays of
    one value per parameter in the network's dtype (an optimizer's state); `arrays` holds those
    present. Any other member, as anything else wrong, is an `InvalidModelFile`.
    """
    with reading(path), _open_archive(path) as archive:
        members = {}   # array name -> ZipInfo
        for info in archive.infolist():
            if not info.filename.endswith(".npy") or info.filename[:-4] in members:
                raise InvalidModelFile(f"unexpected member {info.filename!r}")
            if info.compress_type not in _COMPRESSIONS:
                raise InvalidModelFile(f"member {info.filename!r} is compressed by method "
                                       f"{info.compress_type}; only stored or deflated members "
                                       "are read")
            members[info.filename[:-4]] = info
        header = _checked_header(_read_array(archive, members, "header", np.uint8,
                                             max_elements=MAX_HEADER_BYTES))
        if header["kind"] != kind:
            raise InvalidModelFile(f"it holds a {header['kind']!r}, not a {kind}")
        sizes, dtype = header["layer_sizes"], header["dtype"]
        layers = []   # read before the caller's arrays: a file lacking them allocates no more
        for l, (n_in, n_out, bias) in enumerate(zip(sizes, sizes[1:], header["bias"])):
            W = _read_array(archive, members, f"W{l}", dtype, (n_in, n_out))
            b = _read_array(archive, members, f"b{l}", dtype, (n_out,)) if bias else None
            # The file's arrays as the layer's initialisation, so that none is drawn; then the
            # usual scheme, should the layer be initialised again.
            layer = Layer(n_in, n_out, bias, lambda rng, n_in, n_out, W=W, b=b: (
                W, np.zeros(0) if b is None else b))
            layer.init = "glorot_uniform"
            layers.append(layer)
        arrays = {name: _read_array(archive, members, name, max_elements=MAX_EXTRA_ELEMENTS)
                  for name in extra_arrays if name in members}
        n_parameters = sum(n_in * n_out + n_out * bias
                           for n_in, n_out, bias in zip(sizes, sizes[1:], header["bias"]))
        arrays.update({name: _read_array(archive, members, name, dtype, (n_parameters,))
                       for name in parameter_arrays if name in members})
        if members:
            raise InvalidModelFile(f"unexpected arrays {sorted(members)}")
    functions = [ACTIVATIONS[name] for name in header["activations"]]
    network = network_type(layers, [f for f, _ in functions], [d_f for _, d_f in functions],
                           *LOSSES[header["loss"]], reg_convention=header["reg_convention"])
    return network, header["extra"], arrays


@contextlib.contextmanager
def _open_archive(path):
    # FileNotFoundError and the like stay what they are.
    with open_regular(path, os.O_RDONLY | os.O_NONBLOCK,
                      InvalidModelFile("it is not a regular file")) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise InvalidModelFile(f"{size} bytes, more than the limit of {MAX_FILE_BYTES}")
        try:
            archive = zipfile.ZipFile(stream)
        except Exception as exc:   # the zip reader's answers to arbitrary bytes are many kinds
            raise InvalidModelFile(f"cannot read it as .npz ({type(exc).__name__}: "
                                   f"{exc})") from None
        with archive:
            yield archive


def _read_array(archive, members, name, dtype=None, shape=None, max_elements=None):
    """The array `name`, taken out of `members`, of `dtype` (None: any numeric dtype) and
    `shape` (None: 1-D of at most `max_elements`). Its declared size and its .npy header are
    checked before its data is read."""
    info = members.pop(name, None)
    if info is None:
        raise InvalidModelFile(f"array {name} is missing")
    max_elements = max_elements if shape is None else math.prod(shape)
    itemsize = 16 if dtype is None else np.dtype(dtype).itemsize   # 16: the widest number
    if info.file_size > max_elements * itemsize + _NPY_HEADER_BYTES:
        raise InvalidModelFile(f"array {name} declares {info.file_size} bytes, more than its "
                               "shape allows")
    try:
        with archive.open(info) as stream:
            found_shape, found_dtype = _npy_header(stream, name)
            if found_dtype.kind not in "biuf" or (dtype is not None and found_dtype != dtype):
                raise InvalidModelFile(f"array {name} has dtype {found_dtype}, expected "
                                       f"{'numbers' if dtype is None else np.dtype(dtype)}")
            if (found_shape != shape if shape is not None else
                    len(found_shape) != 1 or not 0 <= found_shape[0] <= max_elements):
                raise InvalidModelFile(f"array {name} has shape {found_shape}, expected "
                                       f"{shape or f'(n,) with n <= {max_elements}'}")
            array = np.empty(found_shape, found_dtype)   # the data is read straight into it
            n_read = stream.readinto(memoryview(array).cast("B")) if array.size else 0
            if n_read != array.nbytes or stream.read(1):
                raise InvalidModelFile(f"array {name} does not hold {array.nbytes} bytes of "
                                       "data, as its shape says")
    except (InvalidModelFile, MemoryError):
        raise
    except Exception as exc:   # bad compression, CRC, truncation: the zip reader's many kinds
        raise InvalidModelFile(f"cannot read array {name} ({type(exc).__name__}: {exc})") \
            from None
    if array.dtype.kind == "f" and _refusal(array):
        raise InvalidModelFile(f"array {name} holds {_refusal(array)}")
    return array


def _npy_header(stream, name):
    """(shape, dtype) of the C-ordered .npy data in `stream`, by NumPy's header readers."""
    limited = _Limited(stream, name)
    try:
        version = npy_format.read_magic(limited)
        if version not in _NPY_HEADER_READERS:
            raise ValueError(f"version {version}, not 1.0 or 2.0")
        shape, fortran_order, dtype = _NPY_HEADER_READERS[version](limited)
        if fortran_order:
            raise ValueError("Fortran order, not C order")
    except InvalidModelFile:
        raise
    except Exception as exc:   # NumPy's answers to bad text are many kinds
        raise InvalidModelFile(f"array {name} has a malformed .npy header "
                               f"({type(exc).__name__}: {exc})") from None
    return shape, dtype


class _Limited:
    """`stream` for NumPy's header readers, which read as many bytes as the header's length
    field says: more than _NPY_HEADER_BYTES in all is refused unread."""

    def __init__(self, stream, name):
        self.stream, self.name, self.left = stream, name, _NPY_HEADER_BYTES

    def read(self, n):
        if n > self.left:
            raise InvalidModelFile(f"array {self.name} has a .npy header of more than "
                                   f"{_NPY_HEADER_BYTES} bytes")
        data = self.stream.read(n)
        self.left -= len(data)
        return data


def _refusal(array):
    """Why a float array cannot be in a model file ('' if it can): for saving and loading."""
    if not all_finite(array):
        return "NaN or infinity"
    if array.size and float(np.max(np.abs(array))) > MAX_MAGNITUDE:
        return f"values beyond +-{MAX_MAGNITUDE:g} (up to {float(np.max(np.abs(array))):.3g})"
    return ""


def _checked_header(raw):
    """The JSON header of the uint8 array `raw`, every field checked for type and range."""
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except Exception as exc:   # bad UTF-8, bad JSON, nesting too deep for the parser
        raise InvalidModelFile(f"the header is not JSON ({type(exc).__name__}: {exc})") \
            from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidModelFile("the header does not say it is an mlplab model")
    if header.get("version") != VERSION:
        raise InvalidModelFile(f"format version {header.get('version')!r}; this mlplab reads "
                               f"version {VERSION}")
    if not all(isinstance(header.get(key), kind) for key, kind in _HEADER_TYPES.items()):
        raise InvalidModelFile("the header is incomplete or malformed")
    sizes, bias, names = header["layer_sizes"], header["bias"], header["activations"]
    if not (2 <= len(sizes) <= MAX_LAYERS + 1
            and all(type(n) is int and 1 <= n <= MAX_UNITS for n in sizes)):
        raise InvalidModelFile(f"layer_sizes must be 2 to {MAX_LAYERS + 1} whole numbers from 1 "
                               f"to {MAX_UNITS}")
    if not len(bias) == len(names) == len(sizes) - 1 or not all(type(b) is bool for b in bias):
        raise InvalidModelFile("layer_sizes, bias and activations do not agree")
    n_parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if n_parameters > MAX_PARAMETERS:
        raise InvalidModelFile(f"layer_sizes declare {n_parameters} parameters, more than the "
                               f"limit of {MAX_PARAMETERS}")
    if header["dtype"] not in ("float32", "float64"):
        raise InvalidModelFile(f"dtype {header['dtype']!r} is not float32 or float64")
    header.setdefault("reg_convention", "mean")   # files written before it existed
    if header["reg_convention"] not in ("mean", "sum"):
        raise InvalidModelFile(f"reg_convention {header['reg_convention']!r} is not 'mean' or "
                               "'sum'")
    unknown = [n for n in names if not isinstance(n, str) or n not in ACTIVATIONS]
    unknown += [] if header["loss"] in LOSSES else [header["loss"]]
    if unknown:
        raise InvalidModelFile(f"unknown function name(s) {unknown}")
    return header
