"""What every ``chainrule`` subcommand shares: reading points, bad-input errors, and
showing a result as text, rich tables on a terminal, Markdown or JSON.

A command builds an ``Output`` (blocks to show, and the same facts as plain data) and
``render`` turns it into what the user asked for, so tests can check the data directly.

>>> parse_point("x=2, y=-1.5", "--at")
{'x': 2.0, 'y': -1.5}
>>> out = Output([Table(["x", "f(x)"], [[2.0, 4.0]]), "done"], {"x": 2.0, "value": 4.0})
>>> print(render(out, json_output=False, terminal=False), end="")
x  f(x)
-  ----
2     4
done
>>> print(render(out, json_output=True, terminal=False), end="")
{
  "x": 2.0,
  "value": 4.0
}
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from chainrule.table import Table

__all__ = ["CommandError", "Output", "check_point", "parse_point", "plain", "render"]


class CommandError(Exception):
    """Bad input to a subcommand: the message is shown as one line, exit code 2."""


@dataclass
class Output:
    """A command's result: ``blocks`` (Tables or text) for people, ``data`` for ``--json``."""

    blocks: list = field(default_factory=list)
    data: dict = field(default_factory=dict)


def parse_point(text: str, option: str) -> dict[str, float]:
    """``"x=2,y=1"`` as ``{"x": 2.0, "y": 1.0}``; CommandError naming the bad part."""
    point: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        name, equals, number = (piece.strip() for piece in part.partition("="))
        if not equals or not name:
            raise CommandError(f"{option}: expected name=number pairs like x=2,y=1, got {part!r}")
        if not name.isidentifier():
            raise CommandError(f"{option}: {name!r} is not a variable name (in {part!r})")
        if name in point:
            raise CommandError(f"{option}: {name} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise CommandError(f"{option}: {number!r} is not a number (in {part!r})") from None
        point[name] = value
    return point


def check_point(point: Mapping[str, float], variables, option: str, what: str) -> None:
    """CommandError unless ``point`` gives exactly the ``variables`` of ``what``.

    >>> check_point({"x": 1.0}, ("x", "y"), "--at", "the formula")
    Traceback (most recent call last):
    ...
    chainrule.cli_output.CommandError: --at gives no value for y (the formula's variables: x, y)
    """
    names = ", ".join(variables) if variables else "none"
    missing = [name for name in variables if name not in point]
    if missing:
        raise CommandError(
            f"{option} gives no value for {', '.join(missing)} ({what}'s variables: {names})"
        )
    extra = [name for name in point if name not in variables]
    if extra:
        raise CommandError(
            f"{option} names {', '.join(extra)}, not a variable of {what} (its variables: {names})"
        )


def plain(value):
    """Plain Python for JSON: arrays as lists, nan and ±inf as the strings "nan", "inf", "-inf".

    >>> plain({"g": np.array([1.0, np.inf]), "n": np.int64(3)})
    {'g': [1.0, 'inf'], 'n': 3}
    """
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def render(output: Output, json_output: bool, terminal: bool, markdown: bool = False) -> str:
    """The text to print: JSON, Markdown, rich tables (``terminal`` and rich installed) or
    plain text. Ends with a newline."""
    if json_output:
        return json.dumps(plain(output.data), indent=2, allow_nan=False) + "\n"
    if markdown:
        parts = [b.markdown() if hasattr(b, "markdown") else str(b) for b in output.blocks]
        return "\n\n".join(parts) + "\n"
    if terminal and importlib.util.find_spec("rich") is not None:
        return _rich_text(output.blocks)
    return "\n".join(str(block) for block in output.blocks) + "\n"


def _rich_text(blocks: list) -> str:
    """The blocks drawn by rich (tables with borders, colour) into a string for stdout."""
    from rich.console import Console

    buffer = io.StringIO()
    # drawn into a buffer, so rich can't see the terminal: give it the terminal's width
    width = shutil.get_terminal_size().columns
    console = Console(file=buffer, force_terminal=True, highlight=False, width=width)
    for block in blocks:
        if isinstance(block, Table):
            console.print(_rich_table(block))
        else:
            console.print(str(block), markup=False)
    return buffer.getvalue()


def _rich_table(table: Table):
    from rich.table import Table as RichTable
    from rich.text import Text  # cells are text, never rich markup (a "[" stays a "[")

    numeric = table._numeric()
    shown = RichTable(title=table.title or None, title_justify="left")
    for name, is_number in zip(table.columns, numeric):
        shown.add_column(name, justify="right" if is_number else "left")
    for i, row in enumerate(table._cells()):
        if i in table.gaps:
            shown.add_row(Text(table.gaps[i], style="dim"), *[""] * (len(row) - 1))
        shown.add_row(*(Text(cell) for cell in row))
    if table.notes:
        shown.caption = Text("\n".join(table.notes))
        shown.caption_justify = "left"
    return shown
