"""Node: one recorded operation in a Tensor graph, holding only what its VJP rule reads.

When an operation on Tensors is recorded, the result Tensor gets a Node: the primitive,
its parameters, an edge to each input that requires grad (that input's Node, or the leaf
Tensor itself), and the values the rule declared it needs (``saves=``). Inputs the rule does
not read are kept as ``Unsaved`` placeholders that know only their shape and dtype.

So the graph never holds a Tensor the user dropped unless a rule needs its values: in
``relu(x @ w + b)``, the product and the sum are freed as soon as the expression is done,
as in PyTorch. And nothing in the graph points back at a result Tensor, so graphs are
acyclic in memory and freed by reference counting.

Nodes speak the graph protocol of ``chainrule.graph`` (``parents``, ``op``, ``label``,
``vjp``), as do leaf Tensors.

Small arrays are the exception: an input or output of fewer than ``KEEP_FOR_DISPLAY_BELOW``
elements that the rule does not read is kept anyway, wrapped in a ``Kept`` (to the rule still
an ``Unsaved``), so that ``cr.explain`` can show the values of a small graph.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["KEEP_FOR_DISPLAY_BELOW", "Kept", "Node", "Unsaved", "placeholder", "record"]

_new = object.__new__

# Arrays with fewer elements than this are kept for the explainer even where no rule reads
# them. Why this size: the graphs people explain (a neuron, a tiny net) have small arrays, and
# keeping one costs at most 16 KiB in float32; the activations of real training batches are far
# larger and are still freed as early as before (the W2-big memory benchmark depends on it).
KEEP_FOR_DISPLAY_BELOW = 4096


class Unsaved:
    """Stands for an input a rule does not read: its shape and dtype, no values."""

    __slots__ = ("shape", "dtype")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError(
            "a VJP rule read the values of an input it did not declare in saves=; "
            "add it to the rule's saves"
        )

    def __repr__(self) -> str:
        return f"Unsaved(shape={self.shape}, dtype={self.dtype})"


class Kept(Unsaved):
    """An Unsaved that also keeps the values, for display only (``cr.explain``).

    A rule sees what it would see without it: a shape and a dtype, values refused; so a rule
    that reads an input it did not declare in ``saves=`` still fails, on small arrays too.
    """

    __slots__ = ("value",)

    def __repr__(self) -> str:
        return f"Kept(shape={self.shape}, dtype={self.dtype})"


def placeholder(shape: tuple, dtype) -> Unsaved:
    """An Unsaved of this shape and dtype."""
    out = _new(Unsaved)
    out.shape = shape
    out.dtype = dtype
    return out


def _unread(array: np.ndarray) -> Unsaved:
    """What the graph keeps of an array no rule reads: its values if it is small, else only
    its shape and dtype."""
    if array.size >= KEEP_FOR_DISPLAY_BELOW:
        out = _new(Unsaved)  # placeholder(), inlined: once per unsaved input of every op
        out.shape = array.shape
        out.dtype = array.dtype
        return out
    base = array.base
    if base is not None and getattr(base, "size", 0) >= KEEP_FOR_DISPLAY_BELOW:
        array = array.copy()  # a small view must not keep a large array alive
    out = _new(Kept)
    out.shape = array.shape
    out.dtype = array.dtype
    out.value = array
    return out


class Node:
    """A recorded operation (see the module docstring)."""

    # prim, params: the call. inputs: per argument, the value the rule gets on Tensors (the
    # input itself if saved, else an Unsaved or a plain number); arrays: the same with each
    # Tensor's array as the forward saw it, which the rule gets in a backward on arrays.
    # edges: per argument, the node (or leaf Tensor) its gradient goes to, or None; needs:
    # per argument, whether it has an edge. parents: the edges that are not None.
    # ans: the output's array if the rule reads it (a Kept if it does not but the array is
    # small; None otherwise). shape, dtype: the output's.
    # hooks, retain (a weakref to the Tensor keeping .grad), label, created_at: rarely set.
    # tangents: the output's tangents by forward level, lent to backward's re-wrapped ans;
    # set only by forward mode (chainrule.forward), and left unset otherwise: read it with
    # getattr(node, "tangents", None), so recording pays nothing for it.
    __slots__ = (
        "prim",
        "params",
        "inputs",
        "arrays",
        "edges",
        "needs",
        "parents",
        "ans",
        "shape",
        "dtype",
        "hooks",
        "retain",
        "label",
        "created_at",
        "tangents",
    )

    @property
    def op(self) -> str:
        return self.prim.name

    @property
    def data(self):
        """The output's values, if they were kept (else None: the output was freed)."""
        ans = self.ans
        return ans.value if type(ans) is Kept else ans

    @property
    def grad(self):
        return None

    def local_grads(self) -> tuple:
        """Tensors have Jacobians, not numbers, as local derivatives: see ``vjp``."""
        return tuple(None for _ in self.parents)

    def vjp(self, g) -> tuple:
        """What the chain rule sends to each input of this op when ``g`` arrives here."""
        from chainrule.tensor import Tensor

        if self.inputs is None:
            raise RuntimeError(f"the graph through '{self.prim.name}' was freed by backward()")
        g = g.data if isinstance(g, Tensor) else g
        ans = self.ans if self.ans is not None else placeholder(self.shape, self.dtype)
        kwargs = dict(self.params)
        if self.prim.vjp_takes_needs:
            kwargs["needs"] = self.needs
        return self.prim.vjp(g, ans, *self.arrays, **kwargs)

    def __repr__(self) -> str:
        return f"<node {self.prim.name} shape={self.shape}>"


def record(array: np.ndarray, prim, args: tuple, arrays: list, params: dict, tensor_type) -> Node:
    """The node for ``prim(*args, **params) == array``, saving what prim's rule reads.

    ``arrays`` are the forward's inputs: ``args`` with each Tensor replaced by its array.
    """
    node = _new(Node)
    node.prim = prim
    node.params = params
    saves = prim.saves  # None: every input; else the positions the rule reads
    inputs = []
    edges = []
    parents = []
    needs = []
    for position, a in enumerate(args):
        array_in = arrays[position]
        if isinstance(a, tensor_type) and a.requires_grad:
            edge = a._node if a._node is not None else a
            edges.append(edge)
            parents.append(edge)
            needs.append(True)
        else:
            edges.append(None)
            needs.append(False)
        if saves is not None and position not in saves and type(array_in) is np.ndarray:
            a = array_in = _unread(array_in)
        inputs.append(a)
        arrays[position] = array_in
    node.inputs = tuple(inputs)
    node.arrays = tuple(arrays)
    node.edges = tuple(edges)
    node.needs = tuple(needs)
    node.parents = tuple(parents)
    if prim.saves_ans:
        node.ans = array
    else:
        node.ans = _unread(array) if array.size < KEEP_FOR_DISPLAY_BELOW else None
    node.shape = array.shape
    node.dtype = array.dtype
    node.hooks = None
    node.retain = None
    node.label = None
    node.created_at = None
    return node
