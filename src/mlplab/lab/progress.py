"""What a person watching ``mlplab run`` sees: one bar for the whole run and a line per step.

The bar counts training work in sample-epochs (one sample through one epoch) and is drawn only
on a terminal; elsewhere (a log file, a pipe) the same run prints plain lines, with no control
characters.
"""

import sys


class Progress:
    """The run's progress: `start` draws the bar; ``enabled=False`` shows nothing at all."""

    def __init__(self, enabled=True):
        self.enabled, self.bar = enabled, None

    def start(self, total):
        """Start the bar of `total` sample-epochs (only on a terminal)."""
        if self.enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc="training", unit=" sample-epochs",
                            unit_scale=True, smoothing=0.05, dynamic_ncols=True)

    def advance(self, sample_epochs):
        if self.bar is not None:
            self.bar.update(sample_epochs)

    def say(self, line):
        """Print a line (above the bar, if there is one)."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        elif self.enabled:
            print(line, flush=True)

    def step(self, text):
        """Name what the run does now, on the bar or as a line."""
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
