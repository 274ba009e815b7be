"""What every engine's computation graph shares: the node protocol and the walks over it.

A graph is made of nodes. A node is any object with these attributes:

``data``
    its value (a float for ``Scalar``; an ndarray for ``Tensor``)
``grad``
    the gradient of the last ``backward()`` output with respect to it
``parents``
    a tuple of the nodes it was computed from, empty for a leaf
``op``
    a short name for the operation that made it (``"*"``, ``"tanh"``, ``"+ 1"``), ``""`` for a leaf
``label``
    a name the user gave it, or None
``local_grads()``
    one entry per parent: the local derivative of this node with respect to that parent,
    evaluated at the forward values (a float for ``Scalar``)
``vjp(g)``
    one entry per parent: what the chain rule sends to that parent when ``g`` arrives here
    (for ``Scalar``, ``local * g``)

The backward pass, the chain-rule explainer and the graph drawer read only this protocol,
so one explainer and one drawer serve both engines. Every walk here is iterative: a graph
a million nodes deep needs no recursion.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

__all__ = ["Node", "collector_paused", "edges", "leaves", "topological_order"]


@runtime_checkable
class Node(Protocol):
    """The attributes a graph node offers (see the module docstring).

    >>> import chainrule as cr
    >>> isinstance(cr.Scalar(1.0), Node), isinstance(cr.tensor([1.0]), Node)   # both engines
    (True, True)
    >>> isinstance(1.0, Node)
    False
    """

    data: Any
    grad: Any
    parents: tuple
    label: str | None

    @property
    def op(self) -> str: ...

    def local_grads(self) -> tuple: ...

    def vjp(self, g: Any) -> tuple: ...


def topological_order(root: Node) -> list[Node]:
    """Every node that ``root`` depends on, each once, parents before children; ``root`` last.

    Iterative depth-first search, linear in nodes plus edges: shared sub-graphs are
    visited once, so a graph that reuses a node 2**100 times along different paths is cheap.

    >>> from chainrule import Scalar
    >>> x = Scalar(2.0, label="x")
    >>> y = x * x + x
    >>> [node.op or node.label for node in topological_order(y)]
    ['x', '*', '+']
    """
    order: list[Node] = []
    seen = {id(root)}
    # Each stack entry is a node and an iterator over the parents still to visit.
    stack = [(root, iter(root.parents))]
    with collector_paused():
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


class collector_paused:  # noqa: N801  (used as a function: with collector_paused():)
    """Pause Python's cycle collector for a walk that allocates nothing cyclic.

    A walk of a deep graph holds one stack entry per level alive at once; the collector,
    counting those allocations, would re-scan the whole live graph again and again and cost
    more than the walk itself (measured: 4x on a 100,000-node chain). Nothing a walk creates
    can form a cycle, so there is nothing for the collector to find until it ends.

    >>> import gc
    >>> before = gc.isenabled()
    >>> with collector_paused():
    ...     paused = not gc.isenabled()
    >>> paused, gc.isenabled() == before            # off inside, as it was after
    (True, True)
    """

    # a class, not @contextmanager: every backward enters one, and a generator costs ~15x more
    __slots__ = ("_was_on",)

    def __enter__(self):
        self._was_on = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc) -> bool:
        if self._was_on:
            gc.enable()
        return False


def leaves(root: Node) -> list[Node]:
    """The nodes of ``root``'s graph that have no parents, in evaluation order.

    >>> from chainrule import Scalar
    >>> a, b = Scalar(1.0, label="a"), Scalar(2.0, label="b")
    >>> [leaf.label for leaf in leaves(a * b + a)]
    ['a', 'b']
    """
    return [node for node in topological_order(root) if not node.parents]


def edges(root: Node) -> Iterator[tuple[Node, Node, Any]]:
    """Each edge of ``root``'s graph as ``(parent, child, local derivative)``, in evaluation order.

    >>> from chainrule import Scalar
    >>> x = Scalar(3.0, label="x")
    >>> [(p.label, c.op, d) for p, c, d in edges(x * x)]
    [('x', '*', 3.0), ('x', '*', 3.0)]
    """
    for child in topological_order(root):
        for parent, local in zip(child.parents, child.local_grads()):
            yield parent, child, local
