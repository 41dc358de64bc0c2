"""A fully connected layer's parameters and their initialisation (assignment Q2.3).

No math beyond initialisation lives here: the forward and backward passes are in `network`.
"""

import numbers

import numpy as np

from ._validation import as_parameter

# init name -> how the weights (and then the biases) are drawn, with the default scale.
INITS = {
    "glorot_uniform": "U(-limit, limit), limit = sqrt(6 / (n_input + n_output))",
    "normal": "N(0, scale^2), scale 1 by default: rng.normal(size=...) as in many course cells",
    "uniform": "U(-scale, scale), scale 1 by default",
}


def draw_parameters(rng, n_input, n_output, bias=True, init="glorot_uniform"):
    """Weights (n_input, n_output) and biases (n_output,) (None without bias), drawn from `rng`.

    `init` is a name of `INITS`, a ``(name, scale)`` pair for "normal" or "uniform", or a
    callable ``(rng, n_input, n_output)`` returning the weights (the biases then start at 0) or
    a ``(weights, biases)`` pair. The named schemes draw the weights first, then the biases
    from the same distribution, as scikit-learn's MLP does for Glorot (Glorot & Bengio, 2010).
    """
    if callable(init):
        drawn = init(rng, n_input, n_output)
        weights, biases = drawn if isinstance(drawn, tuple) else (drawn, np.zeros(n_output))
        what = f"the weights that init {getattr(init, '__name__', init)!r} returned"
        weights = as_parameter(weights, (n_input, n_output), what)
        if not bias:
            return weights, None
        return weights, as_parameter(biases, (n_output,), what.replace("weights", "biases"))
    pair = isinstance(init, (tuple, list)) and len(init) == 2
    name, scale = init if pair else (init, None)
    if not isinstance(name, str) or name not in INITS or (scale is not None and (
            name == "glorot_uniform" or isinstance(scale, bool)
            or not isinstance(scale, numbers.Real) or not 0 < scale < np.inf)):
        raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}, a ('normal' or "
                         f"'uniform', scale > 0) pair or a callable (rng, n_input, n_output), "
                         f"got {init!r}")
    if name == "glorot_uniform":
        scale = np.sqrt(6.0 / (n_input + n_output))
    elif scale is None:
        scale = 1.0
    if name == "normal":
        def draw(size):
            return rng.normal(0.0, scale, size=size)
    else:
        def draw(size):
            return rng.uniform(-scale, scale, size=size)
    weights = draw((n_input, n_output))
    return weights, draw(n_output) if bias else None


class Layer:
    """Weights and biases of one fully connected layer mapping n_input units to n_output units.

    Attributes
    ----------
    weights : ndarray of shape (n_input, n_output)
        ``weights[i, j]`` connects input unit i to output unit j (the assignment's w_ij).
    biases : ndarray of shape (n_output,), or None for a layer without biases
    bias : bool
        Whether the layer has biases (the skeleton's name for the on/off flag). Assigning an
        array to it sets ``biases``; assigning False removes them, True adds zero biases.
    init : str, (str, float) or callable
        How `initialize_weights` draws the parameters (see `draw_parameters`).

    What is assigned to ``weights`` and ``biases`` is checked, and converted where that is
    safe (ints to floats, a bias given as a (1, n) row or (n, 1) column to a vector), by the
    network that next uses the layer; what is assigned to ``bias`` is checked at once. Training
    never writes into an array a layer holds: each step binds new ones.
    """

    def __init__(self, n_input, n_output, bias = True, init = "glorot_uniform"):
        self.n_input = n_input
        self.n_output = n_output
        self.bias = bias
        self.init = init
        self.initialize_weights()

    def initialize_weights(self, rng=None):
        """
        Initializes the weights and biases with small random values.

        Scheme: `init`, by default Glorot/Xavier uniform (Glorot & Bengio, 2010), every
        parameter drawn from U(-limit, limit) with limit = sqrt(6 / (n_input + n_output)), so the
        variance of the activations and of the gradients stays about the same from layer to
        layer; biases are drawn from the same distribution, after the weights. `rng` replaces the
        skeleton's generator (the estimator draws from its random_state this way).
        """
        if rng is None:
            rng = np.random.default_rng(2) # for re-producibility, do not change this
        ##### start of your code #####
        for name in ("n_input", "n_output"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.weights, self.biases = draw_parameters(rng, self.n_input, self.n_output, self.bias,
                                                    self.init)
        ##### end of your code #####

    @property
    def bias(self):
        if "biases" in self.__dict__:
            return self.biases is not None
        return self._bias_before_weights

    @bias.setter
    def bias(self, value):
        if value is None:
            value = False
        if isinstance(value, (bool, np.bool_)):
            if "biases" not in self.__dict__:   # in __init__: the flag initialize_weights reads
                self._bias_before_weights = bool(value)
            elif not value:
                self.biases = None
            elif self.biases is None:
                self.biases = np.zeros(self.n_output, np.asarray(self.weights).dtype)
        elif not hasattr(self, "init"):         # in __init__, where `bias` is the on/off flag
            raise ValueError(f"bias must be True or False when a Layer is made (the skeleton's "
                             f"on/off flag), got {value!r}; assign layer.biases after making "
                             "the layer to set their values")
        else:                                   # an array: the biases themselves
            dtype = getattr(self.weights, "dtype", None)
            self.biases = as_parameter(value, (self.n_output,), f"{self!r}.biases",
                                       dtype if dtype in (np.float32, np.float64) else None)

    def __repr__(self):
        return f"Layer({self.n_input}, {self.n_output}, bias={self.bias})"
