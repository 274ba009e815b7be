"""The measuring device: timing, the machine's description, and the results file.

A workload is a module with:

``NAME``, ``TITLE``, ``UNIT``    how it is shown ("W1", "micrograd's demo MLP", "per step")
``TARGET``                        the goal it measures, in words
``engines()``                     ``{engine name: setup}``, each setup a function that builds the
                                  work and returns a callable doing one unit of it; an engine whose
                                  package is not installed is left out
``check()``                       optional: asserts that the engines compute the same numbers
``NOTE``                          optional: what a reader of the figures should know

Every engine of a workload runs in the same process, one after the other, with the same
warm-up and the same number of repeats; the median is reported.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REFERENCE = "chainrule"


def installed(module: str) -> bool:
    """Whether ``module`` can be imported here, without importing it."""
    return importlib.util.find_spec(module) is not None


def version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@dataclasses.dataclass
class Timing:
    engine: str
    median: float  # seconds per call
    fastest: float
    slowest: float
    runs: int


def measure(run: Callable[[], object], warmup: int, repeat: int) -> list[float]:
    """Seconds taken by each of ``repeat`` timed calls of ``run``, after ``warmup`` calls."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return samples


def time_workload(workload, warmup: int, repeat: int) -> list[Timing]:
    """Time every installed engine of ``workload``, the reference engine first."""
    timings = []
    for engine, setup in workload.engines().items():
        run = setup()
        gc.collect()  # start each engine from the same, clean heap
        samples = measure(run, warmup, repeat)
        timings.append(
            Timing(engine, statistics.median(samples), min(samples), max(samples), len(samples))
        )
        del run
    return timings


def ratios(timings: list[Timing]) -> dict[str, float]:
    """Each engine's time divided by chainrule's: 3.0 means chainrule is three times faster."""
    ours = next(t.median for t in timings if t.engine == REFERENCE)
    return {t.engine: t.median / ours for t in timings}


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, so a crash never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_results(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def record(results: dict, workload, timings: list[Timing], versions: dict[str, str]) -> None:
    """Put one workload's timings into ``results`` (keyed by workload name)."""
    relative = ratios(timings)
    results[workload.NAME] = {
        "title": workload.TITLE,
        "unit": workload.UNIT,
        "target": workload.TARGET,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions,
        "note": getattr(workload, "NOTE", ""),
        "timings": [
            {
                "engine": t.engine,
                "median_s": t.median,
                "fastest_s": t.fastest,
                "slowest_s": t.slowest,
                "runs": t.runs,
                "ratio": relative[t.engine],
            }
            for t in timings
        ],
    }


def render_markdown(results: dict) -> str:
    """RESULTS.md: one section per workload, with the machine, date and versions it ran with."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks`; do not edit by hand. Each row is the median time",
        "of one unit of work after warm-up. *ratio* is the engine's time divided by chainrule's:",
        "above 1 means chainrule is faster.",
        "",
    ]
    for name in sorted(results, key=_workload_order):
        entry = results[name]
        m = entry["machine"]
        versions = ", ".join(f"{k} {v}" for k, v in entry["versions"].items())
        runs = entry["timings"][0]["runs"]
        lines += [
            f"## {name}: {entry['title']}",
            "",
            f"Target: {entry['target']}",
            "",
            *([entry["note"], ""] if entry.get("note") else []),
            f"Measured {entry['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']},"
            f" {m['system']}; {versions}.",
            "",
            f"| engine | median time {entry['unit']} | fastest – slowest of {runs} | ratio |",
            "|---|---:|---:|---:|",
        ]
        for t in entry["timings"]:
            spread = f"{format_seconds(t['fastest_s'])} – {format_seconds(t['slowest_s'])}"
            lines.append(
                f"| {t['engine']} | {format_seconds(t['median_s'])} | {spread} | {t['ratio']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def _workload_order(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)
