"""RMSprop: divide each coordinate's gradient by a running root-mean-square of its gradients.

The update of each parameter p with gradient g, as PyTorch computes it::

    g   <- -g                                  if maximize
    g   <- g + weight_decay * p                if weight_decay != 0
    v   <- alpha * v + (1 - alpha) * g * g     (v starts at 0)
    if centered:                               (divide by a running std, not an RMS)
        m   <- alpha * m + (1 - alpha) * g     (m starts at 0)
        d    = sqrt(v - m * m) + eps
    else:
        d    = sqrt(v) + eps
    if momentum > 0:
        b   <- momentum * b + g / d            (b starts at 0)
        p   <- p - lr * b
    else:
        p   <- p - lr * g / d

Tieleman & Hinton 2012 (lecture 6.5); the centered form is Graves 2013, eq. 38-45.
"""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, check_number
from chainrule.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, PyTorch's ``torch.optim.RMSprop``.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.RMSprop([x], lr=0.01, alpha=0.75)
    >>> (x ** 2).sum().backward()   # v = 0.25 g^2, so the step is lr * g / (0.5 |g|)
    >>> opt.step()
    >>> x
    tensor([ 2.98, -0.98], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_number(group, name, where)

    def _init_state(self, p: np.ndarray, group: dict) -> dict:
        state = {"step": 0, "square_avg": Tensor._wrap(np.zeros_like(p))}
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor._wrap(np.zeros_like(p))
        if group["centered"]:
            state["grad_avg"] = Tensor._wrap(np.zeros_like(p))
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        state["step"] += 1
        alpha = group["alpha"]
        g = self._adjusted_grad(p, g, group["weight_decay"], group["maximize"])
        work = self._buffer("work", p)
        square_avg = state["square_avg"].data
        square_avg *= alpha
        square_avg += np.multiply(np.multiply(g, g, out=work), 1 - alpha, out=work)
        if group["centered"]:
            # m <- m + (1 - alpha) (g - m): PyTorch's lerp, the same number as alpha m + (1-alpha) g
            grad_avg = state["grad_avg"].data
            grad_avg += np.multiply(np.subtract(g, grad_avg, out=work), 1 - alpha, out=work)
            np.multiply(grad_avg, grad_avg, out=work)
            np.subtract(square_avg, work, out=work)
            denom = np.sqrt(work, out=work)
        else:
            denom = np.sqrt(square_avg, out=work)
        denom += group["eps"]
        step = np.divide(g, denom, out=work)
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"].data
            buffer *= group["momentum"]
            buffer += step
            step = buffer
        p -= np.multiply(step, group["lr"], out=work)
