"""How long `mlplab check` takes: one homework file, and a class of 200 with --jobs 2.

    python benchmarks/check_speed.py [--rounds 5] [--class-size 200] [--markdown]

Three figures, each a median over rounds; before each, the cores other processes kept busy
over 3 s of waiting (from /proc/stat), so that a reader can tell how quiet the machine was:

- per file, warm: checking one file once the libraries are loaded (what each file of a class
  costs), for the test homework's four styles (tests/students/correct*.py);
- one file, cold: the whole command `mlplab check FILE`, Python's start-up and the libraries'
  loading included;
- a class: `mlplab check DIR --out OUT --jobs 2` on CLASS_SIZE copies of those four files.
"""

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUDENTS = sorted((ROOT / "tests" / "students").glob("correct*.py"))


def busy_cores(seconds=3.0):
    """The cores other processes keep busy while this one waits `seconds` (from /proc/stat):
    how quiet the machine is just before a measurement."""
    def cpu():
        fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
        return sum(fields) - fields[3] - fields[4]   # all but idle and iowait, in ticks

    before = cpu()
    time.sleep(seconds)
    return (cpu() - before) / os.sysconf("SC_CLK_TCK") / seconds


def warm_per_file(rounds):
    from mlplab.check import check_submission
    from mlplab.check.sandbox import Zygote
    from mlplab.check.submissions import one_submission

    zygote = Zygote()
    times = {path.name: [] for path in STUDENTS}
    try:
        for path in STUDENTS:   # first use: the zygote finishes loading
            check_submission(one_submission(path), seed=0, zygote=zygote)
        for _ in range(rounds):
            for path in STUDENTS:
                start = time.perf_counter()
                check_submission(one_submission(path), seed=0, zygote=zygote)
                times[path.name].append(time.perf_counter() - start)
    finally:
        zygote.close()
    return {name: statistics.median(values) for name, values in times.items()}


def cold_one_file(rounds, path):
    command = [sys.executable, "-m", "mlplab", "check", str(path), "--seed", "0"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def class_run(rounds, size):
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mlplab-class-"))
    try:
        for number in range(size):
            source = STUDENTS[number % len(STUDENTS)]
            shutil.copy(source, folder / f"student{number:03d}.py")
        times = []
        for round_ in range(rounds):
            out = folder.parent / f"{folder.name}-out{round_}"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "mlplab", "check", str(folder), "--out",
                            str(out), "--jobs", "2", "--seed", "0"], stdout=subprocess.DEVNULL,
                           check=True)
            times.append(time.perf_counter() - start)
            shutil.rmtree(out)
        return statistics.median(times)
    finally:
        shutil.rmtree(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=200)
    parser.add_argument("--class-rounds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    busy_warm = busy_cores()
    warm = warm_per_file(args.rounds)
    busy_cold = busy_cores()
    cold = cold_one_file(args.rounds, STUDENTS[0])
    busy_class = busy_cores()
    whole = class_run(args.class_rounds, args.class_size)
    rows = [(f"per file, warm: {name}", f"{seconds:.3f} s", f"{busy_warm:.2f}")
            for name, seconds in warm.items()]
    rows += [(f"one file, cold: mlplab check {STUDENTS[0].name}", f"{cold:.2f} s",
              f"{busy_cold:.2f}"),
             (f"a class of {args.class_size}, --jobs 2", f"{whole:.1f} s "
              f"({whole / args.class_size:.3f} s a file)", f"{busy_class:.2f}")]
    print(f"{os.cpu_count()} CPUs; medians of {args.rounds} rounds ({args.class_rounds} for "
          "the class); 'busy before': cores other processes kept busy just before; load "
          f"average {os.getloadavg()[0]:.2f}")
    if args.markdown:
        print("\n| what | median | busy before |\n|---|---:|---:|")
        for row in rows:
            print(f"| {' | '.join(row)} |")
    else:
        for what, median, others in rows:
            print(f"{what:55s} {median:>24s}   busy before {others}")


if __name__ == "__main__":
    main()
