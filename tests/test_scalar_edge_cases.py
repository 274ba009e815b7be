"""Where small engines go wrong: powers at 0, exponents of non-positive bases, undefined math.

chainrule's rule: undefined math follows IEEE 754 (nan or inf, as NumPy and PyTorch give);
nothing raises. Where PyTorch is installed, its answers are compared too.
"""

from __future__ import annotations

import math

import pytest

from chainrule import Scalar
from tests.conftest import needs_torch, scalar_grads, torch_grads

inf, nan = math.inf, math.nan


def same(a: float, b: float) -> bool:
    """Equal, with nan equal to nan and infinities compared with their signs."""
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("n", [2, 3, 4, 2.0, 3.0])
def test_integer_powers_at_zero_have_gradient_zero(n):
    value, (grad,) = scalar_grads(lambda x: x**n, 0.0)
    assert value == 0.0
    assert grad == 0.0


def test_power_zero_and_one_at_zero():
    assert scalar_grads(lambda x: x**0, 0.0) == (1.0, [0.0])  # d(x**0)/dx = 0, not 0 * inf
    assert scalar_grads(lambda x: x**1, 0.0) == (0.0, [1.0])


# (fn, x, value, gradient): each row an IEEE answer where Python's floats would raise
UNDEFINED = [
    ("log(0)", lambda x: x.log(), 0.0, -inf, inf),
    ("log(-1)", lambda x: x.log(), -1.0, nan, -1.0),
    ("sqrt(0)", lambda x: x.sqrt(), 0.0, 0.0, inf),
    ("sqrt(-1)", lambda x: x.sqrt(), -1.0, nan, nan),
    ("1 / x at 0", lambda x: 1 / x, 0.0, inf, -inf),
    ("1 / x at -0.0", lambda x: 1 / x, -0.0, -inf, -inf),
    ("0 / x at 0", lambda x: 0 / x, 0.0, nan, nan),
    ("x / 0", lambda x: x / 0, 2.0, inf, inf),
    ("x ** -1 at 0", lambda x: x**-1, 0.0, inf, -inf),
    ("x ** 0.5 at 0", lambda x: x**0.5, 0.0, 0.0, inf),
    ("(-8) ** (1/3)", lambda x: x ** (1 / 3), -8.0, nan, nan),
    ("exp(1000)", lambda x: x.exp(), 1000.0, inf, inf),
    ("exp(-1000)", lambda x: x.exp(), -1000.0, 0.0, 0.0),
    ("x ** 2 at 1e200", lambda x: x**2, 1e200, inf, 2e200),  # the value overflows, 2x does not
    ("sigmoid(1000)", lambda x: x.sigmoid(), 1000.0, 1.0, 0.0),
    ("sigmoid(-1000)", lambda x: x.sigmoid(), -1000.0, 0.0, 0.0),
    ("tanh(1000)", lambda x: x.tanh(), 1000.0, 1.0, 0.0),
    ("sin(inf)", lambda x: x.sin(), inf, nan, nan),
    ("tan(inf)", lambda x: x.tan(), inf, nan, nan),
    ("relu(0)", lambda x: x.relu(), 0.0, 0.0, 0.0),
    ("abs(0)", lambda x: abs(x), 0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("name, fn, x, value, grad", UNDEFINED, ids=[u[0] for u in UNDEFINED])
def test_undefined_math_follows_ieee(name, fn, x, value, grad):
    got_value, (got_grad,) = scalar_grads(fn, x)
    assert same(got_value, value), f"{name}: value {got_value}"
    assert same(got_grad, grad), f"{name}: gradient {got_grad}"


@needs_torch
@pytest.mark.parametrize("name, fn, x, value, grad", UNDEFINED, ids=[u[0] for u in UNDEFINED])
def test_undefined_math_agrees_with_pytorch(name, fn, x, value, grad):
    torch_value, (torch_grad,) = torch_grads(fn, x)
    assert same(torch_value, value), f"{name}: PyTorch's value {torch_value}"
    assert same(torch_grad, grad), f"{name}: PyTorch's gradient {torch_grad}"


# x ** y with a Scalar exponent: d/dy = x**y * ln(x) is undefined for x <= 0, handled so:
# at x = 0 with y >= 0 the power is 0 for every nearby y, so d/dy = 0 (PyTorch's choice too);
# at x < 0 the power is not real for the fractional y around any y: d/dy = nan, even where
# the value (and d/dx) exist, as at (-2) ** 3.
SCALAR_EXPONENT = [
    # x, y, value, d/dx, d/dy
    (0.0, 2.0, 0.0, 0.0, 0.0),
    (0.0, 3.0, 0.0, 0.0, 0.0),
    (0.0, 0.0, 1.0, 0.0, 0.0),
    (-2.0, 3.0, -8.0, 12.0, nan),
    (-2.0, 2.0, 4.0, -4.0, nan),
    (-2.0, 0.5, nan, nan, nan),
]


@pytest.mark.parametrize("x, y, value, dx, dy", SCALAR_EXPONENT)
def test_scalar_exponent_at_non_positive_base(x, y, value, dx, dy):
    got_value, (got_dx, got_dy) = scalar_grads(lambda a, b: a**b, x, y)
    assert same(got_value, value)
    assert same(got_dx, dx)
    assert same(got_dy, dy)


@needs_torch
@pytest.mark.parametrize("x, y, value, dx, dy", SCALAR_EXPONENT)
def test_scalar_exponent_agrees_with_pytorch(x, y, value, dx, dy):
    torch_value, (torch_dx, torch_dy) = torch_grads(lambda a, b: a**b, x, y)
    assert same(torch_value, value)
    assert same(torch_dx, dx)
    assert same(torch_dy, dy)


@pytest.mark.parametrize(
    "c, y, dy", [(2.0, 3.0, 8 * math.log(2)), (0.0, 2.0, 0.0), (-2.0, 2.0, nan)]
)
def test_number_to_a_scalar_power(c, y, dy):
    value, (grad,) = scalar_grads(lambda b: c**b, y)
    assert same(value, c**y)
    assert same(grad, dy) or grad == pytest.approx(dy)


def test_a_nan_flows_through_backward_instead_of_raising():
    x = Scalar(-1.0)
    y = x.log() * 2 + 1
    y.backward()
    assert math.isnan(y.data)
    assert x.grad == -2.0  # d/dx (2 log x + 1) = 2/x, defined even where log is not
