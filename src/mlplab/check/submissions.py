"""Finding the homework to check: one file, one student's folder, or a class.

A class is what the command line is given: each .py or .ipynb file is one submission, and each
folder one student's (Gradescope's export of a class is a folder per submission). In a student's
folder the homework is the file that defines the most of the homework's names (a notebook wins a
tie); its other modules stay importable. Files are read as the checker's own input: regular files
only, at most `MAX_SOURCE_BYTES`, UTF-8 (a byte-order mark allowed).
"""

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..assignment import NAMES

MAX_SOURCE_BYTES = 8 * 2**20
SUFFIXES = (".py", ".ipynb")
_SKIPPED_FOLDERS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX"}
_DEFINES = re.compile(rf"^\s*(?:def|class)\s+({'|'.join(NAMES)})\b", re.MULTILINE)


class SubmissionError(ValueError):
    """A submission that cannot be checked: the reason, in one line."""


@dataclass(frozen=True)
class Submission:
    name: str        # as shown and as the name of its results file
    path: Path       # the homework file
    folder: Path     # importable beside it (its own modules)
    note: str = ""   # which file of a folder was chosen


def read_source(path):
    """(text, kind) of a homework file: kind "py" or "ipynb"; SubmissionError if it cannot be
    read as such (too large, not UTF-8, not a regular file)."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise SubmissionError("not a .py module or .ipynb notebook")
    try:   # opened without waiting (a pipe), then judged by what was opened
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SubmissionError("not a regular file")
            data = os.read(fd, MAX_SOURCE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SubmissionError(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SubmissionError(f"larger than {MAX_SOURCE_BYTES // 2**20} MiB")
    if b"\0" in data:
        raise SubmissionError("a binary file, not text")
    try:
        return data.decode("utf-8-sig"), path.suffix[1:]
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"not UTF-8 text (byte {exc.start})") from None


def find_homework(folder):
    """The homework file of a student's folder, and a note on the choice ('' if only one)."""
    candidates = []
    for root, folders, files in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        folders[:] = sorted(f for f in folders if f not in _SKIPPED_FOLDERS
                            and not f.startswith(".") and depth < 2)
        candidates += [Path(root) / f for f in sorted(files)
                       if f.endswith(SUFFIXES) and not f.startswith(".")]
    if not candidates:
        raise SubmissionError("holds no .py or .ipynb file")
    def defines(path):
        try:
            return len(set(_DEFINES.findall(read_source(path)[0])))
        except SubmissionError:
            return 0

    best = min(candidates, key=lambda path: (-defines(path), path.suffix != ".ipynb", str(path)))
    if len(candidates) == 1:
        return best, ""
    return best, (f"checked {best.relative_to(folder)}, the file that defines the most of the "
                  f"homework's names, of {len(candidates)}")


def one_submission(path):
    """The submission a single file or a single student's folder is."""
    path = Path(path)
    if path.is_dir():
        homework, note = find_homework(path)
        return Submission(path.name or str(path), homework, homework.parent, note)
    if not path.exists():
        raise SubmissionError("no such file or folder")
    read_source(path)   # refused here, before any process starts, if it cannot be read
    return Submission(path.name, path, path.parent)


def class_submissions(paths):
    """(submissions, skipped): every submission in `paths` (files, and folders of files and
    student folders), named uniquely; `skipped` lists the files that are not homework."""
    found, skipped = [], []
    for path in map(Path, paths):
        if not path.exists():
            raise SubmissionError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix not in SUFFIXES:
                raise SubmissionError(f"{path}: not a .py module or .ipynb notebook")
            found.append(Submission(path.name, path, path.parent))
            continue
        entries = sorted(p for p in path.iterdir() if not p.name.startswith(".")
                         and p.name not in _SKIPPED_FOLDERS)
        for entry in entries:
            if entry.is_dir():
                try:
                    homework, note = find_homework(entry)
                except SubmissionError:
                    skipped.append(f"{entry.name}/")
                    continue
                found.append(Submission(entry.name, homework, homework.parent, note))
            elif entry.suffix in SUFFIXES:
                found.append(Submission(entry.name, entry, entry.parent))
            else:
                skipped.append(entry.name)
    if not found:
        raise SubmissionError(f"{', '.join(map(str, paths))}: no .py or .ipynb homework found")
    return _unique(found), skipped


def _unique(submissions):
    """The submissions with names that are safe file names and unique."""
    seen, unique = set(), []
    for submission in submissions:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", submission.name).strip("._") or "submission"
        name, number = base, 1
        while name.lower() in seen:
            number += 1
            name = f"{base}-{number}"
        seen.add(name.lower())
        unique.append(Submission(name, submission.path, submission.folder, submission.note))
    return unique
