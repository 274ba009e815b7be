"""chainrule.pytree: nested lists, tuples and dicts taken apart into leaves and rebuilt."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

from chainrule.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten

Point = namedtuple("Point", "x y")


def test_flatten_lists_leaves_in_order_and_unflatten_rebuilds_every_container():
    array = np.arange(3.0)
    tree = {"b": [1.0, (2.0, array)], "a": Point(x=None, y={"z": 3}), "c": OrderedDict(k=4.0)}
    leaves, treedef = tree_flatten(tree)
    assert leaves[:3] == [1.0, 2.0, array] and leaves[3:] == [None, 3, 4.0]
    assert treedef.num_leaves == 6
    rebuilt = tree_unflatten(treedef, [f"leaf {k}" for k in range(6)])
    assert list(rebuilt) == ["b", "a", "c"]  # insertion order, not sorted
    assert rebuilt["b"] == ["leaf 0", ("leaf 1", "leaf 2")]
    assert type(rebuilt["a"]) is Point and rebuilt["a"].y == {"z": "leaf 4"}
    assert type(rebuilt["c"]) is OrderedDict and rebuilt["c"]["k"] == "leaf 5"


def test_a_leaf_alone_and_empty_containers():
    leaves, treedef = tree_flatten(2.5)
    assert leaves == [2.5] and treedef.is_leaf
    assert tree_unflatten(treedef, ["x"]) == "x"
    leaves, treedef = tree_flatten({"empty": [], "t": ()})
    assert leaves == [] and tree_unflatten(treedef, []) == {"empty": [], "t": ()}


def test_paths_name_where_each_leaf_sits():
    _, treedef = tree_flatten({"w": [1.0, 2.0], "b": Point(3.0, 4.0)})
    assert treedef.paths() == ["['w'][0]", "['w'][1]", "['b'][0]", "['b'][1]"]


def test_treedefs_compare_by_structure():
    assert tree_flatten([1.0, {"a": 2.0}])[1] == tree_flatten([5, {"a": "x"}])[1]
    assert tree_flatten([1.0, 2.0])[1] != tree_flatten((1.0, 2.0))[1]
    assert tree_flatten({"a": 1, "b": 2})[1] != tree_flatten({"b": 1, "a": 2})[1]
    assert tree_flatten(Point(1, 2))[1] != tree_flatten((1, 2))[1]


def test_tree_map_over_several_trees():
    assert tree_map(lambda a, b: a * b, {"u": [2, 3]}, {"u": [10, 100]}) == {"u": [20, 300]}
    assert tree_leaves(tree_map(str, (1, [2]))) == ["1", "2"]
    with pytest.raises(ValueError, match="trees differ in shape"):
        tree_map(lambda a, b: a, [1, 2], [1, 2, 3])


def test_unflatten_with_the_wrong_number_of_leaves_says_so():
    _, treedef = tree_flatten([1, 2])
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        tree_unflatten(treedef, [1, 2, 3])
