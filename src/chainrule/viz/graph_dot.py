"""DOT statements for a graph's units: one table-shaped node per box, edges input -> use.

Every node is an HTML-like table: a header (the op, or the input's name; a different colour
for inputs, ops, the output and folded boxes), the user's name, the value, and the gradient,
whose cell is shaded by its size. An edge's width and colour grow with the gradient it carries
back relative to the graph's largest (``edge_style``): for Scalars what the chain rule sends
along it (local derivative times the gradient of the op it feeds), for Tensors its input's
gradient. Edges into ops with several operands carry the operand's position (``0``, ``1``).
User text reaches DOT only through ``html_text``, which escapes it.

>>> html_text('<b>&"x"')
'&lt;b&gt;&amp;&quot;x&quot;'
>>> edge_style(0.0)["penwidth"] < edge_style(0.5)["penwidth"] < edge_style(1.0)["penwidth"]
True
"""

from __future__ import annotations

import html
import math
import unicodedata
from collections import Counter

from chainrule.viz.graph_fold import Group

__all__ = ["dot_lines", "edge_style", "html_text"]

_FONT = "Helvetica"
_HEADER_COLORS = {"input": "#DCEBF7", "op": "#EEEEEE", "output": "#D9F0D3", "folded": "#FFF2CC"}
_GRAD_COLOR = (0xD5, 0x5E, 0x00)  # vermilion (Okabe-Ito): large gradients
_QUIET_COLOR = (0x99, 0x99, 0x99)  # grey: edges with small or no gradient
_UNSET_FILL = "#F2F2F2"
_QUICK_LAYOUT_ABOVE = 60  # boxes


def html_text(text) -> str:
    """``text`` safe inside an HTML-like DOT label: markup escaped, control characters out."""
    text = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in str(text)
    )  # a newline or NUL in a user's label must not end the label or the file
    return html.escape(text, quote=True)


def edge_style(ratio: float | None) -> dict[str, str]:
    """An edge's attributes for a gradient ``ratio`` (its size over the largest), None if unset.

    The width and the colour both grow with the ratio, so a large gradient is visible in
    print and on screen.
    """
    if ratio is None:
        return {"penwidth": "1.00", "color": _hex(_QUIET_COLOR), "style": "dashed"}
    ratio = min(max(ratio, 0.0), 1.0)
    return {"penwidth": f"{1 + 4 * ratio:.2f}", "color": _hex(_blend(_QUIET_COLOR, ratio))}


def dot_lines(units: list, items: list, owner: list[int], rankdir: str, note: str | None):
    """The statements of the DOT graph (each a line ending in a newline), header first."""
    largest = max((u.magnitude for u in units if u.magnitude is not None), default=0.0)
    largest = max([largest, *(g for u in units if u.sent for g in u.sent if g is not None)])

    def ratio(magnitude: float | None) -> float | None:
        if magnitude is None:
            return None
        if math.isinf(magnitude) or largest == 0.0 or math.isinf(largest):
            return 1.0 if math.isinf(magnitude) else 0.0
        return magnitude / largest

    root_item = owner[-1]
    # dot's layout slows down steeply on big graphs (a 200-node graph with a hub took
    # minutes): fewer network-simplex and crossing-minimisation passes keep it to seconds
    quick = " nslimit=2 nslimit1=2 mclimit=0.2" if len(items) > _QUICK_LAYOUT_ABOVE else ""
    lines = [f'\tgraph [rankdir={rankdir} fontname="{_FONT}" fontsize=11 labelloc=t{quick}]\n']
    if note:
        lines.append(f"\tlabel=<{html_text(note)}>\n")
    lines.append(f'\tnode [shape=plain fontname="{_FONT}" fontsize=10]\n')
    lines.append(f'\tedge [arrowsize=0.7 fontname="{_FONT}" fontsize=10]\n')
    for k, item in enumerate(items):
        if isinstance(item, Group):
            table = _group_table(item, units, ratio)
        else:
            kind = "output" if k == root_item else "op" if units[item].inputs else "input"
            if kind == "output" and not units[item].inputs:
                kind = "input"
            table = _unit_table(units[item], kind, ratio)
        lines.append(f"\tn{k} [label=<{table}>]\n")
    lines.extend(_edges(units, items, owner, ratio))
    return lines


def _edges(units, items, owner, ratio) -> list[str]:
    # per (source item, target item, slot): the largest gradient among the units it stands for
    edges: dict[tuple[int, int, int | None], float | None] = {}
    for i, unit in enumerate(units):
        target = owner[i]
        # operand numbers on the edges into a box that is one op of several operands (the
        # text of folded nodes is never made: a folded 100,000-node chain stays cheap)
        numbered = isinstance(items[target], int) and len(unit.inputs) + len(unit.constants) > 1
        for k, (j, slot) in enumerate(unit.inputs):
            source = owner[j]
            if source == target:
                continue
            key = (source, target, slot if numbered else None)
            # the gradient this edge carries back where it is known, else its input's
            size = unit.sent[k] if unit.sent is not None else units[j].magnitude
            edges[key] = _larger(edges.get(key), ratio(size))
    lines = []
    for (source, target, slot), r in edges.items():
        attributes = edge_style(r)
        if slot is not None:
            attributes["headlabel"] = str(slot)
        lines.append(f"\tn{source} -> n{target} [{_attributes(attributes)}]\n")
    for k, item in enumerate(items):
        if isinstance(item, Group):
            continue
        unit = units[item]
        for slot, text in unit.constants:
            lines.append(
                f'\tc{k}_{slot} [label=<{html_text(text)}> shape=box style="rounded,dashed" '
                "color=gray60 fontcolor=gray30]\n"
            )
            lines.append(f'\tc{k}_{slot} -> n{k} [headlabel="{slot}" color=gray60 style=dashed]\n')
    return lines


def _larger(old: float | None, new: float | None) -> float | None:
    """The larger of two gradient ratios, None (unset) counting as the smallest."""
    if old is None or new is None:
        return new if old is None else old
    return max(old, new)


def _unit_table(unit, kind: str, ratio) -> str:
    rows = [_header(unit.title, kind)]
    if unit.name and unit.name != unit.title:
        rows.append(_cell([unit.name], None, italic=True))
    rows.append(_cell(unit.value, None))
    rows.append(_cell(unit.grad, _grad_fill(ratio(unit.magnitude))))
    return _table(rows)


def _group_table(group: Group, units: list, ratio) -> str:
    members = [units[i] for i in group.members]
    if group.kind == "module":
        title = f"module {group.name}"
    elif group.kind == "run":
        title = f"{len(members):,} nodes in a chain, folded"
    else:
        title = f"{len(members):,} earlier nodes, folded"
    rows = [_header(title, "folded")]
    ops = Counter(_op_family(u.op) for u in members if u.op)
    if ops:
        rows.append(_cell([", ".join(f"{op} ×{n}" for op, n in ops.most_common(4))], None))
    params = [u for u in members if not u.inputs and u.name]
    for unit in params[:6]:
        lines = [f"{unit.name}: {unit.value[0]}", *unit.grad[-1:]]
        rows.append(_cell(lines, _grad_fill(ratio(unit.magnitude))))
    if len(params) > 6:
        rows.append(_cell([f"and {len(params) - 6} more parameters"], None))
    largest = max((u.magnitude for u in members if u.magnitude is not None), default=None)
    if not params:
        shown = "unset" if largest is None else f"{largest:.4g}"
        rows.append(_cell([f"largest |grad| {shown}"], _grad_fill(ratio(largest))))
    return _table(rows)


def _op_family(op: str) -> str:
    """A Scalar op without its number ("* 0.5" and "* 2" are both "*"); others as they are."""
    parts = op.split(" ")
    if len(parts) == 2:
        return parts[1] if _is_number(parts[0]) else parts[0]
    return op


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _table(rows: list[str]) -> str:
    return (
        '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
        + "".join(rows)
        + "</TABLE>"
    )


def _header(title: str, kind: str) -> str:
    return f'<TR><TD BGCOLOR="{_HEADER_COLORS[kind]}"><B>{html_text(title)}</B></TD></TR>'


def _cell(lines: list[str], fill: str | None, italic: bool = False) -> str:
    body = '<BR ALIGN="LEFT"/>'.join(html_text(line) for line in lines)
    if italic:
        body = f"<I>{body}</I>"
    color = f' BGCOLOR="{fill}"' if fill else ""
    return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"{color}>{body}</TD></TR>'


def _grad_fill(r: float | None) -> str:
    if r is None:
        return _UNSET_FILL
    # from white (no gradient) to a light vermilion (the largest): text stays readable
    return _hex(_blend((0xFF, 0xFF, 0xFF), 0.6 * min(max(r, 0.0), 1.0)))


def _blend(start: tuple, amount: float) -> tuple:
    return tuple(round(a + (b - a) * amount) for a, b in zip(start, _GRAD_COLOR))


def _hex(rgb: tuple) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _attributes(attributes: dict[str, str]) -> str:
    return " ".join(f'{key}="{value}"' for key, value in attributes.items())
