"""The report folder of ``mlplab run``: what a run may replace there, and the switch to a new
report.

A run lists what it wrote, with each file's SHA-256, in a manifest (`MANIFEST`) in the folder.
A later run into the same folder writes only over files that the manifest lists and that are
unchanged since, and removes only such files; everything else in the folder stays as it is.
Before anything is trained, `ReportFolder` refuses a folder that is not empty and has no
manifest, or that holds a file in the way (one the new report will write, which the manifest
does not list or which changed since), naming the files; with ``force`` those files are moved
aside into a subfolder instead. It also makes the staging folder, beside the report folder,
where the new report is built: so a place that cannot be written is known at once.

`ReportFolder.switch` then moves the new report in, file by file with renames (each file is at
any moment the old one or the new one, never a partial one), the manifest last. The caller holds
back Ctrl-C and termination signals while it runs (`cli`), so that an interrupt never leaves a
mixture of old and new files; after a hard kill (SIGKILL, power loss) in those milliseconds, the
files that were replaced no longer match the old manifest, and the next run names them.
"""

import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import time

from ..datasets import display_path

MANIFEST = ".mlplab-run.json"
_FORMAT = "mlplab-run"


class ReportFolder:
    """The output folder `out` of a run that will write the files `planned` (paths relative to
    `out`, with '/'), checked before the run; see the module's docstring."""

    def __init__(self, out, planned, force=False):
        self.out, self.force = pathlib.Path(out), force
        self.planned = set(planned) | {MANIFEST}
        self.shown = display_path(self.out)
        self.created = []   # folders made for the report's sake, removed again if it fails
        self._check_place()
        self._survey()
        if (self.foreign or self.in_the_way) and not force:
            raise ValueError(self._refusal())
        self.staging = self._make_staging()

    # ----- before the run ---------------------------------------------------------------------

    def _check_place(self):
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.shown}: exists and is not a folder")
        missing = []
        for folder in self.out.parents:
            if folder.exists():
                if not folder.is_dir():
                    raise ValueError(f"--out {self.shown}: {display_path(folder)} is a file, "
                                     "not a folder")
                break
            missing.append(folder)
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self.created.append(folder)
            if self.out.is_dir():   # can files be made in it? (a read-only mount cannot)
                handle, probe = tempfile.mkstemp(prefix=".mlplab-probe-", dir=self.out)
                os.close(handle)
                os.unlink(probe)
        except OSError as exc:
            self.discard()
            raise ValueError(f"--out {self.shown}: cannot write there "
                             f"({exc.strerror or exc})") from None

    def _survey(self):
        """Sets `ours`, the manifest's files that are unchanged ({path: sha256}), `in_the_way`,
        the planned files that are there but not ours, and `foreign`, the files of a folder
        that is not empty and has no manifest (refused even where nothing collides)."""
        self.ours, self.in_the_way, self.foreign = {}, [], []
        if not self.out.is_dir():
            return
        listed = _read_manifest(self.out / MANIFEST)
        present = set(_files(self.out))
        self.ours = {path: digest for path, digest in (listed or {}).items()
                     if path in present and _sha256(self.out / path) == digest}
        if listed is None:
            self.foreign = sorted(present)
        self.in_the_way = sorted((present & self.planned) - set(self.ours) - {MANIFEST})
        figures = self.out / "figures"
        if figures.is_symlink() or (figures.exists() and not figures.is_dir()):
            self.in_the_way.append("figures")   # new figures would land in someone's file

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

    def _make_staging(self):
        try:
            return pathlib.Path(tempfile.mkdtemp(prefix=".mlplab-", dir=self.out.parent))
        except OSError as exc:
            self.discard()
            raise ValueError(f"--out {self.shown}: cannot write beside it, in "
                             f"{display_path(self.out.parent)} ({exc.strerror or exc})") from None

    # ----- after the run ----------------------------------------------------------------------

    def switch(self):
        """Move the report built in `staging` into the folder, replacing only what is ours.

        Checks again first, since files may have changed during the run; raises ValueError, with
        nothing changed, if something is now in the way. The caller holds back interrupts.
        """
        written = sorted(_files(self.staging))
        unplanned = set(written) - self.planned
        if unplanned:
            raise RuntimeError(f"the run wrote files it did not plan: {sorted(unplanned)}")
        (self.staging / MANIFEST).write_text(json.dumps(
            {"format": _FORMAT, "version": 1,
             "files": {path: _sha256(self.staging / path) for path in written}}, indent=1),
            encoding="utf-8")
        self._survey()
        if (self.foreign or self.in_the_way) and not self.force:
            raise ValueError(self._refusal() + " (they changed during the run)")
        self.out.mkdir(exist_ok=True)
        if self.in_the_way:
            aside = pathlib.Path(tempfile.mkdtemp(
                prefix=time.strftime("mlplab-set-aside-%Y%m%d-%H%M%S-"), dir=self.out))
            for path in self.in_the_way:
                (aside / path).parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.out / path, aside / path)
        for path in written:
            (self.out / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / path, self.out / path)
        for path in sorted(set(self.ours) - set(written)):
            (self.out / path).unlink()   # an earlier run's file that this run does not write
        os.replace(self.staging / MANIFEST, self.out / MANIFEST)
        self.created.clear()
        self.discard()

    def discard(self):
        """Remove the staging folder and any folder made for the report (when the run failed)."""
        staging = getattr(self, "staging", None)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            self.staging = None
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                pass
        self.created.clear()


def _files(folder):
    """Every file under `folder` (not the folders themselves), relative, with '/'."""
    found = []
    for root, folders, names in os.walk(folder):
        base = pathlib.Path(root).relative_to(folder)
        found += [(base / name).as_posix() for name in names]
        found += [(base / name).as_posix() for name in folders
                  if (pathlib.Path(root) / name).is_symlink()]   # a link is not walked into
    return found


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(path):
    """{relative path: sha256} from a genuine manifest at `path`, else None."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT
            and isinstance(manifest.get("files"), dict)):
        return None
    files = manifest["files"]
    for name, digest in files.items():
        parts = pathlib.PurePosixPath(name).parts
        if (not isinstance(digest, str) or len(digest) != 64 or not parts or ".." in parts
                or pathlib.PurePosixPath(name).is_absolute() or name == MANIFEST):
            return None
    return files
