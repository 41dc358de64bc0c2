"""When a training step fails: `DivergenceError`, and finding the cause before blaming the
learning rate.

A step whose loss or new parameters are not finite is never applied. Its cause is looked for
only then, so that the common, finite step pays nothing for it: data with NaN or infinity, a
parameter set by hand to NaN or infinity, or (when the network has derivatives of its own) a
derivative that does not match its function.
"""

import numpy as np

from ._validation import all_finite, non_finite_message, non_finite_parameter_message
from .functions import ACTIVATIONS, LOSSES

# Data beyond this (in absolute value) makes a step overflow at ordinary learning rates.
FAR_FROM_ONE = 1e4
_OWN_DERIVATIVES = [d for _, d in (*ACTIVATIONS.values(), *LOSSES.values()) if d is not None]


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or non-finite weights; the step was not applied."""


def step_failure(network, X, Y, learning_rate, what):
    """The exception for a step on (X, Y) whose `what` ("loss (nan)", "weights") came out
    non-finite, the network's parameters still those before the step.

    A ValueError for non-finite data or parameters, else a DivergenceError that suggests a lower
    learning rate, for a network with derivatives of its own `mlplab.gradcheck`, and
    `mlplab.diagnose`.
    """
    for name, data in (("X", X), ("Y", Y)):
        if not all_finite(data):
            return ValueError(non_finite_message(name, data.dtype))
    for l, layer in enumerate(network.layers):
        for name in ("weights", "biases"):
            values = getattr(layer, name)
            if values is not None and not all_finite(values):
                return ValueError(non_finite_parameter_message(l, name, values))
    message = f"{what} became non-finite at this step; the weights were left unchanged. "
    far = [(name, float(np.max(np.abs(data)))) for name, data in (("X", X), ("Y", Y))
           if np.size(data) and np.max(np.abs(data)) > FAR_FROM_ONE]
    if far:
        message += ("Scale the data first (for example with scikit-learn's StandardScaler): "
                    + " and ".join(f"{name}'s values reach {value:.3g}" for name, value in far)
                    + f", far from 1. Else try a lower learning_rate (got {learning_rate!r}).")
    else:
        message += f"Try a lower learning_rate (got {learning_rate!r})."
    own = [f"d_activation_list[{l}]" for l, d_f in enumerate(network.d_activation_list)
           if d_f is not None and not any(d_f is d for d in _OWN_DERIVATIVES)]
    if not any(network.d_loss_function is d for d in _OWN_DERIVATIVES):
        own.append("d_loss_function")
    if own:
        message += (f" The network has derivatives of its own ({', '.join(own)}): check them "
                    "with mlplab.gradcheck(network, X, Y). A derivative written in terms of "
                    "the activation f(z) instead of z is the classic cause.")
    message += " mlplab.diagnose(network, X, Y) checks the usual causes."
    return DivergenceError(message)
