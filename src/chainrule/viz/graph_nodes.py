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
>>> for unit in units:
...     print(unit.title, unit.value, unit.grad)
a ['data 5'] ['grad unset']
b ['data 2'] ['grad unset']
− ['data 3'] ['grad unset']
>>> units[-1].inputs
[(0, 0), (1, 1)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
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


class Unit:
    """One node of the graph as the drawer shows it.

    Its text (``title``, ``value``, ``grad``, ``constants``) is made on first use, so a graph
    of 100,000 nodes folded into 200 boxes formats 200 nodes, not 100,000.
    """

    __slots__ = ("op", "name", "inputs", "magnitude", "module", "sent", "_describe", "_text")

    def __init__(self, op="", name=None, inputs=(), magnitude=None, describe=None, module=None):
        self.op = op  # the op's name ("" for a leaf)
        self.name = name  # the user's name for the node (label, or params= name)
        self.inputs = list(inputs)  # (unit index, operand slot), in operand order
        self.magnitude = magnitude  # |grad| (Scalars) or its norm (Tensors); None if unset/nan
        self.module = module  # the module of a named parameter ("0" for "0.weight")
        # per input: the size of what the chain rule sends it from here (local derivative
        # times this node's gradient); None where not known (Tensors, or no gradients yet)
        self.sent: list[float | None] | None = None
        self._describe = describe  # () -> (title, value lines, grad lines, constants)
        self._text = None

    def _details(self) -> tuple:
        if self._text is None:
            if self._describe is None:
                self._text = (self.op or self.name or "input", [], ["grad unset"], [])
            else:
                self._text = self._describe()
        return self._text

    @property
    def title(self) -> str:
        """The op (as a picture writes it), or the leaf's name ("input" if it has none)."""
        return self._details()[0]

    @property
    def value(self) -> list[str]:
        """Lines describing the value."""
        return self._details()[1]

    @property
    def grad(self) -> list[str]:
        """Lines describing the gradient (``grad unset`` when it was not computed)."""
        return self._details()[2]

    @property
    def constants(self) -> list[tuple[int, str]]:
        """Operands outside the graph (a plain number, an input not requiring grad), as
        (slot, text); known only while the graph keeps its inputs (before backward)."""
        return self._details()[3]


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
    # units hold no cycles, so the collector has nothing to find while a large graph's
    # units are made (and would re-scan them again and again: chainrule.graph explains)
    if isinstance(y, Scalar):
        with collector_paused():
            return _scalar_units(y, grads, digits)
    if isinstance(y, Tensor):
        names = param_names(params)
        with collector_paused():
            return _tensor_units(y, names, grads, digits)
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
        magnitude = _finite_or_none(abs(node.grad)) if has_grads else None
        unit = Unit(
            op=node.op,
            name=node.label,
            inputs=[(index[id(p)], slot) for slot, p in enumerate(node.parents)],
            magnitude=magnitude,
            describe=partial(_scalar_text, node, has_grads, digits),
        )
        if has_grads and unit.inputs:
            unit.sent = [_finite_or_none(abs(g)) for g in node.vjp(node.grad)]
        units.append(unit)
    return units


def _scalar_text(node: Scalar, has_grads: bool, digits: int) -> tuple:
    title = _scalar_op_text(node) if node.op else (node.label or "input")
    grad = f"grad {format_number(node.grad, digits)}" if has_grads else "grad unset"
    return title, [f"data {format_number(node.data, digits)}"], [grad], []


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
            grad = None if tensor is None or grads is False else tensor.grad
            inputs = [(index[id(e)], slot) for slot, e in enumerate(item.edges) if e is not None]
            describe = partial(_node_text, item, tensor, grad, digits)
            unit = Unit(item.op, item.label, inputs, _grad_norm(grad), describe)
        else:  # a leaf Tensor
            name = names.get(id(item)) or item.label or getattr(item, "name", None)
            grad = None if grads is False else item.grad
            describe = partial(_leaf_text, item, name, grad, digits)
            module = name.rsplit(".", 1)[0] if name and "." in name else None
            unit = Unit("", name, (), _grad_norm(grad), describe, module)
        units.append(unit)
    return units


def _node_text(node: Node, tensor, grad, digits: int) -> tuple:
    value = node.data if tensor is None else tensor.data
    lines, grad_lines = _tensor_lines(value, grad, node.shape, node.dtype, digits)
    return node.op, lines, grad_lines, _constants(node, digits)


def _leaf_text(leaf: Tensor, name, grad, digits: int) -> tuple:
    lines, grad_lines = _tensor_lines(leaf.data, grad, leaf.shape, leaf.dtype, digits)
    return name or "input", lines, grad_lines, []


def _grad_norm(grad) -> float | None:
    if grad is None:
        return None
    return _finite_or_none(_norm(np.asarray(grad.data if isinstance(grad, Tensor) else grad)))


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


def _tensor_lines(value, grad, shape, dtype, digits: int) -> tuple[list[str], list[str]]:
    if isinstance(value, Kept):
        value = value.value
    lines = [f"{_shape_text(shape)} {np.dtype(dtype).name}"]
    if value is None or isinstance(value, Unsaved):
        lines.append("data freed")
    else:
        lines.extend(_array_lines("data", np.asarray(value), digits))
    if grad is None:
        return lines, ["grad unset"]
    array = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
    return lines, _array_lines("grad", array, digits)


def _constants(node: Node, digits: int) -> list[tuple[int, str]]:
    """The operands of ``node`` outside the graph, as (slot, text); none once freed."""
    constants = []
    if node.inputs is not None:  # None once backward freed the graph
        for slot, (edge, arg) in enumerate(zip(node.edges, node.inputs)):
            if edge is None:
                text = _constant_text(arg, node.op, digits)
                if text is not None:
                    constants.append((slot, text))
    return constants


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
