"""The package's shape: what `import mlplab` pulls in, and what it never does."""

import pathlib
import re
import subprocess
import sys

import mlplab

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras")


def imported_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return {name.split(".")[0] for name in result.stdout.split()}


def test_import_mlplab_does_not_import_plotting_or_the_lab():
    modules = imported_after("import mlplab")
    assert "matplotlib" not in modules


def test_the_lab_loads_matplotlib_only_to_draw():
    # `mlplab run --jobs N` draws figures and formulas in its workers: its main process, which
    # imports these modules at start-up, must not pay for matplotlib (about 0.6 s).
    modules = imported_after("from mlplab.lab import runner, figures, report")
    assert "matplotlib" not in modules


def test_no_neural_network_framework_is_ever_imported():
    modules = imported_after("import mlplab, mlplab.datasets, mlplab.cli; "
                             "from mlplab.lab import runner, figures, report")
    assert not modules & set(FRAMEWORKS)


def test_the_assignments_names_are_exported_at_the_top_level():
    for name in ("Layer", "Network", "sigmoid", "d_sigmoid", "softmax", "l2_loss", "d_l2_loss",
                 "cross_entropy_loss", "d_cross_entropy_softmax"):
        assert name in mlplab.__all__ and callable(getattr(mlplab, name))


def test_import_mlplab_leaves_scikit_learn_until_the_estimator_is_asked_for():
    assert "sklearn" not in imported_after("import mlplab")
    assert "sklearn" in imported_after("from mlplab import MLPClassifier")


SOURCE = pathlib.Path(mlplab.__file__).parent


def test_network_py_is_a_textbook_page():
    # The reference students read: under 440 lines, plain NumPy, no engine internals (buffers,
    # kernels, BLAS threads, floating-point state); only the engine's entry point.
    text = (SOURCE / "network.py").read_text()
    assert len(text.splitlines()) < 440
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import contextlib", "import functools", "import math",
                       "import numpy as np", "from . import _engine",
                       "from ._model_file import load_network, save_network",
                       "from ._progress import Progress",
                       "from ._validation import (all_finite, check_inputs, check_network, "
                       "check_number,", "from .errors import DivergenceError, step_failure",
                       "from .functions import ACTIVATIONS, HIDDEN_ACTIVATIONS, LOSSES, OUTPUTS",
                       "from .layer import Layer",
                       "from .optimizers import LBFGS, SGD, check_choice",
                       "from .trace import Trace"]
    assert set(re.findall(r"\b_engine\.(\w+)", text)) == {"Trainer"}
    for word in ("threadpool", "errstate", "kernels", "Workspace", "out="):
        assert word not in text, word


def test_nothing_outside_the_core_uses_a_private_name_of_network_py():
    # The lab, the estimator, gradcheck and the rest go through Network's public API.
    network_private = {name for name in vars(mlplab.Network) if name.startswith("_")
                       and not name.startswith("__")}
    core = {SOURCE / "network.py", *(SOURCE / "_engine").glob("*.py")}
    for path in sorted(SOURCE.rglob("*.py")):
        if path in core:
            continue
        text = path.read_text()
        used = {name for name in network_private if re.search(rf"\.{name}\b", text)
                and f"def {name}(" not in text}   # not a method of the module's own
        assert not used, f"{path.relative_to(SOURCE)} uses {sorted(used)}"
        assert not re.search(r"from \.+network import .*\b_", text), path
