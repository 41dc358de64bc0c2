"""The Gradescope autograder: ``mlplab check --gradescope-bundle autograder.zip``.

Gradescope builds an image from the zip (Ubuntu; ``setup.sh`` runs once, as root) and, for each
submission, runs ``run_autograder`` with the student's files in ``/autograder/submission``,
taking ``/autograder/results/results.json`` as the grade. The zip holds:

- ``setup.sh``: installs Python 3.10+ and this mlplab, from the source in the zip (``mlplab/``,
  the installed package's own files), into a virtual environment;
- ``run_autograder``: ``mlplab check`` on the submission folder, writing results.json; the
  root ``/autograder`` can be moved with ``MLPLAB_AUTOGRADER_ROOT`` and the Python with
  ``MLPLAB_AUTOGRADER_PYTHON`` (to try the bundle on a laptop);
- ``config.json``: the grader's points, visibility and forbidden modules (``--weights``).
"""

import importlib.metadata
import json
import pathlib
import re
import stat
import zipfile

from .. import __version__

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apt-get update
apt-get install -y python3 python3-venv python3-pip
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "mlplab needs Python 3.10 or newer: choose Gradescope's Ubuntu 22.04 image or newer" >&2
    exit 1
fi
python3 -m venv /autograder/mlplab-venv
/autograder/mlplab-venv/bin/pip install --no-cache-dir "$here/mlplab"
# The students' code runs as the user nobody: mlplab itself, and this folder, out of its reach.
chmod -R go-rwx /autograder/mlplab-venv/lib/python3*/site-packages/mlplab "$here"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: mlplab check on the student's files, results.json.
root="${MLPLAB_AUTOGRADER_ROOT:-/autograder}"
python="${MLPLAB_AUTOGRADER_PYTHON:-$root/mlplab-venv/bin/python}"
mkdir -p "$root/results"
"$python" -m mlplab check "$root/submission" --json "$root/results/results.json" \\
    --weights "$root/source/config.json"
status=$?
# 1 only says that some check failed, if the grade is in results.json
if [ "$status" -le 1 ] && [ -s "$root/results/results.json" ]; then exit 0; fi
echo "mlplab check did not write results.json (exit status $status)" >&2
exit 1
"""

_PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "mlplab"
version = "{version}"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.scripts]
mlplab = "mlplab.cli:main"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
"*" = ["*.md", "*.css", "*.j2"]
"""


def _dependencies():
    """This mlplab's own requirements (not its extras'), as installed."""
    try:
        required = importlib.metadata.requires("mlplab") or []
    except importlib.metadata.PackageNotFoundError:
        required = []
    return [r for r in required if "extra ==" not in r]


def write_bundle(path, settings):
    """Write the zip at `path`; `settings`: the config file's checked JSON (or {})."""
    package = pathlib.Path(__file__).resolve().parent.parent
    executable = stat.S_IFREG | 0o755
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text, mode in (("setup.sh", SETUP, executable),
                                 ("run_autograder", RUN, executable),
                                 ("config.json", json.dumps(settings, indent=2) + "\n",
                                  stat.S_IFREG | 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = mode << 16
            bundle.writestr(info, text)
        bundle.writestr("mlplab/pyproject.toml", _PYPROJECT.format(
            version=__version__, dependencies=json.dumps(_dependencies())))
        for file in sorted(package.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and re.search(
                    r"\.(py|md|css|j2)\Z", file.name):
                bundle.write(file, f"mlplab/src/mlplab/{file.relative_to(package).as_posix()}")
