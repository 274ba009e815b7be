"""The transforms of chainrule.func: grad, value_and_grad, jacobian, hessian, jvp, vjp, hvp,
derivative.

Checked against derivatives worked out by hand, finite differences in float64, and
torch.func where PyTorch is installed. Inputs are random and asymmetric (shapes that are not
square where a transpose could hide, argnums out of order, distinct values), so a swapped
axis, a lost pytree structure or a mixed-up argument fails.
"""

from __future__ import annotations

import math
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import chainrule as cr
from chainrule import forward
from tests.conftest import needs_torch
from tests.tensor_cases import draw, rng

FD = {"rtol": 1e-6, "atol": 1e-8}  # finite differences in float64 against exact derivatives
EXACT = {"rtol": 1e-10, "atol": 1e-12}  # two exact computations of the same number


def numerical_grad_of(f, *args, argnum=0):
    """d f / d args[argnum] by central differences (float64)."""
    args = list(args)

    def partial(v):
        call = list(args)
        call[argnum] = v.data if isinstance(v, cr.Tensor) else v
        return f(*[cr.tensor(np.asarray(a, dtype=np.float64)) for a in call])

    return cr.numerical_jacobian(partial, np.asarray(args[argnum], dtype=np.float64))


# -- n-th derivatives of functions of one variable, worked out by hand -----------------------------

# (name, f on Tensors, its n-th derivative at x)
ANALYTIC = [
    ("sin", lambda x: x.sin(), lambda x, n: math.sin(x + n * math.pi / 2)),
    ("exp(2x)", lambda x: (2 * x).exp(), lambda x, n: 2.0**n * math.exp(2 * x)),
    (
        "x**5",
        lambda x: x**5,
        lambda x, n: math.factorial(5) / math.factorial(5 - n) * x ** (5 - n) if n <= 5 else 0.0,
    ),
    (
        "log(x+3)",
        lambda x: (x + 3.0).log(),
        lambda x, n: (-1) ** (n - 1) * math.factorial(n - 1) / (x + 3.0) ** n,
    ),
]
POINTS = [0.37, -1.21]


@pytest.mark.parametrize("case", ANALYTIC, ids=[c[0] for c in ANALYTIC])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_derivative_matches_the_analytic_nth_derivative(case, n):
    _, f, exact = case
    for x in POINTS:
        got = cr.derivative(f, n=n)(x)
        assert type(got) is float
        np.testing.assert_allclose(got, exact(x, n), **EXACT)


@pytest.mark.parametrize("case", ANALYTIC, ids=[c[0] for c in ANALYTIC])
def test_grad_nested_n_times_matches_the_analytic_derivative(case):
    _, f, exact = case
    nested = f
    for n in range(1, 5):
        nested = cr.grad(nested)
        np.testing.assert_allclose(nested(POINTS[1]), exact(POINTS[1], n), **EXACT)


def test_derivative_zero_is_the_function_and_vector_outputs_are_differentiated_entrywise():
    f = lambda x: cr.stack([x.sin(), x**3, 2 * x])  # noqa: E731
    x = 0.81
    value = cr.derivative(f, 0)(x)
    assert type(value) is np.ndarray
    np.testing.assert_allclose(value, [math.sin(x), x**3, 2 * x], **EXACT)
    np.testing.assert_allclose(cr.derivative(f, 2)(x), [-math.sin(x), 6 * x, 0.0], **EXACT)


def test_derivative_with_extra_arguments_differentiates_the_first():
    f = lambda x, a: (a * x).sin()  # noqa: E731
    np.testing.assert_allclose(cr.derivative(f, 2)(0.4, 1.7), -(1.7**2) * math.sin(0.68), **EXACT)


# -- kinds and structures come back as they went in ------------------------------------------------


def test_float_in_float_out():
    g = cr.grad(lambda x, y: x * y**2, argnums=(0, 1))(3.0, 2)
    assert g == (4.0, 12.0)
    assert all(type(v) is float for v in g)


def test_ndarray_keeps_its_dtype_and_comes_back_an_ndarray():
    for dtype in (np.float32, np.float64):
        x = draw((2, 3)).astype(dtype)
        g = cr.grad(lambda x: (x**3).sum())(x)
        assert type(g) is np.ndarray and g.dtype == dtype
        np.testing.assert_allclose(g, 3 * x**2, rtol=1e-6 if dtype == np.float32 else 1e-12)
        jac = cr.jacobian(lambda x: x.sin(), mode="forward")(x)
        assert type(jac) is np.ndarray and jac.dtype == dtype and jac.shape == (2, 3, 2, 3)


def test_tensor_in_tensor_out_off_the_graph():
    x = cr.tensor(draw((3,)))
    g = cr.grad(lambda x: (x * x).sum())(x)
    assert isinstance(g, cr.Tensor) and not g.requires_grad
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy())
    for mode in ("reverse", "forward"):
        jac = cr.jacobian(lambda x: x.exp(), mode=mode)(x)
        assert isinstance(jac, cr.Tensor) and not jac.requires_grad
        np.testing.assert_allclose(jac.numpy(), np.diag(np.exp(x.numpy())), **EXACT)
    out, tangent = cr.jvp(lambda x: x.exp(), (x,), (np.ones(3),))
    assert isinstance(out, cr.Tensor) and isinstance(tangent, cr.Tensor)
    assert not out.requires_grad and not tangent.requires_grad


def test_pytrees_keep_their_structure():
    Pair = namedtuple("Pair", "w b")
    params = {
        "layer": Pair(w=draw((2, 3), salt=1), b=draw((3,), salt=2)),
        "scale": 0.7,
        "extra": [draw((2,), salt=3), OrderedDict(z=np.float32(1.5))],
    }

    def f(p):
        out = (p["layer"].w * p["scale"]).sum() * p["layer"].b.sum()
        return out + (p["extra"][0] ** 2).sum() * p["extra"][1]["z"]

    g = cr.grad(f)(params)
    assert type(g) is dict and list(g) == ["layer", "scale", "extra"]
    assert type(g["layer"]) is Pair and type(g["extra"]) is list
    assert type(g["extra"][1]) is OrderedDict and type(g["scale"]) is float
    w, b, z = params["layer"].w, params["layer"].b, params["extra"][1]["z"]
    np.testing.assert_allclose(g["layer"].w, np.full(w.shape, params["scale"] * b.sum()))
    np.testing.assert_allclose(g["layer"].b, np.full(b.shape, params["scale"] * w.sum()))
    np.testing.assert_allclose(g["scale"], w.sum() * b.sum())
    np.testing.assert_allclose(g["extra"][0], 2 * params["extra"][0] * z)
    assert g["extra"][1]["z"].dtype == np.float32
    np.testing.assert_allclose(g["extra"][1]["z"], (params["extra"][0] ** 2).sum(), rtol=1e-6)


def test_argnums_order_is_kept():
    x, y, z = draw((2,), salt=1), draw((3,), salt=2), 1.3

    def f(x, y, z):
        return (x.sum() * y**2).sum() * z

    gz, gx = cr.grad(f, argnums=(2, 0))(x, y, z)
    np.testing.assert_allclose(gx, numerical_grad_of(f, x, y, z, argnum=0), **FD)
    np.testing.assert_allclose(gz, numerical_grad_of(f, x, y, z, argnum=2), **FD)
    (gy,) = cr.grad(f, argnums=(-2,))(x, y, z)
    np.testing.assert_allclose(gy, numerical_grad_of(f, x, y, z, argnum=1), **FD)
    assert cr.grad(f, argnums=())(x, y, z) == ()


def test_other_arguments_and_keywords_pass_through_untouched():
    seen = {}

    def f(x, label, *, power):
        seen["label"] = label
        return (x**power).sum()

    x = draw((3,))
    np.testing.assert_allclose(cr.grad(f)(x, "a label", power=3), 3 * x**2)
    assert seen["label"] == "a label"


# -- gradients, Jacobians, Hessians against finite differences -------------------------------------


def mixed(x, w):
    """A function of a (3,) vector and a (3, 2) matrix using several op families."""
    h = (x @ w).tanh()
    return (h * h.exp()).sum() + (x[0] * w[2, 1]).sin() + cr.log_softmax(x, axis=0)[1]


def test_grad_matches_finite_differences():
    x, w = draw((3,), salt=1), draw((3, 2), salt=2)
    gx, gw = cr.grad(mixed, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, numerical_grad_of(mixed, x, w, argnum=0), **FD)
    np.testing.assert_allclose(gw, numerical_grad_of(mixed, x, w, argnum=1), **FD)
    value, gw2 = cr.value_and_grad(mixed, argnums=1)(x, w)
    np.testing.assert_allclose(value, mixed(cr.tensor(x), cr.tensor(w)).numpy(), **EXACT)
    np.testing.assert_allclose(gw2, gw, **EXACT)


def rectangular(x, w):
    """(2, 3) inputs to a (5,) output: transposing a Jacobian changes its shape."""
    return cr.concatenate([(x * w).sum(axis=0).sin(), (x[:, :1] ** 2 * w[1, 2]).sum(axis=1)])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_matches_finite_differences(mode):
    x, w = draw((2, 3), salt=3), draw((2, 3), salt=4)
    jx, jw = cr.jacobian(rectangular, argnums=(0, 1), mode=mode)(x, w)
    assert jx.shape == (5, 2, 3) and jw.shape == (5, 2, 3)
    np.testing.assert_allclose(jx, numerical_grad_of(rectangular, x, w, argnum=0), **FD)
    np.testing.assert_allclose(jw, numerical_grad_of(rectangular, x, w, argnum=1), **FD)


def test_jacrev_and_jacfwd_agree_on_a_non_square_jacobian():
    x = draw((5,))
    f = lambda x: cr.stack([x.sum(), (x * cr.tensor(np.arange(5.0))).sum()])  # noqa: E731
    rev, fwd = cr.jacrev(f)(x), cr.jacfwd(f)(x)
    assert rev.shape == fwd.shape == (2, 5)
    np.testing.assert_allclose(rev, [np.ones(5), np.arange(5.0)], **EXACT)
    np.testing.assert_allclose(fwd, rev, **EXACT)


def test_jacobian_of_pytrees_puts_outputs_outside_and_inputs_inside():
    def f(p, x):
        return {"a": (p["w"] * x).sum(), "b": [p["w"] * p["b"]]}

    p, x = {"w": draw((3,), salt=5), "b": 0.5}, draw((3,), salt=6)
    for mode in ("reverse", "forward"):
        jac = cr.jacobian(f, mode=mode)(p, x)
        assert list(jac) == ["a", "b"] and list(jac["a"]) == ["w", "b"]
        np.testing.assert_allclose(jac["a"]["w"], x, **EXACT)
        assert jac["a"]["b"] == 0.0 and type(jac["a"]["b"]) is float
        np.testing.assert_allclose(jac["b"][0]["w"], 0.5 * np.eye(3), **EXACT)
        np.testing.assert_allclose(jac["b"][0]["b"], p["w"], **EXACT)


def quartic(x):
    return (x**4).sum() / 4 + x[0] * x[1] * x[2] + (x[1] * x[3]).sin()


def test_hessian_matches_finite_differences_of_the_gradient():
    x = draw((4,), salt=7)
    h = cr.hessian(quartic)(x)
    expected = cr.numerical_jacobian(cr.grad(quartic), x)
    np.testing.assert_allclose(h, expected, **FD)
    np.testing.assert_allclose(h, h.T, **EXACT)
    np.testing.assert_allclose(cr.jacobian(cr.grad(quartic))(x), h, **EXACT)
    np.testing.assert_allclose(cr.jacfwd(cr.jacrev(quartic))(x), h, **EXACT)
    np.testing.assert_allclose(cr.jacrev(cr.jacrev(quartic))(x), h, **EXACT)


def test_hessian_of_a_function_that_calls_grad():
    # g(x) = sum(x^4)/4 + x0 x1; f(x) = |grad g(x)|^2, whose gradient is 2 H_g grad g
    def g(x):
        return (x**4).sum() / 4 + x[0] * x[1]

    def f(x):
        return (cr.grad(g)(x) ** 2).sum()

    def grad_f_by_hand(x):
        grad_g = x**3 + np.array([x[1], x[0], 0.0])
        h_g = np.diag(3 * x**2) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
        return 2 * h_g @ grad_g

    x = draw((3,), salt=8)
    np.testing.assert_allclose(cr.grad(f)(x), grad_f_by_hand(x), **EXACT)
    expected = cr.numerical_jacobian(lambda v: grad_f_by_hand(np.asarray(v)), x)
    np.testing.assert_allclose(cr.hessian(f)(x), expected, **FD)


def test_hessian_with_two_argnums_gives_blocks():
    def f(x, y):
        return (x[:, None] * y[None, :] ** 2).sum() + (x**3).sum()

    x, y = draw((2,), salt=9), draw((3,), salt=10)
    (hxx, hxy), (hyx, hyy) = cr.hessian(f, argnums=(0, 1))(x, y)
    assert hxx.shape == (2, 2) and hxy.shape == (2, 3) and hyx.shape == (3, 2)
    np.testing.assert_allclose(hxx, np.diag(6 * x), **EXACT)
    np.testing.assert_allclose(hxy, 2 * np.outer(np.ones(2), y), **EXACT)
    np.testing.assert_allclose(hyx, hxy.T, **EXACT)
    np.testing.assert_allclose(hyy, 2 * x.sum() * np.eye(3), **EXACT)


def test_hessian_of_a_dict_nests_input_structure_twice():
    def f(p):
        return (p["a"] ** 2 * p["b"]).sum() + p["b"].sin() * p["a"][0]

    p = {"a": draw((2,), salt=25), "b": 0.6}
    h = cr.hessian(f)(p)
    assert list(h) == ["a", "b"] and list(h["a"]) == ["a", "b"]
    assert h["a"]["a"].shape == (2, 2) and h["a"]["b"].shape == (2,) and type(h["b"]["b"]) is float
    flat = cr.hessian(lambda z: f({"a": z[:2], "b": z[2]}))(np.append(p["a"], 0.6))
    np.testing.assert_allclose(h["a"]["a"], flat[:2, :2], **EXACT)
    np.testing.assert_allclose(h["a"]["b"], flat[:2, 2], **EXACT)
    np.testing.assert_allclose(h["b"]["a"], flat[2, :2], **EXACT)
    np.testing.assert_allclose(h["b"]["b"], flat[2, 2], **EXACT)


def test_hessian_of_linear_and_constant_functions_is_zero():
    x = draw((3,))
    np.testing.assert_array_equal(cr.hessian(lambda x: (2 * x).sum())(x), np.zeros((3, 3)))
    np.testing.assert_array_equal(cr.hessian(lambda x: cr.tensor(1.5))(x), np.zeros((3, 3)))
    assert cr.grad(lambda x: 3.0)(2.0) == 0.0


# -- jvp, vjp, hvp ---------------------------------------------------------------------------------


def test_jvp_is_the_jacobian_times_the_tangent():
    x, w = draw((2, 3), salt=11), draw((2, 3), salt=12)
    tx, tw = rng(13).standard_normal((2, 3)), rng(14).standard_normal((2, 3))
    out, tangent = cr.jvp(rectangular, (x, w), (tx, tw))
    np.testing.assert_allclose(out, rectangular(cr.tensor(x), cr.tensor(w)).numpy(), **EXACT)
    jx = numerical_grad_of(rectangular, x, w, argnum=0)
    jw = numerical_grad_of(rectangular, x, w, argnum=1)
    expected = jx.reshape(5, -1) @ tx.ravel() + jw.reshape(5, -1) @ tw.ravel()
    np.testing.assert_allclose(tangent, expected, **FD)


def test_vjp_is_the_cotangent_times_the_jacobian():
    x, w = draw((2, 3), salt=15), draw((2, 3), salt=16)
    u = rng(17).standard_normal(5)
    out, vjp_fn = cr.vjp(rectangular, x, w)
    gx, gw = vjp_fn(u)
    np.testing.assert_allclose(
        gx, np.tensordot(u, numerical_grad_of(rectangular, x, w, argnum=0), 1), **FD
    )
    np.testing.assert_allclose(
        gw, np.tensordot(u, numerical_grad_of(rectangular, x, w, argnum=1), 1), **FD
    )
    # the function can be called again, with another cotangent
    gx2, _ = vjp_fn(2 * u)
    np.testing.assert_allclose(gx2, 2 * gx, **EXACT)


def test_vjp_fn_is_differentiable_in_its_cotangent():
    # g(u) = |uᵀJ|^2 has gradient 2 J Jᵀ u: the VJP is recorded when u is on a graph
    x = draw((3,), salt=23)
    _, vjp_fn = cr.vjp(lambda x: cr.stack([(x * x).sum(), x.sin().sum()]), x)
    jac = np.stack([2 * x, np.cos(x)])
    u = rng(24).standard_normal(2)
    g = cr.grad(lambda u: (vjp_fn(u)[0] ** 2).sum())(u)
    np.testing.assert_allclose(g, 2 * jac @ jac.T @ u, **EXACT)


def test_jvp_and_vjp_on_pytrees():
    def f(p):
        return {"y": p["a"] * p["b"][0], "z": (p["a"] ** 2).sum()}

    p = {"a": draw((3,), salt=18), "b": [1.5]}
    t = {"a": rng(19).standard_normal(3), "b": [0.25]}
    out, tangent = cr.jvp(f, (p,), (t,))
    np.testing.assert_allclose(tangent["y"], t["a"] * 1.5 + p["a"] * 0.25, **EXACT)
    np.testing.assert_allclose(tangent["z"], 2 * p["a"] @ t["a"], **EXACT)
    out2, vjp_fn = cr.vjp(f, p)
    u = {"y": rng(20).standard_normal(3), "z": 0.8}
    (g,) = vjp_fn(u)
    np.testing.assert_allclose(g["a"], u["y"] * 1.5 + 0.8 * 2 * p["a"], **EXACT)
    np.testing.assert_allclose(g["b"][0], u["y"] @ p["a"], **EXACT)
    np.testing.assert_allclose(out2["z"], out["z"], **EXACT)


def test_hvp_is_the_hessian_times_v():
    x, v = draw((4,), salt=21), rng(22).standard_normal(4)
    np.testing.assert_allclose(cr.hvp(quartic, x, v), cr.hessian(quartic)(x) @ v, **EXACT)
    p = {"x": x, "s": 0.3}
    pv = {"x": v, "s": -1.1}
    hv = cr.hvp(lambda p: quartic(p["x"] * p["s"]), p, pv)
    full = np.concatenate([x, [0.3]])
    h = cr.hessian(lambda z: quartic(z[:4] * z[4]))(full)
    expected = h @ np.concatenate([v, [-1.1]])
    np.testing.assert_allclose(hv["x"], expected[:4], **EXACT)
    np.testing.assert_allclose(hv["s"], expected[4], **EXACT)


# -- has_aux ---------------------------------------------------------------------------------------


def test_has_aux_returns_the_auxiliary_data_beside_the_derivative():
    x = draw((3,))

    def f(x):
        return (x**2).sum(), {"double": x * 2, "note": "kept"}

    g, aux = cr.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert aux["note"] == "kept" and type(aux["double"]) is np.ndarray
    np.testing.assert_allclose(aux["double"], 2 * x)
    (value, aux2), g2 = cr.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_allclose(value, (x**2).sum())
    np.testing.assert_allclose(g2, g)
    jac, aux3 = cr.jacobian(lambda x: (x * 3, x.sum()), has_aux=True, mode="forward")(x)
    np.testing.assert_allclose(jac, 3 * np.eye(3))
    np.testing.assert_allclose(aux3, x.sum())
    out, tangent, aux4 = cr.jvp(f, (x,), (np.ones(3),), has_aux=True)
    np.testing.assert_allclose(tangent, 2 * x.sum())
    out, vjp_fn, aux5 = cr.vjp(f, x, has_aux=True)
    np.testing.assert_allclose(vjp_fn(0.5)[0], x)
    h, aux6 = cr.hessian(f, has_aux=True)(x)
    np.testing.assert_allclose(h, 2 * np.eye(3))
    assert aux6["note"] == "kept"


# -- nesting ---------------------------------------------------------------------------------------


def test_perturbations_of_nested_transforms_are_not_confused():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (2 if the inner derivative saw x's too)
    assert cr.grad(lambda x: x * cr.grad(lambda y: x + y)(1.0))(2.0) == 1.0
    assert cr.derivative(lambda x: x * cr.derivative(lambda y: x + y)(1.0))(2.0) == 1.0
    # the same Tensor given twice is two variables
    x = cr.tensor(np.array(1.5))
    ga, gb = cr.grad(lambda a, b: a * b**2, argnums=(0, 1))(x, x)
    assert (float(ga), float(gb)) == (2.25, 4.5)

    # and forward inside reverse inside forward: d/dx [x * (d/dy x*y)(y=3)] = 2x
    def inner(x):
        return x * cr.jvp(lambda y: x * y, (3.0,), (1.0,))[1]

    np.testing.assert_allclose(cr.jvp(inner, (1.25,), (1.0,))[1], 2.5, **EXACT)
    np.testing.assert_allclose(cr.grad(inner)(1.25), 2.5, **EXACT)


def test_closure_over_an_outer_variable_is_differentiated():
    # d/dx of sum(jacobian of (y -> x * sin(y)) at y0) = sum(cos(y0))
    y0 = draw((3,))

    def f(x):
        return cr.jacobian(lambda y: x * y.sin())(y0).sum()

    np.testing.assert_allclose(cr.grad(f)(0.9), np.cos(y0).sum(), **EXACT)
    np.testing.assert_allclose(cr.derivative(f, 2)(0.9), 0.0, atol=1e-12)


def test_a_tensor_that_requires_grad_keeps_the_transform_on_its_graph():
    x = cr.tensor(draw((3,)), requires_grad=True)
    w = cr.tensor(draw((3,), salt=1), requires_grad=True)
    g = cr.grad(lambda x: (x**3 * w.detach()).sum())(x)
    assert g.requires_grad  # 3 x^2 w, on the graph
    assert x.grad is None and w.grad is None  # taking the gradient wrote no .grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy() * w.numpy(), **EXACT)
    assert w.grad is None


def test_closed_over_tensors_are_constants_at_the_outermost_level():
    w = cr.tensor(draw((3,)), requires_grad=True)
    g = cr.grad(lambda x: (w * x).sum())(np.ones(3))
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, w.numpy())
    assert w.grad is None


def test_transforms_work_under_no_grad():
    with cr.no_grad():
        np.testing.assert_allclose(cr.grad(lambda x: x**2)(3.0), 6.0)
        np.testing.assert_allclose(cr.hessian(lambda x: (x**3).sum())(np.ones(2)), 6 * np.eye(2))


# -- the Scalar engine -----------------------------------------------------------------------------


def test_grad_of_scalars_uses_the_scalar_engine():
    a, b = cr.Scalar(0.4), cr.Scalar(-1.3)

    def f(a, b):
        return (a * b + a.exp()).tanh() * b

    g = cr.grad(f, argnums=(0, 1))(a, b)
    assert all(type(v) is float for v in g)
    expected = [
        cr.numerical_grad(lambda v: f(v, cr.Scalar(-1.3)), 0.4),
        cr.numerical_grad(lambda v: f(cr.Scalar(0.4), v), -1.3),
    ]
    np.testing.assert_allclose(g, expected, **FD)
    assert a.grad == 0.0  # the user's Scalars are not touched
    value, _ = cr.value_and_grad(f)(a, b)
    assert value == f(a, b).data


def test_a_function_that_returns_scalars_is_run_on_the_scalar_engine():
    weight = cr.Scalar(1.7)  # micrograd style: a Scalar constant inside f

    def f(x):
        return (weight * x).relu() + x * x

    assert cr.grad(f)(0.5) == pytest.approx(1.7 + 1.0, rel=1e-12)
    assert weight.grad == 0.0  # f's own Scalars keep their .grad
    assert cr.derivative(f)(-0.5) == pytest.approx(-1.0, rel=1e-12)
    jac = cr.jacobian(lambda x, y: [weight * x * y, x + y], argnums=(0, 1))(0.5, 2.0)
    np.testing.assert_allclose(jac, [[1.7 * 2.0, 1.7 * 0.5], [1.0, 1.0]], **EXACT)
    out, tangent = cr.jvp(lambda x: weight * x * x, (0.5,), (2.0,))
    assert (out, tangent) == pytest.approx((1.7 * 0.25, 1.7 * 2 * 0.5 * 2.0))
    out, vjp_fn = cr.vjp(lambda x: weight * x, 0.5)
    assert vjp_fn(3.0) == pytest.approx((5.1,))


@pytest.mark.parametrize(
    "call",
    [
        lambda: cr.hessian(lambda x: x * x * x)(cr.Scalar(2.0)),
        lambda: cr.grad(cr.grad(lambda x: x * x * x))(cr.Scalar(2.0)),
        lambda: cr.hvp(lambda x: x * x * x, cr.Scalar(2.0), 1.0),
        lambda: cr.derivative(lambda x: cr.Scalar(3.0) * x * x, n=2)(2.0),
        lambda: cr.grad(lambda x: cr.Scalar(3.0) * x)(np.array(2.0)),
    ],
    ids=["hessian", "grad-of-grad", "hvp", "derivative-2", "array-input"],
)
def test_higher_order_on_scalars_is_refused_clearly(call):
    with pytest.raises((TypeError, RuntimeError), match="first derivatives only"):
        call()


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: cr.grad(lambda x: x * 2)(np.ones(3)),
            TypeError,
            r"grad: f must return a scalar \(shape \(\)\), got an output of shape \(3,\)",
        ),
        (
            lambda: cr.grad(lambda x: [x.sum(), x.sum()])(np.ones(2)),
            TypeError,
            "f must return one scalar",
        ),
        (
            lambda: cr.grad(lambda x, n: x * n, argnums=1)(1.0, np.array([2, 3])),
            TypeError,
            "grad: argument 1 has dtype int64",
        ),
        (
            lambda: cr.jacobian(lambda p: p["w"])({"w": np.arange(3)}),
            TypeError,
            r"jacobian: argument 0\['w'\] has dtype int64",
        ),
        (lambda: cr.grad(lambda x: x)(True), TypeError, "bool"),
        (lambda: cr.grad(lambda x: x)("text"), TypeError, "argument 0 is a str"),
        (
            lambda: cr.grad(lambda x, y: x, argnums=2)(1.0, 2.0),
            ValueError,
            "argnums=2 is out of range: f was called with 2 positional arguments",
        ),
        (
            lambda: cr.value_and_grad(lambda x: x, argnums=-2)(1.0),
            ValueError,
            "f was called with 1 positional argument ",
        ),
        (lambda: cr.grad(lambda x: x, argnums=(0, 0))(1.0), ValueError, "twice"),
        (lambda: cr.grad(lambda x: x, argnums=1.0), TypeError, "argnums must be an int"),
        (
            lambda: cr.grad(lambda x: x * 2, has_aux=True)(1.0),
            TypeError,
            r"has_aux=True needs f to return a pair \(output, aux\)",
        ),
        (
            lambda: cr.grad(lambda x: (x, 1, 2), has_aux=True)(1.0),
            TypeError,
            "got a tuple of 3",
        ),
        (
            lambda: cr.jacobian(lambda x: x, mode="backward"),
            ValueError,
            "mode must be 'reverse' or 'forward', got 'backward'",
        ),
        (lambda: cr.grad(lambda x: "text")(1.0), TypeError, "f must return Tensors"),
        (
            lambda: cr.jvp(lambda x: x, (1.0,), (np.ones(2),)),
            ValueError,
            r"tangents\[0\] has shape \(2,\), expected \(\)",
        ),
        (lambda: cr.jvp(lambda x: x, 1.0, 1.0), TypeError, "primals must be a tuple"),
        (lambda: cr.jvp(lambda x: x, (1.0,), (1.0, 2.0)), ValueError, "1 primals but 2"),
        (
            lambda: cr.vjp(lambda x: x * 2, np.ones(2))[1](np.ones(3)),
            ValueError,
            r"the cotangent has shape \(3,\), expected \(2,\)",
        ),
        (
            lambda: cr.vjp(lambda x: [x, x], np.ones(2))[1](np.ones(2)),
            ValueError,
            "the cotangent has structure",
        ),
        (lambda: cr.derivative(lambda x: x, n=-1), ValueError, "n must be an int >= 0"),
        (lambda: cr.derivative(lambda x: x, n=1.5), ValueError, "n must be an int >= 0"),
        (
            lambda: cr.derivative(lambda x: x)(np.ones(2)),
            ValueError,
            r"x must be one number, got shape \(2,\)",
        ),
        (
            lambda: cr.hvp(lambda x: x, np.ones(2), np.ones(2)),
            TypeError,
            r"hvp: f must return a scalar",
        ),
    ],
)
def test_errors_say_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- against torch.func ----------------------------------------------------------------------------


def torch_tensors(*arrays):
    import torch

    return [torch.tensor(a, dtype=torch.float64) for a in arrays]


def softish(x, w):
    """Written with methods and operators torch shares."""
    h = (x @ w).tanh()
    return (h.exp() * h).sum() + (x[0] * w[1, 1]).sin() * x.sum()


@needs_torch
def test_grad_jacobians_and_hessian_match_torch_func():
    import torch.func as tf

    x, w = draw((3,), salt=30), draw((3, 2), salt=31)
    tx, tw = torch_tensors(x, w)
    gx, gw = cr.grad(softish, argnums=(0, 1))(x, w)
    ex, ew = tf.grad(softish, argnums=(0, 1))(tx, tw)
    np.testing.assert_allclose(gx, ex.numpy(), **EXACT)
    np.testing.assert_allclose(gw, ew.numpy(), **EXACT)

    def vector(x, w):
        return (x @ w).tanh() * x[:2]

    for ours, theirs in ((cr.jacrev, tf.jacrev), (cr.jacfwd, tf.jacfwd)):
        jx, jw = ours(vector, argnums=(0, 1))(x, w)
        ex, ew = theirs(vector, argnums=(0, 1))(tx, tw)
        np.testing.assert_allclose(jx, ex.numpy(), **EXACT)
        np.testing.assert_allclose(jw, ew.numpy(), **EXACT)
    (hxx, hxw), (hwx, hww) = cr.hessian(softish, argnums=(0, 1))(x, w)
    (exx, exw), (ewx, eww) = tf.hessian(softish, argnums=(0, 1))(tx, tw)
    for ours, theirs in ((hxx, exx), (hxw, exw), (hwx, ewx), (hww, eww)):
        np.testing.assert_allclose(ours, theirs.numpy(), **EXACT)


@needs_torch
def test_jvp_vjp_and_hvp_match_torch():
    import torch
    import torch.func as tf

    x, w = draw((3,), salt=32), draw((3, 2), salt=33)
    vx, vw = rng(34).standard_normal(3), rng(35).standard_normal((3, 2))
    tx, tw, tvx, tvw = torch_tensors(x, w, vx, vw)
    out, tangent = cr.jvp(softish, (x, w), (vx, vw))
    e_out, e_tangent = tf.jvp(softish, (tx, tw), (tvx, tvw))
    np.testing.assert_allclose(out, e_out.item(), **EXACT)
    np.testing.assert_allclose(tangent, e_tangent.item(), **EXACT)

    def vector(x, w):
        return (x @ w).sin() * w[0]

    u = rng(36).standard_normal(2)
    _, vjp_fn = cr.vjp(vector, x, w)
    _, torch_vjp_fn = tf.vjp(vector, tx, tw)
    for ours, theirs in zip(vjp_fn(u), torch_vjp_fn(*torch_tensors(u))):
        np.testing.assert_allclose(ours, theirs.numpy(), **EXACT)

    def f(x):
        return softish(x, cr.tensor(w)) if isinstance(x, cr.Tensor) else softish(x, tw)

    _, expected = torch.autograd.functional.hvp(f, tx, tvx)
    np.testing.assert_allclose(cr.hvp(f, x, vx), expected.numpy(), **EXACT)


@needs_torch
def test_hessian_of_a_function_that_calls_grad_matches_torch():
    import torch.func as tf

    def g(x):
        return (x.sin() * x[0]).sum() + (x**3).sum()

    def make_f(grad):
        return lambda x: (grad(g)(x) ** 2).sum()

    x = draw((3,), salt=37)
    (tx,) = torch_tensors(x)
    np.testing.assert_allclose(
        cr.hessian(make_f(cr.grad))(x), tf.hessian(make_f(tf.grad))(tx).numpy(), **EXACT
    )
    d3 = cr.jacobian(cr.hessian(g))(x)
    np.testing.assert_allclose(d3, tf.jacfwd(tf.hessian(g))(tx).numpy(), **EXACT)


@needs_torch
def test_tanh_derivatives_to_fifth_order_match_torch():
    import torch.func as tf

    (x,) = torch_tensors(0.6)
    f, expected = (lambda x: x.tanh()), (lambda x: x.tanh())
    for n in range(1, 6):
        expected = tf.grad(expected)
        np.testing.assert_allclose(cr.derivative(f, n)(0.6), expected(x).item(), **EXACT)


# -- autograd.grad, which the transforms build on --------------------------------------------------


def test_autograd_grad_writes_no_leaf_grad_and_stops_at_its_inputs():
    x = cr.tensor(2.0, requires_grad=True)
    w = cr.tensor(3.0, requires_grad=True)
    y = x * 2  # an intermediate
    (g,) = cr.autograd.grad(y * y * w, [y])
    assert float(g) == 2 * 4.0 * 3.0
    assert x.grad is None and w.grad is None
    # the part of the graph behind y was not walked, so not freed either
    (y * 5).backward()
    assert float(x.grad) == 10.0


# -- the forward.jvp interface (any kernel behind it must pass these) ------------------------------


def test_forward_jvp_interface():
    x = cr.tensor(draw((2, 3)))
    w = cr.tensor(draw((3,), salt=1))
    v = rng(40).standard_normal((2, 3))

    def fun(x, w):
        return [(x * w).sin(), (x**2).sum(), cr.tensor(np.arange(3))]

    outputs, tangents = forward.jvp(fun, (x, w), (v, np.zeros(3)))
    assert len(outputs) == len(tangents) == 3
    assert all(isinstance(t, cr.Tensor) for t in outputs + tangents)
    np.testing.assert_allclose(tangents[0].numpy(), (v * w.numpy()) * np.cos(x.numpy() * w.numpy()))
    np.testing.assert_allclose(float(tangents[1]), (2 * x.numpy() * v).sum())
    assert tangents[2].shape == (3,)
    np.testing.assert_array_equal(tangents[2].numpy(), 0)
    # on a Tensor that requires grad, the tangent is differentiable (reverse over forward)
    s = cr.tensor(np.array(0.7), requires_grad=True)
    _, (t,) = forward.jvp(lambda s: [s.sin() * s], (s,), (np.array(1.0),))
    t.backward()  # d/ds (cos(s) s + sin(s)) = 2 cos(s) - s sin(s)
    np.testing.assert_allclose(float(s.grad), 2 * math.cos(0.7) - 0.7 * math.sin(0.7), **EXACT)


def test_hessian_equals_both_compositions_of_jacobians():
    # hessian is reverse over reverse; forward over reverse must give the same matrix
    def f(p):
        return (p["w"] @ p["x"]).tanh().sum() + (p["x"] ** 3).sum() * p["w"][0, 1]

    point = {
        "w": np.random.default_rng(5).standard_normal((2, 3)),
        "x": np.random.default_rng(6).standard_normal(3),
    }
    h = cr.hessian(f)(point)
    forward_over_reverse = cr.jacfwd(cr.jacrev(f))(point)
    for a in point:
        for b in point:
            assert h[a][b].shape == point[a].shape + point[b].shape
            np.testing.assert_allclose(h[a][b], forward_over_reverse[a][b], rtol=1e-10, atol=1e-12)
