"""Network.trace and `mlplab trace`: one gradient-descent step, every quantity kept."""

import copy
import json

import numpy as np
import pytest

import mlplab as ml
from mlplab.lab.runner import run_q1
from conftest import data_for, make_network, run_cli

NETWORKS = {
    "sigmoid, L2": dict(sizes=(3, 5, 2)),
    "sigmoid, L2, no biases": dict(sizes=(3, 5, 2), bias=False),
    "relu and tanh, softmax": dict(sizes=(4, 6, 5, 3), hidden=("relu", "tanh"), output="softmax"),
    "identity output, sum convention": dict(sizes=(2, 4, 1), output="identity",
                                            reg_convention="sum"),
}


@pytest.mark.parametrize("reg_lambda", [0.0, 0.1])
@pytest.mark.parametrize("name", NETWORKS)
def test_the_trace_is_the_gradients_and_one_fit_step(name, reg_lambda, rng):
    net = make_network(**NETWORKS[name])
    X, Y = data_for(net, rng, n_samples=7)
    before = [theta.copy() for theta in net.parameters()]
    trace = net.trace(X, Y, 0.3, reg_lambda)
    assert all(np.array_equal(a, b) for a, b in zip(net.parameters(), before))   # unchanged

    loss, gradients = net.gradients(X, Y, reg_lambda)
    assert trace.loss == pytest.approx(loss, abs=1e-12)
    assert trace.penalty == pytest.approx(net.penalty(reg_lambda, len(X)), abs=1e-15)
    activations, zs = net.forward(X, return_z=True)
    for layer, (dW, db), z, a, a_prev, theta in zip(trace.layers, gradients, zs,
                                                    activations[1:], activations, net.layers):
        np.testing.assert_allclose(layer["z"], z, atol=1e-12)
        np.testing.assert_allclose(layer["a"], a, atol=1e-12)
        np.testing.assert_allclose(layer["dW"], dW, atol=1e-12)
        # delta is dL/dz: the weight gradient is a^(l-1)^T delta / N + c W
        np.testing.assert_allclose(a_prev.T @ layer["delta"] / len(X)
                                   + trace.l2_coefficient * theta.weights, dW, atol=1e-12)
        if db is None:
            assert layer["db"] is None and layer["b_new"] is None
        else:
            np.testing.assert_allclose(layer["db"], db, atol=1e-12)
            np.testing.assert_allclose(layer["delta"].mean(axis=0), db, atol=1e-12)

    for engine in (True, False):   # one fit step, on the engine and on the reference
        stepped = copy.deepcopy(net)
        stepped.engine = engine
        assert stepped.fit(X, Y, 0.3, reg_lambda) == pytest.approx(trace.loss, abs=1e-12)
        for layer, theta in zip(trace.layers, stepped.layers):
            np.testing.assert_allclose(layer["W_new"], theta.weights, atol=1e-12)
            if theta.biases is not None:
                np.testing.assert_allclose(layer["b_new"], theta.biases, atol=1e-12)


def test_the_output_delta_of_softmax_with_cross_entropy_is_a_minus_y(rng):
    net = make_network((3, 4, 3), output="softmax")
    X, Y = data_for(net, rng, n_samples=5)
    trace = net.trace(X, Y, 0.1)
    np.testing.assert_allclose(trace.layers[-1]["delta"], trace.layers[-1]["a"] - Y, atol=1e-15)
    assert "a^(2) - Y (softmax with cross-entropy)" in trace.to_markdown()


def test_the_trace_reads_as_markdown_and_as_json(rng):
    net = make_network((2, 3, 1))
    X, Y = data_for(net, rng, n_samples=2)
    trace = net.trace(X, Y, 0.5, 0.01)
    text = trace.to_markdown()
    for line in ("z^(1) = a^(0) W^(1) + b^(1), shape (2, 3)",
                 "a^(2) = sigmoid(z^(2)), shape (2, 1)",
                 "delta^(1) = (delta^(2) W^(2)^T) * sigmoid'(z^(1))",
                 "dW^(2) = a^(1)^T delta^(2) / N + c W^(2), shape (3, 1)",
                 "new W^(1) = W^(1) - learning_rate dW^(1)"):
        assert line in text, line
    assert text.index("delta^(2) =") < text.index("delta^(1) =")   # backward: L first
    assert trace._repr_markdown_() == text
    plain = json.loads(json.dumps(trace.to_dict()))   # JSON-ready, full precision
    assert plain["layers"][0]["l"] == 1 and plain["layers"][1]["activation"] == "sigmoid"
    assert np.array_equal(np.array(plain["layers"][1]["dW"]), trace.layers[1]["dW"])
    assert plain["objective"] == trace.loss + trace.penalty


def test_a_trace_refuses_what_it_cannot_show(rng):
    wide = make_network((2, 65, 1))
    with pytest.raises(ValueError, match="Network.gradients"):
        wide.trace(*data_for(wide, rng, n_samples=2), 0.1)
    net = make_network((2, 3, 1))
    with pytest.raises(ValueError, match="17 samples"):
        net.trace(*data_for(net, rng, n_samples=17), 0.1)
    X, Y = data_for(net, rng, n_samples=2)
    with pytest.raises(ValueError, match="features but the first layer expects 2"):
        net.trace(X[:, :1], Y, 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        net.trace(X, Y, -1.0)
    net.layers[1].weights = np.full((3, 1), np.nan)
    with pytest.raises(ValueError, match=r"layers\[1\].weights\[0, 0\] is nan"):
        net.trace(X, Y, 0.1)


def test_mlplab_trace_is_q1_by_default_with_the_reports_gradients(tmp_path):
    result = run_cli("trace", "--json", tmp_path / "q1.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "a^(2) = sigmoid(z^(2)), shape (1, 1):\n\n  ```text\n  [[0.8221]]" in result.stdout
    traced = json.loads((tmp_path / "q1.json").read_text())
    assert traced["layers"][1]["a"] == [[run_q1()["output"]]]
    reported = run_q1()["gradients"]   # what the report's Q1.2 gives
    for l, layer in enumerate(traced["layers"], start=1):
        np.testing.assert_allclose(layer["dW"], reported[f"dW{l}"], atol=1e-15)
        np.testing.assert_allclose(layer["db"], reported[f"db{l}"], atol=1e-15)


def test_mlplab_trace_of_a_network_and_samples_given(tmp_path):
    weights = {"W1": [[0.1, -0.2], [0.3, 0.4]], "b1": [0.0, 0.1], "W2": [[0.5], [-0.5]]}
    (tmp_path / "weights.json").write_text(json.dumps(weights))
    (tmp_path / "data.csv").write_text("1,2,1\n0,1,0\n")
    result = run_cli("trace", "--sizes", "2,2,1", "--activation", "tanh", "--weights",
                     "weights.json", "--data", "data.csv", "--learning-rate", "0.5", "--json",
                     "out.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    net = ml.build_network([2, 2, 1], "tanh", "sigmoid")
    net.layers[0].weights, net.layers[0].biases = np.array(weights["W1"]), np.array(weights["b1"])
    net.layers[1].weights = np.array(weights["W2"])   # b2: the seeded initial biases
    expected = net.trace(np.array([[1.0, 2], [0, 1]]), np.array([[1.0], [0]]), 0.5).to_dict()
    assert json.loads((tmp_path / "out.json").read_text()) == expected
    given = run_cli("trace", "--sizes", "2,2,1", "--activation", "tanh", "--weights",
                    "weights.json", "--input", "1,2;0,1", "--target", "1;0", "--learning-rate",
                    "0.5", cwd=tmp_path)
    assert given.stdout == result.stdout


@pytest.mark.parametrize("arguments, files, message", [
    (["--weights", "w.json"], {"w.json": "{not json"}, "not JSON"),
    (["--weights", "w.json"], {"w.json": '{"W1": [[1, 2]]}'}, "W1 must have shape (2, 3)"),
    (["--weights", "w.json"], {"w.json": '{"W3": [[1]]}'}, "unknown names W3"),
    (["--weights", "w.json"], {"w.json": '{"b2": [NaN]}'}, "not finite"),
    (["--weights", "missing.json"], {}, "missing.json"),
    (["--sizes", "2,3,1", "--activation", "sigmoi", "--input", "1,1", "--target", "1"], {},
     "sigmoi"),
    (["--sizes", "2,x,1", "--input", "1,1", "--target", "1"], {}, "--sizes"),
    (["--sizes", "2,3,1"], {}, "needs samples"),
    (["--input", "1,1;2"], {}, "--input"),
    (["--input", "1,1", "--target", "1,0"], {}, "output units"),
    (["--data", "d.csv"], {"d.csv": "1,1\n"}, "2 inputs and 1 targets"),
])
def test_a_bad_trace_specification_is_one_line_and_status_2(tmp_path, arguments, files,
                                                             message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_cli("trace", *arguments, cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlplab trace: error:"), result.stderr
    assert message in lines[0], lines[0]
    assert result.stdout == ""

