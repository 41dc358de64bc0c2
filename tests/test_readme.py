"""Every code block of the README and of the guides in docs/ works as written.

Python blocks run as they are, each in a fresh interpreter (a block that reads a run's
`mlplab-report/` runs beside one). Shell blocks are the install and test commands (CI runs the
test command), `pip install` lines whose extras must exist, and `mlplab` command lines, which
the real argument parser must accept; the usage block's flags must exist. The README's table of
scikit-learn's names is the one the estimators' errors come from.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mlplab._sklearn_names import markdown_table
from mlplab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDES = {path.name: path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("docs/*.md"))}
BLOCKS = {name: re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)
          for name, text in {"README.md": README, **GUIDES}.items()}
PYTHON = [(name, code) for name, blocks in BLOCKS.items() for language, code in blocks
          if language == "python"]
SHELL = [line.split("#")[0].strip() for blocks in BLOCKS.values()
         for language, code in blocks if language == "sh"
         for line in code.splitlines() if line.split("#")[0].strip()]


def test_the_readme_has_the_blocks_this_test_reads():
    readme_python = [code for name, code in PYTHON if name == "README.md"]
    assert len(readme_python) >= 2 and len(SHELL) >= 3 and len(GUIDES) >= 5


@pytest.mark.parametrize("name, code", PYTHON,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(PYTHON)])
def test_python_blocks_run_as_written(name, code, tmp_path, request):
    # A block that reads a run's mlplab-report/ runs in the folder that holds one.
    folder = request.getfixturevalue("quick_run")[0].parent if "mlplab-report/" in code \
        else tmp_path
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr, result.stderr[-3000:]
    if "GridSearchCV" in code:
        # docs/estimators.md's grid on the assignment's split: cross-validation on the training
        # rows alone must pick a smoothed setting (the grid offers 0 too), and it must score
        # as the guide says.
        smoothing, accuracy = re.search(r"label_smoothing': ([\d.]+)\} ([\d.]+)",
                                        result.stdout).groups()
        assert float(smoothing) > 0 and float(accuracy) >= 0.95, result.stdout


def test_the_readme_maps_scikit_learns_names_by_the_table_the_errors_use():
    start = README.index("| scikit-learn `MLPClassifier`")
    end = README.index("<!-- end of scikit-learn names -->")
    assert README[start:end] == markdown_table(), (
        "the README's table differs from src/mlplab/_sklearn_names.py; paste markdown_table()")


def test_the_guides_link_to_files_that_exist():
    for name, text in {"README.md": README, **GUIDES}.items():
        base = ROOT if name == "README.md" else ROOT / "docs"
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (base / target).exists(), (name, target)


def commands(line):
    """The commands of a shell line (split at &&), each as its words."""
    return [shlex.split(part) for part in line.split("&&")]


def test_shell_blocks_name_real_commands_flags_and_extras():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    parser = build_parser()
    for line in SHELL:
        for words in commands(line):
            program = Path(words[0]).name
            if program == "mlplab":
                parser.parse_args(words[1:])   # exits (fails the test) on an unknown flag
            elif program == "pip" and words[1] == "install":
                for target in words[2:]:
                    if target.startswith("."):
                        wanted = re.findall(r"\[(.*)\]", target)
                        assert not wanted or set(wanted[0].split(",")) <= set(extras), target
            else:
                assert program in ("python", "python3"), line


def test_the_readme_test_command_is_what_ci_runs():
    command = next(line for line in SHELL if "pytest" in line)
    ci = (ROOT / ".ci" / "run").read_text()
    assert command.replace("pip install", "pip install -q").replace(
        "pytest", "pytest -q") in ci


def test_the_usage_blocks_name_every_flag_of_run_and_only_real_ones():
    usages = [code for blocks in BLOCKS.values() for language, code in blocks
              if language == "" and "mlplab run [" in code]
    run = build_parser()._subparsers._group_actions[0].choices["run"]
    known = {flag for action in run._actions for flag in action.option_strings}
    assert len(usages) >= 2   # the README's and docs/run.md's
    for usage in usages:
        line = next(line for line in usage.splitlines() if line.startswith("mlplab run"))
        assert set(re.findall(r"--[a-z-]+", line)) <= known
        assert {flag for flag in known if flag.startswith("--") and flag != "--help"} <= set(
            re.findall(r"--[a-z-]+", line))
