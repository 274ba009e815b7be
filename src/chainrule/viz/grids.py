"""What the plots compute before they draw (NumPy only): functions on grids and contour levels.

``as_target`` turns what a user hands ``plot_surface`` (a Surface, a surface's name, a
Formula or its text in two variables, or a Python ``f(x, y)``) into one ``Target`` whose
``values`` and ``gradient`` work on whole grids at once: Surfaces and Formulas take arrays
directly; a Python function is tried on ndarrays, then on chainrule Tensors, and only then
point by point. Gradients always come from chainrule's own backward pass.

>>> import numpy as np
>>> bowl = as_target("bowl")
>>> bowl.values(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
array([1., 5.])
>>> as_target("x*y + y^2").variables
('x', 'y')
>>> levels, is_log = contour_levels(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 5)
>>> levels.tolist(), is_log
([0.0, 1.0, 2.0, 3.0, 4.0], False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chainrule import surfaces
from chainrule.autograd import no_grad
from chainrule.expr import Formula, parse
from chainrule.func import grad
from chainrule.scalar import Scalar
from chainrule.surfaces import Surface
from chainrule.tensor import Tensor

__all__ = ["LOG_SPREAD", "Target", "as_target", "contour_levels", "grid_bounds"]

# Log-spaced contour levels once the highest value (above the lowest) is this many times
# the typical low one: then linear levels crowd into a single band around the minimum.
LOG_SPREAD = 300.0


@dataclass
class Target:
    """A function of two variables ready for grids: ``values(X, Y)``, ``gradient(X, Y)``."""

    name: str
    variables: tuple[str, str]
    values: Callable
    gradient: Callable
    domain: tuple | None = None
    minima: tuple = ()
    minimum: float | None = None


def as_target(surface_or_f) -> Target:
    """A ``Target`` for a Surface, a surface's name, a Formula or formula text, or f(x, y)."""
    if isinstance(surface_or_f, str):
        key = surface_or_f.strip().lower().replace("-", "_").replace(" ", "_")
        if key in surfaces.names():
            surface_or_f = surfaces.get(key)
        else:
            surface_or_f = parse(surface_or_f)
    if isinstance(surface_or_f, Surface):
        return _surface_target(surface_or_f)
    if isinstance(surface_or_f, Formula):
        return _formula_target(surface_or_f)
    if callable(surface_or_f):
        return _function_target(surface_or_f)
    raise TypeError(
        "expected a Surface, a surface's name, a formula in two variables or a function "
        f"f(x, y), got {type(surface_or_f).__name__}"
    )


def _surface_target(surface: Surface) -> Target:
    if surface.ndim != 2:
        raise ValueError(
            f"surface {surface.name!r} has {surface.ndim} variable(s) {surface.variables}; "
            "a surface plot needs two"
        )
    return Target(
        surface.name,
        surface.variables,
        lambda x, y: np.asarray(surface(x, y), dtype=np.float64),
        lambda x, y: surface.grad(x, y),
        surface.domain,
        surface.minima,
        surface.minimum,
    )


def _formula_target(formula: Formula) -> Target:
    if len(formula.variables) != 2:
        raise ValueError(
            f"the formula {formula.text!r} has {len(formula.variables)} variable(s) "
            f"{formula.variables}; a surface plot needs two"
        )
    names = ("x", "y") if set(formula.variables) == {"x", "y"} else formula.variables
    a, b = names

    def values(x, y):
        return np.asarray(formula(**{a: x, b: y}), dtype=np.float64)

    def gradient(x, y):
        by_name = formula.grad(**{a: x, b: y})
        return by_name[a], by_name[b]

    return Target(formula.text, names, values, gradient)


def _function_target(f: Callable) -> Target:
    name = getattr(f, "__name__", "f")

    def values(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        try:  # f written with operators alone works on arrays, the fastest way
            out = np.asarray(f(x, y), dtype=np.float64)
            if out.shape == x.shape:
                return out
        except (TypeError, AttributeError, ValueError):
            pass
        try:  # f written with chainrule functions (x.sin(), cr.exp) works on Tensors
            with no_grad():
                out = f(Tensor._wrap(x.copy()), Tensor._wrap(y.copy()))
            out = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
            if out.shape == x.shape:
                return out
        except (TypeError, AttributeError, ValueError):
            pass
        return np.vectorize(lambda a, b: float(_scalar_value(f(Scalar(a), Scalar(b)))))(x, y)

    summed = grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))

    def gradient(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        try:
            gx, gy = summed(x.copy(), y.copy())
            return np.asarray(gx, np.float64), np.asarray(gy, np.float64)
        except (TypeError, AttributeError, ValueError):
            return _pointwise_gradient(f, x, y)

    return Target("f(x, y)" if name == "<lambda>" else name, ("x", "y"), values, gradient)


def _scalar_value(out) -> float:
    return out.data if isinstance(out, Scalar) else out


def _pointwise_gradient(f: Callable, x: np.ndarray, y: np.ndarray):
    """One Scalar backward per grid point: slow, for functions that only take Scalars."""
    gx, gy = np.zeros(x.shape), np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        a, b = Scalar(float(x[index])), Scalar(float(y[index]))
        out = f(a, b)
        if isinstance(out, Scalar):
            out.backward()
            gx[index], gy[index] = a.grad, b.grad
    return gx, gy


def grid_bounds(target: Target, points: list[np.ndarray], bounds=None) -> tuple:
    """((x low, x high), (y low, y high)): ``bounds`` if given, else the target's domain,
    else the finite points of the paths with a margin, else (-3, 3) on both axes."""
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        if not (x0 < x1 and y0 < y1):
            raise ValueError(f"bounds must be ((x low, x high), (y low, y high)), got {bounds!r}")
        return (float(x0), float(x1)), (float(y0), float(y1))
    if target.domain is not None:
        return tuple(tuple(map(float, pair)) for pair in target.domain)
    finite = [p[np.all(np.isfinite(p), axis=1)] for p in points]
    finite = [p for p in finite if len(p)]
    if not finite:
        return (-3.0, 3.0), (-3.0, 3.0)
    stacked = np.concatenate(finite)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    margin = np.maximum(0.15 * (high - low), 0.5)
    return tuple((float(lo - m), float(hi + m)) for lo, hi, m in zip(low, high, margin))


def contour_levels(z: np.ndarray, n: int = 30, log_scale="auto") -> tuple[np.ndarray, bool]:
    """``n`` increasing contour levels for the values ``z``, and whether they are log-spaced.

    Log-spaced levels sit at ``min(z) + geomspace(low, spread)``: equal ratios above the
    lowest value, so the floor of a valley gets as many lines as its walls. ``log_scale``
    is True, False or "auto": log when the spread above the minimum is at least
    ``LOG_SPREAD`` times its 5th percentile (Rosenbrock's is; a round bowl's is not).
    """
    if log_scale not in (True, False, "auto"):
        raise ValueError(f"log_scale must be True, False or 'auto', got {log_scale!r}")
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        raise ValueError("the function has no finite value on the plotted region")
    low, high = float(finite.min()), float(finite.max())
    spread = high - low
    if spread <= 0:
        return np.array([low - 1.0, low, low + 1.0]), False
    above = finite - low
    floor = max(float(np.percentile(above, 5)), spread * 1e-9)
    use_log = log_scale is True or (log_scale == "auto" and spread >= LOG_SPREAD * floor)
    if not use_log:
        return np.linspace(low, high, n), False
    first = max(float(np.percentile(above[above > 0], 0.5)), spread * 1e-9)
    return low + np.geomspace(first, spread, n), True
