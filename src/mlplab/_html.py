"""Markdown to one self-contained HTML page: tables, figures and $...$ formulas embedded.

markdown-it-py parses the Markdown (raw HTML in it is not passed through); a formula is drawn
by matplotlib's mathtext (a LaTeX subset) to a PNG; an image that starts a paragraph becomes a
figure with the rest of the paragraph as its caption; every image is embedded as a data URI, so
that the page opens anywhere offline. The lab's report and a class's summary are made so.
"""

import base64
import io
import pathlib
import re

import numpy as np


def code_span(text):
    """`text` as Markdown inline code, taken literally whatever backticks or $ it holds."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(header, rows):
    """A Markdown table; a | in a cell is escaped."""
    cell = lambda value: str(value).replace("|", "\\|")   # noqa: E731
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(cell, row)) + " |" for row in rows])


def _formula_png(latex, display):
    """A formula drawn by matplotlib's mathtext (a LaTeX subset): (PNG bytes, black on
    transparent; pixels below the baseline), or None if it cannot be parsed."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser
    from PIL import Image

    try:
        drawn = MathTextParser("agg").parse(f"${latex}$", dpi=130 if display else 100,
                                            prop=FontProperties(size=10))
    except ValueError:
        return None
    coverage = np.asarray(drawn.image)
    pixels = np.zeros((*coverage.shape, 4), dtype=np.uint8)
    pixels[..., 3] = coverage
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="png")
    return buffer.getvalue(), drawn.depth


def _data_uri(png_bytes):
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def to_html(markdown, title, style="", folder="."):
    """One HTML page of `markdown`, its figures (paths relative to `folder`) and formulas
    embedded, with `title` and the CSS `style`."""
    import html

    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    def formula(latex, options):
        drawn = images.get((latex.strip(), options["display_mode"]))
        if drawn is None:
            return f"<code>{html.escape(latex)}</code>"
        png, depth = drawn   # the image's baseline on the text's
        return (f"<img class='math{' display' if options['display_mode'] else ''}' "
                f"style='vertical-align: -{depth:g}px' src='{_data_uri(png)}' "
                f"alt='{html.escape(latex, quote=True)}'>")

    images = {}
    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(
        dollarmath_plugin, double_inline=True, renderer=formula)
    tokens = md.parse(markdown)
    wanted = sorted({(t.content.strip(), t.type == "math_block") for t in _walk(tokens)
                     if t.type in ("math_inline", "math_block")})
    images.update((key, _formula_png(*key)) for key in wanted)
    for i, token in enumerate(tokens):
        children = token.children or []
        if token.type == "inline" and children and children[0].type == "image":
            # A paragraph that starts with an image is a figure; the rest is its caption.
            tokens[i - 1].tag = tokens[i + 1].tag = "figure"
            children[0].attrs["src"] = _data_uri((pathlib.Path(folder)
                                                  / children[0].attrs["src"]).read_bytes())
            caption = [c for c in children[1:] if c.type != "softbreak"]
            token.children = [children[0], _html_token("<figcaption>"), *caption,
                              _html_token("</figcaption>")]
    body = md.renderer.render(tokens, md.options, {})
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta "
            f"name='viewport' content='width=device-width, initial-scale=1'><title>"
            f"{html.escape(title)}</title><style>{style}</style></head><body>\n{body}"
            "</body></html>\n")


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _html_token(text):
    from markdown_it.token import Token
    token = Token("html_inline", "", 0)
    token.content = text
    return token
