"""Run the benchmarks: every workload, every installed engine, one process (or, for
workloads that declare PROCESSES, several fresh ones, pooled); print the ratios.

    python -m benchmarks                 # all workloads, rewrite benchmarks/RESULTS.md
    python -m benchmarks --only W1b      # some of them (their sections of RESULTS.md are updated)
    python -m benchmarks --quick         # fewer repeats, one process, results not written
    python -m benchmarks --processes 5   # every workload's samples from 5 fresh processes

Each workload's ``check()`` runs first: engines that disagree on the numbers are not timed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import (
    harness,
    w1_moons_mlp,
    w1b_chain,
    w2_big,
    w2_mlp,
    w2_nn,
    w3_elementwise,
    w4_second_order,
    w5_matmuls,
    w6_cnn,
)

WORKLOADS = [
    w1_moons_mlp,
    w1b_chain,
    w2_mlp,
    w2_nn,
    w3_elementwise,
    w4_second_order.HESSIAN,
    w4_second_order.HVP,
    w2_big,
    w5_matmuls,
    w6_cnn,
]
HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
# Engines compared, by their distribution names, for the versions line of RESULTS.md.
DISTRIBUTIONS = ["chainrule", "numpy", "micrograd", "torch", "autograd", "jax", "mygrad"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    names = [w.NAME for w in WORKLOADS]
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=names, help="workloads to run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls (default 15)")
    parser.add_argument("--quick", action="store_true", help="1 warm-up, 3 repeats, write nothing")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    parser.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="time each workload in N fresh processes, samples pooled (default: the "
        "workload's PROCESSES, else 1)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    warmup, repeat = (1, 3) if args.quick else (args.warmup, args.repeat)
    chosen = [w for w in WORKLOADS if not args.only or w.NAME in args.only]
    versions = {name: harness.version_of(name) for name in DISTRIBUTIONS}
    versions = {name: v for name, v in versions.items() if v != "not installed"}
    results = harness.load_results(RESULTS_JSON)
    print(f"machine: {harness.machine()}")
    print(f"versions: {versions}\n")
    for workload in chosen:
        if len(workload.engines()) < 2:
            print(f"{workload.NAME}: skipped, no peer installed (pip install -e '.[dev]')\n")
            continue
        print(f"{workload.NAME}: {workload.TITLE}")
        if hasattr(workload, "check"):
            workload.check()
            print("  check: the engines compute the same numbers")
        processes = args.processes or (1 if args.quick else getattr(workload, "PROCESSES", 1))
        timings = harness.time_workload(workload, warmup, repeat, processes)
        ratio = harness.ratios(timings, harness.metric(workload))
        for t in timings:
            print(
                f"  {t.engine:<12} {harness.describe(t, workload.UNIT)}"
                f"   ratio {ratio[t.engine]:.2f}"
            )
        print(f"  target: {workload.TARGET}\n")
        harness.record(results, workload, timings, versions, processes)
    if not (args.quick or args.no_write):
        harness.write_atomically(RESULTS_JSON, harness.json.dumps(results, indent=1) + "\n")
        harness.write_atomically(RESULTS_MD, harness.render_markdown(results))
        print(f"wrote {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
