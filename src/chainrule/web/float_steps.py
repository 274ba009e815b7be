"""The update rules of SGD (with momentum, Nesterov), RMSprop and Adam on Python floats.

The hiker's points have two coordinates. A NumPy call on an array of two numbers costs
about a microsecond whatever it computes, and Adam's rule (``cr.optim.Adam._update``) makes
about a dozen of them per step; the same arithmetic on Python floats costs a few tens of
nanoseconds an operation. Python's floats are IEEE doubles like NumPy's float64, and
``+ - * /`` and ``sqrt`` are correctly rounded in both, so each rule below, which makes the
same operations in the same order as the ``_update`` it stands for, gives the same numbers,
bit for bit (tests compare them with ``cr.descend`` for equality).

A rule here covers its optimiser's common settings only (no weight decay, no ``maximize``,
no AMSGrad, no centred RMSprop or RMSprop momentum, no dampening, ``eps > 0`` so that no
division by zero can raise); ``float_step`` returns None for any other, and the caller uses
the optimiser's own ``_update``.

>>> import numpy as np
>>> from chainrule import optim
>>> from chainrule.tensor import Tensor
>>> adam = optim.Adam([Tensor._wrap(np.zeros(2))], lr=0.1)
>>> step = float_step(adam)
>>> point = [1.0, -2.0]
>>> step(point, [0.5, -4.0])   # changes the point in place
>>> point
[0.900000002, -1.90000000025]
"""

from __future__ import annotations

from math import sqrt

from chainrule.optim import SGD, Adam, RMSprop

__all__ = ["float_step"]


def float_step(optimizer):
    """``step(point, gradient)`` moving ``point`` (a list of floats, changed in place) as the
    optimiser's ``_update`` moves its parameter, for its first param group; None when this
    module has no rule for the optimiser or its settings."""
    group = optimizer.param_groups[0]
    if group.get("weight_decay") or group.get("maximize"):
        return None
    rule = type(optimizer)._update
    if rule is SGD._update and not group["dampening"]:
        return _SGD(group)
    if rule is RMSprop._update and not group["momentum"] and not group["centered"]:
        return _RMSprop(group) if group["eps"] > 0 else None
    if rule is Adam._update and not group["amsgrad"]:
        return _Adam(group) if group["eps"] > 0 else None
    return None


class _SGD:
    """``SGD._update`` without dampening: plain, heavy ball (PyTorch's momentum), Nesterov."""

    def __init__(self, group: dict):
        self.lr, self.momentum, self.nesterov = group["lr"], group["momentum"], group["nesterov"]
        self.momentum_buffer: list = []  # made by the first step: that step's gradient

    def __call__(self, p: list, g) -> None:
        lr, momentum, buffer = self.lr, self.momentum, self.momentum_buffer
        if not momentum:
            for j, gj in enumerate(g):
                p[j] -= gj * lr
            return
        if not buffer:
            buffer.extend(g)
        else:
            for j, gj in enumerate(g):
                buffer[j] = buffer[j] * momentum + gj
        for j, gj in enumerate(g):
            p[j] -= (buffer[j] * momentum + gj if self.nesterov else buffer[j]) * lr


class _RMSprop:
    """``RMSprop._update`` without momentum or centring."""

    def __init__(self, group: dict):
        self.lr, self.alpha, self.eps = group["lr"], group["alpha"], group["eps"]
        self.square_avg: list = []

    def __call__(self, p: list, g) -> None:
        lr, alpha, eps, square_avg = self.lr, self.alpha, self.eps, self.square_avg
        rest = 1 - alpha
        if not square_avg:
            square_avg.extend([0.0] * len(p))
        for j, gj in enumerate(g):
            s = square_avg[j] = square_avg[j] * alpha + gj * gj * rest
            p[j] -= gj / (sqrt(s) + eps) * lr


class _Adam:
    """``Adam._update`` without AMSGrad (and without weight decay, so AdamW's too)."""

    def __init__(self, group: dict):
        self.lr, self.eps, (self.beta1, self.beta2) = group["lr"], group["eps"], group["betas"]
        self.step = 0
        self.exp_avg: list = []
        self.exp_avg_sq: list = []

    def __call__(self, p: list, g) -> None:
        beta1, beta2, eps = self.beta1, self.beta2, self.eps
        exp_avg, exp_avg_sq = self.exp_avg, self.exp_avg_sq
        if not exp_avg:
            exp_avg.extend([0.0] * len(p))
            exp_avg_sq.extend([0.0] * len(p))
        self.step = step = self.step + 1
        rest1, rest2 = 1 - beta1, 1 - beta2
        step_size = self.lr / (1 - beta1**step)
        correction = (1 - beta2**step) ** 0.5
        for j, gj in enumerate(g):
            m = exp_avg[j] = exp_avg[j] + (gj - exp_avg[j]) * rest1  # lerp, as the rule
            v = exp_avg_sq[j] = exp_avg_sq[j] * beta2 + gj * gj * rest2
            p[j] -= m / (sqrt(v) / correction + eps) * step_size
