"""What `mlplab check` prints and writes: a table for people, Gradescope's results.json, and for
a class grades.csv and a summary (Markdown and HTML).

Gradescope's format (its autograder specification): a top-level ``score``,
``execution_time``, ``output``, ``output_format``, ``stdout_visibility`` and ``tests``, each
test with ``name``, ``number``, ``score``, ``max_score``, ``status`` ("passed" or "failed"),
``output`` (Markdown here) and ``visibility``. Every text from a student's code is escaped
(`text`) before it reaches a terminal, Markdown or HTML.
"""

import csv
import io
import json
import re
import statistics

from .text import clean, code, markdown


def _fields(verdict, passed):
    """(label, text) of what a verdict says: all of it for a failure, the conventions and
    notes for a pass."""
    fields = [] if passed else [("expected", verdict.expected), ("got", verdict.got),
                                ("differs", verdict.differs), ("hint", verdict.hint)]
    fields += [("convention", verdict.convention)] + [("note", note) for note in verdict.notes]
    return [(label, text) for label, text in fields if text]


def table(result):
    """The terminal report of one submission: a block per check, the notes, the total."""
    lines = []
    for check, verdict in result.verdicts:
        lines.append(f"{'PASS' if verdict.passed else 'FAIL'}  {check.part}  {check.name}")
        for label, text in _fields(verdict, verdict.passed):
            first, *rest = clean(text).splitlines() or [""]
            lines.append(f"        {label:<10} {first}")
            lines += [f"{'':19}{line}" for line in rest]
    lines += [f"note: {clean(note)}" for note in result.notes]
    passed = sum(verdict.passed for _, verdict in result.verdicts)
    lines.append(f"{passed} of {len(result.verdicts)} checks passed "
                 f"({_number(result.score)} of {_number(result.max_score)} points)")
    return "\n".join(lines)


def _number(value):
    return f"{value:g}"


def _markdown_output(verdict):
    parts = []
    for label, text in _fields(verdict, verdict.passed):
        if label in ("expected", "got") and "\n" in text:
            parts.append(f"**{label.capitalize()}:**\n\n{_block(text)}")
        elif label in ("expected", "got"):
            parts.append(f"**{label.capitalize()}:** {code(text)}")
        else:
            parts.append(f"**{label.capitalize()}:** {markdown(text)}")
    return "\n\n".join(parts)


def _block(text):
    text = clean(text)
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


def gradescope(result):
    """Gradescope's results.json for one submission, as a dict (strict JSON)."""
    tests = [{"name": check.name, "number": check.number,
              "score": points if verdict.passed else 0.0, "max_score": points,
              "status": "passed" if verdict.passed else "failed",
              "output": _markdown_output(verdict), "output_format": "md",
              "visibility": visibility}
             for (check, verdict), points, visibility in zip(
                 result.verdicts, result.points, result.visibility)]
    output = "\n\n".join(markdown(note) for note in result.notes)
    return {"score": result.score, "execution_time": round(result.seconds, 3),
            "output": output, "output_format": "md", "stdout_visibility": "hidden",
            "visibility": "visible", "tests": tests,
            "extra_data": {"mlplab_seed": result.seed, "file": clean(result.file)}}


def dumps(data):
    """JSON as Gradescope and strict parsers read it (no NaN or infinity, UTF-8 safe)."""
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=True) + "\n"


def grades_csv(results):
    """A row per submission: its name, the file checked, total, maximum, points per check."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    checks = [check.name for check, _ in results[0].verdicts] if results else []
    writer.writerow(["submission", "file", "score", "max_score", *checks])
    for result in results:
        earned = [_number(points if verdict.passed else 0.0)
                  for (_, verdict), points in zip(result.verdicts, result.points)]
        writer.writerow([_cell(result.name), _cell(result.file), _number(result.score),
                         _number(result.max_score), *earned])
    return stream.getvalue()


def _cell(text):
    # a leading =, +, - or @ would be a formula in a spreadsheet
    text = clean(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def summary(results, seed, skipped=()):
    """The class summary in Markdown: scores, each check's pass rate, the diagnosed mistakes,
    the slowest submissions and those whose code crashed or was stopped."""
    n = len(results)
    maximum = max((r.max_score for r in results), default=0.0)
    scores = [r.score for r in results]
    lines = ["# mlplab check: the class", "",
             f"{n} submissions, {_number(maximum)} points each (checked with seed {seed})."]
    if skipped:
        lines.append(f"Not homework files, so not checked: "
                     f"{', '.join(code(s) for s in skipped[:20])}"
                     + (f" and {len(skipped) - 20} more" if len(skipped) > 20 else "") + ".")
    if scores:
        lines += ["", f"Mean {statistics.mean(scores):.2f}, median "
                      f"{statistics.median(scores):.2f}, lowest {_number(min(scores))}, "
                      f"highest {_number(max(scores))}.", "", "## Scores", "",
                  "| score | submissions | |", "|---|---:|---|"]
        for low, high, count in _buckets(scores, maximum):
            lines.append(f"| {_number(low)} to {_number(high)} | {count} | "
                         f"{'#' * round(40 * count / n)} |")
    checks = [check for check, _ in results[0].verdicts] if results else []
    lines += ["", "## Each check", "", "| check | points | passed | pass rate |",
              "|---|---:|---:|---:|"]
    for index, check in enumerate(checks):
        passed = sum(r.verdicts[index][1].passed for r in results)
        lines.append(f"| {check.number} {markdown(check.name)} | "
                     f"{_number(results[0].points[index])} | {passed} of {n} | "
                     f"{100 * passed / n:.0f}% |")
    mistakes = {}
    for result in results:
        for text in {v.mistake for _, v in result.verdicts if not v.passed and v.mistake}:
            mistakes[text] = mistakes.get(text, 0) + 1
    lines += ["", "## Diagnosed mistakes", ""]
    if mistakes:
        lines += ["| mistake | submissions |", "|---|---:|"]
        lines += [f"| {markdown(text)} | {count} |" for text, count in
                  sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))]
    else:
        lines.append("None.")
    slowest = sorted(results, key=lambda r: -r.seconds)[:5]
    lines += ["", "## Slowest", "", "| submission | seconds |", "|---|---:|"]
    lines += [f"| {markdown(r.name)} | {r.seconds:.1f} |" for r in slowest]
    crashed = [r for r in results if r.ended or r.error]
    lines += ["", "## Crashed, stopped or not checked", ""]
    if crashed:
        lines += ["| submission | what happened |", "|---|---|"]
        for r in crashed:
            happened = "; ".join(filter(None, [r.error, *r.ended[:3]]))
            lines.append(f"| {markdown(r.name)} | {markdown(happened)} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _buckets(scores, maximum, count=10):
    """(low, high, number of scores) for `count` equal ranges of [0, maximum]."""
    if maximum <= 0:
        return [(0.0, 0.0, len(scores))]
    width = maximum / count
    found = [0] * count
    for score in scores:
        found[min(count - 1, int(score / width))] += 1
    return [(i * width, (i + 1) * width, found[i]) for i in range(count)]


_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}")


def html(markdown_text, title):
    """The summary as one HTML page (Markdown rendered, raw HTML off)."""
    from .._html import to_html
    return to_html(markdown_text, title, _STYLE)
