"""Backward for Tensors: accumulation, retained and freed graphs, higher derivatives, hooks,
grad modes and anomaly detection."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch

rng = np.random.default_rng(7)


def leaf(*shape):
    return cr.tensor(rng.standard_normal(shape), requires_grad=True)


def test_gradients_accumulate_in_leaves_and_reset_with_none():
    x = leaf(3)
    (x * x).sum().backward()
    first = x.grad.data.copy()
    (x * x).sum().backward()
    assert np.allclose(x.grad.data, 2 * first)
    x.grad = None
    (3 * x).sum().backward()
    assert np.allclose(x.grad.data, 3.0)


def test_a_non_scalar_output_needs_a_gradient():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*pass gradient="):
        (x * 2).backward()


def test_backward_with_a_gradient_of_the_outputs_shape():
    x = leaf(2, 3)
    upstream = rng.standard_normal((2, 3))
    (x * 3).backward(gradient=upstream)
    assert np.allclose(x.grad.data, 3 * upstream)
    x.grad = None
    (x * 3).backward(gradient=cr.tensor(upstream))
    assert np.allclose(x.grad.data, 3 * upstream)


def test_a_gradient_of_the_wrong_shape_is_refused_with_both_shapes():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*output has shape \(2, 3\)"):
        (x * 2).backward(gradient=np.ones(3))


def test_a_second_backward_through_a_freed_graph_says_so():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert np.allclose(x.grad.data, 4 * np.exp(x.data))


def test_saved_inputs_are_freed_after_backward():
    x = leaf(3)
    u = x.exp()
    y = (u * 2).sum()
    y.backward()
    for node in (u._node, y._node):
        assert node.inputs is None and node.ans is None and node.parents == ()


def test_backward_on_a_tensor_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0, 2.0]).sum().backward()


def test_create_graph_gives_second_and_third_derivatives():
    x = cr.tensor(np.array(1.5), requires_grad=True)
    (first,) = cr.autograd.grad(x**4, [x], create_graph=True)
    (second,) = cr.autograd.grad(first, [x], create_graph=True)
    (third,) = cr.autograd.grad(second, [x], create_graph=True)
    assert [float(first), float(second), float(third)] == pytest.approx(
        [4 * 1.5**3, 12 * 1.5**2, 24 * 1.5]
    )


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf(4)
    (x.sin() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    # d/dx [cos(x) x + sin(x)] = 2 cos(x) - x sin(x)
    expected = 2 * np.cos(x.data) - x.data * np.sin(x.data)
    assert np.allclose(x.grad.data, expected)


@needs_torch
def test_hessian_vector_product_matches_pytorch():
    import torch

    a, v = rng.standard_normal(5), rng.standard_normal(5)

    def f(x):
        return (x.tanh() * x * x).sum() + (x * x).sum().log()

    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.autograd.grad(f(x), [x], create_graph=True)
    (hv,) = cr.autograd.grad((g * cr.tensor(v)).sum(), [x])
    tx = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(f(tx), [tx], create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [tx])
    assert np.allclose(hv.data, thv.numpy(), rtol=1e-12, atol=1e-14)


def test_hooks_see_and_may_replace_the_gradient():
    x = leaf(3)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.data.copy()) or g * 10)
    (x * 2).sum().backward()
    assert np.allclose(seen[0], 2.0) and np.allclose(x.grad.data, 20.0)
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert np.allclose(x.grad.data, 2.0) and len(seen) == 1


def test_a_hook_on_an_intermediate_changes_what_flows_on():
    x = leaf(3)
    u = x * 3
    u.register_hook(lambda g: g * 0)
    (u * u).sum().backward()
    assert np.allclose(x.grad.data, 0.0)


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf(3)
    u = x * 3
    u.retain_grad()
    w = x * 5
    (u * u + w).sum().backward()
    assert np.allclose(u.grad.data, 2 * u.data)
    assert w.grad is None  # not retained
    assert u.is_leaf is False and x.is_leaf is True


def test_no_grad_as_context_manager_and_decorator_and_enable_grad_inside():
    x = leaf(2)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad

    @cr.no_grad()
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad
    assert cr.is_grad_enabled()


def test_detect_anomaly_names_the_op_and_the_line_that_made_the_nan():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = x.sqrt() * 0.0  # sqrt's derivative at 0 is inf; times 0 gives nan
        with pytest.raises(cr.AnomalyError, match=r"'sqrt'.*test_tensor_autograd\.py:\d+"):
            y.sum().backward()


def test_without_detect_anomaly_the_nan_just_flows():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0.0).sum().backward()
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 0.0


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad.*int64"):
        cr.tensor([1, 2, 3], requires_grad=True)


def test_gradients_have_the_dtype_of_their_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * np.float64(2.5)).sum().backward()
    assert x.grad.dtype == np.float32


def test_shared_inputs_and_diamonds_add_up():
    x = leaf(3)
    a = x * 2
    b = x.exp()
    (a * b + a).sum().backward()
    expected = 2 * np.exp(x.data) + 2 * x.data * np.exp(x.data) + 2
    assert np.allclose(x.grad.data, expected)


def test_a_leaf_gradient_is_not_a_view_of_another():
    x, y = leaf(3), leaf(3)
    (x + y).sum().backward()  # add's rule hands the same array to both
    x.grad.data[0] = 100.0
    assert y.grad.data[0] == 1.0


def test_backward_uses_the_values_the_forward_saw_when_data_is_rebound():
    # the graph keeps the arrays the forward read: rebinding .data afterwards (not changing it
    # in place) does not change the derivative of what was computed
    x, w = leaf(3), leaf(3)
    seen = w.data.copy()
    y = (x * w).sum()
    w.data = np.zeros(3)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, seen)


def test_tensor_graphs_speak_the_node_protocol():
    x = leaf(2)
    x.label = "x"
    y = (x * 2).tanh().sum()
    order = cr.topological_order(y)
    assert [n.op or n.label for n in order] == ["x", "multiply", "tanh", "sum"]
    assert order[1].parents == (x,)
    assert x.parents == ()


def test_tensors_the_user_drops_are_freed_when_no_rule_needs_them():
    import weakref

    from chainrule.node import KEEP_FOR_DISPLAY_BELOW

    n = KEEP_FOR_DISPLAY_BELOW  # smaller arrays are kept for cr.explain
    x = cr.tensor(np.ones(n, np.float32), requires_grad=True)
    w = cr.tensor(np.full(n, 2.0, np.float32), requires_grad=True)
    product = x * w  # multiply keeps its inputs, not its output
    kept = weakref.ref(product.data)
    total = (product + 1).relu().sum()  # add keeps nothing; relu keeps only its output
    del product
    assert kept() is None
    total.backward()
    assert np.allclose(x.grad.data, 2.0) and np.allclose(w.grad.data, 1.0)


def test_small_values_no_rule_reads_are_kept_for_display_but_hidden_from_rules():
    from chainrule.node import Kept

    x = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    product = x * 3.0  # multiply's rule does not read its output
    node = product._node
    total = (product + 1).sum()  # add's rule reads neither input
    assert type(node.ans) is Kept and np.array_equal(node.data, [3.0, -6.0])
    assert type(total._node.inputs[0]) is Kept
    with pytest.raises(RuntimeError, match="saves="):
        np.asarray(node.ans)  # to a rule, still values it did not declare
    total.backward()
    assert np.array_equal(x.grad.data, [3.0, 3.0])


def test_values_a_rule_needs_are_kept_even_when_the_user_drops_them():
    x = cr.tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = x.exp()  # exp's rule reads its output
    z = (y * 3).sum()
    del y
    z.backward()
    assert np.allclose(x.grad.data, 3 * np.exp(x.data))
