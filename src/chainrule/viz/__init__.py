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
    # the function, not the module chainrule.viz.animate: __getattr__ sets it after the import
    # (which binds the submodule to this name), so cr.viz.animate is the function
    "animate": "animate",
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
