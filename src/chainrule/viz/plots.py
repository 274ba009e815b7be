"""Pictures of derivatives, descents and training, drawn with matplotlib.

Each function takes an optional ``ax`` to draw into (a figure of your own, a subplot) and
returns the matplotlib ``Figure``. Figures are made with ``matplotlib.figure.Figure``, not
pyplot, so nothing is shown, no global state is touched and drawing works headless and in
threads; ``fig.savefig("name.png")`` writes one, and Jupyter shows a returned Figure inline.
Every optimiser is drawn in its colour from ``chainrule.colors``.

The artists a reader (or a test) may want carry a ``gid``: ``"curve"``, ``"tangent"``,
``"point"``, ``"secant h=0.5"``, ``"secant point h=0.5"`` (plot_derivative); ``"contour"``,
``"surface"``, ``"path:NAME"``, ``"start:NAME"``, ``"end:NAME"``, ``"minima"``, ``"gradient_field"``
(plot_surface); ``"train_loss"``, ``"val_loss"``, a metric's name (plot_history);
``"grad_norm:NAME"`` (plot_gradient_flow over epochs); ``"final_loss"``, ``"diverged"``,
``"overshoot"``, ``"diverges"`` (plot_lr_sweep).

>>> import chainrule as cr
>>> fig = plot_derivative(lambda x: x ** 2, 3.0)
>>> [line for line in fig.axes[0].lines if line.get_gid() == "tangent"][0].get_label()
"tangent at x = 3: slope f'(3) = 6"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from chainrule.colors import optimizer_color
from chainrule.descent import Trajectory
from chainrule.descent_sweep import Sweep
from chainrule.expr import Formula, parse
from chainrule.func import derivative
from chainrule.scalar import Scalar
from chainrule.table import format_number
from chainrule.tensor import Tensor
from chainrule.viz.grids import as_target, contour_levels, grid_bounds

__all__ = [
    "plot_derivative",
    "plot_gradient_flow",
    "plot_history",
    "plot_lr_sweep",
    "plot_surface",
    "require_matplotlib",
]


def require_matplotlib():
    """The ``matplotlib`` module, or ImportError saying which extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("drawing needs matplotlib: pip install chainrule[viz]") from None
    return matplotlib


def _figure_and_axes(ax, figsize=(6.4, 4.8), projection=None):
    """The Figure to return and the Axes to draw on: ``ax``'s own, or a new pyplot-free one."""
    require_matplotlib()
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", "") != "3d":
            raise ValueError("kind='3d' needs a 3-D Axes: fig.add_subplot(projection='3d')")
        return ax.get_figure(root=True), ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot(projection=projection)


# -- a derivative as a slope ---------------------------------------------------------------


def plot_derivative(f, x0: float, *, secants=(1.0, 0.5, 0.25, 0.1), xlim=None, ax=None):
    """f, and its tangent at ``x0`` with slope f'(x0) from chainrule; secants as h -> 0.

    ``f`` is a function of one number (operators and chainrule functions: ``x.sin()``,
    ``cr.exp(x)``), a Formula or formula text in one variable. Each secant joins (x0, f(x0))
    to (x0 + h, f(x0 + h)); its slope (f(x0 + h) - f(x0)) / h closes in on the tangent's
    as h shrinks: the derivative's definition. ``secants=None`` draws the tangent alone.

    >>> fig = plot_derivative("x^3", 1.0, secants=(0.5,))
    >>> sorted(line.get_gid() for line in fig.axes[0].lines)
    ['curve', 'point', 'secant h=0.5', 'secant point h=0.5', 'tangent']
    """
    f, name = _one_variable(f)
    x0 = float(x0)
    hs = [] if secants is None else [float(h) for h in secants]
    if any(h == 0 or not np.isfinite(h) for h in hs):
        raise ValueError(f"secants must be nonzero finite steps h, got {secants!r}")
    value, slope = _value(f, x0), float(derivative(f)(x0))
    if xlim is None:
        half = max([2.0, *(1.5 * abs(h) for h in hs)])
        xlim = (x0 - half, x0 + half)
    low, high = map(float, xlim)
    if not low < high:
        raise ValueError(f"xlim must be (low, high) with low < high, got {xlim!r}")
    fig, ax = _figure_and_axes(ax)
    xs = np.linspace(low, high, 400)
    ys = _curve(f, xs)
    ax.plot(xs, ys, color="0.15", lw=2, label=name, gid="curve")
    ends = np.array([low, high])
    for k, h in enumerate(hs):
        slope_h = (_value(f, x0 + h) - value) / h
        fade = 0.3 + 0.6 * (k + 1) / len(hs)  # later (smaller) h: darker, closer to the tangent
        ax.plot(
            ends,
            value + slope_h * (ends - x0),
            color="#0072B2",
            alpha=fade,
            lw=1,
            ls="--",
            label=f"secant h = {h:g}: slope {slope_h:.4g}",
            gid=f"secant h={h:g}",
        )
        ax.plot(
            [x0 + h],
            [value + slope_h * h],
            "o",
            color="#0072B2",
            alpha=fade,
            ms=4,
            gid=f"secant point h={h:g}",
        )
    ax.plot(
        ends,
        value + slope * (ends - x0),
        color="#D55E00",
        lw=2,
        label=f"tangent at x = {x0:g}: slope f'({x0:g}) = {slope:.6g}",
        gid="tangent",
    )
    ax.plot([x0], [value], "o", color="#D55E00", ms=7, zorder=3, gid="point")
    finite = ys[np.isfinite(ys)]
    if finite.size:
        pad = 0.15 * max(float(np.ptp(finite)), 1e-9)
        ax.set_ylim(float(finite.min()) - pad, float(finite.max()) + pad)
    ax.set_xlim(low, high)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"the derivative is the tangent's slope: f'({x0:g}) = {slope:.6g}")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def _one_variable(f) -> tuple[Callable, str]:
    if isinstance(f, str):
        f = parse(f)
    if isinstance(f, Formula):
        if len(f.variables) > 1:
            raise ValueError(
                f"plot_derivative needs a function of one variable; {f.text!r} has {f.variables}"
            )
        return f, f"f(x) = {f.text}"
    if not callable(f):
        raise TypeError(f"f must be a function, a Formula or formula text, got {f!r}")
    name = getattr(f, "__name__", "f")
    return f, "f(x)" if name == "<lambda>" else f"{name}(x)"


def _value(f: Callable, x: float) -> float:
    out = f(Scalar(x))
    return float(out.data if isinstance(out, Scalar) else out)


def _curve(f: Callable, xs: np.ndarray) -> np.ndarray:
    """f on every x at once when it takes a Tensor, point by point when it does not."""
    try:
        out = f(Tensor._wrap(xs.copy()))
        out = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
        if out.shape == xs.shape:
            return out
        if out.shape == ():  # a constant
            return np.full(xs.shape, float(out))
    except (TypeError, AttributeError, ValueError):
        pass
    return np.array([_value(f, float(x)) for x in xs])


# -- surfaces and optimiser paths ----------------------------------------------------------


def plot_surface(
    surface_or_f,
    trajectories=None,
    *,
    kind: str = "contour",
    gradient_field: bool = False,
    bounds=None,
    resolution: int | None = None,
    log_scale="auto",
    levels: int = 30,
    ax=None,
):
    """A function of two variables as contours (or a 3-D surface), with optimisers' paths.

    ``surface_or_f``: a Surface, a surface's name, a Formula or formula text in two
    variables, or a Python ``f(x, y)``. ``trajectories``: one Trajectory, a list, or a dict
    name -> Trajectory such as ``cr.compare(...)`` returns; each path is drawn through every
    point of its run in its optimiser's colour, its start as a circle and its end as a
    square (a cross where it diverged); a surface's known minima are white stars.
    ``bounds`` ((x low, x high), (y low, y high)) defaults to the surface's domain.
    ``log_scale`` ("auto", True, False) spaces contour levels by ratios where the values
    span decades (see ``chainrule.viz.grids.contour_levels``). ``gradient_field=True``
    adds arrows along the gradient (uphill; descent walks against them), all one length.
    ``kind="3d"`` draws the surface in 3-D, each path lifted to the heights f took on it.

    >>> import chainrule as cr
    >>> runs = cr.compare(cr.surfaces.get("bowl"), [2.5, -1.5], ["sgd"], lr=0.1, steps=5)
    >>> fig = plot_surface("bowl", runs)
    >>> path = [l for l in fig.axes[0].lines if l.get_gid() == "path:sgd"][0]
    >>> len(path.get_xdata()), path.get_color() == cr.colors.optimizer_color("sgd")
    (6, True)
    """
    if kind not in ("contour", "3d"):
        raise ValueError(f"kind must be 'contour' or '3d', got {kind!r}")
    target = as_target(surface_or_f)
    runs = _named_trajectories(trajectories)
    (x0, x1), (y0, y1) = grid_bounds(target, [t.points for _, t in runs], bounds)
    n = resolution or (200 if kind == "contour" else 70)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = target.values(X, Y)
    fig, ax = _figure_and_axes(ax, projection="3d" if kind == "3d" else None)
    if kind == "contour":
        _draw_contour(fig, ax, X, Y, Z, levels, log_scale)
    else:
        _draw_3d(ax, X, Y, Z)
    if gradient_field:
        _draw_gradient_field(ax, target, (x0, x1), (y0, y1), kind)
    _draw_minima(ax, target, kind)
    _draw_paths(ax, runs, kind)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(target.variables[0])
    ax.set_ylabel(target.variables[1])
    ax.set_title(target.name)
    if runs or target.minima:
        ax.legend(fontsize="small", loc="upper right")
    return fig


def _named_trajectories(trajectories) -> list[tuple[str, Trajectory]]:
    if trajectories is None:
        return []
    if isinstance(trajectories, Trajectory):
        items = [(trajectories.optimizer, trajectories)]
    elif isinstance(trajectories, Mapping):
        items = [(str(name), t) for name, t in trajectories.items()]
    else:
        items = [(getattr(t, "optimizer", "?"), t) for t in trajectories]
    named, seen = [], {}
    for label, t in items:
        if not isinstance(t, Trajectory):
            raise TypeError(f"trajectories must be Trajectory objects, got {type(t).__name__}")
        if t.points.shape[1] != 2:
            raise ValueError(
                f"the path of {label!r} has {t.points.shape[1]} coordinates; a surface "
                "plot draws paths in two"
            )
        seen[label] = seen.get(label, 0) + 1
        named.append((label if seen[label] == 1 else f"{label} ({seen[label]})", t))
    return named


def _draw_contour(fig, ax, X, Y, Z, n_levels: int, log_scale) -> None:
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm

    levels, is_log = contour_levels(Z, n_levels, log_scale)
    cmap = colormaps["viridis"]
    # one colour step per level, so log-spaced levels get as many colours as linear ones
    norm = BoundaryNorm(levels, cmap.N, extend="both")
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, norm=norm, extend="both", alpha=0.85)
    filled.set_gid("contour")
    ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.5)
    bar = fig.colorbar(filled, ax=ax, label="f (levels log-spaced)" if is_log else "f")
    bar.set_ticks(levels[:: max(1, len(levels) // 6)])
    bar.ax.set_yticklabels([format_number(float(v)) for v in bar.get_ticks()])


def _draw_3d(ax, X, Y, Z) -> None:
    finite = np.where(np.isfinite(Z), Z, np.nan)
    surface = ax.plot_surface(X, Y, finite, cmap="viridis", alpha=0.55, linewidth=0)
    surface.set_gid("surface")
    ax.set_zlim(np.nanmin(finite), np.nanmax(finite))
    ax.set_zlabel("f")


def _draw_gradient_field(ax, target, xs, ys, kind: str, n: int = 15) -> None:
    X, Y = np.meshgrid(np.linspace(*xs, n + 2)[1:-1], np.linspace(*ys, n + 2)[1:-1])
    gx, gy = (np.asarray(g, dtype=np.float64) for g in target.gradient(X, Y))
    size = np.hypot(gx, gy)
    safe = np.where(size > 0, size, 1.0)
    u, v = np.where(size > 0, gx / safe, 0.0), np.where(size > 0, gy / safe, 0.0)
    cell = min((xs[1] - xs[0]) / (n + 1), (ys[1] - ys[0]) / (n + 1))
    if kind == "3d":
        z = target.values(X, Y)
        field = ax.quiver(X, Y, z, u, v, np.zeros_like(u), length=0.8 * cell, color="0.3")
    else:
        field = ax.quiver(
            X,
            Y,
            u,
            v,
            angles="xy",
            scale_units="xy",
            scale=1 / (0.8 * cell),
            color="0.25",
            width=0.003,
        )
    field.set_gid("gradient_field")


def _draw_minima(ax, target, kind: str) -> None:
    if not target.minima:
        return
    xs, ys = [m[0] for m in target.minima], [m[1] for m in target.minima]
    style = {"marker": "*", "ms": 14, "color": "white", "mec": "black", "ls": "", "zorder": 4}
    label = "minimum" if len(xs) == 1 else "minima"
    if kind == "3d":
        zs = target.values(np.array(xs), np.array(ys))
        ax.plot(xs, ys, zs, label=label, gid="minima", **style)
    else:
        ax.plot(xs, ys, label=label, gid="minima", **style)


def _draw_paths(ax, runs, kind: str) -> None:
    unknown = 0
    used: dict[str, int] = {}
    for label, t in runs:
        color = optimizer_color(t.optimizer, index=unknown)
        if color == optimizer_color("", index=unknown):
            unknown += 1
        used[color] = used.get(color, 0) + 1
        dashes = ["-", "--", ":", "-."][(used[color] - 1) % 4]  # the same optimiser twice
        px, py = t.points[:, 0], t.points[:, 1]
        lifted = (t.values,) if kind == "3d" else ()
        summary = f"{label}: {t.status}, {t.steps} steps"
        ax.plot(
            px,
            py,
            *lifted,
            ls=dashes,
            marker=".",
            ms=3,
            lw=1.6,
            color=color,
            label=summary,
            gid=f"path:{label}",
            zorder=5,
        )
        start = (px[:1], py[:1], *(v[:1] for v in lifted))
        ax.plot(*start, "o", ms=8, color=color, mec="white", gid=f"start:{label}", zorder=6)
        last = _last_finite(t)
        end = (px[last : last + 1], py[last : last + 1], *(v[last : last + 1] for v in lifted))
        marker = "X" if t.status == "diverged" else "s"
        ax.plot(*end, marker, ms=8, color=color, mec="white", gid=f"end:{label}", zorder=6)


def _last_finite(t: Trajectory) -> int:
    finite = np.flatnonzero(np.all(np.isfinite(t.points), axis=1) & np.isfinite(t.values))
    return int(finite[-1]) if finite.size else 0


# -- training --------------------------------------------------------------------------------


def plot_history(history, *, ax=None):
    """Loss per epoch, train and validation; metrics (accuracy, ...) in a second panel.

    ``history`` is the ``nn.History`` that ``cr.nn.fit`` returns. With ``ax``, metrics
    share it on a second y axis (on the right).

    >>> import chainrule as cr
    >>> history = cr.nn.History()
    >>> for loss, val in [(0.9, 1.0), (0.5, 0.7), (0.3, 0.6)]:
    ...     history.record(loss, lr=0.1, grad_norms={}, val_loss=val)
    >>> fig = plot_history(history)
    >>> [line.get_ydata().tolist() for line in fig.axes[0].lines]
    [[0.9, 0.5, 0.3], [1.0, 0.7, 0.6]]
    """
    if not hasattr(history, "train_loss") or not hasattr(history, "epochs"):
        raise TypeError(f"plot_history takes the History from cr.nn.fit, got {history!r}")
    if not history.epochs:
        raise ValueError("the history has no epochs to plot")
    metrics = {name: values for name, values in history.metrics.items() if values}
    if ax is None:
        require_matplotlib()
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9 if metrics else 6, 4), layout="constrained")
        axes = fig.subplots(1, 2 if metrics else 1, squeeze=False)[0]
        loss_ax, metric_ax = axes[0], (axes[1] if metrics else None)
    else:
        fig, loss_ax = _figure_and_axes(ax)
        metric_ax = loss_ax.twinx() if metrics else None
    epochs = history.epochs
    loss_ax.plot(
        epochs,
        history.train_loss,
        "o-",
        ms=3,
        color="#0072B2",
        label="train loss",
        gid="train_loss",
    )
    if history.val_loss:
        loss_ax.plot(
            epochs[: len(history.val_loss)],
            history.val_loss,
            "s--",
            ms=3,
            color="#D55E00",
            label="validation loss",
            gid="val_loss",
        )
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    loss_ax.set_title("loss per epoch")
    loss_ax.legend(fontsize="small")
    loss_ax.grid(alpha=0.3)
    if metric_ax is not None:
        for name, values in metrics.items():
            style = "s--" if name.startswith("val") else "o-"
            metric_ax.plot(
                epochs[: len(values)], values, style, ms=3, label=name.replace("_", " "), gid=name
            )
        metric_ax.set_ylabel(", ".join(sorted({n.split("_", 1)[-1] for n in metrics})))
        metric_ax.set_xlabel("epoch")
        metric_ax.legend(fontsize="small", loc="lower right")
        if ax is None:
            metric_ax.set_title("metrics per epoch")
            metric_ax.grid(alpha=0.3)
    return fig


def plot_gradient_flow(history_or_model, *, ax=None):
    """Gradient norms layer by layer, on a log scale: where gradients vanish or explode.

    - a ``History`` (``cr.nn.fit``): one line per weight over the epochs (the mean norm of
      its gradient in each epoch), coloured from the first layer (dark) to the last (light);
    - a model after ``backward()``: one bar per weight, the norm of its ``.grad``;
    - a dict label -> model: bars side by side, to compare networks (sigmoid against ReLU).

    Biases are left out when the model has weights (their norms tell the same story).

    >>> import chainrule as cr
    >>> history = cr.nn.History()
    >>> for first, last in [(0.01, 1.0), (0.001, 0.5)]:
    ...     history.record(1.0, lr=0.1, grad_norms={"0.weight": first, "2.weight": last})
    >>> fig = plot_gradient_flow(history)
    >>> [line.get_ydata().tolist() for line in fig.axes[0].lines]
    [[0.01, 0.001], [1.0, 0.5]]
    """
    fig, ax = _figure_and_axes(ax, figsize=(7, 4))
    target = history_or_model
    if hasattr(target, "grad_norms") and hasattr(target, "epochs"):
        _flow_over_epochs(ax, target)
    elif isinstance(target, Mapping):
        _flow_bars(ax, {str(label): _model_norms(m) for label, m in target.items()})
    elif hasattr(target, "named_parameters"):
        _flow_bars(ax, {"gradient norm": _model_norms(target)})
    else:
        raise TypeError(
            "plot_gradient_flow takes a History (cr.nn.fit), a model after backward(), or a "
            f"dict of models; got {type(target).__name__}"
        )
    ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y")
    return fig


def _weights_first(names: list[str]) -> list[str]:
    weights = [name for name in names if name.endswith("weight")]
    return weights or names


def _model_norms(model) -> dict[str, float]:
    grads = {name: p.grad for name, p in model.named_parameters()}
    names = _weights_first([name for name, g in grads.items() if g is not None])
    if not names:
        raise ValueError("the model has no gradients: call loss.backward() first")
    return {name: float(np.linalg.norm(np.asarray(grads[name].data, np.float64))) for name in names}


def _flow_over_epochs(ax, history) -> None:
    from matplotlib import colormaps

    names = _weights_first([n for n, values in history.grad_norms.items() if values])
    if not names:
        raise ValueError("the history holds no gradient norms")
    shades = colormaps["viridis"](np.linspace(0, 0.9, len(names)))
    for name, shade in zip(names, shades):
        values = history.grad_norms[name]
        ax.plot(
            history.epochs[: len(values)],
            values,
            "o-",
            ms=3,
            color=shade,
            label=name,
            gid=f"grad_norm:{name}",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm (mean over the epoch)")
    ax.set_title("gradient norm per layer during training")
    ax.legend(fontsize="x-small", ncols=2)


def _flow_bars(ax, norms_by_label: dict[str, dict[str, float]]) -> None:
    order: list[str] = []
    for norms in norms_by_label.values():
        order += [name for name in norms if name not in order]
    width = 0.8 / len(norms_by_label)
    positions = np.arange(len(order))
    for k, (label, norms) in enumerate(norms_by_label.items()):
        heights = [norms.get(name, np.nan) for name in order]
        offset = (k - (len(norms_by_label) - 1) / 2) * width
        ax.bar(positions + offset, heights, width, label=label, color=f"C{k}")
    ax.set_xticks(positions, order, rotation=60, ha="right", fontsize="small")
    ax.set_xlabel("parameter, first layer to last")
    ax.set_ylabel("gradient norm")
    ax.set_title("gradient norm per layer")
    if len(norms_by_label) > 1:
        ax.legend(fontsize="small")


# -- learning rates ------------------------------------------------------------------------


def plot_lr_sweep(sweep: Sweep, *, ax=None):
    """Final loss against the learning rate (log x), shading where runs overshoot (orange,
    from ``sweep.overshoots_from``) and diverge (red, from ``sweep.diverges_from``).

    Diverged runs are crosses; a run that ended on nan or inf is a cross at the top edge.

    >>> import chainrule as cr
    >>> sweep = cr.lr_sweep(lambda w: (w - 3) ** 2, 0.0, [0.1, 0.7, 1.5], steps=20)
    >>> fig = plot_lr_sweep(sweep)
    >>> [p.get_gid() for p in fig.axes[0].patches]
    ['overshoot', 'diverges']
    """
    if not isinstance(sweep, Sweep):
        raise TypeError(f"plot_lr_sweep takes the Sweep from cr.lr_sweep, got {sweep!r}")
    fig, ax = _figure_and_axes(ax)
    order = np.argsort(sweep.lrs, kind="stable")
    lrs = np.array(sweep.lrs, dtype=np.float64)[order]
    runs = [sweep.trajectories[i] for i in order]
    finals = np.array([t.value for t in runs])
    diverged = np.array([t.status == "diverged" for t in runs])
    color = optimizer_color(runs[0].optimizer)
    ok = np.isfinite(finals)
    ax.plot(
        lrs[ok],
        finals[ok],
        "o-",
        color=color,
        label=f"{runs[0].optimizer}: final loss",
        gid="final_loss",
        zorder=3,
    )
    if diverged.any():
        lost = diverged & ~ok
        top = ax.get_xaxis_transform()
        ax.plot(
            lrs[diverged & ok],
            finals[diverged & ok],
            "X",
            ms=9,
            color="#B00020",
            label="diverged",
            gid="diverged",
            zorder=4,
        )
        if lost.any():
            ax.plot(
                lrs[lost],
                np.full(lost.sum(), 0.97),
                "X",
                ms=9,
                color="#B00020",
                transform=top,
                clip_on=False,
                gid="diverged_nonfinite",
            )
    positive = lrs[lrs > 0]
    if positive.size:
        ax.set_xscale("log")
        left, right = positive.min() / 1.5, positive.max() * 1.5
    else:
        left, right = -0.5, 0.5
    shown = finals[ok]
    if shown.size and np.all(shown >= 0) and np.any(shown > 0):
        if np.all(shown > 0):
            ax.set_yscale("log")
        else:  # a run that landed exactly on the minimum: linear near 0, log above
            ax.set_yscale("symlog", linthresh=float(shown[shown > 0].min()))
            ax.set_ylim(bottom=0)
    edge = sweep.diverges_from if sweep.diverges_from is not None else right
    if sweep.overshoots_from is not None and sweep.overshoots_from < edge:
        ax.axvspan(
            sweep.overshoots_from,
            edge,
            color="#E69F00",
            alpha=0.18,
            lw=0,
            label=f"overshoots (lr >= {sweep.overshoots_from:g})",
            gid="overshoot",
        )
    if sweep.diverges_from is not None:
        ax.axvspan(
            sweep.diverges_from,
            right,
            color="#B00020",
            alpha=0.15,
            lw=0,
            label=f"diverges (lr >= {sweep.diverges_from:g})",
            gid="diverges",
        )
    ax.set_xlim(left, right)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"f after at most {max(t.steps for t in runs)} steps")
    ax.set_title("final loss against learning rate")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    return fig
