"""A fully connected layer's parameters and their initialisation (assignment Q2.3).

No math beyond initialisation lives here: the forward and backward passes are in `network`.
"""

import numpy as np


def glorot_uniform(rng, n_input, n_output, bias=True):
    """Glorot-uniform weights (n_input, n_output) and biases (n_output,) (None without bias).

    Every value is drawn from U(-limit, limit), limit = sqrt(6 / (n_input + n_output))
    (Glorot & Bengio, 2010), the weights first, then the biases, from the generator `rng`.
    """
    limit = np.sqrt(6.0 / (n_input + n_output))
    weights = rng.uniform(-limit, limit, size=(n_input, n_output))
    biases = rng.uniform(-limit, limit, size=n_output) if bias else None
    return weights, biases


class Layer:
    """Weights and biases of one fully connected layer mapping n_input units to n_output units.

    Attributes
    ----------
    weights : ndarray of shape (n_input, n_output)
        ``weights[i, j]`` connects input unit i to output unit j (the assignment's w_ij).
    biases : ndarray of shape (n_output,), or None when ``bias=False``
    bias : bool
        Whether the layer has biases (the skeleton's name for the on/off flag).
    """

    def __init__(self, n_input, n_output, bias = True):
        self.n_input = n_input
        self.n_output = n_output
        self.bias = bias
        self.initialize_weights()

    def initialize_weights(self):
        """
        Initializes the weights and biases with small random values.

        Scheme: Glorot/Xavier uniform (Glorot & Bengio, 2010), every parameter drawn from
        U(-limit, limit) with limit = sqrt(6 / (n_input + n_output)), so the variance of the
        activations and of the gradients stays about the same from layer to layer. Biases are
        drawn from the same distribution, after the weights, as scikit-learn's MLP does.
        """
        rng = np.random.default_rng(2) # for re-producibility, do not change this
        ##### start of your code #####
        for name in ("n_input", "n_output"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.weights, self.biases = glorot_uniform(rng, self.n_input, self.n_output, self.bias)
        ##### end of your code #####

    def __repr__(self):
        return f"Layer({self.n_input}, {self.n_output}, bias={self.bias})"
