"""Files as mlplab shows them: a path as printable text, whatever its bytes."""

import os
import re


def display_path(path):
    """`path` as text that can be printed and written as UTF-8 whatever its bytes: a name that
    is not valid UTF-8 shows its odd bytes as \\xNN, and control characters (a newline, an
    escape) show as \\n, \\x1b, so that they cannot break a line or a terminal."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return re.sub(r"[\x00-\x1f\x7f]", lambda match: repr(match.group())[1:-1], text)
