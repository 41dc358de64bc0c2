"""Text that came from a student's code (error messages, names), made safe to show.

Such text is untrusted: it may hold terminal escape codes (which could redraw a FAIL line as
PASS), other control characters, Unicode direction overrides or lone surrogates (which crash a
UTF-8 terminal or a strict JSON writer). `clean` shows every such character as an escape, so
the text is inert in a terminal and in JSON; `code` quotes it as Markdown inline code and
`markdown` escapes it for Markdown text.
"""

import re

from .._html import code_span

# C0 and C1 controls but tab and newline, and the invisible marks that reorder or hide text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069"
                     "\ufeff\ud800-\udfff]")


def clean(text):
    """`text` with each unsafe character as an escape (\\x1b, \\u202e, \\udcff)."""
    def escape(match):
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return _UNSAFE.sub(escape, str(text))


def code(text):
    """`text` (cleaned) as Markdown inline code, whatever backticks it holds."""
    return code_span(clean(text).replace("\n", " "))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown(text):
    """`text` (cleaned) with Markdown's and HTML's special characters escaped."""
    return _MARKDOWN.sub(r"\\\1", clean(text))
