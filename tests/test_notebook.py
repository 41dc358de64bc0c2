"""notebooks/homework2.ipynb runs end to end, headless, in quick mode (MLPLAB_QUICK=1).

Skipped when the notebook tools (nbformat, nbclient, ipykernel) are not installed.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat", reason="running the notebook needs nbformat")
nbclient = pytest.importorskip("nbclient", reason="running the notebook needs nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec",
                                 reason="running the notebook needs ipykernel")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402  (installed with nbclient)

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "homework2.ipynb"


@pytest.fixture
def quick_kernel(tmp_path, monkeypatch):
    """A "python3" kernel spec that runs this interpreter, with the notebook in quick mode."""
    # JUPYTER_PATH is searched before the user's and the system's kernel folders, so the spec
    # installed there (which names sys.executable) is the "python3" that nbclient starts.
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    kernelspec.install(prefix=str(tmp_path), kernel_name="python3")
    argv = KernelSpecManager().get_kernel_spec("python3").argv
    assert argv[0] == sys.executable, argv
    # The kernel inherits this process's environment.
    monkeypatch.setenv("MLPLAB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return "python3"


def output_text(notebook):
    """Everything the code cells printed or displayed as text, concatenated."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.data.get("text/markdown", output.data.get("text/plain", "")))
    return "\n".join(parts)


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def run_notebook(kernel):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name=kernel,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()   # raises CellExecutionError, with the cell and its traceback, on any error
    return output_text(notebook)


def test_notebook_runs_in_quick_mode(quick_kernel, monkeypatch):
    monkeypatch.delenv("MLPLAB_DATA_DIR", raising=False)
    text = run_notebook(quick_kernel)
    assert "quick run" in text and "no conclusions are drawn" in text
    assert "What this shows" not in text
    assert "Built-in stand-in data: not the course's data" in text
    assert "0.8221" in text                         # Q1.1's network output
    assert "Step 6, the hidden pre-activations" in text   # Q1.2's derivation
    assert "delta^(1) = (delta^(2) W^(2)^T) * sigmoid'(z^(1))" in text   # Q1's step, traced
    assert "gradient check" in text and "problem" in text   # the seeded mistake, diagnosed
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert f"{metric} scores:" in text          # Q4's four lists


def test_notebook_reads_the_course_folder_named_by_mlplab_data_dir(quick_kernel, tmp_path,
                                                                   monkeypatch):
    from mlplab import datasets

    folder = tmp_path / ("a-long-personal-folder-" * 4) / "course"   # named nowhere after
    (folder / "dataset1").mkdir(parents=True)
    (folder / "dataset2").mkdir()
    tables = {"dataset1/Linear": datasets.load_linear(seed=7),
              "dataset1/Nonlinear": datasets.load_nonlinear(seed=7)}
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    tables.update({"dataset2/Digit_": (X_train[:300], y_train[:300], X_test, y_test)})
    for prefix, arrays in tables.items():
        names = (["X.csv", "Y.csv"] if len(arrays) == 2
                 else ["X_train.csv", "y_train.csv", "X_test.csv", "y_test.csv"])
        for name, values in zip(names, arrays):
            np.savetxt(folder / f"{prefix}{name}", values, delimiter=",", fmt="%.17g")
    monkeypatch.setenv("MLPLAB_DATA_DIR", str(folder))
    text = run_notebook(quick_kernel)
    assert "Built-in stand-in" not in text
    assert "LinearXY (Q3.1): dataset1/LinearX.csv, " in text
    assert "a-long-personal-folder" not in text and str(tmp_path) not in text
    assert "dataset 2: 300 training and 899 test samples" in text
