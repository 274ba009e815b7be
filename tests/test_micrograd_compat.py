"""Code written for micrograd's ``Value`` runs unchanged on ``Scalar``.

The two expressions are those of micrograd's own engine tests. Each runs with ``Scalar`` in
place of ``Value`` and its gradients are checked against finite differences (always), against
micrograd itself and against PyTorch (where installed).
"""

from __future__ import annotations

import importlib.util

import pytest

from chainrule import Scalar
from tests.conftest import central_differences, needs_torch, torch_grads

HAS_MICROGRAD = importlib.util.find_spec("micrograd") is not None
needs_micrograd = pytest.mark.skipif(not HAS_MICROGRAD, reason="micrograd is not installed")


def sanity_check(x):
    """micrograd's test_sanity_check expression, as a function of x."""
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops(a, b):
    """micrograd's test_more_ops expression, as a function of a and b (in-place forms included)."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def run(engine, f, *values):
    inputs = [engine(v) for v in values]
    out = f(*inputs)
    out.backward()
    return out.data, [x.grad for x in inputs]


@pytest.mark.parametrize("f, values", [(sanity_check, (-4.0,)), (more_ops, (-4.0, 2.0))])
def test_micrograd_tests_pass_on_scalar_against_finite_differences(f, values):
    _, grads = run(Scalar, f, *values)
    assert grads == pytest.approx(central_differences(f, *values), rel=1e-6)


@needs_micrograd
@pytest.mark.parametrize("f, values", [(sanity_check, (-4.0,)), (more_ops, (-4.0, 2.0))])
def test_scalar_and_micrograd_agree(f, values):
    from micrograd.engine import Value

    value, grads = run(Scalar, f, *values)
    their_value, their_grads = run(Value, f, *values)
    assert value == pytest.approx(their_value, rel=1e-12)
    assert grads == pytest.approx(their_grads, rel=1e-12)


@needs_torch
@pytest.mark.parametrize("f, values", [(sanity_check, (-4.0,)), (more_ops, (-4.0, 2.0))])
def test_scalar_agrees_with_pytorch_on_micrograds_tests(f, values):
    value, grads = run(Scalar, f, *values)
    torch_value, torch_gradients = torch_grads(f, *values)
    assert value == pytest.approx(torch_value, rel=1e-12)
    assert grads == pytest.approx(torch_gradients, rel=1e-12)


def test_micrograd_training_loop_style_works_on_scalar():
    # the idioms of micrograd's nn.py and demo: sum() with a start value, p.grad = 0,
    # p.data -= lr * p.grad
    w = [Scalar(0.5), Scalar(-0.25)]
    b = Scalar(0.0)
    xs = [[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]]
    ys = [1.0, -1.0, 1.0]
    losses = []
    for _ in range(30):
        scores = [sum((wi * xi for wi, xi in zip(w, x)), b) for x in xs]
        loss = sum((s - y) ** 2 for s, y in zip(scores, ys)) * (1.0 / len(ys))
        for p in w + [b]:
            p.grad = 0
        loss.backward()
        for p in w + [b]:
            p.data -= 0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))


@needs_micrograd
def test_w1_benchmark_trains_identically_on_both_engines():
    pytest.importorskip("sklearn")
    from benchmarks import w1_moons_mlp

    pairs = w1_moons_mlp.check(steps=3, tolerance=1e-9)
    assert len(pairs) == 3
    assert pairs[-1][0] < pairs[0][0]  # and the loss went down


@needs_micrograd
def test_w1b_chain_agrees_with_micrograd():
    from benchmarks import w1b_chain

    w1b_chain.check(length=3_000, tolerance=1e-9)
