"""What the assignment gives: the skeleton's names, the Q1 network's weights, the Q2.5 data.

The lab (reference answers) and the checker (`mlplab check`) both read these, and nothing else
of each other.
"""

import functools
import importlib.util
from pathlib import Path

import numpy as np

# The names a homework defines (Q2.2's functions, Q2.3's Layer, Q2.4's Network).
FUNCTIONS = ("sigmoid", "d_sigmoid", "softmax", "l2_loss", "d_l2_loss", "cross_entropy_loss",
             "d_cross_entropy_softmax")
NAMES = (*FUNCTIONS, "Layer", "Network")

# Q1's 2-3-1 network, as the assignment gives it: weights[i][j] joins unit i to unit j.
Q1 = {"W1": [[0.4, 0.6, 0.2], [0.3, 0.9, 0.5]], "b1": [1.0, 1.0, 1.0],
      "W2": [[0.2], [0.2], [0.8]], "b2": [0.5], "input": [1.0, 1.0],
      "y_true": 1.0}   # Q1.2 gives no target; this one is used for its numeric check

# Q2.5's training settings, as the skeleton's cell sets them.
Q2_5_EPOCHS, Q2_5_LEARNING_RATE, Q2_5_REG_LAMBDA = 100, 1e-2, 0


@functools.cache
def load_q25():
    """Return the assignment's Q2.5 data: iris, first 100 rows, first 2 features, shuffled.

    Built exactly as the assignment's snippet builds it (``default_rng(2)`` shuffling a list
    of indices), so results match the handout.

    Returns
    -------
    X : ndarray of shape (100, 2), float64
        Sepal length and sepal width, in cm.
    y : ndarray of shape (100,), int64
        0 (setosa) or 1 (versicolor), 50 of each.
    """
    X, Y = _iris()
    X, Y = X[:100, :2], Y[:100]
    rng = np.random.default_rng(2)
    indices = [i for i in range(100)]
    rng.shuffle(indices)
    X, Y = X[indices], Y[indices]
    X, Y = X.astype(np.float64), Y.astype(np.int64)
    X.flags.writeable = Y.flags.writeable = False   # one copy for every caller: read-only
    return X, Y


def _iris():
    """Iris as scikit-learn's `load_iris` returns it: X (150, 4) float64, y (150,) int64.

    Read from the CSV file scikit-learn bundles, found without importing scikit-learn: its
    import takes about a second that `mlplab check` would add to every homework's check.
    """
    path = Path(importlib.util.find_spec("sklearn").origin).parent / "datasets/data/iris.csv"
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError):
        table = None
    if table is None or table.shape != (150, 5):   # a scikit-learn that bundles it otherwise
        from sklearn.datasets import load_iris
        return load_iris(return_X_y=True)
    return table[:, :4], table[:, 4].astype(np.int64)
