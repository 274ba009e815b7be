"""Pytrees: nested lists, tuples and dicts of values, taken apart into a flat list and rebuilt.

The transforms in ``chainrule.func`` accept a pytree wherever they accept an array: a dict of
parameters, a list of layers, a tuple of (weights, bias). ``tree_flatten`` lists its leaves
(everything that is not a list, tuple or dict) and describes its shape; ``tree_unflatten``
puts new leaves into the same shape. Dicts keep their insertion order; namedtuples and
OrderedDicts stay what they are.

>>> leaves, treedef = tree_flatten({"w": [1.0, 2.0], "b": 3.0})
>>> leaves
[1.0, 2.0, 3.0]
>>> tree_unflatten(treedef, [x * 10 for x in leaves])
{'w': [10.0, 20.0], 'b': 30.0}
>>> tree_map(lambda x, y: x + y, (1, [2]), (10, [20]))
(11, [22])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

__all__ = ["TreeDef", "tree_flatten", "tree_leaves", "tree_map", "tree_unflatten"]


class TreeDef:
    """The shape of a pytree without its leaves: a container type and its children's shapes.

    ``node_type`` is None for a leaf; ``keys`` are a dict's keys (None otherwise).
    """

    __slots__ = ("node_type", "keys", "children", "num_leaves")

    def __init__(self, node_type: type | None, keys: tuple | None, children: tuple):
        self.node_type = node_type
        self.keys = keys
        self.children = children
        self.num_leaves = 1 if node_type is None else sum(c.num_leaves for c in children)

    @property
    def is_leaf(self) -> bool:
        return self.node_type is None

    def paths(self) -> list[str]:
        """Where each leaf sits, as an index expression: ``"['w'][0]"`` (``""`` for a leaf).

        >>> tree_flatten({"w": [1.0, 2.0]})[1].paths()
        ["['w'][0]", "['w'][1]"]
        """
        if self.is_leaf:
            return [""]
        labels = self.keys if self.keys is not None else range(len(self.children))
        return [
            f"[{label!r}]{rest}"
            for label, child in zip(labels, self.children)
            for rest in child.paths()
        ]

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, TreeDef)
            and self.node_type is other.node_type
            and self.keys == other.keys
            and self.children == other.children
        )

    __hash__ = None

    def __repr__(self) -> str:
        if self.is_leaf:
            return "*"
        if self.keys is not None:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            return "{" + inner + "}"
        inner = ", ".join(repr(c) for c in self.children)
        if self.node_type is list:
            return f"[{inner}]"
        if self.node_type is tuple:
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        return f"{self.node_type.__name__}({inner})"


_LEAF = TreeDef(None, None, ())
_DICTS = (dict, OrderedDict)


def _is_namedtuple(node_type: type) -> bool:
    return issubclass(node_type, tuple) and hasattr(node_type, "_fields")


def tree_flatten(tree) -> tuple[list, TreeDef]:
    """The leaves of ``tree`` in order (dicts in insertion order), and its TreeDef."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves: list) -> TreeDef:
    node_type = type(tree)
    if node_type in _DICTS:
        keys = tuple(tree)
        return TreeDef(node_type, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if node_type in (list, tuple) or _is_namedtuple(node_type):
        return TreeDef(node_type, None, tuple(_flatten(child, leaves) for child in tree))
    leaves.append(tree)
    return _LEAF


def tree_unflatten(treedef: TreeDef, leaves) -> object:
    """A pytree of ``treedef``'s shape holding ``leaves`` (in tree_flatten's order)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the tree {treedef!r} has {treedef.num_leaves} leaves, "
            f"got {len(leaves)}"
        )
    return _unflatten(treedef, iter(leaves))


def _unflatten(treedef: TreeDef, leaves):
    if treedef.is_leaf:
        return next(leaves)
    children = [_unflatten(child, leaves) for child in treedef.children]
    if treedef.node_type in _DICTS:
        return treedef.node_type(zip(treedef.keys, children))
    if _is_namedtuple(treedef.node_type):
        return treedef.node_type(*children)
    return treedef.node_type(children)


def tree_leaves(tree) -> list:
    """The leaves of ``tree``, in order."""
    return tree_flatten(tree)[0]


def tree_map(function: Callable, tree, *rest):
    """``function`` applied leaf by leaf to ``tree`` and to trees of the same shape in
    ``rest``; the results in ``tree``'s shape."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"tree_map: trees differ in shape: {treedef!r} and {other_def!r}")
        others.append(other_leaves)
    return tree_unflatten(treedef, [function(*args) for args in zip(leaves, *others)])
