"""Finite differences, and checks of gradients against them.

``numerical_grad`` estimates a gradient from function values alone: the definition of the
derivative, with a small step h instead of the limit. Its error has two parts: truncation
(the step is not 0) and rounding (f is computed in floating point):

- ``"forward"`` and ``"backward"``, (f(x + h) - f(x)) / h: truncation O(h), best h ~ sqrt(eps)
- ``"central"``, (f(x + h) - f(x - h)) / 2h: truncation O(h^2), best h ~ eps^(1/3)
- ``"complex"``, Im f(x + ih) / h: no subtraction, so no rounding loss; truncation O(h^2)
  with h tiny. Needs an f that accepts complex numbers (plain NumPy or math code).

where eps is the machine epsilon of the dtype (2.2e-16 for float64). The default step is
the best one for the method and dtype, scaled by |x|.

``gradcheck`` compares the engine's gradients (every entry of the Jacobian, by backward)
with central differences in float64, and raises ``GradcheckError`` with a table of the
entries that differ.

>>> import math
>>> round(numerical_grad(math.sin, 0.5), 8) == round(math.cos(0.5), 8)
True
>>> import chainrule as cr
>>> gradcheck(lambda x, y: (x * y).tanh().sum(), np.array([0.3, -1.2]), np.array([2.0, 0.7]))
True
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import grad as _autograd_grad
from chainrule.scalar import Scalar
from chainrule.table import Table
from chainrule.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_grad", "numerical_jacobian"]

METHODS = ("central", "forward", "backward", "complex")


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives differ; the message lists the entries that do."""


def default_step(method: str, dtype=np.float64) -> float:
    """The step that balances truncation and rounding error for ``method`` in ``dtype``."""
    eps = np.finfo(dtype).eps
    if method == "central":
        return float(eps ** (1 / 3))
    if method in ("forward", "backward"):
        return float(np.sqrt(eps))
    if method == "complex":
        return 1e-20
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _value(out) -> np.ndarray:
    """A function's output as a float array (Scalar, Tensor, ndarray or number)."""
    if isinstance(out, Scalar):
        return np.asarray(out.data)
    if isinstance(out, Tensor):
        return out.data
    return np.asarray(out)


def _call(f, x, kind):
    """f at ``x`` (an ndarray), given in the kind f was handed: float (as a Scalar, so
    Scalar methods work), ndarray or Tensor."""
    if kind is float:
        return _value(f(Scalar(float(x))) if not np.iscomplexobj(x) else f(complex(x)))
    if kind is Tensor:
        return _value(f(Tensor._wrap(x)))
    return _value(f(x))


def numerical_jacobian(f, x, eps: float | None = None, method: str = "central") -> np.ndarray:
    """d f(x) / dx by finite differences: an array of shape f(x).shape + x.shape.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> J = cr.numerical_jacobian(lambda v: v ** 2, np.array([1.0, 3.0]))
    >>> np.round(J, 6)
    array([[2., 0.],
           [0., 6.]])
    """
    kind = float if isinstance(x, (int, float)) else Tensor if isinstance(x, Tensor) else None
    point = np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    dtype = np.asarray(x.data if isinstance(x, Tensor) else x).dtype
    dtype = dtype if np.issubdtype(dtype, np.floating) else np.float64
    step = default_step(method, dtype) if eps is None else eps
    if method == "complex" and kind is Tensor:
        raise ValueError("the complex step needs a function of complex arrays; Tensors are real")
    base = _call(f, point, kind) if method in ("forward", "backward") else None
    columns = []
    for i in np.ndindex(point.shape or (1,)):
        index = i if point.shape else ()
        h = step * max(1.0, abs(point[index]))
        if method == "complex":
            shifted = point.astype(complex)
            shifted[index] += 1j * h
            column = np.imag(_call(f, shifted if point.shape else shifted[()], kind)) / h
        else:
            up, down = point.copy(), point.copy()
            if method in ("central", "forward"):
                up[index] += h
            if method in ("central", "backward"):
                down[index] -= h
            high = _call(f, up if point.shape else up[()], kind) if method != "backward" else base
            low = _call(f, down if point.shape else down[()], kind) if method != "forward" else base
            column = (high - low) / (2 * h if method == "central" else h)
        columns.append(np.asarray(column, dtype=np.float64))
    out_shape = columns[0].shape
    jacobian = np.stack(columns, axis=-1).reshape(out_shape + point.shape)
    return jacobian


def numerical_grad(f, x, eps: float | None = None, method: str = "central"):
    """The gradient of a scalar-valued f at x by finite differences, in x's kind: a float for
    a float, an ndarray for an ndarray, a Tensor for a Tensor.

    >>> numerical_grad(lambda v: (v ** 2).sum(), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    jacobian = numerical_jacobian(f, x, eps, method)
    if jacobian.shape != np.shape(x.data if isinstance(x, Tensor) else x):
        raise ValueError(
            f"numerical_grad needs a function with one output value; this one gives shape "
            f"{jacobian.shape[: jacobian.ndim - np.ndim(x.data if isinstance(x, Tensor) else x)]}"
            " (use numerical_jacobian)"
        )
    if isinstance(x, (int, float)):
        return float(jacobian)
    if isinstance(x, Tensor):
        return Tensor._wrap(jacobian.astype(x.dtype))
    return jacobian


def _analytic_jacobians(f, inputs: list[np.ndarray], scalar_mode: bool) -> list[np.ndarray]:
    """The Jacobian of f with respect to each input, row by row with backward()."""
    if scalar_mode:
        nodes = [Scalar(float(v)) for v in inputs]
        out = f(*nodes)
        if not isinstance(out, Scalar):
            return [np.zeros(()) for _ in inputs]
        out.backward()
        return [np.asarray(node.grad) for node in nodes]
    tensors = [Tensor._wrap(v.copy()).requires_grad_() for v in inputs]
    out = f(*tensors)
    if not isinstance(out, Tensor) or not out.requires_grad:
        return [np.zeros(np.shape(_value(out)) + v.shape) for v in inputs]
    rows = [[] for _ in inputs]
    for i in np.ndindex(out.shape):
        seed = np.zeros(out.shape)
        seed[i] = 1.0
        grads = _autograd_grad(out, tensors, grad_outputs=[seed], retain_graph=True)
        for row, g, v in zip(rows, grads, inputs):
            row.append(np.zeros(v.shape) if g is None else g.data)
    return [
        np.stack(row).reshape(out.shape + v.shape) if row else np.zeros(out.shape + v.shape)
        for row, v in zip(rows, inputs)
    ]


def gradcheck(f, *inputs, eps=None, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """True if f's gradients (by backward) match central differences at ``inputs``, in float64.

    ``inputs`` are floats (f is then run on Scalars) or arrays/Tensors (f is run on float64
    Tensors). Every entry of every Jacobian is compared: |analytic - numerical| <= atol +
    rtol * |numerical|. Raises GradcheckError listing the entries that differ.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.gradcheck(lambda x: (x ** 2).sin(), np.array([0.5, -1.0]))
    True
    """
    scalar_mode = all(isinstance(v, (int, float)) for v in inputs)
    arrays = [np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64) for v in inputs]
    analytic = _analytic_jacobians(f, arrays, scalar_mode)
    rows = []
    for k, (array, exact) in enumerate(zip(arrays, analytic)):

        def partial(v, k=k):
            args = list(arrays)
            args[k] = v.data if isinstance(v, Tensor) else v
            return f(*[_as_input(a, scalar_mode) for a in args])

        numeric = numerical_jacobian(partial, array, eps, "central")
        numeric = numeric.reshape(exact.shape)
        bad = np.abs(exact - numeric) > atol + rtol * np.abs(numeric)
        bad |= np.isnan(exact) != np.isnan(numeric)
        for index in np.ndindex(bad.shape):
            if bad[index]:
                difference = exact[index] - numeric[index]
                rows.append([k, str(index), exact[index], numeric[index], difference])
    if rows:
        shown = rows[:20]
        table = Table(["input", "entry", "analytic", "numerical", "difference"], shown)
        more = f"\n... and {len(rows) - len(shown)} more" if len(rows) > len(shown) else ""
        raise GradcheckError(
            f"gradcheck: {len(rows)} Jacobian entries differ (atol={atol}, rtol={rtol})\n"
            f"{table.text()}{more}"
        )
    return True


def _as_input(value, scalar_mode: bool):
    if scalar_mode:
        return Scalar(float(value))
    return Tensor._wrap(np.asarray(value, dtype=np.float64))


def gradgradcheck(f, *inputs, eps=None, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0):
    """True if f's second derivatives (backward of backward, ``create_graph=True``) match
    finite differences of its first ones: gradcheck of x -> sum_i <grad_i f(x) . v, w_i>
    with random, non-uniform v and w. Tensor functions only.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.gradgradcheck(lambda x: x.tanh() * x, np.array([0.3, -0.7]))
    True
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64) for v in inputs]
    probe = f(*[Tensor._wrap(a) for a in arrays])
    v = rng.standard_normal(np.shape(_value(probe)))
    weights = [rng.standard_normal(a.shape) for a in arrays]

    def first_derivatives(*xs):
        # the numerical pass hands in plain tensors: differentiate with respect to them anyway
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        out = f(*xs)
        grads = _autograd_grad(out, list(xs), grad_outputs=[v], create_graph=True)
        total = None
        for g, w in zip(grads, weights):
            if g is not None:
                term = (g * w).sum()
                total = term if total is None else total + term
        return total if total is not None else Tensor._wrap(np.zeros(()))

    return gradcheck(first_derivatives, *arrays, eps=eps, atol=atol, rtol=rtol)
