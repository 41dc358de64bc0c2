"""The assignment's experiments as data: one frozen dataclass per kind of study.

An edited copy of a value here is all it takes to add or change a study. A study's `why` says
only why it exists and why its settings were chosen; what its results show is computed from
the run (`findings`). `quick` versions shrink epochs and sweeps for a smoke run (``--quick``).
"""

import dataclasses
from dataclasses import dataclass

from .. import assignment

# The scores of every study: precision, recall and F1 of the positive class (the larger label)
# for a binary study, macro-averaged over the classes for the digits.
METRICS = ("accuracy", "precision", "recall", "f1")


@dataclass(frozen=True)
class Training:
    """How one network is built and trained."""
    hidden: tuple = (16,)          # hidden layer sizes; () is no hidden layer
    activation: str = "sigmoid"    # hidden activation, a key of functions.ACTIVATIONS
    output: str = "softmax"        # "softmax" (cross-entropy, one-hot targets) or "sigmoid" (L2)
    epochs: int = 100
    learning_rate: float = 0.5
    reg_lambda: float = 0.0
    batch_size: int | None = None  # None: full batch, one step per epoch, as the assignment
    standardize: bool = False      # fit a StandardScaler on the training rows (never the test)
    label_smoothing: float = 0.0   # train towards functions.smooth_labels(targets, this)
    reg_convention: str = "mean"   # Network's: the step adds reg_lambda * W ("sum": / batch size)


@dataclass(frozen=True)
class CrossValidation:
    """Assignment Q3: k-fold stratified cross-validation of one binary data set."""
    name: str                      # key in results.json ("linear", "nonlinear")
    title: str
    dataset: str                   # "linear" or "nonlinear" (mlplab.datasets)
    training: Training
    why: str                       # why this architecture and schedule (quoted in the report)
    n_splits: int = 5


@dataclass(frozen=True)
class Sweep:
    """Assignment Q4: vary one training setting on dataset 2, the others held at `base`."""
    name: str                      # key in results.json ("epochs", "learning_rate", ...)
    title: str
    param: str                     # the Training field being varied ("hidden" for structure)
    values: tuple
    base: Training
    why: str = ""                  # why the study is there (quoted in the report)


Q2_5 = Training(hidden=(4,), output="sigmoid", epochs=assignment.Q2_5_EPOCHS,
                learning_rate=assignment.Q2_5_LEARNING_RATE,
                reg_lambda=float(assignment.Q2_5_REG_LAMBDA))

Q3 = (
    CrossValidation(
        name="linear", title="Q3.1 LinearXY", dataset="linear",
        training=Training(hidden=(4,), output="sigmoid", epochs=300, learning_rate=0.5,
                          batch_size=32, standardize=True),
        why=("A small hidden layer, since the data set's name says a line should do; sigmoid "
             "output with L2 loss as in the assignment's Q2.5, inputs standardised on each "
             "training fold, mini-batches of 32 so that 300 epochs take many steps."),
    ),
    CrossValidation(
        name="nonlinear", title="Q3.2 NonLinearXY", dataset="nonlinear",
        training=Training(hidden=(16,), output="sigmoid", epochs=300, learning_rate=4.0,
                          batch_size=32, standardize=True),
        why=("16 sigmoid hidden units, so that the boundary can bend; many large steps "
             "(mini-batches of 32, learning rate 4.0, 300 epochs), because the L2 loss through "
             "a sigmoid output has small gradients."),
    ),
)

Q4_BASE = Training(hidden=(32,), output="softmax", epochs=100, learning_rate=0.5,
                   reg_lambda=1e-4, batch_size=32)

Q4 = (
    Sweep("epochs", "Q4.1 Epochs", "epochs", (1, 3, 10, 30, 100, 300), Q4_BASE),
    Sweep("learning_rate", "Q4.2 Learning rate", "learning_rate",
          (0.001, 0.01, 0.1, 0.5, 2.0, 8.0), Q4_BASE),
    Sweep("reg_lambda", "Q4.3 Regularization", "reg_lambda", (0.0, 1e-4, 1e-3, 1e-2, 1e-1),
          Q4_BASE),
    Sweep("structure", "Q4.4 Network structure", "hidden",
          ((), (8,), (32,), (128,), (64, 32), (128, 64, 32)), Q4_BASE),
    Sweep("label_smoothing", "Q4.5 Label smoothing", "label_smoothing", (0.0, 0.05, 0.1, 0.2),
          Training(hidden=(256,), activation="relu", output="softmax", epochs=400,
                   learning_rate=0.1, reg_lambda=1e-4, batch_size=32),
          why=("Beyond the assignment's four sweeps: a wider ReLU layer trained longer, with "
               "the targets smoothed (1 - s + s/k for the true class and s/k for the others, "
               "for k classes) so that the network stops pushing digits it already gets right "
               "towards certainty. Train and test loss are measured against the smoothed "
               "targets, so they cannot fall below those targets' own entropy: compare a "
               "setting's train and test curves with each other, not across settings.")),
)


def layers_label(sizes):
    """Layer sizes as one label, input to output: (64, 32, 10) -> "64-32-10"."""
    return "-".join(map(str, sizes))


def setting_label(value):
    """A sweep's setting as text: layer sizes joined by '-', numbers in their shortest form."""
    return layers_label(value) if isinstance(value, (list, tuple)) else f"{value:g}"


def setting_labels(sweep):
    """The settings of a sweep's record (`runner.assemble`) as text: for a structure sweep,
    every layer's size, input to output."""
    if sweep["config"]["param"] == "hidden":
        return [layers_label(layers) for layers in sweep["layers"]]
    return [setting_label(value) for value in sweep["values"]]


def setting_name(sweep, i):
    """Setting `i` of a sweep's record in words: "learning_rate = 0.5", "layers 64-32-10"."""
    param = sweep["config"]["param"]
    label = setting_labels(sweep)[i]
    return f"layers {label}" if param == "hidden" else f"{param} = {label}"


def fold1_model(cv_name):
    """The name of the fold-1 network a cross-validation keeps (models/<this>.npz)."""
    return f"q3_{cv_name}_fold1"


def quick(config):
    """A smaller version of a study for a smoke run: fewer epochs, at most 3 sweep values."""
    if isinstance(config, Training):
        return dataclasses.replace(config, epochs=max(1, min(config.epochs, 20)))
    if isinstance(config, CrossValidation):
        return dataclasses.replace(config, training=quick(config.training))
    values = config.values
    if config.param == "epochs":
        values = tuple(v for v in values if v <= 20)[:3]
    elif len(values) > 3:
        values = (values[0], values[len(values) // 2], values[-1])
    return dataclasses.replace(config, values=values, base=quick(config.base))


def to_dict(config):
    """A JSON-ready dict of a config (tuples become lists)."""
    return dataclasses.asdict(config)
