"""Loss modules: each holds its options and calls the function of the same name in
``cr.nn.functional``. Class weights are registered as buffers, as in PyTorch (so they are
in ``state_dict()``).

>>> import chainrule as cr
>>> criterion = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
>>> criterion
CrossEntropyLoss()
>>> loss = criterion(cr.tensor([[2.0, 0.0, -1.0]]), cr.tensor([0]))
>>> round(float(loss), 4)
0.3365
"""

from __future__ import annotations

from chainrule.nn import losses as F
from chainrule.nn.module import Module
from chainrule.ops.core import raw
from chainrule.tensor import Tensor

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _as_buffer(value):
    return None if value is None else value if isinstance(value, Tensor) else Tensor(raw(value))


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))


class MSELoss(_Loss):
    """Mean squared error: mean((input - target)^2).

    >>> import chainrule as cr
    >>> cr.nn.MSELoss()(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0]))   # (1 + 9) / 2
    tensor(5.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean(|input - target|).

    >>> import chainrule as cr
    >>> cr.nn.L1Loss()(cr.tensor([1.0, -3.0]), cr.tensor([0.0, 0.0]))   # (1 + 3) / 2
    tensor(2.)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic for |input - target| < delta, linear beyond.

    >>> import chainrule as cr
    >>> cr.nn.HuberLoss()(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]))  # (0.5 * 0.25 + 2.5) / 2
    tensor(1.3125)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Huber loss divided by beta: quadratic for |input - target| < beta, then linear.

    >>> import chainrule as cr
    >>> cr.nn.SmoothL1Loss()(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]))
    tensor(1.3125)
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices (or class probabilities).

    >>> import chainrule as cr
    >>> logits = cr.tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> cr.nn.CrossEntropyLoss()(logits, cr.tensor([0, 1]))      # log 2: a coin toss
    tensor(0.6931)
    """

    def __init__(
        self,
        weight=None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities against class indices.

    >>> import chainrule as cr
    >>> log_probs = cr.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> cr.nn.NLLLoss()(log_probs, cr.tensor([0, 1]))            # (0.5 + 0.1) / 2
    tensor(0.3)
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities.

    >>> import chainrule as cr
    >>> cr.nn.BCELoss()(cr.tensor([0.5, 0.5]), cr.tensor([1.0, 0.0]))     # log 2
    tensor(0.6931)
    """

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(weight, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid folded in, stable for any logit).

    >>> import chainrule as cr
    >>> cr.nn.BCEWithLogitsLoss()(cr.tensor([0.0, 0.0]), cr.tensor([1.0, 0.0]))   # sigmoid(0) = 0.5
    tensor(0.6931)
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
