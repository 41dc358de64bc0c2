"""notebooks/homework2.ipynb runs end to end, headless, in quick mode (MLPLAB_QUICK=1).

Skipped when the notebook tools (nbformat, nbclient, ipykernel) are not installed.
"""

import sys
from pathlib import Path

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
                parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_notebook_runs_in_quick_mode(quick_kernel):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name=quick_kernel,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()   # raises CellExecutionError, with the cell and its traceback, on any error

    text = output_text(notebook)
    assert "quick run" in text
    assert "0.8221" in text                         # Q1.1's network output
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert f"{metric} scores:" in text          # Q4's four lists
