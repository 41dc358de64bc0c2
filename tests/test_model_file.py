"""Model files: round trips are exact, and every kind of bad file is a clear ValueError."""

import zipfile

import numpy as np
import pytest

import mlplab as ml
from conftest import make_network, rewrite_model_file as rewrite


@pytest.fixture
def trained(rng):
    net = make_network((4, 6, 5, 3), hidden=("tanh", "relu"), output="softmax",
                       loss="cross_entropy")
    X = rng.normal(size=(40, 4))
    net.train(X, np.eye(3)[rng.integers(0, 3, 40)], epochs=5, learning_rate=0.3)
    return net, X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_gives_bit_identical_predictions(trained, tmp_path, dtype):
    net, X = trained
    net.astype(dtype)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = ml.Network.load(path)
    np.testing.assert_array_equal(loaded.forward(X)[-1], net.forward(X)[-1])
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.dtype == dtype
    assert [l.weights.shape for l in loaded.layers] == [l.weights.shape for l in net.layers]


def test_no_bias_layers_and_a_path_without_suffix(tmp_path, rng):
    net = make_network((2, 3, 1), bias=False)
    path = tmp_path / "model"
    net.save(path)
    assert path.exists()
    loaded = ml.Network.load(path)
    assert all(layer.biases is None for layer in loaded.layers)


def test_a_custom_function_cannot_be_saved(tmp_path):
    net = ml.Network([ml.Layer(2, 1)], [lambda z: z], [lambda z: 1.0], ml.l2_loss, ml.d_l2_loss)
    with pytest.raises(ValueError, match="not one of mlplab's registered functions"):
        net.save(tmp_path / "m.npz")


@pytest.mark.parametrize("change, message", [
    (lambda h: h.update(version=2), "format version 2"),
    (lambda h: h.update(format="other"), "does not say it is an mlplab model"),
    (lambda h: h.update(kind="MLPClassifier"), "not a Network"),
    (lambda h: h["activations"].__setitem__(0, "os.system"), "unknown function"),
    (lambda h: h.update(loss="hinge"), "unknown function"),
    (lambda h: h.update(dtype="int8"), "not float32 or float64"),
    (lambda h: h.pop("layer_sizes"), "incomplete or malformed"),
    (lambda h: h.update(layer_sizes=[4, 6, 3]), "do not agree"),
])
def test_tampered_headers(trained, tmp_path, change, message):
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    rewrite(path, header_change=change)
    with pytest.raises(ValueError, match=message):
        ml.Network.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(W1=np.zeros((5, 6))), "array W1 has shape"),
    (lambda c: c.pop("b0"), "array b0 is missing"),
    (lambda c: c.update(W0=np.full((4, 6), np.nan)), "NaN or infinity"),
    (lambda c: c.update(W0=c["W0"].astype(np.float32)), "dtype float32"),
    (lambda c: c.update(secret=np.arange(3)), "unexpected arrays"),
])
def test_tampered_arrays(trained, tmp_path, change, message):
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    rewrite(path, arrays_change=change)
    with pytest.raises(ValueError, match=message):
        ml.Network.load(path)


def test_truncated_and_foreign_files(trained, tmp_path):
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a valid mlplab model file"):
            ml.Network.load(tmp_path / "cut.npz")
    np.save(tmp_path / "plain.npy", np.arange(3))
    with pytest.raises(ValueError, match="not a valid mlplab model file"):
        ml.Network.load(tmp_path / "plain.npy")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a valid mlplab model file"):
        ml.Network.load(tmp_path / "other.npz")


def test_an_object_array_is_refused_without_unpickling(trained, tmp_path):
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    rewrite(path, arrays_change=lambda c: c.update(W0=np.array([print], dtype=object)))
    with pytest.raises(ValueError, match="not a valid mlplab model file"):
        ml.Network.load(path)
