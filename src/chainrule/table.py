"""Tables of numbers for the terminal and for Markdown: how chainrule shows its work.

The core prints tables (the tour, step-by-step descent, the chain-rule report) with no
dependency beyond NumPy, so this small renderer lives here rather than in an extra.

>>> t = Table(["step", "w"], [[1, 1.8], [2, 2.52]], title="descent")
>>> print(t.text())
descent
step     w
----  ----
   1   1.8
   2  2.52
>>> print(t.markdown())
**descent**
<BLANKLINE>
| step | w |
|---:|---:|
| 1 | 1.8 |
| 2 | 2.52 |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

__all__ = ["Table", "format_number"]


def format_number(value, digits: int = 6) -> str:
    """A number the way a person writes it: ``2.52`` not ``2.5200000000000005``.

    >>> format_number(3.4000000000000004), format_number(0.9933071490757153), format_number(24)
    ('3.4', '0.993307', '24')
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


@dataclass
class Table:
    """Rows under named columns; numbers are right-aligned, text left-aligned."""

    columns: Sequence[str]
    rows: Sequence[Sequence]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    # a line of text shown before row i (say, where rows were left out): {i: text}
    gaps: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"Table row {i} has {len(row)} cells but there are {len(self.columns)} "
                    f"columns {list(self.columns)}"
                )

    def _cells(self) -> list[list[str]]:
        return [[format_number(cell) for cell in row] for row in self.rows]

    def _numeric(self) -> list[bool]:
        """A column is numeric when every cell in it is a number."""
        return [
            all(isinstance(row[j], Real) and not isinstance(row[j], bool) for row in self.rows)
            for j in range(len(self.columns))
        ]

    def text(self) -> str:
        """The table for a terminal, with a rule under the header."""
        cells = self._cells()
        numeric = self._numeric()
        widths = [
            max([len(name)] + [len(row[j]) for row in cells]) for j, name in enumerate(self.columns)
        ]

        def line(values):
            padded = [
                v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)
            ]
            return "  ".join(padded).rstrip()

        out = [self.title] if self.title else []
        out.append(line(self.columns))
        out.append("  ".join("-" * w for w in widths))
        for i, row in enumerate(cells):
            if i in self.gaps:
                out.append(self.gaps[i])
            out.append(line(row))
        if len(cells) in self.gaps:
            out.append(self.gaps[len(cells)])
        out.extend(self.notes)
        return "\n".join(out)

    def markdown(self) -> str:
        """The table as GitHub-flavoured Markdown."""
        numeric = self._numeric()
        out = [f"**{self.title}**", ""] if self.title else []
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
        cells = self._cells()
        blank = [""] * (len(self.columns) - 1)
        for i, row in enumerate(cells + [None]):
            if i in self.gaps:
                out.append(_markdown_row([self.gaps[i], *blank]))
            if row is not None:
                out.append(_markdown_row(row))
        if self.notes:
            out.append("")
            out.extend(self.notes)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()


def _markdown_row(cells: Sequence[str]) -> str:
    # a "|" inside a cell (|u| for an absolute value) would end the cell
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
