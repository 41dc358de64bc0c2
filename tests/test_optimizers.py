"""mlplab.optimizers: every rule against its equations, PyTorch and the engine.

- Each step rule (SGD, momentum, Nesterov, Adam) against its equations written out here element
  by element in Python floats, over several steps with varying gradients and learning rates.
- Training against PyTorch (torch.optim.SGD / Adam, L2 as weight_decay on the weights only) on
  the same network, initial weights and batches.
- The engine against the reference (`engine=False`), for every optimizer, batch size, L2 and
  schedule, and the optimizer state both leave behind.
- State: resuming (3 + 2 epochs = 5, `state_dict` / `load_state_dict`), copies that never
  change, wrong shapes and keys; all or nothing when a step diverges.
- Schedules' rates, and that `train` uses them; L-BFGS's objective and its `train`; bad input.
"""

import copy
import math

import numpy as np
import pytest

import mlplab as ml
from conftest import data_for
from mlplab.optimizers import (LBFGS, SGD, Adam, Adaptive, Constant, Cosine, InvScaling,
                               StepDecay, flat_objective)

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
ENGINES = pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])

# name -> (a new mlplab optimizer, torch.optim class name and its settings, a learning rate)
OPTIMIZERS = {
    "SGD": (lambda: SGD(), "SGD", {}, 0.1),
    "momentum": (lambda: SGD(momentum=0.9), "SGD",
                 {"momentum": 0.9, "dampening": 0, "nesterov": False}, 0.02),
    "nesterov": (lambda: SGD(0.9, nesterov=True), "SGD",
                 {"momentum": 0.9, "dampening": 0, "nesterov": True}, 0.02),
    "Adam": (lambda: Adam(), "Adam", {"betas": (0.9, 0.999), "eps": 1e-8}, 0.01),
    "Adam custom": (lambda: Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-6), "Adam",
                    {"betas": (0.8, 0.99), "eps": 1e-6}, 0.01),
}
ALL_OPTIMIZERS = pytest.mark.parametrize("name", list(OPTIMIZERS))
WITH_ARRAY_STATE = pytest.mark.parametrize("name", ["momentum", "nesterov", "Adam"])


def new_optimizer(name):
    return OPTIMIZERS[name][0]()


def rate_for(name):
    return OPTIMIZERS[name][3]


def networks(sizes=(4, 6, 3), output="softmax", dtype=np.float64, seed=3, engines=(True, False),
             **options):
    """The same network (tanh hidden layers) once per entry of `engines`."""
    return [ml.build_network(list(sizes), "tanh", output, rng=np.random.default_rng(seed),
                             engine=engine, **options).astype(dtype) for engine in engines]


def data(net, n_samples=40, seed=0):
    return data_for(net, np.random.default_rng(seed), n_samples)


def parameters_of(net):
    return [theta for layer in net.layers for theta in (layer.weights, layer.biases)
            if theta is not None]


def assert_close(label, got, want, tolerance):
    """|got - want| <= tolerance * max|want|, naming the quantity."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{label}: shapes {got.shape} and {want.shape}"
    scale = max(float(np.max(np.abs(want), initial=0.0)), np.finfo(np.float64).tiny)
    worst = float(np.max(np.abs(got - want), initial=0.0)) / scale
    assert worst <= tolerance, f"{label}: differ by {worst:.3g} (relative)"


def assert_same_weights(a, b, tolerance=0.0, label=""):
    """Every W and b of networks a and b equal (bit for bit with tolerance 0)."""
    for i, (x, y) in enumerate(zip(parameters_of(a), parameters_of(b))):
        if tolerance:
            assert_close(f"{label}parameter {i}", x, y, tolerance)
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"{label}parameter {i}")


def assert_same_state(got, want, tolerance=0.0, label="state"):
    """Optimizer states equal: the same keys, t exactly, the arrays to `tolerance`."""
    assert (got is None) == (want is None), f"{label}: {got!r:.80} against {want!r:.80}"
    if want is None:
        return
    assert set(got) == set(want), f"{label}: keys {sorted(got)} against {sorted(want)}"
    assert got["t"] == want["t"], f"{label}: t = {got['t']} against {want['t']}"
    for key in set(want) - {"t"}:
        assert len(got[key]) == len(want[key])
        for i, (x, y) in enumerate(zip(got[key], want[key])):
            assert np.shape(x) == np.shape(y) and np.asarray(x).dtype == np.asarray(y).dtype
            if tolerance:
                assert_close(f"{label} {key}[{i}]", x, y, tolerance)
            else:
                np.testing.assert_array_equal(x, y, err_msg=f"{label} {key}[{i}]")


# ----- 1. each rule against its equations ----------------------------------------------------

PARAMETERS = [np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]]), np.array([0.1, -0.2, 0.3])]
GRADIENT_STEPS = [   # one gradient per parameter and step: signs flip, sizes vary, some tiny
    [np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1e-9]]), np.array([0.2, 0.0, -4.0])],
    [np.array([[-0.5, 1.0, 0.25], [2.0, -3.0, 1e-9]]), np.array([0.1, 1.0, 4.0])],
    [np.array([[0.3, 0.3, -0.3], [1e-3, 1.5, 0.0]]), np.array([-0.2, 0.5, 2.0])],
    [np.array([[2.0, -0.1, 0.0], [-1.0, 0.7, 5e-9]]), np.array([0.0, -1.0, 1.0])],
    [np.array([[-1.5, 0.2, 1.0], [0.5, -0.5, 0.0]]), np.array([3.0, 0.25, -0.5])],
    [np.array([[0.01, -0.02, 0.03], [-0.04, 0.05, 1e-7]]), np.array([-3.0, 0.75, 0.5])],
]
RATES = [0.1, 0.1, 0.05, 0.2, 0.01, 0.3]


def by_hand(name, steps):
    """[(parameters, state)] after each step, every element computed on its own in Python
    floats from the rule's equations."""
    mu = {"momentum": 0.9, "nesterov": 0.9}.get(name, 0.0)
    beta_1, beta_2, eps = {"Adam": (0.9, 0.999, 1e-8),
                           "Adam custom": (0.8, 0.99, 1e-6)}.get(name, (None, None, None))
    theta = [[float(x) for x in p.ravel()] for p in PARAMETERS]
    v = [[0.0] * len(p) for p in theta]
    m = [[0.0] * len(p) for p in theta]
    s = [[0.0] * len(p) for p in theta]
    results = []
    for t, (gradients, lr) in enumerate(zip(GRADIENT_STEPS[:steps], RATES), start=1):
        for i, g_array in enumerate(gradients):
            for j, g in enumerate(float(x) for x in g_array.ravel()):
                if name == "SGD":
                    theta[i][j] = theta[i][j] - lr * g
                elif name in ("momentum", "nesterov"):
                    v[i][j] = mu * v[i][j] + g
                    direction = g + mu * v[i][j] if name == "nesterov" else v[i][j]
                    theta[i][j] = theta[i][j] - lr * direction
                else:
                    m[i][j] = beta_1 * m[i][j] + (1 - beta_1) * g
                    s[i][j] = beta_2 * s[i][j] + (1 - beta_2) * g * g
                    m_hat = m[i][j] / (1 - beta_1 ** t)
                    s_hat = s[i][j] / (1 - beta_2 ** t)
                    theta[i][j] = theta[i][j] - lr * m_hat / (math.sqrt(s_hat) + eps)

        def shaped(values):
            return [np.array(x).reshape(p.shape) for x, p in zip(values, PARAMETERS)]

        state = {"t": t}
        if name in ("momentum", "nesterov"):
            state["velocity"] = shaped(v)
        elif name.startswith("Adam"):
            state["m"], state["s"] = shaped(m), shaped(s)
        results.append((shaped(theta), state))
    return results


@ALL_OPTIMIZERS
def test_each_rule_follows_its_equations_step_by_step(name):
    optimizer = new_optimizer(name)
    expected = by_hand(name, len(GRADIENT_STEPS))
    parameters = [p.copy() for p in PARAMETERS]
    for step, (gradients, lr) in enumerate(zip(GRADIENT_STEPS, RATES)):
        state = optimizer.state_for(parameters)
        if step == 0:
            assert optimizer.state is None
            assert state["t"] == 0
            assert all(not np.any(a) for key, arrays in state.items() if key != "t"
                       for a in arrays)
        before = copy.deepcopy((parameters, gradients, state))
        new_parameters, new_state = optimizer.update(parameters, gradients, lr, state)
        # the inputs are left as they were
        for label, got, want in zip(("parameters", "gradients"), (parameters, gradients),
                                    before[:2]):
            for x, y in zip(got, want):
                np.testing.assert_array_equal(x, y, err_msg=f"{label} changed at step {step}")
        assert_same_state(state, before[2], label=f"input state at step {step}")
        want_parameters, want_state = expected[step]
        tolerance = 0.0 if name == "SGD" else 1e-14
        for i, (x, y) in enumerate(zip(new_parameters, want_parameters)):
            if tolerance:
                assert_close(f"step {step + 1}, parameter {i}", x, y, tolerance)
            else:   # SGD(): theta - lr * g, bit for bit
                np.testing.assert_array_equal(x, y, err_msg=f"step {step + 1}, parameter {i}")
                np.testing.assert_array_equal(x, parameters[i] - lr * gradients[i])
        assert_same_state(new_state, want_state, tolerance, label=f"state after step {step + 1}")
        optimizer.state, parameters = new_state, new_parameters
    assert optimizer.state["t"] == len(GRADIENT_STEPS)


def test_adams_bias_correction_makes_the_first_step_lr_sized():
    # With m_hat = g and s_hat = g^2 at t = 1, every parameter moves by lr * g / (|g| + eps).
    optimizer = Adam()
    parameters = [np.array([1.0, 1.0, 1.0])]
    gradients = [np.array([1e-3, -10.0, 1e3])]
    new, _ = optimizer.update(parameters, gradients, 0.01, optimizer.state_for(parameters))
    np.testing.assert_allclose(new[0], [1 - 0.01, 1 + 0.01, 1 - 0.01], rtol=0, atol=1e-7)


# ----- 2. against PyTorch --------------------------------------------------------------------


def torch_trained(net, X, Y, name, reg_lambda, epochs, batch_size, learning_rate):
    """The weights and biases after training a PyTorch copy of `net` (tanh hidden layers) as
    ``net.train(..., batch_size, shuffle=False)`` would, as arrays in mlplab's layout."""
    torch = pytest.importorskip("torch", reason="the comparison with PyTorch needs torch")
    _, torch_name, settings, _ = OPTIMIZERS[name]
    linears = []
    for layer in net.layers:
        n_in, n_out = layer.weights.shape
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():   # torch keeps W as (out, in)
            linear.weight.copy_(torch.from_numpy(layer.weights.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.biases.copy()))
        linears.append(linear)
    groups = [{"params": [linear.weight for linear in linears], "weight_decay": reg_lambda},
              {"params": [linear.bias for linear in linears], "weight_decay": 0.0}]
    optimizer = getattr(torch.optim, torch_name)(groups, lr=learning_rate, **settings)
    softmax = net.loss_function is ml.cross_entropy_loss
    X_t, Y_t = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            x, y = X_t[start:start + batch_size], Y_t[start:start + batch_size]
            for linear in linears[:-1]:
                x = torch.tanh(linear(x))
            z = linears[-1](x)
            if softmax:   # mean cross-entropy on the logits
                loss = torch.nn.functional.cross_entropy(z, y.argmax(dim=1))
            else:         # mlplab's L2 loss: 1/2 sum over units, mean over samples
                loss = 0.5 * ((torch.sigmoid(z) - y) ** 2).sum(dim=1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [theta.detach().numpy() for linear in linears
            for theta in (linear.weight.T, linear.bias)]


@ENGINES
@pytest.mark.parametrize("reg_lambda", [0.0, 0.01], ids=["no L2", "L2"])
@ALL_OPTIMIZERS
def test_training_equals_pytorch(name, reg_lambda, engine):
    pytest.importorskip("torch", reason="the comparison with PyTorch needs torch")
    net, = networks((5, 7, 3), engines=(engine,), seed=11)
    X, Y = data(net, 30)
    want = torch_trained(net, X, Y, name, reg_lambda, 4, 8, rate_for(name))
    net.train(X, Y, epochs=4, learning_rate=rate_for(name), reg_lambda=reg_lambda,
              batch_size=8, shuffle=False, optimizer=new_optimizer(name))
    for i, (got, theta) in enumerate(zip(parameters_of(net), want)):
        assert_close(f"parameter {i} against torch", got, theta, 1e-10)


@ENGINES
def test_sigmoid_l2_training_equals_pytorch(engine):
    pytest.importorskip("torch", reason="the comparison with PyTorch needs torch")
    net, = networks((5, 7, 2), output="sigmoid", engines=(engine,), seed=5)
    X, Y = data(net, 30)
    want = torch_trained(net, X, Y, "Adam", 0.01, 4, 8, 0.01)
    net.train(X, Y, epochs=4, learning_rate=0.01, reg_lambda=0.01, batch_size=8, shuffle=False,
              optimizer=Adam())
    for i, (got, theta) in enumerate(zip(parameters_of(net), want)):
        assert_close(f"parameter {i} against torch", got, theta, 1e-10)


# ----- 3. the engine equals the reference ----------------------------------------------------

GRID_SCHEDULES = {"no schedule": None, "cosine": lambda: Cosine(3, minimum=0.01)}


@DTYPES
@pytest.mark.parametrize("schedule", list(GRID_SCHEDULES))
@pytest.mark.parametrize("reg_lambda", [0.0, 0.01], ids=["no L2", "L2"])
@pytest.mark.parametrize("batch_size", [1, 7, None], ids=lambda b: f"batch {b or 'full'}")
@ALL_OPTIMIZERS
def test_engine_equals_reference(name, batch_size, reg_lambda, schedule, dtype):
    nets = networks(dtype=dtype)
    X, Y = data(nets[0])
    histories = []
    for net in nets:
        make = GRID_SCHEDULES[schedule]
        histories.append(net.train(X, Y, epochs=3, learning_rate=rate_for(name),
                                   reg_lambda=reg_lambda, batch_size=batch_size, seed=4,
                                   optimizer=new_optimizer(name),
                                   schedule=None if make is None else make()))
    tolerance = TOLERANCE[dtype]
    assert_close("loss history", histories[0]["loss"], histories[1]["loss"], tolerance)
    for net in nets:
        assert all(theta.dtype == dtype for theta in parameters_of(net))
    assert_same_weights(*nets, tolerance)


@DTYPES
@ALL_OPTIMIZERS
def test_engine_and_reference_leave_the_same_state_over_two_train_calls(name, dtype):
    nets = networks(dtype=dtype)
    X, Y = data(nets[0])
    optimizers = [new_optimizer(name) for _ in nets]
    tolerance = TOLERANCE[dtype]
    for call, (batch_size, rate) in enumerate([(7, rate_for(name)), (None, rate_for(name) / 2)]):
        for net, optimizer in zip(nets, optimizers):
            net.train(X, Y, epochs=2, learning_rate=rate, reg_lambda=0.01,
                      batch_size=batch_size, seed=call, optimizer=optimizer)
        assert_same_weights(*nets, tolerance, label=f"after call {call + 1}: ")
        assert_same_state(optimizers[0].state, optimizers[1].state, tolerance,
                          label=f"engine's against reference's state after call {call + 1}")
    steps = 2 * math.ceil(len(X) / 7) + 2
    assert optimizers[1].state["t"] == steps   # the reference counts every step


@pytest.mark.parametrize("name", ["momentum", "Adam"])
def test_engine_equals_reference_without_biases(name):
    nets = networks(bias=False)
    X, Y = data(nets[0])
    optimizers = [new_optimizer(name) for _ in nets]
    for net, optimizer in zip(nets, optimizers):
        net.train(X, Y, epochs=3, learning_rate=rate_for(name), reg_lambda=0.01, batch_size=7,
                  seed=0, optimizer=optimizer)
    assert_same_weights(*nets, 1e-12)
    assert_same_state(*(o.state for o in optimizers), 1e-12)
    assert len(next(v for k, v in optimizers[0].state.items() if k != "t")) == 2   # W1, W2


# ----- 4. state and resuming -----------------------------------------------------------------


@pytest.mark.parametrize("schedule", [None, "cosine"], ids=["no schedule", "cosine"])
@pytest.mark.parametrize("batch_size", [8, None], ids=["batch 8 in order", "full batch"])
@ENGINES
@ALL_OPTIMIZERS
def test_three_then_two_epochs_equal_five(name, engine, batch_size, schedule):
    nets = networks(engines=(engine, engine))
    X, Y = data(nets[0])
    optimizers = [new_optimizer(name) for _ in nets]
    schedules = [Cosine(5, minimum=0.01) if schedule else None for _ in nets]
    common = {"learning_rate": rate_for(name), "reg_lambda": 0.01, "batch_size": batch_size,
              "shuffle": False}
    once = nets[0].train(X, Y, epochs=5, optimizer=optimizers[0], schedule=schedules[0],
                         **common)
    first = nets[1].train(X, Y, epochs=3, optimizer=optimizers[1], schedule=schedules[1],
                          **common)
    then = nets[1].train(X, Y, epochs=2, optimizer=optimizers[1], schedule=schedules[1],
                         **common)
    assert_same_weights(*nets)
    assert_same_state(optimizers[1].state, optimizers[0].state)
    np.testing.assert_array_equal(np.concatenate([first["loss"], then["loss"]]), once["loss"])


@ENGINES
@ALL_OPTIMIZERS
def test_state_dict_into_a_fresh_optimizer_continues_identically(name, engine):
    net, = networks(engines=(engine,))
    X, Y = data(net)
    optimizer = new_optimizer(name)
    settings = {"learning_rate": rate_for(name), "reg_lambda": 0.01, "batch_size": 8,
                "shuffle": False}
    net.train(X, Y, epochs=3, optimizer=optimizer, **settings)
    saved = optimizer.state_dict()
    assert saved is not None and saved["t"] == 3 * 5, f"state_dict() after 15 steps: {saved!r}"
    twin, fresh = copy.deepcopy(net), new_optimizer(name)
    fresh.load_state_dict(saved)
    assert_same_state(fresh.state, optimizer.state)
    for key in set(saved) - {"t"}:   # what was loaded is a copy: changing `saved` changes nothing
        for array in saved[key]:
            array += 1.0
    for model, opt in ((net, optimizer), (twin, fresh)):
        model.train(X, Y, epochs=2, optimizer=opt, **settings)
    assert_same_weights(twin, net)
    assert_same_state(fresh.state, optimizer.state)


@ENGINES
@WITH_ARRAY_STATE
def test_state_handed_out_never_changes_under_the_user(name, engine):
    net, = networks(engines=(engine,))
    X, Y = data(net)
    optimizer = new_optimizer(name)
    net.train(X, Y, epochs=2, learning_rate=rate_for(name), batch_size=8, seed=0,
              optimizer=optimizer)
    held, dumped = optimizer.state, optimizer.state_dict()
    held_arrays = {key: list(arrays) for key, arrays in held.items() if key != "t"}
    copies = copy.deepcopy((held, dumped))
    dumped_again = optimizer.state_dict()
    for key in held_arrays:   # state_dict() hands out copies: changing one changes nothing
        for array in dumped_again[key]:
            array[...] = np.nan
    net.train(X, Y, epochs=2, learning_rate=rate_for(name), batch_size=8, seed=1,
              optimizer=optimizer)
    assert optimizer.state["t"] == 2 * copies[0]["t"]
    assert_same_state(held, copies[0], label="the state held before training on")
    assert_same_state(dumped, copies[1], label="the state_dict() taken before training on")
    for key, arrays in held_arrays.items():
        for i, (array, copied) in enumerate(zip(arrays, copies[0][key])):
            np.testing.assert_array_equal(array, copied, err_msg=f"held {key}[{i}]")
        assert all(np.all(np.isfinite(a)) for a in optimizer.state[key])


@ENGINES
@WITH_ARRAY_STATE
def test_an_optimizer_of_another_network_is_refused_naming_shapes(name, engine):
    net, = networks((4, 6, 3), engines=(engine,))
    X, Y = data(net)
    optimizer = new_optimizer(name)
    net.train(X, Y, epochs=1, learning_rate=rate_for(name), optimizer=optimizer)
    state = optimizer.state_dict()
    for other in (networks((4, 5, 3), engines=(engine,))[0],
                  networks((4, 6, 3), engines=(engine,), dtype=np.float32)[0]):
        before = [theta.copy() for theta in parameters_of(other)]
        with pytest.raises(ValueError, match=r"shapes .*\(4, 6\).*\(4, 5\)|float32"):
            other.train(X, Y, epochs=1, learning_rate=rate_for(name), optimizer=optimizer)
        for theta, was in zip(parameters_of(other), before):   # nothing was stepped
            np.testing.assert_array_equal(theta, was)
        assert_same_state(optimizer.state, state)
    optimizer.load_state_dict(None)   # reset: then it fits another network
    other = networks((4, 5, 3), engines=(engine,))[0]
    other.train(X, Y, epochs=1, learning_rate=rate_for(name), optimizer=optimizer)
    assert optimizer.state["t"] == 1


@pytest.mark.parametrize("optimizer, state", [
    (SGD(0.9), {"t": 1, "m": [], "s": []}),
    (SGD(0.9), {"t": 1}),
    (SGD(), {"t": 1, "velocity": []}),
    (Adam(), {"t": 1, "velocity": []}),
    (Adam(), {"t": 1, "m": []}),
    (Adam(), {"m": [], "s": []}),
    (Adam(), [("t", 1)]),
    (Adam(), {"t": -1, "m": [], "s": []}),
    (Adam(), {"t": True, "m": [], "s": []}),
    (Adam(), {"t": 1.5, "m": [], "s": []}),
    (Adam(), {"t": 1, "m": np.zeros(3), "s": np.zeros(3)}),
], ids=["SGD momentum given Adam's", "SGD momentum without velocity", "plain SGD given velocity",
        "Adam given velocity", "Adam without s", "Adam without t", "not a dict", "negative t",
        "bool t", "float t", "arrays not in a list"])
def test_load_state_dict_refuses_a_state_of_another_kind(optimizer, state):
    with pytest.raises(ValueError):
        optimizer.load_state_dict(state)
    assert optimizer.state is None


# ----- 5. all or nothing when a step diverges -------------------------------------------------

# name -> (learning_rate, reg_lambda): weights that grow step by step until they overflow
DIVERGING = {"SGD": (1e50, 1.0), "momentum": (1e50, 1.0), "nesterov": (1e50, 1.0),
             "Adam": (1e307, 0.0)}


def snapshot(net, optimizer):
    return [theta.copy() for theta in parameters_of(net)], optimizer.state_dict()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@ENGINES
@pytest.mark.parametrize("name", list(DIVERGING))
def test_a_diverging_step_leaves_network_and_optimizer_as_after_the_last_finite_one(
        name, engine):
    learning_rate, reg_lambda = DIVERGING[name]
    nets = networks((5, 7, 3), engines=(engine, engine))
    X, Y = data(nets[0], 20)
    # One call of many epochs...
    optimizer = new_optimizer(name)
    with pytest.raises(ml.DivergenceError) as raised:
        nets[0].train(X, Y, epochs=50, learning_rate=learning_rate, reg_lambda=reg_lambda,
                      optimizer=optimizer)
    # ...against its twin trained one epoch (one full-batch step) at a time.
    stepped, records = new_optimizer(name), []
    with pytest.raises(ml.DivergenceError):
        for _ in range(50):
            nets[1].train(X, Y, epochs=1, learning_rate=learning_rate, reg_lambda=reg_lambda,
                          optimizer=stepped)
            records.append(snapshot(nets[1], stepped))
    finite_steps = len(records)
    assert finite_steps >= 2, "the example should diverge after a few finite steps"
    assert raised.value.epoch == finite_steps
    assert len(raised.value.history["loss"]) == finite_steps
    last_weights, last_state = records[-1]
    for net, opt in ((nets[0], optimizer), (nets[1], stepped)):
        for i, (theta, want) in enumerate(zip(parameters_of(net), last_weights)):
            np.testing.assert_array_equal(theta, want, err_msg=f"parameter {i}")
            assert np.all(np.isfinite(theta))
        assert opt.state is not None and opt.state["t"] == finite_steps, \
            f"t after {finite_steps} finite steps: {opt.state!r:.80}"
        assert_same_state(opt.state, last_state)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@ENGINES
@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_a_step_diverging_within_an_epoch_keeps_the_last_finite_batch(name, engine):
    learning_rate, reg_lambda = DIVERGING[name]
    nets = networks((5, 7, 3), engines=(engine, engine))
    X, Y = data(nets[0], 32)
    optimizer = new_optimizer(name)
    with pytest.raises(ml.DivergenceError):
        nets[0].train(X, Y, epochs=20, learning_rate=learning_rate, reg_lambda=reg_lambda,
                      batch_size=8, shuffle=False, optimizer=optimizer)
    stepped, records = new_optimizer(name), []
    with pytest.raises(ml.DivergenceError):
        for step in range(80):
            batch = slice(8 * (step % 4), 8 * (step % 4) + 8)
            nets[1].train(X[batch], Y[batch], epochs=1, learning_rate=learning_rate,
                          reg_lambda=reg_lambda, optimizer=stepped)
            records.append(snapshot(nets[1], stepped))
    assert len(records) >= 2
    last_weights, last_state = records[-1]
    for i, (theta, want) in enumerate(zip(parameters_of(nets[0]), last_weights)):
        np.testing.assert_array_equal(theta, want, err_msg=f"parameter {i}")
    assert optimizer.state["t"] == len(records)
    assert_same_state(optimizer.state, last_state)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_engine_and_reference_agree_when_adams_second_moment_overflows():
    # lr 1e300 with L2: after one step |W| ~ 1e300, so g ~ 1e298 and g^2 overflows into s.
    # The engine and the reference must end alike (both raise at the same epoch, or both
    # finish with the same finite weights), and a state kept after a step must be finite.
    nets = networks((5, 7, 3))
    X, Y = data(nets[0], 20)
    outcomes, optimizers = [], []
    for net in nets:
        optimizers.append(Adam())
        try:
            net.train(X, Y, epochs=3, learning_rate=1e300, reg_lambda=0.01,
                      optimizer=optimizers[-1])
            outcomes.append("finished")
        except ml.DivergenceError as exc:
            outcomes.append(f"DivergenceError at epoch {exc.epoch}")
    for where, optimizer in zip(("engine", "reference"), optimizers):
        for key in ("m", "s"):
            for i, array in enumerate(optimizer.state[key]):
                assert np.all(np.isfinite(array)), f"{where}'s Adam state {key}[{i}] not finite"
    assert outcomes[0] == outcomes[1], f"engine: {outcomes[0]}; reference: {outcomes[1]}"


# ----- 6. schedules --------------------------------------------------------------------------


def rates_of(schedule, learning_rate, losses, n_samples):
    """The rate a schedule gives each epoch, told each epoch's loss at its end."""
    rates = []
    for loss in losses:
        rates.append(schedule.rate(learning_rate))
        schedule.epoch_ended(loss, n_samples)
    return rates


def test_constant_keeps_the_rate_and_counts():
    schedule = Constant()
    assert rates_of(schedule, 0.3, [1.0, 2.0, 0.5], 25) == [0.3, 0.3, 0.3]
    assert schedule.epoch == 3 and schedule.samples_seen == 75


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_is_scikit_learns(power_t):
    n, lr = 25, 0.2
    rates = rates_of(InvScaling(power_t), lr, [1.0] * 5, n)
    want = [lr / (epoch * n + 1) ** power_t for epoch in range(5)]
    np.testing.assert_allclose(rates, want, rtol=1e-15)
    assert rates[0] == lr
    try:   # scikit-learn's own (a private class): after each epoch, the samples seen so far
        from sklearn.neural_network._stochastic_optimizers import SGDOptimizer
    except ImportError:
        return
    theirs = SGDOptimizer([np.zeros(1)], learning_rate_init=lr, lr_schedule="invscaling",
                          power_t=power_t)
    sklearn_rates = []
    for epoch in range(5):
        sklearn_rates.append(theirs.learning_rate)
        theirs.iteration_ends((epoch + 1) * n)
    np.testing.assert_allclose(rates, sklearn_rates, rtol=1e-15)


def test_step_decay():
    rates = rates_of(StepDecay(step_size=3, gamma=0.5), 0.8, [1.0] * 8, 10)
    np.testing.assert_allclose(rates, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2], rtol=1e-15)


def test_cosine_anneals_to_its_minimum_and_stays():
    lr, minimum, epochs = 0.5, 0.01, 4
    rates = rates_of(Cosine(epochs, minimum), lr, [1.0] * 7, 10)
    want = [minimum + (lr - minimum) * 0.5 * (1 + math.cos(math.pi * e / epochs))
            for e in range(epochs)] + [minimum] * 3
    np.testing.assert_allclose(rates, want, rtol=1e-14)
    assert rates[0] == lr and rates[2] == pytest.approx((lr + minimum) / 2, rel=1e-14)


def test_adaptive_divides_by_five_after_too_many_epochs_without_improvement():
    # tol 0.1, n_iter_no_change 2: an epoch improves if its loss <= best - 0.1; the third
    # epoch in a row that does not divides the rate by 5 and starts counting again.
    losses = [1.0, 0.5,                # improve: best 0.5
              0.45, 0.44, 0.43,        # 3 without: the rate / 5 from the next epoch; best 0.43
              0.2,                     # improves (0.2 <= 0.33)
              0.25, 0.3, 0.21,         # 3 without (best 0.2): / 5 again
              0.05, 0.04]              # improves, then 1 without
    lr = 1.0
    want = [lr] * 5 + [lr / 5] * 4 + [lr / 25] * 2
    schedule = Adaptive(tol=0.1, n_iter_no_change=2)
    rates = rates_of(schedule, lr, losses, 10)
    np.testing.assert_allclose(rates, want, rtol=1e-15)
    assert schedule.best_loss == 0.04 and schedule.epoch == 11
    assert schedule.rate(lr) == pytest.approx(lr / 25)


def test_adaptive_needs_more_than_n_iter_no_change_epochs():
    # The first epoch improves on infinity; the next four do not improve by tol: the fourth
    # of them is more than n_iter_no_change = 3, so the rate after it is divided by 5.
    schedule = Adaptive(tol=1e-3, n_iter_no_change=3)
    rates = rates_of(schedule, 1.0, [1.0] * 7, 10)
    assert rates == [1.0] * 5 + [0.2] * 2


TRAIN_SCHEDULES = {
    "constant": (lambda: Constant(), lambda lr, e, n: lr),
    "invscaling": (lambda: InvScaling(0.5), lambda lr, e, n: lr / (e * n + 1) ** 0.5),
    "step decay": (lambda: StepDecay(2, gamma=0.5), lambda lr, e, n: lr * 0.5 ** (e // 2)),
    "cosine": (lambda: Cosine(4, minimum=0.01),
               lambda lr, e, n: 0.01 + (lr - 0.01) * (1 + math.cos(math.pi * e / 4)) / 2),
}


@ENGINES
@pytest.mark.parametrize("schedule", list(TRAIN_SCHEDULES))
def test_train_takes_each_epochs_rate_from_the_schedule(schedule, engine):
    make, formula = TRAIN_SCHEDULES[schedule]
    nets = networks(engines=(engine, engine, engine))
    X, Y = data(nets[0], 24)
    lr, epochs = 0.5, 4
    scheduled = make()
    history = nets[0].train(X, Y, epochs=epochs, learning_rate=lr, optimizer=SGD(0.9),
                            schedule=scheduled)
    assert scheduled.epoch == epochs and scheduled.samples_seen == epochs * len(X)
    # By hand: one train call per epoch at the rate of the formula written here.
    by_hand, manual_losses = SGD(0.9), []
    rates = [formula(lr, e, len(X)) for e in range(epochs)]
    for rate in rates:
        manual_losses.append(nets[1].train(X, Y, epochs=1, learning_rate=rate,
                                           optimizer=by_hand)["loss"][0])
    assert_same_weights(nets[0], nets[1], 1e-13)
    assert_close("losses", history["loss"], manual_losses, 1e-13)
    # ...and the last epoch's rate is observable: the base rate there gives other weights.
    if rates[-1] != lr:
        wrong = SGD(0.9)
        for rate in rates[:-1] + [lr]:
            nets[2].train(X, Y, epochs=1, learning_rate=rate, optimizer=wrong)
        differences = [np.max(np.abs(a - b)) for a, b in
                       zip(parameters_of(nets[0]), parameters_of(nets[2]))]
        assert max(differences) > 1e-6


@ENGINES
def test_train_tells_the_schedule_each_epochs_loss(engine):
    net, = networks(engines=(engine,))
    X, Y = data(net)
    schedule = Adaptive(tol=0.0, n_iter_no_change=1)
    history = net.train(X, Y, epochs=6, learning_rate=0.1, schedule=schedule)
    assert schedule.best_loss == min(history["loss"])


# ----- 7. L-BFGS -----------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("reg_convention", ["mean", "sum"])
@pytest.mark.parametrize("reg_lambda", [0.0, 0.1], ids=["no L2", "L2 0.1"])
def test_flat_objective_gradient_matches_central_differences(reg_lambda, reg_convention, output):
    net, = networks((3, 4, 2), output=output, engines=(False,), reg_convention=reg_convention)
    X, Y = data(net, 10)
    theta = np.concatenate([p.ravel() for p in parameters_of(net)])   # [W1, b1, W2, b2]
    objective = flat_objective(net, X, Y, reg_lambda)
    J, gradient = objective(theta)
    # J written out: mean data loss + (c / 2) sum ||W||^2, c = reg_lambda or reg_lambda / N
    c = reg_lambda if reg_convention == "mean" else reg_lambda / len(X)
    output_values = net.forward(X)[-1]
    if output == "softmax":
        data_loss = -np.sum(Y * np.log(output_values)) / len(X)
    else:
        data_loss = 0.5 * np.sum((output_values - Y) ** 2) / len(X)
    penalty = sum(np.sum(layer.weights ** 2) for layer in net.layers)
    assert J == pytest.approx(data_loss + 0.5 * c * penalty, rel=1e-13)
    assert J == pytest.approx(net.loss(X, Y, reg_lambda), rel=1e-13)
    # theta is laid out as [W1, b1, W2, b2]: calling the objective sets the network to it
    probe = theta + np.arange(theta.size) * 1e-3
    objective(probe)
    np.testing.assert_array_equal(np.concatenate([p.ravel() for p in parameters_of(net)]),
                                  probe)
    h = 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        numeric[i] = (objective(theta + step)[0] - objective(theta - step)[0]) / (2 * h)
    assert_close("dJ/dtheta against central differences", gradient, numeric, 1e-7)


@ENGINES
def test_lbfgs_lowers_the_objective_within_max_iter(engine):
    net, = networks((4, 6, 3), engines=(engine,))
    X, Y = data(net)
    before = net.loss(X, Y, 0.01)
    optimizer = LBFGS()
    history = net.train(X, Y, epochs=30, learning_rate=0.1, reg_lambda=0.01,
                        optimizer=optimizer)
    assert 1 <= len(history["loss"]) <= 30
    assert optimizer.result.nit == len(history["loss"])
    assert net.loss(X, Y, 0.01) < before
    assert history["loss"][-1] == pytest.approx(net.loss(X, Y), rel=1e-12)
    assert all(np.all(np.isfinite(theta)) for theta in parameters_of(net))
    # max_iter honoured: epochs=3 gives at most 3 iterations
    short, = networks((4, 6, 3), engines=(engine,))
    history = short.train(X, Y, epochs=3, learning_rate=0.1, optimizer=LBFGS())
    assert 1 <= len(history["loss"]) <= 3
    # and a large tol stops it at once
    loose, = networks((4, 6, 3), engines=(engine,))
    early = LBFGS(tol=1e3)
    history = loose.train(X, Y, epochs=30, learning_rate=0.1, optimizer=early)
    assert len(history["loss"]) <= 1 and early.result.nit <= 1
    # the network still trains on its engine (or reference) after L-BFGS replaced its arrays
    net.train(X, Y, epochs=1, learning_rate=0.1)
    assert all(np.all(np.isfinite(theta)) for theta in parameters_of(net))


def test_lbfgs_is_the_same_on_engine_and_reference():
    nets = networks((4, 6, 3))
    X, Y = data(nets[0])
    histories = [net.train(X, Y, epochs=10, learning_rate=0.1, reg_lambda=0.01,
                           optimizer=LBFGS(), validation_data=(X[:9], Y[:9])) for net in nets]
    assert_same_weights(*nets)
    for key in ("loss", "val_loss"):
        np.testing.assert_array_equal(histories[0][key], histories[1][key])


# ----- 8. bad input --------------------------------------------------------------------------


@ENGINES
@pytest.mark.parametrize("setting", ["optimizer", "schedule"])
def test_train_refuses_what_is_not_an_optimizer_or_schedule(setting, engine):
    net, = networks(engines=(engine,))
    X, Y = data(net)
    before = [theta.copy() for theta in parameters_of(net)]
    with pytest.raises(ValueError, match=setting):
        net.train(X, Y, epochs=1, learning_rate=0.1, **{setting: object()})
    assert_same_weights(net, networks(engines=(engine,))[0])
    for theta, was in zip(parameters_of(net), before):
        np.testing.assert_array_equal(theta, was)


@pytest.mark.parametrize("make", [
    lambda: SGD(momentum=1.0), lambda: SGD(momentum=-0.1), lambda: SGD(momentum=math.nan),
    lambda: SGD(nesterov=True), lambda: SGD(0.9, nesterov=1),
    lambda: Adam(beta_1=1.0), lambda: Adam(beta_2=1.0), lambda: Adam(beta_1=-0.1),
    lambda: Adam(epsilon=0), lambda: Adam(epsilon=-1e-8),
    lambda: StepDecay(0), lambda: Cosine(0), lambda: InvScaling(-1.0),
    lambda: Adaptive(factor=1.0), lambda: LBFGS(tol=-1.0), lambda: LBFGS(max_fun=0),
], ids=["momentum 1", "momentum < 0", "momentum nan", "nesterov without momentum",
        "nesterov not a bool", "beta_1 1", "beta_2 1", "beta_1 < 0", "epsilon 0",
        "epsilon < 0", "step_size 0", "cosine epochs 0", "power_t < 0", "factor 1",
        "lbfgs tol < 0", "lbfgs max_fun 0"])
def test_bad_settings_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


# ----- after a review: state seen by callbacks, L-BFGS's refusals, bounded counts ------------

@pytest.mark.parametrize("engine", [True, False], ids=["engine", "reference"])
def test_a_callback_sees_the_state_of_its_epochs_end_and_fit_in_it_is_plain(engine):
    net = ml.build_network([5, 7, 3], "tanh", "softmax", rng=np.random.default_rng(1),
                           engine=engine)
    X = np.random.default_rng(0).normal(size=(20, 5))
    Y = np.eye(3)[np.arange(20) % 3]
    adam, seen = Adam(), []

    def callback(epoch, history):
        seen.append(adam.state["t"])
        if epoch == 0:   # the assignment's one plain step, between two epochs of Adam
            twin = ml.build_network([5, 7, 3], "tanh", "softmax", engine=False)
            for layer, source in zip(twin.layers, net.layers):
                layer.weights, layer.biases = source.weights.copy(), source.biases.copy()
            net.fit(X, Y, 0.1, 0.0)
            twin.fit(X, Y, 0.1, 0.0)
            for a, b in zip(net.layers, twin.layers):
                np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12, atol=1e-15)

    net.train(X, Y, 3, 0.01, batch_size=4, optimizer=adam, callback=callback)
    assert seen == [5, 10, 15]


def test_lbfgs_refuses_a_non_finite_start_batches_and_schedules_and_restores_on_errors():
    net = ml.build_network([5, 7, 3], "tanh", "softmax", rng=np.random.default_rng(1))
    X = np.random.default_rng(0).normal(size=(20, 5))
    Y = np.eye(3)[np.arange(20) % 3]
    before = [layer.weights.copy() for layer in net.layers]
    huge = ml.build_network([5, 7, 3], "identity", "identity", rng=np.random.default_rng(1))
    with pytest.raises(ml.DivergenceError, match="not finite .* start of L-BFGS"), \
            np.errstate(over="ignore", invalid="ignore"):   # the overflow is the point
        huge.train(X * 1e200, Y, 5, 1.0, optimizer=LBFGS())
    for kwargs in (dict(batch_size=4), dict(schedule=Cosine(5))):
        with pytest.raises(ValueError, match="LBFGS trains on the full batch"):
            net.train(X, Y, 5, 1.0, optimizer=LBFGS(), **kwargs)

    def interrupt(epoch, history):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.train(X, Y, 5, 1.0, optimizer=LBFGS(), callback=interrupt)
    for layer, W in zip(net.layers, before):
        np.testing.assert_array_equal(layer.weights, W)


def test_an_optimizer_class_or_schedule_class_instead_of_an_instance_is_named():
    net = ml.build_network([2, 3, 2], "tanh", "softmax")
    X, Y = np.zeros((4, 2)), np.eye(2)[[0, 1, 0, 1]]
    with pytest.raises(ValueError, match="instance .* got <class 'mlplab.optimizers.Adam'>"):
        net.train(X, Y, 1, 0.1, optimizer=Adam)
    with pytest.raises(ValueError, match="instance .* got <class 'mlplab.optimizers.Cosine'>"):
        net.train(X, Y, 1, 0.1, schedule=Cosine)


def test_a_refused_state_changes_nothing_and_counts_are_bounded():
    adam = Adam()
    adam.load_state_dict({"t": 2, "m": [np.ones(3)], "s": [np.ones(3)]})
    kept = adam.state_dict()
    for state in ({"t": 2, "m": [np.ones(3)], "s": [-np.ones(3)]},
                  {"t": 2, "m": [np.full(3, np.nan)], "s": [np.ones(3)]},
                  {"t": 10**400, "m": [np.ones(3)], "s": [np.ones(3)]}):
        with pytest.raises(ValueError):
            adam.load_state_dict(state)
        assert adam.state["t"] == 2 and np.array_equal(adam.state["s"][0], kept["s"][0])
    schedule = Adaptive()
    with pytest.raises(ValueError, match="count from 0 to 2\\*\\*53"):
        schedule.load_state_dict({**schedule.state_dict(), "epoch": 2**60})
    schedule.load_state_dict({**schedule.state_dict(), "divisions": 5000})
    assert schedule.rate(0.1) == 0.0   # divided away, not an OverflowError
