"""One network of the lab: built from a `configs.Training`, trained, and its predictions.

This is what the parallel workers of ``mlplab run --jobs N`` run, so it imports only NumPy and
mlplab's core: a worker then starts in a fraction of a second instead of first loading
scikit-learn (about 1.3 s). Preparing the inputs and targets, and scoring the predictions,
happen in `runner`, in the main process.
"""

from ..build import build_network
from ..errors import DivergenceError


def network_for(training, n_input, n_output):
    """A fresh Network for `training` (a configs.Training) with the given input/output widths."""
    return build_network((n_input, *training.hidden, n_output), training.activation,
                         training.output, reg_convention=training.reg_convention)


def train_network(training, X_train, Y_train, X_test, Y_test, seed, keep_model=False):
    """Train a fresh network on (X_train, Y_train), the test loss recorded every epoch.

    Parameters
    ----------
    training : configs.Training
    X_train : ndarray (n_train, n_features); X_test : ndarray (n_test, n_features)
        Inputs as the network sees them (already standardised if the config asks for it).
    Y_train, Y_test : ndarray (n, n_classes) for a softmax output, (n,) for one sigmoid unit
        Targets as the network is trained on them (one-hot or 0/1, smoothed if asked).
    seed : int
        Seeds the shuffling of the mini-batches.

    Returns
    -------
    dict
        ``loss`` and ``test_loss`` (per epoch), ``diverged_at`` (the epoch where training
        stopped on a non-finite step, else None), ``train_prediction`` and
        ``test_prediction`` (class indices: the output unit above 0.5, or the largest one),
        and with `keep_model` the trained ``weights`` and ``biases`` as lists.
    """
    n_output = 1 if Y_train.ndim == 1 else Y_train.shape[1]
    net = network_for(training, X_train.shape[1], n_output)
    diverged_at = None
    try:
        history = net.train(X_train, Y_train, epochs=training.epochs,
                            learning_rate=training.learning_rate,
                            reg_lambda=training.reg_lambda, batch_size=training.batch_size,
                            seed=seed, validation_data=(X_test, Y_test))
    except DivergenceError as exc:
        # Scored with the last finite weights, and the report says where it stopped.
        diverged_at, history = exc.epoch, exc.history
    output = {"loss": history["loss"].tolist(), "test_loss": history["val_loss"].tolist(),
              "diverged_at": diverged_at, "train_prediction": net.predict(X_train).tolist(),
              "test_prediction": net.predict(X_test).tolist()}
    if keep_model:
        output["weights"] = [layer.weights.tolist() for layer in net.layers]
        output["biases"] = [layer.biases.tolist() for layer in net.layers]
    return output
