"""The ``chainrule`` subcommands: grad, derivative, jacobian, hessian, explain, descend,
surfaces, train. Numbers are checked against hand derivatives, finite differences and
PyTorch; every subcommand's ``--json`` must load; bad input exits 2 with one line."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.cli_output import Output, render
from chainrule.table import Table
from tests.conftest import central_differences, needs_torch

rng = np.random.default_rng(6)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def point_text(names, values) -> str:
    return ",".join(f"{name}={float(value)!r}" for name, value in zip(names, values))


# -- grad ----------------------------------------------------------------------------------


def test_grad_of_the_course_example(capsys):
    code, out, err = run(capsys, "grad", "x**2 + 3*x*y + y**2", "--at", "x=2,y=1")
    assert code == 0 and err == ""
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[3:]}
    assert rows == {"x": ["2", "7"], "y": ["1", "8"]}
    assert "f = 11" in out


def test_grad_matches_finite_differences_at_a_random_point(capsys):
    text = "sin(x*y) + exp(0.3*x) / (1 + y**2)"
    x, y = rng.uniform(-1.5, 1.5, size=2)
    data = run_json(capsys, "grad", text, "--at", point_text("xy", (x, y)))
    expected = central_differences(lambda a, b: cr.parse(text)(a, b), x, y)
    assert data["gradient"]["x"] == pytest.approx(expected[0], rel=1e-6, abs=1e-8)
    assert data["gradient"]["y"] == pytest.approx(expected[1], rel=1e-6, abs=1e-8)
    assert data["value"] == pytest.approx(math.sin(x * y) + math.exp(0.3 * x) / (1 + y**2))


def test_grad_explain_adds_the_chain_rule_report(capsys):
    data = run_json(capsys, "grad", "(3*x+1)**2", "--at", "x=1", "--explain")
    assert data["gradient"] == {"x": 24.0}
    assert data["explain"]["chain"][0]["text"] == "dy/dx = dy/du · du/dx = 8 · 3 = 24"
    code, out, _ = run(capsys, "grad", "(3*x+1)**2", "--at", "x=1", "--explain")
    assert code == 0 and "8 · 3 = 24" in out


@pytest.mark.skipif(importlib.util.find_spec("sympy") is None, reason="SymPy is not installed")
def test_grad_symbolic_gives_the_derivative_formulas(capsys):
    data = run_json(capsys, "grad", "x**2 + 3*x*y + y**2", "--at", "x=2,y=1", "--symbolic")
    x, y = 0.7, -1.3  # the formulas, evaluated elsewhere, are the partial derivatives
    assert cr.parse(data["symbolic"]["x"])(x=x, y=y) == pytest.approx(2 * x + 3 * y)
    assert cr.parse(data["symbolic"]["y"])(x=x, y=y) == pytest.approx(3 * x + 2 * y)


# -- derivative, jacobian, hessian, explain --------------------------------------------------


def test_second_derivative_of_sin_x_times_x(capsys):
    data = run_json(capsys, "derivative", "sin(x)*x", "--at", "x=1", "-n", "2")
    exact = [math.sin(1) * 1, math.cos(1) + math.sin(1), 2 * math.cos(1) - math.sin(1)]
    assert data["derivatives"] == pytest.approx(exact, rel=1e-12)
    code, out, _ = run(capsys, "derivative", "sin(x)*x", "--at", "x=1", "-n", "2")
    assert code == 0 and f"{2 * math.cos(1) - math.sin(1):.6g}" in out


def test_derivative_in_one_variable_of_several(capsys):
    x, y = rng.uniform(0.5, 2.0, size=2)
    data = run_json(
        capsys, "derivative", "x**3*y", "--at", point_text("xy", (x, y)), "--wrt", "x", "-n", "3"
    )
    assert data["derivatives"] == pytest.approx([x**3 * y, 3 * x**2 * y, 6 * x * y, 6 * y])


def test_jacobian_of_several_formulas(capsys):
    r, t = rng.uniform(0.5, 2.0, size=2)
    data = run_json(capsys, "jacobian", "r*cos(t)", "r*sin(t)", "--at", point_text("rt", (r, t)))
    assert data["variables"] == ["r", "t"]
    exact = [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)]]
    np.testing.assert_allclose(data["jacobian"], exact, rtol=1e-12)
    numeric = cr.numerical_jacobian(
        lambda v: np.array([v[0] * np.cos(v[1]), v[0] * np.sin(v[1])]), np.array([r, t])
    )
    np.testing.assert_allclose(data["jacobian"], numeric, rtol=1e-6)


@needs_torch
def test_hessian_against_torch(capsys):
    import torch

    text = "x**3*y + exp(y)*x + sin(x - y)"
    x, y = rng.uniform(-1.0, 1.0, size=2)
    data = run_json(capsys, "hessian", text, "--at", point_text("xy", (x, y)))

    def f(v):
        return v[0] ** 3 * v[1] + torch.exp(v[1]) * v[0] + torch.sin(v[0] - v[1])

    expected = torch.autograd.functional.hessian(f, torch.tensor([x, y], dtype=torch.float64))
    np.testing.assert_allclose(data["hessian"], expected.numpy(), rtol=1e-10)


def test_hessian_names_a_saddle(capsys):
    code, out, _ = run(capsys, "hessian", "x**2 - y**2", "--at", "x=0.3,y=-0.2")
    assert code == 0
    assert "eigenvalues: -2, 2" in out and "saddle" in out


def test_explain_shows_24(capsys):
    code, out, err = run(capsys, "explain", "(3*x+1)**2", "--at", "x=1")
    assert code == 0 and err == ""
    assert "dy/dx = dy/du · du/dx = 8 · 3 = 24" in out
    data = run_json(capsys, "explain", "(3*x+1)**2", "--at", "x=1")
    assert data["gradient"] == {"x": 24.0}


def test_explain_markdown(capsys):
    code, out, _ = run(capsys, "explain", "(3*x+1)**2", "--at", "x=1", "--markdown")
    assert code == 0 and "| u | 3·x + 1 | 4 |" in out


# -- descend, surfaces ----------------------------------------------------------------------


def test_descend_prints_the_course_table(capsys):
    argv = ["descend", "(w-3)**2", "--from", "w=0", "--lr", "0.3", "--steps", "20"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    new_w = [line.split()[-1] for line in out.splitlines()[2:5]]
    assert new_w == ["1.8", "2.52", "2.808"]  # w - 0.3 * 2(w - 3), by hand
    assert "max_steps after 20 steps" in out
    data = run_json(capsys, *argv)
    w = 0.0
    for point in data["points"]:
        assert point[0] == pytest.approx(w, rel=1e-12)
        w -= 0.3 * 2 * (w - 3)


def test_descend_says_clearly_when_it_diverges(capsys):
    code, out, _ = run(capsys, "descend", "(w-3)**2", "--from", "w=0", "--lr", "1.5")
    assert code == 0
    assert "diverged at step" in out and "DIVERGED" in out and "smaller --lr" in out
    data = run_json(capsys, "descend", "(w-3)**2", "--from", "w=0", "--lr", "1.5")
    assert data["status"] == "diverged"


def test_descend_on_a_named_surface_starts_at_its_start(capsys):
    data = run_json(capsys, "descend", "bowl", "--lr", "0.1", "--steps", "3")
    assert data["points"][0] == list(cr.surfaces.get("bowl").start)
    assert data["points"][1] == pytest.approx([0.8 * c for c in cr.surfaces.get("bowl").start])


def test_descend_compare_runs_each_optimizer(capsys):
    argv = ["descend", "(w-3)**2 + (v+1)**4", "--from", "w=0,v=0.5", "--lr", "0.05"]
    data = run_json(capsys, *argv, "--compare", "sgd,momentum,adam", "--steps", "10")
    assert list(data["runs"]) == ["sgd", "momentum", "adam"]
    alone = run_json(capsys, *argv, "--steps", "10")
    assert data["runs"]["sgd"]["points"] == alone["points"]
    assert data["runs"]["momentum"]["points"] != alone["points"]
    code, out, _ = run(capsys, *argv, "--compare", "sgd,adam", "--steps", "10")
    assert code == 0 and "optimizer" in out and "adam" in out


def test_surfaces_lists_every_surface(capsys):
    code, out, _ = run(capsys, "surfaces")
    assert code == 0
    for name in cr.surfaces.names():
        assert f"\n{name} " in out
    data = run_json(capsys, "surfaces")
    assert [s["name"] for s in data["surfaces"]] == list(cr.surfaces.names())


# -- train ----------------------------------------------------------------------------------


def test_train_one_epoch_and_save(capsys, tmp_path):
    path = tmp_path / "moons.safetensors"
    data = run_json(capsys, "train", "moons", "--epochs", "1", "--save", str(path))
    assert data["epochs"] == [1]
    assert 0.5 < data["final_test_accuracy"] <= 1.0
    weights = cr.load(path)
    assert sorted(weights) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    code, out, _ = run(capsys, "train", "iris", "--epochs", "1", "--optimizer", "sgd")
    assert code == 0 and "final test accuracy" in out


# -- every subcommand: JSON, help, bad input ------------------------------------------------

COMMANDS = {
    "grad": ["grad", "x*y", "--at", "x=1.5,y=-2"],
    "derivative": ["derivative", "exp(x)", "--at", "x=0.5"],
    "jacobian": ["jacobian", "x*y", "x-y", "--at", "x=1,y=2"],
    "hessian": ["hessian", "x*y**2", "--at", "x=1,y=2"],
    "explain": ["explain", "sigmoid(a*x + b)", "--at", "a=1,x=2,b=3"],
    "descend": ["descend", "(w-3)**2", "--from", "w=0", "--lr", "1.5"],
    "surfaces": ["surfaces"],
    "train": ["train", "iris", "--epochs", "1"],
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=list(COMMANDS))
def test_json_is_valid_json(capsys, argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert isinstance(json.loads(out), dict)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_examples(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"chainrule {command}" in out


BAD_INPUT = {
    "a point missing a variable": (
        ["grad", "x*y", "--at", "x=1"],
        "--at gives no value for y",
    ),
    "a point that is not a number": (["grad", "x*y", "--at", "x=abc,y=1"], "'abc' is not a"),
    "a point without =": (["explain", "x", "--at", "1"], "expected name=number pairs"),
    "an extra variable": (["hessian", "x**2", "--at", "x=1,z=2"], "z, not a variable"),
    "unknown optimizer": (
        ["descend", "w**2", "--from", "w=1", "--optimizer", "sgdd"],
        "unknown optimizer 'sgdd'",
    ),
    "unknown optimizer in a comparison": (
        ["descend", "w**2", "--from", "w=1", "--compare", "sgd,adamm"],
        "unknown optimizer 'adamm'",
    ),
    "negative steps": (["descend", "w**2", "--from", "w=1", "--steps", "-3"], "--steps must be"),
    "no start": (["descend", "w**2"], "--from w=0"),
    "negative lr": (["descend", "w**2", "--from", "w=1", "--lr", "-1"], "lr must be >= 0"),
    "negative order": (["derivative", "x**2", "--at", "x=1", "-n", "-1"], "-n (the order"),
    "no --wrt": (["derivative", "x*y", "--at", "x=1,y=2"], "--wrt NAME"),
    "unknown dataset": (["train", "cats"], "unknown dataset 'cats'"),
    "zero epochs": (["train", "iris", "--epochs", "0"], "--epochs must be >= 1"),
    "a missing --at": (["grad", "x"], "the following arguments are required: --at"),
    "an order that is not a number": (
        ["derivative", "x", "--at", "x=1", "-n", "two"],
        "invalid int value: 'two'",
    ),
}


@pytest.mark.parametrize("argv, message", BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse's own checks
        code = exit_info.code
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert message in captured.err
    assert captured.err.startswith("chainrule ")


def test_a_bad_formula_shows_a_caret(capsys):
    code, out, err = run(capsys, "grad", "x**2 + * y", "--at", "x=1,y=2")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("chainrule grad: error:")
    column = lines[-2].index("x**2 + * y")
    assert lines[-1].index("^") - column == "x**2 + * y".index("*", 4)
    assert "Traceback" not in err


# -- rendering ------------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="rich is not installed")
def test_rich_tables_only_on_a_terminal():
    table = Table(["x", "f(x)"], [[2.5, 6.25]], notes=["a [note]"])
    plain = render(Output([table], {}), json_output=False, terminal=False)
    fancy = render(Output([table], {}), json_output=False, terminal=True)
    assert plain == "  x  f(x)\n---  ----\n2.5  6.25\na [note]\n"
    assert "─" not in plain
    assert "─" in fancy and "6.25" in fancy and "a [note]" in fancy  # text, not rich markup


def test_python_m_chainrule_grad():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "grad", "x**2 + 3*x*y + y**2", "--at", "x=2,y=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "x             2               7" in result.stdout
