"""The engine's own arrays: a large gradient that nothing else refers to is added to, and
masked by relu, in place; one that something else holds (a hook, retain_grad, grad(), a
second input of the same op) never is.

The arrays here are large (64 x 96 = 6144 elements) because the engine tracks ownership only
above 4096 elements; every gradient is compared with a spelling that cannot take the in-place
path (relu as ``t * (t > 0)``), to the bit, and with finite differences in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import elementwise
from tests.conftest import needs_torch
from tests.tensor_cases import assert_matches_torch, assert_same

ROWS, WIDTH, OUT = 64, 96, 80  # activations of ROWS x WIDTH: above the ownership threshold


def arrays(salt: int) -> list[np.ndarray]:
    rng = np.random.default_rng(salt)
    return [
        rng.standard_normal((ROWS, WIDTH)),  # x
        rng.standard_normal((WIDTH, WIDTH)) / 10,  # w1
        rng.standard_normal(WIDTH),  # b1
        rng.standard_normal((WIDTH, OUT)) / 10,  # w2
    ]


def masked(t):
    """relu spelled so that no rule can write into the gradient it is given."""
    return t * (t > 0)


def two_layers(relu):
    def f(x, w1, b1, w2):
        return relu(relu(x @ w1 + b1) @ w2)

    return f


def reused_activation(relu):
    def f(x, w1, b1, w2):
        h = x @ w1 + b1
        y = relu(h)
        return (y + h) @ w2 + y @ w2[:, ::-1]  # h and y each reach two ops

    return f


def relu_beside_its_input(relu):
    def f(x, w1, b1, w2):
        h = x @ w1 + b1
        return (relu(h) + h) @ w2  # add's rule gives one array to relu and to h

    return f


BUILDS = [two_layers, reused_activation, relu_beside_its_input]
IDS = ["layers", "reused", "beside"]


@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_relu_gives_to_the_bit_the_gradients_of_the_masked_product(build):
    assert_same(build(cr.relu), build(masked), arrays(1))


@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_relu_gradients_agree_with_finite_differences_along_a_random_direction(build):
    f = build(cr.relu)
    values = arrays(2)
    upstream = np.random.default_rng(3).uniform(-2, 2, (ROWS, OUT))
    leaves = [cr.tensor(v, requires_grad=True) for v in values]
    f(*leaves).backward(gradient=upstream)
    rng = np.random.default_rng(4)
    directions = [rng.standard_normal(v.shape) for v in values]
    h = 1e-6

    def objective(step):
        shifted = [cr.tensor(v + step * d) for v, d in zip(values, directions)]
        return float(np.sum(f(*shifted).numpy() * upstream))

    numeric = (objective(h) - objective(-h)) / (2 * h)
    analytic = sum(float(np.sum(t.grad.numpy() * d)) for t, d in zip(leaves, directions))
    assert analytic == pytest.approx(numeric, rel=1e-6)


@needs_torch
def test_relu_layers_match_pytorch():
    assert_matches_torch(two_layers(cr.relu), arrays(5), two_layers(_torch_relu()))


def _torch_relu():
    import torch

    return torch.relu


def upstream_of_relu_output(w2: np.ndarray) -> np.ndarray:
    """d sum(y @ w2) / dy: every row is w2's row sums."""
    return np.tile(w2.sum(axis=1), (ROWS, 1))


def assert_unmasked(gradient, w2) -> None:
    """The gradient is d sum(y @ w2) / dy everywhere, not zeroed where relu's output is 0
    (up to the order of summation: ones @ w2.T against w2's row sums)."""
    expected = upstream_of_relu_output(w2.numpy())
    np.testing.assert_allclose(gradient.numpy(), expected, rtol=1e-12, atol=1e-14)


def relu_layer(values):
    x, w1, b1, w2 = (cr.tensor(v, requires_grad=True) for v in values)
    y = cr.relu(x @ w1 + b1)
    return x, y, w2


def test_a_hook_keeps_the_gradient_it_was_shown():
    x, y, w2 = relu_layer(arrays(6))
    seen = []
    y.register_hook(seen.append)
    (y @ w2).sum().backward()
    assert_unmasked(seen[0], w2)


def test_retain_grad_keeps_the_gradient_before_the_mask():
    x, y, w2 = relu_layer(arrays(7))
    y.retain_grad()
    (y @ w2).sum().backward()
    assert_unmasked(y.grad, w2)


def test_grad_returns_an_intermediate_gradient_unmasked_and_the_inputs_right():
    values = arrays(8)
    x, y, w2 = relu_layer(values)
    gy, gx = cr.autograd.grad((y @ w2).sum(), [y, x])
    assert_unmasked(gy, w2)
    reference = cr.tensor(values[0], requires_grad=True)
    (masked(reference @ values[1] + values[2]) @ values[3]).sum().backward()
    np.testing.assert_array_equal(gx.numpy(), reference.grad.numpy())


def grants(monkeypatch) -> list[bool]:
    """The ``overwrite`` values relu's rule is called with, recorded."""
    calls: list[bool] = []
    rule = elementwise.relu_vjp

    def recording(g, ans, x, *, overwrite=False):
        calls.append(overwrite)
        return rule(g, ans, x, overwrite=overwrite)

    monkeypatch.setattr(elementwise.relu, "vjp", recording)
    return calls


def test_the_engine_lets_relu_mask_a_gradient_only_it_holds(monkeypatch):
    calls = grants(monkeypatch)
    x, y, w2 = relu_layer(arrays(9))
    (y @ w2).sum().backward()  # the gradient reaching relu is matmul's new array
    assert calls == [True]


def test_no_grant_when_a_hook_saw_the_gradient_or_it_is_small(monkeypatch):
    calls = grants(monkeypatch)
    x, y, w2 = relu_layer(arrays(10))
    y.register_hook(lambda g: None)
    (y @ w2).sum().backward()
    small = cr.tensor(np.ones((2, 3)), requires_grad=True)
    (cr.relu(small @ np.ones((3, 3))) @ np.ones((3, 2))).sum().backward()
    assert calls == [False, False]
