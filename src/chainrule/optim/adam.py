"""Adam: momentum on the gradient, divided by a running RMS of the gradient, bias-corrected.

The update of each parameter p with gradient g, as PyTorch computes it (step t = 1, 2, ...)::

    g   <- -g                                   if maximize
    p   <- p * (1 - lr * weight_decay)          if decoupled_weight_decay   (AdamW)
    g   <- g + weight_decay * p                 otherwise, if weight_decay != 0 (L2)
    m   <- beta1 * m + (1 - beta1) * g          (m, v start at 0)
    v   <- beta2 * v + (1 - beta2) * g * g
    v^  <- max(v^, v)                           if amsgrad (Reddi et al. 2018), else v^ = v
    p   <- p - lr / (1 - beta1^t) * m / (sqrt(v^) / sqrt(1 - beta2^t) + eps)

The two ``1 - beta^t`` factors undo the pull toward 0 of averages that start at 0 (bias
correction, Kingma & Ba 2014, Alg. 1). ``eps`` is added after the correction, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, check_betas, check_number
from chainrule.tensor import Tensor

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, PyTorch's ``torch.optim.Adam`` (``decoupled_weight_decay=True`` gives AdamW).

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Adam([x], lr=0.1)
    >>> (x ** 2).sum().backward()
    >>> opt.step()                  # the first step is lr * g / |g|: 0.1 in each coordinate
    >>> x
    tensor([ 2.9, -0.9], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        check_number(group, "lr", where)
        check_number(group, "eps", where)
        check_betas(group, where)
        check_number(group, "weight_decay", where)

    def _init_state(self, p: np.ndarray, group: dict) -> dict:
        state = {
            "step": 0,
            "exp_avg": Tensor._wrap(np.zeros_like(p)),
            "exp_avg_sq": Tensor._wrap(np.zeros_like(p)),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p))
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = step = state["step"] + 1
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        weight_decay = group["weight_decay"]
        if group["decoupled_weight_decay"]:
            if weight_decay:
                p *= 1 - lr * weight_decay
            weight_decay = 0
        g = self._adjusted_grad(p, g, weight_decay, group["maximize"])
        work = self._buffer("work", p)
        exp_avg = state["exp_avg"].data
        # m <- m + (1 - beta1) (g - m): PyTorch's lerp, the same number as beta1 m + (1-beta1) g
        exp_avg += np.multiply(np.subtract(g, exp_avg, out=work), 1 - beta1, out=work)
        exp_avg_sq = state["exp_avg_sq"].data
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(np.multiply(g, g, out=work), 1 - beta2, out=work)
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"].data
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(second, out=work)
        denom /= (1 - beta2**step) ** 0.5
        denom += group["eps"]
        update = np.divide(exp_avg, denom, out=work)
        p -= np.multiply(update, step_size, out=work)
