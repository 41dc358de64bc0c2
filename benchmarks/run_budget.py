"""Where the time of `mlplab run` goes, and the floor of its training: the BLAS calls it makes.

    python benchmarks/run_budget.py [--rounds 3] [--markdown] [--run-python PYTHON] [--no-run]

Two measurements, on the built-in data with seed 0:

1. **The run's phases.** `mlplab run`, serial and with ``--jobs 2`` taking turns, each in a new
   process writing a new folder: the wall time (from when the process has loaded NumPy) of its
   start (the rest of the imports, loading the data), its training (`runner.run_all`), its
   figures (`plots.make_all`), its report (`report.write_report`, a PDF too if WeasyPrint is
   installed) and the whole, and the CPU time of the process and of the workers it waited for.
   `--run-python` runs it with another environment's Python, such as the one README's first
   command makes (no WeasyPrint, so no PDF).
2. **Each study's training against its matrix products.** For every study of the lab, its
   trainings as the serial run makes them (`runner.train_and_score`, one BLAS thread), taking
   turns with a replay of only the BLAS calls those trainings make: the same products on
   arrays of the same shapes and layouts (forward and backward passes of every step, the
   column sums of the bias gradients, the per-epoch test pass), into preallocated outputs.
   Any implementation that keeps results.json bit for bit computes these products; everything
   else of a step (activations, loss, update, checks, Python; also the two smaller BLAS calls of
   the softmax's row sums and the finiteness check) is the remainder, given per step. The
   time of the per-epoch test loss (`Trainer.mean_loss`) inside the trainings is also given:
   what evaluating less often could save at most. So is the time of the smallest NumPy call a
   step makes (an elementwise add on a 32 x 4 batch of a 2-4-1 network), which every one of a
   step's calls costs at least.

Medians over the rounds. The machine's other load is printed before and after.
"""

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

PHASES = ("start", "training", "figures", "report", "whole")


# ----- 1. the run's phases ----------------------------------------------------------------------

def run_phases_here(out, jobs):
    """`mlplab run` in this process with a timer on each phase; prints them as JSON."""
    started = time.perf_counter()
    import mlplab.cli as cli
    from mlplab import _parallel as parallel
    from mlplab.lab import plots, runner

    spans = {}

    def timed(module, name, phase):
        function = getattr(module, name)

        def run(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spans[phase] = (begin - started, time.perf_counter() - started)
        setattr(module, name, run)

    timed(runner, "run_all", "training")
    timed(plots, "make_all", "figures")
    timed(parallel, "run_one", "report")
    arguments = ["run", "--out", out, "--no-progress", "--jobs", str(jobs)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(arguments)
    whole = time.perf_counter() - started
    seconds = {"start": spans["training"][0], "whole": whole}
    seconds.update({phase: end - begin for phase, (begin, end) in spans.items()})
    print(json.dumps({"status": status, "seconds": seconds}))


def time_run(jobs, out, python):
    """{phase: seconds} of one `mlplab run` by `python`, plus "cpu": the CPU seconds of it and
    its workers, and "results": its results.json's bytes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([python, __file__, "--phases-of", str(out), str(jobs)],
                          capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(done.stdout.splitlines()[-1])
    if report["status"] != 0:
        raise SystemExit(f"mlplab run --jobs {jobs} failed:\n{done.stderr}")
    seconds = report["seconds"]
    seconds["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    seconds["results"] = (Path(out) / "results.json").read_bytes()
    return seconds


def run_phases(rounds, python):
    """{"serial": [...], "--jobs 2": [...]}: `time_run` of each, taking turns."""
    variants = {"serial": 1, "--jobs 2": 2}
    times = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(rounds):
            order = list(variants)[::-1] if round_ % 2 else list(variants)
            for variant in order:
                out = Path(folder) / f"jobs{variants[variant]}-{round_}"
                times[variant].append(time_run(variants[variant], out, python))
                print(f"  {variant}: {times[variant][-1]['whole']:.1f} s", file=sys.stderr)
    files = {one.pop("results") for variant in times.values() for one in variant}
    if len(files) != 1:
        raise SystemExit("results.json differed between the runs")
    return times


# ----- 2. each study's training against its matrix products -------------------------------------

def layer_sizes(call):
    """The layer sizes of a `train_and_score` call's network, input to output."""
    training, (X_train, y_train, *_) = call[0], call[1]
    n_output = len(np.unique(y_train)) if training.output == "softmax" else 1
    return (X_train.shape[1], *training.hidden, n_output)


class ProductReplay:
    """The BLAS calls of a `train_and_score` call's training, on arrays of the same shapes and
    layouts as the engine's workspace (`mlplab._engine.workspace`)."""

    def __init__(self, call, seed=0):
        training, (X_train, _, X_test, _) = call[0], call[1]
        rng = np.random.default_rng(seed)
        self.sizes = layer_sizes(call)
        self.epochs = training.epochs
        n_train = len(X_train)
        batch = training.batch_size or n_train
        self.batches = [min(batch, n_train - start) for start in range(0, n_train, batch)]
        self.n_test = len(X_test)
        shapes = list(zip(self.sizes, self.sizes[1:]))
        self.weights = [rng.standard_normal(shape) * 0.1 for shape in shapes]
        self.gradients = [np.empty(shape) for shape in shapes]
        self.bias_gradients = [np.empty(n_out) for _, n_out in shapes]
        rows = max(batch, self.n_test)
        self.inputs = rng.standard_normal((rows, self.sizes[0]))
        self.outputs = [rng.standard_normal((rows, n_out)) for _, n_out in shapes]
        self.deltas = [rng.standard_normal((rows, n_out)) for _, n_out in shapes]
        self.ones = np.ones(rows)

    def steps(self):
        return self.epochs * len(self.batches)

    def run(self):
        for _ in range(self.epochs):
            for rows in self.batches:
                self.forward(rows)
                self.backward(rows)
            self.forward(self.n_test)

    def forward(self, rows):
        a = self.inputs[:rows]
        for W, Z in zip(self.weights, self.outputs):
            a = np.dot(a, W, out=Z[:rows])

    def backward(self, rows):
        for l in range(len(self.weights) - 1, -1, -1):
            delta = self.deltas[l][:rows]
            a = self.inputs[:rows] if l == 0 else self.outputs[l - 1][:rows]
            np.dot(a.T, delta, out=self.gradients[l])
            np.dot(self.ones[:rows], delta, out=self.bias_gradients[l])
            if l > 0:
                np.dot(delta, self.weights[l].T, out=self.deltas[l - 1][:rows])


def studies():
    """[(title, [train_and_score calls], [ProductReplay])] of the lab's studies, seed 0."""
    from mlplab.lab import configs, runner

    data, _ = runner.load_all(None)
    found = []
    for study in (*configs.Q3, *configs.Q4):
        study_data = (data[study.dataset] if isinstance(study, configs.CrossValidation)
                      else data["digits"])
        calls = runner.study_calls(study, study_data, 0)
        found.append((study.title, calls, [ProductReplay(call) for call in calls]))
    return found


def study_floors(rounds):
    """{title: (steps, [training seconds], [products seconds], [test-loss seconds])}, the
    trainings and the replays taking turns, one thread."""
    from mlplab._engine.trainer import Trainer
    from mlplab.lab import runner

    found = studies()
    times = {title: ([], [], []) for title, _, _ in found}
    test_loss_seconds = [0.0]
    mean_loss = Trainer.mean_loss

    def timed_mean_loss(*args):
        begin = time.perf_counter()
        try:
            return mean_loss(*args)
        finally:
            test_loss_seconds[0] += time.perf_counter() - begin

    Trainer.mean_loss = timed_mean_loss
    try:
        with threadpool_limits(1):
            for round_ in range(rounds):
                for title, calls, replays in found:
                    for turn in ([0, 1] if round_ % 2 else [1, 0]):
                        test_loss_seconds[0] = 0.0
                        begin = time.perf_counter()
                        if turn == 0:
                            for call in calls:
                                runner.train_and_score(*call)
                            times[title][2].append(test_loss_seconds[0])
                        else:
                            for replay in replays:
                                replay.run()
                        times[title][turn].append(time.perf_counter() - begin)
                print(f"  round {round_ + 1} of the studies", file=sys.stderr)
    finally:
        Trainer.mean_loss = mean_loss
    return {title: (sum(replay.steps() for replay in replays), *times[title])
            for title, _, replays in found}


def smallest_call_seconds(repeats=20000, rounds=5):
    """The median time of ``np.add(a, b, out=c)`` on 32 x 4 float64 arrays."""
    a, b, c = (np.ones((32, 4)) for _ in range(3))
    medians = []
    for _ in range(rounds):
        begin = time.perf_counter()
        for _ in range(repeats):
            np.add(a, b, out=c)
        medians.append((time.perf_counter() - begin) / repeats)
    return float(np.median(medians))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    parser.add_argument("--no-run", action="store_true", help="skip the run's phases")
    parser.add_argument("--run-python", default=sys.executable,
                        help="the Python whose mlplab the run's phases time (default this one)")
    parser.add_argument("--phases-of", nargs=2, metavar=("OUT", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases_of:
        run_phases_here(args.phases_of[0], int(args.phases_of[1]))
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    # Here, not at the top: the children timing `mlplab run` import nothing but mlplab.
    from speed_table import machine_state, render
    print(machine_state("before"))
    if not args.no_run:
        times = run_phases(args.rounds, args.run_python)
        rows = [[variant, *(f"{np.median([one[key] for one in runs]):.2f}"
                            for key in (*PHASES, "cpu"))] for variant, runs in times.items()]
        print(f"\n`mlplab run`, seconds (medians of {args.rounds}; results.json identical):")
        print(render([["run", *PHASES, "CPU"], *rows], args.markdown))
    floors = study_floors(args.rounds)
    rows, total = [], np.zeros(3)
    for title, (steps, *times) in floors.items():
        trained, products, test_loss = medians = [np.median(values) for values in times]
        total += medians
        rows.append([title, f"{steps:,}", f"{trained:.2f}", f"{products:.2f}",
                     f"{(trained - products) / steps * 1e6:.1f}", f"{test_loss:.2f}"])
    all_steps = sum(steps for steps, *_ in floors.values())
    rows.append(["all", f"{all_steps:,}", *(f"{value:.2f}" for value in total[:2]),
                 f"{(total[0] - total[1]) / all_steps * 1e6:.1f}", f"{total[2]:.2f}"])
    print(f"\nEach study's training, one thread, seconds (medians of {args.rounds}):")
    print(render([["study", "steps", "training", "its BLAS calls alone", "rest per step (us)",
                   "of the training: test loss"], *rows], args.markdown))
    print(f"\nThe smallest NumPy call of a step (np.add, 32 x 4 floats, out=): "
          f"{smallest_call_seconds() * 1e6:.2f} us")
    print(machine_state("after"))


if __name__ == "__main__":
    main()
