"""Seeded mutation fuzz of the model-file loader, run by tests/test_model_file.py in a
subprocess under an address-space limit.

    python tests/fuzz_model_files.py CASES SEED

Mutates valid model files (a Network and an MLPClassifier) two ways: raw bytes (flips,
deletions, insertions: mostly caught by the zip reader's checks), and member by member, re-zipped
with valid CRCs, so that the mutations reach the JSON header, the .npy headers and the array
data. Every case must load (and then give finite outputs) or raise ValueError; anything else is
printed with its case number, and the exit status is the number of such cases.
"""

import copy
import io
import json
import random
import sys
import tempfile
import warnings
import zipfile

import numpy as np

import mlplab as ml

DEEP = "deeply nested"   # becomes 5000 nested lists in the text, which json cannot build
WEIRD = [None, True, -1, 0, 2**200, -(2**63), 1e308, float("inf"), float("nan"), "", "x" * 50,
         [], [[[]]], {}, {"a": 1}, [1, "2"], 1.5, "float64", "softmax", ["relu"] * 3]


def originals(folder):
    X = np.random.default_rng(0).normal(size=(30, 4))
    y = np.arange(30) % 3
    net = ml.build_network([4, 6, 3], "tanh", "softmax")
    net.save(f"{folder}/network.npz")
    classifier = ml.MLPClassifier(hidden_layer_sizes=(5,), epochs=3, random_state=0).fit(X, y)
    classifier.save(f"{folder}/classifier.npz")
    labelled = ml.MLPClassifier(hidden_layer_sizes=(5,), epochs=2, random_state=0).fit(
        X, np.array(["a", "b", "c"])[y])
    labelled.save(f"{folder}/labelled.npz")
    return {"network": (open(f"{folder}/network.npz", "rb").read(), ml.Network.load),
            "classifier": (open(f"{folder}/classifier.npz", "rb").read(),
                           ml.MLPClassifier.load),
            "labelled": (open(f"{folder}/labelled.npz", "rb").read(), ml.MLPClassifier.load)}


def raw_mutation(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(data))
        kind = rng.random()
        if kind < 0.5:
            data[position] = rng.randrange(256)
        elif kind < 0.75:
            del data[position:position + rng.randint(1, 40)]
        else:
            data[position:position] = rng.randbytes(rng.randint(1, 40))
    return bytes(data)


def weird_json(value, rng):
    """`value` (a parsed JSON header) with one field somewhere replaced or removed."""
    value = copy.deepcopy(value)
    target, key = value, None
    for _ in range(rng.randint(1, 3)):
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = rng.choice(keys)
        if isinstance(target[key], (dict, list)) and rng.random() < 0.6:
            target = target[key]
            key = None
        else:
            break
    if key is None:
        return value
    if rng.random() < 0.15 and isinstance(target, dict):
        del target[key]
    elif rng.random() < 0.1:
        target[key] = DEEP
    else:
        target[key] = copy.deepcopy(rng.choice(WEIRD))
    return value


def npy_mutation(member, rng):
    """A .npy member with its header or data changed."""
    kind = rng.random()
    if kind < 0.4:   # rewrite the header's dict
        end = member.index(b"\n", 10)
        fields = rng.choice([
            "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }",
            "{'descr': '<f8', 'fortran_order': True, 'shape': (6, 4), }",
            "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
            "{'descr': '>f8', 'fortran_order': False, 'shape': (4, 6), }",
            "{'descr': '<U999999999', 'fortran_order': False, 'shape': (1,), }",
            "{'descr': 'V8', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f8', 'shape': (2, 2)",
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }",
            "__import__('os')",
        ]).encode()
        header = fields + b" " * max(0, end - 10 - len(fields)) + b"\n"
        return member[:8] + len(header).to_bytes(2, "little") + header + member[end + 1:]
    if kind < 0.6:
        return member[:rng.randrange(len(member))]
    if kind < 0.8:   # data: NaN, huge or arbitrary bytes in place
        data = bytearray(member)
        start = member.index(b"\n", 10) + 1
        for _ in range(rng.randint(1, 4)):
            if start < len(data):
                position = rng.randrange(start, len(data))
                data[position:position + 8] = rng.choice(
                    [np.float64(np.nan).tobytes(), np.float64(1e300).tobytes(), rng.randbytes(8)])
        return bytes(data)
    return raw_mutation(member, rng)


def member_mutation(data, rng):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = rng.choice(list(members))
    if name == "header.npy" and rng.random() < 0.7:
        raw = np.load(io.BytesIO(members[name]))
        header = json.loads(raw.tobytes())
        text = json.dumps(weird_json(header, rng), allow_nan=True).replace(
            json.dumps(DEEP), "[" * 5000 + "]" * 5000)
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(text.encode(), dtype=np.uint8))
        members[name] = buffer.getvalue()
    elif rng.random() < 0.1:
        members[rng.choice(["extra.npy", "W9.npy", "notes.txt", name + "x"])] = members[name]
    elif rng.random() < 0.05:
        del members[name]
    else:
        members[name] = npy_mutation(members[name], rng)
    buffer = io.BytesIO()
    method = rng.choice([zipfile.ZIP_STORED] * 4 + [zipfile.ZIP_DEFLATED] * 4
                        + [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


def main():
    cases, seed = int(sys.argv[1]), int(sys.argv[2])
    warnings.simplefilter("ignore")
    rng = random.Random(seed)
    failures = 0
    counts = {"loaded": 0, "ValueError": 0}
    X = np.random.default_rng(1).uniform(-1, 1, size=(8, 4))
    with tempfile.TemporaryDirectory() as folder:
        kinds = originals(folder)
        for case in range(cases):
            name = rng.choice(list(kinds))
            data, load = kinds[name]
            data = raw_mutation(data, rng) if rng.random() < 0.3 else member_mutation(data, rng)
            path = f"{folder}/case.npz"
            with open(path, "wb") as file:
                file.write(data)
            try:
                model = load(path)
                output = (model.predict_proba(X) if hasattr(model, "predict_proba")
                          else model.forward(X)[-1])
                if not np.all(np.isfinite(output)):
                    raise AssertionError("loaded, but its outputs are not finite")
                counts["loaded"] += 1
            except ValueError:
                counts["ValueError"] += 1
            except BaseException as exc:   # what the fuzz is for
                failures += 1
                print(f"case {case} ({name}): {type(exc).__name__}: {str(exc)[:200]}")
    print(json.dumps(counts))
    sys.exit(min(failures, 100))


if __name__ == "__main__":
    main()
