"""Files as mlplab reads, writes and shows them: a size-limited read of a regular file, strict
JSON, a path as printable text."""

import json
import math
import os
import re
import stat


class FileRefused(ValueError):
    """A file mlplab will not read; the message starts with the file's printable path."""


def open_regular(path, flags, refused):
    """`path` opened with `flags` (os.open's) as a binary file, if what was opened is a regular
    file; else the exception `refused` is raised. Opened first, then looked at: what is read is
    what was checked, whatever the path names meanwhile (O_NONBLOCK: a pipe opens at once)."""
    descriptor = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise refused
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_file(path, limit, what="file", follow_links=True):
    """The bytes of the regular file at `path`, at most `limit` of them, or FileRefused saying
    why not (not a regular file, too large, unreadable). `what` names the file in the message
    ("data file", "model file"); with ``follow_links=False`` a link is refused too."""
    shown = display_path(path)
    kinds = "a folder, a device or a pipe" if follow_links else \
        "a folder, a device, a pipe or a link"
    refused = FileRefused(f"{shown}: not a regular file ({kinds} cannot be read as a {what})")
    try:
        if not follow_links and os.path.islink(path):
            raise refused
        # O_NOFOLLOW: a link put there since the check above is refused too.
        flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
        with open_regular(path, flags, refused) as file:
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                raise FileRefused(f"{shown}: {size} bytes, more than the limit of {limit} for "
                                  f"a {what}")
            raw = bytearray()
            # In blocks, not read(limit), which would reserve the whole limit at once; checked
            # again while reading, since the file may grow.
            while block := file.read(1 << 20):
                raw += block
                if len(raw) > limit:
                    raise FileRefused(f"{shown}: more than the limit of {limit} bytes for a "
                                      f"{what}")
    except OSError as exc:
        raise FileRefused(f"{shown}: cannot read the {what} ({exc.strerror or exc})") from None
    return bytes(raw)


def strict_json(value, **options):
    """`value` as JSON that strict parsers read: every NaN or infinity (a diverged curve, say)
    as null."""
    def plain(item):
        if isinstance(item, dict):
            return {key: plain(v) for key, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [plain(v) for v in item]
        if isinstance(item, float) and not math.isfinite(item):
            return None
        return item
    return json.dumps(plain(value), allow_nan=False, **options)


def display_path(path):
    """`path` as text that can be printed and written as UTF-8 whatever its bytes: a name that
    is not valid UTF-8 shows its odd bytes as \\xNN, and control characters (a newline, an
    escape) show as \\n, \\x1b, so that they cannot break a line or a terminal."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return re.sub(r"[\x00-\x1f\x7f]", lambda match: repr(match.group())[1:-1], text)
