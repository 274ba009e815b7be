"""The Tensor's surface: creation, dtypes, conversions, seeding, and how it mixes with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def default_dtype():
    yield
    cr.set_default_dtype(np.float32)


def test_python_numbers_and_lists_take_the_default_dtype():
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([[1.0, 2.0]]).dtype == np.float32
    cr.set_default_dtype(np.float64)
    assert cr.tensor([1.0]).dtype == np.float64
    assert cr.zeros(2).dtype == np.float64 and cr.randn(2).dtype == np.float64


def test_int_and_bool_lists_give_int64_and_bool_as_in_pytorch():
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True, False]).dtype == np.bool_


def test_an_ndarray_keeps_its_dtype():
    for dtype in (np.float16, np.float32, np.float64, np.int32):
        assert cr.tensor(np.zeros(2, dtype)).dtype == dtype


def test_tensor_copies_its_data():
    data = np.ones(3)
    t = cr.tensor(data)
    data[0] = 5
    assert t.data[0] == 1.0


def test_bad_data_is_refused_by_name():
    with pytest.raises(TypeError, match="cannot make a tensor from str"):
        cr.tensor("abc")
    with pytest.raises(TypeError, match="complex"):
        cr.tensor([1j])


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: cr.zeros(2, 3), (2, 3)),
        (lambda: cr.zeros((2, 3)), (2, 3)),
        (lambda: cr.ones(4), (4,)),
        (lambda: cr.full((2, 2), 7.0), (2, 2)),
        (lambda: cr.empty(3, 1), (3, 1)),
        (lambda: cr.eye(3), (3, 3)),
        (lambda: cr.linspace(0, 1, 5), (5,)),
        (lambda: cr.arange(6), (6,)),
        (lambda: cr.rand(2, 5), (2, 5)),
        (lambda: cr.randn(3), (3,)),
        (lambda: cr.zeros_like(np.ones((4, 2))), (4, 2)),
        (lambda: cr.ones_like(cr.zeros(1, 2)), (1, 2)),
    ],
)
def test_creation_functions_make_their_shapes(make, shape):
    assert make().shape == shape


def test_creation_values():
    assert cr.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert cr.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert cr.arange(1, 7, 2).tolist() == [1, 3, 5] and cr.arange(3).dtype == np.int64
    assert cr.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    r = cr.rand(1000).data
    assert r.min() >= 0 and r.max() < 1


def test_manual_seed_and_generators_make_random_tensors_reproducible():
    cr.manual_seed(3)
    a = cr.randn(4).data
    cr.manual_seed(3)
    assert np.array_equal(cr.randn(4).data, a)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(cr.rand(3, generator=g1).data, cr.rand(3, generator=g2).data)


def test_conversions_and_attributes():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(t.data, np.ndarray) and t.numpy() is t.data
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 2), 2, 4, np.float32)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert cr.tensor([2.5]).item() == 2.5
    assert len(t) == 2
    assert [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert t.T.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    with pytest.raises(ValueError, match=r"one element.*\(2, 2\)"):
        t.item()


def test_repr_is_readable():
    assert repr(cr.tensor([1.0, 2.5])) == "tensor([1.0, 2.5])"
    assert repr(cr.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = cr.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], op=multiply)"
    assert "dtype=float64" in repr(cr.tensor(np.ones(2)))


def test_an_ndarray_on_either_side_gives_a_tensor():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    for result in (np.ones(2) * t, t * np.ones(2), np.float64(2.0) + t, np.ones(2) @ t):
        assert isinstance(result, cr.Tensor) and result.requires_grad


def test_comparisons_give_boolean_tensors_outside_the_graph():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    mask = t > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert mask.tolist() == [False, True]


def test_detach_shares_data_and_leaves_the_graph():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    d = (t * 2).detach()
    assert not d.requires_grad and d.is_leaf
    base = t.detach()
    base.data[0] = 9.0
    assert t.data[0] == 9.0


def test_in_place_assignment_points_to_the_functional_update():
    t = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"x\.at\[index\]\.set"):
        t[0] = 5.0


def test_bool_of_a_tensor():
    assert bool(cr.tensor([1.0])) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.tensor([1.0, 2.0]))


def test_in_place_updates_work_on_leaves_inside_no_grad():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    v = cr.tensor([0.5, 0.5])
    with cr.no_grad():
        v.mul_(2).add_(cr.tensor([1.0, 1.0]), alpha=3)
        p.sub_(v, alpha=0.5)
    assert v.tolist() == [4.0, 4.0] and p.tolist() == [-1.0, 0.0]
    p.grad = None
    (p * p).sum().backward()  # still a leaf that requires grad
    assert p.grad.tolist() == [-2.0, 0.0]


def test_in_place_updates_that_would_corrupt_gradients_are_refused():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only inside cr\.no_grad"):
        p.add_(1.0)
    y = p * 2
    with pytest.raises(RuntimeError, match="computed in a graph"), cr.no_grad():
        y.mul_(3)


def test_grad_mode_belongs_to_each_thread():
    # a thread under no_grad (a server's request, say) must not stop another thread recording
    import threading

    inside, outside, recorded = threading.Event(), threading.Event(), {}

    def other_thread():
        recorded["starts_on"] = cr.is_grad_enabled()
        with cr.no_grad():
            inside.set()
            outside.wait(timeout=10)
            recorded["off_in_thread"] = not cr.is_grad_enabled()

    worker = threading.Thread(target=other_thread)
    with cr.no_grad():  # this thread's mode does not leak into a new thread either
        worker.start()
        inside.wait(timeout=10)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # recorded here while the other thread is under no_grad
    outside.set()
    worker.join()
    y.backward()
    assert recorded == {"starts_on": True, "off_in_thread": True}
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
