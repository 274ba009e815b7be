"""cr.descend, cr.compare, cr.lr_sweep: the course's descent tables, hand-written update
loops, finite differences, PyTorch's optimizers, Newton, divergence and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.descent import EXPLODE_FACTOR, EXPLODE_PATIENCE
from chainrule.descent_sweep import reversals
from tests.conftest import needs_torch

rng = np.random.default_rng(20240611)


# -- the course's tables (numbers from the course notes) -----------------------------------

PARABOLA_FORMS = {
    "function of a float": (lambda w: (w - 3) ** 2, 0.0),
    "function of a named w": (lambda w: (w - 3) ** 2, {"w": 0.0}),
    "formula": (cr.parse("(w - 3)^2"), 0.0),
    "surface": (cr.surfaces.get("course_parabola"), [0.0]),
}


@pytest.mark.parametrize("form", PARABOLA_FORMS, ids=str)
def test_course_parabola_from_0_with_rate_0_3(form):
    f, x0 = PARABOLA_FORMS[form]
    traj = cr.descend(f, x0, lr=0.3, steps=60)
    assert traj.points.shape[1] == 1
    assert traj.points[1:4, 0] == pytest.approx([1.8, 2.52, 2.808], rel=1e-12)
    assert traj.gradients[:3, 0] == pytest.approx([-6.0, -2.4, -0.96], rel=1e-12)
    assert traj.values[0] == 9.0
    assert traj.status == "converged"
    assert traj.points[-1, 0] == pytest.approx(3.0, abs=1e-8)


def test_course_squared_cost_from_5_with_rate_0_1():
    traj = cr.descend(lambda x: (2 * x - 5) ** 2, 5.0, lr=0.1, steps=60, tol=1e-10)
    assert traj.points[1:5, 0] == pytest.approx([3.0, 2.6, 2.52, 2.504], rel=1e-12)
    assert traj.values[:4] == pytest.approx([25, 1, 0.04, 0.0016], rel=1e-9)
    assert traj.updates[:4, 0] == pytest.approx([2, 0.4, 0.08, 0.016], rel=1e-9)
    assert traj.status == "converged"
    assert traj.x == pytest.approx(2.5, abs=1e-10)


def test_course_linear_cost_walks_past_the_answer_without_stopping():
    traj = cr.descend(lambda x: 2 * x - 5, 5.0, lr=0.25, steps=7)
    assert list(traj.points[:, 0]) == [5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5]
    assert list(traj.values[:6]) == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    assert np.all(traj.updates == 0.5)
    assert traj.status == "max_steps"  # a linear cost has no minimum to converge to


def test_course_line_fit_overshoots_and_settles():
    points = [(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]
    traj = cr.descend(
        lambda w: sum((w * x - y) ** 2 for x, y in points), {"w": 0.0}, lr=0.05, steps=200
    )
    assert traj.points[1:5, 0] == pytest.approx([3.4, 2.04, 2.584, 2.3664], rel=1e-12)
    assert traj.gradients[:, 0] == pytest.approx(28 * traj.points[:, 0] - 68, abs=1e-9)
    assert traj.x["w"] == pytest.approx(68 / 28, rel=1e-9)
    assert reversals(traj) == traj.steps - 1  # every step swings across the minimum


def test_table_is_in_the_course_style():
    traj = cr.descend(lambda w: (w - 3) ** 2, {"w": 0.0}, lr=0.3, steps=3, tol=None)
    table = traj.table(f_name="L")
    assert list(table.columns) == ["step", "w", "L(w)", "dL/dw", "lr * dL/dw", "new w"]
    assert [row[0] for row in table.rows] == [1, 2, 3]
    assert table.rows[1][1:] == pytest.approx([1.8, 1.44, -2.4, -0.72, 2.52], rel=1e-12)
    assert table.notes == ["max_steps after 3 steps: w = 2.808, L(w) = 0.036864"]
    long = cr.descend(lambda x: (x - 1) ** 2, 0.0, lr=0.01, steps=50).table(max_rows=8)
    assert len(long.rows) == 8 and "42 steps left out" in long.text()
    adam = cr.descend(lambda v: (v**2).sum(), [1.0, -2.0], "adam", lr=0.1, steps=2).table()
    assert adam.columns[4] == "update" and adam.rows[0][1] == "(1, -2)"


# -- the same update rules as cr.optim: hand-written loops, finite differences, PyTorch ----

A = rng.uniform(0.5, 2.0, size=3)
B = rng.standard_normal(3)


def bumpy(v):
    """An asymmetric function of a 3-vector, bounded below: a bowl, a coupling, a slope."""
    return (A * v**2).sum() + v[0] * v[1] * 0.7 - (B * v).sum() + 0.3 * v[2] ** 4


def bumpy_grad(v):
    g = 2 * A * v - B
    g[0] += 0.7 * v[1]
    g[1] += 0.7 * v[0]
    g[2] += 1.2 * v[2] ** 3
    return g


START = rng.uniform(-1.0, 1.0, size=3)


def test_sgd_is_the_formula_by_hand():
    traj = cr.descend(bumpy, START, lr=0.05, steps=30, tol=None)
    x = START.copy()
    for k in range(30):
        assert traj.points[k] == pytest.approx(x, rel=1e-12, abs=1e-14)
        assert traj.gradients[k] == pytest.approx(bumpy_grad(x), rel=1e-12, abs=1e-14)
        x = x - 0.05 * bumpy_grad(x)
    assert traj.points[30] == pytest.approx(x, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_momentum_is_pytorchs_formula_by_hand(nesterov):
    name = "nesterov" if nesterov else "momentum"
    traj = cr.descend(bumpy, START, name, lr=0.02, steps=25, tol=None)
    assert traj.hyperparameters["momentum"] == 0.9
    x, buffer = START.copy(), None
    for k in range(25):
        assert traj.points[k] == pytest.approx(x, rel=1e-12, abs=1e-14)
        g = bumpy_grad(x)
        buffer = g.copy() if buffer is None else 0.9 * buffer + g
        x = x - 0.02 * (g + 0.9 * buffer if nesterov else buffer)
    assert traj.points[25] == pytest.approx(x, rel=1e-12, abs=1e-14)


def test_momentum_can_be_given():
    traj = cr.descend(bumpy, START, "momentum", lr=0.02, momentum=0.5, steps=3)
    assert traj.hyperparameters["momentum"] == 0.5


def test_recorded_gradients_are_finite_differences():
    traj = cr.descend(bumpy, START, "adam", lr=0.1, steps=10, tol=None)
    for point, gradient in zip(traj.points, traj.gradients):
        numeric = cr.numerical_grad(bumpy, point.copy())
        assert gradient == pytest.approx(numeric, rel=1e-6, abs=1e-7)


def test_named_variables_of_a_python_function():
    def f(x, y):
        return (x - 1) ** 2 + 3 * (y + 0.5) ** 2 + x * y * 0.2

    traj = cr.descend(f, {"x": -1.5, "y": 2.0}, "adam", lr=0.1, steps=3)
    assert traj.variables == ("x", "y") and set(traj.x) == {"x", "y"}
    x, y = -1.5, 2.0
    numeric = cr.numerical_grad(lambda v: f(v[0], v[1]), np.array([x, y]))
    assert traj.gradients[0] == pytest.approx(numeric, rel=1e-7)


def test_formula_variables_by_name_and_in_surface_order():
    formula = cr.parse("(y - 2)^2 + 5*(x + 1)^2 + x*y")
    by_name = cr.descend(formula, {"y": 0.3, "x": -0.7}, lr=0.05, steps=5)
    in_order = cr.descend(formula, [-0.7, 0.3], lr=0.05, steps=5)  # formula order: x, y
    np.testing.assert_array_equal(by_name.points, in_order.points)
    assert by_name.x == pytest.approx(dict(zip("xy", in_order.x)))


def test_a_class_is_the_same_as_its_name():
    by_name = cr.descend(bumpy, START, "rmsprop", lr=0.01, steps=10)
    by_class = cr.descend(bumpy, START, cr.optim.RMSprop, lr=0.01, steps=10)
    np.testing.assert_array_equal(by_name.points, by_class.points)
    assert by_class.optimizer == "RMSprop"


TORCH_OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
}


@needs_torch
@pytest.mark.parametrize("name", TORCH_OPTIMIZERS)
def test_every_first_order_optimizer_follows_torch_optim(name):
    import torch

    traj = cr.descend(bumpy, START, name, lr=0.03, steps=40, tol=None)
    cls, options = TORCH_OPTIMIZERS[name]
    a, b = torch.tensor(A), torch.tensor(B)
    v = torch.tensor(START, requires_grad=True)
    opt = getattr(torch.optim, cls)([v], lr=0.03, **options)
    for k in range(40):
        assert traj.points[k] == pytest.approx(v.detach().numpy(), rel=1e-10, abs=1e-12)
        opt.zero_grad()
        loss = (a * v**2).sum() + v[0] * v[1] * 0.7 - (b * v).sum() + 0.3 * v[2] ** 4
        loss.backward()
        assert traj.values[k] == pytest.approx(loss.item(), rel=1e-12)
        opt.step()
    assert traj.points[40] == pytest.approx(v.detach().numpy(), rel=1e-10, abs=1e-12)


# -- Newton ----------------------------------------------------------------------------------


def test_newton_on_a_quadratic_lands_in_one_step():
    m = rng.standard_normal((3, 3))
    hessian = m @ m.T + 3 * np.eye(3)
    b = rng.standard_normal(3)
    h, c = cr.tensor(hessian), cr.tensor(b)

    def quadratic(x):
        return 0.5 * (x * (h @ x)).sum() - (c * x).sum()

    traj = cr.descend(quadratic, START, "newton", steps=10, tol=1e-9)
    assert traj.status == "converged" and traj.steps == 1
    assert traj.points[1] == pytest.approx(np.linalg.solve(hessian, b), rel=1e-12)


def test_newton_on_rosenbrock_converges_in_a_few_steps():
    rosenbrock = cr.surfaces.get("rosenbrock")
    traj = cr.descend(rosenbrock, rosenbrock.start, "newton", steps=50)
    assert traj.status == "converged" and traj.steps <= 10
    assert traj.points[-1] == pytest.approx([1.0, 1.0], abs=1e-9)
    # SGD from the same start is nowhere near in the same number of steps
    sgd = cr.descend(rosenbrock, rosenbrock.start, "sgd", lr=1e-3, steps=traj.steps)
    assert np.abs(sgd.points[-1] - 1).max() > 0.5


@needs_torch
def test_newton_steps_are_torchs_hessian_solve():
    import torch

    rosenbrock = cr.surfaces.get("rosenbrock")
    start = np.array([-0.4, 1.7])
    traj = cr.descend(rosenbrock, start, "newton", steps=4, tol=None, damping=0.3)

    def f(v):
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    x = torch.tensor(start)
    for k in range(4):
        assert traj.points[k] == pytest.approx(x.numpy(), rel=1e-10)
        g = torch.autograd.functional.jacobian(f, x)
        h = torch.autograd.functional.hessian(f, x) + 0.3 * torch.eye(2, dtype=torch.float64)
        x = x - torch.linalg.solve(h, g)
    assert traj.points[4] == pytest.approx(x.numpy(), rel=1e-10)


def test_adam_on_himmelblau_reaches_one_of_its_four_minima():
    himmelblau = cr.surfaces.get("himmelblau")
    for start in [himmelblau.start, (-1.3, 0.4), (0.8, -2.9)]:
        traj = cr.descend(himmelblau, start, "adam", lr=0.1, steps=2000, tol=1e-6)
        distances = np.linalg.norm(np.array(himmelblau.minima) - traj.points[-1], axis=1)
        assert distances.min() < 1e-4, (start, traj)


# -- stopping: converged, max_steps, diverged -------------------------------------------------


def test_growing_without_bound_while_finite_is_divergence():
    traj = cr.descend(lambda w: (w - 3) ** 2, 0.0, lr=1.5, steps=100)
    assert traj.status == "diverged"
    assert np.all(np.isfinite(traj.values))
    # each step doubles the distance to 3: the value is 9 * 4^k
    assert traj.values == pytest.approx(9.0 * 4.0 ** np.arange(len(traj.values)), rel=1e-12)
    first_big = int(np.argmax(traj.values > EXPLODE_FACTOR * 9))
    assert traj.diverged_at == first_big
    assert traj.steps == first_big + EXPLODE_PATIENCE - 1
    # too few steps to see it: the run just ends
    assert cr.descend(lambda w: (w - 3) ** 2, 0.0, lr=1.5, steps=5).status == "max_steps"


def test_a_value_that_is_not_finite_is_divergence():
    traj = cr.descend(lambda x: cr.log(x), 1.0, lr=1.0, steps=10)  # x: 1 -> 0, log 0 = -inf
    assert traj.status == "diverged" and traj.diverged_at == 1
    assert traj.values[-1] == -math.inf
    d = traj.to_dict()
    assert d["values"][-1] == "-inf" and d["diverged_at"] == 1
    json.dumps(d, allow_nan=False)  # JSON without nan/inf literals


def test_one_big_step_that_comes_back_is_not_divergence():
    # far out the slope is steep but the bowl brings the point back
    traj = cr.descend(lambda x: x**2, 1.0, lr=0.5, steps=5, tol=None)
    assert traj.status == "max_steps"
    bounce = cr.descend(lambda x: (x - 3) ** 2, 0.0, lr=1.0, steps=50, tol=None)
    assert bounce.status == "max_steps"  # between 0 and 6 for ever: not diverging either
    assert set(bounce.points[:, 0]) == {0.0, 6.0}


def test_tol_and_xtol():
    slow = cr.descend(lambda x: (x - 1) ** 2, 0.0, lr=0.001, steps=500, tol=1e-3)
    assert slow.status == "max_steps"
    # each step moves 0.002 * (1 - x): at most 1e-4 once x >= 0.95
    moved = cr.descend(lambda x: (x - 1) ** 2, 0.0, lr=0.001, steps=5000, tol=None, xtol=1e-4)
    assert moved.status == "converged"
    assert abs(moved.updates[-1, 0]) <= 1e-4 < abs(moved.updates[-2, 0])
    assert moved.x == pytest.approx(0.95, abs=1e-3)
    quick = cr.descend(lambda x: (x - 1) ** 2, 0.0, lr=0.25, steps=500, tol=1e-6)
    assert quick.status == "converged"
    assert abs(quick.gradients[-1, 0]) <= 1e-6 < abs(quick.gradients[-2, 0])


def test_a_flat_function_has_zero_gradient_and_converges_at_once():
    for optimizer in ["sgd", "newton"]:
        traj = cr.descend(lambda x: x * 0 + 5, 2.0, optimizer, steps=3)
        assert traj.status == "converged" and traj.steps == 0 and traj.gradients[0, 0] == 0


def test_to_dict_is_plain_json():
    traj = cr.descend(cr.surfaces.get("beale"), [1.0, 1.0], "adam", lr=0.05, steps=3)
    d = json.loads(json.dumps(traj.to_dict(), allow_nan=False))
    assert d["variables"] == ["x", "y"] and d["optimizer"] == "adam"
    assert np.array(d["points"]) == pytest.approx(traj.points, rel=1e-15)
    assert d["hyperparameters"]["betas"] == [0.9, 0.999] and d["steps"] == 3


# -- compare and lr_sweep --------------------------------------------------------------------


def test_compare_runs_each_optimizer_from_one_start():
    ellipse = cr.surfaces.get("ellipse")
    runs = cr.compare(
        ellipse,
        ellipse.start,
        {
            "sgd": "sgd",
            "adam fast": {"optimizer": "adam", "lr": 0.3},
            "newton": {"optimizer": "newton", "lr": 1.0},
        },
        lr=0.1,
        steps=30,
    )
    assert list(runs) == ["sgd", "adam fast", "newton"]
    alone = cr.descend(ellipse, ellipse.start, "adam", lr=0.3, steps=30)
    np.testing.assert_array_equal(runs["adam fast"].points, alone.points)
    assert runs["newton"].steps == 1  # a quadratic
    table = runs.table()
    assert [row[0] for row in table.rows] == list(runs)
    assert [row[1] for row in table.rows] == [t.status for t in runs.values()]


def test_compare_takes_the_optimizer_from_a_label_that_names_one():
    bowl = cr.surfaces.get("bowl")
    runs = cr.compare(bowl, [2.5, -1.5], {"adam": {"lr": 0.1}, "Momentum": {"lr": 0.05}}, steps=8)
    alone = {
        "adam": cr.descend(bowl, [2.5, -1.5], "adam", lr=0.1, steps=8),
        "Momentum": cr.descend(bowl, [2.5, -1.5], "momentum", lr=0.05, steps=8),
    }
    for label, run in runs.items():
        np.testing.assert_array_equal(run.points, alone[label].points)
        assert run.optimizer == alone[label].optimizer


def test_lr_sweep_finds_where_the_parabola_overshoots_and_diverges():
    # on (w - 3)^2 a step multiplies the distance to 3 by 1 - 2 lr:
    # it overshoots once lr > 0.5 and diverges once lr > 1
    sweep = cr.lr_sweep(lambda w: (w - 3) ** 2, 0.0, [0.2, 0.45, 0.55, 0.9, 1.2], steps=200)
    assert sweep.overshoots_from == 0.55 and sweep.diverges_from == 1.2
    statuses = [row[1] for row in sweep.table().rows]
    assert statuses == ["converged"] * 4 + ["diverged"]
    assert [row[-1] == "no" for row in sweep.table().rows] == [True, True, False, False, False]


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: cr.descend(bumpy, START, "adma"), ValueError, "did you mean 'adam'"),
        (lambda: cr.descend(bumpy, START, 3), TypeError, "optimizer must be"),
        (lambda: cr.descend(bumpy, START, steps=-1), ValueError, "steps"),
        (lambda: cr.descend(bumpy, START, tol=-1.0), ValueError, "tol"),
        (lambda: cr.descend(bumpy, START, lr=-0.1), ValueError, "lr"),
        (lambda: cr.descend(bumpy, START, "adam", momentum=0.9), TypeError, "Adam"),
        (lambda: cr.descend(bumpy, [1.0, math.nan, 0.0]), ValueError, "finite"),
        (lambda: cr.descend(bumpy, "abc"), TypeError, "numbers"),
        (lambda: cr.descend(lambda v: v * 2, START), ValueError, "one number"),
        (lambda: cr.descend(math.exp, 1.0), TypeError, "cr.exp"),
        (lambda: cr.descend(lambda x: 5.0, 1.0), TypeError, "not a Tensor"),
        (lambda: cr.descend(42, 1.0), TypeError, "f must be"),
        (lambda: cr.descend(cr.parse("x*y"), {"x": 1.0}), ValueError, "missing ['y']"),
        (lambda: cr.descend(cr.parse("x*y"), [1.0, 2.0, 3.0]), ValueError, "2 variables"),
        (lambda: cr.compare(bumpy, START, "sgd"), TypeError, "list or dict"),
        (lambda: cr.compare(bumpy, START, ["sgd", "sgd"]), ValueError, "twice"),
        (lambda: cr.lr_sweep(bumpy, START, []), ValueError, "at least one"),
        (lambda: cr.lr_sweep(bumpy, START, [0.1, -1.0]), ValueError, "-1.0"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)
