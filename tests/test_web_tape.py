"""The hiker's tape (a formula replayed through the ops' VJP rules) against the Tensor engine,
and its side-by-side runs against cr.descend."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.web.runs import descend_together
from chainrule.web.tape import _FAST_RULES, _UFUNCS, Tape, _vjp_rule

FORMULAS = [
    "x**2 + 3*x*y + y**2",
    "(1 - x)^2 + 100*(y - x^2)^2",
    "exp(-x^2) * sin(3*y) + log(x^2 + 1) / sqrt(y^2 + 2)",
    "tanh(x*y) + sigmoid(x - y) + relu(x) * abs(y)",
    "min(x, y, 0.5) + max(x*y, 1, -x) + sign(x) * x",
    "x^y + 2^x + cos(pi*x) * tan(y / 4) + e",
    "3*x",
    "y / x",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_tape_gives_the_tensor_engines_value_and_gradient(text):
    f = cr.parse(text)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 2.0, 9)
    y = rng.uniform(-1.5, 1.5, 9)
    x[0], y[0] = 1.0, 1.0  # ties of min and max
    at = {"x": x, "y": y}
    value, grads = Tape(f).value_and_grad({v: at[v] for v in f.variables})
    np.testing.assert_allclose(value, f(**{v: at[v] for v in f.variables}), rtol=1e-14)
    expected = f.grad(**{v: at[v] for v in f.variables})
    for name in f.variables:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-13, atol=1e-14)


def test_a_formula_without_variables_is_flat():
    value, grads = Tape(cr.parse("2 * pi")).value_and_grad({})
    assert value.tolist() == [2 * np.pi] and grads == {}


@pytest.mark.parametrize("prim", list(_UFUNCS), ids=lambda p: p.name)
def test_the_ufunc_forwards_are_the_primitives_forwards(prim):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0, np.inf, np.nan])
    y = np.array([2.0, 0.5, 0.0, -1.0, 3.0, 1.0, 2.0])
    args = (x, y) if _UFUNCS[prim].nin == 2 else (x,)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_UFUNCS[prim](*args), prim.forward(*args))


# the awkward numbers, and ordinary ones whose products round
AWKWARD = np.concatenate(
    [
        [-3.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 1e200, np.inf, -np.inf, np.nan],
        np.random.default_rng(1).normal(size=20) * 3,
    ]
)


@pytest.mark.parametrize(
    "prim, refs",
    [(cr.ops.power, ((True, 0), (False, y))) for y in (2.0, 3.0, 1.0, 0.5, -1.0, -2.5, 2)]
    + [(cr.ops.power, ((True, 0), (False, 0.0)))]  # no fast rule: the primitive's own
    + [(cr.ops.sin, ((True, 0),)), (cr.ops.cos, ((True, 0),))],
    ids=str,
)
def test_the_fast_vjp_rules_are_the_primitives_rules_bit_for_bit(prim, refs):
    x = np.repeat(AWKWARD, len(AWKWARD))
    g = np.tile(AWKWARD, len(AWKWARD))  # every cotangent with every x
    args = [x if traced else ref for traced, ref in refs]
    with np.errstate(all="ignore"):
        ans = prim.forward(*args)
        fast = _vjp_rule(prim, refs)(g, ans, args)
        own = (
            prim.vjp(g, ans, *args, needs=(True, False)[: len(args)])
            if prim.vjp_takes_needs
            else prim.vjp(g, ans, *args)
        )
    assert prim in _FAST_RULES
    for a, b in zip(fast, own):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "surface, start, lr",
    [("himmelblau", (0.0, 0.0), 0.01), ("bowl", (2.5, -1.5), 1.2), ("saddle", (1.5, 0.01), 0.1)],
)
def test_runs_side_by_side_are_cr_descend_runs(surface, start, lr):
    s = cr.surfaces.get(surface)
    names = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "newton"]
    together = descend_together(s.formula, start, [(n, {"lr": lr}) for n in names], steps=150)
    for name, run in zip(names, together):
        ref = cr.descend(s, list(start), name, lr=lr, steps=150)
        assert (run.status, run.steps, run.diverged_at) == (ref.status, ref.steps, ref.diverged_at)
        np.testing.assert_allclose(run.points, ref.points, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(run.values, ref.values, rtol=1e-12, atol=1e-12)


def test_a_deadline_already_past_stops_every_run_after_its_first_point():
    s = cr.surfaces.get("bowl")
    runs = descend_together(s.formula, s.start, [("sgd", {}), ("adam", {})], deadline=0.0)
    assert [(r.status, r.steps) for r in runs] == [("time_limit", 0), ("time_limit", 0)]


def test_newton_runs_in_several_threads_at_once_give_the_serial_answer():
    # grad mode is per thread: Newton's steps in several server threads must not switch it
    # under each other (this fails if it were one flag for the process)
    from concurrent.futures import ThreadPoolExecutor

    s = cr.surfaces.get("rosenbrock")
    choices = [("newton", {}), ("sgd", {"lr": 1e-3})]

    def work(_):
        return descend_together(s.formula, s.start, choices, steps=40)[0]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that a race would show
    try:
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(work, range(16)))
    finally:
        sys.setswitchinterval(interval)
    serial = cr.descend(s, list(s.start), "newton", steps=40)
    for run in runs:
        assert run.status == serial.status and run.steps == serial.steps
        np.testing.assert_allclose(run.points, serial.points, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lr", [0.3, 0.9, 1.05, 1.2, 1.5, 3.0, 1e3])
@pytest.mark.parametrize("text", ["x^2 + y^2", "exp(x^2) + y^2", "x^4 - y^2 + sqrt(x^2 + 1e-9)"])
def test_where_and_why_runs_stop_match_cr_descend(text, lr):
    # stops fall at every step relative to the checks made every CHECK_EVERY steps
    f = cr.parse(text)
    names = ["sgd", "momentum", "adam", "newton"]
    together = descend_together(f, (1.3, -0.7), [(n, {"lr": lr}) for n in names], steps=120)
    for name, run in zip(names, together):
        ref = cr.descend(f, [1.3, -0.7], name, lr=lr, steps=120, tol=1e-8)
        assert (run.status, run.steps, run.diverged_at) == (ref.status, ref.steps, ref.diverged_at)
        np.testing.assert_allclose(run.points, ref.points, rtol=1e-12, atol=1e-12)
