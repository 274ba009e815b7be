"""cr.explain: the chain-rule report for Scalar and Tensor graphs.

Every number a report shows is checked against backward() (or finite differences and
PyTorch), never against itself; the course's figures are asserted as the course gives them.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import Scalar
from chainrule.scalar import FORMULAS, formula_key
from tests.conftest import needs_torch
from tests.tensor_cases import draw


def row(report, name: str) -> dict:
    (found,) = [r for r in report.rows if r["name"] == name]
    return found


def local(report, name: str, input_name: str) -> dict:
    (found,) = [e for e in row(report, name)["local"] if e["input"] == input_name]
    return found


# -- the acceptance examples -----------------------------------------------------------------


def test_chain_rule_of_3x_plus_1_squared_at_1():
    x = Scalar(1.0, label="x")
    u = 3 * x + 1
    y = u**2
    report = cr.explain(y)
    y.backward()  # the reference numbers: backward leaves dy/du on u and dy/dx on x
    assert [r["name"] for r in report.rows] == ["x", "u", "y"]
    assert row(report, "u")["expression"] == "3·x + 1"
    assert row(report, "u")["value"] == u.data == 4.0
    assert row(report, "y")["expression"] == "u²"
    assert local(report, "y", "u") == {
        "input": "u",
        "formula": "2·u",
        "value": u.grad,
        "jacobian": None,
    }
    assert local(report, "u", "x")["value"] == x.grad / u.grad == 3.0
    assert row(report, "u")["upstream"] == u.grad == 8.0
    assert row(report, "x")["upstream"] == report.grads["x"] == x.grad == 24.0
    text = str(report)
    assert "u     3·x + 1" in text
    assert "dy/du = 2·u = 8" in text
    assert "du/dx = 3·1 = 3" in text
    assert report.chain_text() == "dy/dx = dy/du · du/dx = 8 · 3 = 24"


def test_sigmoid_neuron_shows_every_local_derivative_and_the_course_gradients():
    a, x, b = Scalar(1.0, label="a"), Scalar(2.0, label="x"), Scalar(3.0, label="b")
    y = (a * x + b).sigmoid()
    report = cr.explain(y)
    y.backward()
    s = y.data
    assert [(r["name"], r["expression"]) for r in report.rows] == [
        ("a", ""),
        ("x", ""),
        ("u", "a·x"),
        ("b", ""),
        ("v", "u + b"),
        ("y", "σ(v)"),
    ]
    # the local derivatives, each as the textbook writes it, with its value
    assert local(report, "u", "a")["formula"] == "x" and local(report, "u", "a")["value"] == 2.0
    assert local(report, "u", "x")["formula"] == "a" and local(report, "u", "x")["value"] == 1.0
    assert local(report, "v", "u")["value"] == local(report, "v", "b")["value"] == 1.0
    assert local(report, "y", "v")["formula"] == "σ(v)·(1 − σ(v))"
    assert local(report, "y", "v")["value"] == pytest.approx(s * (1 - s), rel=1e-15)
    # the three gradients: backward's, and the course's figures
    for leaf, name, course in ((a, "a", 0.013296), (x, "x", 0.006648), (b, "b", 0.006648)):
        assert report.grads[name] == pytest.approx(leaf.grad, rel=1e-15)
        assert round(report.grads[name], 6) == course
    assert round(row(report, "y")["value"], 6) == 0.993307
    lines = report.chain_text().splitlines()
    assert lines[0].startswith("dy/da = dy/dv · dv/du · du/da = 0.00664806 · 1 · 2 = ")
    assert lines[2] == "dy/db = dy/dv · dv/db = 0.00664806 · 1 = 0.00664806"


def test_explain_leaves_every_grad_as_it_was():
    x, w = Scalar(0.7, label="x"), Scalar(-1.3, label="w")
    x.grad, w.grad = 5.0, -2.0
    hidden = x * w
    hidden.grad = 9.0
    cr.explain((hidden.tanh() + x) * w)
    assert (x.grad, w.grad, hidden.grad) == (5.0, -2.0, 9.0)


# -- folding steps by a number ---------------------------------------------------------------

AFFINE_CHAINS = [
    ("3·x + 1", lambda x: 3 * x + 1),
    ("((x + 1)·3 − 2)/4", lambda x: ((x + 1) * 3 - 2) / 4),
    ("2 − (x − 5)·0.5", lambda x: 2 - (x - 5) * 0.5),
    ("−(x + 2)·3", lambda x: -(x + 2) * 3),
    ("−x·3", lambda x: (-x) * 3),
    ("2 − (−x)", lambda x: 2 - (-x)),
    ("1.5 + 2·x − (−0.25)", lambda x: 1.5 + 2 * x - (-0.25)),
]


@pytest.mark.parametrize(("expected", "f"), AFFINE_CHAINS, ids=[c[0] for c in AFFINE_CHAINS])
def test_a_run_of_affine_steps_is_one_row_with_the_composed_expression(expected, f):
    x = Scalar(-0.8, label="x")
    u = f(x)
    y = u.exp()  # u is an in-between node, named u
    report = cr.explain(y)
    y.backward()
    folded = row(report, "u")
    assert folded["expression"] == expected
    assert len(folded["ops"]) > 1
    # the text is the math: evaluated as Python, it gives the node's value
    python = expected.replace("·", "*").replace("−", "-")
    assert eval(python, {"x": x.data}) == pytest.approx(u.data, rel=1e-15)
    # its local derivative is the product of the steps', and the chain rule still holds
    assert local(report, "u", "x")["value"] == pytest.approx(x.grad / u.grad, rel=1e-12)
    assert report.grads["x"] == pytest.approx(x.grad, rel=1e-12)


def test_fold_false_shows_every_node():
    x = Scalar(1.0, label="x")
    y = (3 * x + 1) ** 2
    report = cr.explain(y, fold=False)
    assert [(r["name"], r["expression"]) for r in report.rows] == [
        ("x", ""),
        ("u", "3·x"),
        ("v", "u + 1"),
        ("y", "v²"),
    ]
    assert report.chain_text() == "dy/dx = dy/dv · dv/du · du/dx = 8 · 1 · 3 = 24"


def test_folding_stops_at_a_label_and_at_a_node_used_twice():
    x = Scalar(0.5, label="x")
    h = x * 2
    h.label = "h"
    shared = h + 1
    y = (shared * 4) * shared
    report = cr.explain(y)
    y.backward()
    assert [(r["name"], r["expression"]) for r in report.rows] == [
        ("x", ""),
        ("h", "x·2"),
        ("u", "h + 1"),  # used twice: not folded into the "* 4" after it
        ("v", "u·4"),
        ("y", "v·u"),
    ]
    assert report.grads["x"] == pytest.approx(x.grad, rel=1e-15)


# -- formulas: one for every Scalar op, and each one right ---------------------------------

_NOT_OPS = {"__init__", "backward", "zero_grad", "__repr__", "__float__", "__hash__"}


def _nodes_made_by_every_op() -> list[Scalar]:
    """Call each method and operator of Scalar on Scalars and numbers; keep the new nodes."""
    made = []
    for name, attribute in vars(Scalar).items():
        if not callable(attribute) or name in _NOT_OPS:
            continue
        for args in ((), (Scalar(1.7),), (2.5,)):
            try:
                out = attribute(Scalar(0.6), *args)
            except TypeError:
                continue
            if isinstance(out, Scalar) and out.parents:
                made.append(out)
    return made


def test_every_scalar_op_has_a_formula():
    made = _nodes_made_by_every_op()
    ops = {formula_key(node._opcode) for node in made}
    assert len(ops) >= 20  # the walk above really reached the ops
    missing = ops - set(FORMULAS)
    assert not missing, f"Scalar ops without a formula in scalar.FORMULAS: {missing}"


def _python(template: str) -> str:
    """A FORMULAS template as a Python expression of x, y and c."""
    text = template.format(x="x", y="y", c="c", c_1="(c - 1)")
    for math_text, python in (
        ("·", "*"),
        ("−", "-"),
        ("^", "**"),
        ("σ", "sigmoid"),
        ("√x", "sqrt(x)"),
        ("ln", "log"),
        ("|x|", "abs(x)"),
    ):
        text = text.replace(math_text, python)
    return text


_MATH = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "tan": math.tan,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "relu": lambda v: max(v, 0.0),
    "sign": lambda v: math.copysign(1.0, v),
}


@pytest.mark.parametrize(("x_value", "other"), [(0.6, 1.7), (1.3, -0.4), (-0.45, 2.5)])
def test_every_formula_computes_the_value_and_local_derivatives_of_its_op(x_value, other):
    for name, attribute in vars(Scalar).items():
        if not callable(attribute) or name in _NOT_OPS:
            continue
        for args in ((), (Scalar(other),), (other,)):
            try:
                node = attribute(Scalar(x_value), *args)
            except TypeError:
                continue
            if not (isinstance(node, Scalar) and node.parents) or math.isnan(node.data):
                continue
            expression, derivatives = FORMULAS[formula_key(node._opcode)]
            code = node._opcode
            names = dict(_MATH, x=x_value, y=other, c=code[1] if type(code) is tuple else 0.0)
            where = f"{name}{args}: {node.op}"
            assert eval(_python(expression), names) == pytest.approx(node.data), where
            for template, value in zip(derivatives, node.local_grads()):
                assert eval(_python(template), names) == pytest.approx(value), where


def test_every_op_reads_as_math_in_a_report():
    x = Scalar(0.6, label="x")
    y = Scalar(1.7, label="w")
    cases = {
        "x·w": x * y,
        "x/w": x / y,
        "x^w": x**y,
        "2^x": 2**x,
        "x³": x**3,
        "x^0.5": x**0.5,
        "x⁻²": x ** (-2),
        "2/x": 2 / x,
        "|x|": abs(x),
        "√x": x.sqrt(),
        "ln(x)": x.log(),
        "relu(x)": x.relu(),
    }
    for expected, node in cases.items():
        assert cr.explain(node).rows[-1]["expression"] == expected
    derivative = local(cr.explain(x**3), "y", "x")
    assert derivative["formula"] == "3·x²"
    assert derivative["value"] == pytest.approx(3 * 0.6**2)
    assert local(cr.explain(x.tanh()), "y", "x")["formula"] == "1 − tanh(x)²"


# -- sums over paths -------------------------------------------------------------------------


def test_an_input_reached_by_several_paths_gets_the_sum_of_their_products():
    x = Scalar(-1.5, label="x")
    y = x * x
    report = cr.explain(y)
    y.backward()
    assert report.chain_text() == "dy/dx = dy/dx + dy/dx = (-1.5) + (-1.5) = -3"
    assert report.grads["x"] == x.grad

    a, b = Scalar(0.5, label="a"), Scalar(-1.5, label="b")
    z = (a * b + a).tanh() * a
    report = cr.explain(z)
    z.backward()
    line = report.chain[0]
    assert line["input"] == "a" and line["paths"] == 3
    assert line["text"].startswith("dy/da = dy/dw·dw/dv·dv/du·du/da + dy/dw·dw/dv·dv/da + dy/da")
    assert line["gradient"] == pytest.approx(a.grad, rel=1e-15)


def test_too_many_paths_are_summed_not_listed():
    x = Scalar(1.0, label="x")
    v = x
    for _ in range(200):  # 2**200 paths from v to x
        v = v + v
    report = cr.explain(v)
    assert report.chain[0]["paths"] is None
    assert report.chain[0]["text"] == "dy/dx = 1.60694e+60 (a sum over more than 8 paths)"
    assert report.grads["x"] == 2.0**200


# -- large graphs are summarised -------------------------------------------------------------


def test_a_5000_node_chain_is_summarised():
    x = Scalar(0.3, label="x")
    v = x
    for _ in range(2500):
        v = (v * 1.001).tanh()
    report = cr.explain(v)
    v.backward()
    assert report.nodes == 5001 and report.rows_total == 5001
    assert len(report.rows) == 30
    assert report.elided == {"before": 15, "count": 5001 - 30}
    assert [r["index"] for r in report.rows[14:16]] == [14, 5001 - 15]
    assert report.op_counts == {"input": 1, "* number": 2500, "tanh": 2500}
    assert report.grads["x"] == pytest.approx(x.grad, rel=1e-12)
    text = str(report)
    assert len(text.splitlines()) < 45
    assert "… 4,971 rows left out …" in text
    assert "nodes per op: * number ×2,500, tanh ×2,500, input ×1" in text
    assert "(5,000 factors)" in report.chain_text()
    # every row shown, on request
    assert len(cr.explain(v, max_rows=None).rows) == 5001


def test_a_long_run_of_affine_steps_folds_into_one_short_row():
    x = Scalar(0.3, label="x")
    v = x
    for _ in range(5000):
        v = v + 1e-3
    report = cr.explain(v)
    assert report.rows_total == 2 and report.nodes == 5001
    assert report.rows[-1]["expression"] == "x + 0.001 + 0.001 + 0.001 + 0.001 … (5,000 steps)"
    assert report.rows[-1]["value"] == v.data
    assert "1·1·1·…·1 (5,000 factors) = 1" in str(report)


# -- renderings ------------------------------------------------------------------------------


def test_markdown_has_the_table_and_the_chain_rule():
    x = Scalar(-2.0, label="x")
    y = abs(x) * 3
    markdown = cr.explain(y).markdown()
    lines = markdown.splitlines()
    assert lines[0].startswith("**Chain rule for y = u·3")
    assert "| node | computes | value | local derivative |" in markdown
    assert "| u | \\|x\\| | 2 | du/dx = sign(x) = -1 |" in markdown  # a pipe cannot end a cell
    assert lines[-1] == "- `dy/dx = dy/du · du/dx = 3 · (-1) = -3`"


def test_the_dict_is_plain_json_with_the_documented_keys():
    a, x = Scalar(-1.0, label="a"), Scalar(2.0, label="x")
    y = (a * x).exp() + x.log()
    data = cr.explain(y).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert set(data) == {
        "engine",
        "output",
        "nodes",
        "rows_total",
        "rows",
        "elided",
        "op_counts",
        "chain",
        "chain_elided",
    }
    assert set(data["rows"][0]) == {
        "index",
        "name",
        "leaf",
        "ops",
        "expression",
        "inputs",
        "value",
        "local",
        "upstream",
        "sent",
    }
    assert data["engine"] == "Scalar" and data["output"] == "y"


def test_non_finite_numbers_become_strings_in_the_dict():
    x = Scalar(-1.0, label="x")
    data = cr.explain(x.log()).to_dict()
    assert data["rows"][-1]["value"] == "nan"
    json.dumps(data, allow_nan=False)


def test_names_come_from_labels_else_from_position():
    p, q = Scalar(0.2), Scalar(0.9)
    named = Scalar(1.1, label="w")
    y = (p * q + named).tanh()
    report = cr.explain(y)
    assert [r["name"] for r in report.rows] == ["x1", "x2", "u", "w", "v", "y"]
    twin_a, twin_b = Scalar(1.0, label="k"), Scalar(2.0, label="k")
    assert [r["name"] for r in cr.explain(twin_a * twin_b).rows] == ["k", "k_2", "y"]


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="explain\\(\\) takes a Scalar or a Tensor, got float"):
        cr.explain(3.0)
    with pytest.raises(TypeError, match="gradient= for a Scalar output is a number, got str"):
        cr.explain(Scalar(1.0) * 2, gradient="1")
    with pytest.raises(ValueError, match="max_rows must be at least 2"):
        cr.explain(Scalar(1.0) * 2, max_rows=1)
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.explain(cr.tensor([1.0, 2.0]).sum())
    with pytest.raises(RuntimeError, match="pass gradient="):
        cr.explain(cr.tensor([1.0, 2.0], requires_grad=True) * 2)


# -- Tensor graphs -------------------------------------------------------------------------


def two_layer_net(x, w1, b1, w2, target):
    hidden = (x @ w1 + b1).tanh()
    return ((hidden @ w2 - target) ** 2).mean()


def net_inputs():
    return {
        "x": draw((4, 3), salt=1),
        "w1": draw((3, 5), salt=2),
        "b1": draw((5,), salt=3),
        "w2": draw((5, 2), salt=4),
        "target": draw((4, 2), salt=5),
    }


def make_net():
    arrays = net_inputs()
    params = {
        name: cr.tensor(arrays[name], requires_grad=True, label=name) for name in ("w1", "b1", "w2")
    }
    x = cr.tensor(arrays["x"], label="X")
    target = cr.tensor(arrays["target"])
    return params, two_layer_net(x, params["w1"], params["b1"], params["w2"], target)


def test_a_tiny_net_reports_the_engines_gradients_and_keeps_grads_untouched():
    params, loss = make_net()
    report = cr.explain(loss)
    assert all(p.grad is None for p in params.values())  # explain computed its own
    loss.backward()
    for name, p in params.items():
        np.testing.assert_allclose(report.grads[name], p.grad.data, rtol=1e-13, atol=0)
        np.testing.assert_allclose(
            row(report, name)["upstream"]["values"], p.grad.data, rtol=1e-13, atol=0
        )
    assert [r["expression"] for r in report.rows if not r["leaf"]] == [
        "X @ w1",
        "u + b1",
        "tanh(v)",
        "w @ w2",
        "p − array(4, 2)",
        "q²",
        "mean(r)",
    ]
    assert report.engine == "Tensor" and report.chain[0]["text"].startswith("∂y/∂w1 = ∂y/∂r")


def test_a_tiny_nets_gradients_match_finite_differences():
    arrays = net_inputs()
    params, loss = make_net()
    report = cr.explain(loss)
    for name in ("w1", "b1", "w2"):

        def f(value, name=name):
            args = {k: cr.tensor(v) for k, v in arrays.items()}
            args[name] = value
            return two_layer_net(**args)

        numerical = cr.numerical_grad(f, cr.tensor(arrays[name]))
        np.testing.assert_allclose(report.grads[name], numerical.data, rtol=1e-6, atol=1e-9)


@needs_torch
def test_a_tiny_nets_gradients_match_pytorch():
    import torch

    arrays = net_inputs()
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in arrays.items()}
    for name in ("w1", "b1", "w2"):
        tensors[name].requires_grad_(True)
    two_layer_net(**tensors).backward()
    _, loss = make_net()
    report = cr.explain(loss)
    for name in ("w1", "b1", "w2"):
        expected = tensors[name].grad.numpy()
        np.testing.assert_allclose(report.grads[name], expected, rtol=1e-12, atol=1e-14)


def test_tensor_rows_show_in_between_values_and_gradients():
    params, loss = make_net()
    report = cr.explain(loss)
    tanh_row = row(report, "w")
    assert tanh_row["ops"] == ["tanh"]
    # d(loss)/d(tanh's output), checked by finite differences on that output
    arrays = net_inputs()
    hidden = np.tanh(arrays["x"] @ arrays["w1"] + arrays["b1"])

    def from_hidden(h):
        return ((h @ cr.tensor(arrays["w2"]) - cr.tensor(arrays["target"])) ** 2).mean()

    numerical = cr.numerical_grad(from_hidden, cr.tensor(hidden))
    np.testing.assert_allclose(tanh_row["upstream"]["values"], numerical.data, rtol=1e-6)
    np.testing.assert_allclose(tanh_row["value"]["values"], hidden, rtol=1e-15)


def test_one_element_tensors_have_numbers_as_local_derivatives():
    a = cr.tensor(0.4, requires_grad=True, label="a")
    x = cr.tensor(-1.3, requires_grad=True, label="x")
    u = a * x
    y = u.tanh()
    report = cr.explain(y)
    y.backward()
    assert local(report, "y", "u")["value"] == pytest.approx(1 - np.tanh(u.item()) ** 2)
    assert local(report, "u", "a")["value"] == pytest.approx(x.item())
    assert report.grads["a"] == pytest.approx(a.grad.item(), rel=1e-15)
    assert "∂y/∂u = 0.7718" in str(report)  # 1 − tanh(−0.52)²
    assert "u: 1·0.7718" in str(report)  # sent: upstream·local = ...


def test_large_values_the_engine_freed_are_shown_as_freed():
    n = 100  # (100, 100): 10,000 elements, above the size kept for display
    w = cr.tensor(draw((n, n), salt=6), requires_grad=True, label="w")
    y = ((w * 2.0) + 1.0).sum()
    report = cr.explain(y)
    product = row(report, "u")
    assert product["value"] == {"shape": [n, n], "dtype": "float64", "size": n * n, "freed": True}
    assert "(100, 100) float64 (freed)" in str(report)
    y.backward()
    np.testing.assert_array_equal(report.grads["w"], w.grad.data)


def test_a_tensor_graph_freed_by_backward_says_what_to_do():
    w = cr.tensor(draw((3,), salt=7), requires_grad=True)
    y = (w.exp() * w).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="before y.backward\\(\\), or use .*retain_graph=True"):
        cr.explain(y)

    kept = (w.exp() * w).sum()
    kept.backward(retain_graph=True)
    assert cr.explain(kept).grads["x"] is not None


def test_a_non_scalar_tensor_output_takes_the_gradient_to_start_from():
    w = cr.tensor(draw((2, 3), salt=8), requires_grad=True, label="w")
    upstream = draw((2, 3), salt=9)
    y = (w * w).sin()
    with pytest.raises(RuntimeError, match="gradient has shape \\(3,\\)"):
        cr.explain(y, gradient=np.ones(3))
    report = cr.explain(y, gradient=upstream)
    y.backward(gradient=upstream)
    np.testing.assert_allclose(report.grads["w"], w.grad.data, rtol=1e-15)
