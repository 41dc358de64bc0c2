"""A run's model files as what predicts on raw inputs: `load_model` and `ScaledNetwork`.

`mlplab run` trains each fold-1 network of Q3 on its fold's standardised inputs and keeps that
scaler in the model file's header (``input_mean``, ``input_scale``); `load_model` puts the two
back together (docs/model-files.md).
"""

import numpy as np

from ._model_file import InvalidModelFile, load_network, reading
from ._validation import all_finite
from .network import Network


def load_model(path):
    """A model file as what predicts on raw inputs: a `ScaledNetwork` for a file whose header
    holds an input scaler (``input_mean`` and ``input_scale``: the lab's fold-1 models), the
    Network for any other."""
    network, extra, _ = load_network(path, Network)
    if extra.get("input_mean") is None and extra.get("input_scale") is None:
        return network
    with reading(path):
        try:
            mean, scale = (np.array(extra.get(key), dtype=np.float64)
                           for key in ("input_mean", "input_scale"))
        except (TypeError, ValueError):
            raise InvalidModelFile("a malformed input scaler") from None
        if (mean.shape != (network.n_input,) or scale.shape != mean.shape
                or not all_finite(mean) or not all_finite(scale) or np.any(scale <= 0)):
            raise InvalidModelFile(f"the input scaler does not fit the network's "
                                   f"{network.n_input} inputs")
    return ScaledNetwork(network, mean, scale)


class ScaledNetwork:
    """A network behind the input scaler it was trained with (the mean and scale of its
    training rows, as scikit-learn's StandardScaler keeps them): `predict` and `forward` take
    raw inputs; `transform` is the scaling; `network` the Network itself."""

    def __init__(self, network, mean, scale):
        self.network, self.mean, self.scale = network, mean, scale

    def transform(self, X):
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def predict(self, X, threshold=None):
        return self.network.predict(self.transform(X), threshold)

    def forward(self, X):
        return self.network.forward(self.transform(X))
