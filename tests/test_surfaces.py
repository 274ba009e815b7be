"""cr.surfaces: every surface on every engine, its gradient, and its minima checked numerically.

The minima are verified without trusting the registry's numbers: finite differences give
the gradient (about zero) and curvature (positive) at each listed minimum, a grid over the
domain finds no lower point, and Newton's method polished from every low point of the grid
finds no global minimum that is not listed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch
from tests.formula_torch import torch_value_and_grad

SURFACES = list(cr.surfaces.SURFACES.values())
WITH_MINIMA = [s for s in SURFACES if s.minima]
# Ackley's minimum is the tip of a cone: no gradient there, checked separately
SMOOTH_MINIMA = [s for s in WITH_MINIMA if s.name != "ackley"]
RNG = np.random.default_rng(7)


def ids(surface):
    return surface.name


def random_points(surface, count: int) -> np.ndarray:
    """Points inside the domain (away from its edges), one row per point."""
    low = np.array([lo for lo, hi in surface.domain])
    high = np.array([hi for lo, hi in surface.domain])
    margin = 0.1 * (high - low)
    return RNG.uniform(low + margin, high - margin, (count, surface.ndim))


def grid(surface, n: int) -> list[np.ndarray]:
    axes = [np.linspace(lo, hi, n) for lo, hi in surface.domain]
    return np.meshgrid(*axes, indexing="ij")


def finite_gradient(surface, points, h=1e-6) -> np.ndarray:
    """Central differences of the surface's values (NumPy only) at a point, or at each row of
    an array of points."""
    points = np.asarray(points, dtype=np.float64)
    grad = np.zeros_like(points)
    for i in range(surface.ndim):
        step = np.zeros_like(points)
        step[..., i] = h * np.maximum(1.0, np.abs(points[..., i]))
        up = surface(*np.moveaxis(points + step, -1, 0))
        down = surface(*np.moveaxis(points - step, -1, 0))
        grad[..., i] = (up - down) / (2 * step[..., i])
    return grad


def finite_hessian(surface, points: np.ndarray, h=1e-4) -> np.ndarray:
    """Second differences of the values at many points at once: shape (count, n, n)."""
    n = surface.ndim
    count = len(points)
    hessian = np.zeros((count, n, n))

    def f(shifts):
        moved = points + shifts
        return surface(*moved.T)

    for i in range(n):
        for j in range(n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h
            ej[j] = h
            hessian[:, i, j] = (f(ei + ej) - f(ei - ej) - f(ej - ei) + f(-ei - ej)) / (4 * h * h)
    return hessian


# -- the registry -------------------------------------------------------------------------


def test_the_registry_has_the_surfaces_of_the_issue():
    expected = {
        "bowl",
        "ellipse",
        "rosenbrock",
        "beale",
        "himmelblau",
        "booth",
        "matyas",
        "three_hump_camel",
        "six_hump_camel",
        "saddle",
        "bounded_saddle",
        "monkey_saddle",
        "rastrigin",
        "ackley",
        "styblinski_tang",
        "course_parabola",
        "course_line",
        "linear_fit",
    }
    assert set(cr.surfaces.names()) == expected
    assert len(cr.surfaces.names()) == len(expected)
    assert list(cr.surfaces.SURFACES) == list(cr.surfaces.names())


def test_get_forgives_case_spaces_and_hyphens():
    assert cr.surfaces.get("Six-Hump Camel") is cr.surfaces.SURFACES["six_hump_camel"]
    assert cr.surfaces.get(" rosenbrock ").name == "rosenbrock"


def test_an_unknown_name_suggests_a_close_one():
    with pytest.raises(KeyError, match="did you mean 'rosenbrock'"):
        cr.surfaces.get("rosenbrok")
    with pytest.raises(KeyError, match="surfaces: bowl, ellipse"):
        cr.surfaces.get("teapot")


def test_the_registry_is_read_only():
    with pytest.raises(TypeError):
        cr.surfaces.SURFACES["mine"] = None
    with pytest.raises(AttributeError):
        cr.surfaces.get("bowl").start = (0.0, 0.0)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_each_surface_is_complete_and_consistent(surface):
    assert isinstance(surface.formula, cr.Formula)
    assert surface.text == surface.formula.text
    assert set(surface.formula.variables) == set(surface.variables)
    assert len(surface.domain) == len(surface.start) == surface.ndim
    for (low, high), v in zip(surface.domain, surface.start):
        assert low < v < high
    for point in surface.minima:
        assert len(point) == surface.ndim
        assert all(low <= v <= high for (low, high), v in zip(surface.domain, point))
    assert (surface.minimum is None) == (not surface.minima)
    assert surface.lesson.endswith(".") and len(surface.lesson) > 40
    assert surface.name in repr(surface)
    assert surface.ndim == 2 or surface.name.startswith("course")


@pytest.mark.parametrize("name", ["saddle", "monkey_saddle"])
def test_saddles_have_no_minimum_and_say_why(name):
    surface = cr.surfaces.get(name)
    assert surface.minima == () and surface.minimum is None
    assert "no minimum" in surface.lesson.lower()
    # the origin is a critical point but not a minimum, and the surface falls without bound
    assert np.allclose(finite_gradient(surface, (0.0, 0.0)), 0.0, atol=1e-9)
    assert min(surface(0.0, 0.1), surface(-0.1, 0.0)) < surface(0.0, 0.0)
    assert min(surface(0.0, 1e6), surface(-1e6, 0.0)) < -1e11


# -- evaluation on every engine --------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_every_engine_gives_the_same_value(surface):
    points = random_points(surface, 5)
    on_grid = surface(*points.T)  # vectorised: one array per coordinate
    assert on_grid.shape == (5,)
    for point, expected in zip(points, on_grid):
        assert surface(*point) == pytest.approx(expected, rel=1e-13, abs=1e-13)
        scalar = surface(*map(cr.Scalar, point))
        assert scalar.data == pytest.approx(expected, rel=1e-13, abs=1e-13)
    tensor = surface(*(cr.tensor(column) for column in points.T))
    assert tensor.dtype == np.float64
    np.testing.assert_allclose(tensor.numpy(), on_grid, rtol=1e-13, atol=1e-13)
    single = surface(*(cr.tensor(column.astype(np.float32)) for column in points.T))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single.numpy(), on_grid, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_one_vector_of_coordinates_works_as_an_optimiser_hands_it(surface):
    point = random_points(surface, 1)[0]
    if surface.ndim == 1:
        return  # the coordinate is the vector
    v = cr.tensor(point, requires_grad=True)
    out = surface(v)
    out.backward()
    assert float(out) == pytest.approx(surface(*point), rel=1e-13, abs=1e-13)
    np.testing.assert_allclose(v.grad.numpy(), surface.grad(*point), rtol=1e-12, atol=1e-12)
    assert surface(list(point)) == pytest.approx(surface(*point), rel=1e-15)


def test_a_wrong_number_of_coordinates_is_a_clear_error():
    rosenbrock = cr.surfaces.get("rosenbrock")
    with pytest.raises(TypeError, match="takes 2 coordinates"):
        rosenbrock(1.0)
    with pytest.raises(TypeError, match="takes 2 coordinates"):
        rosenbrock(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="takes 2 coordinates"):
        rosenbrock([1.0, 2.0, 3.0])


# -- gradients ---------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_gradient_passes_gradcheck_on_scalars(surface):
    for point in random_points(surface, 4):
        assert cr.gradcheck(surface, *(float(v) for v in point))


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_gradient_passes_gradcheck_on_tensors(surface):
    columns = random_points(surface, 6).T.copy()
    assert cr.gradcheck(lambda *xs: surface(*xs).sum(), *columns)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_gradient_on_a_grid_matches_finite_differences(surface):
    points = random_points(surface, 5)
    grads = surface.grad(*points.T)
    for k, point in enumerate(points):
        expected = finite_gradient(surface, point)
        got = np.array([g[k] for g in grads])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_value_and_gradient_match_pytorch(surface):
    for point in random_points(surface, 3):
        at = dict(zip(surface.variables, point))
        torch_value, torch_grad = torch_value_and_grad(surface.formula, at)
        assert surface(*point) == pytest.approx(torch_value, rel=1e-12, abs=1e-12)
        grad = surface.grad(*point)
        expected = [torch_grad[name] for name in surface.variables]
        np.testing.assert_allclose(grad, expected, rtol=1e-11, atol=1e-11)


# -- minima, verified numerically -------------------------------------------------------------


@pytest.mark.parametrize("surface", WITH_MINIMA, ids=ids)
def test_the_value_at_each_minimum_is_the_listed_minimum(surface):
    for point in surface.minima:
        assert surface(*point) == pytest.approx(surface.minimum, rel=1e-14, abs=1e-14)


@pytest.mark.parametrize("surface", SMOOTH_MINIMA, ids=ids)
def test_the_gradient_vanishes_at_each_minimum(surface):
    scale = max(1.0, abs(surface.minimum))
    for point in surface.minima:
        assert np.abs(finite_gradient(surface, point)).max() < 1e-7 * scale
        assert np.abs(surface.grad(*point)).max() < 1e-10 * scale


@pytest.mark.parametrize("surface", SMOOTH_MINIMA, ids=ids)
def test_the_curvature_is_positive_at_each_minimum(surface):
    hessians = finite_hessian(surface, np.array(surface.minima))
    for hessian in hessians:
        assert np.linalg.eigvalsh((hessian + hessian.T) / 2).min() > 1e-3


def test_ackleys_minimum_is_the_tip_of_a_cone():
    ackley = cr.surfaces.get("ackley")
    assert ackley(0.0, 0.0) == pytest.approx(0.0, abs=1e-14)
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    for radius in (1e-6, 1e-3, 0.1):
        ring = ackley(radius * np.cos(angles), radius * np.sin(angles))
        assert np.all(ring > 0.0)
        # the cone: the value grows linearly with the radius, however close
        assert np.all(ring / radius > 1.0)
    assert all(math.isnan(g) for g in ackley.grad(0.0, 0.0))


@pytest.mark.parametrize("surface", WITH_MINIMA, ids=ids)
def test_no_point_of_a_grid_over_the_domain_is_lower(surface):
    n = 401 if surface.ndim == 2 else 20001
    values = surface(*grid(surface, n))
    scale = max(1.0, abs(surface.minimum))
    assert values.min() >= surface.minimum - 1e-12 * scale
    assert values.min() <= surface.minimum + 0.05 * (values.max() - values.min())


def polish(surface, points: np.ndarray, steps: int = 50) -> np.ndarray:
    """Newton's method with finite-difference derivatives, from many points at once."""
    points = points.copy()
    for _ in range(steps):
        hessian = finite_hessian(surface, points)
        gradient = finite_gradient(surface, points)
        # a singular Hessian (a flat spot) gets no step: its point stays a non-minimum
        singular = np.abs(np.linalg.det(hessian)) < 1e-12
        hessian[singular] = np.eye(surface.ndim)
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        step[singular] = 0.0
        # Newton's step only where it is small: far from a critical point it may jump anywhere
        trusted = np.isfinite(step).all(axis=1) & (np.linalg.norm(step, axis=1) < 1.0)
        points[trusted] -= step[trusted]
    return points


@pytest.mark.parametrize("surface", SMOOTH_MINIMA, ids=ids)
def test_every_global_minimum_is_listed(surface):
    n = 81 if surface.ndim == 2 else 801
    coordinates = grid(surface, n)
    values = surface(*coordinates)
    # the grid's low points: no neighbour lower
    padded = np.pad(values, 1, constant_values=np.inf)
    low = np.ones(values.shape, dtype=bool)
    for shift in np.ndindex(*(3,) * surface.ndim):
        window = tuple(slice(s, s + n) for s in shift)
        low &= values <= padded[window]
    candidates = np.stack([c[low] for c in coordinates], axis=1)
    polished = polish(surface, candidates)
    found = polished[np.array([surface(*p) for p in polished]) < surface.minimum + 1e-9]
    listed = np.array(surface.minima)
    assert len(found) > 0
    for point in found:
        assert np.min(np.linalg.norm(listed - point, axis=1)) < 1e-5, point
    for point in listed:
        assert np.min(np.linalg.norm(found - point, axis=1)) < 1e-5, point


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_the_start_is_not_a_minimum(surface):
    assert np.abs(finite_gradient(surface, surface.start)).max() > 1e-3


# -- the course's examples ----------------------------------------------------------------


def test_course_line_is_the_courses_loss_on_its_points():
    x, y = cr.data.linear_points(dtype=np.float64)
    line = cr.surfaces.get("course_line")
    for w in (0.0, 1.7, 2.43, 3.4):
        assert line(w) == pytest.approx(np.sum((w * x - y) ** 2), rel=1e-14)
        assert line.grad(w) == pytest.approx((28 * w - 68,), rel=1e-14, abs=1e-13)  # the course


def test_course_lines_descent_matches_the_courses_table():
    # the course: w = 0, learning rate 0.05 -> 3.40, 2.04, 2.58, 2.37, ... -> 2.43
    line = cr.surfaces.get("course_line")
    w = line.start[0]
    seen = []
    for _ in range(4):
        (g,) = line.grad(w)
        w -= 0.05 * g
        seen.append(round(w, 2))
    assert seen == [3.40, 2.04, 2.58, 2.37]
    assert line.minima[0][0] == pytest.approx(2.43, abs=0.005)


def test_linear_fit_is_the_mean_squared_error_of_a_line():
    x, y = cr.data.linear_points(dtype=np.float64)
    fit = cr.surfaces.get("linear_fit")
    assert fit.variables == ("w", "b")
    for w, b in [(0.0, 0.0), (1.3, -0.4), (2.0, 1.0)]:
        assert fit(w, b) == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-14, abs=1e-15)


def test_course_parabola_is_the_courses_first_loss():
    parabola = cr.surfaces.get("course_parabola")
    for w in (0.0, 1.2, 4.5):
        assert parabola(w) == pytest.approx((w - 3) ** 2, rel=1e-15)
        assert parabola.grad(w) == pytest.approx((2 * (w - 3),), rel=1e-15)


def test_the_numbers_the_lessons_quote():
    # ellipse: 20 times steeper across than along; matyas: 25 times flatter along y = x
    for name, ratio in [("ellipse", 20.0), ("matyas", 25.0)]:
        surface = cr.surfaces.get(name)
        eigenvalues = np.linalg.eigvalsh(finite_hessian(surface, np.array([[0.3, -0.2]]))[0])
        assert eigenvalues.max() / eigenvalues.min() == pytest.approx(ratio, rel=1e-4)
    # three-hump camel: local minima about 0.2986 deep at (±1.7476, ∓0.8738)
    camel = cr.surfaces.get("three_hump_camel")
    local = polish(camel, np.array([[1.7, -0.9], [-1.7, 0.9]]))
    np.testing.assert_allclose(np.abs(local), [[1.7476, 0.8738]] * 2, atol=1e-4)
    assert camel(*local.T) == pytest.approx([0.2986, 0.2986], abs=1e-4)
    # bowl and course parabola: gradient descent diverges exactly above learning rate 1
    for name in ("bowl", "course_parabola"):
        surface = cr.surfaces.get(name)
        for lr, shrinks in [(0.9, True), (1.1, False)]:
            point = np.array(surface.start) + 0.5
            for _ in range(200):
                point = point - lr * np.array(surface.grad(*point))
            distance = np.linalg.norm(point - np.array(surface.minima[0]))
            assert (distance < 1e-3) == shrinks, (name, lr)
