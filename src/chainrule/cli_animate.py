"""``chainrule animate``: optimisers descending a surface together, written as a GIF.

``--lr`` is one rate for every optimiser, or one per optimiser in the same order
(``--optimizers sgd,adam --lr 0.001,0.05``): rates that suit one optimiser rarely suit all.

>>> out = animate_output("bowl", None, ["sgd"], lrs=[0.1], steps=3, path=None)
>>> out.data["frames"], out.data["runs"]["sgd"]["steps"]
(4, 3)
"""

from __future__ import annotations

from pathlib import Path

from chainrule.cli_descend import _check_steps, _target
from chainrule.cli_output import CommandError, Output
from chainrule.descent_sweep import compare

__all__ = ["animate_output", "learning_rates"]


def learning_rates(text: str | None, optimizers: list[str]) -> list[float | None]:
    """``--lr``: none (each optimiser's default), one rate for all, or one per optimiser.

    >>> learning_rates("0.001,0.05", ["sgd", "adam"])
    [0.001, 0.05]
    >>> learning_rates(None, ["sgd", "adam"])
    [None, None]
    """
    if text is None:
        return [None] * len(optimizers)
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise CommandError(
            f"--lr: expected numbers like 0.01 or 0.001,0.05, got {text!r}"
        ) from None
    if len(rates) == 1:
        rates *= len(optimizers)
    if len(rates) != len(optimizers):
        raise CommandError(
            f"--lr gives {len(rates)} rates for {len(optimizers)} optimizers: give one, or one each"
        )
    for rate in rates:
        if not rate > 0:
            raise CommandError(f"--lr: learning rates must be > 0, got {rate:g}")
    return rates


def animate_output(
    target: str,
    start: dict | None,
    optimizers: list[str],
    lrs: list[float | None],
    steps: int = 200,
    path: str | None = "descent.gif",
    fps: float = 10,
    frames: int | None = None,
) -> Output:
    """Descend ``target`` with each optimiser and write the GIF to ``path`` (None: draw it
    in memory only, for tests)."""
    f, x0, label = _target(target, start)
    if len(x0) != 2:
        raise CommandError(
            f"animate draws surfaces of two variables; {label} has {len(x0)}: {', '.join(x0)}"
        )
    _check_steps(steps)
    if fps <= 0:
        raise CommandError(f"--fps must be > 0, got {fps:g}")
    if frames is not None and frames < 1:
        raise CommandError(f"--frames must be >= 1, got {frames}")
    specs = {name: {"optimizer": name, "lr": lr} for name, lr in zip(optimizers, lrs)}
    runs = compare(f, x0, specs, steps=steps)
    try:
        from chainrule.viz.animate import animate, frame_steps
    except ImportError as error:  # pragma: no cover - the module itself needs only NumPy
        raise CommandError(str(error)) from None
    try:
        written = animate(f, runs, None if path is None else Path(path), fps=fps, frames=frames)
    except ImportError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    longest = max(len(t.points) for t in runs.values())
    count = len(frame_steps(longest, frames))
    table = runs.table()
    table.title = f"{label}: {len(runs)} optimizers, {count} frames at {fps:g} fps"
    where = f"wrote {written}" if path is not None else f"drew {len(written)} bytes"
    data = {
        "target": label,
        "from": x0,
        "path": None if path is None else str(written),
        "frames": count,
        "fps": fps,
        "runs": {name: t.to_dict() for name, t in runs.items()},
    }
    return Output([table, where], data)
