"""Forward mode on every row of the op tables (float64, random asymmetric tangents).

For each row: J·v against finite differences (cr.numerical_jacobian) and against
torch.func.jvp where torch is installed; second derivatives forward-over-forward (the JVP
rules run on Tensors that carry tangents of an outer level); reverse-over-forward (backward
through a JVP, checked by gradcheck); forward-over-reverse (the JVP of a gradient, a
Hessian-vector product, against finite differences of the gradient). Plus: every
differentiable primitive has a JVP rule, and the rows reach every one of them.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.forward import jvp
from chainrule.ops import core
from tests.conftest import needs_torch
from tests.forward_cases import (
    NONDIFFERENTIABLE,
    ROWS,
    Row,
    as_list,
    directional_difference,
    directions,
    finite_difference_jvp,
    jvp_values,
    row_ids,
)
from tests.tensor_cases import draw, rng

try:
    import torch
except ImportError:  # the torch spellings below are only called by tests marked needs_torch
    torch = None

TORCH_ROWS = [row for row in ROWS if row.torch_fn is not None]

# torch.func's first use scripts a helper with torch.jit, which torch itself now deprecates
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


def _upstream(row, arrays) -> np.ndarray:
    """A random weight of the output's shape (to make a scalar of a row's output)."""
    out = row.fn(*[cr.tensor(a) for a in arrays])
    return rng(3).uniform(-2.0, 2.0, out.shape)


@pytest.mark.parametrize("row", ROWS, ids=row_ids(ROWS))
def test_jvp_matches_finite_differences(row):
    arrays = row.inputs()
    tangents = directions(arrays, salt=1)
    value, out_dot = jvp_values(row.fn, arrays, tangents)
    np.testing.assert_array_equal(value, row.fn(*[cr.tensor(a) for a in arrays]).numpy())
    assert out_dot.shape == value.shape
    expected = finite_difference_jvp(row.fn, arrays, tangents)
    np.testing.assert_allclose(out_dot, expected, rtol=1e-5, atol=row.atol)


@needs_torch
@pytest.mark.parametrize("row", TORCH_ROWS, ids=row_ids(TORCH_ROWS))
def test_jvp_matches_torch(row):
    arrays = row.inputs()
    tangents = directions(arrays, salt=1)
    value, out_dot = jvp_values(row.fn, arrays, tangents)
    expected_value, expected_dot = torch.func.jvp(
        row.torch_fn,
        tuple(torch.tensor(a) for a in arrays),
        tuple(torch.tensor(v) for v in tangents),
    )
    np.testing.assert_allclose(value, expected_value.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out_dot, expected_dot.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=row_ids(ROWS))
def test_forward_over_forward(row):
    # d^2 f[u, v]: the JVP along u of x -> J(x)·v, itself computed by forward mode (the same
    # primal Tensors at two levels), against a central difference of J(x)·v along u
    arrays = row.inputs()
    v = directions(arrays, salt=1)
    u = directions(arrays, salt=2)

    def first(*xs):
        _, (out_dot,) = jvp(as_list(row.fn), xs, v)
        return out_dot

    _, second = jvp_values(first, arrays, u)
    expected = directional_difference(first, arrays, u)
    np.testing.assert_allclose(second, expected, rtol=1e-4, atol=10 * row.atol)


@pytest.mark.parametrize("row", ROWS, ids=row_ids(ROWS))
def test_reverse_over_forward(row):
    # backward through a jvp: the gradient of s(x) = <J(x)·v, w>, checked along a random
    # direction u against a central difference of s
    arrays = row.inputs()
    v = directions(arrays, salt=1)
    u = directions(arrays, salt=2)
    w = _upstream(row, arrays)

    def weighted_jvp(*xs):
        _, (out_dot,) = jvp(as_list(row.fn), xs, v)
        return (out_dot * w).sum()

    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    s = weighted_jvp(*xs)
    # (for a linear op J·v does not depend on x: then s is off the graph and its gradient 0)
    grads = cr.autograd.grad(s, xs) if s.requires_grad else []
    along_u = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, u) if g is not None)
    expected = float(directional_difference(weighted_jvp, arrays, u))
    np.testing.assert_allclose(along_u, expected, rtol=1e-4, atol=10 * row.atol)


@pytest.mark.parametrize("create_graph", [True, False], ids=["create_graph", "plain"])
@pytest.mark.parametrize("row", ROWS, ids=row_ids(ROWS))
def test_forward_over_reverse(row, create_graph):
    # a jvp through backward: the JVP of the gradient of <f(x), w> is the Hessian-vector
    # product H·v; against H·v by reverse over reverse (the gradient of <gradient, v>, whose
    # rules gradgradcheck verifies against finite differences in the op tests)
    arrays = row.inputs()
    v = directions(arrays, salt=1)
    w = _upstream(row, arrays)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]

    def gradients(*xs):
        grads = cr.autograd.grad(row.fn(*xs), xs, grad_outputs=[w], create_graph=create_graph)
        return [cr.tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, xs)]

    _, hvp = jvp(gradients, xs, v)
    grads = cr.autograd.grad(row.fn(*xs), xs, grad_outputs=[w], create_graph=True)
    inner = sum((g * d).sum() for g, d in zip(grads, v) if g is not None and g.requires_grad)
    expected = [np.zeros(a.shape) for a in arrays]
    if isinstance(inner, cr.Tensor):  # else the gradient is constant: H = 0
        found = cr.autograd.grad(inner, xs)
        expected = [e if g is None else g.numpy() for e, g in zip(expected, found)]
    for k in range(len(arrays)):
        np.testing.assert_allclose(hvp[k].numpy(), expected[k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=row_ids(ROWS))
def test_forward_and_reverse_agree(row):
    # one Jacobian seen both ways: <J·v, w> by forward mode equals <v, J^T·w> by reverse mode
    arrays = row.inputs()
    v = directions(arrays, salt=1)
    w = _upstream(row, arrays)
    _, out_dot = jvp_values(row.fn, arrays, v)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    x_bars = cr.autograd.grad(row.fn(*xs), xs, grad_outputs=[w])
    reverse = sum(float(np.sum(g.numpy() * d)) for g, d in zip(x_bars, v) if g is not None)
    np.testing.assert_allclose(float(np.sum(out_dot * w)), reverse, rtol=1e-10, atol=1e-10)


# -- ties, kinks and zeros: no finite differences there, but the conventions of the reverse
# rules (ties share evenly; 0 at kinks; 1 at clip bounds; 0 for norms and std at 0), which
# PyTorch's forward mode shares

TIES = np.array([[1.0, 5.0, 5.0, -2.0], [2.0, 2.0, 0.0, 2.0], [0.5, -1.0, 0.25, -1.0]])
ZERO_AND_BOUNDS = np.array([0.0, -1.0, 2.0, 0.5, -0.3])

SPECIAL_POINTS = [
    ("amax ties dim=1", lambda x: x.amax(dim=1), [TIES], None),
    ("max ties over all", lambda x: cr.max(x), [TIES], lambda t: t.amax()),
    ("min ties dim=0 keepdim", lambda x: x.amin(dim=0, keepdim=True), [TIES], None),
    (
        "norm ord=inf ties",
        lambda x: cr.norm(x, np.inf, 1),
        [TIES],
        lambda t: torch.linalg.vector_norm(t, float("inf"), dim=1),
    ),
    ("maximum ties", lambda a, b: a.maximum(b), [TIES, np.where(TIES > 1, TIES, -TIES)], None),
    ("minimum ties", lambda a, b: a.minimum(b), [TIES, np.abs(TIES)], None),
    ("abs at 0", lambda x: x.abs(), [ZERO_AND_BOUNDS], None),
    ("relu at 0", lambda x: x.relu(), [ZERO_AND_BOUNDS], None),
    ("clamp at its bounds", lambda x: x.clamp(-1.0, 0.5), [ZERO_AND_BOUNDS], None),
    ("norm at 0", lambda x: x.norm(), [np.zeros(3)], lambda t: t.norm()),
    ("std of constants", lambda x: x.std(), [np.full(4, 1.5)], lambda t: t.std(correction=0)),
    ("x ** 0 at 0", lambda x, y: x**y, [np.array([0.0, 2.0]), np.array([0.0, 0.0])], None),
    ("0 ** y, y > 0", lambda x, y: x**y, [np.array([0.0, 0.0]), np.array([2.0, 0.5])], None),
]


@pytest.mark.parametrize(
    ("name", "fn", "arrays", "torch_fn"), SPECIAL_POINTS, ids=[c[0] for c in SPECIAL_POINTS]
)
def test_special_points_forward_and_reverse_agree(name, fn, arrays, torch_fn):
    row = Row(name, fn, lambda: arrays)
    test_forward_and_reverse_agree(row)


@needs_torch
@pytest.mark.parametrize(
    ("name", "fn", "arrays", "torch_fn"), SPECIAL_POINTS, ids=[c[0] for c in SPECIAL_POINTS]
)
def test_special_points_match_torch(name, fn, arrays, torch_fn):
    v = directions(arrays, salt=1)
    _, out_dot = jvp_values(fn, arrays, v)
    _, expected = torch.func.jvp(
        torch_fn or fn, tuple(map(torch.tensor, arrays)), tuple(map(torch.tensor, v))
    )
    np.testing.assert_allclose(out_dot, expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "fn"), NONDIFFERENTIABLE, ids=[n for n, _ in NONDIFFERENTIABLE])
def test_results_without_derivative_have_zero_tangents(name, fn):
    arrays = [draw((3, 4)) * 3, draw((4,), salt=1)]
    (out,), (out_dot,) = jvp(as_list(fn), [cr.tensor(a) for a in arrays], directions(arrays, 1))
    assert out_dot.shape == out.shape
    assert out_dot.dtype == out.dtype
    assert not np.any(out_dot.numpy())


@pytest.mark.parametrize("row", ROWS[:: max(1, len(ROWS) // 40)], ids=str)
def test_float32_primals_get_float32_tangents(row):
    arrays = [a.astype(np.float32) for a in row.inputs()]
    (out,), (out_dot,) = jvp(
        as_list(row.fn), [cr.tensor(a) for a in arrays], directions(arrays, salt=1)
    )
    assert out_dot.dtype == out.dtype


# -- every differentiable primitive has a JVP rule, and the tables reach each one -----------


def _primitives() -> dict[str, core.Primitive]:
    """Every Primitive in the package's modules, by module and name (optional dependencies
    that are not installed are skipped)."""
    found = {}
    for info in pkgutil.walk_packages(cr.__path__, "chainrule."):
        if info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, core.Primitive):
                found.setdefault(id(value), (f"{info.name}:{value.name}", value))
    return dict(found.values())


def test_every_differentiable_primitive_has_a_jvp_rule():
    primitives = _primitives()
    assert len(primitives) > 40, "the walk of the package found too few primitives"
    missing = sorted(name for name, p in primitives.items() if p.differentiable and p.jvp is None)
    assert not missing, f"differentiable primitives without a JVP rule: {missing}"


def test_the_rows_reach_every_jvp_rule(monkeypatch):
    reached = set()
    attach = core.attach_tangents

    def recording(out, prim, args, params):
        reached.add(id(prim))
        return attach(out, prim, args, params)

    monkeypatch.setattr(core, "attach_tangents", recording)
    for row in ROWS:
        arrays = row.inputs()
        jvp(as_list(row.fn), [cr.tensor(a) for a in arrays], directions(arrays, salt=1))
    unreached = sorted(
        name
        for name, p in _primitives().items()
        if p.differentiable and id(p) not in reached and name.startswith("chainrule.ops")
    )
    assert not unreached, f"no row runs these primitives in forward mode: {unreached}"
