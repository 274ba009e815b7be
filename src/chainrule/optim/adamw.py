"""AdamW: Adam whose weight decay shrinks the parameters directly, apart from the gradient.

The update is Adam's (see ``chainrule.optim.adam``) with the weight decay *decoupled*
(Loshchilov & Hutter 2019)::

    p <- p * (1 - lr * weight_decay)
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v^) / sqrt(1 - beta2^t) + eps)

where m and v average the gradient of the loss alone. With Adam's L2 form the decay term
would be divided by sqrt(v) like the rest of the gradient, so large-gradient weights would
hardly decay; here every weight decays at the same rate.
"""

from __future__ import annotations

from chainrule.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW, PyTorch's ``torch.optim.AdamW`` (weight_decay defaults to 1e-2).

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.AdamW([x], lr=0.1, weight_decay=0.5)
    >>> (x ** 2).sum().backward()
    >>> opt.step()                  # x * (1 - 0.05), then Adam's first step of 0.1
    >>> x
    tensor([ 2.75, -0.85], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
