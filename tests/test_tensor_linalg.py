"""Linear algebra ops: first and second derivatives against finite differences, values and
gradients against PyTorch, and error messages that name the op and the shapes.

Inputs are random and asymmetric (a transposed rule passes on symmetric matrices); the
matrices that are inverted are random + 3 I, far from singular, so finite differences are
accurate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.linalg import matmul_vjp
from tests.conftest import needs_torch


def draw(shape: tuple, kind: str, salt: int) -> np.ndarray:
    """Random float64 values; ``square``: well-conditioned matrices (..., n, n)."""
    rng = np.random.default_rng([7, salt])
    values = rng.standard_normal(shape)
    if kind == "square":
        values = values + 3.0 * np.eye(shape[-1])
    return values


@dataclass(frozen=True)
class Case:
    """One row of the table: ``fn`` on chainrule Tensors, ``torch_fn`` the same on torch's."""

    name: str
    fn: Callable
    shapes: tuple
    torch_fn: Callable | None = None
    square: tuple = ()  # the operands that must be invertible matrices

    def inputs(self) -> list[np.ndarray]:
        return [
            draw(shape, "square" if k in self.square else "any", salt=k)
            for k, shape in enumerate(self.shapes)
        ]


def _matmul_case(x_shape, y_shape) -> Case:
    return Case(
        f"matmul{x_shape}@{y_shape}", lambda x, y: x @ y, (x_shape, y_shape), _torch_op("matmul")
    )


def _einsum_case(subscripts, *shapes, name=None) -> Case:
    return Case(
        name or f"einsum '{subscripts}' {shapes}",
        lambda *xs: cr.einsum(subscripts, *xs),
        shapes,
        lambda *xs: _torch().einsum(subscripts, *xs),
    )


def _torch():
    import torch

    return torch


def _torch_op(path: str) -> Callable:
    def call(*xs):
        target = _torch()
        for part in path.split("."):
            target = getattr(target, part)
        return target(*xs)

    return call


CASES = [
    *(
        _matmul_case(x, y)
        for x, y in [
            ((3,), (3,)),
            ((3,), (3, 4)),
            ((2, 3), (3,)),
            ((2, 3), (3, 4)),
            ((2, 3, 4), (4, 2)),
            ((3, 4), (2, 4, 5)),
            ((2, 3, 4), (2, 4, 5)),
            ((2, 1, 3, 4), (5, 4, 2)),
            ((3,), (2, 3, 4)),
            ((2, 3, 4), (4,)),
        ]
    ),
    Case("dot vectors", cr.dot, ((3,), (3,)), _torch_op("dot")),
    Case("dot matrix vector", cr.dot, ((2, 3), (3,)), _torch_op("mv")),
    Case("dot matrices", cr.dot, ((2, 3), (3, 4)), _torch_op("mm")),
    Case("dot scalar", cr.dot, ((), (2, 3)), _torch_op("mul")),
    Case("outer", cr.outer, ((3,), (4,)), _torch_op("outer")),
    Case("outer flattens", cr.outer, ((2, 2), (3,)), lambda x, y: _torch().outer(x.flatten(), y)),
    Case("Tensor.dot", lambda x, y: x.dot(y), ((4,), (4,)), lambda x, y: x.dot(y)),
    Case("Tensor.outer", lambda x, y: x.outer(y), ((2,), (3,)), lambda x, y: x.outer(y)),
    _einsum_case("ij,jk->ik", (2, 3), (3, 4), name="einsum matmul"),
    _einsum_case("bij,bjk->bik", (2, 2, 3), (2, 3, 4), name="einsum batched matmul"),
    _einsum_case("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2), name="einsum broadcast matmul"),
    _einsum_case("i,j->ij", (3,), (4,), name="einsum outer"),
    _einsum_case("ii->", (3, 3), name="einsum trace"),
    _einsum_case("ii->i", (3, 3), name="einsum diagonal"),
    _einsum_case("ij->ji", (2, 3), name="einsum transpose"),
    _einsum_case("ij->i", (2, 3), name="einsum row sums"),
    _einsum_case("ij->", (2, 3), name="einsum sum"),
    _einsum_case("ij,ij->", (2, 3), (2, 3), name="einsum inner product"),
    _einsum_case("ij,jk,kl->il", (2, 3), (3, 2), (2, 4), name="einsum chain"),
    _einsum_case("ij,jk", (2, 3), (3, 4), name="einsum implicit"),
    _einsum_case("iij->j", (3, 3, 2), name="einsum diagonal with a free axis"),
    _einsum_case("bii->b", (2, 3, 3), name="einsum batched trace"),
    _einsum_case("ab,ab->ab", (2, 1), (1, 3), name="einsum size-1 broadcast"),
    _einsum_case("i...j,j->i...", (2, 3, 4), (4,), name="einsum inner ellipsis"),
    _einsum_case("...i,...i->...", (3, 4), (2, 1, 4), name="einsum ellipsis of unequal rank"),
    Case("inv", cr.inv, ((3, 3),), _torch_op("linalg.inv"), square=(0,)),
    Case("inv batched", cr.inv, ((2, 3, 3),), _torch_op("linalg.inv"), square=(0,)),
    Case("det", cr.det, ((3, 3),), _torch_op("det"), square=(0,)),
    Case("det batched", cr.det, ((2, 3, 3),), _torch_op("det"), square=(0,)),
    Case("det negative", lambda a: cr.det(-a), ((3, 3),), lambda a: _torch().det(-a), (0,)),
    Case(
        "slogdet logabsdet",
        lambda a: cr.slogdet(-a).logabsdet,
        ((3, 3),),
        lambda a: _torch().linalg.slogdet(-a).logabsdet,
        square=(0,),
    ),
    Case(
        "slogdet batched",
        lambda a: cr.slogdet(a)[1],
        ((2, 3, 3),),
        lambda a: _torch().linalg.slogdet(a)[1],
        square=(0,),
    ),
    Case("solve vector", cr.solve, ((3, 3), (3,)), _torch_op("linalg.solve"), square=(0,)),
    Case("solve matrix", cr.solve, ((3, 3), (3, 2)), _torch_op("linalg.solve"), square=(0,)),
    Case("solve batched", cr.solve, ((2, 3, 3), (2, 3, 2)), _torch_op("linalg.solve"), square=(0,)),
    Case("solve batched a, one b", cr.solve, ((2, 3, 3), (3,)), _torch_op("linalg.solve"), (0,)),
    Case(
        "solve broadcast batches",
        cr.solve,
        ((2, 1, 3, 3), (4, 3, 2)),
        _torch_op("linalg.solve"),
        square=(0,),
    ),
]


def ids(cases) -> list[str]:
    return [case.name for case in cases]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_gradcheck(case):
    assert cr.gradcheck(case.fn, *case.inputs())


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_gradgradcheck(case):
    assert cr.gradgradcheck(case.fn, *case.inputs())


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_matches_torch(case):
    torch = _torch()
    arrays = case.inputs()
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(*ours)
    expected = case.torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = np.random.default_rng(99).standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3)])
def test_slogdet_sign_matches_torch(shape):
    torch = _torch()
    a = draw(shape, "square", salt=3)
    a[..., 0, :] *= -1  # a negative determinant, so the sign is not trivially +1
    sign, logabsdet = cr.slogdet(cr.tensor(a, requires_grad=True))
    expected = torch.linalg.slogdet(torch.tensor(a))
    np.testing.assert_array_equal(sign.numpy(), expected.sign.numpy())
    np.testing.assert_allclose(logabsdet.numpy(), expected.logabsdet.numpy(), rtol=1e-12)
    assert not sign.requires_grad and logabsdet.requires_grad


def test_slogdet_avoids_overflow():
    a = np.diag(np.full(3, 1e200))
    sign, logabsdet = cr.slogdet(cr.tensor(a))
    assert float(sign) == 1.0
    assert float(logabsdet) == pytest.approx(3 * 200 * np.log(10))


def test_matmul_skips_unneeded_cotangents():
    # a first layer's data needs no gradient: the rule must not compute it
    x, w = draw((5, 3), "any", 0), draw((3, 2), "any", 1)
    g = np.ones((5, 2))
    x_bar, w_bar = matmul_vjp(g, x @ w, x, w, needs=(False, True))
    assert x_bar is None
    np.testing.assert_allclose(w_bar, x.T @ g)
    x_bar, w_bar = matmul_vjp(g, x @ w, x, w, needs=(True, False))
    assert w_bar is None
    np.testing.assert_allclose(x_bar, g @ w.T)


def test_matmul_data_input_gets_no_grad():
    x = cr.tensor(draw((4, 3), "any", 0))
    w = cr.tensor(draw((3, 2), "any", 1), requires_grad=True)
    (x @ w).sum().backward()
    assert x.grad is None and w.grad is not None


def test_einsum_same_operand_twice():
    a = cr.tensor(draw((2, 3), "any", 0), requires_grad=True)
    cr.einsum("ij,ij->", a, a).backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.numpy())


def test_hessian_of_log_det_is_minus_inverse_products():
    # d^2 log det A / dA dA applied to V: -A^-T V^T A^-T, a second derivative through inv
    a = draw((3, 3), "square", 0)
    v = draw((3, 3), "any", 1)
    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.autograd.grad(cr.slogdet(x).logabsdet, [x], create_graph=True)
    (g * cr.tensor(v)).sum().backward()
    a_inv_t = np.linalg.inv(a).T
    np.testing.assert_allclose(x.grad.numpy(), -a_inv_t @ v.T @ a_inv_t, rtol=1e-10)


ERRORS = [
    (
        "matmul",
        lambda: cr.tensor(np.ones((2, 3))) @ cr.tensor(np.ones((4, 2))),
        ["(2, 3)", "(4, 2)"],
    ),
    (
        "matmul",
        lambda: cr.matmul(cr.tensor(np.ones((2, 2, 3))), np.ones((3, 3, 1))),
        ["(2, 2, 3)", "(3, 3, 1)", "batch"],
    ),
    ("matmul", lambda: cr.matmul(cr.tensor(np.ones(3)), np.ones(4)), ["(3,)", "(4,)"]),
    (
        "dot",
        lambda: cr.dot(cr.tensor(np.ones((2, 2, 3))), np.ones((3, 2))),
        ["(2, 2, 3)", "(3, 2)"],
    ),
    (
        "einsum",
        lambda: cr.einsum("ij,jk->ik", cr.tensor(np.ones((2, 3))), np.ones((4, 2))),
        ["(2, 3)", "(4, 2)"],
    ),
    ("solve", lambda: cr.solve(cr.tensor(np.eye(3)), np.ones(4)), ["(3, 3)", "(4,)"]),
    ("inv", lambda: cr.inv(cr.tensor(np.ones((2, 3)))), ["(2, 3)"]),
    ("inv", lambda: cr.inv(cr.tensor(np.ones((2, 2)))), ["Singular"]),
    ("det", lambda: cr.det(cr.tensor(np.ones((2, 3)))), ["(2, 3)"]),
    ("slogdet", lambda: cr.slogdet(cr.tensor(np.ones((3, 2)))), ["(3, 2)"]),
]


@pytest.mark.parametrize(
    ("op", "call", "words"), ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)]
)
def test_errors_name_op_and_shapes(op, call, words):
    with pytest.raises((ValueError, np.linalg.LinAlgError)) as raised:
        call()
    message = str(raised.value)
    assert message.startswith(op)
    for word in words:
        assert word in message
