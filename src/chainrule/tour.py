"""``chainrule tour``: the course's worked examples, from a derivative to training a network.

Each stop is a small computation whose every number comes from chainrule (values from the
forward pass, derivatives from ``backward()``), printed beside the figure the course gives,
so a reader can check one against the other.

>>> stops = tour()
>>> [stop.title for stop in stops][:2]
['1. The derivative is a slope', '2. The chain rule: y = (3x + 1)^2 at x = 1']
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from chainrule.descent import descend
from chainrule.descent_sweep import lr_sweep
from chainrule.scalar import Scalar
from chainrule.table import Table

__all__ = ["Stop", "derivative_at", "descent_rows", "moons_history", "render", "tour"]


@dataclass
class Stop:
    """One example of the tour: a title, a few lines saying what to look at, a table."""

    title: str
    lines: list[str]
    table: Table


def derivative_at(f: Callable, x0: float) -> tuple[float, float]:
    """``(f(x0), f'(x0))`` by backpropagation through ``f`` applied to a Scalar.

    A function that ignores its input (a constant) has derivative 0.

    >>> derivative_at(lambda x: x ** 2, 3.0)
    (9.0, 6.0)
    >>> derivative_at(lambda x: 5, 3.0)
    (5.0, 0.0)
    """
    x = Scalar(x0)
    y = f(x)
    if not isinstance(y, Scalar):  # the output does not depend on x at all
        return float(y), 0.0
    y.backward()
    return y.data, x.grad


def descent_rows(loss: Callable, w0: float, lr: float, steps: int) -> list[list[float]]:
    """Gradient descent on ``loss`` from ``w0``: one row (step, w, loss, dL/dw, lr*dL/dw, new w)
    per step, by ``cr.descend`` (plain SGD, every step taken).

    >>> [round(row[-1], 6) for row in descent_rows(lambda w: (w - 3) ** 2, 0.0, 0.3, 3)]
    [1.8, 2.52, 2.808]
    """
    return descend(loss, w0, "sgd", lr=lr, steps=steps, tol=None).rows()


def _secant(f: Callable, x0: float, h: float = 1e-6) -> float:
    """The slope of the line through f(x0 - h) and f(x0 + h): the derivative's definition."""
    return (float(f(x0 + h)) - float(f(x0 - h))) / (2 * h)


def derivatives() -> Stop:
    functions = [
        ("x^2", lambda x: x**2, 3.0, 6.0),
        ("3x + 7", lambda x: 3 * x + 7, 2.0, 3.0),
        ("5", lambda x: 5, 2.0, 0.0),
    ]
    rows = []
    for name, f, x0, course in functions:
        value, slope = derivative_at(f, x0)
        rows.append([f"f(x) = {name}", x0, value, slope, _secant(f, x0), course])
    return Stop(
        "1. The derivative is a slope",
        [
            "f'(x) from backpropagation, beside the slope of a secant through x - h and x + h",
            "(h = 1e-6): the limit that defines the derivative, taken numerically.",
        ],
        Table(["function", "x", "f(x)", "f'(x)", "secant slope", "course"], rows),
    )


def chain_rule() -> Stop:
    x = Scalar(1.0, label="x")
    u = 3 * x + 1
    y = u**2
    y.backward()
    dy_du, dy_dx = u.grad, x.grad  # backward leaves dy/du on the in-between node u
    x.grad = 0.0
    u.backward()  # u alone: du/dx
    du_dx = x.grad
    rows = [
        ["u = 3x + 1", u.data, 4.0],
        ["y = u^2", y.data, 16.0],
        ["dy/du = 2u", dy_du, 8.0],
        ["du/dx = 3", du_dx, 3.0],
        ["dy/dx = dy/du * du/dx", dy_du * du_dx, 24.0],
        ["dy/dx by backward()", dy_dx, 24.0],
    ]
    return Stop(
        "2. The chain rule: y = (3x + 1)^2 at x = 1",
        ["The outer derivative times the inner one; backward() multiplies the same factors."],
        Table(["quantity", "chainrule", "course"], rows),
    )


def partial_derivatives() -> Stop:
    x, y = Scalar(2.0), Scalar(1.0)
    f = x**2 + 3 * x * y + y**2
    f.backward()
    rows = [
        ["f = x^2 + 3xy + y^2", f.data, 11.0],
        ["df/dx = 2x + 3y", x.grad, 7.0],
        ["df/dy = 3x + 2y", y.grad, 8.0],
    ]
    return Stop(
        "3. Partial derivatives and the gradient: f(x, y) = x^2 + 3xy + y^2 at (2, 1)",
        [
            "One backward() gives every partial derivative; together they are the gradient,",
            f"[{x.grad:g}, {y.grad:g}]: the direction of steepest ascent. Descent steps against",
            "it.",
        ],
        Table(["quantity", "chainrule", "course"], rows),
    )


def neuron() -> Stop:
    a, x, b = Scalar(1.0, label="a"), Scalar(2.0, label="x"), Scalar(3.0, label="b")
    z = a * x + b
    s = z.sigmoid()
    s.backward()
    # by hand, with math alone: sigmoid(5) and its slope sigmoid(5) * (1 - sigmoid(5))
    by_hand = 1 / (1 + math.exp(-5))
    slope = by_hand * (1 - by_hand)
    rows = [
        ["z = a*x + b", z.data, 5.0],
        ["s = sigmoid(z) = 1 / (1 + e^-z)", s.data, by_hand],
        ["ds/dz = s(1 - s)", z.grad, slope],
        ["ds/da = ds/dz * x", a.grad, slope * 2],
        ["ds/dx = ds/dz * a", x.grad, slope * 1],
        ["ds/db = ds/dz * 1", b.grad, slope],
    ]
    return Stop(
        "4. A neuron: sigmoid(a*x + b) with a = 1, x = 2, b = 3",
        ["Each input's gradient is the neuron's slope ds/dz times what z gets from that input."],
        Table(["quantity", "chainrule", "by hand"], rows),
    )


def descent_on_parabola() -> Stop:
    rows = descent_rows(lambda w: (w - 3) ** 2, 0.0, 0.3, 6)
    w = descend(lambda v: (v - 3) ** 2, 0.0, lr=0.3, steps=20, tol=None).x
    return Stop(
        "5. Gradient descent: L(w) = (w - 3)^2 from w = 0, learning rate 0.3",
        [
            "The course: 1.8, 2.52, 2.808, ... -> 3. Each step removes 60% of the distance to 3.",
        ],
        Table(
            ["step", "w", "L(w)", "dL/dw", "lr * dL/dw", "new w"],
            rows,
            notes=[f"after 20 steps: w = {w:.10g}"],
        ),
    )


def descent_on_squared_cost() -> Stop:
    rows = descent_rows(lambda x: (2 * x - 5) ** 2, 5.0, 0.1, 5)
    return Stop(
        "6. Squared cost: C(x) = (2x - 5)^2 from x = 5, learning rate 0.1",
        ["The course: 3, 2.6, 2.52, 2.504, ... -> 2.5. Steps shrink as the slope flattens."],
        Table(["step", "x", "C(x)", "dC/dx", "lr * dC/dx", "new x"], rows),
    )


def descent_on_linear_cost() -> Stop:
    rows = descent_rows(lambda x: 2 * x - 5, 5.0, 0.25, 6)
    return Stop(
        "7. Linear cost: C(x) = 2x - 5 from x = 5, learning rate 0.25",
        [
            "The slope is 2 everywhere, so every step is 0.25 * 2 = 0.5: x reaches 2.5 (cost 0)",
            "after 5 steps, then walks on past it to a cost of -1 and below: a linear cost has",
            "no bottom to stop at.",
            "That is why the squared cost of stop 6 is used.",
        ],
        Table(["step", "x", "C(x)", "dC/dx", "lr * dC/dx", "new x"], rows),
    )


def line_fit() -> Stop:
    points = [(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]

    def loss(w):
        return sum((w * x - y) ** 2 for x, y in points)

    rows = descent_rows(loss, 0.0, 0.05, 6)
    for row in rows:
        row.insert(4, 28 * row[1] - 68)  # the course's dL/dw = 28w - 68, beside backward()'s
    return Stop(
        "8. Fitting y = w*x to (1, 3), (2, 5), (3, 7): L(w) = sum (w*x_i - y_i)^2, rate 0.05",
        [
            "The course: 3.4, 2.04, 2.584, 2.3664, ... The steps overshoot and swing back,",
            f"closing in on the minimum w = 68/28 = {68 / 28:.6g}.",
        ],
        Table(["step", "w", "L(w)", "dL/dw", "28w - 68", "lr * dL/dw", "new w"], rows),
    )


def learning_rates() -> Stop:
    sweep = lr_sweep(lambda w: (w - 3) ** 2, 0.0, LEARNING_RATES, steps=20)
    return Stop(
        "9. What if the learning rate were 0.7? L(w) = (w - 3)^2 from w = 0, 20 steps",
        [
            "Each step multiplies the distance to the minimum by |1 - 2 lr|: below 0.5 the",
            "steps close in from one side, between 0.5 and 1 they overshoot and swing back,",
            "at 1 they bounce between 0 and 6 for ever, above 1 they grow without bound.",
        ],
        sweep.table("L"),
    )


def moons_history():
    """The training run of stop 10: ``cr.nn.fit``'s History of a small network on the moons."""
    from chainrule import data, nn, optim
    from chainrule.creation import manual_seed

    manual_seed(0)
    x, y = data.make_moons(200, noise=0.1, seed=0)
    loader = data.DataLoader(
        data.TensorDataset(x.astype("float32"), y), batch_size=20, shuffle=True, seed=0
    )
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    return nn.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=20, progress=False)


LEARNING_RATES = [0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.1, 1.5]


def training() -> Stop:
    """A small network learns two interleaved half-moons: backpropagation through layers,
    and an optimizer's steps, as in training any network."""
    history = moons_history()
    rows = [
        [epoch, loss, accuracy]
        for epoch, loss, accuracy in zip(
            history.epochs, history.train_loss, history.metrics["train_accuracy"]
        )
        if epoch in (1, 2, 3, 5, 10, 15, 20)
    ]
    return Stop(
        "10. Training a network: Linear(2, 16), tanh, Linear(16, 2) on 200 half-moon points",
        [
            "Every step: forward pass, cross-entropy loss, backward() through both layers (the",
            "chain rule of stops 2 to 4, on matrices), then SGD with momentum moves all 82",
            "weights downhill (stops 5 to 9). The loss falls and the accuracy climbs.",
        ],
        Table(["epoch", "mean loss", "accuracy"], rows),
    )


def tour() -> list[Stop]:
    """Every stop of the tour, computed now."""
    return [
        derivatives(),
        chain_rule(),
        partial_derivatives(),
        neuron(),
        descent_on_parabola(),
        descent_on_squared_cost(),
        descent_on_linear_cost(),
        line_fit(),
        learning_rates(),
        training(),
    ]


def render(markdown: bool = False, pictures: dict | None = None) -> str:
    """The whole tour as text for a terminal, or as Markdown.

    ``pictures`` maps a stop's number (1 for the first) to the paths of its pictures, shown
    under its table (as images in Markdown).

    >>> "picture: tangent.png" in render(pictures={1: ["tangent.png"]})
    True
    """
    parts = []
    for number, stop in enumerate(tour(), start=1):
        paths = [str(path) for path in (pictures or {}).get(number, [])]
        if markdown:
            body = [f"## {stop.title}", "", *stop.lines, "", stop.table.markdown()]
            body += [f"\n![{stop.title}]({path})" for path in paths]
            parts.append("\n".join(body))
        else:
            rule = "=" * len(stop.title)
            body = [stop.title, rule, *stop.lines, "", stop.table.text()]
            body += [f"picture: {path}" for path in paths]
            parts.append("\n".join(body))
    return "\n\n".join(parts) + "\n"
