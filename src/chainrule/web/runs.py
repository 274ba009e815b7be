"""Several optimisers descending one formula side by side, as the hiker shows them.

``descend_together`` gives, for each optimiser, what ``cr.descend`` gives (the same points,
values, gradients, status and ``diverged_at``, by the same stopping rules), computed faster
for the page: all runs take their steps together, the gradients of all of them come from one
replay of the formula's tape (``chainrule.web.tape``: the ops' own VJP rules on arrays), and
each first-order step is its optimiser's own update rule (``Optimizer._update`` of
``cr.optim``) applied to that run's point. Newton, which needs the Hessian, steps through
its ``cr.optim.Newton`` exactly as ``cr.descend`` does.

Each run also stops with status ``"time_limit"`` once ``deadline`` (a ``time.monotonic()``
instant) has passed: the path so far is kept.

>>> from chainrule import surfaces
>>> bowl = surfaces.get("bowl")
>>> sgd, adam = descend_together(bowl.formula, (2.5, -1.5), [("sgd", {"lr": 0.1}),
...                                                           ("adam", {"lr": 0.1})], steps=50)
>>> sgd.status, sgd.steps, sgd.points[1].tolist()
('max_steps', 50, [2.0, -1.2])
"""

from __future__ import annotations

import threading
import time

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.descent import EXPLODE_FACTOR, EXPLODE_PATIENCE, OPTIMIZERS, Trajectory
from chainrule.expr import Formula
from chainrule.tensor import Tensor
from chainrule.web.tape import Tape

__all__ = ["descend_together", "make_optimizer"]

# chainrule's grad mode (no_grad, enable_grad) is one flag for the whole process, not one per
# thread: two Newton steps in two server threads would switch it under each other. The
# first-order runs never touch it (the tape and the update rules work on ndarrays), so only
# the steps that use the Tensor engine take turns.
_TENSOR_ENGINE = threading.Lock()


def make_optimizer(name: str, options: dict, params: list[Tensor]):
    """The ``cr.optim`` optimiser called ``name`` (a key of ``cr.descent.OPTIMIZERS``) over
    ``params``, its defaults overridden by ``options``; ValueError naming what is wrong."""
    kind, defaults = OPTIMIZERS[name]
    try:
        return kind(params, **{**defaults, **options})
    except TypeError as error:
        raise ValueError(f"{name} does not take these hyperparameters: {error}") from None


class _Run:
    """One optimiser's run: its optimizer, the state of its update rule, where it stopped."""

    def __init__(self, name: str, options: dict, start: np.ndarray, formula: Formula, names):
        self.name = name
        self.newton = name == "newton"
        if self.newton:
            # two 0-d parameters, as cr.descend makes them, stepped by Newton.step
            self.params = [Tensor._wrap(np.array(v)).requires_grad_() for v in start]
            self.opt = make_optimizer(name, options, self.params)
            self.call = lambda: formula(**dict(zip(names, self.params)))
        else:
            self.opt = make_optimizer(name, options, [Tensor._wrap(start.copy())])
            self.group = self.opt.param_groups[0]
            self.state = self.opt._init_state(start, self.group)
        self.status = None
        self.stopped_at = None  # the index of the last point of the run
        self.diverged_at = None

    def step(self, point: np.ndarray, gradient: np.ndarray, has_graph: bool) -> None:
        """Move ``point`` (this run's row, changed in place) one step."""
        if not self.newton:
            self.opt._update(point, gradient, self.state, self.group)
            return
        if has_graph:  # a flat function gives Newton no step to take, as in cr.descend
            with _TENSOR_ENGINE, enable_grad():
                self.opt.step(self.call)
        point[:] = [float(p.data) for p in self.params]

    def hyperparameters(self) -> dict:
        return {k: v for k, v in self.opt.param_groups[0].items() if k != "params"}


def descend_together(
    formula: Formula,
    start,
    optimizers: list[tuple[str, dict]],
    steps: int = 500,
    tol: float | None = 1e-8,
    variables: tuple[str, ...] | None = None,
    deadline: float | None = None,
) -> list[Trajectory]:
    """One ``Trajectory`` per ``(name, hyperparameters)`` in ``optimizers``, all from ``start``
    (one number per variable, in the order of ``variables``, default the formula's)."""
    names = tuple(formula.variables if variables is None else variables)
    start = np.asarray(start, dtype=np.float64).reshape(-1)
    if start.size != len(names) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be {len(names)} finite numbers {names}, got {start}")
    tape = Tape(formula)
    runs = [_Run(name, dict(options), start, formula, names) for name, options in optimizers]
    n, d = len(runs), len(names)
    # row k, run i: the point (d numbers), f there, the gradient there (d numbers)
    records = np.empty((steps + 1, n, 2 * d + 1))
    current = np.tile(start, (n, 1))
    columns = [(v, names.index(v)) for v in tape.variables]  # the formula may ignore one
    gradient = np.zeros((n, d))
    value_scale = None  # EXPLODE_FACTOR * max(1, |f(start)|), per run, set at step 0
    point_scale = EXPLODE_FACTOR * max(1.0, float(np.max(np.abs(start), initial=0.0)))
    streak = [0] * n  # how many points in a row are exploded, per run
    active = list(range(n))
    has_graph = bool(tape.variables)
    for k in range(steps + 1):
        value, grads = tape.value_and_grad({v: current[:, c] for v, c in columns})
        for v, c in columns:
            gradient[:, c] = grads[v]
        row = records[k]
        row[:, :d] = current
        row[:, d] = value
        row[:, d + 1 :] = gradient
        if k == 0:
            value_scale = EXPLODE_FACTOR * np.maximum(1.0, np.abs(value))
        # the checks of cr.descend, in its order, for every run at once
        finite = np.isfinite(row).all(1).tolist()
        exploded = ((np.abs(value) > value_scale) | (np.abs(current).max(1) > point_scale)).tolist()
        norms = np.sqrt(np.square(gradient).sum(1)).tolist()
        late = deadline is not None and time.monotonic() > deadline
        still = []
        for i in active:
            run = runs[i]
            streak[i] = streak[i] + 1 if exploded[i] else 0
            if not finite[i]:
                run.status, run.diverged_at = "diverged", k
            elif streak[i] >= EXPLODE_PATIENCE:
                run.status, run.diverged_at = "diverged", k - EXPLODE_PATIENCE + 1
            elif tol is not None and norms[i] <= tol:
                run.status = "converged"
            elif k == steps:
                run.status = "max_steps"
            elif late:
                run.status = "time_limit"
            else:
                still.append(i)
                continue
            run.stopped_at = k
        active = still
        if not active:
            break
        for i in active:
            runs[i].step(current[i], gradient[i], has_graph)
    return [_trajectory(run, i, records, names) for i, run in enumerate(runs)]


def _trajectory(run: _Run, i: int, records: np.ndarray, names) -> Trajectory:
    d = len(names)
    rows = records[: run.stopped_at + 1, i]
    path = rows[:, :d].copy()
    return Trajectory(
        points=path,
        values=rows[:, d].copy(),
        gradients=rows[:, d + 1 :].copy(),
        updates=path[:-1] - path[1:],
        status=run.status,
        variables=names,
        optimizer=run.name,
        hyperparameters=run.hyperparameters(),
        diverged_at=run.diverged_at,
        _start=list(path[0]),
    )
