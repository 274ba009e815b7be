"""User-defined primitives (cr.Function): recorded like built-in ops, checked by gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.tensor_cases import draw


class Cube(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class WrongCube(Cube):
    """A classic slip: the power rule without the exponent's factor."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x**2


class ScaledProduct(cr.Function):
    """scale * x * y with y broadcast against x, and a plain-number argument."""

    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return scale * x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        # of the output's shape: the engine sums the broadcast axes away for y
        return g * ctx.scale * y, g * ctx.scale * x, None


class SmoothCube(Cube):
    differentiable_backward = True


def test_gradient_matches_finite_differences():
    x = draw((3, 4), salt=1)
    assert cr.gradcheck(lambda t: Cube.apply(t), x)
    assert np.allclose(Cube.apply(cr.tensor(x)).data, x**3)


def test_gradient_reaches_leaves_through_other_ops():
    x_values = draw((5,), salt=2)
    upstream = draw((5,), salt=3)
    x = cr.tensor(x_values, requires_grad=True)
    (Cube.apply(x.tanh()) * upstream).sum().backward()
    expected = upstream * 3 * np.tanh(x_values) ** 2 * (1 - np.tanh(x_values) ** 2)
    assert np.allclose(x.grad.data, expected)


def test_broadcast_inputs_and_plain_number_arguments():
    x, y = draw((3, 4), salt=4), draw((4,), salt=5)
    assert cr.gradcheck(lambda a, b: ScaledProduct.apply(a, b, 2.5), x, y)
    b = cr.tensor(y, requires_grad=True)
    ScaledProduct.apply(cr.tensor(x), b, 2.5).sum().backward()
    assert b.grad.shape == (4,)
    assert np.allclose(b.grad.data, 2.5 * x.sum(axis=0))


def test_gradcheck_names_the_entries_a_wrong_backward_gets_wrong():
    x = np.array([0.5, -1.5, 2.0])
    with pytest.raises(cr.GradcheckError) as caught:
        cr.gradcheck(lambda t: WrongCube.apply(t), x)
    message = str(caught.value)
    assert "3 Jacobian entries differ" in message
    # the diagonal entries (i, i) are the wrong ones, with the analytic x**2 beside 3 x**2
    for i, value in enumerate(x):
        assert f"({i}, {i})" in message
        assert f"{value**2:.4g}" in message and f"{3 * value**2:.4g}" in message


def test_needs_input_grad_says_which_inputs_want_a_gradient():
    seen = []

    class Probe(cr.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen.append(ctx.needs_input_grad)
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(cr.tensor([1.0]), cr.tensor([2.0], requires_grad=True))
    Probe.apply(np.array([1.0]), 2.0)
    assert seen == [(False, True), (False, False)]


def test_arrays_in_arrays_out_without_recording():
    out = Cube.apply(np.array([2.0]))
    assert isinstance(out, np.ndarray) and out[0] == 8.0
    with cr.no_grad():
        result = Cube.apply(cr.tensor([2.0], requires_grad=True))
    assert not result.requires_grad


def test_second_derivative_through_a_differentiable_backward():
    x = draw((4,), salt=6)
    assert cr.gradgradcheck(lambda t: SmoothCube.apply(t), x)


def test_second_derivative_through_an_array_backward_is_refused():
    x = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (g,) = cr.autograd.grad(Cube.apply(x).sum(), [x], create_graph=True)
    assert np.allclose(g.data, [3.0, 12.0])  # first derivatives still work
    with pytest.raises(NotImplementedError, match="Cube: a second derivative"):
        cr.autograd.grad(Cube.apply(x).sum(), [x], create_graph=True)[0].sum().backward()


def test_backward_returning_the_wrong_number_of_gradients():
    class Two(cr.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    out = Two.apply(cr.tensor([1.0], requires_grad=True), cr.tensor([2.0]))
    with pytest.raises(ValueError, match="Two.backward returned 1 gradient.* for 2 input"):
        out.sum().backward()


def test_backward_returning_a_gradient_of_the_wrong_shape():
    class Bad(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return np.ones(7)

    out = Bad.apply(cr.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(ValueError, match=r"shape \(7,\) for input 0 of shape \(2,\)"):
        out.sum().backward()


def test_forward_must_return_one_array():
    class Pair(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="Pair.forward must return one ndarray"):
        Pair.apply(cr.tensor([1.0]))
