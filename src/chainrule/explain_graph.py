"""What ``cr.explain`` reads from a graph: rows, names, paths, and values as plain data.

A graph becomes rows in evaluation order, one per node (for Scalars, a run of affine steps by
a number may share one row: ``chainrule.explain_scalar``; Tensor graphs are read by
``chainrule.explain_tensor``). Each row knows its inputs (row positions), its local
derivatives and the gradient that reaches it from the output, computed by a walk of the
report's own so that the user's ``.grad`` values stay as they were. Rows the report shows
also get their details (``Graph.describe``): expression, formulas, values, what is sent to
each input.

Values handed to the report are plain data: floats (``"nan"``, ``"inf"`` as strings) and,
for arrays, summaries (``summarise``).
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

__all__ = [
    "Graph",
    "Row",
    "freed_summary",
    "plain",
    "shown_rows",
    "summarise",
    "superscript_powers",
]


class Row:
    """One row of the report: a node, or a run of affine Scalar steps folded together."""

    # nodes: the graph nodes it stands for (the last one holds its value). inputs: per input
    # slot, the position of the input's row. local: per slot, the local derivative (a float
    # for Scalars; for Tensors filled in only for shown rows). upstream: d(output)/d(row) as
    # plain data (Tensors: only for shown rows and inputs), None where no gradient arrives.
    __slots__ = ("nodes", "inputs", "local", "label", "name", "leaf", "upstream")

    def __init__(self, nodes: list, inputs: list[int], local: list, label):
        self.nodes = nodes
        self.inputs = inputs
        self.local = local
        self.label = label
        self.name = ""
        self.leaf = not inputs
        self.upstream = None


class Graph:
    """Rows of one graph (see the module docstring); ``ScalarGraph`` and ``TensorGraph``."""

    engine = ""
    folded = False

    def __init__(self, rows: list[Row], node_count: int, op_keys: list[str]):
        self.rows = rows
        self.node_count = node_count
        self.op_keys = op_keys
        self.grads: dict = {}
        _name_rows(rows)
        self._consumers: list | None = None

    def describe(self, i: int) -> dict:
        """The details of row ``i``: expression, value, local derivatives, what it sends."""
        raise NotImplementedError

    def paths_to(self, leaf: int, limit: int) -> list[list[tuple[int, int]]] | None:
        """Every path from the output down to row ``leaf``, as (row, input slot) steps from the
        output first; None if there are more than ``limit`` of them."""
        last = len(self.rows) - 1
        consumers = self._consumer_lists()
        found = []
        # walk up from the leaf (every step up leads on to the output: no dead ends, so this
        # stops after at most limit + 1 paths). A path is a linked list of steps, so that
        # branching copies nothing: a path through a 10,000-node chain is built once.
        stack = [(leaf, None)]
        while stack:
            row, steps = stack.pop()
            if row == last:
                if len(found) == limit:
                    return None
                path = []
                while steps is not None:
                    step, steps = steps
                    path.append(step)
                found.append(path)
                continue
            for consumer, slot in reversed(consumers[row]):
                stack.append((consumer, ((consumer, slot), steps)))
        return found

    def _consumer_lists(self) -> list[list[tuple[int, int]]]:
        if self._consumers is None:
            consumers = [[] for _ in self.rows]
            for i, row in enumerate(self.rows):
                for slot, j in enumerate(row.inputs):
                    consumers[j].append((i, slot))
            self._consumers = consumers
        return self._consumers

    def _input_names(self, row: Row) -> list[str]:
        return [self.rows[j].name for j in row.inputs]


def shown_rows(total: int, max_rows: int | None) -> list[int]:
    """The positions of the rows a report shows: all, or the first and last ones."""
    if max_rows is None or total <= max_rows:
        return list(range(total))
    head = max_rows // 2
    return list(range(head)) + list(range(total - (max_rows - head), total))


# -- naming -------------------------------------------------------------------------------

_LETTERS = ("u", "v", "w", "p", "q", "r", "s", "t")


def _name_rows(rows: list[Row]) -> None:
    """Labels where given; else y for the output, x (or x1, x2, ...) for inputs, and u, v,
    w, ... (or u1, u2, ... in large graphs) for the nodes between."""
    taken: set[str] = set()
    for row in rows:
        if row.label:
            name = row.label
            for k in itertools.count(2):
                if name not in taken:
                    break
                name = f"{row.label}_{k}"
            row.name = name
            taken.add(name)
    output = rows[-1]
    unnamed_leaves = [row for row in rows[:-1] if row.leaf and not row.name]
    unnamed_inner = [row for row in rows[:-1] if not row.leaf and not row.name]
    if not output.name:
        output.name = next(_fresh(["y", "out"], "y", taken))
    leaf_names = _fresh(["x"] if len(unnamed_leaves) == 1 else [], "x", taken)
    for row in unnamed_leaves:
        row.name = next(leaf_names)
    inner_names = _fresh(_LETTERS if len(unnamed_inner) <= len(_LETTERS) else [], "u", taken)
    for row in unnamed_inner:
        row.name = next(inner_names)


def _fresh(preferred, stem: str, taken: set[str]):
    """Names not yet taken: the preferred ones, then stem1, stem2, ..."""
    for name in itertools.chain(preferred, (f"{stem}{k}" for k in itertools.count(1))):
        if name not in taken:
            taken.add(name)
            yield name


# -- text ---------------------------------------------------------------------------------

_SUPERSCRIPTS = str.maketrans("0123456789−-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
_INTEGER_POWER = re.compile(r"\^(\d+)(?![\d.])|\^\((−\d+)\)(?![\d.])")


def superscript_powers(text: str) -> str:
    """Integer powers as superscripts: ``u^2`` as ``u²``, ``u^(−2)`` as ``u⁻²``, ``u^1`` as u."""
    return _INTEGER_POWER.sub(_superscript, text)


def _superscript(match: re.Match) -> str:
    power = match.group(1) or match.group(2)
    return "" if power == "1" else power.translate(_SUPERSCRIPTS)


# -- plain data ---------------------------------------------------------------------------

_VALUES_AT_MOST = 64  # a summary lists the values of arrays up to this many elements


def summarise(array) -> dict:
    """An array as plain data: shape, dtype, size, min/mean/max, and its values if small.

    >>> summarise(np.array([1.0, 3.0]))["mean"]
    2.0
    """
    array = np.asarray(array)
    out = {"shape": list(array.shape), "dtype": str(array.dtype), "size": int(array.size)}
    out["freed"] = False
    if array.size:
        with np.errstate(invalid="ignore", over="ignore"):
            out["min"] = _plain_float(float(array.min()))
            out["mean"] = _plain_float(float(array.mean(dtype=np.float64)))  # no float32 drift
            out["max"] = _plain_float(float(array.max()))
    if array.size <= _VALUES_AT_MOST:
        out["values"] = _plain_nested(array.tolist())
    return out


def freed_summary(shape: tuple, dtype) -> dict:
    """The summary of a value the graph did not keep: its shape and dtype only."""
    return {"shape": list(shape), "dtype": str(dtype), "size": math.prod(shape), "freed": True}


def plain(value):
    """A number as a JSON-ready float (``"nan"``, ``"inf"``, ``"-inf"`` as strings); a
    summary or None as it is."""
    if value is None or isinstance(value, dict):
        return value
    return _plain_float(value)


def _plain_float(value: float):
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _plain_nested(values):
    if isinstance(values, list):
        return [_plain_nested(v) for v in values]
    return _plain_float(values)
