"""Networks from names: ``build_network([64, 32, 10], "relu", "softmax")``.

The one way the estimator, the lab and the tests make a network from a configuration: layer
sizes, the hidden activation by name (`functions.ACTIVATIONS`) and the output by name
(`functions.OUTPUTS`, which pairs each output activation with its loss).
"""

from .functions import ACTIVATIONS, HIDDEN_ACTIVATIONS, LOSSES, OUTPUTS
from .layer import Layer
from .network import Network


def build_network(layer_sizes, activation="sigmoid", output="softmax", *, bias=True,
                  init="glorot_uniform", rng=None, **options):
    """A `Network` of fully connected layers with named functions.

    Parameters
    ----------
    layer_sizes : sequence of int, [n_input, n_hidden..., n_output]
    activation : str, (f, d_f) pair of callables, or a list of these, one per hidden layer
        The hidden layers' activation: a name of `ACTIVATIONS` or a pair whose derivative takes
        the pre-activation z.
    output : str
        A name of `OUTPUTS`: the output activation and the loss it is trained with.
    bias, init
        As in `Layer`.
    rng : numpy.random.Generator or None
        None: every layer draws from the skeleton's ``default_rng(2)``. A generator: the layers
        draw from it in turn, each its weights then its biases.
    options
        ``reg_convention``, ``engine``: as in `Network`.
    """
    sizes = list(layer_sizes)
    n_hidden = len(sizes) - 2
    per_layer = isinstance(activation, (list, tuple)) and not _is_pair(activation)
    hidden = list(activation) if per_layer else [activation] * max(n_hidden, 0)
    if n_hidden < 0 or len(hidden) != n_hidden:
        raise ValueError(f"layer_sizes {sizes} and activation {activation!r} do not agree: give "
                         "[n_input, n_hidden..., n_output] and one activation per hidden layer "
                         "(or one for all)")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(map(repr, OUTPUTS))}, got {output!r}")
    output_activation, loss = OUTPUTS[output]
    pairs = [_hidden_pair(a) for a in hidden] + [ACTIVATIONS[output_activation]]
    layers = [Layer(n_in, n_out, bias, init) for n_in, n_out in zip(sizes, sizes[1:])]
    if rng is not None:
        for layer in layers:
            layer.initialize_weights(rng)
    return Network(layers, [f for f, _ in pairs], [d_f for _, d_f in pairs], *LOSSES[loss],
                   **options)


def _is_pair(activation):
    return len(activation) == 2 and all(callable(f) for f in activation)


def _hidden_pair(activation):
    """The (f, d_f) of a hidden layer's activation: a registry name or a pair of callables."""
    if isinstance(activation, str) and ACTIVATIONS.get(activation, (None, None))[1] is not None:
        return ACTIVATIONS[activation]
    if isinstance(activation, (list, tuple)) and _is_pair(activation):
        return tuple(activation)
    raise ValueError("a hidden activation must be one of "
                     f"{', '.join(map(repr, HIDDEN_ACTIVATIONS))} or a "
                     f"(function, derivative) pair of callables, got {activation!r}")
