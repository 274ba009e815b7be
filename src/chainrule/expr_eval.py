"""Running a formula's program: one loop with a stack, each step on the engine of its operands.

``chainrule.expr_parse`` turns formula text into a postfix program; ``run`` executes it with a
backend that says what numbers, constants, signs, operators and functions are. ``NUMERIC``
is the backend of ``Formula.__call__``: per operation, pure Python for floats (IEEE answers
from ``chainrule.floatmath``, as the Scalar engine), NumPy where arrays take part, and the
Scalar or Tensor engine where one of theirs does, so gradients flow through the engine.
The SymPy bridge and the tests' PyTorch reference are backends too.

>>> from chainrule.expr_parse import compile_formula
>>> run(compile_formula("2 * x + max(x, y)"), {"x": 1.5, "y": 4.0}, NUMERIC)
7.0
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from chainrule import floatmath, ops
from chainrule.expr_parse import FUNCTIONS
from chainrule.scalar import Scalar
from chainrule.tensor import Tensor

__all__ = ["NUMERIC", "OPERATORS", "fold", "run"]


def run(program: tuple, values: dict, backend):
    """Run a postfix program: each step pops its operands and pushes its result."""
    stack: list = []
    push = stack.append
    pop = stack.pop
    binary = backend.binary  # looked up once: this loop is the hot path of a descent
    for step in program:
        code = step[0]
        if code == "var":
            push(values[step[1]])
        elif code == "num":
            push(backend.number(step[1]))
        elif code == "const":
            push(backend.constant(step[1]))
        elif code == "neg":
            stack[-1] = backend.negative(stack[-1])
        elif code == "call":
            count = step[2]
            args = stack[-count:]
            del stack[-count:]
            push(backend.call(step[1], args))
        else:
            right = pop()
            stack[-1] = binary(code, stack[-1], right)
    return stack[0]


def _is_plain(value) -> bool:
    return type(value) is float or isinstance(value, np.ndarray)


def _plain(value):
    """NumPy's result as a float when it is one number: np.float64 would win over a float32
    Tensor's dtype, and a NumPy scalar on the left of a Scalar would not defer to it."""
    if isinstance(value, np.generic) or value.ndim == 0:
        return float(value)
    return value


# -- plain floats: pure Python with IEEE answers (chainrule.floatmath), as the Scalar engine
# computes its values; a NumPy call on one number costs about a microsecond of machinery


def _float_sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


def _float_sigmoid(x: float) -> float:
    # two forms so that exp never overflows, as Scalar.sigmoid
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = floatmath.exp(x)
    return z / (1.0 + z)


def _float_relu(x: float) -> float:
    return x if x > 0.0 or x != x else 0.0


def _float_sign(x: float) -> float:
    return 0.0 if x == 0.0 else math.copysign(1.0, x) if x == x else math.nan


def _float_min(x: float, y: float) -> float:
    if x != x or y != y:
        return math.nan  # nan spreads, as in NumPy
    return x if x <= y else y


def _float_max(x: float, y: float) -> float:
    if x != x or y != y:
        return math.nan
    return x if x >= y else y


def _float_trig(function):
    def trig(x: float) -> float:
        return floatmath.trig(function, x)

    trig.__name__ = function.__name__
    return trig


# -- arrays: NumPy


def _sigmoid(x):
    # 1 / (1 + e**-x) for x >= 0 and e**x / (1 + e**x) below: exp never overflows
    z = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _relu(x):
    return np.maximum(x, 0.0)


def _as_scalar(x) -> Scalar:
    return x if isinstance(x, Scalar) else Scalar(x)


def _scalar_extreme(x, y, smaller: bool) -> Scalar:
    """min or max of two Scalars (or a Scalar and a number), differentiable in the chosen one."""
    x, y = _as_scalar(x), _as_scalar(y)
    a, b = x.data, y.data
    if a == b or a != a or b != b:
        # a tie sends each side half the gradient, as the Tensor engine and PyTorch do;
        # a nan spreads
        return x * 0.5 + y * 0.5
    return x if (a < b) == smaller else y


def _scalar_min(x, y) -> Scalar:
    return _scalar_extreme(x, y, smaller=True)


def _scalar_max(x, y) -> Scalar:
    return _scalar_extreme(x, y, smaller=False)


def _scalar_sign(x: Scalar) -> Scalar:
    # a step: its derivative is 0 wherever it has one, so the result is a constant
    return Scalar(_float_sign(x.data))


def fold(pair):
    """min/max of two made into min/max of many: max(a, b, c) = max(max(a, b), c)."""

    def folded(*args):
        return functools.reduce(pair, args)

    return folded


_FLOAT_FUNCTIONS = {
    "exp": floatmath.exp,
    "log": floatmath.log,
    "sqrt": _float_sqrt,
    "sin": _float_trig(math.sin),
    "cos": _float_trig(math.cos),
    "tan": _float_trig(math.tan),
    "tanh": math.tanh,
    "sigmoid": _float_sigmoid,
    "relu": _float_relu,
    "abs": abs,
    "sign": _float_sign,
    "min": fold(_float_min),
    "max": fold(_float_max),
}
_UNARY_NAMES = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu")

_NUMPY_FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "abs": np.abs,
    "sign": np.sign,
    "min": fold(np.minimum),
    "max": fold(np.maximum),
}
_TENSOR_FUNCTIONS = {name: getattr(ops, name) for name in _UNARY_NAMES} | {
    "abs": ops.abs,
    "sign": ops.sign,
    "min": fold(ops.minimum),
    "max": fold(ops.maximum),
}
_SCALAR_FUNCTIONS = {name: operator.methodcaller(name) for name in _UNARY_NAMES} | {
    "abs": abs,
    "sign": _scalar_sign,
    "min": fold(_scalar_min),
    "max": fold(_scalar_max),
}
for _table in (_FLOAT_FUNCTIONS, _NUMPY_FUNCTIONS, _TENSOR_FUNCTIONS, _SCALAR_FUNCTIONS):
    _table["ln"] = _table["log"]
    assert set(_table) == set(FUNCTIONS), "every engine has every function"

_FLOAT_BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": floatmath.divide,
    "**": floatmath.power,
}
_NUMPY_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
# Python's operators: what + - * / ** mean on engine objects (Scalars, Tensors, SymPy's, torch's)
OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


class _Numeric:
    """Evaluation on numbers, arrays, Scalars and Tensors, chosen per operation by its operands:
    pure Python for floats, NumPy when arrays are among them, else the engine of the Scalar or
    Tensor there."""

    @staticmethod
    def number(value: float) -> float:
        return value

    @staticmethod
    def constant(name: str) -> float:
        return math.pi if name == "pi" else math.e

    @staticmethod
    def negative(x):
        return -x

    @staticmethod
    def binary(code: str, x, y):
        x_float = type(x) is float
        y_float = type(y) is float
        if x_float and y_float:
            return _FLOAT_BINARY[code](x, y)
        if (x_float or isinstance(x, np.ndarray)) and (y_float or isinstance(y, np.ndarray)):
            return _plain(_NUMPY_BINARY[code](x, y))
        return OPERATORS[code](x, y)

    @staticmethod
    def call(name: str, args: list):
        if all(type(a) is float for a in args):
            return _FLOAT_FUNCTIONS[name](*args)
        if all(_is_plain(a) for a in args):
            return _plain(_NUMPY_FUNCTIONS[name](*args))
        if any(isinstance(a, Tensor) for a in args):
            return _TENSOR_FUNCTIONS[name](*args)
        return _SCALAR_FUNCTIONS[name](*args)


NUMERIC = _Numeric()
