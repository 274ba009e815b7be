"""The course's worked examples are acceptance tests: its exact numbers, computed by chainrule."""

from __future__ import annotations

import math

import pytest

from chainrule import Scalar
from chainrule.tour import derivative_at, descent_rows, render, tour


@pytest.mark.parametrize(
    "f, x, slope",
    [(lambda x: x**2, 3.0, 6.0), (lambda x: 3 * x + 7, -1.5, 3.0), (lambda x: 5, 2.0, 0.0)],
    ids=["x^2 at 3", "3x + 7", "constant 5"],
)
def test_derivatives_of_the_first_examples(f, x, slope):
    assert derivative_at(f, x)[1] == slope


def test_chain_rule_example():
    x = Scalar(1.0)
    u = 3 * x + 1
    y = u**2
    y.backward()
    assert (u.data, y.data) == (4.0, 16.0)
    assert u.grad == 8.0  # dy/du = 2u
    assert x.grad == 24.0  # dy/du * du/dx = 8 * 3


def test_partial_derivatives_and_gradient_example():
    x, y = Scalar(2.0), Scalar(1.0)
    f = x**2 + 3 * x * y + y**2
    f.backward()
    assert [x.grad, y.grad] == [7.0, 8.0]


def test_sigmoid_neuron_example():
    a, x, b = Scalar(1.0), Scalar(2.0), Scalar(3.0)
    y = (a * x + b).sigmoid()
    y.backward()
    s = 1 / (1 + math.exp(-5.0))
    assert y.data == pytest.approx(s, rel=1e-15)
    assert a.grad == pytest.approx(s * (1 - s) * 2.0, rel=1e-12)
    assert x.grad == pytest.approx(s * (1 - s) * 1.0, rel=1e-12)
    assert b.grad == pytest.approx(s * (1 - s), rel=1e-12)


def new_ws(rows):
    return [row[-1] for row in rows]


def test_descent_on_w_minus_3_squared():
    rows = descent_rows(lambda w: (w - 3) ** 2, 0.0, 0.3, 60)
    assert new_ws(rows)[:3] == pytest.approx([1.8, 2.52, 2.808], rel=1e-12)
    assert [row[3] for row in rows[:3]] == pytest.approx([-6.0, -2.4, -0.96], rel=1e-12)
    assert new_ws(rows)[-1] == pytest.approx(3.0, abs=1e-12)


def test_descent_on_squared_cost():
    rows = descent_rows(lambda x: (2 * x - 5) ** 2, 5.0, 0.1, 60)
    assert new_ws(rows)[:4] == pytest.approx([3.0, 2.6, 2.52, 2.504], rel=1e-12)
    assert [row[2] for row in rows[:4]] == pytest.approx([25, 1, 0.04, 0.0016], rel=1e-9)
    assert [row[4] for row in rows[:4]] == pytest.approx([2, 0.4, 0.08, 0.016], rel=1e-9)
    assert new_ws(rows)[-1] == pytest.approx(2.5, abs=1e-12)


def test_linear_cost_reaches_the_answer_in_five_steps():
    rows = descent_rows(lambda x: 2 * x - 5, 5.0, 0.25, 5)
    assert new_ws(rows) == [4.5, 4.0, 3.5, 3.0, 2.5]
    assert [row[2] for row in rows] == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert all(row[4] == 0.5 for row in rows)  # 0.25 * 2 every step


def test_line_fit_example():
    points = [(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]
    rows = descent_rows(lambda w: sum((w * x - y) ** 2 for x, y in points), 0.0, 0.05, 80)
    for row in rows:
        assert row[3] == pytest.approx(28 * row[1] - 68, abs=1e-9)  # dL/dw = 28w - 68
    assert new_ws(rows)[:4] == pytest.approx([3.4, 2.04, 2.584, 2.3664], rel=1e-12)
    assert new_ws(rows)[-1] == pytest.approx(68 / 28, rel=1e-9)


def test_every_tour_table_agrees_with_its_course_column():
    # the stops whose last column is the course's (or a by-hand) figure: every row must match
    checked = 0
    for stop in tour():
        if stop.table.columns[-1] in ("course", "by hand"):
            ours = "chainrule" if "chainrule" in stop.table.columns else "f'(x)"
            value = stop.table.columns.index(ours)
            for row in stop.table.rows:
                assert row[value] == pytest.approx(row[-1], rel=1e-9, abs=1e-6), (stop.title, row)
                checked += 1
    assert checked >= 15


def test_rendered_tour_shows_the_course_numbers():
    text = render()
    for number in ["24", "0.993307", "2.808", "2.504", "2.3664", "2.42857"]:
        assert number in text
    assert "## 1. The derivative is a slope" in render(markdown=True)


def test_learning_rate_stop_follows_the_closed_form():
    # gradient descent on (w - 3)^2 from 0: w_k = 3 - 3 (1 - 2 lr)^k, until it stops
    (stop,) = [s for s in tour() if s.title.startswith("9. ")]
    columns = stop.table.columns
    lr_at, steps_at, x_at = columns.index("lr"), columns.index("steps"), columns.index("final x")
    statuses = {row[lr_at]: row[columns.index("status")] for row in stop.table.rows}
    for row in stop.table.rows:
        lr, steps = row[lr_at], row[steps_at]
        assert float(row[x_at]) == pytest.approx(3 - 3 * (1 - 2 * lr) ** steps, rel=1e-9, abs=1e-9)
    assert statuses[1.5] == "diverged" and statuses[0.5] == "converged"


def test_training_stop_learns_the_moons():
    (stop,) = [s for s in tour() if s.title.startswith("10. ")]
    losses = [row[1] for row in stop.table.rows]
    accuracies = [row[2] for row in stop.table.rows]
    assert losses[-1] < losses[0] / 5
    assert accuracies[-1] >= 0.95 > accuracies[0]
