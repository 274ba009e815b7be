"""Formulas from text: ``cr.parse("x**2 + 3*x*y")`` is a function of x and y on every engine.

A Formula evaluates on floats, NumPy arrays (vectorised over grids), Scalars and Tensors,
and its gradient comes from the engine itself (backward on Scalars or float64 Tensors). The
text is never evaluated: ``chainrule.expr_parse`` reads it with a whitelist and turns it
into a small postfix program, which ``chainrule.expr_eval`` runs. With SymPy installed (the
``symbolic`` extra) a Formula also has a symbolic form, derivatives and LaTeX.

The language: numbers, variables, ``+ - * / **`` (``^`` is a power too), signs,
parentheses, the constants ``pi`` and ``e``, and the functions exp, log (= ln), sqrt, sin,
cos, tan, tanh, sigmoid, relu, abs, sign, min and max (of two or more arguments).
A formula has at most 2000 characters, 500 nodes and 32 levels of nesting (a chain
``a + b - c`` is one level); ``9**9**9**9`` is computed in floats, so it is inf.

>>> import chainrule as cr
>>> f = cr.parse("x**2 + 3*x*y + y**2")
>>> f.variables
('x', 'y')
>>> f(x=1.0, y=2.0)
11.0
>>> f.grad(x=1.0, y=2.0)  # (2x + 3y, 3x + 2y)
{'x': 8.0, 'y': 7.0}
>>> import numpy as np
>>> f(x=np.array([0.0, 1.0]), y=2.0)
array([ 4., 11.])
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.expr_eval import NUMERIC, run
from chainrule.expr_parse import DEFAULT_LIMITS, Limits, ParseError, compile_formula
from chainrule.scalar import Scalar
from chainrule.tensor import Tensor

__all__ = ["Formula", "ParseError", "parse"]


def parse(text: str) -> Formula:
    """Read a formula; ParseError (with the position of the problem) if it is not one.

    >>> parse("sin(x)^2 + cos(x)^2")(x=0.3)
    1.0
    """
    return Formula(text)


class Formula:
    """A formula read from text: callable on floats, ndarrays, Scalars and Tensors.

    Values go by name, ``f(x=1.0, y=2.0)``, or by position in the order of ``variables``
    (sorted by name). Undefined math gives nan or inf as in NumPy (``log(-1)``, ``1/0``),
    never an exception.

    >>> f = Formula("sigmoid(w*x + b)")
    >>> f.variables
    ('b', 'w', 'x')
    >>> round(f(0.5, 2.0, 1.0), 6)
    0.924142
    """

    __slots__ = ("text", "variables", "_program")

    def __init__(self, text: str):
        self._setup(text, DEFAULT_LIMITS)

    @classmethod
    def _trusted(cls, text: str, limits: Limits) -> Formula:
        """A formula we wrote ourselves (a derivative), allowed to be larger than user input."""
        formula = cls.__new__(cls)
        formula._setup(text, limits)
        return formula

    def _setup(self, text: str, limits: Limits) -> None:
        self._program = compile_formula(text, limits)
        self.text = text
        names = {step[1] for step in self._program if step[0] == "var"}
        self.variables: tuple[str, ...] = tuple(sorted(names))

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def __str__(self) -> str:
        return self.text

    # -- evaluation ------------------------------------------------------------------------

    def __call__(self, *args, **values):
        """The formula's value at the given variables (numbers, arrays, Scalars or Tensors)."""
        bound = {name: _prepare(name, value) for name, value in self._bind(args, values).items()}
        scalars = any(isinstance(v, Scalar) for v in bound.values())
        tensors = any(isinstance(v, Tensor) for v in bound.values())
        arrays = [v for v in bound.values() if isinstance(v, np.ndarray)]
        if scalars and (tensors or arrays):
            raise TypeError(
                "a formula's values can't mix Scalars with arrays or Tensors "
                f"(got {', '.join(f'{k}: {type(v).__name__}' for k, v in bound.items())})"
            )
        if arrays or tensors:
            with np.errstate(all="ignore"):  # nan and inf are answers here, not accidents
                result = run(self._program, bound, NUMERIC)
        else:
            result = run(self._program, bound, NUMERIC)
        if scalars and not isinstance(result, Scalar):
            return Scalar(result)  # defensive: a Scalar formula always gives a Scalar
        if arrays and not tensors:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
            fresh = isinstance(result, np.ndarray) and result.shape == shape
            if not fresh or any(result is a for a in arrays):
                result = np.array(np.broadcast_to(result, shape))  # a new array, not an input
        return result

    def grad(self, *args, **at) -> dict:
        """The gradient at a point, by the engine's backward: ``{name: partial derivative}``.

        Numbers give floats (computed on Scalars); arrays give arrays of the broadcast
        shape, one gradient per grid point (computed on float64 Tensors).

        >>> Formula("x * y**2").grad(x=3.0, y=-1.0)
        {'x': 1.0, 'y': -6.0}
        >>> Formula("x**2").grad(x=np.array([1.0, 2.0]))
        {'x': array([2., 4.])}
        """
        bound = {name: _prepare(name, value) for name, value in self._bind(args, at).items()}
        if any(isinstance(v, (Scalar, Tensor)) for v in bound.values()):
            raise TypeError(
                "grad() takes numbers or arrays; to differentiate Scalars or Tensors, call "
                "the formula on them and use backward()"
            )
        if not bound:
            return {}
        if not any(isinstance(v, np.ndarray) for v in bound.values()):
            leaves = {name: Scalar(value) for name, value in bound.items()}
            out = self(**leaves)
            out.backward()
            return {name: leaf.grad for name, leaf in leaves.items()}
        grids = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in bound.values()))
        leaves = {
            name: Tensor._wrap(grid.copy()).requires_grad_() for name, grid in zip(bound, grids)
        }
        with enable_grad():  # a gradient was asked for, even inside no_grad()
            out = self(**leaves)
            if isinstance(out, Tensor) and out.requires_grad:
                out.sum().backward()
        shape = grids[0].shape if grids else ()
        return {
            name: np.zeros(shape) if leaf.grad is None else leaf.grad.data
            for name, leaf in leaves.items()
        }

    def _bind(self, args: tuple, values: dict) -> dict:
        """Positional and keyword values as one dict in the order of ``variables``."""
        if len(args) > len(self.variables):
            raise TypeError(
                f"{self!r} takes {len(self.variables)} values {self.variables}, got {len(args)}"
            )
        bound = dict(zip(self.variables, args))
        for name, value in values.items():
            if name in bound:
                raise TypeError(f"{self!r} got two values for {name!r}")
            if name not in self.variables:
                raise TypeError(
                    f"{self!r} has no variable {name!r} (its variables: {self.variables})"
                )
            bound[name] = value
        missing = [name for name in self.variables if name not in bound]
        if missing:
            raise TypeError(f"{self!r} needs a value for {', '.join(map(repr, missing))}")
        return {name: bound[name] for name in self.variables}

    # -- symbolic, with SymPy ----------------------------------------------------------------

    def to_sympy(self):
        """The formula as a SymPy expression of real symbols (needs the ``symbolic`` extra).

        >>> import sympy
        >>> f = Formula("x**2 + 3*x*y").to_sympy()
        >>> x, y = sympy.symbols("x y", real=True)
        >>> sympy.diff(f, x)                            # SymPy's own derivative
        2*x + 3*y
        """
        from chainrule.expr_sympy import to_sympy

        return to_sympy(self._program)

    def diff(self, name: str) -> Formula:
        """The symbolic derivative with respect to variable ``name``, as a Formula (SymPy).

        >>> Formula("x**3 + sin(x)").diff("x")
        Formula('3*x**2 + cos(x)')
        """
        from chainrule.expr_sympy import derivative_text

        if name not in self.variables:
            raise ValueError(f"{name!r} is not a variable of {self!r} (its: {self.variables})")
        return Formula._trusted(derivative_text(self._program, name), _DERIVATIVE_LIMITS)

    def latex(self) -> str:
        """The formula in LaTeX, as SymPy writes it (needs the ``symbolic`` extra).

        >>> print(Formula("sqrt(x)/2").latex())
        \\frac{\\sqrt{x}}{2}
        """
        from chainrule.expr_sympy import latex

        return latex(self._program)


# A derivative can be several times longer than its formula; it comes from SymPy's printer,
# not from a user, so it may be larger (still bounded: ast.parse allows 200 open parentheses)
_DERIVATIVE_LIMITS = Limits(max_length=200_000, max_depth=150, max_nodes=50_000)


def _prepare(name: str, value):
    """A value as the evaluator takes it: a Scalar, a Tensor, a float or a float ndarray."""
    if type(value) is float or isinstance(value, (Scalar, Tensor)):
        return value
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be numbers, got {value!r}") from None
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real array, got dtype {value.dtype}")
        if value.ndim == 0:
            return float(value)
        return value if value.dtype.kind == "f" else value.astype(np.float64)
    if isinstance(value, (Real, np.integer, np.floating)):
        return float(value)
    raise TypeError(
        f"{name} must be a number, an ndarray, a Scalar or a Tensor, got {type(value).__name__}"
    )
