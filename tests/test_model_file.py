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
    # sizes and types, checked before anything is allocated
    (lambda h: h.update(layer_sizes=[4, 2**40, 3]), "layer_sizes must be 2 to"),
    (lambda h: h.update(layer_sizes=[4, 2**20, 2**20, 3]), "more than the limit"),
    (lambda h: h.update(layer_sizes=[4, 2**200, 3]), "layer_sizes must be"),
    (lambda h: h.update(layer_sizes=[4, 1e308, 3]), "layer_sizes must be"),
    (lambda h: h.update(layer_sizes=[4, True, 3]), "layer_sizes must be"),
    (lambda h: h.update(bias=[1, 1, 1]), "do not agree"),
    (lambda h: h.update(activations=[["tanh"], "relu", "softmax"]), "unknown function"),
    (lambda h: h.update(loss={"name": "l2"}), "incomplete or malformed"),
    (lambda h: h.update(reg_convention="median"), "reg_convention 'median'"),
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


# ----- faults and hostile files --------------------------------------------------------------

def test_a_save_cut_short_leaves_the_earlier_file_whole(trained, tmp_path, monkeypatch):
    # A full disk midway through writing: the earlier model stays, and no temporary is left.
    import errno
    import os

    from mlplab import _model_file

    net, X = trained
    path = tmp_path / "m.npz"
    net.save(path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class FillsUp:
        def __init__(self, file):
            self.file, self.written = file, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 200:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(_model_file.os, "fdopen", lambda *a, **k: FillsUp(real_fdopen(*a, **k)))
    net.train(X, np.eye(3)[np.arange(40) % 3], epochs=3, learning_rate=0.3)
    with pytest.raises(OSError, match="No space left"):
        net.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _rezip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_a_member_larger_than_its_shape_allows_is_not_read(trained, tmp_path):
    # A zip bomb: the member claims (and holds) far more bytes than W0's shape needs.
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    members = _members(path)
    members["W0.npy"] = members["W0.npy"] + bytes(50_000_000)
    _rezip(path, members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="array W0 declares 50000.* bytes, more than its shape"):
        ml.Network.load(path)


@pytest.mark.parametrize("npy_header, message", [
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000, 10000000000), }",
     r"shape \(10000000000, 10000000000\), expected \(4, 6\)"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", r"shape \(4,\), expected"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (4, 6), }", "dtype object"),
    ("{'descr': '<f8', 'fortran_order': True, 'shape': (4, 6), }", "malformed .npy header"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 6) ", "malformed .npy header"),
    ("__import__('os').system('echo owned')", "malformed .npy header"),
])
def test_each_npy_header_is_parsed_and_checked_before_its_data(trained, tmp_path, npy_header,
                                                                message):
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    members = _members(path)
    header = npy_header.encode() + b"\n"
    members["W0.npy"] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    _rezip(path, members)
    with pytest.raises(ValueError, match=message):
        ml.Network.load(path)


def test_a_npy_version_2_member_is_read_and_its_header_length_checked_before_reading(
        trained, tmp_path):
    # Version 2.0 declares its header's length in 4 bytes: up to 4 GiB, refused unread.
    import io
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    members = _members(path)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, net.layers[0].weights, version=(2, 0))
    members["W0.npy"] = buffer.getvalue()
    _rezip(path, members, zipfile.ZIP_DEFLATED)
    np.testing.assert_array_equal(ml.Network.load(path).layers[0].weights, net.layers[0].weights)
    members["W0.npy"] = b"\x93NUMPY\x02\x00" + (2**32 - 1).to_bytes(4, "little") + b"{" * 9
    _rezip(path, members, zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="array W0 has a .npy header of more than 65536 bytes"):
        ml.Network.load(path)


@pytest.mark.parametrize("text, message", [
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    (b"\xff\xfe not utf-8", "not JSON"),
    (b'{"format": "mlplab-model", "version": 1e999}', "format version inf"),
])
def test_a_hostile_json_header_is_a_clear_error(trained, tmp_path, text, message):
    import io
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    members = _members(path)
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(text, dtype=np.uint8))
    members["header.npy"] = buffer.getvalue()
    _rezip(path, members)
    with pytest.raises(ValueError, match=message):
        ml.Network.load(path)


def test_a_model_path_that_is_not_a_regular_file_is_refused(tmp_path):
    import os
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        ml.Network.load(fifo)   # opening a FIFO would wait for a writer forever
    with pytest.raises(ValueError, match="not a regular file"):
        ml.Network.load(tmp_path)


def test_mutation_fuzz_of_the_loader_under_a_memory_limit():
    # 600 seeded mutations of valid files, raw and member by member with valid CRCs: each loads
    # (with finite outputs) or is a ValueError. In a subprocess under a 4 GiB address-space
    # limit, so that an allocation from an unchecked size fails loudly instead of swapping.
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).with_name("fuzz_model_files.py")
    limit = ("import resource, runpy, sys; "
             "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
             f"sys.argv = [{str(script)!r}, '600', '1']; "
             f"runpy.run_path({str(script)!r}, run_name='__main__')")
    env = {**__import__("os").environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", limit], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = __import__("json").loads(result.stdout.splitlines()[-1])
    assert counts["loaded"] + counts["ValueError"] == 600 and counts["ValueError"] > 400


def test_a_member_compressed_other_than_by_deflate_is_refused_unread(trained, tmp_path):
    # zipfile inflates bzip2 and LZMA members whole: a few kilobytes could become gigabytes.
    net, _ = trained
    path = tmp_path / "m.npz"
    net.save(path)
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        _rezip(path, _members(path), method)
        with pytest.raises(ValueError, match="only stored or deflated members are read"):
            ml.Network.load(path)


def test_saving_keeps_the_files_mode_and_writes_through_a_link(trained, tmp_path):
    import os
    import stat
    net, X = trained
    real, link = tmp_path / "real.npz", tmp_path / "link.npz"
    net.save(real)
    os.chmod(real, 0o640)
    link.symlink_to(real)
    net.train(X, np.eye(3)[np.arange(40) % 3], epochs=2, learning_rate=0.3)
    net.save(link)
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    np.testing.assert_array_equal(ml.Network.load(real).layers[0].weights, net.layers[0].weights)
    new = tmp_path / "new.npz"
    previous = os.umask(0o022)
    try:
        net.save(new)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644   # as any new file: 0o666 less the umask
