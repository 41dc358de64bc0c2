"""The optimizers of `mlplab.optimizers`, on the trainer's flat buffers.

The readable rules work on one array per parameter and make new arrays at each step; here the
parameters, the gradient and each state (velocity, moments) are one flat vector each, laid out
as the trainer's (layer by layer, W then b), and a step writes into buffers made once: the new
state into a second copy, which becomes the state only when the step is finite (`commit`), so
a failed step changes nothing. The arithmetic is the readable rule's; Adam's bias corrections
are folded into two scalars (as PyTorch does), the same values to rounding
(tests/test_optimizers.py).

During `Trainer.running` the state lives here; it is read from ``optimizer.state`` on entry and
written back to it, as new arrays, on exit (`Network.train` enters once per epoch, so callbacks
see the state of the epoch's end). A flat form whose state was the last written back is kept
for the next entry, so that consecutive epochs do not flatten it again.

Why flat: the readable rules run inside the engine make the estimator's mini-batch fits much
slower (`python benchmarks/speed_table.py --rows rules-adam,rules-momentum`).
"""

import math

import numpy as np

from ..optimizers import SGD, Adam, flatten, unflatten


def flat_update(optimizer, trainer):
    """The flat form of `optimizer` for `trainer`'s layout; None for no optimizer."""
    if optimizer is None:
        return None
    if type(optimizer) is SGD:
        return _Momentum(optimizer, trainer) if optimizer.momentum else _Plain(optimizer, trainer)
    if type(optimizer) is Adam:
        return _Adam(optimizer, trainer)
    raise ValueError(f"the engine has no flat form of {optimizer!r}; train it with "
                     "engine=False")


class _FlatState:
    """An optimizer's array states (`names`), flat, twice: the current and the next step's."""

    names = ()
    plain = False   # True: the trainer takes the step itself, as without an optimizer

    def __init__(self, optimizer, trainer):
        self.optimizer = optimizer
        # Arrays of the parameters' shapes and dtype, not the trainer's own views: holding
        # those would keep the trainer from reusing their buffer.
        self.like = [np.empty(theta.shape, theta.dtype) for W, b in trainer.current.views
                     for theta in (W, b) if theta is not None]
        state = optimizer.state_for(self.like)
        self.t = state["t"]
        self.current = {name: flatten(state[name], trainer.dtype) for name in self.names}
        self.next = {name: np.empty(trainer.size, trainer.dtype) for name in self.names}
        self.scratch = np.empty(trainer.size, trainer.dtype)
        self.stored = optimizer.state

    def finite(self):
        """Whether the state computed by the last `apply` is finite, where the new parameters'
        being finite does not already say so (a velocity or first moment that is not finite
        makes them so too)."""
        return True

    def commit(self):
        """Make the state computed by the last `apply` the current one."""
        self.current, self.next = self.next, self.current
        self.t += 1

    def store(self):
        """Write the current state back to the optimizer, as new arrays per parameter."""
        state = {"t": self.t}
        for name in self.names:
            state[name] = unflatten(self.current[name], self.like)
        self.optimizer.state = self.stored = state


class _Plain(_FlatState):
    """`SGD()`: plain descent, which the trainer computes with its learning rate folded into
    the backward pass; here only its steps are counted."""

    plain = True


class _Momentum(_FlatState):
    names = ("velocity",)

    def apply(self, theta, g, new, learning_rate):
        """new <- theta - lr * v (Nesterov: - lr * (g + mu v)), v <- mu v + g into `next`."""
        mu = np.array(self.optimizer.momentum, g.dtype)
        v = np.multiply(self.current["velocity"], mu, out=self.next["velocity"])
        v += g
        step = np.multiply(v, mu, out=self.scratch) if self.optimizer.nesterov else v
        if self.optimizer.nesterov:
            step += g
        step = np.multiply(step, np.array(learning_rate, g.dtype), out=self.scratch)
        np.subtract(theta, step, out=new)


class _Adam(_FlatState):
    names = ("m", "s")

    def finite(self):
        # An infinite s only zeroes its parameters' steps: it is checked on its own (a sum of
        # squares by BLAS, rechecked elementwise should that overflow).
        s = self.next["s"]
        return math.isfinite(np.vdot(s, s)) or bool(np.isfinite(s).all())

    def apply(self, theta, g, new, learning_rate):
        """new <- theta - lr sqrt(c_2) / c_1 * m / (sqrt(s) + eps sqrt(c_2)), c = 1 - beta^t:
        the readable rule's m_hat / (sqrt(s_hat) + eps) with both corrections taken out of
        the arrays into two scalars."""
        adam, dtype, scratch = self.optimizer, g.dtype, self.scratch
        t = self.t + 1
        root_c2 = math.sqrt(1 - adam.beta_2 ** t)
        m = np.multiply(self.current["m"], np.array(adam.beta_1, dtype), out=self.next["m"])
        m += np.multiply(g, np.array(1 - adam.beta_1, dtype), out=scratch)
        s = np.multiply(self.current["s"], np.array(adam.beta_2, dtype), out=self.next["s"])
        np.multiply(g, g, out=scratch)
        scratch *= np.array(1 - adam.beta_2, dtype)
        s += scratch
        denominator = np.sqrt(s, out=scratch)
        denominator += np.array(adam.epsilon * root_c2, dtype)
        step = np.divide(m, denominator, out=scratch)
        step *= np.array(learning_rate * root_c2 / (1 - adam.beta_1 ** t), dtype)
        np.subtract(theta, step, out=new)
