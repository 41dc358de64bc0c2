"""Model files: one ``.npz`` holding the parameter arrays and a JSON header.

Layout (format version 1):
    header   uint8 array: UTF-8 JSON {"format": "mlplab-model", "version": 1, "kind": ...,
             "layer_sizes": [n_0, ..., n_L], "bias": [bool per layer],
             "activations": [registry name per layer], "loss": registry name,
             "dtype": "float32" | "float64", "reg_convention": "mean" | "sum" (optional,
             "mean" if absent), "extra": {...}}
    W0, W1, ...  weights, shape (layer_sizes[l], layer_sizes[l + 1])
    b0, b1, ...  biases, shape (layer_sizes[l + 1],), for layers with bias
    plus any extra arrays the caller stores (the estimator keeps ``classes`` there).
Loading never unpickles (``allow_pickle=False``) and never runs code from the file: functions
are looked up by name in the registries. Anything unexpected is a ValueError naming it.
"""

import json
import zipfile

import numpy as np

from .functions import ACTIVATIONS, LOSSES

FORMAT = "mlplab-model"
VERSION = 1


def _registry_name(function, derivative, registry, what):
    for name, pair in registry.items():
        if pair == (function, derivative):
            return name
    raise ValueError(f"{what} {getattr(function, '__name__', function)!r} is not one of "
                     f"mlplab's registered functions ({', '.join(registry)}) paired with its "
                     "derivative; only such networks can be saved")


def save_network(network, path, kind="Network", extra=None, arrays=None):
    """Write `network` (and the caller's `extra` JSON and `arrays`) to the .npz file `path`."""
    names = [_registry_name(f, d_f, ACTIVATIONS, f"activation_list[{l}]")
             for l, (f, d_f) in enumerate(zip(network.activation_list,
                                               network.d_activation_list))]
    loss = _registry_name(network.loss_function, network.d_loss_function, LOSSES, "loss")
    header = {
        "format": FORMAT, "version": VERSION, "kind": kind,
        "layer_sizes": [network.n_input] + [layer.weights.shape[1] for layer in network.layers],
        "bias": [layer.biases is not None for layer in network.layers],
        "activations": names, "loss": loss, "dtype": str(network.dtype),
        "reg_convention": network.reg_convention, "extra": extra or {},
    }
    contents = {"header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    for l, layer in enumerate(network.layers):
        contents[f"W{l}"] = layer.weights
        if layer.biases is not None:
            contents[f"b{l}"] = layer.biases
    contents.update(arrays or {})
    with open(path, "wb") as file:   # np.savez would append ".npz" to a path without it
        np.savez(file, **contents)


def _fail(path, problem):
    raise ValueError(f"{path}: not a valid mlplab model file: {problem}")


def load_network(path, kind="Network"):
    """Read a model file; returns (network, extra, arrays) after checking every part of it."""
    from . import Layer, Network   # the package's classes, imported late to avoid a cycle

    unreadable = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except unreadable as exc:
        _fail(path, f"cannot read it as .npz ({exc})")
    if not hasattr(archive, "files"):   # np.load gave a single .npy array
        _fail(path, "it is a single array, not an .npz archive")
    try:
        with archive:
            # Reading an object array raises ValueError here instead of unpickling it.
            contents = {name: archive[name] for name in archive.files}
    except unreadable as exc:
        _fail(path, f"cannot read it as .npz ({exc})")
    if "header" not in contents or contents["header"].dtype != np.uint8:
        _fail(path, "no header")
    try:
        header = json.loads(contents.pop("header").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(path, f"the header is not JSON ({exc})")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        _fail(path, "the header does not say it is an mlplab model")
    if header.get("version") != VERSION:
        _fail(path, f"format version {header.get('version')!r}; this mlplab reads version "
                    f"{VERSION}")
    if header.get("kind") != kind:
        _fail(path, f"it holds a {header.get('kind')!r}, not a {kind}")
    try:
        sizes = [int(n) for n in header["layer_sizes"]]
        bias, names, loss = list(header["bias"]), list(header["activations"]), header["loss"]
        dtype = np.dtype(header["dtype"])
        extra = header["extra"]
        reg_convention = header.get("reg_convention", "mean")
    except (KeyError, TypeError, ValueError) as exc:
        _fail(path, f"the header is incomplete or malformed ({exc!r})")
    n_layers = len(sizes) - 1
    if n_layers < 1 or min(sizes) < 1 or len(bias) != n_layers or len(names) != n_layers:
        _fail(path, "layer_sizes, bias and activations do not agree")
    if dtype not in (np.float32, np.float64):
        _fail(path, f"dtype {dtype} is not float32 or float64")
    if reg_convention not in ("mean", "sum"):
        _fail(path, f"reg_convention {reg_convention!r} is not 'mean' or 'sum'")
    unknown = [n for n in names if n not in ACTIVATIONS] + ([loss] if loss not in LOSSES else [])
    if unknown:
        _fail(path, f"unknown function name(s) {unknown}")

    layers = []
    for l in range(n_layers):
        layer = Layer(sizes[l], sizes[l + 1], bias=bool(bias[l]))
        layer.weights = _take(contents, f"W{l}", (sizes[l], sizes[l + 1]), dtype, path)
        if bias[l]:
            layer.biases = _take(contents, f"b{l}", (sizes[l + 1],), dtype, path)
        layers.append(layer)
    network = Network(layers, [ACTIVATIONS[n][0] for n in names],
                      [ACTIVATIONS[n][1] for n in names], *LOSSES[loss],
                      reg_convention=reg_convention)
    if kind == "Network" and contents:
        _fail(path, f"unexpected arrays {sorted(contents)}")
    return network, extra, contents


def _take(contents, key, shape, dtype, path):
    """contents[key], removed from `contents`, checked for shape, dtype and finiteness."""
    array = contents.pop(key, None)
    if array is None:
        _fail(path, f"array {key} is missing")
    if array.shape != shape or array.dtype != dtype:
        _fail(path, f"array {key} has shape {array.shape} and dtype {array.dtype}, "
                    f"expected {shape} and {dtype}")
    if not np.all(np.isfinite(array)):
        _fail(path, f"array {key} holds NaN or infinity")
    return np.array(array)
