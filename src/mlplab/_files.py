"""Files as mlplab writes and shows them: strict JSON, a path as printable text."""

import json
import math
import os
import re


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
