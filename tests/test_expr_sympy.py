"""The SymPy bridge: expressions built from our own program, derivatives that are Formulas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import expr_sympy

sympy = pytest.importorskip("sympy")
x, y = sympy.symbols("x y", real=True)

# formulas, points away from their kinks, asymmetric
DERIVATIVES = [
    ("x^3 * y - 2*x/y", (1.3, -0.7)),
    ("exp(x*y) + log(x) - sqrt(y)", (0.8, 1.9)),
    ("sin(x) * cos(y) + tan(x - y) + tanh(2*x)", (0.4, 0.9)),
    ("sigmoid(x*y - 1)", (1.2, -0.6)),
    ("relu(x - y) + relu(y)", (1.5, -0.3)),
    ("abs(x) * sign(y) + abs(y - 1)", (-1.1, 2.4)),
    ("min(x, y) + max(x, 2*y, 0.5)", (0.9, -0.4)),
    ("x ^ y + 2 ^ x + pi * e ^ y", (1.7, 0.6)),
    ("0.1*x^2 + 1.05*y^4 - 2.625*x*y", (1.1, -0.8)),
    ("ln(x ^ 2 + 1) / (y ^ 2 + 1)", (-0.9, 1.6)),
]
DERIVATIVES += [(s.text, s.start) for s in cr.surfaces.SURFACES.values() if s.ndim == 2]


@pytest.mark.parametrize("text, point", DERIVATIVES, ids=[d[0] for d in DERIVATIVES])
def test_derivatives_agree_with_the_engine_and_finite_differences(text, point):
    f = cr.parse(text)
    at = dict(zip(f.variables, point))
    grad = f.grad(**at)
    for i, name in enumerate(f.variables):
        derivative = f.diff(name)
        assert isinstance(derivative, cr.Formula)
        assert set(derivative.variables) <= set(f.variables)
        args = {v: at[v] for v in derivative.variables}
        assert derivative(**args) == pytest.approx(grad[name], rel=1e-10, abs=1e-12)

        def along(v, i=i):
            moved = list(point)
            moved[i] = v
            return f(**dict(zip(f.variables, moved)))

        numerical = cr.numerical_grad(along, point[i])
        assert derivative(**args) == pytest.approx(numerical, rel=1e-6, abs=1e-7)


def test_second_derivatives_are_derivatives_of_the_gradient():
    f = cr.parse("x^3 * y^2 + sin(x * y)")
    fxy = f.diff("x").diff("y")
    fyx = f.diff("y").diff("x")
    for point in [(0.7, -1.3), (1.9, 0.4)]:
        at = dict(zip(f.variables, point))
        # d/dy of the engine's d/dx, by central differences
        h = 1e-5
        up = f.grad(x=point[0], y=point[1] + h)["x"]
        down = f.grad(x=point[0], y=point[1] - h)["x"]
        assert fxy(**at) == pytest.approx((up - down) / (2 * h), rel=1e-7)
        assert fyx(**at) == pytest.approx(fxy(**at), rel=1e-12)


def test_derivative_text_reads_like_the_math():
    assert cr.parse("x^3 + sin(x)").diff("x").text == "3*x**2 + cos(x)"
    assert cr.parse("sigmoid(x)").diff("x").text == "(1 - sigmoid(x))*sigmoid(x)"
    assert cr.parse("abs(x)").diff("x").text == "sign(x)"
    assert cr.parse("relu(x)").diff("x").text == "relu(sign(x))"
    assert cr.parse("e^x * pi").diff("x").text == "pi*exp(x)"


def test_relu_slope_reads_back_as_the_engines_convention():
    slope = cr.parse("relu(x)").diff("x")
    assert [slope(x=v) for v in (-2.0, 0.0, 3.0)] == [0.0, 0.0, 1.0]


def test_to_sympy_builds_the_expression_exactly():
    got = cr.parse("x^2/6 - 3*x*y + sqrt(y) + pi + e").to_sympy()
    expected = x**2 / 6 - 3 * x * y + sympy.sqrt(y) + sympy.pi + sympy.E
    assert sympy.simplify(got - expected) == 0
    assert got.free_symbols == {x, y}
    assert all(s.is_real for s in got.free_symbols)
    assert cr.parse("0.1 * x").to_sympy().args[0] == sympy.Float(0.1)


def test_names_sympy_would_read_as_constants_stay_symbols():
    # a string handed to sympify would turn these into I, E, oo, S, N, Q
    got = cr.parse("I + E + oo + S + N + Q").to_sympy()
    assert {str(s) for s in got.free_symbols} == {"I", "E", "oo", "S", "N", "Q"}
    assert cr.parse("I * E").diff("E").text == "I"


def test_latex():
    assert cr.parse("x^2 / 2").latex() == r"\frac{x^{2}}{2}"
    assert cr.parse("sigmoid(theta)").latex() == r"\sigma\left(\theta\right)"
    assert r"\operatorname{relu}" in cr.parse("relu(x)").latex()
    assert r"\sqrt{y}" in cr.parse("sqrt(y) * x").latex()


def test_diff_needs_a_variable_of_the_formula():
    with pytest.raises(ValueError, match="'z' is not a variable"):
        cr.parse("x * y").diff("z")


def test_steps_have_slope_zero_as_in_the_engines():
    assert cr.parse("abs(x)").diff("x").diff("x").text == "0"
    assert cr.parse("x * sign(y)").diff("y").text == "0"
    assert cr.parse("x * sign(y)").grad(x=2.0, y=-1.0)["y"] == 0.0


def test_without_sympy_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy now raises ImportError
    expr_sympy._tools.cache_clear()
    try:
        f = cr.parse("x^2")
        for method in (f.to_sympy, f.latex, lambda: f.diff("x")):
            with pytest.raises(ImportError, match=r"pip install 'chainrule\[symbolic\]'"):
                method()
        assert f(x=3.0) == 9.0  # the rest works without it
    finally:
        expr_sympy._tools.cache_clear()


def test_importing_chainrule_does_not_import_sympy():
    code = (
        "import sys, chainrule as cr; f = cr.parse('x^2 + 1'); f(x=1.0); f.grad(x=2.0); "
        "cr.surfaces.get('rosenbrock')(1.0, 2.0); print('sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_large_derivative_is_allowed_past_the_input_limits():
    f = cr.parse("exp(" * 12 + "x * y" + ")" * 12)
    d = f.diff("x")
    assert len(d.text) > 200
    at = {"x": 0.01, "y": -0.02}
    assert d(**at) == pytest.approx(f.grad(**at)["x"], rel=1e-10)
    np.testing.assert_allclose(
        d(x=np.array([0.01, -0.03]), y=-0.02),
        f.grad(x=np.array([0.01, -0.03]), y=-0.02)["x"],
        rtol=1e-10,
    )
