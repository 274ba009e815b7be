"""Formulas run by PyTorch: an independent reference for their values and gradients.

The formula's own program (the parser's output) is run with torch's operations in float64,
so a wrong rule in chainrule's engines or evaluator cannot hide behind itself.
"""

from __future__ import annotations

import math

from chainrule.expr_eval import OPERATORS, fold, run


class TorchBackend:
    """The evaluator's operations on torch tensors (see chainrule.expr_eval.run)."""

    def __init__(self):
        import torch

        self.torch = torch
        self.functions = {
            "exp": torch.exp,
            "log": torch.log,
            "ln": torch.log,
            "sqrt": torch.sqrt,
            "sin": torch.sin,
            "cos": torch.cos,
            "tan": torch.tan,
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "relu": torch.relu,
            "abs": torch.abs,
            "sign": torch.sign,
            "min": fold(torch.minimum),
            "max": fold(torch.maximum),
        }

    def number(self, value: float):
        return self.torch.tensor(value, dtype=self.torch.float64)

    def constant(self, name: str):
        return self.number(math.pi if name == "pi" else math.e)

    @staticmethod
    def negative(x):
        return -x

    @staticmethod
    def binary(code: str, x, y):
        return OPERATORS[code](x, y)

    def call(self, name: str, args: list):
        return self.functions[name](*args)


def torch_value_and_grad(formula, point: dict) -> tuple[float, dict]:
    """The formula's value and gradient at ``point`` (numbers by name), by PyTorch."""
    backend = TorchBackend()
    torch = backend.torch
    leaves = {
        name: torch.tensor(float(value), dtype=torch.float64, requires_grad=True)
        for name, value in point.items()
    }
    out = run(formula._program, leaves, backend)
    out.backward()
    grads = {name: 0.0 if t.grad is None else t.grad.item() for name, t in leaves.items()}
    return out.item(), grads
