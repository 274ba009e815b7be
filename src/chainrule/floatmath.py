"""IEEE 754 arithmetic on Python floats: inf and nan where Python would raise.

Python's floats raise (ZeroDivisionError, OverflowError, ValueError) or turn complex where
IEEE 754, NumPy and PyTorch give inf or nan. The Scalar engine follows IEEE, so its
operations go through these functions. Each tries the plain operation first: in Python 3.11+
a ``try`` costs nothing until it raises.

>>> divide(1.0, 0.0), divide(-1.0, 0.0), divide(0.0, 0.0)
(inf, -inf, nan)
>>> power(-8.0, 1 / 3), power(0.0, -1.0), power(10.0, 400.0)
(nan, inf, inf)
>>> exp(1000.0), log(0.0), log(-1.0), trig(math.sin, math.inf)
(inf, -inf, nan, nan)
"""

from __future__ import annotations

import math

__all__ = ["divide", "exp", "exponent_grad", "log", "power", "trig"]

inf = math.inf
nan = math.nan


def _is_odd_integer(y: float) -> bool:
    """Whether y is an odd whole number (which keeps the sign of a negative base)."""
    return y == int(y) and int(y) % 2 == 1 if math.isfinite(y) else False


def divide(x: float, y: float) -> float:
    """x / y; a signed inf for a nonzero x over 0, nan for 0 / 0."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or x != x:
            return nan
        return math.copysign(inf, x) * math.copysign(1.0, y)


def power(x: float, y: float) -> float:
    """x ** y; inf on overflow or 0 to a negative power, nan for a negative x to a fraction."""
    try:
        result = x**y
    except ZeroDivisionError:
        # 0 ** negative: IEEE pow gives -inf for -0.0 to an odd negative integer, else inf
        return -inf if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else inf
    except OverflowError:
        return -inf if x < 0 and _is_odd_integer(y) else inf
    if type(result) is complex:  # a negative base to a fractional power
        return nan
    return result


def exp(x: float) -> float:
    """e ** x; inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def log(x: float) -> float:
    """Natural logarithm; -inf at 0, nan below."""
    if x > 0.0:
        return math.log(x)
    return -inf if x == 0.0 else nan


def trig(function, x: float) -> float:
    """``function(x)`` for math.sin, math.cos or math.tan; nan at infinity."""
    try:
        return function(x)
    except ValueError:  # sin(inf), cos(inf), tan(inf)
        return nan


def exponent_grad(value: float, base: float, exponent: float) -> float:
    """d(base ** exponent)/d(exponent) = base ** exponent * ln(base), where that is defined.

    At base 0 with exponent >= 0 the power is 0 for every nearby exponent, so the derivative is
    0 (as in PyTorch). For a negative base, base ** t is not real for the fractional t around
    any exponent, so no derivative exists: nan, even where the value itself is real.
    """
    if base > 0.0:
        return value * math.log(base)
    if base == 0.0:
        return 0.0 if exponent >= 0.0 else -inf
    return nan
