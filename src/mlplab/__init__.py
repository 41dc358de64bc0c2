"""mlplab: the neural network of CS640 Homework 2, from scratch in NumPy.

A notebook needs only ``from mlplab import Layer, Network, sigmoid, d_sigmoid, softmax, l2_loss,
d_l2_loss, cross_entropy_loss, d_cross_entropy_softmax``; ``build_network`` makes a network from
names.
"""

from .functions import (
    ACTIVATIONS,
    LOSSES,
    OUTPUTS,
    cross_entropy_loss,
    d_cross_entropy_softmax,
    d_identity,
    d_l2_loss,
    d_relu,
    d_sigmoid,
    d_tanh,
    identity,
    l2_loss,
    relu,
    sigmoid,
    smooth_labels,
    softmax,
    tanh,
)
from .diagnose import Diagnosis, diagnose
from .errors import DivergenceError
from .gradcheck import gradcheck
from .layer import Layer
from .network import Network, build_network
from .scaled_network import ScaledNetwork, load_model
from . import optimizers

__version__ = "0.1.0"


def __getattr__(name):
    # The estimators need scikit-learn, which `import mlplab` alone does not load.
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import estimator
        return getattr(estimator, name)
    raise AttributeError(f"module 'mlplab' has no attribute {name!r}")

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Diagnosis",
    "DivergenceError",
    "Layer",
    "MLPClassifier",
    "MLPRegressor",
    "Network",
    "OUTPUTS",
    "ScaledNetwork",
    "build_network",
    "cross_entropy_loss",
    "d_cross_entropy_softmax",
    "d_identity",
    "d_l2_loss",
    "d_relu",
    "d_sigmoid",
    "d_tanh",
    "diagnose",
    "gradcheck",
    "optimizers",
    "identity",
    "l2_loss",
    "load_model",
    "relu",
    "sigmoid",
    "smooth_labels",
    "softmax",
    "tanh",
]
