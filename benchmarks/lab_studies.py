"""The time of each study of `mlplab run`, in this checkout and in an earlier commit, taking turns.

    python benchmarks/lab_studies.py [--before dc550f2] [--rounds 3] [--threads 1] [--markdown]

Run it from a git checkout with this mlplab installed: the earlier commit's `src/mlplab` is
loaded beside it as `mlplab_before` (see before_after.py). For every study of the lab (Q3's two
cross-validations, Q4's five sweeps) each version runs the study's trainings as `mlplab run`
does serially (its own `runner.study_calls` and `runner.train_and_score` on the built-in data,
seed 0), the two versions taking turns study by study, their order swapped every round. The
medians over the rounds are printed with their ratio, and the script checks that both versions
assemble the same study records (`runner.assemble`), number for number. Everything runs under
threadpoolctl's limit of `--threads` BLAS threads (1: what each worker of ``--jobs`` gets).
"""

import argparse
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from before_after import load_before


def study_runners(ml):
    """{study name: (its title, a function running its trainings in version `ml` of mlplab and
    returning the study's record)}, each study as that version's configs give it."""
    runner, configs = ml.lab.runner, ml.lab.configs
    data, _ = runner.load_all(None)

    def runner_of(study):
        study_data = (data[study.dataset] if isinstance(study, configs.CrossValidation)
                      else data["digits"])

        def run():
            calls = runner.study_calls(study, study_data, 0)
            records = [runner.train_and_score(*call) for call in calls]
            for record in records:
                if isinstance(record, dict):
                    record.pop("model", None)
            return runner.assemble(study, study_data, records, 0)
        return run
    return {study.name: (study.title, runner_of(study)) for study in (*configs.Q3, *configs.Q4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="dc550f2", help="the earlier commit (default dc550f2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        load_before(args.before, folder)
        # The lab is not imported by the package itself.
        import mlplab.lab.runner
        import mlplab_before.lab.runner
        runners = {"before": study_runners(mlplab_before), "after": study_runners(mlplab)}
        names = list(runners["after"])
        times = {name: {"before": [], "after": []} for name in names}
        records = {}
        with threadpool_limits(args.threads, user_api="blas"):
            for round_number in range(args.rounds):
                order = ["before", "after"][::-1 if round_number % 2 else 1]
                for name in names:
                    for label in order:
                        start = time.perf_counter()
                        records[name, label] = runners[label][name][1]()
                        times[name][label].append(time.perf_counter() - start)
        print(f"before: {args.before}; after: this checkout; medians of {args.rounds} rounds, "
              f"{args.threads} BLAS thread(s)")
        lines = [("study", "before (s)", "after (s)", "after / before", "same records")]
        total = {"before": 0.0, "after": 0.0}
        for name in names:
            medians = {label: float(np.median(times[name][label]))
                       for label in ("before", "after")}
            for label in total:
                total[label] += medians[label]
            same = _same(records[name, "before"], records[name, "after"])
            lines.append((runners["after"][name][0],
                          f"{medians['before']:.2f}", f"{medians['after']:.2f}",
                          f"{medians['after'] / medians['before']:.2f}", "yes" if same else "NO"))
        lines.append(("all studies", f"{total['before']:.2f}", f"{total['after']:.2f}",
                      f"{total['after'] / total['before']:.2f}", ""))
        for line in lines:
            print(("| " + " | ".join(line) + " |") if args.markdown else "  ".join(line))
            if args.markdown and line is lines[0]:
                print("|" + "---|" * len(line))


def _same(a, b):
    """Whether two study records hold the same numbers (NaN equal to NaN)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b))
    return a == b


if __name__ == "__main__":
    main()
