"""Peak memory of one engine of a workload, measured in a process of its own.

A process's peak RSS only ever grows, so engines measured one after another in one process
would each inherit the peaks of those before. Each engine therefore runs here, alone:

    python -m benchmarks.memory benchmarks.w2_big chainrule 3 5

imports the workload module and the engine's packages (the workload's ``IMPORTS``), notes
the RSS (the baseline), builds the work, runs 3 untimed and 5 timed units, and prints one
JSON line: the process's peak RSS, the baseline, their difference (the work's own memory,
which is what is compared) and the seconds of each timed unit. Linux reports kB.
"""

from __future__ import annotations

import gc
import importlib
import json
import resource
import subprocess
import sys
from pathlib import Path

from benchmarks import harness

ROOT = Path(__file__).resolve().parent.parent  # where ``benchmarks`` can be imported from


def rss_now_kb() -> int:
    """The resident set size of this process now, in kB."""
    return _status_kb("VmRSS:")


def peak_rss_kb() -> int:
    """The largest resident set size this process has had, in kB.

    Linux's getrusage ru_maxrss is kept across exec: a child started by a large parent
    would report the parent's peak. VmHWM belongs to this process's own memory map.
    """
    return _status_kb("VmHWM:")


def _status_kb(field: str) -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    # no /proc (macOS): the peak so far, which macOS counts in bytes
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def run_engine(module: str, engine: str, warmup: int, repeat: int) -> dict:
    """In this process: import, note the baseline, build, run; the figures as a dict."""
    workload = importlib.import_module(module)
    for package in getattr(workload, "IMPORTS", {}).get(engine, ()):
        importlib.import_module(package)
    setup = workload.engines()[engine]
    gc.collect()
    baseline_kb = rss_now_kb()
    samples = harness.measure(setup(), warmup, repeat)
    peak_kb = peak_rss_kb()
    return {
        "peak_kb": peak_kb,
        "baseline_kb": baseline_kb,
        "work_kb": peak_kb - baseline_kb,
        "samples": samples,
    }


def measure(workload, engine: str, warmup: int, repeat: int) -> harness.Timing:
    """Run ``engine`` of ``workload`` in a fresh Python process; its memory and time."""
    command = [sys.executable, "-m", "benchmarks.memory", workload.__name__, engine]
    command += [str(warmup), str(repeat)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    figures = json.loads(done.stdout.splitlines()[-1])  # the engine may print before it
    return harness.summarise(
        engine,
        figures["samples"],
        getattr(workload, "FLOPS", None),
        peak_kb=figures["peak_kb"],
        work_kb=figures["work_kb"],
    )


def main(argv: list[str]) -> int:
    module, engine, warmup, repeat = argv
    print(json.dumps(run_engine(module, engine, int(warmup), int(repeat))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
