"""Progress bars: one kind, on tqdm, for a training's epochs and for a whole lab run.

A bar is drawn only when asked (and, with ``terminal_only``, only on a terminal); `say` prints
a line above it, or as a plain line where there is no bar but progress is shown (a log file,
a pipe: no control characters). tqdm is imported only for a bar: even a disabled one makes a
multiprocessing lock.
"""

import sys


class Progress:
    """`start(total)` draws the bar; `advance`, `step`, `count` and `say` report on it; nothing
    at all is shown when ``shown=False``."""

    def __init__(self, shown=True, desc="training", unit="epoch", terminal_only=False,
                 **options):
        self.shown, self.bar = shown, None
        self.desc, self.unit, self.terminal_only, self.options = desc, unit, terminal_only, \
            options

    def start(self, total):
        if self.shown and (not self.terminal_only or sys.stderr.isatty()):
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, **self.options)
        return self

    def advance(self, amount=1, **postfix):
        """`amount` more done, with the values to show beside the bar (``loss="0.12"``)."""
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(amount)

    def say(self, line):
        """Print a line (above the bar, if there is one)."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        elif self.shown:
            print(line, flush=True)

    def step(self, text):
        """Name what runs now, on the bar or as a line."""
        if self.bar is not None:
            self.bar.set_description(text)
        else:
            self.say(text)

    def count(self, done, total):
        """How far the current step is, on the bar (lines would only repeat the step)."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{done}/{total}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
