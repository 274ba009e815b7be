"""Pictures: computational graphs (``to_dot``, ``draw``, ``save_graph``), plots of derivatives,
surfaces, training and gradient flow, and descent animations.

Importing ``chainrule.viz`` imports neither matplotlib nor graphviz: each name is loaded from
its module the first time it is used, and only that module imports what it needs.

>>> import chainrule as cr
>>> x = cr.Scalar(3.0, label="x")
>>> cr.viz.to_dot(x * x).startswith("digraph")
True
"""

from __future__ import annotations

import importlib

# Imported now, not lazily: once anything imports the submodule chainrule.viz.animate, Python
# binds that module to this package's attribute "animate", shadowing the function of the same
# name. (animate.py, like every module here, imports matplotlib only inside its functions.)
from chainrule.viz.animate import animate  # noqa: F401 (exported through __all__)

# name -> the module of chainrule.viz that defines it
_LAZY = {
    "GraphvizNotFound": "graph",
    "draw": "graph",
    "save_graph": "graph",
    "to_dot": "graph",
    "plot_derivative": "plots",
    "plot_gradient_flow": "plots",
    "plot_history": "plots",
    "plot_lr_sweep": "plots",
    "plot_surface": "plots",
    "animate": "animate",  # imported above; listed so that __all__ names it
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"chainrule.viz.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
