"""cr.optim.Newton: exact on quadratics, its Hessian against finite differences and PyTorch,
damping, the singular fallback, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch

rng = np.random.default_rng(31)


def spd(n):
    """A random symmetric positive definite matrix, not close to the identity."""
    m = rng.standard_normal((n, n))
    return m @ m.T + 0.5 * np.eye(n)


def test_one_step_lands_on_the_minimum_of_a_quadratic():
    # f(p) = 1/2 p^T A p - b^T p over p = (W flattened, v): the minimum is A^-1 b
    A, b = spd(7), rng.standard_normal(7)  # noqa: N806
    W = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)  # noqa: N806
    v = cr.tensor(rng.standard_normal(3), requires_grad=True)
    a_t, b_t = cr.tensor(A), cr.tensor(b)

    def loss():
        p = cr.concatenate([W.reshape(-1), v])
        return 0.5 * (p * (a_t @ p)).sum() - (b_t * p).sum()

    opt = cr.optim.Newton([W, v], lr=1.0, damping=0.0)
    opt.step(loss)
    minimum = np.linalg.solve(A, b)
    np.testing.assert_allclose(W.data.ravel(), minimum[:4], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v.data, minimum[4:], rtol=1e-10, atol=1e-12)
    assert opt.state[W]["step"] == 1


def numerical_hessian(f, p, h=1e-5):
    """Central differences of the analytic gradient of f (a function of one flat Tensor)."""

    def gradient(values):
        x = cr.tensor(values, requires_grad=True)
        f(x).backward()
        return x.grad.data

    n = p.size
    hessian = np.empty((n, n))
    for j in range(n):
        step = np.zeros(n)
        step[j] = h
        hessian[:, j] = (gradient(p + step) - gradient(p - step)) / (2 * h)
    return hessian


def rosenbrock_like(x):
    """Non-quadratic, coupled, with a non-constant Hessian."""
    head, tail = x[:-1], x[1:]
    return (10 * (tail - head**2) ** 2 + (1 - head) ** 2).sum() + (x * 0.3).exp().sum()


def test_a_step_on_a_non_quadratic_uses_the_hessian_of_finite_differences():
    start = rng.uniform(-1.0, 1.0, size=5)
    lr, damping = 0.7, 0.3
    x = cr.tensor(start.copy(), requires_grad=True)
    cr.optim.Newton([x], lr=lr, damping=damping).step(lambda: rosenbrock_like(x))

    probe = cr.tensor(start.copy(), requires_grad=True)
    rosenbrock_like(probe).backward()
    hessian = numerical_hessian(rosenbrock_like, start)
    expected = start - lr * np.linalg.solve(hessian + damping * np.eye(5), probe.grad.data)
    np.testing.assert_allclose(x.data, expected, rtol=1e-6)


@needs_torch
def test_a_step_over_two_groups_matches_a_step_from_pytorchs_hessian():
    import torch

    W0, v0 = rng.standard_normal((2, 3)), rng.standard_normal(2)  # noqa: N806
    data = rng.standard_normal((4, 2))

    def loss_of(W, v, x):  # noqa: N803
        return ((x @ W).tanh() ** 2).sum() + ((W * W).sum() - 1) ** 2 + (v * (x @ W)[:, :2]).sum()

    W = cr.tensor(W0.copy(), requires_grad=True)  # noqa: N806
    v = cr.tensor(v0.copy(), requires_grad=True)
    groups = [{"params": [W], "lr": 0.5, "damping": 2.0}, {"params": [v], "damping": 3.0}]
    opt = cr.optim.Newton(groups, lr=0.8)
    loss = opt.step(lambda: loss_of(W, v, cr.tensor(data)))

    def flat_loss(p):
        return loss_of(p[:6].reshape(2, 3), p[6:], torch.tensor(data))

    p0 = torch.tensor(np.concatenate([W0.ravel(), v0]))
    hessian = torch.autograd.functional.hessian(flat_loss, p0).numpy()
    g = torch.autograd.functional.jacobian(flat_loss, p0).numpy()
    damping = np.diag([2.0] * 6 + [3.0] * 2)
    delta = np.linalg.solve(hessian + damping, g)
    assert float(loss) == pytest.approx(float(flat_loss(p0)), rel=1e-12)
    np.testing.assert_allclose(W.data.ravel(), W0.ravel() - 0.5 * delta[:6], rtol=1e-10)
    np.testing.assert_allclose(v.data, v0 - 0.8 * delta[6:], rtol=1e-10)


def test_a_singular_hessian_takes_the_smallest_least_squares_step():
    # f = (x0 + x1)^2 is flat along x0 - x1: H = [[2, 2], [2, 2]] has no inverse
    x = cr.tensor(np.array([0.9, -0.2]), requires_grad=True)
    along_the_valley = float(x.data[0] - x.data[1])
    cr.optim.Newton([x]).step(lambda: (x.sum()) ** 2)
    assert np.all(np.isfinite(x.data))
    assert float(x.data.sum()) == pytest.approx(0.0, abs=1e-12)  # lands in the valley
    assert float(x.data[0] - x.data[1]) == pytest.approx(along_the_valley)  # not moved along it


def test_a_parameter_the_loss_does_not_reach_stays_put():
    x = cr.tensor(np.array([2.0, -1.0]), requires_grad=True)
    idle = cr.tensor([5.0], requires_grad=True)
    cr.optim.Newton([x, idle], damping=1e-3).step(lambda: ((x - 1.0) ** 4).sum())
    assert idle.data[0] == 5.0
    # x - 1 -> (x - 1) * (1 - 1/3) for a quartic (damping aside)
    np.testing.assert_allclose(x.data - 1.0, np.array([1.0, -2.0]) * 2 / 3, rtol=1e-3)


def test_newton_errors_are_clear():
    x = cr.tensor(rng.standard_normal(3), requires_grad=True)
    opt = cr.optim.Newton([x])
    with pytest.raises(ValueError, match="needs a closure that returns the loss"):
        opt.step()
    with pytest.raises(ValueError, match="one-element Tensor, got Tensor"):
        opt.step(lambda: x * 2)
    with pytest.raises(ValueError, match="does not depend on any parameter"):
        opt.step(lambda: (x.detach() ** 2).sum())
    with pytest.raises(ValueError, match=r"full 12 x 12 Hessian.*max_params=10"):
        cr.optim.Newton([x, cr.zeros(9, requires_grad=True)], max_params=10)
    opt = cr.optim.Newton([x], max_params=5)
    opt.add_param_group({"params": [cr.zeros(4, requires_grad=True)]})
    with pytest.raises(ValueError, match="max_params=5"):
        opt.step(lambda: (x**2).sum())
