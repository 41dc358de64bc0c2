"""The ``mlplab`` command line (also ``python -m mlplab``).

Errors a user can cause (a bad flag, a missing or malformed data file, an output folder that is
not ours) end in one line on stderr and a non-zero exit, never a traceback. Ctrl-C, SIGTERM and
SIGHUP end a run the same way: one line, exit status 128 + the signal's number, nothing left
behind (`_report_folder` says what a run may write, and when).
"""

import argparse
import contextlib
import io
import math
import os
import pathlib
import re
import secrets
import signal
import sys
import threading
import time

# The files `mlplab check --out` may replace (an earlier check's).
CHECK_FILES = re.compile(r"(grades\.csv|summary\.(md|html)|results/[^/]+\.json)\Z")

# The signals that end a run like Ctrl-C (SIGHUP: where the system has it).
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                      if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or a termination signal."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


_held = None         # inside `_signals_held`: the signals that came, delivered after
_report_in = None    # the folder a run's report was written to, for the interrupted message


def _on_signal(signum, frame):
    if _held is not None:
        _held.append(signum)
    else:
        raise Interrupted(signum)


@contextlib.contextmanager
def _signals_held():
    """Signals that come in the block are delivered when it ends, even if it fails (a signal
    then wins over the failure: the run was asked to stop). Blocks may nest."""
    global _held
    if _held is not None:
        yield
        return
    _held = []
    try:
        yield
    finally:
        received, _held = _held, None
        if received:
            raise Interrupted(received[0])


def _whole_number(low, high=None):
    """An argparse type: a whole number in [low, high)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value >= high):
            rule = f">= {low}" if high is None else f"{low} <= N < {high}"
            raise argparse.ArgumentTypeError(f"expected {rule}, got {value}")
        return value
    return parse


def _planned_files():
    """The files a run writes into its folder, known before it trains."""
    from .lab import configs, figures as drawn, report
    figures = drawn.figure_files([cv.name for cv in configs.Q3], [s.name for s in configs.Q4])
    return ["results.json", "report.md", "report.html",
            *(["report.pdf"] if report.pdf_engine() is not None else []),
            *(f"figures/{name}" for name in figures.values()),
            *(f"models/{configs.fold1_model(cv.name)}.npz" for cv in configs.Q3)]


def _jobs(requested):
    """--jobs, at most the CPUs this process may use (more workers only compete for them)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus and requested > cpus:
        print(f"mlplab: --jobs {requested} is more than the {cpus} CPUs here; running {cpus} "
              "workers", file=sys.stderr)
        return cpus
    return requested


def _run(args):
    jobs = _jobs(args.jobs) if args.scheduler is None else -1
    from . import _report_folder as folder
    from ._progress import Progress
    from .lab import report, runner

    data_dir = None
    if args.data_dir is not None:
        data_dir = pathlib.Path(args.data_dir)
        if not data_dir.is_dir():
            raise ValueError(f"--data-dir {_shown(data_dir)}: no such folder")
    global _report_in
    out = None
    progress = Progress(not args.no_progress, unit=" sample-epochs", terminal_only=True,
                        unit_scale=True, smoothing=0.05, dynamic_ncols=True)
    try:
        with _signals_held():   # so that an interrupt finds `out` made, or nothing made
            out = folder.ReportFolder(args.out, _planned_files(), force=args.force)
        _say_completed(out)
        # Load (and so check) every data file before anything is trained or written.
        data, sources = runner.load_all(data_dir)
        for title, where in report.describe_sources(sources):
            print(f"{title}: {where}")
        start = time.perf_counter()
        run = dict(data=data, seed=args.seed, quick=args.quick, jobs=jobs, progress=progress,
                   sources=sources, backend="dask" if args.scheduler else None)
        with (_dask_client(args.scheduler) if args.scheduler else contextlib.nullcontext()):
            results, models = runner.run_all(**run)
        try:
            note = runner.write(results, models, data, out.staging, jobs, progress)
        except OSError as exc:
            raise ValueError(f"--out {out.shown}: cannot write the report "
                             f"({exc.strerror or exc}); nothing was written") from None
        if note:
            print(f"mlplab: {note}", file=sys.stderr)
        with _signals_held():
            out.switch()
            _report_in = out.shown
    finally:
        progress.close()
        if out is not None:
            with _signals_held():
                out.discard()
    elapsed = time.perf_counter() - start
    _print_summary(results, out.out, elapsed)
    return 0


def _say_completed(out):
    if out.completed:
        print(f"mlplab: {out.shown} held a report half moved in by a run that was killed; its "
              "moves are now complete", file=sys.stderr)


# To connect, to hear a scheduler's greeting, and for Dask's handshake (a slow network's may
# need more: the environment variable MLPLAB_SCHEDULER_SECONDS).
SCHEDULER_SECONDS = float(os.environ.get("MLPLAB_SCHEDULER_SECONDS", 10))


def _dask_client(address):
    """A client of the Dask scheduler at `address` (the optional `cluster` extra), or a
    ValueError within a bounded time that names the address and what answered."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs Dask: pip install 'mlplab[cluster]'") from None
    if address.startswith("tcp://"):
        _greeting(address)
    made = {}

    def connect():
        try:
            made["client"] = Client(address, timeout=f"{SCHEDULER_SECONDS}s")
        except BaseException as exc:   # MemoryError included: a reply read as a huge frame
            made["error"] = exc

    thread = threading.Thread(target=connect, name="mlplab-scheduler", daemon=True)
    thread.start()
    thread.join(3 * SCHEDULER_SECONDS)   # Dask's own timeout does not cover every wait
    if "client" in made:
        return made["client"]
    why = (f"{type(made['error']).__name__}: {made['error']}"[:200] if "error" in made
           else f"no answer within {3 * SCHEDULER_SECONDS} s")
    raise ValueError(f"--scheduler {address}: cannot connect to a Dask scheduler ({why})")


def _greeting(address):
    """Check that a Dask scheduler listens at tcp://HOST:PORT: it speaks first on a new
    connection, with a small binary frame. Raises ValueError saying what answered instead."""
    import socket

    host, _, port = address[len("tcp://"):].rpartition(":")
    try:
        port = int(port)
    except ValueError:
        raise ValueError(f"--scheduler {address}: expected tcp://HOST:PORT") from None
    try:
        with socket.create_connection((host.strip("[]"), port), SCHEDULER_SECONDS) as sock:
            sock.settimeout(SCHEDULER_SECONDS)
            first = sock.recv(64)
    except socket.timeout:
        raise ValueError(f"--scheduler {address}: connected, but nothing answered within "
                         f"{SCHEDULER_SECONDS} s; a Dask scheduler speaks first (is this another "
                         "server, such as the dashboard on 8787? the scheduler's port is usually "
                         "8786)") from None
    except OSError as exc:
        raise ValueError(f"--scheduler {address}: cannot connect "
                         f"({exc.strerror or exc})") from None
    if not first:
        raise ValueError(f"--scheduler {address}: not a Dask scheduler (it closed the "
                         "connection without a word)")
    if len(first) < 8 or int.from_bytes(first[:8], "little") > 2**24:
        raise ValueError(f"--scheduler {address}: not a Dask scheduler (it answered "
                         f"{first[:40]!r})")


def _print_summary(results, out, elapsed):
    from ._files import display_path
    from .lab import configs, report, runner

    print(f"Q1.1 output: {results['q1']['output']:.4f}")
    for result in results["q3"].values():
        print(runner.headline(result))
    for name, sweep in results["q4"].items():
        labels = configs.setting_labels(sweep)
        values = ", ".join(labels[i] for i in report.order(sweep))
        param = "layers" if sweep["config"]["param"] == "hidden" else sweep["config"]["param"]
        print(f"{sweep['config']['title']} ({param} = {values}):")
        print("  " + report.score_lists(sweep).replace("\n", "\n  "))
    written = [name for name in ("report.md", "report.html", "report.pdf")
               if (out / name).exists()]
    print(f"report: {', '.join(display_path(out / name) for name in written)}; numbers: "
          f"{display_path(out / 'results.json')} ({elapsed:.1f} s)")
    if report.pdf_engine() is None:
        print(f"no report.pdf: WeasyPrint is not installed ({sys.executable} -m pip "
              "install weasyprint, or '.[pdf]' from the checkout; it needs the system's Pango); "
              "print report.html from a browser instead")
    if results["quick"]:
        print("quick run: a smoke test; its numbers are not reference answers")


def _q1(args):
    from . import assignment
    from .lab.runner import run_q1

    q1, given = run_q1(), assignment.Q1
    fmt = lambda values: "[" + ", ".join(f"{v:.4f}" for v in values) + "]"  # noqa: E731
    print(f"Q1.1: w1 = {given['W1']}, b1 = {given['b1']}, w2 = {given['W2']}, "
          f"b2 = {given['b2']}, a0 = {given['input']}")
    print(f"  z1 = w1^T a0 + b1 = {fmt(q1['z1'])}")
    print(f"  a1 = sigmoid(z1)  = {fmt(q1['a1'])}")
    print(f"  z2 = w2^T a1 + b2 = {fmt(q1['z2'])}")
    print(f"  a2 = sigmoid(z2)  = {fmt(q1['a2'])}")
    print(f"output: {q1['output']:.4f}")
    return 0


def _trace(args):
    """`mlplab trace`: a bad specification is one line and status 2, as a usage error."""
    try:
        network, X, Y = _traced_network(args)
        trace = network.trace(X, Y, args.learning_rate, args.reg_lambda)
    except ValueError as exc:
        print(f"mlplab trace: error: {exc}", file=sys.stderr)
        return 2
    print(trace.to_markdown(), end="")
    if args.json:
        from ._files import strict_json
        _write_atomically(args.json, strict_json(trace.to_dict(), indent=1) + "\n")
    return 0


# The largest weights file or --data CSV `mlplab trace` reads: a trace is small.
_TRACE_FILE_BYTES = 1 << 20


def _traced_network(args):
    """(network, X, Y) of `mlplab trace`'s arguments: the Q1 network and sample by default."""
    import json

    import numpy as np

    from . import assignment, build_network
    from ._files import read_regular_file

    if args.sizes is None:   # Q1's 2-3-1 network, sigmoid and L2 loss, on its sample
        network = build_network([2, 3, 1], "sigmoid", "sigmoid")
        _set_weights(network, {key: assignment.Q1[key] for key in ("W1", "b1", "W2", "b2")},
                     "Q1")
        X, Y = np.array([assignment.Q1["input"]]), np.array([[assignment.Q1["y_true"]]])
    else:
        sizes = _numbers(args.sizes, "--sizes", int)
        activation = args.activation.split(",")
        network = build_network(sizes, activation if len(activation) > 1 else activation[0],
                                args.output)
        X = Y = None
    if args.weights:
        text = read_regular_file(args.weights, _TRACE_FILE_BYTES, "weights file")
        try:
            given = json.loads(text, parse_constant=lambda name: float("nan"))
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"--weights {_shown(args.weights)}: not JSON ({exc})") from None
        _set_weights(network, given, f"--weights {_shown(args.weights)}")
    n_in, n_out = network.layers[0].weights.shape[0], network.layers[-1].weights.shape[1]
    if args.data:
        table = np.loadtxt(io.BytesIO(read_regular_file(args.data, _TRACE_FILE_BYTES, "CSV file")),
                           delimiter=",", ndmin=2)
        if table.shape[1] != n_in + n_out:
            raise ValueError(f"--data {_shown(args.data)}: a row must hold {n_in} inputs and "
                             f"{n_out} targets, found {table.shape[1]} values")
        X, Y = table[:, :n_in], table[:, n_in:]
    elif args.input is not None or args.target is not None:
        if args.input is None or args.target is None:
            raise ValueError("give both --input and --target (or --data)")
        X, Y = _rows(args.input, "--input"), _rows(args.target, "--target")
    elif X is None:
        raise ValueError("a network given by --sizes needs samples: --input and --target, or "
                         "--data")
    return network, X, Y


def _numbers(text, option, kind=float):
    try:
        return [kind(value) for value in text.split(",")]
    except ValueError:
        raise ValueError(f"{option}: expected numbers separated by commas, got {text!r}") \
            from None


def _rows(text, option):
    import numpy as np
    rows = [_numbers(row, option) for row in text.split(";")]
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"{option}: every sample needs as many values, got {text!r}")
    return np.array(rows)


def _set_weights(network, given, where):
    """Each layer's W^(l) and b^(l) from `given` ({"W1": ..., "b1": ...}), shapes checked."""
    import numpy as np

    if not isinstance(given, dict):
        raise ValueError(f'{where}: expected an object {{"W1": [[...]], "b1": [...], ...}}')
    known = {f"{kind}{l}" for l in range(1, len(network.layers) + 1) for kind in "Wb"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"{where}: unknown names {', '.join(unknown)}; this network's are "
                         f"{', '.join(sorted(known))}")
    for l, layer in enumerate(network.layers, start=1):
        for name, old in ((f"W{l}", layer.weights), (f"b{l}", layer.biases)):
            if name not in given:
                continue
            try:
                value = np.array(given[name], dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"{where}: {name} is not an array of numbers") from None
            if old is None:
                raise ValueError(f"{where}: layer {l} has no biases, so no {name}")
            if value.shape != old.shape:
                raise ValueError(f"{where}: {name} must have shape {old.shape}, got "
                                 f"{value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{where}: {name} holds values that are not finite numbers")
            setattr(layer, "weights" if name[0] == "W" else "biases", value)


def _demo(args):
    """Train the assignment's Q2.5 network on iris and print its falling loss."""
    import dataclasses

    from .lab import configs
    from .lab.runner import run_q2_5

    training = dataclasses.replace(configs.Q2_5, epochs=args.epochs)
    q2_5 = run_q2_5(training)
    losses = q2_5["loss"]
    print(f"Q2.5: 2-4-1 sigmoid network, L2 loss, iris (100 rows, 2 features), "
          f"learning rate {training.learning_rate:g}")
    step = max(1, len(losses) // 10)
    for epoch in sorted(set(range(0, len(losses), step)) | {len(losses) - 1}):
        print(f"  epoch {epoch + 1:4d}  loss {losses[epoch]:.6f}")
    print(f"loss strictly decreasing: {'yes' if q2_5['strictly_decreasing'] else 'no'}")
    return 0


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="mlplab",
        description="The CS640 Homework 2 neural network, from scratch in NumPy: its reference "
                    "answers (run), a checker of students' own homework (check), the Q1 and "
                    "Q2.5 computations (q1, demo), and a step of any small network traced "
                    "(trace).")
    parser.add_argument("--version", action="version", version=f"mlplab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run every experiment (Q1, Q2.5, Q3, Q4) and write the reference answers",
        description="Run every experiment of the assignment and write mlplab's reference "
                    "answers into OUT: report.md, report.html (self-contained, prints to A4), "
                    "report.pdf (with the 'pdf' extra), results.json (every number), "
                    "figures/*.png and models/*.npz (the Q3 fold-1 networks, with their input "
                    "scaler: mlplab.load_model reads them).")
    run.add_argument("--out", default="mlplab-report", metavar="DIR",
                     help="output folder (default: mlplab-report). Only files an earlier run "
                          "wrote there, unchanged since, are replaced; any other file is left "
                          "alone, and a folder holding files in the way is refused")
    run.add_argument("--force", action="store_true",
                     help="write into --out even if files are in the way: they are moved "
                          "aside into a subfolder mlplab-set-aside-..., never deleted")
    run.add_argument("--data-dir", metavar="DIR",
                     help="load the course's own CSV files from DIR (dataset1/LinearX.csv, ..., "
                          "dataset2/Digit_X_train.csv, ...; or directly in DIR) instead of the "
                          "built-in data")
    run.add_argument("--seed", type=_whole_number(0, 2**32), default=0,
                     help="seed of the fold splits and mini-batch shuffling (default 0); the "
                          "same seed gives the same results.json")
    run.add_argument("--quick", action="store_true",
                     help="a smoke run: fewer epochs and at most 3 values per sweep")
    run.add_argument("--jobs", type=_whole_number(1), default=1, metavar="N",
                     help="train N networks in parallel (default 1); results are identical")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run the trainings on an existing Dask cluster, e.g. "
                          "tcp://host:8786 (needs the 'cluster' extra); results are identical")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar and no line per study (the data used and the "
                          "summary are still printed)")
    run.set_defaults(handler=_run)

    q1 = commands.add_parser("q1", help="print the Q1.1 forward pass, step by step",
                             description="Print the assignment's Q1.1 forward pass through its "
                                         "2-3-1 network, step by step, to its output 0.8221.")
    q1.set_defaults(handler=_q1)

    demo = commands.add_parser("demo", help="train the Q2.5 network and print its falling loss",
                               description="Train the assignment's Q2.5 network (2-4-1, "
                                           "sigmoid, L2 loss) on its iris data and print the "
                                           "loss as it falls, epoch by epoch.")
    demo.add_argument("--epochs", type=_whole_number(1), default=100,
                      help="number of epochs (default 100)")
    demo.set_defaults(handler=_demo)

    trace = commands.add_parser(
        "trace", help="one gradient-descent step of a small network, every quantity shown",
        description="Trace one gradient-descent step: each layer's z and a, the deltas, the "
                    "gradients and the new weights, with their formulas (Markdown on standard "
                    "output). By default the assignment's Q1 network on its sample (1, 1) with "
                    "target 1; or a network given by --sizes, --activation, --output and "
                    "--weights, on samples given by --input and --target or by --data. At most "
                    "64 units a layer and 16 samples (Network.gradients takes any size).")
    trace.add_argument("--sizes", metavar="N,N,...",
                       help="layer sizes [n_input, n_hidden..., n_output], e.g. 2,3,1")
    trace.add_argument("--activation", default="sigmoid", metavar="NAME[,NAME...]",
                       help="the hidden layers' activation, or one per hidden layer (default "
                            "sigmoid)")
    trace.add_argument("--output", default="sigmoid", metavar="NAME",
                       help="the output layer and its loss: sigmoid (L2 loss, the default), "
                            "softmax (cross-entropy) or identity (L2 loss)")
    trace.add_argument("--weights", metavar="FILE",
                       help='a JSON file {"W1": [[...]], "b1": [...], ...}, W^(l) of shape '
                            "(n_in, n_out); a layer it leaves out keeps its seeded initial "
                            "weights")
    trace.add_argument("--input", metavar="ROWS",
                       help="the samples: values separated by commas, samples by semicolons, "
                            "e.g. '1,1;0,1'")
    trace.add_argument("--target", metavar="ROWS", help="their targets, written the same way")
    trace.add_argument("--data", metavar="CSV",
                       help="a CSV file instead of --input and --target: a row a sample, its "
                            "inputs then its targets")
    trace.add_argument("--learning-rate", type=float, default=0.1, metavar="RATE",
                       help="the step's learning rate (default 0.1)")
    trace.add_argument("--reg-lambda", type=float, default=0.0, metavar="LAMBDA",
                       help="L2 strength (default 0)")
    trace.add_argument("--json", metavar="PATH",
                       help="also write every value, at full precision, as JSON to PATH")
    trace.set_defaults(handler=_trace)
    check = commands.add_parser(
        "check", help="grade students' own homework (.py or .ipynb) against the reference",
        description="Check a student's homework file (or a student's folder), or with --out a "
                    "whole class, against mlplab's reference: 19 checks with hints on the "
                    "mistakes found. The student's code runs in processes of its own, with "
                    "limits; every verdict is decided by the checker.")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="a homework file or one student's folder; with --out, any number "
                            "of files and folders (each file, and each subfolder, is one "
                            "submission)")
    check.add_argument("--out", metavar="DIR",
                       help="grade a class: write DIR/results/NAME.json per submission, "
                            "DIR/grades.csv and DIR/summary.md and .html (only files an earlier "
                            "check wrote there are replaced)")
    check.add_argument("--force", action="store_true",
                       help="with --out: move files in the way aside instead of refusing")
    check.add_argument("--json", metavar="PATH",
                       help="one submission: also write Gradescope's results.json to PATH")
    check.add_argument("--weights", metavar="FILE",
                       help="points, visibility and forbidden modules, a JSON file (see "
                            "docs/check.md); default: the points of each check")
    check.add_argument("--timeout", type=_seconds(1, 3600), default=60, metavar="SECONDS",
                       help="wall-clock limit for one submission's code, 1 to 3600 "
                            "(default 60)")
    check.add_argument("--seed", type=_whole_number(0, 2**63),
                       help="seed of the checks' inputs (default: new at each run)")
    check.add_argument("--jobs", type=_whole_number(1), default=1, metavar="N",
                       help="with --out: check N submissions at a time (default 1)")
    check.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --out: check on an existing Dask cluster (the 'cluster' extra)")
    check.add_argument("--gradescope-bundle", metavar="ZIP",
                       help="write Gradescope's autograder (setup.sh, run_autograder and this "
                            "mlplab) to ZIP, with the --weights settings, and check nothing")
    check.set_defaults(handler=_check)
    return parser


def _seconds(low, high):
    """An argparse type: a number of seconds in [low, high]."""
    def parse(text):
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not low <= seconds <= high:
            raise argparse.ArgumentTypeError(f"expected a number of seconds from {low:g} to "
                                             f"{high:g}, got {text!r}")
        return seconds
    return parse


def _check(args):
    """`mlplab check`: one submission (exit status 0 if every check passes, 1 if not), a class
    (--out; 0 once the grades are written), or the Gradescope bundle; 2 for a usage error."""
    from . import assignment, check
    from .check import checks, config, harness, report, sandbox, submissions

    try:
        grader = (config.read_config(args.weights, checks.all_checks()) if args.weights
                  else config.Config())
    except ValueError as exc:   # its message starts with the file's name
        return _usage(f"--weights {exc}", args.json)
    if args.gradescope_bundle:
        if args.paths or args.out:
            return _usage("--gradescope-bundle checks nothing: give no PATH and no --out")
        from .check import bundle
        bundle.write_bundle(args.gradescope_bundle, grader.settings)
        print(f"wrote {_shown(args.gradescope_bundle)}: upload it as the autograder "
              "of a Gradescope programming assignment")
        return 0
    if not args.paths:
        return _usage("give a homework file, a student's folder, or with --out a class")
    seed = args.seed if args.seed is not None else secrets.randbits(63)
    limits = check.Limits(seconds=args.timeout)
    if os.geteuid() == 0 and harness.unprivileged_user() is None:   # for the grader's eyes only
        print("mlplab check: note: this Python is not readable by the user 'nobody', so the "
              "students' code runs as nobody with root's right to read any file (and no "
              "other); a Python and mlplab installed where others may read them (not under "
              "/root or a private folder) keep it to nobody's own rights", file=sys.stderr)
    if args.out is None:
        if len(args.paths) > 1 or args.jobs != 1 or args.scheduler:
            return _usage("several submissions, --jobs and --scheduler need --out DIR for the "
                          "grades")
        try:
            submission = submissions.one_submission(args.paths[0])
        except submissions.SubmissionError as exc:
            return _usage(f"{_shown(args.paths[0])}: {exc}", args.json)
        try:
            source = submissions.read_source(submission.path)
        except submissions.SubmissionError as exc:   # a folder's file: check_submission says why
            source = exc
        # the libraries the file imports load while this process loads the Q2.5 data
        sandbox.shared_zygote(sandbox.preload_for([] if isinstance(source, Exception) else
                                                  [source]))
        assignment.load_q25()
        sandbox.become_reaper()
        result = check.check_submission(submission, grader, limits, seed, source=source)
        sandbox.reap_orphans()
        print(report.table(result))
        if args.json:
            _write_atomically(args.json, report.dumps(report.gradescope(result)))
        return 0 if all(verdict.passed for _, verdict in result.verdicts) else 1
    return _check_class(args, grader, limits, seed)


def _shown(path):
    from ._files import display_path
    return display_path(path)


def _usage(message, json_path=None):
    print(f"mlplab check: error: {message}", file=sys.stderr)
    if json_path:   # a grader still gets its file: no points, and why
        from .check import report
        try:
            _write_atomically(json_path, report.dumps({"score": 0.0, "tests": [],
                                                       "output": message}))
        except OSError:
            pass
    return 2


def _write_atomically(path, text):
    """Write `text` to a new file beside `path`, then rename it onto `path`: whatever was at
    `path` (a pipe, a link someone planted) is replaced, never written through."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, staged = tempfile.mkstemp(prefix=".mlplab-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(staged, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        raise


def _check_class(args, grader, limits, seed):
    from . import _report_folder as folder
    from . import check
    from .check import report, sandbox, submissions

    try:
        found, skipped = submissions.class_submissions(args.paths)
    except submissions.SubmissionError as exc:
        return _usage(str(exc))
    planned = ["grades.csv", "summary.md", "summary.html",
               *(f"results/{s.name}.json" for s in found)]
    out = None
    try:
        try:
            with _signals_held():
                out = folder.ReportFolder(args.out, planned, force=args.force,
                                          ours=CHECK_FILES, stage=False)
        except ValueError as exc:
            return _usage(str(exc))
        _say_completed(out)
        jobs = _jobs(args.jobs) if args.scheduler is None else -1
        print(f"checking {len(found)} submissions (seed {seed})")
        results = {}
        sandbox.become_reaper()
        with (_dask_client(args.scheduler) if args.scheduler else contextlib.nullcontext()):
            for result in check.check_class(found, grader, limits, seed, jobs,
                                            backend="dask" if args.scheduler else None):
                sandbox.reap_orphans()
                results[result.name] = result
                print(f"{len(results):4d}/{len(found)}  {report.clean(result.name)}  "
                      f"{result.score:g}/{result.max_score:g}  ({result.seconds:.1f} s)")
        sandbox.reap_orphans()
        # Written once every student's process has ended: none can touch these files.
        with _signals_held():
            out.make_staging()
        (out.staging / "results").mkdir()
        ordered = [results[s.name] for s in found]
        for result in ordered:
            (out.staging / "results" / f"{result.name}.json").write_text(
                report.dumps(report.gradescope(result)), encoding="utf-8")
        (out.staging / "grades.csv").write_text(report.grades_csv(ordered), encoding="utf-8")
        text = report.summary(ordered, seed, skipped)
        (out.staging / "summary.md").write_text(text, encoding="utf-8")
        (out.staging / "summary.html").write_text(report.html(text, "mlplab check: the class"),
                                                  encoding="utf-8")
        with _signals_held():   # what a student's code left in DIR meanwhile is set aside
            aside = out.switch(force=True)
        if aside:
            print(f"mlplab check: files that appeared in {out.shown} during the check were in "
                  f"the way and are now in {_shown(aside)}", file=sys.stderr)
    finally:
        if out is not None:
            with _signals_held():
                out.discard()
    print(f"grades: {_shown(out.out / 'grades.csv')}; summary: "
          f"{_shown(out.out / 'summary.html')}")
    return 0


def main(argv=None):
    global _report_in
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:   # plain `mlplab`: what it can do
        parser.print_help()
        return 0
    _report_in = None
    previous = {}
    try:
        for signum in _STOP_SIGNALS:
            previous[signum] = signal.signal(signum, _on_signal)
    except ValueError:   # not the main thread: signals cannot be handled here
        pass
    try:
        return args.handler(args)
    except BrokenPipeError:   # the reader of the output left (`mlplab q1 | head`): no message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except (ValueError, OSError) as exc:
        print(f"mlplab: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print("mlplab: error: out of memory; nothing was written", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        note = (f"the new report is complete in {_report_in}" if _report_in is not None
                else "nothing was written")
        print(f"mlplab: interrupted ({signal.Signals(signum).name}); {note}", file=sys.stderr)
        return 128 + signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
