"""Scalar graphs for ``cr.explain``: rows, affine steps folded, formulas from scalar.FORMULAS.

Every gradient of a Scalar graph is a float, so all are kept: the walk is one multiply-add
per edge, like ``Scalar.backward`` but into the rows rather than into ``.grad``.
"""

from __future__ import annotations

import math

from chainrule.explain_graph import Graph, Row, plain, superscript_powers
from chainrule.graph import topological_order
from chainrule.scalar import FORMULAS, formula_key
from chainrule.table import format_number

__all__ = ["ScalarGraph"]


def _is_affine(node) -> bool:
    """A step by a plain number that keeps the line straight: + c, c +, - c, c -, * c, / c."""
    code = node._opcode
    if type(code) is str:
        return code == "neg"
    symbol, _, constant_first = code
    return symbol in ("+", "-", "*") or (symbol == "/" and not constant_first)


class ScalarGraph(Graph):
    """Rows of a Scalar graph, with every gradient (they are floats: cheap to keep)."""

    engine = "Scalar"

    def __init__(self, root, fold: bool, seed: float):
        order = topological_order(root)
        # read the nodes' slots directly (x, y: inputs; dx, dy: local derivatives): the
        # protocol's properties build a tuple per call, and a report may read 10**5 nodes
        uses: dict[int, int] = {}
        for node in order:
            if node._x is not None:
                uses[id(node._x)] = uses.get(id(node._x), 0) + 1
                if node._y is not None:
                    uses[id(node._y)] = uses.get(id(node._y), 0) + 1
        rows: list[Row] = []
        row_of: dict[int, int] = {}
        for node in order:
            x = node._x
            if x is None:
                row_of[id(node)] = len(rows)
                rows.append(Row([node], [], [], node.label))
                continue
            if fold and node._y is None and _is_affine(node):
                if x._x is not None and _is_affine(x) and uses[id(x)] == 1 and not x.label:
                    r = row_of[id(x)]  # x ends that row: extend it by this step
                    row = rows[r]
                    row.nodes.append(node)
                    row.local.append(node._dx)
                    row.label = node.label
                    row_of[id(node)] = r
                    self.folded = True
                    continue
            y = node._y
            if y is None:
                inputs, local = [row_of[id(x)]], [node._dx]
            else:
                inputs, local = [row_of[id(x)], row_of[id(y)]], [node._dx, node._dy]
            row_of[id(node)] = len(rows)
            rows.append(Row([node], inputs, local, node.label))
        # a folded row's local derivative is the product of its steps'; keep the factors
        self._factors = {}
        for i, row in enumerate(rows):
            if len(row.nodes) > 1:
                self._factors[i] = row.local
                row.local = [math.prod(row.local)]
        super().__init__(rows, len(order), [_scalar_op_key(node) for node in order])
        self._walk(seed)
        self.grads = {row.name: row.upstream for row in rows if row.leaf}

    def _walk(self, seed: float) -> None:
        """d(output)/d(row) for every row: reverse evaluation order, the chain rule per edge."""
        rows = self.rows
        upstream = [0.0] * len(rows)
        upstream[-1] = seed
        for i in range(len(rows) - 1, -1, -1):
            row = rows[i]
            g = upstream[i]
            row.upstream = g
            for j, local in zip(row.inputs, row.local):
                upstream[j] += local * g

    def describe(self, i: int) -> dict:
        row = self.rows[i]
        names = self._input_names(row)
        node = row.nodes[-1]
        g = row.upstream
        if row.leaf:
            expression, formulas = "", []
        elif i in self._factors:
            expression = _folded_expression(row.nodes, names[0])
            formulas = [_product_text(self._factors[i])]
        else:
            expression, formulas = _scalar_formulas(node, names)
        return {
            "ops": [n.op for n in row.nodes] if not row.leaf else [],
            "expression": expression,
            "value": plain(node.data),
            "formulas": formulas,
            "local": [plain(local) for local in row.local],
            "jacobians": [None] * len(row.local),
            "sent": [plain(local * g) for local in row.local],
        }


def _scalar_op_key(node) -> str:
    code = node._opcode
    if type(code) is str:
        return code or "input"
    return f"{code[0]} number"


def _scalar_formulas(node, names: list[str]) -> tuple[str, list[str]]:
    expression, derivatives = FORMULAS[formula_key(node._opcode)]
    fields = _fields(node, names)
    return _fill(expression, fields), [_fill(d, fields) for d in derivatives]


def _fields(node, names: list[str]) -> dict:
    code = node._opcode
    fields = {"x": names[0], "y": names[1] if len(names) > 1 else ""}
    if type(code) is not str:
        fields["c"] = _constant(code[1])
        fields["c_1"] = _constant(code[1] - 1.0)
    return fields


def _constant(c: float) -> str:
    text = format_number(c)
    return f"(−{text[1:]})" if text.startswith("-") else text


# Longer runs of folded steps show their first few and a count.
_FOLDED_STEPS_SHOWN = 4


def _folded_expression(nodes: list, x: str) -> str:
    """The expression of a run of affine steps applied to ``x``: 3·x + 1, (x − 2)/4."""
    text, kind = x, "atom"
    for node in nodes[:_FOLDED_STEPS_SHOWN]:
        key = formula_key(node._opcode)
        # parentheses where the math needs them or the eye would stumble: a sum inside a
        # product, a negation after a minus ("2 − (−x)", not "2 − −x")
        wrap = (kind == "sum" and key not in _SUM_KEEPS_SUM) or (
            kind == "negation" and key in _NEGATION_NEEDS_PARENTHESES
        )
        operand = f"({text})" if wrap else text
        text = _fill(FORMULAS[key][0], _fields(node, [operand]))
        kind = "negation" if key == "neg" else "sum" if key[0] in ("+", "-") else "product"
    if len(nodes) > _FOLDED_STEPS_SHOWN:
        text += f" … ({len(nodes):,} steps)"
    return text


_SUM_KEEPS_SUM = {("+", False), ("+", True), ("-", False)}
_NEGATION_NEEDS_PARENTHESES = {("+", True), ("-", True), "neg"}


def _product_text(factors: list[float]) -> str:
    """3·1, or 1·1·1·…·1 (5,000 factors): only the factors shown are formatted."""
    if len(factors) > 2 * _FOLDED_STEPS_SHOWN:
        head = "·".join(format_number(f) for f in factors[:3])
        return f"{head}·…·{format_number(factors[-1])} ({len(factors):,} factors)"
    return "·".join(format_number(f) for f in factors)


def _fill(template: str, fields: dict) -> str:
    """The template with names and numbers filled in; integer powers as superscripts."""
    return superscript_powers(template.format(**fields))
