"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far.

The update of each parameter p with gradient g, as PyTorch computes it (step t = 1, 2, ...)::

    g   <- -g                            if maximize
    g   <- g + weight_decay * p          if weight_decay != 0
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s   <- s + g * g                     (s starts at initial_accumulator_value)
    p   <- p - lr_t * g / (sqrt(s) + eps)

Duchi, Hazan & Singer 2011: coordinates with large or frequent gradients get small steps,
rare ones large steps.
"""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, check_number
from chainrule.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, PyTorch's ``torch.optim.Adagrad``.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Adagrad([x], lr=0.5)
    >>> (x ** 2).sum().backward()   # g = 2x = [6, -2], s = g^2, step = lr * g / |g|
    >>> opt.step()
    >>> x
    tensor([ 2.5, -0.5], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number(group, name, where)

    def _init_state(self, p: np.ndarray, group: dict) -> dict:
        total = np.full_like(p, group["initial_accumulator_value"])
        return {"step": 0, "sum": Tensor._wrap(total)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = step = state["step"] + 1
        g = self._adjusted_grad(p, g, group["weight_decay"], group["maximize"])
        lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"].data
        work = self._buffer("work", p)
        total += np.multiply(g, g, out=work)
        np.sqrt(total, out=work)
        work += group["eps"]
        np.divide(g, work, out=work)
        p -= np.multiply(work, lr, out=work)
