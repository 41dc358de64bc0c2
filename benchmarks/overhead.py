"""W3 (the Q2.5 network, 100 full-batch epochs) in mlplab beside the same NumPy calls written out.

    python benchmarks/overhead.py [--repeats 30]

On a 100 x 2 problem a step is a few dozen NumPy calls of under a microsecond each, so what a
step costs beyond them is Python: the layer loop, the workspace lookups, the checks. The
"written out" contender is the step mlplab takes for this 2-4-1 sigmoid/L2 network, by hand: the
same NumPy calls in the same order into preallocated arrays, with nothing around them (no loop
over layers, no validation, no finiteness fallback, no history). It is the floor for these calls,
not a general network: `Network.train` has to serve any depth, any activation and any batch
size. Both run 100 epochs from the same weights, taking turns (A B A B ...), each turn after an
untimed run; the medians and their ratio are printed, and the final weights of the two are
compared to show they computed the same thing.
"""

import argparse
import math
import time

import numpy as np
from sklearn import datasets
from threadpoolctl import threadpool_info

import mlplab as ml


def q25_data():
    X, y = datasets.load_iris(return_X_y=True)
    X, y = X[:100, :2], y[:100]
    order = np.arange(100)
    np.random.default_rng(2).shuffle(order)   # the assignment's Q2.5 shuffle
    return X[order], y[order].reshape(-1, 1).astype(float)


class WrittenOut:
    """The 2-4-1 sigmoid/L2 step as a flat sequence of NumPy calls (the rows of X are samples).

    Parameters live in two flat buffers that take turns, as in mlplab's engine when nothing
    else refers to the parameters of two steps ago.
    """

    def __init__(self, net, X, Y, learning_rate):
        self.X, self.Y = X, Y
        layers = net.layers
        self.params = [np.concatenate([layers[0].weights.ravel(), layers[0].biases,
                                       layers[1].weights.ravel(), layers[1].biases]),
                       np.empty(17)]
        self.gradient = np.empty(17)
        n = len(X)
        self.Z1, self.A1, self.D1, self.S1 = (np.empty((n, 4)) for _ in range(4))
        self.Z2, self.A2, self.D2, self.S2 = (np.empty((n, 1)) for _ in range(4))
        self.ones, self.one, self.cap = np.ones(n), np.array(1.0), np.array(708.0)
        self.coefficient = np.array(learning_rate / n)

    @staticmethod
    def views(buffer):
        """W1 (2, 4), b1 (4,), W2 (4, 1), b2 (1,)."""
        return buffer[:8].reshape(2, 4), buffer[8:12], buffer[12:16].reshape(4, 1), buffer[16:]

    def step(self, current):
        X, Y, one, cap = self.X, self.Y, self.one, self.cap
        Z1, A1, D1, S1, Z2, A2, D2, S2 = (self.Z1, self.A1, self.D1, self.S1,
                                          self.Z2, self.A2, self.D2, self.S2)
        W1, b1, W2, b2 = self.views(self.params[current])
        gW1, gb1, gW2, gb2 = self.views(self.gradient)
        # forward
        np.dot(X, W1, out=Z1)
        Z1 += b1
        np.minimum(Z1, cap, out=A1)   # sigmoid as e / (1 + e), e = exp(min(z, 708))
        np.exp(A1, out=A1)
        np.add(A1, one, out=Z1)
        np.divide(A1, Z1, out=A1)
        np.dot(A1, W2, out=Z2)
        Z2 += b2
        np.minimum(Z2, cap, out=A2)
        np.exp(A2, out=A2)
        np.add(A2, one, out=Z2)
        np.divide(A2, Z2, out=A2)
        # loss
        np.subtract(Y, A2, out=S2)
        np.multiply(S2, S2, out=S2)
        loss = 0.5 * float(np.add.reduce(S2, axis=None)) / len(X)
        # backward, scaled by learning_rate / N
        np.subtract(A2, Y, out=D2)
        D2 *= self.coefficient
        np.subtract(one, A2, out=S2)
        np.multiply(A2, S2, out=S2)
        D2 *= S2
        np.dot(A1.T, D2, out=gW2)
        np.dot(self.ones, D2, out=gb2)
        np.dot(D2, W2.T, out=D1)
        np.subtract(one, A1, out=S1)
        np.multiply(A1, S1, out=S1)
        D1 *= S1
        np.dot(X.T, D1, out=gW1)
        np.dot(self.ones, D1, out=gb1)
        # update into the other buffer, and its finiteness
        new = self.params[1 - current]
        np.subtract(self.params[current], self.gradient, out=new)
        math.isfinite(np.vdot(new, new))
        return loss

    def train(self, epochs):
        for epoch in range(epochs):
            self.step(epoch % 2)
        return self.views(self.params[epochs % 2])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    for info in threadpool_info():
        print(f"BLAS: {info.get('internal_api')} {info.get('version')}, "
              f"{info.get('num_threads')} threads")
    X, Y = q25_data()
    learning_rate, epochs = 1e-2, 100

    def new_network():
        return ml.Network([ml.Layer(2, 4), ml.Layer(4, 1)], [ml.sigmoid] * 2, [ml.d_sigmoid] * 2,
                          ml.l2_loss, ml.d_l2_loss)

    # Same computation: 100 epochs from the same initial weights give the same weights.
    net, flat = new_network(), WrittenOut(new_network(), X, Y, learning_rate)
    net.train(X, Y, epochs, learning_rate, shuffle=False)
    flat_params = flat.train(epochs)
    difference = max(float(np.max(np.abs(got - want))) for got, want in zip(
        flat_params, (net.layers[0].weights, net.layers[0].biases,
                      net.layers[1].weights, net.layers[1].biases)))
    print(f"after {epochs} epochs, max |written out - mlplab| over the parameters: "
          f"{difference:.1e}")

    net, flat = new_network(), WrittenOut(new_network(), X, Y, learning_rate)
    contenders = {
        "mlplab Network.train": lambda: net.train(X, Y, epochs, learning_rate, shuffle=False),
        "written out": lambda: flat.train(epochs),
    }
    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, run in contenders.items():
            run()   # untimed
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(values)) for name, values in times.items()}
    print(f"W3, {epochs} epochs of 100 x 2 -> 4 -> 1, medians of {args.repeats} interleaved runs:")
    for name, median in medians.items():
        print(f"  {name:22s} {median * 1e3:.3f} ms ({median / epochs * 1e6:.1f} us a step)")
    ratio = medians["mlplab Network.train"] / medians["written out"]
    print(f"  mlplab / written out: {ratio:.2f}x")


if __name__ == "__main__":
    main()
