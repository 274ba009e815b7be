"""Gradient descent on a function you can write down, step by step: ``cr.descend``.

``descend(f, x0, optimizer, lr, steps)`` runs one of the optimizers of ``cr.optim`` (the same
classes, and so the same update rules, that train networks) on ``f`` from ``x0`` and keeps
every step: the points, the values, the gradients and the updates, in a ``Trajectory`` that
prints as the course's descent tables.

``f`` is a Python function of chainrule Tensors (use ``cr.exp``, not ``math.exp``), a
``cr.Formula`` or a ``cr.surfaces`` Surface. ``x0`` is a number, a list or ndarray (one
vector Tensor for a Python function, one value per variable for a Formula or Surface) or a
dict of named variables (``{"w": 0.0}``, ``{"x": -1.5, "y": 2.0}``). Computation is in
float64.

>>> import chainrule as cr
>>> traj = cr.descend(lambda w: (w - 3) ** 2, {"w": 0.0}, lr=0.3, steps=3)
>>> print(traj.table())
step     w    f(w)  df/dw  lr * df/dw  new w
----  ----  ------  -----  ----------  -----
   1     0       9     -6        -1.8    1.8
   2   1.8    1.44   -2.4       -0.72   2.52
   3  2.52  0.2304  -0.96      -0.288  2.808
max_steps after 3 steps: w = 2.808, f(w) = 0.036864
>>> traj.x, traj.status
({'w': 2.808}, 'max_steps')
>>> newton = cr.descend(cr.surfaces.get("rosenbrock"), [-1.2, 1.0], optimizer="newton", steps=20)
>>> newton.status, newton.steps, newton.x
('converged', 6, array([1., 1.]))

**When a run stops.** Before each step the value and gradient at the current point are
checked, in this order:

- ``"diverged"`` if the value, the point or the gradient is not finite, or if the run has
  *exploded*: for ``EXPLODE_PATIENCE`` (3) points in a row, ``|f(x)|`` is above
  ``EXPLODE_FACTOR`` (1e6) times ``max(1, |f(x0)|)`` or the largest coordinate ``|x|`` is
  above 1e6 times ``max(1, max |x0|)``. (Three in a row, so that one wild step that comes
  back is not a divergence.) ``diverged_at`` is the first point of that run, or the point
  that was not finite.
- ``"converged"`` if the gradient's norm is at most ``tol`` (``tol=None``: never), or the
  last step moved the point by at most ``xtol`` in norm (``xtol=None``, the default: never;
  a small learning rate also makes small steps far from any minimum).
- ``"max_steps"`` once ``steps`` steps were taken.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from chainrule import autograd, optim
from chainrule.autograd import enable_grad
from chainrule.expr import Formula
from chainrule.surfaces import Surface
from chainrule.table import Table, format_number
from chainrule.tensor import Tensor

__all__ = ["EXPLODE_FACTOR", "EXPLODE_PATIENCE", "OPTIMIZERS", "Trajectory", "descend"]

EXPLODE_FACTOR = 1e6
EXPLODE_PATIENCE = 3

# name -> (class, hyperparameters it gets unless given)
OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (optim.Adagrad, {}),
    "rmsprop": (optim.RMSprop, {}),
    "adam": (optim.Adam, {}),
    "adamw": (optim.AdamW, {}),
    "newton": (optim.Newton, {}),
}


@dataclass
class Trajectory:
    """Every step of one descent: ``points[k]`` is x after k steps (row 0 the start).

    ``values[k]`` and ``gradients[k]`` are f and its gradient at ``points[k]``;
    ``updates[k] = points[k] - points[k + 1]``, what step k + 1 subtracted (``lr * gradient``
    for plain SGD). A run of n steps has n + 1 points, values and gradients and n updates;
    coordinates are flattened, one column per number, in the order of ``variables``.

    >>> import chainrule as cr
    >>> walk = cr.descend(lambda w: (w - 3) ** 2, 0.0, optimizer="sgd", lr=0.3, steps=3)
    >>> walk.status, walk.points.ravel().round(6).tolist()
    ('max_steps', [0.0, 1.8, 2.52, 2.808])
    >>> walk.values.round(4).tolist()
    [9.0, 1.44, 0.2304, 0.0369]
    """

    points: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    updates: np.ndarray
    status: str
    variables: tuple[str, ...]
    optimizer: str
    hyperparameters: dict
    diverged_at: int | None = None
    _start: object = field(default=None, repr=False)  # x0, to give results back in its kind

    @property
    def steps(self) -> int:
        """How many steps were taken."""
        return len(self.updates)

    @property
    def x(self):
        """The last point, in the kind of x0: a float, an ndarray of x0's shape, or a dict."""
        return _like(self._start, self.points[-1], self.variables)

    @property
    def value(self) -> float:
        """f at the last point."""
        return float(self.values[-1])

    def rows(self) -> list[list]:
        """One row per step: step (from 1), x, f(x), gradient, update, new x.

        Coordinates are floats for a function of one number, text like ``(1, -0.5)`` for more.

        >>> import chainrule as cr
        >>> walk = cr.descend(lambda w: (w - 3) ** 2, 0.0, lr=0.3, steps=2)
        >>> [[round(v, 6) for v in row] for row in walk.rows()]   # step, w, f, df/dw, update, new w
        [[1, 0.0, 9.0, -6.0, -1.8, 1.8], [2, 1.8, 1.44, -2.4, -0.72, 2.52]]
        """
        cell = _number if self.points.shape[1] == 1 else _vector
        return [
            [
                k + 1,
                cell(self.points[k]),
                float(self.values[k]),
                cell(self.gradients[k]),
                cell(self.updates[k]),
                cell(self.points[k + 1]),
            ]
            for k in range(self.steps)
        ]

    def table(self, f_name: str = "f", max_rows: int | None = 20, summary: bool = True) -> Table:
        """The steps as the course shows them; ``f_name`` names the function in the headers.

        Over ``max_rows`` steps, the first and the last few are shown. ``summary`` adds a line
        with the status and where the run ended.

        >>> import chainrule as cr
        >>> walk = cr.descend(cr.parse("(w-3)**2"), {"w": 0.0}, lr=0.3, steps=2)
        >>> print(walk.table())
        step    w  f(w)  df/dw  lr * df/dw  new w
        ----  ---  ----  -----  ----------  -----
           1    0     9     -6        -1.8    1.8
           2  1.8  1.44   -2.4       -0.72   2.52
        max_steps after 2 steps: w = 2.52, f(w) = 0.2304
        """
        name = self.variables[0] if len(self.variables) == 1 else "x"
        is_sgd = self.optimizer == "sgd" or (
            self.optimizer == "SGD" and not self.hyperparameters.get("momentum")
        )
        update = f"lr * d{f_name}/d{name}" if is_sgd else "update"
        columns = ["step", name, f"{f_name}({name})", f"d{f_name}/d{name}", update, f"new {name}"]
        rows, gaps = self.rows(), {}
        if max_rows is not None and len(rows) > max_rows:
            head = max(1, max_rows - max_rows // 4)
            left_out = len(rows) - max_rows
            rows = rows[:head] + rows[head + left_out :]
            gaps = {head: f"... {left_out} steps left out ..."}
        notes = [self._summary(f_name, name)] if summary else []
        return Table(columns, rows, notes=notes, gaps=gaps)

    def _summary(self, f_name: str, name: str) -> str:
        where = f"{name} = {_cell_text(self.points[-1])}"
        value = f"{f_name}({name}) = {format_number(float(self.values[-1]))}"
        if self.status == "diverged":
            return f"diverged at step {self.diverged_at}: {where}, {value}"
        return f"{self.status} after {self.steps} steps: {where}, {value}"

    def to_dict(self) -> dict:
        """Plain Python for JSON: lists of floats; nan and ±inf as the strings "nan", "inf",
        "-inf" (JSON has no such numbers, and None would lose which one it was).

        >>> import json, chainrule as cr
        >>> d = cr.descend(lambda x: x**2, 1.0, lr=0.25, steps=2).to_dict()
        >>> d["points"], d["status"]
        ([[1.0], [0.5], [0.25]], 'max_steps')
        >>> len(json.dumps(d, allow_nan=False)) > 0
        True
        """
        return {
            "optimizer": self.optimizer,
            "hyperparameters": _plain(self.hyperparameters),
            "variables": list(self.variables),
            "points": _plain(self.points),
            "values": _plain(self.values),
            "gradients": _plain(self.gradients),
            "updates": _plain(self.updates),
            "status": self.status,
            "steps": self.steps,
            "diverged_at": self.diverged_at,
        }

    def __repr__(self) -> str:
        return (
            f"Trajectory({self.optimizer}, {self.status}, {self.steps} steps, "
            f"x = {_cell_text(self.points[-1])}, f = {format_number(float(self.values[-1]))})"
        )


def descend(
    f,
    x0,
    optimizer="sgd",
    lr: float | None = None,
    steps: int = 100,
    tol: float | None = 1e-8,
    xtol: float | None = None,
    **hyperparameters,
) -> Trajectory:
    """Minimise ``f`` from ``x0`` with a ``cr.optim`` optimizer, keeping every step.

    ``optimizer`` is a name from ``OPTIMIZERS`` or an Optimizer class; ``lr=None`` keeps the
    optimizer's default; other keywords go to the optimizer (``momentum=0.5``, ``betas=...``).
    ``steps`` is the most steps taken; ``tol`` and ``xtol`` stop earlier (see the module).

    >>> import chainrule as cr
    >>> traj = cr.descend(cr.parse("(2*x - 5)^2"), 5.0, lr=0.1, steps=4)
    >>> [round(float(x), 12) for x in traj.points[:, 0]]
    [5.0, 3.0, 2.6, 2.52, 2.504]
    >>> cr.descend(lambda x: (x - 3) ** 2, 0.0, lr=1.5, steps=100).status
    'diverged'
    """
    kind, defaults = _optimizer(optimizer)
    _check(steps, tol, xtol)
    options = {**defaults, **hyperparameters}
    if lr is not None:
        options["lr"] = lr
    names, params, call = _setup(f, x0)
    try:
        opt = kind(params, **options)
    except TypeError as error:
        raise TypeError(f"{kind.__name__} does not take these hyperparameters: {error}") from None
    newton = isinstance(opt, optim.Newton)
    points, values, gradients = [], [], []
    status, diverged_at = "max_steps", None
    for k in range(steps + 1):
        value, gradient = _evaluate(call, params)
        point = np.concatenate([p.data.reshape(-1) for p in params])
        points.append(point)
        values.append(value)
        gradients.append(gradient)
        if _not_finite(point, value, gradient):
            status, diverged_at = "diverged", k
            break
        exploded = _exploded(points, values)
        if exploded is not None:
            status, diverged_at = "diverged", exploded
            break
        if tol is not None and np.linalg.norm(gradient) <= tol:
            status = "converged"
            break
        moved = np.linalg.norm(points[-1] - points[-2]) if k else math.inf
        if xtol is not None and moved <= xtol:
            status = "converged"
            break
        if k == steps:
            break
        _step(opt, params, call, gradient, newton)
    points = np.array(points)
    group = {name: v for name, v in opt.param_groups[0].items() if name != "params"}
    return Trajectory(
        points=points,
        values=np.array(values, dtype=np.float64),
        gradients=np.array(gradients),
        updates=points[:-1] - points[1:],
        status=status,
        variables=names,
        optimizer=optimizer if isinstance(optimizer, str) else kind.__name__,
        hyperparameters=group,
        diverged_at=diverged_at,
        _start=x0,
    )


# -- the pieces of a run -------------------------------------------------------------------


def _optimizer(optimizer) -> tuple[type, dict]:
    if isinstance(optimizer, str):
        key = optimizer.strip().lower()
        if key not in OPTIMIZERS:
            close = difflib.get_close_matches(key, OPTIMIZERS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"unknown optimizer {optimizer!r} ({hint}known: {', '.join(OPTIMIZERS)}; "
                "or pass an Optimizer class)"
            )
        return OPTIMIZERS[key]
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        return optimizer, {}
    raise TypeError(
        f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an Optimizer class, "
        f"got {optimizer!r}"
    )


def _check(steps, tol, xtol) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    for name, value in (("tol", tol), ("xtol", xtol)):
        if value is not None and (not isinstance(value, Real) or not value >= 0):
            raise ValueError(f"{name} must be a number >= 0 or None, got {value!r}")


def _setup(f, x0) -> tuple[tuple[str, ...], list[Tensor], Callable]:
    """(variable names, the parameter Tensors, a function of those Tensors giving f)."""
    if isinstance(f, Surface):
        return _setup_named(f.formula, f.variables, x0, f"surface {f.name!r}")
    if isinstance(f, Formula):
        return _setup_named(f, f.variables, x0, f"formula {f.text!r}")
    if not callable(f):
        raise TypeError(f"f must be a function, a Formula or a Surface, got {type(f).__name__}")
    if isinstance(x0, Mapping):
        names = tuple(str(name) for name in x0)
        params = [_param(x0[name], name) for name in names]
        for name, p in zip(names, params):
            if p.ndim:
                raise ValueError(f"x0[{name!r}] must be one number, got shape {p.shape}")
        return names, params, lambda ps: f(**dict(zip(names, ps)))
    p = _param(x0, "x0")
    names = ("x",) if p.ndim == 0 else tuple(f"x[{i}]" for i in range(p.size))
    return names, [p], lambda ps: f(ps[0])


def _setup_named(formula: Formula, variables, x0, what: str):
    if isinstance(x0, Mapping):
        unknown = [name for name in x0 if name not in variables]
        missing = [name for name in variables if name not in x0]
        if unknown or missing:
            raise ValueError(
                f"x0 must give each variable of the {what}: {variables}; "
                f"missing {missing}, unknown {unknown}"
            )
        start = [x0[name] for name in variables]
    else:
        start = np.asarray(x0.data if isinstance(x0, Tensor) else x0, dtype=np.float64)
        start = start.reshape(-1)
        if start.size != len(variables):
            raise ValueError(
                f"the {what} has {len(variables)} variables {variables}, but x0 has "
                f"{start.size} numbers"
            )
    params = [_param(value, name) for name, value in zip(variables, start)]
    return tuple(variables), params, lambda ps: formula(**dict(zip(variables, ps)))


def _param(value, name: str) -> Tensor:
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {value!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return Tensor._wrap(array).requires_grad_()


def _evaluate(call: Callable, params: list[Tensor]) -> tuple[float, np.ndarray]:
    """f and its gradient (flattened, in the order of ``params``) at the current point."""
    with enable_grad():
        loss = _loss(call, params)
        if loss.requires_grad:
            grads = autograd.grad(loss, params)
        else:  # f does not depend on x: a flat function
            grads = [None] * len(params)
    gradient = np.concatenate(
        [
            (np.zeros(p.size) if g is None else np.asarray(g.data, np.float64)).reshape(-1)
            for g, p in zip(grads, params)
        ]
    )
    value = float(loss.data.reshape(-1)[0])
    return value, gradient


def _loss(call: Callable, params: list[Tensor]):
    try:
        loss = call(params)
    except TypeError as error:
        raise TypeError(
            f"f failed on chainrule Tensors ({error}); write it with operators and cr "
            "functions (cr.exp, cr.sin, ...), not math or numpy functions"
        ) from error
    if not isinstance(loss, Tensor):
        # math.exp(x) or float(x) turns x into a plain number, and the gradient is lost
        raise TypeError(
            f"f returned a {type(loss).__name__}, not a Tensor computed from x: write it with "
            "operators and cr functions (cr.exp, cr.sin, ...), not math or numpy functions"
        )
    if loss.size != 1:
        raise ValueError(f"f must return one number, got a Tensor of shape {loss.shape}")
    return loss


def _step(opt, params: list[Tensor], call: Callable, gradient: np.ndarray, newton: bool) -> None:
    if newton:
        with enable_grad():
            loss = _loss(call, params)
        if loss.requires_grad:
            opt.step(lambda: _loss(call, params))
        return  # a flat function: Newton has no step to take
    start = 0
    for p in params:
        piece = gradient[start : start + p.size].reshape(p.shape)
        p.grad = Tensor._wrap(piece.copy())
        start += p.size
    opt.step()


def _not_finite(point, value, gradient) -> bool:
    return not (
        math.isfinite(value) and np.all(np.isfinite(point)) and np.all(np.isfinite(gradient))
    )


def _exploded(points: list, values: list) -> int | None:
    """The first point of the last ``EXPLODE_PATIENCE`` if all of them are exploded."""
    if len(points) < EXPLODE_PATIENCE:
        return None
    value_scale = EXPLODE_FACTOR * max(1.0, abs(values[0]))
    point_scale = EXPLODE_FACTOR * max(1.0, float(np.max(np.abs(points[0]), initial=0.0)))
    recent = range(len(points) - EXPLODE_PATIENCE, len(points))
    for k in recent:
        if abs(values[k]) <= value_scale and np.max(np.abs(points[k]), initial=0.0) <= point_scale:
            return None
    return recent[0]


# -- output --------------------------------------------------------------------------------


def _like(start, point: np.ndarray, names: tuple[str, ...]):
    if isinstance(start, Mapping):
        return {name: float(v) for name, v in zip(names, point)}
    if isinstance(start, Real) and not isinstance(start, bool):
        return float(point[0])
    shape = np.shape(start.data if isinstance(start, Tensor) else start)
    return point.reshape(shape) if len(shape) else float(point[0])


def _number(vector: np.ndarray) -> float:
    return float(vector[0])


def _vector(vector: np.ndarray) -> str:
    return "(" + ", ".join(format_number(float(v)) for v in vector) + ")"


def _cell_text(vector: np.ndarray) -> str:
    return format_number(float(vector[0])) if vector.size == 1 else _vector(vector)


def _cell(vector: np.ndarray):
    """A table cell for a point: a float in one dimension (right-aligned), text in more."""
    return float(vector[0]) if vector.size == 1 else _vector(vector)


def _plain(value):
    """ndarrays, tuples and numpy numbers as lists and floats; nan/inf as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    return value
