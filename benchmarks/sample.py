"""One process's timed samples of one workload, as JSON on stdout (seconds per engine).

``python -m benchmarks --processes N`` runs this N times, each in a fresh interpreter, and
pools the samples: some workloads' times differ from one process to the next by more than
they vary within one (W2's NumPy floor: 2.8 to 4.9 ms per step in six fresh processes on
these 2-core machines, the cause not pinned down), so one process alone can crown either
engine.

    python -m benchmarks.sample W2 3 15
"""

from __future__ import annotations

import json
import sys

from benchmarks import harness


def samples(name: str, warmup: int, repeat: int) -> dict[str, list[float]]:
    """Seconds of each timed call of every engine of workload ``name``, taken in rounds."""
    from benchmarks.run import WORKLOADS

    workload = next(w for w in WORKLOADS if w.NAME == name)
    runs = {engine: setup() for engine, setup in workload.engines().items()}
    return harness.interleave(runs, warmup, min(repeat, getattr(workload, "REPEAT", repeat)))


if __name__ == "__main__":
    name, warmup, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(samples(name, warmup, repeat)))
