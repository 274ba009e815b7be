"""The pictures of ``chainrule tour``: each stop's lesson drawn, written into one folder.

``draw_tour_pictures(folder)`` returns ``{stop number: [paths]}`` for ``tour.render``. Each
file is written atomically (a temporary file beside it, then renamed), so an interrupted
tour never leaves half a picture.
"""

from __future__ import annotations

from pathlib import Path

from chainrule import surfaces
from chainrule.descent_sweep import compare, lr_sweep
from chainrule.tour import LEARNING_RATES, moons_history
from chainrule.viz.animate import animate
from chainrule.viz.files import atomic_path
from chainrule.viz.plots import (
    plot_derivative,
    plot_history,
    plot_lr_sweep,
    plot_surface,
    require_matplotlib,
)

__all__ = ["SURFACE_RUNS", "draw_tour_pictures"]

# the hiker's trio on Rosenbrock, each at a rate that suits it (SGD's and Momentum's
# larger than 0.002 blow up on the valley's steep walls)
SURFACE_RUNS = {
    "sgd": {"optimizer": "sgd", "lr": 0.001},
    "momentum": {"optimizer": "momentum", "lr": 0.001},
    "adam": {"optimizer": "adam", "lr": 0.05},
}


def draw_tour_pictures(folder, animation: bool = True) -> dict[int, list[Path]]:
    """Draw every picture of the tour into ``folder`` (created if needed)."""
    require_matplotlib()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pictures: dict[int, list[Path]] = {}

    def save(stop: int, name: str, fig) -> None:
        pictures.setdefault(stop, []).append(_save_figure(fig, folder / name))

    save(1, "1-tangent.png", plot_derivative(lambda x: x**2, 3.0))
    sweep = lr_sweep(lambda w: (w - 3) ** 2, 0.0, LEARNING_RATES, steps=20)
    save(9, "9-learning-rates.png", plot_lr_sweep(sweep))
    rosenbrock = surfaces.get("rosenbrock")
    runs = compare(rosenbrock, rosenbrock.start, SURFACE_RUNS, steps=300)
    save(9, "9-rosenbrock.png", plot_surface(rosenbrock, runs))
    if animation:
        gif = folder / "9-rosenbrock.gif"
        pictures[9].append(animate(rosenbrock, runs, gif, max_frames=40, dpi=60))
    save(10, "10-training.png", plot_history(moons_history()))
    return pictures


def _save_figure(fig, path: Path) -> Path:
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=80)
    return path
