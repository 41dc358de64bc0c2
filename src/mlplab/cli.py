"""The ``mlplab`` command line (also ``python -m mlplab``)."""

import argparse
import sys

import numpy as np


def _demo(args):
    """Train the assignment's Q2.5 network on iris and print its falling loss."""
    from sklearn import datasets

    from . import Layer, Network, d_sigmoid, l2_loss, d_l2_loss, sigmoid

    X, Y = datasets.load_iris(return_X_y=True)
    X, Y = X[:100, :2], Y[:100]
    indices = np.arange(100)
    np.random.default_rng(2).shuffle(indices)
    X, Y = X[indices], Y[indices]
    model = Network([Layer(2, 4), Layer(4, 1)], [sigmoid, sigmoid], [d_sigmoid, d_sigmoid],
                    l2_loss, d_l2_loss)
    losses = model.train(X, Y, epochs=args.epochs, learning_rate=1e-2)["loss"]
    print(f"Q2.5: 2-4-1 sigmoid network, L2 loss, iris (100 rows, 2 features), lr 0.01")
    step = max(1, len(losses) // 10)
    for epoch in list(range(0, len(losses), step)) + [len(losses) - 1]:
        print(f"  epoch {epoch + 1:4d}  loss {losses[epoch]:.6f}")
    falling = bool(np.all(np.diff(losses) < 0))
    accuracy = float(np.mean(model.predict(X) == Y))
    print(f"loss strictly decreasing: {falling}; training accuracy {accuracy:.3f}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mlplab",
        description="The CS640 Homework 2 neural network, from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="train the assignment's Q2.5 network and print its loss")
    demo.add_argument("--epochs", type=int, default=100, help="number of epochs (default 100)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, OSError) as exc:
        print(f"mlplab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mlplab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
