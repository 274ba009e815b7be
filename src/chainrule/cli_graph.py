"""``chainrule graph``: the computational graph of a formula at a point, after backward.

The formula is evaluated on Scalars named after its variables, so the graph exists; then
``backward()`` fills every node's gradient. Without ``-o`` the DOT text is printed; ``-o``
writes a file by its suffix (``.dot``/``.gv`` text; ``.svg``, ``.png``, ``.pdf`` drawn by
Graphviz's ``dot``). Bad input exits with code 2 and one line on stderr; where ``dot`` is
missing, that line says to install Graphviz and where the DOT text was written instead.

>>> graph_command("sigmoid(a*x + b)", "a=1,x=2,b=3", None)  # doctest: +ELLIPSIS
digraph chainrule {
...
0
"""

from __future__ import annotations

import sys

from chainrule.cli_output import CommandError, check_point, parse_point
from chainrule.expr import ParseError, parse
from chainrule.scalar import Scalar

__all__ = ["graph_command"]

_WHERE = "chainrule graph"


def graph_command(formula: str, at: str | None, output: str | None, max_nodes: int = 200) -> int:
    """Print or write the graph of ``formula`` at point ``at`` (``"x=2,y=1"``); the exit code."""
    from chainrule.viz.graph import GraphvizNotFound, save_graph, to_dot

    try:
        y = _evaluated(formula, at)
        if output is None:
            sys.stdout.write(to_dot(y, max_nodes=max_nodes))
            return 0
        path = save_graph(y, output, max_nodes=max_nodes)
    except (ParseError, CommandError, ValueError) as error:
        # a ParseError's text is the message, then the formula with a caret under the error
        sys.stderr.write(f"{_WHERE}: error: {error}\n")
        return 2
    except GraphvizNotFound as error:
        sys.stderr.write(f"{_WHERE}: error: {error}\n")
        return 2
    except (OSError, RuntimeError) as error:  # a folder that does not exist, dot failing
        sys.stderr.write(f"{_WHERE}: error: {str(error).splitlines()[0]}\n")
        return 2
    print(f"wrote {path}")
    return 0


def _evaluated(formula: str, at: str | None) -> Scalar:
    """The formula evaluated on Scalars labelled by variable, after backward."""
    f = parse(formula)
    point = {} if at is None else parse_point(at, "--at")
    check_point(point, f.variables, "--at", "the formula")
    y = f(**{name: Scalar(value, label=name) for name, value in point.items()})
    if not isinstance(y, Scalar):
        raise CommandError(f"the formula {f.text!r} has no variables: there is no graph to draw")
    y.backward()
    return y
