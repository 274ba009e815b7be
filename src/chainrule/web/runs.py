"""Several optimisers descending one formula side by side, as the hiker shows them.

``descend_together`` gives, for each optimiser, what ``cr.descend`` gives (the same points,
values, gradients, status and ``diverged_at``, by the same stopping rules), computed faster
for the page: all runs take their steps together, the gradients of all of them come from one
replay of the formula's tape (``chainrule.web.tape``: the ops' own VJP rules on arrays), and
each first-order step is its optimiser's update rule on the run's point held as Python
floats (``chainrule.web.float_steps``: the arithmetic of ``Optimizer._update`` of
``cr.optim``, bit for bit; the optimiser's own ``_update`` for the settings it lacks).
Newton, which needs the Hessian, steps through its ``cr.optim.Newton`` exactly as
``cr.descend`` does.

Each run also stops with status ``"time_limit"`` once ``deadline`` (a ``time.monotonic()``
instant) has passed: the path so far is kept.

Most of a step's cost is NumPy's per-call overhead on arrays of a few numbers, so the work
is shaped to make few calls: one tape replay per step for all runs, updates on floats (no
NumPy call), the rows of the records written and the stopping rules checked every 25 steps,
for all runs at once.

>>> from chainrule import surfaces
>>> bowl = surfaces.get("bowl")
>>> sgd, adam = descend_together(bowl.formula, (2.5, -1.5), [("sgd", {"lr": 0.1}),
...                                                           ("adam", {"lr": 0.1})], steps=50)
>>> sgd.status, sgd.steps, sgd.points[1].tolist()
('max_steps', 50, [2.0, -1.2])
"""

from __future__ import annotations

import time

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.descent import EXPLODE_FACTOR, EXPLODE_PATIENCE, OPTIMIZERS, Trajectory
from chainrule.expr import Formula
from chainrule.tensor import Tensor
from chainrule.web.float_steps import float_step
from chainrule.web.tape import Tape

__all__ = ["descend_together", "make_optimizer"]


def make_optimizer(name: str, options: dict, params: list[Tensor]):
    """The ``cr.optim`` optimiser called ``name`` (a key of ``cr.descent.OPTIMIZERS``) over
    ``params``, its defaults overridden by ``options``; ValueError naming what is wrong."""
    kind, defaults = OPTIMIZERS[name]
    try:
        return kind(params, **{**defaults, **options})
    except TypeError as error:
        raise ValueError(f"{name} does not take these hyperparameters: {error}") from None


class _Run:
    """One optimiser's run: its optimizer, its point, the state of its update rule, where it
    stopped."""

    def __init__(self, name: str, options: dict, start: np.ndarray, formula: Formula, names):
        self.name = name
        self.newton = name == "newton"
        self.point = start.tolist()  # Python floats: see chainrule.web.float_steps
        if self.newton:
            # two 0-d parameters, as cr.descend makes them, stepped by Newton.step
            self.params = [Tensor._wrap(np.array(v)).requires_grad_() for v in start]
            self.opt = make_optimizer(name, options, self.params)
            self.call = lambda: formula(**dict(zip(names, self.params)))
        else:
            self.opt = make_optimizer(name, options, [Tensor._wrap(start.copy())])
            self.update = float_step(self.opt) or self._own_update(start)
        self.status = None
        self.stopped_at = None  # the index of the last point of the run
        self.diverged_at = None

    def _own_update(self, start: np.ndarray):
        """The optimiser's own rule on a NumPy array, for the settings float_step lacks."""
        group = self.opt.param_groups[0]
        state = self.opt._init_state(start, group)

        def update(point: list, gradient) -> None:
            array = np.array(point)
            self.opt._update(array, np.array(gradient, dtype=np.float64), state, group)
            point[:] = array.tolist()

        return update

    def newton_step(self, has_graph: bool) -> None:
        if has_graph:  # a flat function gives Newton no step to take, as in cr.descend
            with enable_grad():  # grad mode is per thread: no lock
                self.opt.step(self.call)
        self.point = [float(p.data) for p in self.params]

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
    # row k, run i: the point (d numbers), f there, the gradient there (d numbers); the rows
    # of the steps since the last check wait in `pending` (one append per step is cheaper
    # than writing each column into the table) and are written when the rules are checked
    records = np.empty((steps + 1, n, 2 * d + 1))
    pending = _Pending(records, d)
    zeros = np.zeros(n)  # the gradient along a variable the formula ignores
    columns = [names.index(v) for v in tape.variables]
    has_graph = bool(tape.variables)
    ones = np.ones(n)
    checks = _StoppingRules(records, d, tol, steps, start)
    active = list(range(n))
    first_unchecked = 0
    k = 0
    # the stopping rules are checked every CHECK_EVERY steps, for all runs at once; a run
    # that stopped inside those steps took a few more, which are dropped (a step never
    # changes the points before it), so they may overflow: that is not an error here
    with np.errstate(all="ignore"):
        while True:
            current = np.array([run.point for run in runs])
            value, grads = tape.replay(
                {v: current[:, c] for v, c in zip(tape.variables, columns)}, ones
            )
            gradient = [zeros] * d
            for v, c in zip(tape.variables, columns):
                g = grads[v]
                if g is not None:
                    gradient[c] = g
            pending.add(current, value, gradient)
            late = deadline is not None and time.monotonic() > deadline
            if k == steps or late or k - first_unchecked + 1 >= CHECK_EVERY:
                pending.write()
                active = checks.apply(runs, active, first_unchecked, k)
                first_unchecked = k + 1
                if late:
                    for i in active:
                        runs[i].status, runs[i].stopped_at = "time_limit", k
                    active = []
                if not active:
                    break
            per_run = list(zip(*[g.tolist() for g in gradient]))
            for i in active:
                run = runs[i]
                if run.newton:
                    # a Newton step costs a Hessian: check its run now rather than step past
                    # a stop (the steps since the last check are written first)
                    pending.write()
                    if run.status or not checks.apply(runs, [i], k, k):
                        continue
                    run.newton_step(has_graph)
                else:
                    run.update(run.point, per_run[i])
            k += 1
    return [_trajectory(run, i, records, names) for i, run in enumerate(runs)]


class _Pending:
    """The rows of the steps not yet written into the records table."""

    def __init__(self, records: np.ndarray, d: int):
        self.records = records
        self.d = d
        self.next_row = 0
        self.points: list = []
        self.values: list = []
        self.gradients: list = []

    def add(self, points: np.ndarray, value: np.ndarray, gradient: list) -> None:
        self.points.append(points)
        self.values.append(value)
        self.gradients.append(gradient)

    def write(self) -> None:
        """Write the pending rows into the table, after those written before."""
        if not self.points:
            return
        first, self.next_row = self.next_row, self.next_row + len(self.points)
        d, rows = self.d, self.records[first : self.next_row]
        rows[:, :, :d] = self.points
        rows[:, :, d] = self.values
        # (steps, variables, runs) -> (steps, runs, variables)
        rows[:, :, d + 1 :] = np.asarray(self.gradients).transpose(0, 2, 1)
        self.points.clear()
        self.values.clear()
        self.gradients.clear()


CHECK_EVERY = 25


class _StoppingRules:
    """The checks of ``cr.descend``, in its order, on many steps of many runs at once: at
    step k a run is diverged if its point, value or gradient is not finite, or if its last
    ``EXPLODE_PATIENCE`` points all exploded; converged if the gradient's norm is at most
    ``tol``; done at ``steps``. The first step where one holds is where the run stops."""

    def __init__(self, records: np.ndarray, d: int, tol, steps: int, start: np.ndarray):
        self.records = records
        self.d = d
        self.tol = tol
        self.steps = steps
        self.point_scale = EXPLODE_FACTOR * max(1.0, float(np.max(np.abs(start), initial=0.0)))

    def apply(self, runs: list, active: list[int], first: int, last: int) -> list[int]:
        """Stop the runs of ``active`` that stop at a step in ``first..last``; return the rest."""
        d, records = self.d, self.records
        rows = records[first : last + 1]
        not_finite = ~np.isfinite(rows).all(axis=2)
        value_scale = EXPLODE_FACTOR * np.maximum(1.0, np.abs(records[0, :, d]))
        # whether the EXPLODE_PATIENCE points up to step k all exploded, for k in first..last
        low = max(0, first - EXPLODE_PATIENCE + 1)
        window = records[low : last + 1]
        exploded = (np.abs(window[:, :, d]) > value_scale) | (
            np.abs(window[:, :, :d]).max(axis=2) > self.point_scale
        )
        exploded_run = np.zeros_like(not_finite)
        if len(window) >= EXPLODE_PATIENCE:
            runs_of = np.lib.stride_tricks.sliding_window_view(exploded, EXPLODE_PATIENCE, 0)
            all_exploded = runs_of.all(axis=-1)  # index j: the run ending at low + P - 1 + j
            offset = first - (low + EXPLODE_PATIENCE - 1)
            if offset >= 0:
                exploded_run[:] = all_exploded[offset:]
            else:  # the first steps have fewer than EXPLODE_PATIENCE points before them
                exploded_run[-offset:] = all_exploded
        converged = np.zeros_like(not_finite)
        if self.tol is not None:
            gradients = rows[:, :, d + 1 :]
            converged = np.sqrt(np.square(gradients).sum(axis=2)) <= self.tol
        stop = not_finite | exploded_run | converged
        if last == self.steps:
            stop[-1] = True
        still = []
        for i in active:
            if runs[i].status is not None:  # stopped already (a Newton run, checked per step)
                continue
            hits = np.flatnonzero(stop[:, i])
            if not len(hits):
                still.append(i)
                continue
            j = int(hits[0])
            k = first + j
            run = runs[i]
            if not_finite[j, i]:
                run.status, run.diverged_at = "diverged", k
            elif exploded_run[j, i]:
                run.status, run.diverged_at = "diverged", k - EXPLODE_PATIENCE + 1
            elif converged[j, i]:
                run.status = "converged"
            else:
                run.status = "max_steps"
            run.stopped_at = k
        return still


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
