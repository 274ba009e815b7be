"""Every elementwise Tensor op: gradients against finite differences (float64), second
derivatives, and values and gradients against PyTorch where it is installed.

Binary ops run over shape pairs that broadcast, both ways round, with random asymmetric
inputs (see tests/tensor_cases.py): a swapped rule or a missed unbroadcast cannot pass.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch
from tests.tensor_cases import (
    Case,
    assert_float32_throughout,
    assert_matches_torch,
    assert_same,
    case_ids,
    draw,
    grads_of,
)

try:
    import torch
    import torch.nn.functional as F  # noqa: N812  (PyTorch's own spelling)
except ImportError:  # the torch variants below are only called by tests marked needs_torch
    torch = F = None

# -- unary functions -------------------------------------------------------------------------

UNARY = [
    Case("exp", lambda x: x.exp()),
    Case("expm1", lambda x: x.expm1()),
    Case("log", lambda x: x.log(), domain="positive"),
    Case("log1p", lambda x: x.log1p(), domain="positive"),
    Case("sqrt", lambda x: x.sqrt(), domain="positive"),
    Case("sin", lambda x: x.sin()),
    Case("cos", lambda x: x.cos()),
    Case("tan", lambda x: x.tan(), domain="small"),
    Case("tanh", lambda x: x.tanh()),
    Case("sigmoid", lambda x: x.sigmoid()),
    Case("erf", lambda x: x.erf()),
    Case("abs", lambda x: x.abs()),
    Case("abs()", lambda x: abs(x)),
    Case("relu", lambda x: x.relu()),
    Case("-x", lambda x: -x),
    Case("+x", lambda x: +x),
    Case("x * (x + x)", lambda x: x * (x + x)),  # one input reached three ways
    Case(
        "leaky_relu",
        lambda x: cr.leaky_relu(x, 0.2),
        torch_fn=lambda x: F.leaky_relu(x, 0.2),
    ),
    Case("elu", lambda x: cr.elu(x, alpha=0.7), torch_fn=lambda x: F.elu(x, alpha=0.7)),
    Case("softplus", lambda x: cr.softplus(x), torch_fn=lambda x: F.softplus(x)),
    # beta and a threshold low enough that some inputs take the linear branch
    Case(
        "softplus beta threshold",
        lambda x: cr.softplus(x, beta=2.0, threshold=1.5),
        torch_fn=lambda x: F.softplus(x, beta=2.0, threshold=1.5),
    ),
    Case("gelu", lambda x: cr.gelu(x), torch_fn=lambda x: F.gelu(x)),
    Case(
        "gelu tanh",
        lambda x: cr.gelu(x, approximate="tanh"),
        torch_fn=lambda x: F.gelu(x, approximate="tanh"),
    ),
    # clip/clamp with number bounds; no input sits on a bound (there the derivative jumps)
    Case("clip", lambda x: x.clip(-0.5, 0.7)),
    Case("clamp min", lambda x: x.clamp(min=-0.3)),
    Case("clamp max", lambda x: x.clamp(max=0.4)),
    Case(
        "cr.clip ndarray bounds",
        lambda x: cr.clip(x, np.full(4, -0.6), np.linspace(0.1, 1.0, 4)),
        torch_fn=lambda x: torch.clip(
            x,
            torch.full((4,), -0.6, dtype=torch.float64),
            torch.linspace(0.1, 1.0, 4, dtype=torch.float64),
        ),
        keeps_float32=False,
    ),
    # numbers and ndarrays on the left of a Tensor (reversed operators)
    Case("number + x", lambda x: 2.5 + x),
    Case("number - x", lambda x: 2.5 - x),
    Case("number * x", lambda x: -1.5 * x),
    Case("number / x", lambda x: -1.5 / x),
    Case("number ** x", lambda x: 2.5**x),
    Case("x ** 3", lambda x: x**3),
    Case("x ** -2", lambda x: x**-2),
    Case("x ** 0.5", lambda x: x**0.5, domain="positive"),
    Case("x ** -1.5", lambda x: x**-1.5, domain="positive"),
    Case("x / number", lambda x: x / 0.3),
    Case(
        "ndarray - x",
        lambda x: np.linspace(-1.0, 2.0, 4) - x,
        torch_fn=lambda x: torch.linspace(-1.0, 2.0, 4, dtype=torch.float64) - x,
        keeps_float32=False,
    ),
    Case(
        "ndarray / x",
        lambda x: np.linspace(-1.0, 2.0, 4) / x,
        torch_fn=lambda x: torch.linspace(-1.0, 2.0, 4, dtype=torch.float64) / x,
        keeps_float32=False,
    ),
    Case(
        "ndarray ** x",
        lambda x: np.linspace(0.5, 3.0, 4) ** x,
        torch_fn=lambda x: torch.linspace(0.5, 3.0, 4, dtype=torch.float64) ** x,
        keeps_float32=False,
    ),
    Case(
        "float64 scalar * x",
        lambda x: np.float64(1.7) * x,
        torch_fn=lambda x: 1.7 * x,
        keeps_float32=False,
    ),
]

# the functions of the namespace that are also Tensor methods, one spelling against the other
METHOD_NAMES = [
    ("exp", "real"),
    ("expm1", "real"),
    ("log", "positive"),
    ("log1p", "positive"),
    ("sqrt", "positive"),
    ("sin", "real"),
    ("cos", "real"),
    ("tan", "small"),
    ("tanh", "real"),
    ("sigmoid", "real"),
    ("relu", "real"),
    ("leaky_relu", "real"),
    ("elu", "real"),
    ("gelu", "real"),
    ("softplus", "real"),
    ("erf", "real"),
    ("abs", "real"),
]


@pytest.mark.parametrize("case", UNARY, ids=case_ids(UNARY))
def test_unary_gradcheck(case):
    assert cr.gradcheck(case.fn, *case.inputs())


@pytest.mark.parametrize("case", UNARY, ids=case_ids(UNARY))
def test_unary_gradcheck_zero_dim(case):
    assert cr.gradcheck(case.fn, draw((), case.domain))


@pytest.mark.parametrize("case", UNARY, ids=case_ids(UNARY))
def test_unary_gradgradcheck(case):
    assert cr.gradgradcheck(case.fn, *case.inputs())


@needs_torch
@pytest.mark.parametrize("case", UNARY, ids=case_ids(UNARY))
def test_unary_matches_torch(case):
    assert_matches_torch(case.fn, case.inputs(), case.torch_fn)


@pytest.mark.parametrize(("name", "domain"), METHOD_NAMES, ids=[n for n, _ in METHOD_NAMES])
def test_function_and_method_agree(name, domain):
    def as_function(x):
        return getattr(cr, name)(x)

    def as_method(x):
        return getattr(x, name)()

    assert_same(as_function, as_method, [draw((3, 4), domain)])


# -- binary operators over broadcasting shapes -----------------------------------------------

SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((3, 1), (2, 3, 4)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((2, 1, 4), (3, 1)),
]

# (name, function on both libraries, domain of each input)
BINARY_OPS = [
    ("add", lambda x, y: x + y, "real"),
    ("subtract", lambda x, y: x - y, "real"),
    ("multiply", lambda x, y: x * y, "real"),
    ("divide", lambda x, y: x / y, "real"),
    ("power", lambda x, y: x**y, ("positive", "real")),
    ("maximum", lambda x, y: x.maximum(y), "real"),
    ("minimum", lambda x, y: x.minimum(y), "real"),
    ("cr.add", lambda x, y: cr.add(x, y), "real"),
    ("cr.subtract", lambda x, y: cr.subtract(x, y), "real"),
    ("cr.multiply", lambda x, y: cr.multiply(x, y), "real"),
    ("cr.divide", lambda x, y: cr.divide(x, y), "real"),
    ("cr.power", lambda x, y: cr.power(x, y), ("positive", "real")),
    ("cr.maximum", lambda x, y: cr.maximum(x, y), "real"),
    ("cr.minimum", lambda x, y: cr.minimum(x, y), "real"),
]
TORCH_SPELLING = {
    "cr.add": torch.add if torch else None,
    "cr.subtract": torch.subtract if torch else None,
    "cr.multiply": torch.multiply if torch else None,
    "cr.divide": torch.divide if torch else None,
    "cr.power": torch.pow if torch else None,
    "cr.maximum": torch.maximum if torch else None,
    "cr.minimum": torch.minimum if torch else None,
}

BINARY = [
    Case(
        f"{name} {a}&{b}",
        fn,
        (a, b),
        domain,
        torch_fn=TORCH_SPELLING.get(name),
    )
    for name, fn, domain in BINARY_OPS
    for a, b in SHAPE_PAIRS
]


def _where_case(x_shape, y_shape, condition_shape) -> Case:
    condition = draw(condition_shape, salt=7) > 0
    return Case(
        f"where {condition_shape}?{x_shape}:{y_shape}",
        lambda x, y: cr.where(condition, x, y),
        (x_shape, y_shape),
        torch_fn=lambda x, y: torch.where(torch.tensor(condition), x, y),
    )


BINARY += [
    _where_case((3, 4), (3, 4), (3, 4)),
    _where_case((3, 4), (4,), (3, 1)),
    _where_case((), (3, 1), (4,)),
    _where_case((2, 1, 4), (3, 1), (3, 4)),
]


@pytest.mark.parametrize("case", BINARY, ids=case_ids(BINARY))
def test_binary_gradcheck(case):
    assert cr.gradcheck(case.fn, *case.inputs())


@pytest.mark.parametrize("case", BINARY, ids=case_ids(BINARY))
def test_binary_gradgradcheck(case):
    assert cr.gradgradcheck(case.fn, *case.inputs())


@needs_torch
@pytest.mark.parametrize("case", BINARY, ids=case_ids(BINARY))
def test_binary_matches_torch(case):
    assert_matches_torch(case.fn, case.inputs(), case.torch_fn)


# rows whose own float64 constants promote the result (NumPy's rule) are left out
FLOAT32_ROWS = [case for case in UNARY + BINARY if case.keeps_float32]


@pytest.mark.parametrize("case", FLOAT32_ROWS, ids=case_ids(FLOAT32_ROWS))
def test_float32_stays_float32(case):
    assert_float32_throughout(case.fn, case.inputs())


OPERATORS = [
    ("add", operator.add),
    ("subtract", operator.sub),
    ("multiply", operator.mul),
    ("divide", operator.truediv),
    ("power", operator.pow),
]


@pytest.mark.parametrize(("name", "op"), OPERATORS, ids=[n for n, _ in OPERATORS])
def test_ndarray_on_the_left_gives_a_tensor(name, op):
    left = np.linspace(0.5, 2.0, 4)
    x = cr.tensor(draw((3, 4), "positive"), requires_grad=True)
    out = op(left, x)
    assert isinstance(out, cr.Tensor)
    assert out.requires_grad
    assert out.op == name
    np.testing.assert_allclose(out.numpy(), op(left, x.numpy()))


def test_ndarray_compared_with_a_tensor_gives_a_tensor():
    x = cr.tensor(draw((3, 4)), requires_grad=True)
    left = np.zeros(4)
    for out in (left < x, left <= x, left > x, left >= x, left == x, left != x):
        assert isinstance(out, cr.Tensor)
        assert out.dtype == np.bool_
        assert not out.requires_grad


def test_hypothesis_broadcasting_binary_ops():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import mutually_broadcastable_shapes

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
    @hypothesis.given(
        shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
        op=st.sampled_from(BINARY_OPS),
        salt=st.integers(0, 1000),
    )
    def check(shapes, op, salt):
        _, fn, domain = op
        domains = domain if isinstance(domain, tuple) else (domain, domain)
        x = draw(shapes.input_shapes[0], domains[0], salt=salt)
        y = draw(shapes.input_shapes[1], domains[1], salt=salt + 1)
        assert cr.gradcheck(fn, x, y)

    check()


# -- ties, bounds and special points -----------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_the_gradient_like_torch(name):
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]])
    y = np.array([[1.0, 2.0, -3.0], [0.5, 0.7, -1.0]])  # three ties

    def fn(a, b):
        return getattr(a, name)(b)

    assert_matches_torch(fn, [x, y])


CLIP_AT_BOUNDS = [
    ("clip", -0.5, 0.5, lambda x: x.clip(-0.5, 0.5), None),
    ("clamp min", -0.5, None, lambda x: x.clamp(min=-0.5), None),
    ("clamp max", None, 0.5, lambda x: x.clamp(max=0.5), None),
    ("cr.clip", -0.5, 0.5, lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clip(x, -0.5, 0.5)),
    ("cr.clamp", -0.5, 0.5, lambda x: cr.clamp(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5)),
]


@needs_torch
@pytest.mark.parametrize(
    ("name", "low", "high", "fn", "torch_fn"), CLIP_AT_BOUNDS, ids=[c[0] for c in CLIP_AT_BOUNDS]
)
def test_clip_passes_gradient_one_at_the_bounds(name, low, high, fn, torch_fn):
    x = np.array([-0.5, 0.5, -0.7, 0.2, 0.9, 0.5])  # on, inside and outside the bounds
    assert_matches_torch(fn, [x], torch_fn)
    _, (grad,) = grads_of(fn, [x], upstream=np.ones(6))
    inside = (x >= (-np.inf if low is None else low)) & (x <= (np.inf if high is None else high))
    np.testing.assert_array_equal(grad, inside.astype(float))


TENSOR_BOUNDS = [
    Case("clip tensor bounds", lambda x, lo, hi: cr.clip(x, lo, hi), ((3, 4), (4,), (3, 1))),
    Case("clamp tensor min", lambda x, lo: x.clamp(min=lo), ((3, 4), (3, 1))),
    Case("clamp tensor max", lambda x, hi: x.clamp(max=hi), ((3, 4), (4,))),
]


@pytest.mark.parametrize("case", TENSOR_BOUNDS, ids=case_ids(TENSOR_BOUNDS))
def test_clip_tensor_bounds_gradcheck(case):
    assert cr.gradcheck(case.fn, *case.inputs())
    assert cr.gradgradcheck(lambda *xs: case.fn(*xs) ** 2, *case.inputs())


@needs_torch
@pytest.mark.parametrize("case", TENSOR_BOUNDS[1:], ids=case_ids(TENSOR_BOUNDS[1:]))
def test_clamp_tensor_bounds_match_torch(case):
    assert_matches_torch(case.fn, case.inputs())


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min or max"):
        cr.clip(cr.tensor(np.ones(3)))


@needs_torch
@pytest.mark.parametrize(
    ("name", "fn", "inputs"),
    [
        ("x ** 0 at 0", lambda x, y: x**y, [np.array([0.0, 2.0]), np.array([0.0, 0.0])]),
        ("0 ** y, y > 0", lambda x, y: x**y, [np.array([0.0, 0.0]), np.array([2.0, 0.5])]),
        ("x ** 2 at 0", lambda x: x**2, [np.array([0.0, -1.5])]),
        ("abs at 0", lambda x: x.abs(), [np.array([0.0, -1.5, 2.0])]),
        ("relu at 0", lambda x: x.relu(), [np.array([0.0, -1.5, 2.0])]),
        ("sqrt at 0", lambda x: x.sqrt(), [np.array([0.0, 4.0])]),
        ("log at 0", lambda x: x.log(), [np.array([0.0, 4.0])]),
        ("sigmoid far out", lambda x: x.sigmoid(), [np.array([-800.0, 800.0, 0.0])]),
        (
            "softplus far out",
            lambda x: F.softplus(x) if torch.is_tensor(x) else cr.softplus(x),
            [np.array([-800.0, 800.0, 0.0])],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_special_points_match_torch(name, fn, inputs):
    with np.errstate(all="ignore"):
        assert_matches_torch(fn, inputs)


# -- not differentiable: results never require grad ------------------------------------------

NONDIFFERENTIABLE = [
    ("sign", lambda x, y: x.sign(), np.sign),
    ("cr.sign", lambda x, y: cr.sign(x), np.sign),
    ("floor", lambda x, y: x.floor(), np.floor),
    ("ceil", lambda x, y: x.ceil(), np.ceil),
    ("round", lambda x, y: x.round(), np.round),
    ("cr.round decimals", lambda x, y: cr.round(x, 1), lambda x: np.round(x, 1)),
    ("isnan", lambda x, y: x.isnan(), np.isnan),
    ("isfinite", lambda x, y: x.isfinite(), np.isfinite),
    ("<", lambda x, y: x < y, None),
    ("<=", lambda x, y: x <= y, None),
    (">", lambda x, y: x > y, None),
    (">=", lambda x, y: x >= y, None),
    ("==", lambda x, y: x == y, None),
    ("!=", lambda x, y: x != y, None),
    ("cr.less", lambda x, y: cr.less(x, y), None),
    ("cr.greater_equal", lambda x, y: cr.greater_equal(x, y), None),
    ("logical_and", lambda x, y: cr.logical_and(x > 0, y > 0), None),
    ("logical_or", lambda x, y: cr.logical_or(x > 0, y > 0), None),
    ("logical_not", lambda x, y: cr.logical_not(x > 0), None),
]


@pytest.mark.parametrize(
    ("name", "fn", "reference"), NONDIFFERENTIABLE, ids=[n for n, *_ in NONDIFFERENTIABLE]
)
def test_nondifferentiable_results_do_not_require_grad(name, fn, reference):
    x = cr.tensor(draw((3, 4)) * 3, requires_grad=True)
    y = cr.tensor(draw((4,), salt=1), requires_grad=True)
    out = fn(x, y)
    assert isinstance(out, cr.Tensor)
    assert not out.requires_grad
    assert out.is_leaf
    if reference is not None:
        np.testing.assert_array_equal(out.numpy(), reference(x.numpy()))


def test_nondifferentiable_op_inside_a_graph_contributes_no_gradient():
    # d/dx (sign(x) * x) = sign(x) away from 0: sign itself sends nothing back
    assert cr.gradcheck(lambda x: x.sign() * x + x.floor() * 2, draw((3, 4)) + 0.05)


def test_node_vjp_runs_rules_that_take_needs():
    # Tensor.vjp (the graph protocol the explainer reads) calls the rule as backward does
    x = cr.tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = cr.tensor(np.array([0.5, 3.0]))
    x_bar, y_bar = (x * y).vjp(np.array([2.0, -1.0]))
    np.testing.assert_array_equal(x_bar, [1.0, -3.0])
    assert y_bar is None


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "op"), OPERATORS, ids=[n for n, _ in OPERATORS])
def test_shape_mismatch_names_the_op_and_both_shapes(name, op):
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    y = cr.tensor(np.ones(4))
    with pytest.raises(ValueError) as error:
        op(x, y)
    message = str(error.value)
    assert name in message
    assert "(2, 3)" in message
    assert "(4,)" in message


def test_shape_mismatch_in_a_function_names_it():
    with pytest.raises(ValueError, match=r"maximum.*\(2, 3\).*\(4,\)"):
        cr.maximum(cr.tensor(np.ones((2, 3))), cr.tensor(np.ones(4)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.tensor([1, 2, 3], requires_grad=True),
        lambda: cr.tensor(np.arange(3)).requires_grad_(),
        lambda: cr.tensor(np.array([True, False]), requires_grad=True),
        lambda: cr.tensor(np.arange(3, dtype=np.int32), requires_grad=True),
    ],
    ids=["int list", "int64 requires_grad_", "bool", "int32"],
)
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match="floating-point"):
        make()
