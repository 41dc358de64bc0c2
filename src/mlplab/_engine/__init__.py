"""The private engine: the training steps of `mlplab.network`, computed fast.

`network.py` is the reference, written to be read; this package computes the same steps into
preallocated buffers, with in-place kernels for the built-in functions and a BLAS thread policy
(`threads`). `Trainer` is all that `network.py` uses of it. tests/test_engine.py proves that
the engine's steps equal the reference's: every registered activation and loss, with and
without biases, several batch sizes, with and without L2, to 1e-12 in float64.
"""

from .trainer import Trainer

__all__ = ["Trainer"]
