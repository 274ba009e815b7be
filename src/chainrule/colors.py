"""One colour per optimiser, shared by every picture and by the hiker's web page.

A learner who saw Adam drawn in vermilion in a matplotlib figure finds it in vermilion on the
page too. The palette is Okabe and Ito's, chosen to stay distinct for colour-blind readers;
yellow is left out because it vanishes on a white background.

>>> OPTIMIZER_COLORS["adam"]
'#D55E00'
>>> optimizer_color("Momentum")
'#E69F00'
>>> sorted(OPTIMIZER_COLORS) == sorted(__import__("chainrule.descent").descent.OPTIMIZERS)
True
"""

from __future__ import annotations

__all__ = ["OPTIMIZER_COLORS", "FALLBACK_COLORS", "optimizer_color"]

OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#0072B2",  # blue
    "momentum": "#E69F00",  # orange
    "nesterov": "#CC79A7",  # reddish purple
    "adagrad": "#56B4E9",  # sky blue
    "rmsprop": "#009E73",  # bluish green
    "adam": "#D55E00",  # vermilion
    "adamw": "#8C564B",  # brown
    "newton": "#000000",  # black
}

# for optimisers outside the table (a user's own class), in order of appearance
FALLBACK_COLORS: tuple[str, ...] = ("#7F7F7F", "#17BECF", "#BCBD22", "#9467BD", "#E377C2")


def optimizer_color(name: str, index: int = 0) -> str:
    """The colour of optimiser ``name`` (any case); unknown names take ``FALLBACK_COLORS[index]``.

    >>> optimizer_color("MyOptimizer", index=1)
    '#17BECF'
    """
    color = OPTIMIZER_COLORS.get(str(name).lower())
    return color if color is not None else FALLBACK_COLORS[index % len(FALLBACK_COLORS)]
