"""Pictures of computational graphs: DOT text with no dependency, graphviz for the rest.

``to_dot(y)`` walks the graph behind a Scalar or a Tensor and writes it in Graphviz's DOT
language: a box per node with its op (or its name), value and gradient, edges from each input
to the op that uses it, left to right. ``draw(y)`` wraps the same text in a
``graphviz.Digraph``, which Jupyter shows inline; ``save_graph(y, "graph.svg")`` writes a file
(``.dot``/``.gv`` as text; ``.svg``, ``.png``, ``.pdf`` through Graphviz's ``dot`` program).

How to read a picture: an input's box is blue, an op's grey, the output's green; the last line
of a box is its gradient (``unset`` until ``backward()`` has computed it), shaded darker the
larger it is, and an edge is as wide as the gradient it carries back, relative to the graph's
largest (for Scalars, what the chain rule sends along it; for Tensors, its input's gradient).
Operands are numbered ``0``, ``1`` on the edges into an op that takes several,
so ``a - b`` and ``b - a`` look different.

>>> import chainrule as cr
>>> a, x, b = cr.Scalar(1.0, label="a"), cr.Scalar(2.0, label="x"), cr.Scalar(3.0, label="b")
>>> y = (a * x + b).sigmoid()
>>> y.backward()
>>> text = to_dot(y)
>>> text.startswith("digraph chainrule {"), "sigmoid" in text, "data 0.9933" in text
(True, True, True)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from chainrule.viz.files import atomic_path
from chainrule.viz.graph_dot import dot_lines
from chainrule.viz.graph_fold import Group, fold
from chainrule.viz.graph_nodes import graph_units

__all__ = ["GraphvizNotFound", "draw", "save_graph", "to_dot"]

_RANKDIRS = ("LR", "RL", "TB", "BT")
_TEXT_SUFFIXES = (".dot", ".gv")
_RENDERED_SUFFIXES = (".svg", ".png", ".pdf")
_INSTALL_DOT = "install Graphviz: apt-get install graphviz (or brew/conda install graphviz)"


class GraphvizNotFound(ImportError, RuntimeError):
    """Graphviz (the ``dot`` program, or the ``graphviz`` Python package) is missing.

    An ImportError and a RuntimeError both, so either ``except`` catches it. ``dot_path``
    is where ``save_graph`` wrote the DOT text instead (None if it wrote none); the text is
    always available from ``to_dot(y)``, which needs nothing.
    """

    def __init__(self, message: str, dot_path: Path | None = None):
        super().__init__(message)
        self.dot_path = dot_path


def to_dot(
    y,
    *,
    rankdir: str = "LR",
    params=None,
    max_nodes: int | None = 200,
    grads: bool | None = None,
    digits: int = 4,
) -> str:
    """The DOT text of the graph that computed ``y`` (a Scalar or a Tensor).

    ``params`` names Tensor leaves, like torchviz: a dict ``{name: tensor}``, the pairs of
    ``model.named_parameters()``, or the model itself (otherwise a tensor's ``label`` names
    it). Graphs of more than ``max_nodes`` nodes are folded, by module first (parameters
    named ``0.weight``, ``2.bias``), then runs of a chain, then the nodes furthest from the
    output, and the picture says how many were folded; ``max_nodes=None`` never folds.
    ``grads`` forces gradients shown (True) or shown as unset (False); by default a Tensor
    shows its ``.grad`` when it has one, and a Scalar graph shows gradients once its
    output's is non-zero (after ``backward()``). ``digits``: significant digits of numbers.
    A Tensor graph can be drawn before or after ``backward()``; after it, the values in
    between read ``data freed`` (as in PyTorch, backward frees them: pass
    ``retain_graph=True`` to keep them) and only leaves, the output and tensors that called
    ``retain_grad()`` hold gradients.

    >>> import chainrule as cr
    >>> w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = (w * w).sum()
    >>> text = to_dot(loss, params={"w": w})
    >>> "2×2 float32" in text, "‖data‖ 5.477" in text, "grad unset" in text
    (True, True, True)
    """
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or max_nodes < 3):
        raise ValueError(f"max_nodes must be at least 3 (or None: never fold), got {max_nodes!r}")
    units = graph_units(y, params=params, grads=grads, digits=digits)
    items, owner = fold(units, max_nodes)
    folded = sum(len(item.members) for item in items if isinstance(item, Group))
    note = None
    if folded:
        boxes = sum(isinstance(item, Group) for item in items)
        note = (
            f"{len(units):,} nodes: {folded:,} folded into {boxes} "
            f"box{'es' if boxes > 1 else ''} (max_nodes={max_nodes})"
        )
    lines = dot_lines(units, items, owner, rankdir, note)
    return "digraph chainrule {\n" + "".join(lines) + "}\n"


def draw(y, **options):
    """The graph of ``y`` as a ``graphviz.Digraph``: Jupyter shows it inline; ``.render()``
    and ``.pipe()`` work as usual. Takes ``to_dot``'s options. Needs the ``graphviz``
    package (``pip install chainrule[viz]``), and Graphviz's ``dot`` program to display.

    >>> import chainrule as cr
    >>> x = cr.Scalar(3.0, label="x")
    >>> graph = draw(x * x)
    >>> type(graph).__name__, str(graph) == to_dot(x * x)
    ('Digraph', True)
    """
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFound(
            "draw() needs the graphviz Python package: pip install chainrule[viz] "
            "(cr.viz.to_dot(y) gives the DOT text without it)"
        ) from None
    text = to_dot(y, **options)
    graph = graphviz.Digraph("chainrule")
    # the body is to_dot's statements, so str(graph) is exactly to_dot(y)
    graph.body.extend(text.splitlines(keepends=True)[1:-1])
    return graph


def save_graph(y, path, **options) -> Path:
    """Write the graph of ``y`` to ``path``, in the format its suffix names; returns the path.

    ``.dot`` and ``.gv`` are DOT text (no dependency); ``.svg``, ``.png`` and ``.pdf`` are
    drawn by Graphviz's ``dot`` program. Where ``dot`` is missing, the DOT text is written
    beside ``path`` with the suffix ``.dot`` and ``GraphvizNotFound`` says where. Files are
    written whole or not at all (a temporary file, then renamed). Takes ``to_dot``'s options.

    >>> import os, tempfile
    >>> import chainrule as cr
    >>> x = cr.Scalar(3.0, label="x")
    >>> folder = tempfile.mkdtemp()
    >>> saved = save_graph(x * x, os.path.join(folder, "square.dot"))
    >>> saved.read_text().startswith("digraph")
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _TEXT_SUFFIXES + _RENDERED_SUFFIXES:
        known = ", ".join(_TEXT_SUFFIXES + _RENDERED_SUFFIXES)
        raise ValueError(f"save_graph: path must end in one of {known}, got {str(path)!r}")
    text = to_dot(y, **options)
    if suffix in _TEXT_SUFFIXES:
        _write_atomically(path, text.encode("utf-8"))
        return path
    dot = shutil.which("dot")
    if dot is None:
        dot_path = path.with_suffix(".dot")
        _write_atomically(dot_path, text.encode("utf-8"))
        raise GraphvizNotFound(
            f"writing {path.name} needs Graphviz's dot program, which is not on PATH: "
            f"{_INSTALL_DOT}; the DOT text was written to {dot_path} "
            f"(later: dot -T{suffix[1:]} {dot_path} -o {path})",
            dot_path=dot_path,
        )
    _render(dot, text, path, suffix[1:])
    return path


def _render(dot: str, text: str, path: Path, fmt: str) -> None:
    with atomic_path(path) as temporary:
        done = subprocess.run(
            [dot, f"-T{fmt}", "-o", str(temporary)],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(
                f"Graphviz's dot could not draw {path.name}: "
                f"{reason[0] if reason else f'exit code {done.returncode}'}"
            )


def _write_atomically(path: Path, content: bytes) -> None:
    with atomic_path(path) as temporary:
        temporary.write_bytes(content)
