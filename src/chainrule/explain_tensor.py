"""Tensor graphs for ``cr.explain``: a row per recorded op, gradients by each op's VJP rule.

The walk calls each node's ``vjp`` (the same rules ``backward`` runs, on plain arrays) and
summarises gradients as it goes, keeping whole arrays only for the inputs: a graph of large
arrays is not held twice. Hooks registered on tensors are not run.
"""

from __future__ import annotations

import inspect
import math
from numbers import Real

import numpy as np

from chainrule.explain_graph import (
    Graph,
    Row,
    freed_summary,
    shown_rows,
    summarise,
    superscript_powers,
)
from chainrule.graph import topological_order
from chainrule.node import Kept, Node, Unsaved
from chainrule.ops.core import unbroadcast
from chainrule.table import format_number
from chainrule.tensor import Tensor

__all__ = ["TensorGraph"]


class TensorGraph(Graph):
    """Rows of a Tensor graph. Gradients are summarised as the walk goes, and kept whole only
    for inputs: a graph of large arrays is not held twice."""

    engine = "Tensor"

    def __init__(self, root: Tensor, gradient, max_rows: int | None):
        if not root.requires_grad:
            raise RuntimeError(
                "explain: this tensor does not require grad, so no graph was recorded "
                "(make an input with requires_grad=True, and compute outside no_grad())"
            )
        start = root._node if root._node is not None else root
        order = topological_order(start)
        for item in order:
            if type(item) is Node and item.inputs is None:
                raise RuntimeError(
                    f"explain: the graph through '{item.op}' was freed by backward(); call "
                    "cr.explain(y) before y.backward(), or use y.backward(retain_graph=True)"
                )
        row_of = {id(item): i for i, item in enumerate(order)}
        rows = [
            Row([item], [row_of[id(p)] for p in item.parents], [], item.label) for item in order
        ]
        op_keys = [item.op.lstrip("_") if type(item) is Node else "input" for item in order]
        super().__init__(rows, len(order), op_keys)
        self._root = root
        self._shown = set(shown_rows(len(rows), max_rows))  # only these get details
        self._details: dict[int, dict] = {}
        self._walk(_seed(root, gradient))

    def _walk(self, seed: np.ndarray) -> None:
        rows = self.rows
        pending: dict[int, np.ndarray] = {len(rows) - 1: seed}
        quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
        with quiet:
            for i in range(len(rows) - 1, -1, -1):
                row = rows[i]
                item = row.nodes[0]
                g = pending.pop(i, None)
                shown = i in self._shown
                if shown or row.leaf:
                    row.upstream = None if g is None else summarise(g)
                if row.leaf:
                    grad = None if g is None else np.array(g, dtype=item.data.dtype)
                    self.grads[row.name] = grad
                    if shown:
                        self._details[i] = self._leaf_details(item)
                    continue
                sent = self._propagate(item, row, g, pending)
                if shown:
                    self._details[i] = self._node_details(i, item, sent)

    def _propagate(self, node: Node, row: Row, g, pending: dict) -> list:
        """Send what node's rule gives to each input; return those cotangents (None if none)."""
        if g is None:
            return [None] * len(row.inputs)
        cotangents = node.vjp(g)
        slots = [pos for pos, edge in enumerate(node.edges) if edge is not None]
        sent = []
        for j, pos in zip(row.inputs, slots):
            x_bar = cotangents[pos]
            if x_bar is not None:
                x_bar = unbroadcast(np.asarray(x_bar), node.edges[pos].shape)
                collected = pending.get(j)
                pending[j] = x_bar if collected is None else collected + x_bar  # never in place
            sent.append(x_bar)
        return sent

    def describe(self, i: int) -> dict:
        return self._details[i]

    def _leaf_details(self, leaf: Tensor) -> dict:
        return {
            "ops": [],
            "expression": "",
            "value": summarise(leaf.data),
            "formulas": [],
            "local": [],
            "jacobians": [],
            "sent": [],
        }

    def _node_details(self, i: int, node: Node, sent: list) -> dict:
        row = self.rows[i]
        names = self._input_names(row)
        slots = [pos for pos, edge in enumerate(node.edges) if edge is not None]
        size = math.prod(node.shape)
        local = [None] * len(slots)
        if size == 1:  # a one-element output: its Jacobian is one row, the VJP of 1
            ones = node.vjp(np.ones(node.shape, node.dtype))
            for k, pos in enumerate(slots):
                if ones[pos] is not None:
                    d = unbroadcast(np.asarray(ones[pos]), node.edges[pos].shape)
                    local[k] = float(d.reshape(())) if d.size == 1 else summarise(d)
        return {
            "ops": [node.op.lstrip("_")],
            "expression": _tensor_expression(node, names),
            "value": self._value(i, node),
            "formulas": [None] * len(slots),
            "local": local,
            "jacobians": [[size, math.prod(node.edges[pos].shape)] for pos in slots],
            "sent": [None if s is None else summarise(s) for s in sent],
        }

    def _value(self, i: int, node: Node) -> dict:
        """The node's output, from wherever the graph kept it: the node itself, a later
        node's saved input, or the output tensor; else its shape and dtype, marked freed."""
        if i == len(self.rows) - 1:
            return summarise(self._root.data)
        if node.data is not None:
            return summarise(node.data)
        for consumer in self.rows[i + 1 :]:
            item = consumer.nodes[0]
            if type(item) is not Node:
                continue
            for edge, kept in zip(item.edges, item.inputs):
                if edge is node:
                    if isinstance(kept, Tensor):
                        return summarise(kept.data)
                    if type(kept) is Kept:
                        return summarise(kept.value)
        return freed_summary(node.shape, node.dtype)


def _seed(root: Tensor, gradient) -> np.ndarray:
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"explain: the output has shape {root.shape}; pass gradient= (an array of that "
                "shape) to say where the gradient starts, as for backward()"
            )
        return np.ones_like(root.data)
    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)
    if seed.shape != root.shape:
        raise RuntimeError(
            f"explain: gradient has shape {seed.shape} but the output has shape {root.shape}"
        )
    return seed.astype(root.dtype, copy=False)


_INFIX = {
    "add": "{} + {}",
    "subtract": "{} − {}",
    "multiply": "{}·{}",
    "divide": "{}/{}",
    "matmul": "{} @ {}",
    "power": "{}^{}",
}
_PARAMETER_NAMES: dict = {}  # prim -> its forward's parameter names


def _tensor_expression(node: Node, names: list[str]) -> str:
    """``u @ W1``, ``tanh(v)``, ``sum(w, axis=1)``, ``v[0, 1:3]``: the op on its inputs'
    names; constants as numbers or shapes, arguments that are None or False left out."""
    prim = node.prim
    name = prim.name.lstrip("_")
    if prim not in _PARAMETER_NAMES:
        _PARAMETER_NAMES[prim] = list(inspect.signature(prim.forward).parameters)
    parameters = _PARAMETER_NAMES[prim]
    edge_names = iter(names)
    args = []
    for pos, (edge, kept) in enumerate(zip(node.edges, node.inputs)):
        if edge is not None:
            args.append(next(edge_names))
        elif _is_array(kept) or name in _INFIX or name == "getitem" or pos >= len(parameters):
            args.append(_constant_text(kept))
        elif kept is not None and kept is not False:
            args.append(f"{parameters[pos]}={_constant_text(kept)}")
    args.extend(f"{key}={_constant_text(value)}" for key, value in node.params.items())
    if name in _INFIX and len(args) == 2:
        text = _INFIX[name].format(*args)
    elif name == "negative" and len(args) == 1:
        text = f"−{args[0]}"
    elif name == "getitem" and len(args) == 2:
        index = args[1][1:-1] if args[1].startswith("(") else args[1]
        text = f"{args[0]}[{index}]"
    else:
        text = f"{name}({', '.join(args)})"
    return superscript_powers(text)


def _is_array(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray, Unsaved))


def _constant_text(value) -> str:
    """A constant as short text: a tensor's label, a number, an array's shape, an index."""
    if isinstance(value, Tensor):
        if value.label:
            return value.label
        value = value.data
    elif type(value) is Kept:
        value = value.value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_number(value.item())
    if isinstance(value, (np.ndarray, Unsaved)):
        return f"array{tuple(value.shape)}"
    if isinstance(value, Real) and not isinstance(value, bool):
        return format_number(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_constant_text(v) for v in value) + ")"
    if isinstance(value, slice):
        parts = ["" if p is None else _constant_text(p) for p in (value.start, value.stop)]
        step = "" if value.step is None else f":{_constant_text(value.step)}"
        return ":".join(parts) + step
    if value is Ellipsis:
        return "..."
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
