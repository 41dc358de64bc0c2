"""Every code block of the README works as written.

Python blocks run as they are, each in a fresh interpreter. Shell blocks are the install and test
commands (CI runs the test command), `pip install` lines whose extras must exist, and `mlplab`
command lines, which the real argument parser must accept; the usage block's flags must exist.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mlplab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, re.M | re.S)
PYTHON = [code for language, code in BLOCKS if language == "python"]
SHELL = [line.split("#")[0].strip() for language, code in BLOCKS if language == "sh"
         for line in code.splitlines() if line.split("#")[0].strip()]


def test_the_readme_has_the_blocks_this_test_reads():
    assert len(PYTHON) >= 2 and len(SHELL) >= 3


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_blocks_run_as_written(code, tmp_path):
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]


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


def test_the_usage_block_names_only_real_flags():
    usage = next(code for language, code in BLOCKS if language == "" and "mlplab run [" in code)
    run = build_parser()._subparsers._group_actions[0].choices["run"]
    known = {flag for action in run._actions for flag in action.option_strings}
    line = next(line for line in usage.splitlines() if line.startswith("mlplab run"))
    assert set(re.findall(r"--[a-z-]+", line)) <= known
    assert {flag for flag in known if flag.startswith("--") and flag != "--help"} <= set(
        re.findall(r"--[a-z-]+", line))
