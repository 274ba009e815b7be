"""Finite differences: their error orders, their default steps, and gradcheck's report."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.numeric import default_step
from tests.tensor_cases import draw


def _error(method: str, h: float, x: float = 0.7) -> float:
    """|numerical - exact| for the derivative of exp(sin(x)), a function with no symmetry
    that would cancel an error term by accident."""
    estimate = cr.numerical_grad(lambda v: np.exp(np.sin(v)), np.array(x), eps=h, method=method)
    exact = np.cos(x) * np.exp(np.sin(x))
    return abs(float(estimate) - exact)


@pytest.mark.parametrize(
    ("method", "order"), [("central", 2), ("forward", 1), ("backward", 1), ("complex", 2)]
)
def test_error_order(method, order):
    # halving h divides the truncation error by 2**order (steps large enough that rounding,
    # ~1e-16 / h, stays far below it)
    steps = [1e-2, 5e-3, 2.5e-3]
    errors = [_error(method, h) for h in steps]
    ratios = [errors[i] / errors[i + 1] for i in range(2)]
    assert all(abs(math.log2(r) - order) < 0.15 for r in ratios), (method, ratios)


def test_complex_step_has_no_rounding_error():
    # a tiny step ruins central differences (cancellation) but not the complex step
    assert _error("complex", 1e-20) < 1e-15
    assert _error("central", 1e-13) > 1e-5


@pytest.mark.parametrize("method", ["central", "forward", "backward"])
def test_default_step_is_near_the_best_step(method):
    # the default balances truncation and rounding: it beats steps 100x larger and smaller
    best = default_step(method)
    at_default = _error(method, best)
    assert at_default < _error(method, best * 100)
    assert at_default < _error(method, best / 100)


def test_default_step_grows_for_lower_precision():
    for method in ("central", "forward"):
        assert default_step(method, np.float32) > 100 * default_step(method, np.float64)
    with pytest.raises(ValueError, match="method must be one of"):
        default_step("sideways")


def test_result_comes_back_in_the_kind_it_went_in():
    as_float = cr.numerical_grad(lambda x: x * x, 3.0)
    assert isinstance(as_float, float) and abs(as_float - 6.0) < 1e-8
    as_array = cr.numerical_grad(lambda x: (x * x).sum(), np.array([1.0, -2.0]))
    assert isinstance(as_array, np.ndarray) and np.allclose(as_array, [2.0, -4.0])
    as_tensor = cr.numerical_grad(lambda t: (t * t).sum(), cr.tensor([1.0, -2.0]))
    assert isinstance(as_tensor, cr.Tensor) and as_tensor.dtype == np.float32
    assert np.allclose(as_tensor.data, [2.0, -4.0], atol=1e-2)


def test_float_inputs_run_scalar_code():
    # floats are handed to f as Scalars, so Scalar methods work in f
    slope = cr.numerical_grad(lambda x: x.tanh() * 2, 0.3)
    assert abs(slope - 2 * (1 - math.tanh(0.3) ** 2)) < 1e-8


def test_jacobian_shape_and_entries():
    x = draw((2, 3), salt=1)
    weights = draw((4, 3), salt=2)
    jacobian = cr.numerical_jacobian(lambda v: (v @ weights.T) ** 2, x)
    assert jacobian.shape == (2, 4, 2, 3)
    exact = np.zeros((2, 4, 2, 3))
    for i in range(2):
        for j in range(4):
            exact[i, j, i, :] = 2 * (x[i] @ weights[j]) * weights[j]
    assert np.allclose(jacobian, exact, atol=1e-7)


def test_numerical_grad_needs_one_output_value():
    with pytest.raises(ValueError, match=r"one output value.*shape \(2,\)"):
        cr.numerical_grad(lambda v: v * 2, np.array([1.0, 2.0]))


def test_gradcheck_on_scalar_code():
    assert cr.gradcheck(lambda a, b: (a * b + a.exp()).tanh(), 0.4, -1.3)


def test_gradcheck_report_names_input_and_entry():
    class HalfWrong(cr.Function):
        """x * y whose backward for y forgets to multiply by x."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g

    x, y = np.array([2.0, -3.0]), np.array([0.5, 4.0])
    with pytest.raises(cr.GradcheckError) as caught:
        cr.gradcheck(lambda a, b: HalfWrong.apply(a, b), x, y)
    lines = str(caught.value).splitlines()
    assert "2 Jacobian entries differ" in lines[0]
    assert lines[1].split() == ["input", "entry", "analytic", "numerical", "difference"]
    # input 1 (y), diagonal entries: analytic 1, numerical x
    rows = [line.split() for line in lines[3:]]
    assert [row[0] for row in rows] == ["1", "1"]
    assert [float(row[-2]) for row in rows] == pytest.approx(list(x), rel=1e-6)
