"""Every reduction: gradients against finite differences (float64), second derivatives, and
values and gradients against PyTorch where it is installed.

Each runs over axis None, an int, a negative int and tuples, with keepdims both ways, on a
(2, 3, 4) input with random distinct values: a gradient summed over the wrong axis, or
spread back along the wrong one, shows. Ties, zeros and logits of +-1000 have tests of
their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch
from tests.tensor_cases import (
    assert_float32_throughout,
    assert_matches_torch,
    assert_same,
    draw,
    grads_of,
)

try:
    import torch
except ImportError:  # the torch variants below are only called by tests marked needs_torch
    torch = None

SHAPE = (2, 3, 4)
AXES = [None, 0, 1, -1, (0, 2), (-1, 0)]


@dataclass(frozen=True)
class Reduction:
    """``fn(x, axis, keepdims)`` on chainrule; ``torch_fn(t, dims, keepdim)`` on torch, where
    dims is axis with None spelt as every axis (not every torch reduction takes None)."""

    name: str
    fn: Callable
    torch_fn: Callable


def _torch_prod(t, dims, keepdim):
    # torch.prod reduces one axis at a time
    dims = dims if isinstance(dims, tuple) else (dims,)
    for d in sorted((d % t.ndim for d in dims), reverse=True):
        t = t.prod(dim=d, keepdim=keepdim)
    return t


def _vector_norm(order):
    def torch_norm(t, dims, keepdim):
        return torch.linalg.vector_norm(t, order, dim=dims, keepdim=keepdim)

    return torch_norm


REDUCTIONS = [
    Reduction(
        "sum",
        lambda x, a, k: x.sum(axis=a, keepdims=k),
        lambda t, d, k: t.sum(dim=d, keepdim=k),
    ),
    Reduction(
        "cr.sum dim keepdim",
        lambda x, a, k: cr.sum(x, dim=a, keepdim=k),
        lambda t, d, k: torch.sum(t, dim=d, keepdim=k),
    ),
    Reduction(
        "mean",
        lambda x, a, k: x.mean(axis=a, keepdims=k),
        lambda t, d, k: t.mean(dim=d, keepdim=k),
    ),
    Reduction(
        "prod",
        lambda x, a, k: x.prod(axis=a, keepdims=k),
        _torch_prod,
    ),
    Reduction(
        "amax",
        lambda x, a, k: x.amax(dim=a, keepdim=k),
        lambda t, d, k: t.amax(dim=d, keepdim=k),
    ),
    Reduction(
        "max",
        lambda x, a, k: cr.max(x, a, k),
        lambda t, d, k: t.amax(dim=d, keepdim=k),
    ),
    Reduction(
        "amin",
        lambda x, a, k: cr.amin(x, axis=a, keepdims=k),
        lambda t, d, k: t.amin(dim=d, keepdim=k),
    ),
    Reduction(
        "min",
        lambda x, a, k: x.min(axis=a, keepdims=k),
        lambda t, d, k: t.amin(dim=d, keepdim=k),
    ),
    Reduction(
        "var",
        lambda x, a, k: x.var(axis=a, keepdims=k),
        lambda t, d, k: t.var(dim=d, keepdim=k, correction=0),
    ),
    Reduction(
        "var ddof=1",
        lambda x, a, k: cr.var(x, a, k, ddof=1),
        lambda t, d, k: t.var(dim=d, keepdim=k, correction=1),
    ),
    Reduction(
        "std correction=1",
        lambda x, a, k: x.std(dim=a, keepdim=k, correction=1),
        lambda t, d, k: t.std(dim=d, keepdim=k, correction=1),
    ),
    Reduction(
        "std unbiased=False",
        lambda x, a, k: x.std(dim=a, keepdim=k, unbiased=False),
        lambda t, d, k: t.std(dim=d, keepdim=k, unbiased=False),
    ),
    Reduction(
        "logsumexp",
        lambda x, a, k: x.logsumexp(axis=a, keepdims=k),
        lambda t, d, k: t.logsumexp(dim=d, keepdim=k),
    ),
    Reduction("norm", lambda x, a, k: x.norm(axis=a, keepdims=k), _vector_norm(2)),
    Reduction("norm ord=1", lambda x, a, k: cr.norm(x, 1, a, k), _vector_norm(1)),
    Reduction(
        "norm ord=inf",
        lambda x, a, k: cr.norm(x, np.inf, dim=a, keepdim=k),
        _vector_norm(float("inf")),
    ),
    Reduction(
        "norm ord=-inf",
        lambda x, a, k: cr.norm(x, -np.inf, a, k),
        _vector_norm(float("-inf")),
    ),
    Reduction("norm ord=3", lambda x, a, k: cr.norm(x, 3, a, k), _vector_norm(3)),
    Reduction("norm ord=0.5", lambda x, a, k: cr.norm(x, 0.5, a, k), _vector_norm(0.5)),
]

GRID = [
    pytest.param(r, axis, keep, id=f"{r.name}-axis={axis}-keep={keep}")
    for r in REDUCTIONS
    for axis in AXES
    for keep in (False, True)
]


def _dims(axis):
    if axis is None:
        return tuple(range(len(SHAPE)))
    return axis


@pytest.mark.parametrize(("reduction", "axis", "keep"), GRID)
def test_reduction_gradcheck(reduction, axis, keep):
    x = draw(SHAPE)
    out = reduction.fn(cr.tensor(x), axis, keep)
    assert out.shape == np.sum(x, axis=axis, keepdims=keep).shape
    assert cr.gradcheck(lambda t: reduction.fn(t, axis, keep), x)


# every row, the piecewise-linear ones (max, min, norms 1 and inf) too: away from ties and
# kinks their second derivative is 0, and the check still runs their rules on Tensors
@pytest.mark.parametrize(("reduction", "axis", "keep"), GRID)
def test_reduction_gradgradcheck(reduction, axis, keep):
    assert cr.gradgradcheck(lambda t: reduction.fn(t, axis, keep), draw(SHAPE))


@needs_torch
@pytest.mark.parametrize(("reduction", "axis", "keep"), GRID)
def test_reduction_matches_torch(reduction, axis, keep):
    assert_matches_torch(
        lambda t: reduction.fn(t, axis, keep),
        [draw(SHAPE)],
        lambda t: reduction.torch_fn(t, _dims(axis), keep),
    )


@pytest.mark.parametrize(
    ("reduction", "axis", "keep"), [p for p in GRID if p.values[1] in (None, -1)]
)
def test_float32_stays_float32(reduction, axis, keep):
    assert_float32_throughout(lambda t: reduction.fn(t, axis, keep), [draw(SHAPE)])


def test_hypothesis_reductions_over_random_shapes_and_axes():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes

    @st.composite
    def shapes_and_axes(draw_from):
        shape = draw_from(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
        axes = draw_from(
            st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % len(shape))
        )
        axis = draw_from(st.sampled_from([None, tuple(axes)] + [a for a in axes]))
        return shape, axis

    rows = [
        r
        for r in REDUCTIONS
        if "ddof=1" not in r.name and "correction=1" not in r.name  # n - 1 = 0 for one element
    ]

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
    @hypothesis.given(
        case=shapes_and_axes(),
        reduction=st.sampled_from(rows),
        keep=st.booleans(),
        salt=st.integers(0, 1000),
    )
    def check(case, reduction, keep, salt):
        shape, axis = case
        x = draw(shape, salt=salt)
        assert cr.gradcheck(lambda t: reduction.fn(t, axis, keep), x)

    check()


# -- the spellings: axis=/dim=, keepdims=/keepdim=, positional, function and method ---------

SPELLINGS = {
    "sum": [
        lambda x: cr.sum(x, 1, True),
        lambda x: cr.sum(x, axis=1, keepdims=True),
        lambda x: cr.sum(x, dim=1, keepdim=True),
        lambda x: x.sum(1, True),
        lambda x: x.sum(dim=1, keepdim=True),
        lambda x: x.sum(axis=[1], keepdims=True),
    ],
    "mean": [
        lambda x: cr.mean(x, (0, 2)),
        lambda x: cr.mean(x, dim=(0, 2)),
        lambda x: x.mean(axis=(2, 0)),
        lambda x: x.mean(dim=[0, -1]),
    ],
    "prod": [
        lambda x: cr.prod(x, -1),
        lambda x: cr.prod(x, dim=2),
        lambda x: x.prod(axis=(2,)),
        lambda x: x.prod(dim=-1),
    ],
    "max": [
        lambda x: cr.max(x, 0, keepdims=True),
        lambda x: cr.amax(x, dim=0, keepdim=True),
        lambda x: x.max(dim=0, keepdim=True),
        lambda x: x.amax(axis=0, keepdims=True),
    ],
    "min": [
        lambda x: cr.min(x, -2),
        lambda x: cr.amin(x, dim=1),
        lambda x: x.min(dim=1),
        lambda x: x.amin(axis=-2),
    ],
    "var": [
        lambda x: cr.var(x, 1, ddof=1),
        lambda x: cr.var(x, dim=1, correction=1),
        lambda x: x.var(dim=1, unbiased=True),
        lambda x: x.var(axis=1, ddof=1),
    ],
    "std": [
        lambda x: cr.std(x, dim=-1, keepdim=True, unbiased=False),
        lambda x: x.std(axis=2, keepdims=True),
        lambda x: x.std(-1, True, correction=0),
    ],
    "norm": [
        lambda x: cr.norm(x, 2, 1),
        lambda x: cr.norm(x, dim=1),
        lambda x: x.norm(axis=1),
        lambda x: x.norm(2.0, dim=-2),
    ],
    "logsumexp": [
        lambda x: cr.logsumexp(x, 2),
        lambda x: cr.logsumexp(x, dim=-1),
        lambda x: x.logsumexp(axis=2),
    ],
    "softmax": [
        lambda x: cr.softmax(x),
        lambda x: cr.softmax(x, -1),
        lambda x: cr.softmax(x, dim=2),
        lambda x: x.softmax(axis=2),
    ],
    "log_softmax": [
        lambda x: cr.log_softmax(x, 0),
        lambda x: cr.log_softmax(x, dim=0),
        lambda x: x.log_softmax(axis=-3),
    ],
    "cumsum": [
        lambda x: cr.cumsum(x, 1),
        lambda x: cr.cumsum(x, dim=1),
        lambda x: x.cumsum(axis=-2),
    ],
}


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_spellings_agree(name):
    first, *others = SPELLINGS[name]
    for other in others:
        assert_same(first, other, [draw(SHAPE)], rtol=1e-15)


# -- ties: max and min share the gradient evenly, like torch.amax/amin -----------------------

TIES = np.array(
    [
        [[1.0, 5.0, 5.0, 2.0], [3.0, 3.0, 0.5, 3.0], [-1.0, -1.0, -1.0, -1.0]],
        [[5.0, 0.0, 5.0, 5.0], [-2.0, 4.0, 4.0, 1.0], [0.5, 0.5, 2.0, -3.0]],
    ]
)


@needs_torch
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keep", [False, True])
def test_ties_share_the_gradient_like_torch(name, axis, keep):
    def fn(x):
        return getattr(cr, name)(x, axis, keep)

    def torch_fn(t):
        return getattr(t, name)(dim=_dims(axis), keepdim=keep)

    assert_matches_torch(fn, [TIES], torch_fn)


def test_ties_share_the_gradient_evenly():
    _, (grad,) = grads_of(lambda x: x.max(), [TIES], upstream=np.array(6.0))
    expected = np.where(TIES == 5.0, 6.0 / 5, 0.0)  # five elements hold the maximum 5
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


# -- var and std: ddof (NumPy), correction and unbiased (PyTorch) ----------------------------

VARIANCE_ARGUMENTS = [
    ({}, 0),
    ({"ddof": 0}, 0),
    ({"ddof": 1}, 1),
    ({"ddof": 2}, 2),
    ({"correction": 0}, 0),
    ({"correction": 1}, 1),
    ({"correction": 2}, 2),
    ({"unbiased": True}, 1),
    ({"unbiased": False}, 0),
]


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(("arguments", "ddof"), VARIANCE_ARGUMENTS, ids=str)
def test_var_std_arguments(name, arguments, ddof):
    x = draw((3, 4))

    def fn(t):
        return getattr(cr, name)(t, 1, **arguments)

    np.testing.assert_allclose(
        fn(cr.tensor(x)).numpy(), getattr(np, name)(x, axis=1, ddof=ddof), rtol=1e-13
    )
    assert cr.gradcheck(fn, x)
    assert cr.gradgradcheck(fn, x)


@needs_torch
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(("arguments", "ddof"), VARIANCE_ARGUMENTS, ids=str)
def test_var_std_match_torch(name, arguments, ddof):
    assert_matches_torch(
        lambda t: getattr(t, name)(dim=(0, 1), **arguments),
        [draw((3, 4))],
        lambda t: getattr(t, name)(dim=(0, 1), correction=ddof),
    )


@needs_torch
@pytest.mark.parametrize("axis", [None, 1], ids=str)
def test_std_of_constant_values_has_gradient_zero_like_torch(axis):
    x = np.array([[2.0, 2.0, 2.0], [1.0, -1.0, 0.5]])  # the first row has std 0
    value, (grad,) = grads_of(lambda t: t.std(dim=axis, correction=0), [x])
    assert np.all(np.isfinite(grad))
    assert_matches_torch(
        lambda t: t.std(dim=axis, correction=0), [x], lambda t: t.std(dim=axis, correction=0)
    )


# -- norms, at zero too ----------------------------------------------------------------------

ORDERS = [1, 2, np.inf, -np.inf, 3, 0.5]


@needs_torch
@pytest.mark.parametrize("order", [1, 2, np.inf, 3], ids=str)
@pytest.mark.parametrize("axis", [None, 1], ids=str)
def test_norm_at_zero_has_gradient_zero(order, axis):
    zeros = np.zeros((2, 3))
    value, (grad,) = grads_of(lambda x: cr.norm(x, order, axis), [zeros])
    np.testing.assert_array_equal(value, np.zeros(np.shape(value)))
    np.testing.assert_array_equal(grad, np.zeros((2, 3)))
    assert_matches_torch(
        lambda x: cr.norm(x, order, axis),
        [zeros],
        lambda t: torch.linalg.vector_norm(t, float(order), dim=axis),
    )


@needs_torch
@pytest.mark.parametrize("order", [1, 2, np.inf, 3], ids=str)
def test_norm_with_some_zeros_matches_torch(order):
    x = np.array([[0.0, 3.0, -4.0], [0.0, 0.0, 0.0]])
    assert_matches_torch(
        lambda t: cr.norm(t, order, 1),
        [x],
        lambda t: torch.linalg.vector_norm(t, float(order), dim=1),
    )


@needs_torch
@pytest.mark.parametrize("order", ORDERS, ids=str)
def test_norm_of_one_number_is_its_size(order):
    x = np.array(-1.7)
    assert_matches_torch(
        lambda t: cr.norm(t, order), [x], lambda t: torch.linalg.vector_norm(t, float(order))
    )


# -- the softmax family: stable at +-1000 ----------------------------------------------------

LOGITS = np.array([[1000.0, -1000.0, 999.5, 0.0], [-1000.0, -999.0, -1000.5, -998.0]])

SOFTMAX_FAMILY = [
    ("logsumexp", lambda x: x.logsumexp(dim=1), None),
    ("logsumexp axis=0", lambda x: x.logsumexp(dim=0, keepdim=True), None),
    ("logsumexp all", lambda x: cr.logsumexp(x), lambda t: t.logsumexp(dim=(0, 1))),
    ("softmax", lambda x: x.softmax(dim=1), None),
    ("softmax axis=0", lambda x: x.softmax(dim=0), None),
    ("log_softmax", lambda x: x.log_softmax(dim=-1), None),
    ("log_softmax axis=0", lambda x: x.log_softmax(dim=0), None),
]


@needs_torch
@pytest.mark.parametrize(
    ("name", "fn", "torch_fn"), SOFTMAX_FAMILY, ids=[n for n, *_ in SOFTMAX_FAMILY]
)
def test_softmax_family_large_logits_match_torch(name, fn, torch_fn):
    value, (grad,) = grads_of(fn, [LOGITS])
    assert np.all(np.isfinite(value))
    assert np.all(np.isfinite(grad))
    assert_matches_torch(fn, [LOGITS], torch_fn)


@pytest.mark.parametrize(
    ("name", "fn", "torch_fn"), SOFTMAX_FAMILY, ids=[n for n, *_ in SOFTMAX_FAMILY]
)
def test_softmax_family_large_logits_gradcheck(name, fn, torch_fn):
    # with logits of +-1000 the finite differences' step is 1000 times larger: a looser atol
    assert cr.gradcheck(fn, LOGITS, atol=1e-4)


@pytest.mark.parametrize(
    ("name", "fn", "torch_fn"), SOFTMAX_FAMILY, ids=[n for n, *_ in SOFTMAX_FAMILY]
)
def test_softmax_family_gradcheck(name, fn, torch_fn):
    x = draw((3, 4))
    assert cr.gradcheck(fn, x)
    assert cr.gradgradcheck(fn, x)


@needs_torch
@pytest.mark.parametrize(
    ("name", "fn", "torch_fn"), SOFTMAX_FAMILY, ids=[n for n, *_ in SOFTMAX_FAMILY]
)
def test_softmax_family_matches_torch(name, fn, torch_fn):
    assert_matches_torch(fn, [draw((3, 4))], torch_fn)


def test_softmax_rows_sum_to_one():
    out = cr.softmax(cr.tensor(LOGITS), dim=1).numpy()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-15)


# -- cumsum and prod -------------------------------------------------------------------------

CUMSUM = [
    ("axis=0", lambda x: x.cumsum(axis=0), lambda t: t.cumsum(dim=0)),
    ("axis=1", lambda x: x.cumsum(axis=1), lambda t: t.cumsum(dim=1)),
    ("dim=-1", lambda x: x.cumsum(dim=-1), lambda t: t.cumsum(dim=-1)),
    ("axis=None", lambda x: cr.cumsum(x), lambda t: t.flatten().cumsum(dim=0)),
]


@pytest.mark.parametrize(("name", "fn", "torch_fn"), CUMSUM, ids=[n for n, *_ in CUMSUM])
def test_cumsum_gradcheck(name, fn, torch_fn):
    x = draw(SHAPE)
    assert cr.gradcheck(fn, x)
    assert cr.gradgradcheck(lambda t: fn(t) ** 2, x)


@needs_torch
@pytest.mark.parametrize(("name", "fn", "torch_fn"), CUMSUM, ids=[n for n, *_ in CUMSUM])
def test_cumsum_matches_torch(name, fn, torch_fn):
    assert_matches_torch(fn, [draw(SHAPE)], torch_fn)


WITH_ZEROS = {
    "one zero": np.array([[1.5, 0.0, -2.0, 0.7], [0.3, 1.1, -0.8, 2.0], [1.2, -0.6, 0.9, 1.4]]),
    "two zeros in a row": np.array(
        [[0.0, 1.3, 0.0, -0.7], [0.4, 0.0, 1.6, -1.1], [1.2, -0.6, 0.9, 1.4]]
    ),
    "zeros everywhere": np.array(
        [[0.0, 1.3, 0.5, -0.7], [0.4, 0.0, 1.6, -1.1], [1.2, -0.6, 0.9, 0.0]]
    ),
}
PROD_AXES = [None, 0, 1, -1, (0, 1)]


@pytest.mark.parametrize("axis", PROD_AXES, ids=str)
@pytest.mark.parametrize("values", list(WITH_ZEROS.values()), ids=list(WITH_ZEROS))
def test_prod_with_zeros_gradcheck(values, axis):
    assert cr.gradcheck(lambda x: x.prod(axis=axis), values)
    assert cr.gradgradcheck(lambda x: x.prod(axis=axis), values)


@needs_torch
@pytest.mark.parametrize("axis", PROD_AXES, ids=str)
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("values", list(WITH_ZEROS.values()), ids=list(WITH_ZEROS))
def test_prod_with_zeros_matches_torch(values, axis, keep):
    assert_matches_torch(
        lambda x: x.prod(axis=axis, keepdims=keep),
        [values],
        lambda t: _torch_prod(t, _dims2(axis), keep),
    )


def _dims2(axis):
    if axis is None:
        return (0, 1)
    return axis if isinstance(axis, tuple) else (axis,)


# -- not differentiable ----------------------------------------------------------------------

NONDIFFERENTIABLE = [
    ("argmax", lambda x: x.argmax(), lambda a: np.argmax(a)),
    ("argmax dim", lambda x: x.argmax(dim=1), lambda a: np.argmax(a, axis=1)),
    (
        "argmin keepdim",
        lambda x: cr.argmin(x, -1, keepdim=True),
        lambda a: np.argmin(a, -1, keepdims=True),
    ),
    ("any", lambda x: (x > 1).any(dim=0), lambda a: np.any(a > 1, axis=0)),
    ("all", lambda x: cr.all(x > -2), lambda a: np.all(a > -2)),
]


@pytest.mark.parametrize(
    ("name", "fn", "reference"), NONDIFFERENTIABLE, ids=[n for n, *_ in NONDIFFERENTIABLE]
)
def test_nondifferentiable_reductions(name, fn, reference):
    x = draw(SHAPE)
    out = fn(cr.tensor(x, requires_grad=True))
    assert isinstance(out, cr.Tensor)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), reference(x))


@needs_torch
def test_argmax_matches_torch():
    x = draw(SHAPE)
    t = torch.tensor(x)
    for axis in (0, 1, 2):
        np.testing.assert_array_equal(cr.argmax(cr.tensor(x), axis).numpy(), t.argmax(dim=axis))
        np.testing.assert_array_equal(cr.argmin(cr.tensor(x), axis).numpy(), t.argmin(dim=axis))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_equals_numpys_mean_to_the_bit(axis, dtype):
    # cr.mean skips np.mean's Python layer for floats; the result must not change at all
    values = np.random.default_rng(7).standard_normal((5, 7, 3)).astype(dtype) * 1e3
    ours = cr.mean(cr.tensor(values), axis=axis).data
    assert ours.dtype == np.mean(values, axis=axis).dtype
    np.testing.assert_array_equal(ours, np.mean(values, axis=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.longdouble])
def test_the_mean_of_all_elements_equals_numpys_to_the_bit_for_many_sizes(dtype):
    # one number divided by the count: where float32 division and float64 division then
    # rounding could part, on sums that are not round and counts that are not powers of two
    rng = np.random.default_rng(11)
    for size in [1, 3, 7, 10, 99, 1000, 4097, 65537]:
        values = (rng.standard_normal(size) * 10 ** rng.uniform(-3, 3)).astype(dtype)
        ours = cr.mean(cr.tensor(values)).data
        assert ours.dtype == np.mean(values).dtype
        assert ours.tobytes() == np.asarray(np.mean(values)).tobytes(), size


@pytest.mark.parametrize(
    "shape, target", [((), (3, 2)), ((3,), (2, 3)), ((3, 1), (3, 4)), ((2, 1, 3), (4, 2, 5, 3))]
)
def test_broadcast_to_of_an_array_is_numpys_read_only_view(shape, target):
    from chainrule.ops.shape import _broadcast_to

    x = np.arange(float(np.prod(shape))).reshape(shape)
    ours, theirs = _broadcast_to(x, target), np.broadcast_to(x, target)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.strides == theirs.strides and not ours.flags.writeable
    with pytest.raises(ValueError, match="broadcast"):
        _broadcast_to(np.arange(3.0), (2, 4))
