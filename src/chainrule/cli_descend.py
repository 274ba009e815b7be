"""``chainrule descend`` and ``chainrule surfaces``: gradient descent on a formula or a named
test surface, step by step, as ``Output``.

>>> out = descend_output("(w-3)**2", {"w": 0.0}, lr=0.3, steps=3)
>>> [round(point[0], 12) for point in out.data["points"][1:]]
[1.8, 2.52, 2.808]
>>> descend_output("(w-3)**2", {"w": 0.0}, lr=1.5, steps=20).data["status"]
'diverged'
"""

from __future__ import annotations

from chainrule import surfaces
from chainrule.cli_output import CommandError, Output, check_point
from chainrule.descent import OPTIMIZERS, descend
from chainrule.descent_sweep import compare
from chainrule.expr import parse
from chainrule.table import Table, format_number

__all__ = ["compare_output", "descend_output", "optimizer_names", "surfaces_output"]


def optimizer_names(text: str) -> list[str]:
    """``"sgd, adam"`` as ``["sgd", "adam"]``; CommandError for a name that is not one.

    >>> optimizer_names("sgd,momentum")
    ['sgd', 'momentum']
    """
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise CommandError("--compare: give optimizer names like sgd,momentum,adam")
    for name in names:
        if name not in OPTIMIZERS:
            raise CommandError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZERS)})")
    return names


def descend_output(
    target: str,
    start: dict | None,
    optimizer: str = "sgd",
    lr: float | None = None,
    steps: int = 20,
    tol: float | None = 1e-8,
) -> Output:
    """One descent of ``target`` (a formula, or a surface's name) from ``start``: the course's
    table, one row per step, and a line saying how it ended (loudly when it diverged)."""
    f, x0, label = _target(target, start)
    _check_steps(steps)
    trajectory = descend(f, x0, optimizer, lr=lr, steps=steps, tol=tol)
    blocks: list = [trajectory.table(max_rows=20)]
    if trajectory.status == "diverged":
        blocks.append(
            f"DIVERGED: the steps grew without bound instead of settling; the learning rate "
            f"{format_number(lr) if lr is not None else '(the default)'} is too large for "
            f"{label}. Try a smaller --lr."
        )
    data = {"target": label, "from": x0, **trajectory.to_dict()}
    return Output(blocks, data)


def compare_output(
    target: str,
    start: dict | None,
    optimizers: list[str],
    lr: float | None = None,
    steps: int = 20,
    tol: float | None = 1e-8,
) -> Output:
    """The same descent with each optimizer, one summary row each."""
    f, x0, label = _target(target, start)
    _check_steps(steps)
    runs = compare(f, x0, optimizers, lr=lr, steps=steps, tol=tol)
    table = runs.table()
    table.title = f"{label} from {_point_text(x0)}"
    data = {
        "target": label,
        "from": x0,
        "runs": {name: trajectory.to_dict() for name, trajectory in runs.items()},
    }
    return Output([table], data)


def surfaces_output() -> Output:
    """Every named surface: its formula, minimum and the start that shows its lesson.

    >>> "rosenbrock" in [s["name"] for s in surfaces_output().data["surfaces"]]
    True
    """
    rows, listed = [], []
    for name in surfaces.names():
        surface = surfaces.get(name)
        start = dict(zip(surface.variables, surface.start))
        minimum = "none" if surface.minimum is None else surface.minimum
        rows.append([name, surface.text, minimum, _point_text(start)])
        listed.append(
            {
                "name": name,
                "formula": surface.text,
                "variables": list(surface.variables),
                "domain": [list(bounds) for bounds in surface.domain],
                "minima": [list(point) for point in surface.minima],
                "minimum": surface.minimum,
                "start": start,
                "lesson": surface.lesson,
            }
        )
    table = Table(
        ["name", "formula", "minimum", "start"],
        rows,
        notes=["descend on one: chainrule descend NAME --lr 0.01 --steps 200"],
    )
    return Output([table], {"surfaces": listed})


def _target(target: str, start: dict | None):
    """The function to descend, x0 as a dict, and a label; a surface's name wins over a
    formula of one variable of that name."""
    if target.strip().lower().replace("-", "_").replace(" ", "_") in surfaces.names():
        surface = surfaces.get(target)
        if start is None:
            start = dict(zip(surface.variables, surface.start))
        check_point(start, surface.variables, "--from", f"surface {surface.name}")
        return surface, {name: start[name] for name in surface.variables}, surface.name
    f = parse(target)
    if not f.variables:
        raise CommandError(f"the formula {f.text!r} has no variables to descend in")
    if start is None:
        example = ",".join(f"{name}=0" for name in f.variables)
        raise CommandError(f"descend needs a starting point: --from {example}")
    check_point(start, f.variables, "--from", "the formula")
    return f, {name: start[name] for name in f.variables}, f.text


def _check_steps(steps: int) -> None:
    if steps < 0:
        raise CommandError(f"--steps must be >= 0, got {steps}")


def _point_text(point: dict) -> str:
    return ", ".join(f"{name} = {format_number(value)}" for name, value in point.items())
