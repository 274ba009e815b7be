"""``cr.explain(y)``: the chain rule at work in a graph, one row per node.

For every node, in the order the forward pass computed them: its name, what it computes, its
value, its local derivative with respect to each input, the gradient that arrives at it from
above (``dy/d(node)``, complete once every path from ``y`` has delivered), and what it sends
on to each input (that gradient times the local derivative). Then, for each input, the
product the chain rule makes along each path from ``y`` down to it.

Works on Scalar and Tensor graphs alike; prints as a table, renders as Markdown, and gives a
JSON-ready dict. Large graphs are summarised: the first and last rows, how many were left
out, and how many nodes each op made. The user's ``.grad`` values are left as they were: the
report computes its own gradients.

>>> import chainrule as cr
>>> x = cr.Scalar(1.0, label="x")
>>> y = (3 * x + 1) ** 2
>>> report = cr.explain(y)
>>> print(report.chain_text())
dy/dx = dy/du · du/dx = 8 · 3 = 24
>>> [(row["name"], row["expression"], row["value"]) for row in report.rows]
[('x', '', 1.0), ('u', '3·x + 1', 4.0), ('y', 'u²', 16.0)]
"""

from __future__ import annotations

from collections import Counter
from numbers import Real

import numpy as np

from chainrule.explain_graph import Graph, plain, shown_rows
from chainrule.explain_scalar import ScalarGraph
from chainrule.explain_tensor import TensorGraph
from chainrule.graph import collector_paused
from chainrule.scalar import Scalar
from chainrule.table import Table, format_number
from chainrule.tensor import Tensor

__all__ = ["Report", "explain"]

# A report shows at most this many rows unless told otherwise: half from the start, half from
# the end. Enough for a neuron or a tiny net; a 10,000-node chain stays one screen.
DEFAULT_MAX_ROWS = 30
# Paths from the output to an input are written out one by one up to this many; above it, only
# their sum (a graph that doubles a value 200 times has 2**200 paths to its input).
MAX_PATHS = 8
# A product along a path shows this many factors at each end when it has more.
_FACTORS_AT_ENDS = 3
# Chain-rule lines are written for this many inputs at most (the rest: their count).
MAX_CHAIN_INPUTS = 12


def explain(y, *, fold: bool = True, max_rows: int | None = DEFAULT_MAX_ROWS, gradient=None):
    """The chain-rule report for ``y``, a Scalar or a Tensor that requires grad.

    ``fold`` (Scalar graphs): steps that add, subtract, multiply or divide by a plain number
    and feed only the next such step are shown as one row (``u = 3·x + 1``, local derivative
    ``3·1 = 3``); ``fold=False`` shows every node. ``max_rows``: above this many rows, show
    the first and last ones and say how many were left out (None: all). ``gradient``: the
    gradient to start from, needed when ``y`` is a Tensor of more than one element (as for
    ``backward``); 1 by default.

    Returns a ``Report``: ``print(report)`` shows the table, ``report.markdown()`` the same in
    Markdown, ``report.to_dict()`` the same as plain data (see ``Report.to_dict``), and
    ``report.grads`` the gradient of ``y`` with respect to every input, by name. No ``.grad``
    is changed and no hook registered on a tensor is run.

    >>> import chainrule as cr
    >>> a, x, b = cr.Scalar(1.0, label="a"), cr.Scalar(2.0, label="x"), cr.Scalar(3.0, label="b")
    >>> report = cr.explain((a * x + b).sigmoid())
    >>> {name: round(g, 6) for name, g in report.grads.items()}
    {'a': 0.013296, 'x': 0.006648, 'b': 0.006648}
    >>> print(report.chain_text())
    dy/da = dy/dv · dv/du · du/da = 0.00664806 · 1 · 2 = 0.0132961
    dy/dx = dy/dv · dv/du · du/dx = 0.00664806 · 1 · 1 = 0.00664806
    dy/db = dy/dv · dv/db = 0.00664806 · 1 = 0.00664806
    """
    if max_rows is not None and max_rows < 2:
        raise ValueError(f"explain: max_rows must be at least 2 (or None for all), got {max_rows}")
    if isinstance(y, Scalar):
        if gradient is not None and not isinstance(gradient, Real):
            raise TypeError(
                f"explain: gradient= for a Scalar output is a number, got "
                f"{type(gradient).__name__}: {gradient!r}"
            )
    elif not isinstance(y, Tensor):
        raise TypeError(f"explain() takes a Scalar or a Tensor, got {type(y).__name__}: {y!r}")
    # a report allocates a few objects per node and none of them cyclic: the cycle collector,
    # set off by the count, would only re-scan the whole graph again and again
    with collector_paused():
        if isinstance(y, Scalar):
            graph = ScalarGraph(y, fold, 1.0 if gradient is None else float(gradient))
        else:
            graph = TensorGraph(y, gradient, max_rows)
        return Report(graph, shown_rows(len(graph.rows), max_rows))


class Report:
    """A chain-rule report (made by ``explain``): rows, chain-rule products, gradients.

    ``rows``: the shown rows as dicts (see ``to_dict``); ``grads``: ``{input name: d(output)
    / d(input)}`` for every input, a float for Scalars, an ndarray for Tensors.

    >>> import chainrule as cr
    >>> x = cr.Scalar(1.0, label="x")
    >>> report = cr.explain((3 * x + 1) ** 2)
    >>> print(report.chain_text())
    dy/dx = dy/du · du/dx = 8 · 3 = 24
    """

    def __init__(self, graph: Graph, shown: list[int]):
        self.engine = graph.engine
        self.output = graph.rows[-1].name
        self.nodes = graph.node_count
        self.rows_total = len(graph.rows)
        self.folded = graph.folded
        self.op_counts = dict(Counter(graph.op_keys))
        self.rows = [_row_dict(graph, i) for i in shown]
        self.elided = None
        for position, (before, after) in enumerate(zip(shown, shown[1:]), start=1):
            if after != before + 1:
                self.elided = {"before": position, "count": after - before - 1}
        self.grads = graph.grads
        leaves = [i for i, row in enumerate(graph.rows) if row.leaf and i != len(graph.rows) - 1]
        self.chain = [_chain_line(graph, i) for i in leaves[:MAX_CHAIN_INPUTS]]
        self.chain_elided = max(0, len(leaves) - MAX_CHAIN_INPUTS)

    # -- rendering -----------------------------------------------------------------------

    def table(self, notes: bool = True) -> Table:
        """The rows as a ``chainrule.table.Table``, with the op counts and the chain-rule
        lines as notes under it (``notes=False``: without them).

        >>> import chainrule as cr
        >>> x = cr.Scalar(3.0, label="x")
        >>> table = cr.explain(x * x).table()
        >>> [(row[0], row[2], row[4]) for row in table.rows]   # node, value, upstream dy/d(node)
        [('x', 3.0, 6.0), ('y', 9.0, 1.0)]
        """
        y = self.output
        d = "∂" if self.engine == "Tensor" else "d"
        columns = [
            "node",
            "computes",
            "value",
            "local derivative",
            f"upstream {d}{y}/{d}(node)",
            "sent to each input (upstream × local)",
        ]
        cells = [self._cells(row) for row in self.rows]
        gaps = {}
        if self.elided:
            gaps[self.elided["before"]] = f"… {self.elided['count']:,} rows left out …"
        notes = self._notes() if notes else []
        return Table(columns, cells, title=self._title(), notes=notes, gaps=gaps)

    def text(self) -> str:
        """The report for a terminal.

        >>> import chainrule as cr
        >>> x = cr.Scalar(2.0, label="x")
        >>> lines = cr.explain((x * x).log()).text().splitlines()
        >>> print(lines[0]); print(lines[-1])           # the title; the chain rule under the table
        Chain rule for y = ln(u): Scalar graph of 3 nodes
        dy/dx = dy/du·du/dx + dy/du·du/dx = 0.25·2 + 0.25·2 = 1
        """
        return self.table().text()

    def markdown(self) -> str:
        """The report as GitHub-flavoured Markdown.

        >>> import chainrule as cr
        >>> x = cr.Scalar(1.0, label="x")
        >>> print(cr.explain(x.exp()).markdown().splitlines()[0])
        **Chain rule for y = exp(x): Scalar graph of 2 nodes**
        """
        out = [self.table(notes=False).markdown()]
        if self.elided:
            out += ["", self._op_counts_text()]
        if self.chain:
            out += ["", "The chain rule, output to input (a sum over paths where several):", ""]
            out += [f"- `{line['text']}`" for line in self.chain]
            if self.chain_elided:
                out.append(f"- … and {self.chain_elided:,} more inputs")
        return "\n".join(out)

    def chain_text(self) -> str:
        """The chain-rule lines alone, one per input.

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0, label="x")
        >>> print(cr.explain((x * 2).sin()).chain_text())   # cos(0) times 2
        dy/dx = dy/du · du/dx = 1 · 2 = 2
        """
        return "\n".join(line["text"] for line in self.chain)

    def to_dict(self) -> dict:
        """The report as plain data (str, float, int, bool, None, lists, dicts), ready for
        ``json.dumps``. Non-finite numbers are the strings ``"nan"``, ``"inf"``, ``"-inf"``.

        Schema::

            engine       "Scalar" or "Tensor"
            output       the output's name ("y" unless it has a label)
            nodes        how many nodes the graph has
            rows_total   how many rows it makes (fewer than nodes when steps are folded)
            rows         the rows shown, in evaluation order, each:
                index       its position among all rows
                name        "x", "u", a label, ...
                leaf        True for an input
                ops         the ops of the nodes this row stands for ([] for an input)
                expression  what it computes from its inputs' names ("3·x + 1"; "" for input)
                inputs      its inputs' names, one per input slot (a name twice in x·x)
                value       a number, or for a Tensor a summary (below)
                local       per input: {"input", "formula" (str or None), "value" (a number,
                            a summary, or None where only "jacobian" is known), "jacobian"
                            ([output size, input size] for Tensors, else None)}
                upstream    d(output)/d(this node): a number or a summary (None: no
                            gradient reaches it)
                sent        per input: {"input", "value"}: upstream × local, what the chain
                            rule hands to that input from here
            elided       None, or {"before": position in rows, "count": rows left out there}
            op_counts    {op: how many nodes}, over the whole graph ("input" for leaves)
            chain        per input: {"input", "paths" (int, or None for more than 8),
                         "text" ("dy/dx = dy/du · du/dx = 8 · 3 = 24"), "gradient"}
            chain_elided how many inputs have no chain line (beyond the first 12)

        A Tensor summary is {"shape", "dtype", "size", "freed"} and, unless freed, "min",
        "mean", "max", and "values" (nested lists) when it has at most 64 elements.

        >>> import chainrule as cr
        >>> x = cr.Scalar(2.0, label="x")
        >>> d = cr.explain(3 * x).to_dict()
        >>> sorted(d)[:3]
        ['chain', 'chain_elided', 'elided']
        """
        return {
            "engine": self.engine,
            "output": self.output,
            "nodes": self.nodes,
            "rows_total": self.rows_total,
            "rows": self.rows,
            "elided": self.elided,
            "op_counts": self.op_counts,
            "chain": self.chain,
            "chain_elided": self.chain_elided,
        }

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:  # Jupyter shows this
        return self.markdown()

    # -- the pieces ------------------------------------------------------------------------

    def _title(self) -> str:
        expression = self.rows[-1]["expression"] if self.rows else ""
        shape = f"{self.output} = {expression}" if expression else self.output
        nodes = f"{self.nodes:,} node" + ("s" if self.nodes != 1 else "")
        title = f"Chain rule for {shape}: {self.engine} graph of {nodes}"
        if self.folded:
            title += f" in {self.rows_total:,} rows (steps by a number folded; fold=False: all)"
        return title

    def _notes(self) -> list[str]:
        notes = [self._op_counts_text()] if self.elided else []
        if self.chain:
            notes.append("")
            notes.append("the chain rule, output to input (a sum over paths where several):")
            notes.extend(line["text"] for line in self.chain)
            if self.chain_elided:
                notes.append(f"… and {self.chain_elided:,} more inputs (see report.grads)")
        return notes

    def _op_counts_text(self) -> str:
        counts = sorted(self.op_counts.items(), key=lambda item: -item[1])
        return "nodes per op: " + ", ".join(f"{op} ×{n:,}" for op, n in counts)

    def _cells(self, row: dict) -> list:
        name = row["name"]
        d = "∂" if self.engine == "Tensor" else "d"
        local = "; ".join(_local_text(d, name, entry) for entry in row["local"])
        sent = "; ".join(_sent_text(row, slot) for slot in range(len(row["sent"])))
        computes = row["expression"] if not row["leaf"] else "input"
        upstream = row["upstream"]
        if upstream is None:
            upstream = "none arrives"
        return [name, computes, _cell(row["value"]), local, _cell(upstream), sent]


def _row_dict(graph: Graph, i: int) -> dict:
    row = graph.rows[i]
    details = graph.describe(i)
    names = [graph.rows[j].name for j in row.inputs]
    local = [
        {"input": name, "formula": formula, "value": value, "jacobian": jacobian}
        for name, formula, value, jacobian in zip(
            names, details["formulas"], details["local"], details["jacobians"]
        )
    ]
    return {
        "index": i,
        "name": row.name,
        "leaf": row.leaf,
        "ops": details["ops"],
        "expression": details["expression"],
        "inputs": names,
        "value": details["value"],
        "local": local,
        "upstream": plain(row.upstream),
        "sent": [{"input": n, "value": v} for n, v in zip(names, details["sent"])],
    }


# -- the chain-rule lines -----------------------------------------------------------------


def _chain_line(graph: Graph, leaf: int) -> dict:
    """``dy/dx = dy/du · du/dx = 8 · 3 = 24`` for one input: each path's product, summed."""
    rows = graph.rows
    y, x = rows[-1].name, rows[leaf].name
    d = "∂" if graph.engine == "Tensor" else "d"
    total = plain(rows[leaf].upstream)
    paths = graph.paths_to(leaf, MAX_PATHS)
    head = f"{d}{y}/{d}{x}"
    if paths is None:
        text = f"{head} = {_text(total)} (a sum over more than {MAX_PATHS} paths)"
        return {"input": x, "paths": None, "text": text, "gradient": total}
    joiner = " · " if len(paths) == 1 else "·"

    def _input(c: int, s: int) -> str:
        return rows[rows[c].inputs[s]].name

    symbols, numbers = [], []
    for path in paths:  # each path: (child row, input slot) pairs, output first
        symbols.append(_ends(path, joiner, lambda c, s: f"{d}{rows[c].name}/{d}{_input(c, s)}"))
        if graph.engine == "Scalar":
            numbers.append(_ends(path, joiner, lambda c, s: _factor(rows[c].local[s])))
    # each part once: a path of one step is its own symbol, a product of one number its value
    parts = [head, " + ".join(symbols), " + ".join(numbers), _text(total)]
    parts = [part for k, part in enumerate(parts) if part and part not in parts[:k]]
    text = " = ".join(parts)
    return {"input": x, "paths": len(paths), "text": text, "gradient": total}


def _ends(path: list, joiner: str, show) -> str:
    """``show(row, slot)`` for each step, joined; or the first and last few around an
    ellipsis and the count (only those are formatted: a path may have 10**5 steps)."""
    count = len(path)
    if count <= 2 * _FACTORS_AT_ENDS:
        return joiner.join(show(c, s) for c, s in path)
    head = joiner.join(show(c, s) for c, s in path[:_FACTORS_AT_ENDS])
    tail = joiner.join(show(c, s) for c, s in path[-_FACTORS_AT_ENDS:])
    return f"{head}{joiner}…{joiner}{tail} ({count:,} factors)"


# -- cells: numbers and tensor summaries as text --------------------------------------------


def _local_text(d: str, name: str, entry: dict) -> str:
    head = f"{d}{name}/{d}{entry['input']}"
    value, formula = entry["value"], entry["formula"]
    if value is None:
        rows, cols = entry["jacobian"]
        return f"{head}: {rows:,}×{cols:,} Jacobian"
    shown = _text(value)
    if formula is None or formula == shown:
        return f"{head} = {shown}"
    return f"{head} = {formula} = {shown}"


def _sent_text(row: dict, slot: int) -> str:
    entry = row["sent"][slot]
    value = entry["value"]
    if value is None:
        return f"{entry['input']}: none"
    upstream, local = row["upstream"], row["local"][slot]["value"]
    if any(_number(v) is None for v in (value, upstream, local)):
        return f"{entry['input']}: {_text(value)}"
    return f"{entry['input']}: {_factor(upstream)}·{_factor(local)} = {_text(value)}"


def _number(value) -> float | None:
    """A number, or a one-element summary's number; else None."""
    if isinstance(value, dict):
        return float(value["min"]) if value["size"] == 1 and not value["freed"] else None
    return None if value is None else float(value)


def _text(value) -> str:
    """A number or a summary as short text."""
    shown = _cell(value)
    return shown if isinstance(shown, str) else format_number(shown)


def _factor(value) -> str:
    """A number inside a product: negative ones in parentheses, 2·(-1.5)."""
    text = _text(value)
    return f"({text})" if text.startswith("-") else text


def _cell(value):
    """A number stays a number (right-aligned by Table); a summary becomes short text."""
    if isinstance(value, (float, int)):
        return value
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return _summary_text(value)


def _summary_text(summary: dict) -> str:
    shape = tuple(summary["shape"])
    if summary["freed"]:
        return f"{shape} {summary['dtype']} (freed)"
    if summary["size"] == 1:
        return format_number(float(summary["min"]))  # float() reads "nan", "inf" back
    if summary["size"] <= 4:
        flat = np.ravel(np.array(summary["values"], dtype=object))
        return f"{shape} [{', '.join(format_number(float(v)) for v in flat)}]"
    stats = (format_number(float(summary[k]), 3) for k in ("min", "mean", "max"))
    return "{} min {} mean {} max {}".format(shape, *stats)
