"""Forward mode composed: jvp inside jvp (levels keep perturbations apart), with reverse mode
both ways round, under no_grad; what it leaves behind (nothing), and its errors.

Every expected value comes from finite differences or from reverse mode (itself checked
against finite differences by the op tables), never from forward mode alone.
"""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.forward import jvp, tangent_of
from chainrule.ops import core
from tests.conftest import needs_torch
from tests.forward_cases import directional_difference
from tests.tensor_cases import draw, rng

# torch.func's first use scripts a helper with torch.jit, which torch itself now deprecates
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


def _one(fn):
    return lambda *xs: [fn(*xs)]


def _derivative(fn, x: float, tangent: float = 1.0) -> float:
    """d fn / dx at x (a float) by jvp."""
    _, (out_dot,) = jvp(_one(fn), (cr.tensor(np.float64(x)),), (np.float64(tangent),))
    return float(out_dot)


# -- levels: nested jvps do not confuse their perturbations -----------------------------------


@pytest.mark.parametrize("x", [3.0, -0.7])
def test_perturbation_confusion_classic(x):
    # d/dx [x * (d/dy (x + y) at y = 1)] = d/dx [x * 1] = 1 (one shared epsilon would give 2)
    def outer(x):
        return x * _inner_slope(lambda y: x + y)

    assert _derivative(outer, x) == 1.0


def _inner_slope(fn):
    _, (slope,) = jvp(_one(fn), (cr.tensor(np.float64(1.0)),), (np.float64(1.0),))
    return slope


@pytest.mark.parametrize("x", [1.3, -0.4])
def test_inner_derivative_that_depends_on_the_outer_variable(x):
    # d/dx [x * (d/dy (x * y) at y = 1)] = d/dx [x * x] = 2x
    def outer(x):
        return x * _inner_slope(lambda y: x * y)

    assert _derivative(outer, x) == pytest.approx(2 * x, rel=1e-14)


def test_jvp_of_jvp_is_the_second_derivative_along_two_directions():
    # d^2 f[u, v] = u^T H v, H by reverse over reverse; inner primals derived from the outer
    # ones (not the same Tensors), so the level bookkeeping goes through recorded ops
    x = draw((5,))
    u, v = rng(1).uniform(-2, 2, 5), rng(2).uniform(-2, 2, 5)

    def f(x):
        return (cr.exp(cr.sin(x)) * x).sum() + cr.logsumexp(x * x)

    def directional(x):
        _, (d,) = jvp(_one(f), (x * 1.0,), (v,))
        return d

    _, (second,) = jvp(_one(directional), (cr.tensor(x),), (u,))
    hessian = _hessian(f, x)
    np.testing.assert_allclose(float(second), u @ hessian @ v, rtol=1e-12)


def _hessian(f, x: np.ndarray) -> np.ndarray:
    """f's Hessian at x, row by row, by reverse over reverse."""
    t = cr.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(f(t), [t], create_graph=True)
    rows = []
    for i in range(x.size):
        (row,) = cr.autograd.grad(g[i], [t], retain_graph=True)
        rows.append(row.numpy())
    return np.stack(rows)


def test_three_levels_give_the_third_derivative():
    def nth(fn, n):
        for _ in range(n):
            fn = _derivative_function(fn)
        return fn

    for x in (0.4, -1.1):
        assert float(nth(cr.sin, 3)(cr.tensor(np.float64(x)))) == pytest.approx(-math.cos(x))
        assert float(nth(cr.exp, 3)(cr.tensor(np.float64(x)))) == pytest.approx(math.exp(x))


def _derivative_function(fn):
    def derivative(x):
        _, (d,) = jvp(_one(fn), (x,), (np.ones_like(x.numpy()),))
        return d

    return derivative


# -- forward over reverse: Hessian-vector products ----------------------------------------------

W_SHAPE, X_SHAPE = (4, 3), (5, 4)
ROWS = [0, 2, 2, 4]  # indexing with a repeat


def loss(w, x):
    """Several op families: matmul, tanh, indexing, log_softmax, power, sums."""
    h = cr.tanh(x @ w)
    picked = h[ROWS] * 2.0
    return cr.log_softmax(picked, dim=-1)[:, 1].sum() + 0.1 * (w**2).sum() * x.mean()


def _hvp_by(route: str, w, x, v_w, v_x):
    """H·v of loss by forward over reverse: the gradient taken by grad(create_graph=True),
    grad(), or backward() into .grad, inside a jvp."""

    def gradient(w, x):
        if route == "backward":
            w.grad = x.grad = None
            loss(w, x).backward()
            return [w.grad, x.grad]
        return list(cr.autograd.grad(loss(w, x), [w, x], create_graph=route == "create_graph"))

    primals = (cr.tensor(w, requires_grad=True), cr.tensor(x, requires_grad=True))
    _, (hv_w, hv_x) = jvp(gradient, primals, (v_w, v_x))
    return hv_w.numpy(), hv_x.numpy()


@pytest.mark.parametrize("route", ["create_graph", "grad", "backward"])
def test_hvp_forward_over_reverse_matches_finite_differences(route):
    w, x = draw(W_SHAPE), draw(X_SHAPE, salt=1)
    v_w, v_x = rng(5).uniform(-1, 1, W_SHAPE), rng(6).uniform(-1, 1, X_SHAPE)
    hv_w, hv_x = _hvp_by(route, w, x, v_w, v_x)
    for k, hv in enumerate((hv_w, hv_x)):

        def gradient_k(w, x, k=k):
            w, x = w.detach().requires_grad_(), x.detach().requires_grad_()
            return cr.autograd.grad(loss(w, x), [w, x])[k]

        expected = directional_difference(gradient_k, [w, x], [v_w, v_x])
        np.testing.assert_allclose(hv, expected, rtol=1e-6, atol=1e-8)


def test_hvp_forward_over_reverse_matches_reverse_over_reverse():
    w, x = draw(W_SHAPE), draw(X_SHAPE, salt=1)
    v_w, v_x = rng(5).uniform(-1, 1, W_SHAPE), rng(6).uniform(-1, 1, X_SHAPE)
    hv_w, hv_x = _hvp_by("create_graph", w, x, v_w, v_x)
    tw, tx = cr.tensor(w, requires_grad=True), cr.tensor(x, requires_grad=True)
    g_w, g_x = cr.autograd.grad(loss(tw, tx), [tw, tx], create_graph=True)
    expected_w, expected_x = cr.autograd.grad((g_w * v_w).sum() + (g_x * v_x).sum(), [tw, tx])
    np.testing.assert_allclose(hv_w, expected_w.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hv_x, expected_x.numpy(), rtol=1e-12, atol=1e-14)


@needs_torch
def test_hvp_matches_torch_forward_over_reverse():
    import torch

    w, x = draw(W_SHAPE), draw(X_SHAPE, salt=1)
    v_w, v_x = rng(5).uniform(-1, 1, W_SHAPE), rng(6).uniform(-1, 1, X_SHAPE)
    hv_w, hv_x = _hvp_by("grad", w, x, v_w, v_x)

    def torch_loss(w, x):
        h = torch.tanh(x @ w)
        picked = h[ROWS] * 2.0
        return torch.log_softmax(picked, dim=-1)[:, 1].sum() + 0.1 * (w**2).sum() * x.mean()

    _, (expected_w, expected_x) = torch.func.jvp(
        torch.func.grad(torch_loss, argnums=(0, 1)),
        (torch.tensor(w), torch.tensor(x)),
        (torch.tensor(v_w), torch.tensor(v_x)),
    )
    np.testing.assert_allclose(hv_w, expected_w.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv_x, expected_x.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_of_an_hvp_reverse_over_forward_over_reverse():
    # three modes stacked: the gradient of <H(w)·v, c> with respect to w, by backward
    # through a jvp through grad(create_graph=True), against finite differences
    x = draw(X_SHAPE, salt=1)
    v_w = rng(5).uniform(-1, 1, W_SHAPE)
    c = rng(7).uniform(-1, 1, W_SHAPE)

    def weighted_hvp(w):
        def gradient(w):
            return list(cr.autograd.grad(loss(w, cr.tensor(x)), [w], create_graph=True))

        w = w if w.requires_grad else w.detach().requires_grad_()
        _, (hv,) = jvp(gradient, (w,), (v_w,))
        return (hv * c).sum()

    assert cr.gradcheck(weighted_hvp, draw(W_SHAPE))


# -- reverse over forward ------------------------------------------------------------------------


def test_backward_through_jvp_reaches_primals_and_tangents():
    # s = <J(x)·v, c>: ds/dx by backward through the jvp (gradcheck: finite differences), and
    # ds/dv = J^T c, by plain reverse mode
    x0, v0 = draw((3, 4)), rng(1).uniform(-1, 1, (3, 4))
    c = rng(2).uniform(-1, 1, (3,))

    def f(x):
        return cr.softmax(x * x, dim=1).sum(axis=1) + cr.tanh(x).prod(axis=1)

    def weighted_jvp(x, v):
        _, (out_dot,) = jvp(_one(f), (x,), (v,))
        return (out_dot * c).sum()

    assert cr.gradcheck(weighted_jvp, x0, v0)
    x, v = cr.tensor(x0), cr.tensor(v0, requires_grad=True)
    weighted_jvp(x, v).backward()
    x_leaf = cr.tensor(x0, requires_grad=True)
    f(x_leaf).backward(gradient=c)
    np.testing.assert_allclose(v.grad.numpy(), x_leaf.grad.numpy(), rtol=1e-12)


# -- grad mode, repeated primals, outputs ---------------------------------------------------------


def test_tangents_are_computed_under_no_grad():
    x0, v = draw((3,)), rng(1).uniform(-1, 1, 3)
    x = cr.tensor(x0, requires_grad=True)
    with cr.no_grad():
        (out,), (out_dot,) = jvp(_one(lambda x: cr.exp(x) * x), (x,), (v,))
    assert not out.requires_grad
    assert not out_dot.requires_grad
    expected = directional_difference(lambda x: cr.exp(x) * x, [x0], [v])
    np.testing.assert_allclose(out_dot.numpy(), expected, rtol=1e-8)


def test_tangents_are_recorded_when_grad_is_on():
    x = cr.tensor(draw((3,)), requires_grad=True)
    _, (out_dot,) = jvp(_one(cr.sin), (x,), (np.ones(3),))
    assert out_dot.requires_grad


def test_one_tensor_given_twice_gets_a_tangent_per_place():
    x0 = draw((4,))
    v1, v2 = rng(1).uniform(-1, 1, 4), rng(2).uniform(-1, 1, 4)
    x = cr.tensor(x0, requires_grad=True)
    (out,), (out_dot,) = jvp(_one(lambda a, b: a * b.exp()), (x, x), (v1, v2))
    np.testing.assert_allclose(out_dot.numpy(), v1 * np.exp(x0) + x0 * np.exp(x0) * v2)
    (out_dot * 1.0).sum().backward()  # the repeated place stays on the graph: both reach x
    expected = directional_difference(
        lambda t: ((v1 * t.exp() + t * t.exp() * v2) * 1.0).sum(), [x0], [np.eye(4)[1]]
    )
    np.testing.assert_allclose(x.grad.numpy()[1], expected, rtol=1e-7)


def test_outputs_that_are_primals_or_constants():
    x = cr.tensor(draw((2, 3)))
    v = rng(1).uniform(-1, 1, (2, 3))
    constant = cr.tensor(np.arange(4.0))
    outs, dots = jvp(lambda x: [x, constant, np.float32(2.0), (x > 0)], (x,), (v,))
    np.testing.assert_array_equal(dots[0].numpy(), v)
    for out, out_dot in zip(outs[1:], dots[1:]):
        assert out_dot.shape == out.shape
        assert out_dot.dtype == out.dtype
        assert not np.any(out_dot.numpy())


CONSTANT = draw((2, 3, 4), salt=9)
LONE_BROADCAST = [
    ("x + c", lambda x: x + CONSTANT),
    ("c - x", lambda x: cr.tensor(CONSTANT) - x),
    ("where(mask, x, c)", lambda x: cr.where(CONSTANT > 0, x, CONSTANT)),
    ("broadcast by clip's bounds", lambda x: cr.clip(x, cr.tensor(CONSTANT - 1.0), None)),
    ("c @ x", lambda x: CONSTANT @ x.reshape(4, 1)),
]


@pytest.mark.parametrize(("name", "fn"), LONE_BROADCAST, ids=[n for n, _ in LONE_BROADCAST])
def test_a_broadcast_input_alone_gets_a_tangent_of_the_output_shape(name, fn):
    x0, v = draw((4,)), rng(1).uniform(-1, 1, 4)
    (out,), (out_dot,) = jvp(_one(fn), (cr.tensor(x0),), (v,))
    assert out_dot.shape == out.shape
    expected = directional_difference(fn, [x0], [v])
    np.testing.assert_allclose(out_dot.numpy(), expected, rtol=1e-8)


def test_a_single_tensor_output_is_a_list_of_one():
    (out,), (out_dot,) = jvp(cr.exp, (cr.tensor(np.float64(0.5)),), (np.float64(2.0),))
    assert float(out_dot) == pytest.approx(2.0 * math.exp(0.5))


def test_float32_primal_keeps_float32_and_tangents_are_cast():
    x = cr.tensor(np.array([0.5, -1.5], dtype=np.float32))
    (out,), (out_dot,) = jvp(_one(lambda x: cr.tanh(x) * 3.0), (x,), (np.array([1.0, 2.0]),))
    assert out.dtype == np.float32
    assert out_dot.dtype == np.float32


def test_tangent_of_inside_and_outside():
    x = cr.tensor(draw((3,)))
    v = rng(1).uniform(-1, 1, 3)
    seen = []

    def f(x):
        y = x * 2.0
        seen.append(tangent_of(y).numpy())
        return [y]

    jvp(f, (x,), (v,))
    np.testing.assert_array_equal(seen[0], 2.0 * v)
    assert tangent_of(x) is None  # no jvp open


# -- what jvp leaves behind: nothing ----------------------------------------------------------


def test_no_tangent_state_without_jvp():
    x = cr.tensor(draw((3,)), requires_grad=True)
    y = cr.exp(x) * x
    assert y._extra is None
    assert getattr(y._node, "tangents", None) is None
    assert core.forward_levels == []


def test_jvp_leaves_its_inputs_and_outputs_as_they_were():
    x = cr.tensor(draw((3,)), requires_grad=True)
    x.label = "x"
    outs, _ = jvp(_one(cr.sin), (x,), (np.ones(3),))
    assert core.forward_levels == []
    assert x.label == "x"
    assert set(x._extra) == {"label"}
    assert not outs[0]._extra


def test_an_error_inside_closes_the_level():
    def failing(x):
        cr.exp(x)
        raise KeyError("inside")

    x = cr.tensor(draw((3,)))
    with pytest.raises(KeyError, match="inside"):
        jvp(failing, (x,), (np.ones(3),))
    assert core.forward_levels == []
    assert not x._extra


@pytest.mark.parametrize("recorded", ["primal", "tangent"])
def test_intermediates_are_freed_by_reference_counting(recorded):
    # a recorded tangent keeps the Tensors its rule read; if that were the output holding the
    # tangent, the two would form a cycle: with the garbage collector off, all must still go
    x = cr.tensor(draw((3,)), requires_grad=recorded == "primal")
    v = cr.tensor(np.ones(3), requires_grad=recorded == "tangent")
    probes = []

    def f(x):
        h = cr.exp(x)
        probes.extend([weakref.ref(h), weakref.ref(tangent_of(h))])
        return [(h * 2.0).sum()]

    gc.collect()
    gc.disable()
    try:
        outs, dots = jvp(f, (x,), (v,))
        assert dots[0].requires_grad  # recorded (no backward: it would free the graph anyway)
        del outs, dots
        assert all(probe() is None for probe in probes)
    finally:
        gc.enable()


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("primals", "tangents", "error", "words"),
    [
        ((np.ones(2),), (), ValueError, "1 primals but 0 tangents"),
        ((np.ones(2),), (np.ones(3),), ValueError, r"tangent 0 has shape \(3,\).*\(2,\)"),
        ((np.arange(3),), (np.ones(3),), TypeError, "primal 0 has dtype int64"),
        (("x",), (np.ones(3),), TypeError, "primal 0 is a str"),
        ((np.ones(2),), (["a", "b"],), TypeError, "tangent 0 is not an array of numbers"),
    ],
    ids=["count", "shape", "int primal", "str primal", "str tangent"],
)
def test_bad_inputs_are_named(primals, tangents, error, words):
    with pytest.raises(error, match=words):
        jvp(lambda *xs: list(xs), primals, tangents)


@pytest.mark.parametrize(
    ("result", "words"),
    [("text", "returned a str"), ([np.ones(2), "x"], "output 1 of the function is a str")],
)
def test_bad_outputs_are_named(result, words):
    with pytest.raises(TypeError, match=words):
        jvp(lambda x: result, (np.ones(2),), (np.ones(2),))


def test_a_primitive_without_jvp_rule_is_named():
    @core.primitive
    def cube(x):
        return x**3

    @cube.defvjp
    def cube_vjp(g, ans, x):
        return (g * 3 * x**2,)

    with pytest.raises(NotImplementedError, match="'cube' has no JVP rule"):
        jvp(_one(cube), (np.ones(2),), (np.ones(2),))
    assert core.forward_levels == []
    assert cube(cr.tensor(np.ones(2))).shape == (2,)  # outside jvp nothing is asked of it
