"""The measuring device: timing, the machine's description, and the results file.

A workload is a module with:

``NAME``, ``TITLE``, ``UNIT``    how it is shown ("W1", "micrograd's demo MLP", "per step")
``TARGET``                        the goal it measures, in words
``engines()``                     ``{engine name: setup}``, each setup a function that builds the
                                  work and returns a callable doing one unit of it; an engine whose
                                  package is not installed is left out
``check()``                       optional: asserts that the engines compute the same numbers
``NOTE``                          optional: what a reader of the figures should know
``REPEAT``                        optional: at most this many timed calls (for slow units)
``FLOPS``                         optional: floating-point operations per unit; GFLOP/s is shown
``METRIC``                        optional: ``"time"`` (the default) or ``"memory"``

Every engine of a workload runs in the same process, one after the other, with the same
warm-up and the same number of repeats; the median is reported. A memory workload instead
runs each engine in a fresh process (peak RSS is per process, see ``benchmarks.memory``) and
compares the work's own peak memory; its time is reported beside it.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
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
    gflops: float | None = None  # workloads that declare FLOPS
    peak_kb: int | None = None  # memory workloads: the process's peak RSS
    work_kb: int | None = None  # ... and how far it rose above the RSS after imports


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


def training_step(model, optimizer, cross_entropy, x, target) -> Callable[[], object]:
    """One SGD step as a PyTorch-shaped API writes it: chainrule's cr.nn/cr.optim and torch's
    alike (the W2-nn and W6 workloads time it for both)."""

    def step():
        optimizer.zero_grad()
        loss = cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def check_losses(
    label: str, setups: dict, steps: int, rtol: float, names=None, must_fall: bool = False
) -> dict[str, list[float]]:
    """Train every engine (or those named) ``steps`` steps from the same start; raise if
    chainrule's losses are not finite (or, with ``must_fall``, do not fall), or if another
    engine's differ from chainrule's."""
    losses = {}
    for name in [REFERENCE, *(n for n in names or setups if n != REFERENCE)]:
        step = setups[name]()
        losses[name] = [float(step()) for _ in range(steps)]
    ours = losses[REFERENCE]
    if not all(math.isfinite(v) for v in ours):
        raise AssertionError(f"{label}: chainrule's losses are not finite: {ours}")
    if must_fall and not ours[-1] < ours[0]:
        raise AssertionError(f"{label}: chainrule's losses do not fall: {ours}")
    for name, theirs in losses.items():
        if not all(math.isclose(a, b, rel_tol=rtol) for a, b in zip(theirs, ours)):
            raise AssertionError(f"{label}: {name} losses {theirs} != chainrule losses {ours}")
    return losses


def metric(workload) -> str:
    """What a workload compares: ``"time"`` or ``"memory"``."""
    return getattr(workload, "METRIC", "time")


def summarise(engine: str, samples: list[float], flops: int | None = None, **memory) -> Timing:
    """A Timing from the seconds of each timed call (and, given, the flops of one call)."""
    median = statistics.median(samples)
    gflops = flops / median / 1e9 if flops else None
    return Timing(engine, median, min(samples), max(samples), len(samples), gflops, **memory)


def time_workload(workload, warmup: int, repeat: int, processes: int = 1) -> list[Timing]:
    """Time every installed engine of ``workload``, the reference engine first; with
    ``processes`` > 1, ``repeat`` calls in each of that many fresh processes, pooled."""
    repeat = min(repeat, getattr(workload, "REPEAT", repeat))
    if metric(workload) == "memory":
        from benchmarks import memory  # it builds on this module

        return [memory.measure(workload, engine, warmup, repeat) for engine in workload.engines()]
    if processes > 1:
        samples = pooled_samples(workload.NAME, warmup, repeat, processes)
    else:
        runs = {engine: setup() for engine, setup in workload.engines().items()}
        samples = interleave(runs, warmup, repeat)
    flops = getattr(workload, "FLOPS", None)
    return [summarise(engine, samples[engine], flops) for engine in samples]


def pooled_samples(name: str, warmup: int, repeat: int, processes: int) -> dict[str, list]:
    """The samples of ``processes`` fresh interpreters (``benchmarks.sample``), pooled."""
    pooled: dict[str, list[float]] = {}
    root = Path(__file__).resolve().parent.parent
    for _ in range(processes):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.sample", name, str(warmup), str(repeat)],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        )
        for engine, seconds in json.loads(done.stdout).items():
            pooled.setdefault(engine, []).extend(seconds)
    return pooled


# a pause before each engine's turn, long enough for other engines' spinning threads to sleep
SETTLE_SECONDS = 0.01


def interleave(runs: dict, warmup: int, repeat: int) -> dict[str, list[float]]:
    """Seconds of ``repeat`` timed calls of each run, taken in rounds: every engine once per
    round, so that a machine that slows down for a while (a shared VM does) slows all engines
    alike instead of whichever was being timed. Before each engine's turn, the previous one's
    after-effects are cleared: its garbage collected (micrograd leaves cycles, which the
    collector would otherwise clear during the next engine's call), a pause for its thread
    pools to stop spinning (PyTorch's do, for a while), and one untimed call to warm caches.
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[float]] = {engine: [] for engine in runs}
    for _ in range(repeat):
        for engine, run in runs.items():
            gc.collect()
            time.sleep(SETTLE_SECONDS)
            run()
            start = time.perf_counter()
            run()
            samples[engine].append(time.perf_counter() - start)
    return samples


def figure(timing: Timing, measured: str = "time") -> float:
    """The figure compared: seconds per unit, or for memory the work's own peak RSS in kB."""
    return timing.work_kb if measured == "memory" else timing.median


def ratios(timings: list[Timing], measured: str = "time") -> dict[str, float]:
    """Each engine's figure divided by chainrule's: 3.0 means chainrule takes a third of the
    time (or memory) the engine takes."""
    ours = next(figure(t, measured) for t in timings if t.engine == REFERENCE)
    return {t.engine: figure(t, measured) / ours for t in timings}


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


def format_kb(kb: int) -> str:
    return f"{kb / 1024:.1f} MiB"


def describe(timing: Timing, unit: str) -> str:
    """One engine's figures on one line: time, and GFLOP/s or memory where measured."""
    text = f"{format_seconds(timing.median):>9} {unit}"
    if timing.gflops is not None:
        text += f", {timing.gflops:.1f} GFLOP/s"
    if timing.work_kb is not None:
        text = f"work {format_kb(timing.work_kb)} (process {format_kb(timing.peak_kb)}), " + text
    return text


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


def record(
    results: dict, workload, timings: list[Timing], versions: dict[str, str], processes: int = 1
) -> None:
    """Put one workload's timings into ``results`` (keyed by workload name); ``processes``:
    how many fresh processes the samples were pooled from."""
    measured = metric(workload)
    relative = ratios(timings, measured)
    results[workload.NAME] = {
        "title": workload.TITLE,
        "unit": workload.UNIT,
        "target": workload.TARGET,
        "metric": measured,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "versions": versions,
        "note": getattr(workload, "NOTE", ""),
        "processes": processes,
        "timings": [
            {
                "engine": t.engine,
                "median_s": t.median,
                "fastest_s": t.fastest,
                "slowest_s": t.slowest,
                "runs": t.runs,
                "ratio": relative[t.engine],
                **_optional_figures(t),
            }
            for t in timings
        ],
    }


def _optional_figures(timing: Timing) -> dict:
    figures = {"gflops": timing.gflops, "peak_kb": timing.peak_kb, "work_kb": timing.work_kb}
    return {name: value for name, value in figures.items() if value is not None}


# results.json's key for the sections of RESULTS.md that other tools measure and write (the
# hiker's load, by benchmarks.load_hiker): {title: Markdown}, rendered after the workloads,
# so that rewriting RESULTS.md from results.json keeps them
SECTIONS = "sections"


def render_markdown(results: dict) -> str:
    """RESULTS.md: one section per workload, with the machine, date and versions it ran with,
    then the sections other tools put under ``results[SECTIONS]``, as they wrote them."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks`; do not edit by hand. Each row is the median time",
        "of one unit of work after warm-up. *ratio* is the engine's time divided by chainrule's:",
        "above 1 means chainrule is faster. In a memory workload each engine runs in a process",
        "of its own, and *ratio* divides the work's peak RSS (the process's peak RSS minus its",
        "RSS after imports) by chainrule's: above 1 means chainrule needs less memory.",
        "",
    ]
    workloads = [name for name in results if name != SECTIONS]
    for name in sorted(workloads, key=_workload_order):
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
        ]
        processes = entry.get("processes", 1)
        if processes > 1:
            lines += [
                f"Samples pooled from {processes} fresh processes, {runs // processes} timed"
                " calls of each engine in each: this workload's times differ more from one"
                " process to the next than within one.",
                "",
            ]
        columns = [f"median time {entry['unit']}", f"fastest – slowest of {runs}"]
        if entry.get("metric") == "memory":
            columns = ["work's peak RSS", "process's peak RSS", *columns]
        if "gflops" in entry["timings"][0]:
            columns.append("GFLOP/s")
        lines += [
            "| engine | " + " | ".join(columns) + " | ratio |",
            "|---|" + "---:|" * (len(columns) + 1),
        ]
        lines += [_row(t) for t in entry["timings"]]
        lines.append("")
    for text in results.get(SECTIONS, {}).values():
        lines += [text.strip("\n"), ""]
    return "\n".join(lines)


def _row(t: dict) -> str:
    """One engine's row of a results table, from its entry in results.json."""
    cells = [t["engine"]]
    if "work_kb" in t:
        cells += [format_kb(t["work_kb"]), format_kb(t["peak_kb"])]
    cells += [
        format_seconds(t["median_s"]),
        f"{format_seconds(t['fastest_s'])} – {format_seconds(t['slowest_s'])}",
    ]
    if "gflops" in t:
        cells.append(f"{t['gflops']:.1f}")
    cells.append(f"{t['ratio']:.2f}")
    return "| " + " | ".join(cells) + " |"


def _workload_order(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)
