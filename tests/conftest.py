import json

import numpy as np
import pytest

import mlplab as ml


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def make_network(sizes, hidden="sigmoid", output="sigmoid", loss="l2", bias=True):
    """A Network of the given layer sizes, e.g. (2, 4, 1), with activations by registry name."""
    layers = [ml.Layer(n_in, n_out, bias=bias) for n_in, n_out in zip(sizes, sizes[1:])]
    names = [hidden] * (len(layers) - 1) + [output]
    if isinstance(hidden, (list, tuple)):
        names = list(hidden) + [output]
    fs = [ml.ACTIVATIONS[n][0] for n in names]
    d_fs = [ml.ACTIVATIONS[n][1] for n in names]
    return ml.Network(layers, fs, d_fs, *ml.LOSSES[loss])


def iris_q25():
    """The assignment's Q2.5 data, exactly as its snippet builds it."""
    from sklearn import datasets

    X, Y = datasets.load_iris(return_X_y=True)
    X, Y = X[:100, :2], Y[:100]
    rng = np.random.default_rng(2)
    indices = [i for i in range(100)]
    rng.shuffle(indices)
    return X[indices], Y[indices]


def rewrite_model_file(path, header_change=None, arrays_change=None):
    """Rewrite a saved model file with its JSON header or its arrays changed in place."""
    with np.load(path, allow_pickle=False) as archive:
        contents = {name: archive[name] for name in archive.files}
    header = json.loads(contents["header"].tobytes())
    if header_change:
        header_change(header)
    contents["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    if arrays_change:
        arrays_change(contents)
    with open(path, "wb") as file:
        np.savez(file, **contents)
