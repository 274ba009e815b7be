"""What each endpoint of the hiker computes, as plain functions of the validated bodies.

No FastAPI here: ``chainrule.web.app`` routes requests to these functions and turns an
``ApiError`` into its JSON answer. Everything returned is JSON-ready: lists, floats, None
where a number is not finite (JSON has no NaN or infinity).

>>> from chainrule.web.schemas import GridRequest
>>> grid = compute_grid(GridRequest(formula="x*y", resolution=3))
>>> grid["x"], grid["z"][0]
([-3.0, 0.0, 3.0], [9.0, -0.0, -9.0])
"""

from __future__ import annotations

import difflib
import math
import re
import time
from dataclasses import dataclass

import numpy as np

from chainrule import surfaces
from chainrule._version import __version__
from chainrule.colors import optimizer_color
from chainrule.explain import explain
from chainrule.expr import Formula, ParseError
from chainrule.scalar import Scalar
from chainrule.web import schemas
from chainrule.web.runs import descend_together, make_optimizer

__all__ = [
    "ApiError",
    "HIKER_OPTIMIZERS",
    "compute_explain",
    "compute_grid",
    "compute_trajectories",
    "health",
    "json_safe",
    "list_optimizers",
    "list_surfaces",
]

AXES = ("x", "y")
FORMULA_DOMAIN = ((-3.0, 3.0), (-3.0, 3.0))

# the page's optimisers: label, shown by default, the hyperparameters the page starts from
# (learning rates that make Rosenbrock, the opening surface, instructive), and the ranges of
# its sliders. Momentum is PyTorch's (v = mu*v + g; p -= lr*v), as in cr.optim.
_LR = {"min": 1e-5, "max": 10.0, "log": True}
HIKER_OPTIMIZERS: dict[str, dict] = {
    "sgd": {
        "label": "SGD",
        "default": True,
        "hyperparameters": {"lr": 0.001},
        "ranges": {"lr": _LR},
    },
    "momentum": {
        "label": "Momentum",
        "default": True,
        "hyperparameters": {"lr": 0.001, "momentum": 0.9},
        "ranges": {"lr": _LR, "momentum": {"min": 0.0, "max": 0.999}},
    },
    "nesterov": {
        "label": "Nesterov",
        "default": False,
        "hyperparameters": {"lr": 0.001, "momentum": 0.9},
        "ranges": {"lr": _LR, "momentum": {"min": 0.0, "max": 0.999}},
    },
    "rmsprop": {
        "label": "RMSprop",
        "default": False,
        "hyperparameters": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
        "ranges": {"lr": _LR, "alpha": {"min": 0.0, "max": 0.999}},
    },
    "adam": {
        "label": "Adam",
        "default": True,
        "hyperparameters": {"lr": 0.05, "betas": [0.9, 0.999], "eps": 1e-8},
        "ranges": {
            "lr": _LR,
            "beta1": {"min": 0.0, "max": 0.999},
            "beta2": {"min": 0.0, "max": 0.9999},
        },
    },
    "newton": {
        "label": "Newton",
        "default": False,
        "hyperparameters": {"lr": 1.0, "damping": 0.0},
        "ranges": {
            "lr": {"min": 1e-3, "max": 2.0, "log": True},
            "damping": {"min": 0.0, "max": 10.0},
        },
    },
}


class ApiError(Exception):
    """A request the API refuses: an HTTP status and the JSON ``detail`` to send back."""

    def __init__(self, status: int, detail: dict):
        super().__init__(detail.get("message", ""))
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """What a request descends or draws: a formula, its two axes' variables, its domain."""

    formula: Formula
    variables: tuple[str, str]
    domain: tuple[tuple[float, float], tuple[float, float]]


# -- the small endpoints --------------------------------------------------------------------


def health() -> dict:
    return {"status": "ok", "version": __version__}


def list_surfaces() -> dict:
    """The surfaces of two variables (the map has two axes), in the registry's order."""
    shown = [s for s in surfaces.SURFACES.values() if s.ndim == 2]
    return {
        "surfaces": [
            {
                "name": s.name,
                "formula": s.text,
                "variables": list(s.variables),
                "domain": [list(r) for r in s.domain],
                "minima": [list(m) for m in s.minima],
                "minimum": s.minimum,
                "start": list(s.start),
                "lesson": s.lesson,
            }
            for s in shown
        ]
    }


def list_optimizers() -> dict:
    return {
        "optimizers": [
            {"name": name, "color": optimizer_color(name), **info}
            for name, info in HIKER_OPTIMIZERS.items()
        ]
    }


# -- targets --------------------------------------------------------------------------------


def _unknown(message: str, key: str, known, field: str) -> ApiError:
    """The 400 for a name not among ``known``: the closest known one as a hint, and all."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ApiError(400, {"message": message + hint, "field": field, "known": list(known)})


def resolve(body) -> Target:
    """The surface or formula of a request; ApiError 400 naming what is wrong."""
    if body.surface is not None:
        key = body.surface.strip().lower().replace("-", "_").replace(" ", "_")
        shown = {name: s for name, s in surfaces.SURFACES.items() if s.ndim == 2}
        if key not in shown:
            raise _unknown(f"no surface called {body.surface!r}", key, shown, "surface")
        s = shown[key]
        return Target(s.formula, tuple(s.variables), tuple(tuple(r) for r in s.domain))
    text = body.formula
    try:
        formula = Formula(text)
    except ParseError as error:
        raise ApiError(400, _formula_detail(error.message, error.position, text)) from None
    extra = [name for name in formula.variables if name not in AXES]
    if extra:
        match = re.search(rf"\b{re.escape(extra[0])}\b", text)
        position = match.start() if match else 0
        message = f"unknown variable {extra[0]!r}: a formula for the map uses only x and y"
        raise ApiError(400, _formula_detail(message, position, text))
    return Target(formula, AXES, FORMULA_DOMAIN)


def _formula_detail(message: str, position: int, text: str) -> dict:
    return {"message": message, "position": position, "formula": text, "field": "formula"}


# -- grid -----------------------------------------------------------------------------------


def compute_grid(body: schemas.GridRequest) -> dict:
    """The formula's values on a resolution x resolution grid over the bounds."""
    target = resolve(body)
    if body.bounds is not None:
        (x_low, x_high), (y_low, y_high) = body.bounds.x, body.bounds.y
    else:
        (x_low, x_high), (y_low, y_high) = target.domain
    xs = np.linspace(x_low, x_high, body.resolution)
    ys = np.linspace(y_low, y_high, body.resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)  # rows follow y, as a heatmap's z does
    at = dict(zip(target.variables, (grid_x, grid_y)))
    z = np.asarray(target.formula(**{v: at[v] for v in target.formula.variables}), np.float64)
    z = np.broadcast_to(z, grid_x.shape)
    finite = np.isfinite(z)
    zmin = float(z[finite].min()) if finite.any() else None
    zmax = float(z[finite].max()) if finite.any() else None
    rows = np.where(finite, z, np.nan).tolist()
    return {
        "x": xs.tolist(),
        "y": ys.tolist(),
        "z": [[v if v == v else None for v in row] for row in rows],
        "zmin": zmin,
        "zmax": zmax,
        "log_scale": _log_scale(z[finite], zmin, zmax),
        "formula": target.formula.text,
        "variables": list(target.variables),
    }


def _log_scale(finite: np.ndarray, zmin, zmax) -> bool:
    """Colour by log(z - zmin) when a quarter of the map sits in the bottom 2% of its range
    (a narrow valley under steep walls, as Rosenbrock's and Beale's): a linear scale would
    paint the valley, where the paths go, in one colour."""
    if zmin is None or not zmax > zmin:
        return False
    return bool(np.quantile(finite - zmin, 0.25) < 0.02 * (zmax - zmin))


# -- trajectories ---------------------------------------------------------------------------


def compute_trajectories(body: schemas.TrajectoriesRequest, budget: float | None = None) -> dict:
    """Each chosen optimiser's descent from the start, side by side; the runs stop with status
    ``"time_limit"`` after ``budget`` seconds (None: no limit)."""
    deadline = None if budget is None else time.monotonic() + budget
    target = resolve(body)
    chosen = []
    for i, choice in enumerate(body.optimizers):
        name = choice.name.strip().lower()
        if name not in HIKER_OPTIMIZERS:
            field = f"optimizers[{i}].name"
            raise _unknown(f"unknown optimizer {choice.name!r}", name, HIKER_OPTIMIZERS, field)
        options = _options(HIKER_OPTIMIZERS[name]["hyperparameters"], choice.given())
        _check_options(name, options, i)
        chosen.append((name, options))
    trajectories = descend_together(
        target.formula,
        body.start,
        chosen,
        steps=body.steps,
        tol=body.tol,
        variables=target.variables,
        deadline=deadline,
    )
    return {
        "runs": [_run(t, i) for i, t in enumerate(trajectories)],
        "formula": target.formula.text,
        "variables": list(target.variables),
    }


def _options(defaults: dict, given: dict) -> dict:
    options = {**defaults, **given}
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    return options


def _check_options(name: str, options: dict, index: int) -> None:
    """The optimiser's own checks (nesterov needs momentum > 0, ...) as a 400."""
    from chainrule.tensor import Tensor

    try:
        make_optimizer(name, options, [Tensor._wrap(np.zeros(2)).requires_grad_()])
    except ValueError as error:
        message = str(error).splitlines()[0]
        raise ApiError(400, {"message": message, "field": f"optimizers[{index}]"}) from None


def _run(trajectory, index: int) -> dict:
    points = trajectory.points
    # a diverged path ends at its last finite point (the start always is one)
    finite = np.isfinite(points).all(axis=1)
    keep = int(np.argmin(finite)) if not finite.all() else len(points)
    values = trajectory.values[:keep]
    gradients = trajectory.gradients[:keep]
    status = trajectory.status
    return {
        "name": trajectory.optimizer,
        "color": optimizer_color(trajectory.optimizer, index),
        "status": status,
        "steps": trajectory.steps,
        "converged_at": trajectory.steps if status == "converged" else None,
        "diverged_at": trajectory.diverged_at,
        "points": points[:keep].tolist(),
        "values": _list_or_none(values),
        "gradients": _list_or_none(gradients),
        "hyperparameters": _plain(trajectory.hyperparameters),
    }


def _list_or_none(array: np.ndarray) -> list:
    """``array.tolist()`` with None for every number that is not finite."""
    if np.isfinite(array).all():
        return array.tolist()
    return np.where(np.isfinite(array), array, None).tolist()


def json_safe(value):
    """Nested dicts and lists with every non-finite float (and NumPy number) made JSON's."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    return value


def _plain(hyperparameters: dict) -> dict:
    out = {}
    for key, value in hyperparameters.items():
        if isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


# -- explain --------------------------------------------------------------------------------


def compute_explain(body: schemas.ExplainRequest) -> dict:
    """The chain-rule report of the formula at the point: every node, its local derivative."""
    target = resolve(body)
    coordinates = {"x": body.point.x, "y": body.point.y}
    at = dict(zip(target.variables, (coordinates["x"], coordinates["y"])))
    used = target.formula.variables
    if not used:
        raise ApiError(
            400,
            {
                "message": "the formula has no variables: there is no chain rule to explain",
                "field": "formula",
            },
        )
    leaves = {name: Scalar(at[name], label=name) for name in used}
    y = target.formula(**leaves)
    report = explain(y)
    value = float(y.data)
    gradient = {name: float(report.grads.get(name, 0.0)) for name in target.variables}
    return {
        "formula": target.formula.text,
        "point": at,
        "value": value if math.isfinite(value) else None,
        "gradient": {k: v if math.isfinite(v) else None for k, v in gradient.items()},
        "report": json_safe(report.to_dict()),
        "markdown": report.markdown(),
    }
