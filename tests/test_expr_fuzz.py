"""Fuzzing cr.parse: whatever the text, the only exception that escapes is ParseError.

Three sources of text: any Unicode, strings over the formula alphabet (which reach deeper
into the parser), and random edits of valid formulas (which reach deepest). What parses
must then evaluate on floats and Scalars without raising: undefined math is nan or inf.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

VALID = [s.text for s in cr.surfaces.SURFACES.values()] + [
    "sigmoid(w*x + b) - relu(-x) + abs(y)",
    "min(x, y, 2) * max(log(x), sqrt(y)) / tan(x)",
    "-x^-2^y + e^-pi",
    "exp(ln(x)) + sign(x - y) * 1.5e-3",
]
ALPHABET = "xyzwbe0123456789.+-*/^(), \t\nepiexpsqrtlogmaxin_[]'\"=:;!@#$%&|~<>?\\{}`π²−"


def check(text: str) -> None:
    """Parse; on success evaluate on floats and Scalars. Nothing but ParseError may escape,
    and no warning either."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            formula = cr.parse(text)
        except cr.ParseError as error:
            assert 0 <= error.position <= len(text)
            assert error.text == text
            str(error)
            return
        values = {name: 0.37 + 0.11 * i for i, name in enumerate(formula.variables)}
        value = formula(**values)
        assert isinstance(value, float)
        scalar = formula(**{name: cr.Scalar(v) for name, v in values.items()})
        if formula.variables:
            assert isinstance(scalar, cr.Scalar)
            same = scalar.data == value or (math.isnan(scalar.data) and math.isnan(value))
            assert same or math.isclose(scalar.data, value, rel_tol=1e-9, abs_tol=1e-12)
            scalar.backward()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text(text):
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_text_over_the_formula_alphabet(text):
    check(text)


edit = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "duplicate", "swap"]),
    st.floats(0, 1),
    st.floats(0, 1),
    st.sampled_from(list(ALPHABET)),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID), st.lists(edit, min_size=1, max_size=4))
def test_edits_of_valid_formulas(text, edits):
    for kind, where, other, char in edits:
        i = int(where * len(text))
        j = int(other * len(text))
        if kind == "insert":
            text = text[:i] + char + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + 1 :]
        elif kind == "replace":
            text = text[:i] + char + text[i + 1 :]
        elif kind == "duplicate":
            low, high = sorted((i, j))
            text = text[:high] + text[low:high] + text[high:]
        else:
            low, high = sorted((i, j))
            if high < len(text):
                text = text[:low] + text[high] + text[low + 1 : high] + text[low] + text[high + 1 :]
    check(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(VALID), st.integers(1, 3))
def test_valid_formulas_nested_and_repeated(text, times):
    check("(" * times + text + ")" * times + " * " + " + ".join([f"({text})"] * times))
    check("-" * times + f"exp({text})" + "^" * times + "2")


def test_valid_formulas_evaluate_on_a_grid_as_on_points():
    for text in VALID:
        formula = cr.parse(text)
        grid = {name: np.array([0.3 + 0.2 * i, -0.4]) for i, name in enumerate(formula.variables)}
        with np.errstate(all="ignore"):
            values = formula(**grid)
        for k in range(2):
            point = formula(**{name: float(v[k]) for name, v in grid.items()})
            assert math.isclose(values[k], point, rel_tol=1e-14, abs_tol=1e-300) or (
                math.isnan(values[k]) and math.isnan(point)
            )
