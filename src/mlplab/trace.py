"""One training step, traced: every quantity of the forward and backward pass, layer by layer.

`Network.trace(X, Y, learning_rate, reg_lambda)` computes a `Trace` on the reference path
(`network.py`'s `_forward` and `_backward`), in the assignment's notation (layers l = 1..L,
a^(0) = X), to read beside a hand computation:

    z^(l) = a^(l-1) W^(l) + b^(l)                 a^(l) = f_l(z^(l))
    delta^(L) = dL/da^(L) * f_L'(z^(L))           (softmax with cross-entropy: a^(L) - Y)
    delta^(l) = (delta^(l+1) W^(l+1)^T) * f_l'(z^(l))
    dW^(l) = a^(l-1)^T delta^(l) / N + c W^(l)    db^(l) = sum over samples of delta^(l) / N
    W^(l) <- W^(l) - learning_rate * dW^(l)       b^(l) <- b^(l) - learning_rate * db^(l)

Rows are samples (the assignment's Q1 writes one sample as a column). `to_dict` gives the
values at full precision, `to_markdown` (and a notebook's display) rounded for reading.
"""

import numpy as np

# A trace is for reading: at most this many units in a layer and samples in a batch.
MAX_UNITS, MAX_SAMPLES = 64, 16

class Trace:
    """Every quantity of one plain gradient-descent step (what `Network.fit` computes).

    Attributes: ``X`` (N, n_0) and ``Y`` (N, n_L), ``loss`` (the mean data loss before the
    step), ``penalty`` (J's L2 term, (c / 2) sum ||W||^2), ``learning_rate``, ``reg_lambda``,
    ``l2_coefficient`` (c) and ``layers``: one dict per layer l = 1..L with ``activation``
    (its name), ``W`` (n_in, n_out) and ``b`` (n_out,) or None before the step, ``z``, ``a``
    and ``delta`` (N, n_out), ``dW``, ``db``, and ``W_new``, ``b_new`` after it.
    """

    def __init__(self, network, X, Y, zs, activations, deltas, gradients, learning_rate,
                 reg_lambda, l2_coefficient, loss):
        n_units = max([X.shape[1]] + [layer.weights.shape[1] for layer in network.layers])
        if n_units > MAX_UNITS or len(X) > MAX_SAMPLES:
            raise ValueError(
                f"a trace is for reading: at most {MAX_UNITS} units in a layer and "
                f"{MAX_SAMPLES} samples, got {n_units} units in a layer and {len(X)} "
                f"sample{'s' * (len(X) > 1)}; "
                "Network.gradients(X, Y, reg_lambda) gives the gradients of any size")
        self.X, self.Y = np.array(X), np.array(Y)
        self.loss, self.penalty = float(loss), float(network.penalty(reg_lambda, len(X)))
        self.learning_rate, self.reg_lambda = float(learning_rate), float(reg_lambda)
        self.l2_coefficient = float(l2_coefficient)   # c: reg_lambda, or / N by the convention
        self.fused_output = network.d_activation_list[-1] is None   # softmax + cross-entropy
        self.layers = []
        for layer, f, z, a, delta, (dW, db) in zip(network.layers, network.activation_list, zs,
                                                    activations[1:], deltas, gradients):
            W, b = np.array(layer.weights), None if layer.biases is None else np.array(
                layer.biases)
            self.layers.append({
                "activation": getattr(f, "__name__", repr(f)), "W": W, "b": b, "z": z, "a": a,
                "delta": delta, "dW": dW, "db": db, "W_new": W - learning_rate * dW,
                "b_new": None if b is None else b - learning_rate * db})

    def to_dict(self):
        """The trace as plain Python values (lists of floats, full precision): JSON-ready."""
        def plain(value):
            return None if value is None else np.asarray(value, dtype=float).tolist()

        return {"learning_rate": self.learning_rate, "reg_lambda": self.reg_lambda,
                "l2_coefficient": self.l2_coefficient, "loss": self.loss,
                "penalty": self.penalty, "objective": self.loss + self.penalty,
                "X": plain(self.X), "Y": plain(self.Y),
                "layers": [{"l": l, **{key: value if key == "activation" else plain(value)
                                       for key, value in layer.items()}}
                           for l, layer in enumerate(self.layers, start=1)]}

    def to_markdown(self, precision=4):
        """The trace for reading: each quantity with its formula, its shape and its values
        (rounded to `precision` digits; `to_dict` has them all)."""
        def show(symbol, formula, value):
            values = np.array2string(np.asarray(value), precision=precision, suppress_small=True)
            return (f"- {symbol} = {formula}, shape {np.shape(value)}:\n\n"
                    f"  ```text\n  {values.replace(chr(10), chr(10) + '  ')}\n  ```")

        L, n, c = len(self.layers), len(self.X), self.l2_coefficient
        summary = (f"{n} sample{'s' * (n > 1)}, learning rate {self.learning_rate:g}, reg_lambda "
                   f"{self.reg_lambda:g} (c = {c:g}). The mean loss before the step is "
                   f"{self.loss:.{precision}g}; with the L2 term, J = "
                   f"{self.loss + self.penalty:.{precision}g}.")
        lines = ["## One gradient-descent step, traced", "", summary,
                 "", show("a^(0)", "X", self.X), show("Y", "the target", self.Y),
                 "", "### Forward pass", ""]
        for l, layer in enumerate(self.layers, start=1):
            bias = f" + b^({l})" if layer["b"] is not None else ""
            lines += [show(f"z^({l})", f"a^({l - 1}) W^({l}){bias}", layer["z"]),
                      show(f"a^({l})", f"{layer['activation']}(z^({l}))", layer["a"])]
        lines += ["", "### Backward pass, from the output layer", ""]
        for l in range(L, 0, -1):
            layer, f = self.layers[l - 1], self.layers[l - 1]["activation"]
            if l < L:
                delta = f"(delta^({l + 1}) W^({l + 1})^T) * {f}'(z^({l}))"
            elif self.fused_output:
                delta = f"dL/dz^({L}) = a^({L}) - Y ({f} with cross-entropy)"
            else:
                delta = f"dL/da^({L}) * {f}'(z^({L}))"
            lines += [show(f"delta^({l})", delta, layer["delta"]),
                      show(f"dW^({l})", f"a^({l - 1})^T delta^({l}) / N"
                           + (f" + c W^({l})" if c else ""), layer["dW"])]
            if layer["db"] is not None:
                lines.append(show(f"db^({l})", f"the mean of delta^({l}) over the samples",
                                  layer["db"]))
        lines += ["", f"### The step, learning rate {self.learning_rate:g}", ""]
        for l, layer in enumerate(self.layers, start=1):
            lines.append(show(f"new W^({l})", f"W^({l}) - learning_rate dW^({l})", layer["W_new"]))
            if layer["b_new"] is not None:
                lines.append(show(f"new b^({l})", f"b^({l}) - learning_rate db^({l})",
                                  layer["b_new"]))
        return "\n".join(lines) + "\n"

    _repr_markdown_ = to_markdown

    def __repr__(self):
        sizes = [self.X.shape[1]] + [layer["W"].shape[1] for layer in self.layers]
        return (f"Trace(layers {'-'.join(map(str, sizes))}, {len(self.X)} samples, "
                f"loss {self.loss:.6g})")
