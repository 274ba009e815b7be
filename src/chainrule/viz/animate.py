"""Optimisers descending a surface together, as a GIF: ``animate(surface, trajectories)``.

The picture is ``plot_surface``'s contour map; each optimiser's path grows frame by frame
in its colour, with a square on its current point, and a counter shows the step. The GIF
is written by matplotlib's ``PillowWriter``.

**Frames.** A run of n steps has n + 1 points (the start and one per step). The animation
shows ``count = min(points, max_frames)`` frames, or ``min(points, frames)`` when
``frames`` is given, where ``points`` is the longest run's. Frame i shows step
``round(i * (points - 1) / (count - 1))``: every step while they fit, evenly spaced steps
of a longer run otherwise, always the start first and the last step last. A run that
stopped sooner (converged or diverged) waits on its last point. There are never more
frames than points: a repeated step would be a repeated image, and GIF writers merge those.

>>> frame_steps(5)
[0, 1, 2, 3, 4]
>>> frame_steps(501, max_frames=5)
[0, 125, 250, 375, 500]
"""

from __future__ import annotations

import os
import tempfile
from numbers import Real
from pathlib import Path

import numpy as np

from chainrule.viz.files import atomic_path
from chainrule.viz.plots import _named_trajectories, plot_surface, require_matplotlib

__all__ = ["DEFAULT_MAX_FRAMES", "animate", "frame_steps"]

DEFAULT_MAX_FRAMES = 100


def frame_steps(points: int, frames: int | None = None, max_frames: int = DEFAULT_MAX_FRAMES):
    """The step shown in each frame for runs of at most ``points`` points (see the module)."""
    for name, value in (("frames", frames), ("max_frames", max_frames)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if value is not None and value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    count = min(points, frames if frames is not None else max_frames)
    if count == 1:
        return [points - 1]
    return [int(round(i * (points - 1) / (count - 1))) for i in range(count)]


def animate(
    surface,
    trajectories,
    path=None,
    *,
    fps: float = 10,
    frames: int | None = None,
    max_frames: int = DEFAULT_MAX_FRAMES,
    bounds=None,
    log_scale="auto",
    figsize=(6.4, 4.8),
    dpi: int = 80,
):
    """A GIF of ``trajectories`` moving over ``surface`` together, step by step.

    ``surface`` and ``trajectories`` are what ``plot_surface`` takes (a Surface, a name, a
    formula or f(x, y); a Trajectory, a list or a dict such as ``cr.compare`` returns).
    With ``path``, the GIF is written there (atomically: a temporary file in the same
    folder, then renamed) and the Path comes back; without, its bytes come back.
    ``frames``/``max_frames``: how many frames (see the module); ``fps``: frames a second.

    >>> import chainrule as cr
    >>> runs = cr.compare(cr.surfaces.get("bowl"), [2.5, -1.5], ["sgd", "adam"], lr=0.1, steps=6)
    >>> gif = animate("bowl", runs, fps=5)
    >>> gif[:6], len(frame_steps(7))
    (b'GIF89a', 7)
    """
    require_matplotlib()
    if isinstance(fps, bool) or not isinstance(fps, Real) or not fps > 0:
        raise ValueError(f"fps must be a number > 0, got {fps!r}")
    runs = _named_trajectories(trajectories)
    if not runs:
        raise ValueError("animate needs at least one trajectory")
    longest = max(len(t.points) for _, t in runs)
    steps = frame_steps(longest, frames, max_frames)

    fig, overlay, moving = _frame_figure(surface, runs, bounds, log_scale, figsize, dpi)
    counter = overlay.text(
        0.02,
        0.97,
        "",
        transform=overlay.transAxes,
        va="top",
        fontsize="medium",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8},
        gid="step_counter",
    )

    if path is None:  # bytes wanted: write to a private temporary file, read it back
        handle, temporary = tempfile.mkstemp(suffix=".gif")
        os.close(handle)
        try:
            _write_gif(fig, temporary, steps, runs, moving, counter, longest, fps, dpi)
            return Path(temporary).read_bytes()
        finally:
            os.remove(temporary)
    with atomic_path(path) as temporary:
        _write_gif(fig, temporary, steps, runs, moving, counter, longest, fps, dpi)
    return Path(path)


def _write_gif(fig, filename, steps, runs, moving, counter, longest, fps, dpi) -> None:
    from matplotlib.animation import PillowWriter

    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(filename), dpi):
        for step in steps:
            for (_, t), (line, head) in zip(runs, moving):
                shown = min(step, len(t.points) - 1)
                line.set_data(t.points[: shown + 1, 0], t.points[: shown + 1, 1])
                head.set_data(t.points[shown : shown + 1, 0], t.points[shown : shown + 1, 1])
            counter.set_text(f"step {step} of {longest - 1}")
            writer.grab_frame()


def _frame_figure(surface, runs, bounds, log_scale, figsize, dpi):
    """A figure showing the still picture as one image, with an empty Axes over it.

    Redrawing contours for every frame costs a fifth of a second each; so the map, the
    starts, minima, legend and colour bar are drawn once by ``plot_surface`` and kept as
    pixels, and each frame draws only the growing paths on a transparent Axes laid exactly
    over the map's (same place, same limits).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    still = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = still.add_subplot()
    plot_surface(surface, dict(runs), bounds=bounds, log_scale=log_scale, ax=ax)
    by_gid = {line.get_gid(): line for line in ax.lines}
    styles = []
    for label, _ in runs:
        line, end = by_gid[f"path:{label}"], by_gid[f"end:{label}"]
        styles.append(line)
        line.set_visible(False)  # the legend keeps its own copy of the line's style
        end.set_visible(False)
    canvas = FigureCanvasAgg(still)
    canvas.draw()
    background = np.asarray(canvas.buffer_rgba()).copy()

    fig = Figure(figsize=figsize, dpi=dpi)
    fig.figimage(background, 0, 0, origin="upper")
    overlay = fig.add_axes(ax.get_position())
    overlay.set_zorder(1)  # above the picture (a figure draws its images after its Axes)
    overlay.set_xlim(ax.get_xlim())
    overlay.set_ylim(ax.get_ylim())
    overlay.set_axis_off()
    moving = []
    for line in styles:
        style = {"color": line.get_color(), "zorder": 5}
        path = overlay.plot([], [], ls=line.get_linestyle(), marker=".", ms=3, lw=1.6, **style)
        head = overlay.plot([], [], "s", ms=8, mec="white", **style)
        moving.append((path[0], head[0]))
    return fig, overlay, moving
