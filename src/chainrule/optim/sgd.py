"""SGD: stochastic gradient descent, with optional momentum, Nesterov, weight decay.

The update of each parameter p with gradient g, as PyTorch computes it (step t = 1, 2, ...)::

    g <- -g                      if maximize
    g <- g + weight_decay * p    if weight_decay != 0          (L2 penalty)
    if momentum != 0:
        b <- g                                  at t = 1
        b <- momentum * b + (1 - dampening) * g at t > 1
        g <- g + momentum * b    if nesterov   (look ahead, Sutskever et al. 2013)
        g <- b                   otherwise
    p <- p - lr * g

Momentum follows PyTorch's convention: the buffer sums gradients (b = mu b + g) and the
learning rate multiplies the buffer, so changing lr mid-run changes the step at once.
Under ``maximize`` the gradient is negated *first* (so weight decay still pulls p toward 0),
which is what PyTorch's code does.
"""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, check_number
from chainrule.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's ``torch.optim.SGD``.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0], requires_grad=True)
    >>> opt = cr.optim.SGD([x], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (x ** 2).sum().backward()   # gradient 2x
    ...     opt.step()
    >>> x            # b1 = 6, x1 = 2.4; b2 = 0.9 * 6 + 4.8 = 10.2, x2 = 2.4 - 1.02
    tensor([1.38], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        check_number(group, "lr", where)
        check_number(group, "momentum", where)
        check_number(group, "dampening", where, low=-np.inf)
        check_number(group, "weight_decay", where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}{where}"
            )

    def _init_state(self, p: np.ndarray, group: dict) -> dict:
        # the momentum buffer is made by the first step: it starts as that step's gradient
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        g = self._adjusted_grad(p, g, group["weight_decay"], group["maximize"])
        work = self._buffer("work", p)
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._wrap(np.array(g, copy=True))
                buffer = state["momentum_buffer"].data
            else:
                buffer = state["momentum_buffer"].data
                buffer *= momentum
                if group["dampening"]:
                    buffer += np.multiply(g, 1 - group["dampening"], out=work)
                else:
                    buffer += g
            if group["nesterov"]:
                np.multiply(buffer, momentum, out=work)
                work += g
                g = work
            else:
                g = buffer
        p -= np.multiply(g, group["lr"], out=work)
