"""What the graph drawer reads from a Scalar or Tensor graph: one ``Unit`` per node, as text.

A unit is a node of the user's graph, ready to draw: its title (the op, or the leaf's name), its
name, lines for its value and its gradient, how large that gradient is, and its inputs in
operand order. Nothing here knows DOT; ``chainrule.viz.graph`` writes the units out.

A gradient that was not computed reads ``unset``, never ``0``: for a Tensor, ``.grad`` is None
(intermediate tensors keep theirs only after ``retain_grad()``, as in PyTorch); a Scalar holds
``0.0`` until ``backward()``, so its graph counts as having gradients once its output's
gradient is non-zero (``grads=True``/``False`` says it outright).

>>> from chainrule import Scalar
>>> a, b = Scalar(5.0, label="a"), Scalar(2.0, label="b")
>>> units = graph_units(a - b)
>>> [(u.title, u.value, u.grad) for u in units]
[('a', ['data 5'], ['grad unset']), ('b', ['data 2'], ['grad unset']), ('−', ['data 3'], ['grad unset'])]
>>> units[-1].inputs
[(0, 0), (1, 1)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from chainrule.graph import collector_paused, topological_order
from chainrule.node import Kept, Node, Unsaved
from chainrule.scalar import Scalar
from chainrule.table import format_number
from chainrule.tensor import Tensor

__all__ = ["Unit", "graph_units", "param_names"]

# Tensors with at most this many elements show their values, not only their norm.
VALUES_UP_TO = 4

# Ops whose plain-number arguments are operands (x - 1), not options (an axis, a flag).
_BINARY_OPS = frozenset(
    {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "matmul"}
)

# how a Scalar op symbol reads in a picture (the minus sign, not a hyphen)
_SYMBOLS = {"-": "−", "*": "×", "/": "÷", "**": "^"}


@dataclass
class Unit:
    """One node of the graph as the drawer shows it."""

    title: str  # the op's name, or the leaf's name ("input" for an unnamed leaf)
    name: str | None  # the user's name for the node (label, or params= name)
    value: list[str]  # lines describing the value
    grad: list[str]  # lines describing the gradient ("grad unset" when not computed)
    magnitude: float | None  # |grad| (Scalars) or its norm (Tensors); None when unset or nan
    inputs: list[tuple[int, int]] = field(default_factory=list)  # (unit index, operand slot)
    constants: list[tuple[int, str]] = field(default_factory=list)  # (slot, text) not in graph
    op: str = ""  # the op's name ("" for a leaf)
    module: str | None = None  # the module a named parameter belongs to ("0" for "0.weight")


def param_names(params) -> dict[int, str]:
    """``{id(tensor): name}`` from a dict, (name, tensor) pairs, or a Module.

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(2, 1)
    >>> sorted(param_names(layer).values())
    ['bias', 'weight']
    """
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    pairs = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    for entry in pairs:
        if not (isinstance(entry, tuple) and len(entry) == 2):
            raise TypeError(
                "params must be a dict {name: tensor}, (name, tensor) pairs such as "
                f"model.named_parameters(), or a Module; got an entry {entry!r:.60}"
            )
        name, tensor = entry
        if not isinstance(tensor, Tensor):
            raise TypeError(f"params[{name!r}] must be a Tensor, got {type(tensor).__name__}")
        names.setdefault(id(tensor), str(name))
    return names


def graph_units(y, *, params=None, grads: bool | None = None, digits: int = 4) -> list[Unit]:
    """The units of ``y``'s graph, inputs before the nodes that use them, ``y`` last."""
    if isinstance(y, Scalar):
        return _scalar_units(y, grads, digits)
    if isinstance(y, Tensor):
        return _tensor_units(y, param_names(params), grads, digits)
    raise TypeError(
        f"to draw a graph, pass a Scalar or a Tensor computed from inputs; got {type(y).__name__}"
    )


# -- Scalars ------------------------------------------------------------------------------


def _scalar_units(y: Scalar, grads: bool | None, digits: int) -> list[Unit]:
    # a Scalar's grad is 0.0 before backward: non-zero at the output means backward ran
    has_grads = y.grad != 0.0 if grads is None else grads
    order = topological_order(y)
    index = {id(node): i for i, node in enumerate(order)}
    units = []
    for node in order:
        op = node.op
        title = _scalar_op_text(node) if op else (node.label or "input")
        if has_grads:
            grad = [f"grad {format_number(node.grad, digits)}"]
            magnitude = _finite_or_none(abs(node.grad))
        else:
            grad, magnitude = ["grad unset"], None
        units.append(
            Unit(
                title=title,
                name=node.label,
                value=[f"data {format_number(node.data, digits)}"],
                grad=grad,
                magnitude=magnitude,
                inputs=[(index[id(p)], slot) for slot, p in enumerate(node.parents)],
                op=op,
            )
        )
    return units


def _scalar_op_text(node: Scalar) -> str:
    # "-", "* 3", "2 **": the op's symbol (as a picture writes it) and any plain number
    return " ".join(_SYMBOLS.get(part, part) for part in node.op.split(" "))


# -- Tensors ------------------------------------------------------------------------------


def _tensor_units(y: Tensor, names: dict[int, str], grads: bool | None, digits: int):
    start = y._node if y._node is not None else y
    order = _tensor_order(start)
    index = {id(item): i for i, item in enumerate(order)}
    units = []
    for item in order:
        if type(item) is Node:
            tensor = y if item is start else _retained(item)
            value = item.data if tensor is None else tensor.data
            grad = None if tensor is None else tensor.grad
            unit = _tensor_unit(item.op, item.label, value, grad, item.shape, item.dtype, digits)
            unit.inputs, unit.constants = _operands(item, index, digits)
        else:  # a leaf Tensor
            name = names.get(id(item)) or item.label or getattr(item, "name", None)
            unit = _tensor_unit("", name, item.data, item.grad, item.shape, item.dtype, digits)
            if name and "." in name:
                unit.module = name.rsplit(".", 1)[0]
        if grads is False:
            unit.grad, unit.magnitude = ["grad unset"], None
        units.append(unit)
    return units


def _tensor_order(start) -> list:
    """The items of a Tensor graph, inputs first. It follows ``edges``, not ``parents``:
    ``backward()`` empties a node's parents to free memory but keeps its edges, so a graph
    is drawn after backward as well as before."""
    order: list = []
    seen = {id(start)}
    stack = [(start, iter(_edges_of(start)))]
    with collector_paused():
        while stack:
            item, pending = stack[-1]
            for edge in pending:
                if id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append((edge, iter(_edges_of(edge))))
                    break
            else:
                stack.pop()
                order.append(item)
    return order


def _edges_of(item) -> list:
    return [edge for edge in item.edges if edge is not None] if type(item) is Node else []


def _retained(node: Node):
    """The Tensor a node keeps a gradient for (``retain_grad()``), if it is still alive."""
    return node.retain() if node.retain is not None else None


def _tensor_unit(op, name, value, grad, shape, dtype, digits: int) -> Unit:
    if isinstance(value, Kept):
        value = value.value
    lines = [f"{_shape_text(shape)} {np.dtype(dtype).name}"]
    if value is None or isinstance(value, Unsaved):
        lines.append("data freed")
    else:
        lines.extend(_array_lines("data", np.asarray(value), digits))
    if grad is None:
        grad_lines, magnitude = ["grad unset"], None
    else:
        array = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        grad_lines = _array_lines("grad", array, digits)
        magnitude = _finite_or_none(_norm(array))
    title = op or name or "input"
    return Unit(title, name, lines, grad_lines, magnitude, op=op)


def _operands(node: Node, index: dict, digits: int):
    """Inputs in the graph as (unit, slot), and the other operands as (slot, text)."""
    inputs = [(index[id(edge)], slot) for slot, edge in enumerate(node.edges) if edge is not None]
    constants = []
    if node.inputs is not None:  # None once backward freed the graph
        for slot, (edge, arg) in enumerate(zip(node.edges, node.inputs)):
            if edge is None:
                text = _constant_text(arg, node.op, digits)
                if text is not None:
                    constants.append((slot, text))
    return inputs, constants


def _constant_text(arg, op: str, digits: int) -> str | None:
    if isinstance(arg, Tensor):
        arg = arg.data
    if isinstance(arg, Kept):
        arg = arg.value
    if isinstance(arg, Unsaved):
        return f"{_shape_text(arg.shape)} {np.dtype(arg.dtype).name}"
    if isinstance(arg, np.ndarray):
        head = f"{_shape_text(arg.shape)} {arg.dtype.name}"
        if arg.size <= VALUES_UP_TO:
            return f"{head} {_values_text(arg, digits)}"
        return head
    if isinstance(arg, Real) and not isinstance(arg, bool) and op in _BINARY_OPS:
        return format_number(float(arg), digits)
    return None


def _array_lines(what: str, array: np.ndarray, digits: int) -> list[str]:
    if array.size <= VALUES_UP_TO:
        lines = [f"{what} {_values_text(array, digits)}"]
        if array.size > 1:
            lines.append(f"‖{what}‖ {format_number(_norm(array), digits)}")
        return lines
    return [f"‖{what}‖ {format_number(_norm(array), digits)}"]


def _values_text(array: np.ndarray, digits: int) -> str:
    if array.ndim == 0:
        return format_number(float(array), digits)
    flat = ", ".join(format_number(float(v), digits) for v in array.ravel())
    return f"[{flat}]"


def _shape_text(shape) -> str:
    return "×".join(str(n) for n in shape) if shape else "scalar"


def _norm(array: np.ndarray) -> float:
    if not np.issubdtype(array.dtype, np.number):
        return math.nan
    return float(np.linalg.norm(array.astype(np.float64, copy=False).ravel()))


def _finite_or_none(value: float) -> float | None:
    if math.isnan(value):
        return None
    return value
