"""The output folder of ``mlplab run`` (and of ``mlplab check --out``): what a run may replace
there, and the switch to a new report.

A run lists what it wrote, with each file's SHA-256, in a manifest (`MANIFEST`) in the folder.
A later run into the same folder replaces or removes only files that the manifest lists, that
have a name a report's file can have (`REPORT_FILES`, or the caller's), and that are unchanged
since; everything else in the folder stays as it is. Before anything is trained,
`ReportFolder` refuses a folder that is not empty and has no genuine manifest, or that holds
anything in the way (something at a path the new report will write that is not such a file),
naming them; with ``force`` those are moved aside into a subfolder instead. It also makes the
staging folder, inside the report folder (so on its file system, whatever `--out` is), where
the new report is built.

`ReportFolder.switch` then moves the report in: the earlier run's files into a backup folder,
the new ones in their place, the manifest last; if any step fails, every step done is undone.
The caller holds back Ctrl-C and termination signals while it runs (`cli`), so that an
interrupt never leaves a mixture of old and new files.
"""

import hashlib
import json
import os
import pathlib
import re
import shutil
import stat
import tempfile
import time

from ._files import display_path, read_regular_file

MANIFEST = ".mlplab-run.json"
_FORMAT = "mlplab-run"
JOURNAL = ".mlplab-switch.json"   # only while a switch runs, or after a hard kill during one
_JOURNAL_FORMAT = "mlplab-switch"
_MAX_MANIFEST_BYTES = 2**20
# The names a report's file can have: all that a manifest may make "ours" (by default, those of
# `mlplab run`; `mlplab check` gives its own).
REPORT_FILES = re.compile(
    r"(results\.json|report\.(md|html|pdf)|figures/[^/]+\.png|models/[^/]+\.npz)\Z")
# The run's own working folders inside the report folder, never anyone else's files.
_WORKING = (".mlplab-staging-", ".mlplab-old-")


class ReportFolder:
    """The output folder `out` of a run that will write the files `planned` (paths relative to
    `out`, with '/'), checked before the run; see the module's docstring."""

    def __init__(self, out, planned, force=False, ours=REPORT_FILES, stage=True):
        self.out, self.force, self.ours_pattern = pathlib.Path(out), force, ours
        self.planned = set(planned) | {MANIFEST}
        self.subfolders = sorted({path.split("/")[0] for path in self.planned if "/" in path})
        self.shown = display_path(self.out)
        self.created = []   # folders made for the report's sake, removed again if it fails
        self.staging = None
        self._check_place()
        self.completed = self.out.is_dir() and complete_interrupted_switch(self.out)
        self._survey()
        if (self.foreign or self.in_the_way) and not force:
            raise ValueError(self._refusal())
        if stage:   # else the caller calls make_staging when it is ready to write
            self.make_staging()

    # ----- before the run ---------------------------------------------------------------------

    def _check_place(self):
        if os.path.islink(self.out) and not self.out.exists():
            raise ValueError(f"--out {self.shown}: a symbolic link to "
                             f"{display_path(os.readlink(self.out))}, which does not exist")
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.shown}: exists and is not a folder")
        for folder in self.out.parents:
            if folder.exists():
                if not folder.is_dir():
                    raise ValueError(f"--out {self.shown}: {display_path(folder)} is a file, "
                                     "not a folder")
                break

    def _survey(self):
        """Sets `ours`, the manifest's report files that are unchanged ({path: sha256}),
        `in_the_way`, what is at a planned path (or at a subfolder) and is not ours, and
        `foreign`, the files of a folder that is not empty and has no genuine manifest."""
        self.ours, self.in_the_way, self.foreign = {}, [], []
        self.manifest_is_ours = False
        if not self.out.is_dir():
            return
        listed = _read_manifest(self.out / MANIFEST)
        present = _files(self.out)
        self.ours = {path: digest for path, digest in (listed or {}).items()
                     if self.ours_pattern.match(path) and path in present
                     and _regular_sha256(self.out / path) == digest}
        self.manifest_is_ours = listed is not None
        if listed is None:
            self.foreign = sorted(present)
        self.in_the_way = sorted(path for path in self.planned - set(self.ours)
                                 if os.path.lexists(self.out / path)
                                 and (path != MANIFEST or listed is None))
        for name in self.subfolders:   # the new files would land in someone's file or link
            subfolder = self.out / name
            if os.path.lexists(subfolder) and (subfolder.is_symlink() or not subfolder.is_dir()):
                self.in_the_way.append(name)

    def _refusal(self):
        names = self.in_the_way or self.foreign
        shown = ", ".join(display_path(name) for name in names[:6])
        if len(names) > 6:
            shown += f" and {len(names) - 6} more"
        if self.foreign:
            why = "files but no record of an earlier mlplab run"
        else:
            why = "files the new report would replace that mlplab did not write, or that " \
                  "changed since it did"
        return (f"--out {self.shown}: holds {why}: {shown}. Nothing was written. Choose a new "
                "or empty folder, or add --force: it keeps every file and moves those the "
                "report would replace into a subfolder mlplab-set-aside-...")

    def make_staging(self):
        missing = [folder for folder in (self.out, *self.out.parents) if not folder.exists()]
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self.created.append(folder)
            self.staging = pathlib.Path(tempfile.mkdtemp(prefix=_WORKING[0], dir=self.out))
        except OSError as exc:
            self.discard()
            raise ValueError(f"--out {self.shown}: cannot write there "
                             f"({exc.strerror or exc})") from None

    # ----- after the run ----------------------------------------------------------------------

    def switch(self, force=None):
        """Move the report built in `staging` into the folder, replacing only what is ours;
        returns the folder things in the way were moved aside into, or None.

        Checks again first, since files may have changed during the run; raises ValueError, with
        nothing changed, if something is now in the way (unless `force`, by default the
        folder's). Any failure midway undoes every step. The caller holds back interrupts.
        """
        force = self.force if force is None else force
        written = sorted(_files(self.staging))
        unplanned = set(written) - self.planned
        if unplanned:
            raise RuntimeError(f"the run wrote files it did not plan: {sorted(unplanned)}")
        (self.staging / MANIFEST).write_text(json.dumps(
            {"format": _FORMAT, "version": 1,
             "files": {path: _regular_sha256(self.staging / path) for path in written}},
            indent=1), encoding="utf-8")
        self._survey()
        if (self.foreign or self.in_the_way) and not force:
            raise ValueError(self._refusal() + " (they changed during the run)")
        done = []   # (from, to) of every rename made, to be undone in reverse if a step fails
        backup = pathlib.Path(tempfile.mkdtemp(prefix=_WORKING[1], dir=self.out))
        aside = None
        old = sorted(self.ours) + ([MANIFEST] if self.manifest_is_ours else [])
        if self.in_the_way:
            aside = _new_folder(self.out, time.strftime("mlplab-set-aside-%Y%m%d-%H%M%S"))
        moves = ([(self.out / p, aside / p) for p in self.in_the_way]
                 + [(self.out / p, backup / p) for p in old]
                 + [(self.staging / p, self.out / p) for p in [*written, MANIFEST]])
        # A hard kill midway leaves this record, and the next run completes the moves.
        _write_journal(self.out, moves, [backup, self.staging])
        try:
            for source, target in moves:
                _move(source, target, done)
        except BaseException:
            for source, target in reversed(done):
                os.rename(target, source)
            if aside is not None and not _files(aside):
                shutil.rmtree(aside, ignore_errors=True)
            os.unlink(self.out / JOURNAL)
            raise
        finally:
            shutil.rmtree(backup, ignore_errors=True)
        os.unlink(self.out / JOURNAL)
        self.created.clear()
        self.discard()
        return aside

    def discard(self):
        """Remove the staging folder and any folder made for the report (when the run failed)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                pass
        self.created.clear()


def _write_journal(out, moves, remove):
    """Record the switch's renames, in order, and the folders to remove after them."""
    relative = lambda path: path.relative_to(out).as_posix()   # noqa: E731
    record = {"format": _JOURNAL_FORMAT,
              "moves": [[relative(source), relative(target)] for source, target in moves],
              "remove": [relative(folder) for folder in remove]}
    staged = out / (JOURNAL + ".new")
    staged.write_text(json.dumps(record), encoding="utf-8")
    os.replace(staged, out / JOURNAL)


def complete_interrupted_switch(out):
    """Finish the switch a hard kill interrupted in `out` (its journal says what is left: the
    renames not yet made, then the folders to remove); True if there was one. A journal that
    is not one of ours is refused with a ValueError."""
    journal = pathlib.Path(out) / JOURNAL
    if not os.path.lexists(journal):
        return False
    try:
        record = json.loads(read_regular_file(journal, _MAX_MANIFEST_BYTES, follow_links=False))
        if record.get("format") != _JOURNAL_FORMAT:
            raise ValueError
        moves = [(_inside(out, source), _inside(out, target)) for source, target in
                 record["moves"]]
        remove = [_inside(out, folder) for folder in record["remove"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise ValueError(f"--out {display_path(out)}: holds {JOURNAL}, which is not a record "
                         "that mlplab can complete; remove it") from None
    for source, target in moves:
        if os.path.lexists(source) and not os.path.lexists(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source, target)
    for folder in remove:
        shutil.rmtree(folder, ignore_errors=True)
    os.unlink(journal)
    return True


def _inside(out, relative):
    """`out`/`relative` for a relative path that stays inside `out`; ValueError else."""
    if not isinstance(relative, str):
        raise ValueError
    path = pathlib.PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError
    return pathlib.Path(out, *path.parts)


def _move(source, target, done):
    """Rename `source` to `target`, which must not exist yet (a file that appeared there since
    the last check stays, and the switch fails instead)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        raise FileExistsError(f"{display_path(target)} appeared during the switch")
    os.rename(source, target)
    done.append((source, target))


def _new_folder(parent, name):
    """A new folder in `parent` named `name` (with a number if taken), made as any folder is."""
    for number in range(1000):
        folder = parent / (name if number == 0 else f"{name}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"too many folders named {name}-N in {display_path(parent)}")


def _files(folder):
    """Every file (and link) under `folder`, relative, with '/', but for the run's own
    working folders at its top."""
    found = []
    for root, folders, names in os.walk(folder):
        base = pathlib.Path(root).relative_to(folder)
        if base == pathlib.Path("."):
            folders[:] = [name for name in folders if not name.startswith(_WORKING)]
        found += [(base / name).as_posix() for name in names]
        found += [(base / name).as_posix() for name in folders
                  if (pathlib.Path(root) / name).is_symlink()]   # a link is not walked into
    return set(found)


def _regular_sha256(path):
    """The SHA-256 of `path` if it is a regular file (not a link, a device or a pipe)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _read_manifest(path):
    """{relative path: sha256} from a genuine manifest at `path`, else None."""
    try:
        manifest = json.loads(read_regular_file(path, _MAX_MANIFEST_BYTES, follow_links=False))
    except (ValueError, RecursionError):   # FileRefused, bad UTF-8 or JSON
        return None
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT
            and isinstance(manifest.get("files"), dict)):
        return None
    files = manifest["files"]
    if not all(isinstance(digest, str) and len(digest) == 64 for digest in files.values()):
        return None
    return files
