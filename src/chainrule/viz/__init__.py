"""Pictures of derivatives, descents and training (matplotlib, imported only when drawing).

Names load on first use, so ``import chainrule.viz`` works without matplotlib; drawing
without it raises ImportError naming the extra to install (``pip install chainrule[viz]``).

>>> import chainrule.viz
>>> sorted(chainrule.viz.__all__)[:2]
['animate', 'plot_derivative']
"""

from __future__ import annotations

import importlib

# Imported now, not lazily: the submodule chainrule.viz.animate would otherwise shadow the
# function of the same name as an attribute of this package once anything imports it.
# (animate.py, like plots.py, imports matplotlib only inside its functions.)
from chainrule.viz.animate import animate

__all__ = [
    "animate",
    "plot_derivative",
    "plot_gradient_flow",
    "plot_history",
    "plot_lr_sweep",
    "plot_surface",
]

_HOMES = {
    "plot_derivative": "chainrule.viz.plots",
    "plot_gradient_flow": "chainrule.viz.plots",
    "plot_history": "chainrule.viz.plots",
    "plot_lr_sweep": "chainrule.viz.plots",
    "plot_surface": "chainrule.viz.plots",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
