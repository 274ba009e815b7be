"""Backpropagation through Scalar graphs: depth, sharing, accumulation, and the node protocol."""

from __future__ import annotations

import gc
import math
import sys

import pytest

from chainrule import Scalar, topological_order
from chainrule.graph import Node, edges, leaves


def test_a_million_node_chain_backpropagates_without_recursion():
    x = Scalar(1.0)
    v = x
    for _ in range(1_000_000):
        v = v + 1e-6
    assert sys.getrecursionlimit() < 1_000_000  # so recursion could not have done it
    v.backward()
    assert x.grad == 1.0
    assert v.data == pytest.approx(2.0)


def test_a_deep_chain_of_products_has_the_product_of_local_derivatives():
    x = Scalar(0.5)
    v = x
    for _ in range(10_000):
        v = v * 1.0001
    v.backward()
    assert x.grad == pytest.approx(1.0001**10_000, rel=1e-9)


def test_shared_subgraphs_are_visited_once():
    # v doubles 200 times: 2**200 paths from the output to x. Visiting each node once is
    # what makes this finish (and linear); a walk that followed every path never would.
    x = Scalar(1.0)
    v = x
    for _ in range(200):
        v = v + v
    v.backward()
    assert x.grad == 2.0**200
    assert len(topological_order(v)) == 201


def test_topological_order_puts_parents_before_children_and_each_node_once():
    a, b = Scalar(0.3), Scalar(-1.2)
    c = a * b
    d = c.tanh() + a
    e = d * c - b.exp()
    order = topological_order(e)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order) == 8  # a, b, c, tanh, +, *, exp, -
    assert order[-1] is e
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]


def test_leaf_gradients_accumulate_across_backward_calls_like_pytorch():
    x = Scalar(3.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 12.0  # 6 + 6


def test_in_between_gradients_are_those_of_the_latest_backward():
    # micrograd adds into every node, so a second backward() over-counts through in-between
    # nodes; chainrule recomputes them and accumulates only into leaves.
    x = Scalar(2.0)
    u = x * 3
    y = u * u
    y.backward()
    assert (u.grad, x.grad) == (12.0, 36.0)
    y.backward()
    assert (u.grad, x.grad) == (12.0, 72.0)


def test_gradients_of_two_outputs_add_up_in_shared_leaves():
    x = Scalar(2.0)
    (x * x).backward()
    (x * 5).backward()
    assert x.grad == 4.0 + 5.0


def test_backward_with_an_upstream_gradient_scales_everything():
    x = Scalar(2.0)
    y = x**3
    y.backward(0.5)
    assert x.grad == 0.5 * 12.0


def test_zero_grad_clears_the_whole_graph():
    x, w = Scalar(2.0), Scalar(-1.0)
    y = (x * w).tanh()
    y.backward()
    assert x.grad != 0 and w.grad != 0
    y.zero_grad()
    assert [node.grad for node in topological_order(y)] == [0.0] * 4


def test_comparisons_give_plain_bools_and_record_nothing():
    x, y = Scalar(2.0), Scalar(3.0)
    results = [x < y, x <= 2, x > 2.5, y >= 3, x == 2.0, x != y, 1 < x]
    assert results == [True, True, False, True, True, True, True]
    assert all(type(r) is bool for r in results)
    assert x.parents == () and y.parents == ()


def test_scalars_hash_by_identity_so_equal_values_stay_distinct_in_sets():
    a, b = Scalar(1.0), Scalar(1.0)
    assert a == b
    assert len({a, b}) == 2


def test_a_scalar_is_a_graph_node():
    x = Scalar(2.0, label="x")
    y = (x * 3).tanh()
    for node in topological_order(y):
        assert isinstance(node, Node)
    assert y.op == "tanh"
    assert y.parents[0].op == "* 3"
    assert x.op == "" and x.parents == () and x.local_grads() == ()
    t = math.tanh(6.0)
    assert y.local_grads() == (1 - t * t,)
    assert y.vjp(2.0) == (2 * (1 - t * t),)


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda x, y: x + y, "+"),
        (lambda x, y: x - y, "-"),
        (lambda x, y: x * y, "*"),
        (lambda x, y: x / y, "/"),
        (lambda x, y: x**y, "**"),
        (lambda x, y: x + 1, "+ 1"),
        (lambda x, y: 1 + x, "1 +"),
        (lambda x, y: 2 - x, "2 -"),
        (lambda x, y: x / 4, "/ 4"),
        (lambda x, y: 2**x, "2 **"),
        (lambda x, y: x**2, "** 2"),
        (lambda x, y: -x, "neg"),
        (lambda x, y: abs(x), "abs"),
        (lambda x, y: x.relu(), "relu"),
        (lambda x, y: x.sigmoid(), "sigmoid"),
    ],
)
def test_op_names_show_the_operation_and_its_constant(make, op):
    assert make(Scalar(2.0), Scalar(3.0)).op == op


def test_local_derivatives_are_read_by_the_graph_walks():
    x, y = Scalar(2.0, label="x"), Scalar(5.0, label="y")
    z = x * y
    assert [leaf.label for leaf in leaves(z)] == ["x", "y"]
    assert [(p.label, d) for p, _, d in edges(z)] == [("x", 5.0), ("y", 2.0)]


def test_micrograd_internal_names_are_there_for_its_tools():
    x, y = Scalar(2.0), Scalar(5.0)
    z = x * y
    assert z._prev == {x, y}
    assert z._op == "*"


def test_graphs_are_acyclic_in_memory_and_freed_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        x = Scalar(1.0)
        v = x
        for _ in range(1000):
            v = (v * 1.5).tanh()
        v.backward()
        del v
        assert gc.collect() == 0  # nothing was left for the collector: refcounting freed it
    finally:
        gc.enable()


def test_backward_leaves_the_cycle_collector_as_it_found_it():
    x = Scalar(1.0)
    (x * 2).backward()
    assert gc.isenabled()
    gc.disable()
    try:
        (x * 2).backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_repr_shows_value_gradient_and_label():
    x = Scalar(2.0, label="x")
    assert repr(x) == "Scalar(label='x', data=2.0, grad=0.0)"
    assert repr(Scalar(1.5)) == "Scalar(data=1.5, grad=0.0)"
