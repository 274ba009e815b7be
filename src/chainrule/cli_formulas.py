"""``chainrule grad | derivative | jacobian | hessian | explain``: derivatives of formulas
typed on the command line, as ``Output`` (tables for people, plain data for ``--json``).

>>> out = grad_output("x**2 + 3*x*y + y**2", {"x": 2.0, "y": 1.0})
>>> out.data["value"], out.data["gradient"]
(11.0, {'x': 7.0, 'y': 8.0})
>>> print(out.blocks[0])
f = x**2 + 3*x*y + y**2 at x = 2, y = 1: f = 11
variable  value  df/d(variable)
--------  -----  --------------
x             2               7
y             1               8
"""

from __future__ import annotations

import numpy as np

from chainrule.cli_output import CommandError, Output, check_point
from chainrule.explain import explain
from chainrule.expr import Formula, parse
from chainrule.func import derivative, hessian, jacobian
from chainrule.ops import stack
from chainrule.scalar import Scalar
from chainrule.table import Table, format_number

__all__ = [
    "derivative_output",
    "explain_output",
    "grad_output",
    "hessian_output",
    "jacobian_output",
]


def grad_output(text: str, at: dict, symbolic: bool = False, with_explain: bool = False) -> Output:
    """The value and gradient of formula ``text`` at point ``at`` (by backward on Scalars);
    ``symbolic`` adds SymPy's derivative formulas, ``with_explain`` the chain-rule report."""
    f = _formula(text, at)
    value = float(f(**at))
    gradient = {name: float(g) for name, g in f.grad(**at).items()}
    columns = ["variable", "value", "df/d(variable)"]
    rows = [[name, at[name], gradient[name]] for name in f.variables]
    data = {"formula": f.text, "at": dict(at), "value": value, "gradient": gradient}
    if symbolic:
        formulas = _symbolic(f)
        columns.append("symbolic df/d(variable)")
        for row in rows:
            row.append(formulas[row[0]])
        data["symbolic"] = formulas
    title = f"f = {f.text} at {_point_text(at)}: f = {format_number(value)}"
    blocks: list = [Table(columns, rows, title=title)]
    if with_explain:
        report = _report(f, at)
        blocks.append(report)
        data["explain"] = report.to_dict()
    return Output(blocks, data)


def derivative_output(text: str, at: dict, n: int = 1, wrt: str | None = None) -> Output:
    """Derivatives of orders 0..n of formula ``text`` in variable ``wrt`` at ``at`` (the other
    variables held at their values). ``wrt`` may be left out for a formula of one variable.

    >>> out = derivative_output("x**3", {"x": 2.0}, n=3)
    >>> out.data["derivatives"]
    [8.0, 12.0, 12.0, 6.0]
    """
    if n < 0:
        raise CommandError(f"-n (the order of the derivative) must be >= 0, got {n}")
    f = _formula(text, at)
    wrt = _variable(f, wrt)

    def along(t):
        return f(**{**at, wrt: t})

    orders = [float(derivative(along, n=k)(at[wrt])) for k in range(n + 1)]
    rows = [[k, _order_name(k, wrt), value] for k, value in enumerate(orders)]
    title = f"f = {f.text} at {_point_text(at)}, derivatives in {wrt}"
    data = {"formula": f.text, "at": dict(at), "wrt": wrt, "n": n, "derivatives": orders}
    data["value"] = orders[-1]
    return Output([Table(["order", "derivative", "value"], rows, title=title)], data)


def jacobian_output(texts: list[str], at: dict) -> Output:
    """The Jacobian of several formulas (one row each) with respect to all their variables
    (one column each, sorted by name), by reverse mode.

    >>> jacobian_output(["x*y", "x + y**2"], {"x": 2.0, "y": 3.0}).data["jacobian"]
    [[3.0, 2.0], [1.0, 6.0]]
    """
    formulas = [parse(text) for text in texts]
    names = tuple(sorted({name for f in formulas for name in f.variables}))
    check_point(at, names, "--at", "the formulas")
    point = np.array([at[name] for name in names], dtype=np.float64)

    def outputs(v):
        return stack([_call(f, names, v) for f in formulas])

    values = [float(f(**{name: at[name] for name in f.variables})) for f in formulas]
    matrix = np.asarray(jacobian(outputs)(point), dtype=np.float64).reshape(len(formulas), -1)
    columns = ["f", "value", *(f"d/d{name}" for name in names)]
    rows = [[f.text, value, *row] for f, value, row in zip(formulas, values, matrix.tolist())]
    data = {
        "formulas": [f.text for f in formulas],
        "variables": list(names),
        "at": dict(at),
        "values": values,
        "jacobian": matrix.tolist(),
    }
    title = f"Jacobian at {_point_text(at)}"
    return Output([Table(columns, rows, title=title)], data)


def hessian_output(text: str, at: dict) -> Output:
    """The Hessian of formula ``text`` at ``at`` (reverse over reverse) and its eigenvalues,
    which say whether the point curves up (a minimum), down, or both (a saddle).

    >>> hessian_output("x**2 + 3*x*y + y**2", {"x": 2.0, "y": 1.0}).data["hessian"]
    [[2.0, 3.0], [3.0, 2.0]]
    """
    f = _formula(text, at)
    names = f.variables
    if not names:
        raise CommandError(f"the formula {f.text!r} has no variables to differentiate by")
    point = np.array([at[name] for name in names], dtype=np.float64)
    matrix = np.asarray(hessian(lambda v: _call(f, names, v))(point), dtype=np.float64)
    matrix = matrix.reshape(len(names), len(names))
    eigenvalues = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    columns = ["", *(f"d/d{name}" for name in names)]
    rows = [[f"d/d{name}", *row] for name, row in zip(names, matrix.tolist())]
    note = "eigenvalues: " + ", ".join(format_number(float(e)) for e in eigenvalues)
    note += f" ({_curvature(eigenvalues)})"
    title = f"Hessian of f = {f.text} at {_point_text(at)}"
    data = {
        "formula": f.text,
        "variables": list(names),
        "at": dict(at),
        "value": float(f(**at)),
        "hessian": matrix.tolist(),
        "eigenvalues": eigenvalues.tolist(),
    }
    return Output([Table(columns, rows, title=title, notes=[note])], data)


def explain_output(text: str, at: dict) -> Output:
    """The chain-rule report of formula ``text`` at ``at``: every node, its local derivative
    and what it sends back, then the products along each path.

    >>> explain_output("(3*x+1)**2", {"x": 1.0}).data["gradient"]
    {'x': 24.0}
    """
    f = _formula(text, at)
    report = _report(f, at)
    data = {
        "formula": f.text,
        "at": dict(at),
        "gradient": {name: float(g) for name, g in report.grads.items()},
        "report": report.to_dict(),
    }
    return Output([report], data)


def _formula(text: str, at: dict) -> Formula:
    f = parse(text)
    check_point(at, f.variables, "--at", "the formula")
    return f


def _call(f: Formula, names: tuple, v):
    """f at the Tensor vector ``v`` (one entry per name); always a Tensor, even for a formula
    that ignores ``v`` (so that stack and jacobian see one kind of thing)."""
    value = f(**{name: v[i] for i, name in enumerate(names) if name in f.variables})
    return value + v.sum() * 0.0


def _variable(f: Formula, wrt: str | None) -> str:
    if wrt is None:
        if len(f.variables) != 1:
            raise CommandError(
                f"the formula has variables {', '.join(f.variables) or 'none'}: "
                "say which to differentiate by with --wrt NAME"
            )
        return f.variables[0]
    if wrt not in f.variables:
        names = ", ".join(f.variables) or "none"
        raise CommandError(f"--wrt {wrt}: not a variable of the formula (its variables: {names})")
    return wrt


def _report(f: Formula, at: dict):
    leaves = {name: Scalar(value, label=name) for name, value in at.items()}
    y = f(**leaves)
    if not isinstance(y, Scalar) or not leaves:
        raise CommandError(f"the formula {f.text!r} has no variables: nothing to explain")
    return explain(y)


def _symbolic(f: Formula) -> dict[str, str]:
    try:
        return {name: f.diff(name).text for name in f.variables}
    except ImportError as error:
        raise CommandError(f"--symbolic: {error}") from None


def _order_name(k: int, name: str) -> str:
    if k == 0:
        return "f"
    if k == 1:
        return f"df/d{name}"
    return f"d^{k}f/d{name}^{k}"


def _curvature(eigenvalues: np.ndarray) -> str:
    if np.all(eigenvalues > 0):
        return "positive definite: curves up in every direction"
    if np.all(eigenvalues < 0):
        return "negative definite: curves down in every direction"
    if np.any(eigenvalues > 0) and np.any(eigenvalues < 0):
        return "indefinite: a saddle, up in some directions and down in others"
    return "semidefinite: flat in some direction"


def _point_text(at: dict) -> str:
    return ", ".join(f"{name} = {format_number(value)}" for name, value in at.items()) or "()"
