"""The package's shape: what `import mlplab` pulls in, and what it never does."""

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
    modules = imported_after("from mlplab.lab import runner, plots, report")
    assert "matplotlib" not in modules


def test_no_neural_network_framework_is_ever_imported():
    modules = imported_after("import mlplab, mlplab.datasets, mlplab.cli; "
                             "from mlplab.lab import runner, plots, report")
    assert not modules & set(FRAMEWORKS)


def test_the_assignments_names_are_exported_at_the_top_level():
    for name in ("Layer", "Network", "sigmoid", "d_sigmoid", "softmax", "l2_loss", "d_l2_loss",
                 "cross_entropy_loss", "d_cross_entropy_softmax"):
        assert name in mlplab.__all__ and callable(getattr(mlplab, name))


def test_import_mlplab_leaves_scikit_learn_until_the_estimator_is_asked_for():
    assert "sklearn" not in imported_after("import mlplab")
    assert "sklearn" in imported_after("from mlplab import MLPClassifier")
