"""Every Scalar operation's value and gradient, against finite differences and PyTorch.

Inputs are asymmetric (x != y, neither 0 nor 1) so that a swapped rule (d/dx for d/dy, a
sign, a reciprocal) cannot pass by accident.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import Scalar
from tests.conftest import central_differences, needs_torch, scalar_grads, torch_grads


@dataclass
class Op:
    name: str
    fn: Callable
    points: list[tuple[float, ...]]  # where to check it, inside its smooth domain


ANYWHERE = [(0.7,), (-1.3,), (2.9,)]
POSITIVE = [(0.7,), (1.9,), (3.4,)]
PAIRS = [(0.7, -1.3), (-2.1, 0.4), (1.6, 2.3)]
POSITIVE_BASE = [(0.7, -1.3), (1.9, 0.4), (2.6, 2.3)]

UNARY = [
    Op("neg", lambda x: -x, ANYWHERE),
    Op("abs", lambda x: abs(x), ANYWHERE),
    Op("exp", lambda x: x.exp(), ANYWHERE),
    Op("log", lambda x: x.log(), POSITIVE),
    Op("sqrt", lambda x: x.sqrt(), POSITIVE),
    Op("sin", lambda x: x.sin(), ANYWHERE),
    Op("cos", lambda x: x.cos(), ANYWHERE),
    Op("tan", lambda x: x.tan(), ANYWHERE),
    Op("tanh", lambda x: x.tanh(), ANYWHERE),
    Op("sigmoid", lambda x: x.sigmoid(), ANYWHERE),
    Op("relu", lambda x: x.relu(), ANYWHERE),
    Op("x + c", lambda x: x + 2.5, ANYWHERE),
    Op("c + x", lambda x: 2.5 + x, ANYWHERE),
    Op("x - c", lambda x: x - 2.5, ANYWHERE),
    Op("c - x", lambda x: 2.5 - x, ANYWHERE),
    Op("x * c", lambda x: x * -1.5, ANYWHERE),
    Op("c * x", lambda x: -1.5 * x, ANYWHERE),
    Op("x / c", lambda x: x / -1.5, ANYWHERE),
    Op("c / x", lambda x: -1.5 / x, ANYWHERE),
    Op("x ** 2", lambda x: x**2, ANYWHERE),
    Op("x ** 3", lambda x: x**3, ANYWHERE),
    Op("x ** -2", lambda x: x**-2, ANYWHERE),
    Op("x ** 2.5", lambda x: x**2.5, POSITIVE),
    Op("c ** x", lambda x: 2.5**x, ANYWHERE),
]

BINARY = [
    Op("x + y", lambda x, y: x + y, PAIRS),
    Op("x - y", lambda x, y: x - y, PAIRS),
    Op("x * y", lambda x, y: x * y, PAIRS),
    Op("x / y", lambda x, y: x / y, PAIRS),
    Op("x ** y", lambda x, y: x**y, POSITIVE_BASE),
    Op("x * x * y", lambda x, y: x * x * y, PAIRS),  # a node used twice
    Op("(x - y) / (x * y)", lambda x, y: (x - y) / (x * y), PAIRS),
]

ALL = UNARY + BINARY
CASES = [(op, point) for op in ALL for point in op.points]


def ids(case):
    op, point = case
    return f"{op.name} at {point}"


@pytest.mark.parametrize("case", CASES, ids=map(ids, CASES))
def test_gradient_matches_finite_differences(case):
    op, point = case
    _, grads = scalar_grads(op.fn, *point)
    assert grads == pytest.approx(central_differences(op.fn, *point), rel=1e-6, abs=1e-8)


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=map(ids, CASES))
def test_value_and_gradient_match_pytorch(case):
    op, point = case
    value, grads = scalar_grads(op.fn, *point)
    torch_value, torch_gradients = torch_grads(op.fn, *point)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=1e-15)
    assert grads == pytest.approx(torch_gradients, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "name, fn, expected",
    [
        ("exp", lambda x: x.exp(), math.exp(0.7)),
        ("log", lambda x: x.log(), math.log(0.7)),
        ("sqrt", lambda x: x.sqrt(), math.sqrt(0.7)),
        ("sin", lambda x: x.sin(), math.sin(0.7)),
        ("cos", lambda x: x.cos(), math.cos(0.7)),
        ("tan", lambda x: x.tan(), math.tan(0.7)),
        ("tanh", lambda x: x.tanh(), math.tanh(0.7)),
        ("sigmoid", lambda x: x.sigmoid(), 1 / (1 + math.exp(-0.7))),
        ("c ** x", lambda x: 2.5**x, 2.5**0.7),
        ("c / x", lambda x: -1.5 / x, -1.5 / 0.7),
    ],
)
def test_values_match_the_math_module(name, fn, expected):
    assert fn(Scalar(0.7)).data == pytest.approx(expected, rel=1e-15)


def composite(x, y):
    """A function mixing every op, with shared sub-expressions."""
    u = (x * y).tanh() + x.sigmoid() * y
    v = (u * u + 1.0).sqrt().log() - (x - y).relu() + abs(y) / (1.0 + x * x)
    return v * u.exp() + (0.5 * y).sin() * (x / 3.0).cos()


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
)
def test_composite_gradient_matches_finite_differences(x, y):
    # relu and abs have kinks at 0 where finite differences straddle two slopes
    if min(abs(x - y), abs(y)) < 1e-3:
        return
    _, grads = scalar_grads(composite, x, y)
    assert grads == pytest.approx(central_differences(composite, x, y), rel=1e-5, abs=1e-6)


@needs_torch
@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
)
def test_composite_matches_pytorch(x, y):
    value, grads = scalar_grads(composite, x, y)
    torch_value, torch_gradients = torch_grads(composite, x, y)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=1e-14)
    assert grads == pytest.approx(torch_gradients, rel=1e-10, abs=1e-12)


def test_plain_numbers_of_every_kind_mix_with_scalars():
    np = pytest.importorskip("numpy")
    x = Scalar(2.0)
    for number in (3, 3.0, True, np.float64(3.0), np.float32(3.0), np.int64(3)):
        product = number * x
        assert isinstance(product, Scalar)
        assert product.data == 2.0 * float(number)
        assert type(product.data) is float


def test_unsupported_operands_raise_type_errors_naming_the_types():
    with pytest.raises(TypeError, match="Scalar.*str|str.*Scalar"):
        Scalar(1.0) + "2"
    with pytest.raises(TypeError, match="takes a real number, got str"):
        Scalar("2.0")
    with pytest.raises(TypeError, match="takes a real number, got list"):
        Scalar([1.0])
