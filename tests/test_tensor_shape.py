"""Every shape op and every kind of index: gradients against finite differences (float64),
second derivatives, and values and gradients against PyTorch where it is installed.

Both conventions where NumPy and PyTorch differ are checked: ``transpose`` with a tuple
permutes (NumPy), with two ints swaps (PyTorch); ``concatenate``/``cat``; ``axis=``/``dim=``.
Inputs have distinct values, so a gradient sent back to the wrong place shows.
"""

from __future__ import annotations

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

X3 = ((2, 3, 4),)
SQUEEZABLE = ((3, 1, 4, 1),)


def _halves(parts):
    """Two pieces of a split used differently, so each one's gradient is its own."""
    first, second = parts
    return first * 2 - second.exp()


SHAPE_OPS = [
    # reshaping
    Case("reshape -1", lambda x: x.reshape(-1), X3),
    Case("reshape tuple", lambda x: x.reshape((4, 6)), X3),
    Case("reshape 4, -1", lambda x: x.reshape(4, -1), X3),
    Case("cr.reshape", lambda x: cr.reshape(x, (6, -1)), X3, torch_fn=lambda t: t.reshape(6, -1)),
    Case("view", lambda x: x.view(3, 8), X3),
    Case("view -1", lambda x: x.view(-1, 2), X3),
    Case("flatten", lambda x: x.flatten(), X3),
    Case("flatten 1", lambda x: x.flatten(1), X3),
    Case("flatten 0 1", lambda x: x.flatten(0, 1), X3),
    Case("flatten 0-d", lambda x: x.flatten(), ((),)),
    # axes
    Case("transpose two ints swap", lambda x: x.transpose(0, 2), X3),
    Case("transpose negative ints", lambda x: x.transpose(-1, 1), X3),
    Case(
        "cr.transpose tuple permutes",
        lambda x: cr.transpose(x, (2, 0, 1)),
        X3,
        torch_fn=lambda t: t.permute(2, 0, 1),
    ),
    Case(
        "transpose tuple method",
        lambda x: x.transpose((1, 2, 0)),
        X3,
        torch_fn=lambda t: t.permute(1, 2, 0),
    ),
    Case(
        "cr.transpose reverses",
        lambda x: cr.transpose(x),
        X3,
        torch_fn=lambda t: t.permute(2, 1, 0),
    ),
    Case("permute", lambda x: x.permute(2, 0, 1), X3),
    Case("permute tuple", lambda x: x.permute((1, 2, 0)), X3),
    Case("permute negative", lambda x: x.permute(-1, 0, -2), X3),
    Case("cr.permute", lambda x: cr.permute(x, 1, 0, 2), X3, torch_fn=lambda t: t.permute(1, 0, 2)),
    Case("T", lambda x: x.T, ((3, 4),)),
    Case("mT", lambda x: x.mT, X3),
    Case("swapaxes", lambda x: x.swapaxes(0, 2), X3),
    Case(
        "cr.swapaxes",
        lambda x: cr.swapaxes(x, -1, 0),
        X3,
        torch_fn=lambda t: torch.swapaxes(t, -1, 0),
    ),
    Case("squeeze", lambda x: x.squeeze(), SQUEEZABLE),
    Case("squeeze dim", lambda x: x.squeeze(dim=1), SQUEEZABLE),
    Case("squeeze -1", lambda x: x.squeeze(-1), SQUEEZABLE),
    # PyTorch leaves an axis that is not of length 1 alone
    Case("squeeze axis of length 3", lambda x: x.squeeze(0), SQUEEZABLE),
    Case("unsqueeze 0", lambda x: x.unsqueeze(0)),
    Case("unsqueeze -1", lambda x: x.unsqueeze(-1)),
    Case("unsqueeze dim=1", lambda x: x.unsqueeze(dim=1)),
    Case("cr.expand_dims", lambda x: cr.expand_dims(x, 1), torch_fn=lambda t: t.unsqueeze(1)),
    # broadcasting
    Case("expand", lambda x: x.expand(2, -1, -1), ((1, 3, 4),)),
    Case("expand new axes", lambda x: x.expand(2, 3, 4), ((3, 1),)),
    Case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), ((4,),)),
    Case(
        "cr.broadcast_to",
        lambda x: cr.broadcast_to(x, 2, 3, 4),
        ((3, 1),),
        torch_fn=lambda t: torch.broadcast_to(t, (2, 3, 4)),
    ),
    # joining
    Case(
        "cat",
        lambda x, y, z: cr.cat([x, y, z]),
        ((1, 4), (3, 4), (2, 4)),
        torch_fn=lambda x, y, z: torch.cat([x, y, z]),
    ),
    Case(
        "cat dim=1",
        lambda x, y: cr.cat([x, y], dim=1),
        ((3, 1), (3, 4)),
        torch_fn=lambda x, y: torch.cat([x, y], dim=1),
    ),
    Case(
        "concatenate axis=-1",
        lambda x, y: cr.concatenate((x, y), axis=-1),
        ((2, 3, 1), (2, 3, 2)),
        torch_fn=lambda x, y: torch.cat([x, y], dim=-1),
    ),
    Case(
        "cat with an ndarray",
        lambda x: cr.cat([x, np.linspace(0.0, 1.0, 4)[None]]),
        torch_fn=lambda x: torch.cat([x, torch.linspace(0.0, 1.0, 4, dtype=torch.float64)[None]]),
        keeps_float32=False,
    ),
    Case(
        "cat one tensor thrice",
        lambda x: cr.cat([x, x * 2, x], axis=1),
        torch_fn=lambda x: torch.cat([x, x * 2, x], dim=1),
    ),
    Case(
        "stack",
        lambda x, y: cr.stack([x, y]),
        ((3, 4), (3, 4)),
        torch_fn=lambda x, y: torch.stack([x, y]),
    ),
    Case(
        "stack axis=-1",
        lambda x, y: cr.stack([x, y], axis=-1),
        ((3, 4), (3, 4)),
        torch_fn=lambda x, y: torch.stack([x, y], dim=-1),
    ),
    Case(
        "stack dim=1",
        lambda x, y, z: cr.stack([x, y, z], dim=1),
        ((2, 4), (2, 4), (2, 4)),
        torch_fn=lambda x, y, z: torch.stack([x, y, z], dim=1),
    ),
    # splitting (each row keeps one piece, or uses both differently)
    Case("split int, first", lambda x: x.split(3, dim=1)[0], ((3, 5),)),
    Case("split int, ragged last", lambda x: x.split(3, dim=1)[1], ((3, 5),)),
    Case("split sizes", lambda x: x.split([1, 3], dim=1)[1]),
    Case("split axis 0", lambda x: cr.split(x, 2)[1], torch_fn=lambda t: torch.split(t, 2)[1]),
    Case("split both halves", lambda x: _halves(x.split(2, dim=-1))),
    Case("chunk", lambda x: x.chunk(3, dim=0)[-1], ((5, 2),)),
    Case("chunk both halves", lambda x: _halves(x.chunk(2, dim=1))),
    Case(
        "cr.chunk axis",
        lambda x: _halves(cr.chunk(x, 2, axis=0)),
        ((4, 3),),
        torch_fn=lambda t: _halves(torch.chunk(t, 2, dim=0)),
    ),
    # padding, repeating, flipping
    Case(
        "pad",
        lambda x: cr.pad(x, ((1, 0), (2, 1))),
        torch_fn=lambda t: F.pad(t, (2, 1, 1, 0)),
    ),
    Case(
        "pad one width, a value",
        lambda x: cr.pad(x, 1, value=0.5),
        torch_fn=lambda t: F.pad(t, (1, 1, 1, 1), value=0.5),
    ),
    Case("repeat", lambda x: x.repeat(2, 1, 3), X3),
    Case("repeat more dims", lambda x: x.repeat(2, 2, 1)),
    Case("tile", lambda x: x.tile((2, 1))),
    Case("cr.tile int", lambda x: cr.tile(x, 2), ((2, 3),), torch_fn=lambda t: t.tile((2,))),
    Case("flip 0", lambda x: x.flip(0), X3),
    Case("flip tuple", lambda x: x.flip((0, 2)), X3),
    Case("cr.flip all", lambda x: cr.flip(x), X3, torch_fn=lambda t: t.flip((0, 1, 2))),
]

MASK = draw((3, 4), salt=5) > 0
ROWS = np.array([True, False, True])

INDEXING = [
    Case("x[1]", lambda x: x[1]),
    Case("x[-1]", lambda x: x[-1]),
    Case("x[1, 2]", lambda x: x[1, 2]),
    Case("x[:, 1:3]", lambda x: x[:, 1:3]),
    Case("x[::2]", lambda x: x[::2], X3),
    Case("x[::-1]", lambda x: x[::-1], torch_fn=lambda t: t.flip(0)),
    Case("x[:, ::-2]", lambda x: x[:, ::-2], torch_fn=lambda t: t.flip(1)[:, ::2]),
    Case("x[None]", lambda x: x[None]),
    Case("x[..., 1]", lambda x: x[..., 1], X3),
    Case("x[..., None, ::2]", lambda x: x[..., None, ::2], X3),
    Case("x[1, None, :, -1]", lambda x: x[1, None, :, -1], X3),
    Case("x[[0, 0, 2]] (repeats add up)", lambda x: x[[0, 0, 2]]),
    Case("x[ndarray 2-D]", lambda x: x[np.array([[0, 1], [1, 1]])]),
    Case("x[rows, cols] with repeats", lambda x: x[[0, 2, 2, 0], [3, 0, 0, 3]]),
    Case("x[:, [1, 1, 3]]", lambda x: x[:, [1, 1, 3]]),
    Case("x[..., [3, 0]]", lambda x: x[..., [3, 0]], X3),
    Case(
        "x[int tensor]",
        lambda x: x[cr.tensor([2, 0, 2])],
        torch_fn=lambda t: t[torch.tensor([2, 0, 2])],
    ),
    Case("x[bool mask]", lambda x: x[MASK], torch_fn=lambda t: t[torch.tensor(MASK)]),
    Case("x[bool rows]", lambda x: x[ROWS], torch_fn=lambda t: t[torch.tensor(ROWS)]),
    Case("x[:, bool cols]", lambda x: x[:, np.array([False, True, True, False])]),
    Case("x[x > 0]", lambda x: x[x > 0]),
]


def _torch_index_put(index, accumulate):
    def put(t, v):
        torch_index = tuple(torch.as_tensor(i) for i in index)
        return t.index_put(torch_index, v, accumulate=accumulate)

    return put


def _torch_set(index):
    def set_at(t, v):
        out = t.clone()
        out[index] = v
        return out

    return set_at


PAIRS = (np.array([0, 2, 1]), np.array([3, 0, 3]))
REPEATED_PAIRS = (np.array([0, 2, 0, 1]), np.array([3, 0, 3, 1]))

INDEX_UPDATES = [
    Case("at[1].set", lambda x, v: x.at[1].set(v), ((3, 4), (4,)), torch_fn=_torch_set(1)),
    Case(
        "at[:, 1:3].set broadcast",
        lambda x, v: x.at[:, 1:3].set(v),
        ((3, 4), (2,)),
        torch_fn=_torch_set((slice(None), slice(1, 3))),
    ),
    Case("at[mask].set", lambda x, v: x.at[MASK].set(v), ((3, 4), ()), torch_fn=_torch_set(MASK)),
    Case(
        "at[rows, cols].set",
        lambda x, v: x.at[PAIRS].set(v),
        ((3, 4), (3,)),
        torch_fn=_torch_index_put(PAIRS, False),
    ),
    # repeated places: the last write wins (NumPy), so the earlier values get no gradient;
    # torch leaves the winner undefined, so no comparison
    Case(
        "at[repeats].set, last wins",
        lambda x, v: x.at[[0, 0, 2]].set(v),
        ((3, 4), (3, 4)),
        torch=False,
    ),
    Case(
        "at[rows, cols repeated].set, last wins",
        lambda x, v: x.at[REPEATED_PAIRS].set(v),
        ((3, 4), (4,)),
        torch=False,
    ),
    Case(
        "at[1].set values with a leading 1",
        lambda x, v: x.at[1].set(v),
        ((3, 4), (1, 4)),
        torch_fn=_torch_set(1),
    ),
    Case(
        "at[1].add",
        lambda x, v: x.at[1].add(v),
        ((3, 4), (4,)),
        torch_fn=_torch_index_put((np.array([1]),), True),
    ),
    Case(
        "at[repeats].add accumulates",
        lambda x, v: x.at[[0, 0, 2]].add(v),
        ((3, 4), (3, 4)),
        torch_fn=_torch_index_put((np.array([0, 0, 2]),), True),
    ),
    Case(
        "at[rows, cols repeated].add",
        lambda x, v: x.at[REPEATED_PAIRS].add(v),
        ((3, 4), (4,)),
        torch_fn=_torch_index_put(REPEATED_PAIRS, True),
    ),
    Case(
        "at[mask].add broadcast",
        lambda x, v: x.at[MASK].add(v),
        ((3, 4), ()),
        torch_fn=_torch_index_put((MASK,), True),
    ),
    Case(
        "index_put",
        lambda x, v: cr.index_put(x, PAIRS, v),
        ((3, 4), (3,)),
        torch_fn=_torch_index_put(PAIRS, False),
    ),
    Case(
        "index_put accumulate",
        lambda x, v: cr.index_put(x, REPEATED_PAIRS, v, accumulate=True),
        ((3, 4), (4,)),
        torch_fn=_torch_index_put(REPEATED_PAIRS, True),
    ),
    Case(
        "at[...].set with v computed from x",
        lambda x, v: x.at[0].set(x[2] * v),
        ((3, 4), (4,)),
        torch_fn=lambda t, v: _torch_set(0)(t, t[2] * v),
    ),
]

ALL = SHAPE_OPS + INDEXING + INDEX_UPDATES


@pytest.mark.parametrize("case", ALL, ids=case_ids(ALL))
def test_gradcheck(case):
    assert cr.gradcheck(case.fn, *case.inputs())


@pytest.mark.parametrize("case", ALL, ids=case_ids(ALL))
def test_gradgradcheck(case):
    # the ops are linear: sin on top makes the second derivative run each rule on Tensors
    assert cr.gradgradcheck(lambda *xs: case.fn(*xs).sin(), *case.inputs())


@needs_torch
@pytest.mark.parametrize(
    "case", [c for c in ALL if c.torch], ids=case_ids(c for c in ALL if c.torch)
)
def test_matches_torch(case):
    assert_matches_torch(case.fn, case.inputs(), case.torch_fn)


FLOAT32_ROWS = [case for case in ALL if case.keeps_float32]


@pytest.mark.parametrize("case", FLOAT32_ROWS, ids=case_ids(FLOAT32_ROWS))
def test_float32_stays_float32(case):
    assert_float32_throughout(case.fn, case.inputs())


# -- conventions and spellings ---------------------------------------------------------------


def test_transpose_two_ints_swap_and_a_tuple_permutes():
    x = cr.tensor(draw((2, 3, 4)))
    assert x.transpose(0, 2).shape == (4, 3, 2)  # PyTorch: swap axes 0 and 2
    assert x.transpose((1, 2, 0)).shape == (3, 4, 2)  # NumPy: the new order
    assert cr.transpose(x, (1, 2, 0)).shape == (3, 4, 2)
    assert cr.transpose(x).shape == (4, 3, 2)  # NumPy: all axes reversed
    np.testing.assert_array_equal(x.permute(1, 2, 0).numpy(), np.transpose(x.numpy(), (1, 2, 0)))


SPELLINGS = {
    "concatenate": [
        lambda x, y: cr.concatenate([x, y], 1),
        lambda x, y: cr.concatenate((x, y), axis=1),
        lambda x, y: cr.cat([x, y], dim=1),
        lambda x, y: cr.cat([x, y], -1),
    ],
    "stack": [
        lambda x, y: cr.stack([x, y], 1),
        lambda x, y: cr.stack((x, y), axis=1),
        lambda x, y: cr.stack([x, y], dim=1),
        lambda x, y: cr.stack([x, y], dim=-2),
    ],
    "split": [
        lambda x, y: _halves(cr.split(x + y, 2, 1)),
        lambda x, y: _halves(cr.split(x + y, [2, 2], dim=1)),
        lambda x, y: _halves((x + y).split(2, axis=-1)),
        lambda x, y: _halves(cr.chunk(x + y, 2, dim=1)),
        lambda x, y: _halves((x + y).chunk(2, -1)),
    ],
    "transpose": [
        lambda x, y: cr.transpose(x * y, (1, 0)),
        lambda x, y: (x * y).transpose(0, 1),
        lambda x, y: (x * y).transpose(1, 0),
        lambda x, y: (x * y).permute(1, 0),
        lambda x, y: cr.permute(x * y, (1, 0)),
        lambda x, y: (x * y).T,
        lambda x, y: (x * y).mT,
        lambda x, y: cr.swapaxes(x * y, 0, 1),
    ],
    "reshape": [
        lambda x, y: (x - y).reshape(2, 6),
        lambda x, y: (x - y).reshape((2, 6)),
        lambda x, y: (x - y).reshape([2, -1]),
        lambda x, y: (x - y).view(-1, 6),
        lambda x, y: cr.reshape(x - y, 2, 6),
        lambda x, y: cr.view(x - y, (2, 6)),
        lambda x, y: (x - y).flatten().reshape(2, 6),
    ],
    "unsqueeze": [
        lambda x, y: (x / y).unsqueeze(1),
        lambda x, y: (x / y).unsqueeze(dim=1),
        lambda x, y: (x / y).unsqueeze(-2),
        lambda x, y: cr.expand_dims(x / y, 1),
        lambda x, y: (x / y).expand_dims(axis=1),
        lambda x, y: (x / y)[:, None],
        lambda x, y: (x / y).reshape(3, 1, 4),
    ],
    "repeat": [
        lambda x, y: (x * y).repeat(2, 3),
        lambda x, y: (x * y).repeat((2, 3)),
        lambda x, y: (x * y).tile((2, 3)),
        lambda x, y: cr.tile(x * y, [2, 3]),
        lambda x, y: cr.repeat(x * y, 2, 3),
    ],
}


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_spellings_agree(name):
    first, *others = SPELLINGS[name]
    arrays = [draw((3, 4)), draw((3, 4), "positive", salt=1)]
    for other in others:
        assert_same(first, other, arrays)


def test_gradients_of_repeated_indices_add_up():
    _, (grad,) = grads_of(lambda x: x[[0, 0, 2, 0]], [draw((3, 2))], upstream=np.ones((4, 2)))
    np.testing.assert_array_equal(grad, [[3, 3], [0, 0], [1, 1]])


def test_set_with_repeated_indices_last_write_wins():
    x = draw((3,))
    v = np.array([10.0, 20.0, 30.0])
    out, (x_grad, v_grad) = grads_of(
        lambda x, v: x.at[[1, 1, 1]].set(v), [x, v], upstream=np.array([1.0, 2.0, 3.0])
    )
    np.testing.assert_array_equal(out, [x[0], 30.0, x[2]])
    np.testing.assert_array_equal(x_grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(v_grad, [0.0, 0.0, 2.0])


def test_astype_sends_the_gradient_back_in_the_input_dtype():
    x = cr.tensor(draw((3, 4)), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_index_update_leaves_x_unchanged():
    x = cr.tensor(draw((3, 4)), requires_grad=True)
    before = x.numpy().copy()
    x.at[1].set(0.0)
    x.at[[0, 0]].add(1.0)
    np.testing.assert_array_equal(x.numpy(), before)


def test_hypothesis_basic_indices():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes, basic_indices

    @st.composite
    def shapes_and_indices(draw_from):
        shape = draw_from(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
        return shape, draw_from(basic_indices(shape, allow_newaxis=True))

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
    @hypothesis.given(case=shapes_and_indices())
    def check(case):
        shape, index = case
        x = draw(shape)
        assert cr.gradcheck(lambda t: t[index], x)
        out, (grad,) = grads_of(lambda t: t[index], [x], upstream=np.ones(x[index].shape))
        np.testing.assert_array_equal(out, x[index])
        expected = np.zeros(shape)
        expected[index] += 1.0  # basic indices never repeat a place
        np.testing.assert_array_equal(grad, expected)

    check()


def test_hypothesis_integer_array_indices():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes, integer_array_indices

    @st.composite
    def shapes_and_indices(draw_from):
        shape = draw_from(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
        return shape, draw_from(
            integer_array_indices(shape, result_shape=array_shapes(max_dims=2, max_side=4))
        )

    @hypothesis.settings(max_examples=30, deadline=None, derandomize=True)
    @hypothesis.given(case=shapes_and_indices())
    def check(case):
        shape, index = case
        x = draw(shape)
        assert cr.gradcheck(lambda t: t[index], x)
        upstream = np.arange(1.0, 1.0 + x[index].size).reshape(x[index].shape)
        _, (grad,) = grads_of(lambda t: t[index], [x], upstream=upstream)
        expected = np.zeros(shape)
        np.add.at(expected, index, upstream)  # repeated places add up
        np.testing.assert_allclose(grad, expected, rtol=1e-15)

    check()


def test_hypothesis_permute_then_reshape():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes

    @st.composite
    def shapes_and_orders(draw_from):
        shape = draw_from(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
        return shape, tuple(draw_from(st.permutations(range(len(shape)))))

    @hypothesis.settings(max_examples=30, deadline=None, derandomize=True)
    @hypothesis.given(case=shapes_and_orders())
    def check(case):
        shape, order = case
        x = draw(shape)
        assert cr.gradcheck(lambda t: t.permute(order).reshape(-1)[1:], x)

    check()


# -- errors ----------------------------------------------------------------------------------

ERRORS = [
    ("reshape", lambda x: x.reshape(5, 3), ValueError, r"reshape.*\(3, 4\).*\(5, 3\)"),
    ("permute", lambda x: x.permute(0, 0), ValueError, r"permute.*\(0, 0\)"),
    ("split", lambda x: x.split([1, 2], dim=1), ValueError, r"split.*\[1, 2\].*4"),
    ("stack", lambda x: cr.stack([x, x[:2]]), ValueError, r"stack.*\(2, 4\).*\(3, 4\)"),
    ("cat", lambda x: cr.cat([x, x.T]), ValueError, r"concatenate.*\(3, 4\).*\(4, 3\)"),
    ("expand", lambda x: x.expand(2, 5), ValueError, r"broadcast_to.*\(3, 4\)"),
    ("index", lambda x: x[3], IndexError, r"getitem.*\(3, 4\)"),
    ("setitem", lambda x: x.__setitem__(0, 1.0), TypeError, r"at\[index\]\.set"),
]


@pytest.mark.parametrize(("name", "fn", "error", "message"), ERRORS, ids=[n for n, *_ in ERRORS])
def test_errors_name_the_op_and_the_shapes(name, fn, error, message):
    x = cr.tensor(draw((3, 4)), requires_grad=True)
    with pytest.raises(error, match=message):
        fn(x)
