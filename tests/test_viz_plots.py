"""The plots draw what they claim: slopes, paths, markers, levels and bars checked in the
artists' own data, against numbers worked out here independently of the plotting code."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.colors import optimizer_color

pytest.importorskip("matplotlib", reason="drawing needs matplotlib: pip install chainrule[viz]")

from chainrule.viz.plots import (  # noqa: E402
    plot_derivative,
    plot_gradient_flow,
    plot_history,
    plot_lr_sweep,
    plot_surface,
)


def artist(fig, gid, axes=0):
    """The one artist of ``fig.axes[axes]`` with this gid."""
    ax = fig.axes[axes]
    found = [a for a in [*ax.lines, *ax.collections, *ax.patches] if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def slope(line) -> float:
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    return float((y[-1] - y[0]) / (x[-1] - x[0]))


def pixels(fig) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"), dtype=float)


def assert_not_blank(image: np.ndarray) -> None:
    not_white = np.any(image < 245, axis=2).mean()
    colours = len(np.unique(image.reshape(-1, 3), axis=0))
    assert not_white > 0.05, f"only {not_white:.1%} of the pixels are drawn"
    assert colours > 20, f"only {colours} distinct colours"
    assert image.std() > 20


# -- plot_derivative -----------------------------------------------------------------------


def test_tangent_has_the_derivative_as_slope_and_touches_the_curve():
    x0 = 1.0
    fig = plot_derivative(lambda x: x.sin() * x, x0)
    tangent = artist(fig, "tangent")
    assert slope(tangent) == pytest.approx(math.sin(x0) + x0 * math.cos(x0), rel=1e-12)
    (px,), (py,) = artist(fig, "point").get_data()
    assert (px, py) == pytest.approx((x0, math.sin(x0) * x0))
    curve = artist(fig, "curve")
    xs, ys = (np.asarray(v) for v in curve.get_data())
    np.testing.assert_allclose(ys, np.sin(xs) * xs, rtol=1e-12)


def test_secants_close_in_on_the_tangent():
    # for x^2 at x0 the secant over h has slope 2*x0 + h exactly
    fig = plot_derivative("x^2", 3.0, secants=(1.0, 0.5, 0.1))
    slopes = [slope(artist(fig, f"secant h={h:g}")) for h in (1.0, 0.5, 0.1)]
    assert slopes == pytest.approx([7.0, 6.5, 6.1], rel=1e-12)
    assert slope(artist(fig, "tangent")) == pytest.approx(6.0)
    assert "slope f'(3) = 6" in artist(fig, "tangent").get_label()


def test_derivative_without_secants_and_with_a_constant():
    fig = plot_derivative(lambda x: 5, 2.0, secants=None, xlim=(0, 4))
    assert slope(artist(fig, "tangent")) == 0.0
    assert not [line for line in fig.axes[0].lines if "secant" in str(line.get_gid())]
    assert fig.axes[0].get_xlim() == (0.0, 4.0)


def test_derivative_rejects_two_variables():
    with pytest.raises(ValueError, match="one variable"):
        plot_derivative("x*y", 1.0)


# -- plot_surface --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rosenbrock_runs():
    surface = cr.surfaces.get("rosenbrock")
    specs = {
        "sgd": {"optimizer": "sgd", "lr": 1e-3},
        "momentum": {"optimizer": "momentum", "lr": 1e-3},
        "adam": {"optimizer": "adam", "lr": 0.05},
    }
    return cr.compare(surface, surface.start, specs, steps=40)


def test_paths_hold_every_point_in_the_optimizers_colour(rosenbrock_runs):
    fig = plot_surface("rosenbrock", rosenbrock_runs, resolution=40)
    for name, trajectory in rosenbrock_runs.items():
        path = artist(fig, f"path:{name}")
        assert len(path.get_xdata()) == len(trajectory.points) == trajectory.steps + 1
        np.testing.assert_array_equal(np.column_stack(path.get_data()), trajectory.points)
        assert path.get_color() == optimizer_color(name)
        (sx,), (sy,) = artist(fig, f"start:{name}").get_data()
        assert (sx, sy) == (-1.2, 1.0)  # rosenbrock's start, given here, not read from code
        (ex,), (ey,) = artist(fig, f"end:{name}").get_data()
        assert (ex, ey) == tuple(trajectory.points[-1])
        assert artist(fig, f"end:{name}").get_marker() == "s"
    mx, my = artist(fig, "minima").get_data()
    assert (list(mx), list(my)) == ([1.0], [1.0])


def test_colours_of_a_list_of_trajectories_come_from_the_optimizer_names():
    bowl = cr.surfaces.get("bowl")
    runs = [cr.descend(bowl, [2.0, 1.0], name, lr=0.1, steps=3) for name in ("adam", "rmsprop")]
    fig = plot_surface(bowl, runs, resolution=30)
    assert artist(fig, "path:adam").get_color() == "#D55E00"
    assert artist(fig, "path:rmsprop").get_color() == "#009E73"


def test_a_diverged_path_ends_in_a_cross():
    run = cr.descend(cr.surfaces.get("bowl"), [2.5, -1.5], "sgd", lr=1.5, steps=100)
    assert run.status == "diverged"
    fig = plot_surface("bowl", {"too fast": run}, resolution=30)
    assert artist(fig, "end:too fast").get_marker() == "X"
    assert fig.axes[0].get_xlim() == (-3.0, 3.0)  # the domain, not the runaway points


def contour_levels_of(fig) -> np.ndarray:
    return np.asarray(artist(fig, "contour").levels, dtype=float)


def test_rosenbrock_contours_are_log_spaced_and_a_bowls_are_not():
    steps = np.diff(contour_levels_of(plot_surface("rosenbrock", resolution=60)))
    ratios = steps[1:] / steps[:-1]
    assert np.all(ratios > 1.1)  # each gap a fixed factor wider than the one below
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    bowl_steps = np.diff(contour_levels_of(plot_surface("bowl", resolution=60)))
    np.testing.assert_allclose(bowl_steps, bowl_steps[0], rtol=1e-9)
    forced = np.diff(contour_levels_of(plot_surface("bowl", resolution=60, log_scale=True)))
    assert forced[-1] / forced[0] > 10


def test_gradient_field_arrows_point_along_the_gradient():
    fig = plot_surface("bowl", gradient_field=True, resolution=30)
    field = artist(fig, "gradient_field")
    x, y = np.asarray(field.X), np.asarray(field.Y)
    u, v = np.asarray(field.U), np.asarray(field.V)
    # the bowl x^2 + y^2 has gradient (2x, 2y): unit arrows point straight away from 0
    norm = np.hypot(x, y)
    away = norm > 0
    np.testing.assert_allclose(u[away], x[away] / norm[away], atol=1e-12)
    np.testing.assert_allclose(v[away], y[away] / norm[away], atol=1e-12)
    assert np.all(u[~away] == 0) and np.all(v[~away] == 0)  # no direction at the minimum


def test_a_python_function_and_a_formula_draw_the_same_surface():
    def f(x, y):
        return (x - 1).sin() * y + y * y  # Tensor methods: needs the Tensor fallback

    from_function = plot_surface(f, bounds=((-2, 2), (-1, 1)), resolution=25, gradient_field=True)
    from_formula = plot_surface(
        "sin(x - 1)*y + y^2", bounds=((-2, 2), (-1, 1)), resolution=25, gradient_field=True
    )
    np.testing.assert_allclose(
        contour_levels_of(from_function), contour_levels_of(from_formula), rtol=1e-12
    )
    np.testing.assert_allclose(
        artist(from_function, "gradient_field").U, artist(from_formula, "gradient_field").U
    )


def test_3d_paths_are_lifted_onto_the_surface(rosenbrock_runs):
    fig = plot_surface("rosenbrock", rosenbrock_runs, kind="3d", resolution=20)
    for name, trajectory in rosenbrock_runs.items():
        x, y, z = artist(fig, f"path:{name}").get_data_3d()
        px, py = trajectory.points[:, 0], trajectory.points[:, 1]
        np.testing.assert_allclose(z, (1 - px) ** 2 + 100 * (py - px**2) ** 2, rtol=1e-12)
        assert len(x) == len(trajectory.points)


def test_surface_image_is_not_blank(rosenbrock_runs):
    assert_not_blank(pixels(plot_surface("rosenbrock", rosenbrock_runs, resolution=40)))


@pytest.mark.parametrize(
    ("target", "message"),
    [("x*y*z", "needs two"), ("course_parabola", "needs two"), (42, "expected a Surface")],
)
def test_surface_rejects_what_it_cannot_draw(target, message):
    with pytest.raises((ValueError, TypeError), match=message):
        plot_surface(target)


def test_surface_rejects_paths_in_one_variable_and_bad_kinds():
    run = cr.descend(lambda w: (w - 3) ** 2, 0.0, lr=0.1, steps=2)
    with pytest.raises(ValueError, match="2|two"):
        plot_surface("bowl", run)
    with pytest.raises(ValueError, match="kind"):
        plot_surface("bowl", kind="heatmap")


def test_drawing_into_a_given_axes_returns_its_figure():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_derivative(lambda x: x**2, 1.0, ax=right) is fig
    assert right.lines and not left.lines


# -- training ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moons_history():
    cr.manual_seed(0)
    x, y = cr.data.make_moons(120, noise=0.1, seed=0)
    x = x.astype(np.float32)
    train = cr.data.DataLoader(cr.data.TensorDataset(x[:90], y[:90]), batch_size=30)
    val = cr.data.DataLoader(cr.data.TensorDataset(x[90:], y[90:]), batch_size=30)
    model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Tanh(), cr.nn.Linear(8, 2))
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    return cr.nn.fit(model, cr.nn.CrossEntropyLoss(), opt, train, 4, val, progress=False)


def test_history_lines_hold_the_historys_numbers(moons_history):
    fig = plot_history(moons_history)
    for gid, values in [
        ("train_loss", moons_history.train_loss),
        ("val_loss", moons_history.val_loss),
    ]:
        line = artist(fig, gid)
        assert list(line.get_xdata()) == [1, 2, 3, 4]
        assert list(line.get_ydata()) == values
    assert list(artist(fig, "val_accuracy", axes=1).get_ydata()) == moons_history.val_accuracy
    assert_not_blank(pixels(fig))


def test_gradient_flow_over_epochs_draws_each_weights_norms(moons_history):
    fig = plot_gradient_flow(moons_history)
    assert {line.get_gid() for line in fig.axes[0].lines} == {
        "grad_norm:0.weight",
        "grad_norm:2.weight",
    }
    assert (
        list(artist(fig, "grad_norm:0.weight").get_ydata()) == moons_history.grad_norms["0.weight"]
    )
    assert fig.axes[0].get_yscale() == "log"


def deep_network(activation, init):
    layers = []
    for i in range(10):
        linear = cr.nn.Linear(2 if i == 0 else 16, 1 if i == 9 else 16)
        init(linear.weight)
        cr.nn.init.zeros_(linear.bias)
        layers += [linear] if i == 9 else [linear, activation()]
    return cr.nn.Sequential(*layers)


def test_gradient_flow_shows_sigmoid_gradients_vanishing_and_relu_ones_not():
    cr.manual_seed(0)
    x, y = cr.data.make_moons(64, noise=0.1, seed=0)
    x, y = cr.tensor(x.astype(np.float32)), cr.tensor(y.astype(np.float32).reshape(-1, 1))
    nets = {
        "sigmoid": deep_network(cr.nn.Sigmoid, cr.nn.init.xavier_normal_),
        "relu": deep_network(
            cr.nn.ReLU, lambda w: cr.nn.init.kaiming_normal_(w, nonlinearity="relu")
        ),
    }
    first_over_last = {}
    for name, net in nets.items():
        ((net(x) - y) ** 2).mean().backward()
        weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
        norms = [float(np.linalg.norm(w.grad.numpy())) for w in weights]
        first_over_last[name] = (norms, norms[0] / norms[-1])
    fig = plot_gradient_flow(nets)
    bars = {c.get_label(): c for c in fig.axes[0].containers}
    for name, (norms, _) in first_over_last.items():
        heights = [patch.get_height() for patch in bars[name].patches]
        np.testing.assert_allclose(heights, norms, rtol=1e-6)
    # every sigmoid passes back at most 1/4 of the gradient: ten layers shrink it a lot
    assert first_over_last["sigmoid"][1] < 1e-3
    assert first_over_last["relu"][1] > 1e-2
    assert first_over_last["relu"][1] > 100 * first_over_last["sigmoid"][1]
    assert fig.axes[0].get_yscale() == "log"


def test_gradient_flow_needs_a_backward_first():
    with pytest.raises(ValueError, match="backward"):
        plot_gradient_flow(cr.nn.Linear(2, 2))


# -- plot_lr_sweep -------------------------------------------------------------------------


def span_corners(patch) -> np.ndarray:
    """An axvspan's corners in (data x, axes y) coordinates, whatever its patch class."""
    return patch.get_patch_transform().transform(patch.get_path().vertices)


def test_lr_sweep_marks_overshoot_and_divergence_where_the_sweep_says():
    rates = [0.1, 0.3, 0.7, 0.9, 1.1, 1.5]
    sweep = cr.lr_sweep(lambda w: (w - 3) ** 2, 0.0, rates, steps=100)
    # on (w - 3)^2 each SGD step multiplies the distance to 3 by 1 - 2 lr:
    # it changes sign (overshoots) above 0.5 and grows (diverges) above 1
    assert sweep.overshoots_from == 0.7 and sweep.diverges_from == 1.1
    fig = plot_lr_sweep(sweep)
    ax = fig.axes[0]
    diverges = span_corners(artist(fig, "diverges"))
    assert diverges[:, 0].min() == pytest.approx(1.1)
    assert diverges[:, 0].max() >= 1.5
    overshoot = span_corners(artist(fig, "overshoot"))
    assert (overshoot[:, 0].min(), overshoot[:, 0].max()) == pytest.approx((0.7, 1.1))
    line = artist(fig, "final_loss")
    assert list(line.get_xdata()) == rates
    expected = [9 * (1 - 2 * lr) ** (2 * t.steps) for lr, t in zip(rates, sweep.trajectories)]
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-6)
    crosses = artist(fig, "diverged")
    assert list(crosses.get_xdata()) == [1.1, 1.5]
    assert ax.get_xscale() == "log"
    assert_not_blank(pixels(fig))


def test_lr_sweep_without_overshoot_or_divergence_shades_nothing():
    sweep = cr.lr_sweep(lambda w: (w - 3) ** 2, 0.0, [0.01, 0.1, 0.3], steps=10)
    fig = plot_lr_sweep(sweep)
    assert len(fig.axes[0].patches) == 0


# -- without matplotlib --------------------------------------------------------------------


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install chainrule\[viz\]"):
        plot_derivative(lambda x: x**2, 1.0)
    with pytest.raises(ImportError, match=r"pip install chainrule\[viz\]"):
        plot_surface("bowl")
