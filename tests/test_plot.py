"""mlplab.plot's LiveLoss: the loss drawn (in a notebook) or printed as training runs."""

import io

import numpy as np
import pytest

from mlplab import plot
from conftest import data_for, make_network


@pytest.fixture
def training(rng):
    net = make_network((3, 4, 2))
    X, Y = data_for(net, rng, n_samples=12)
    return net, X, Y


def test_outside_a_notebook_a_line_every_few_epochs_and_at_the_last(training):
    net, X, Y = training
    stream = io.StringIO()
    live = plot.LiveLoss(every=3, stream=stream)
    assert not live.notebook   # pytest is no notebook's kernel
    history = net.train(X, Y, epochs=7, learning_rate=0.5, validation_data=(X, Y),
                        callback=live)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 3", "epoch 6", "epoch 7"]
    assert lines[-1] == (f"epoch 7: loss {history['loss'][-1]:.4g}, "
                         f"val_loss {history['val_loss'][-1]:.4g}")


def test_in_a_notebook_one_figure_shown_then_updated_in_place(training, monkeypatch):
    pytest.importorskip("IPython")
    import IPython.display

    shown = []

    class Handle:
        def update(self, figure):
            shown.append(("update", figure))

    def display(figure, display_id=None):
        assert display_id is True
        shown.append(("display", figure))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    net, X, Y = training
    live = plot.LiveLoss(every=2, notebook=True)
    history = net.train(X, Y, epochs=5, learning_rate=0.5, callback=live)
    assert [kind for kind, _ in shown] == ["display", "update", "update"]   # epochs 2, 4, 5
    assert shown[-1][1] is live.figure
    line, = live.figure.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), history["loss"])   # every epoch, no more


@pytest.mark.parametrize("every", [0, 1.5, True, "2"])
def test_every_must_be_a_whole_number(every):
    with pytest.raises(ValueError, match="every must be a whole number"):
        plot.LiveLoss(every=every)
