"""Loss functions, PyTorch's (``torch.nn.functional``): names, arguments, defaults, formulas.

``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"`` (one loss per element or
sample). Cross-entropy, NLL and binary cross-entropy on probabilities are fused primitives
(``chainrule.ops.loss``); the others are composed from differentiable ops.

>>> import chainrule as cr
>>> logits = cr.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
>>> loss = cross_entropy(logits, cr.tensor([0, 2]))
>>> loss.backward()
>>> logits.grad.shape, round(float(logits.grad.sum()), 6)
((2, 3), 0.0)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule import ops
from chainrule.ops import loss as _loss
from chainrule.ops.core import raw
from chainrule.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


def _operand(value):
    """Tensors and ndarrays as they are; numbers and lists as ndarrays."""
    return value if isinstance(value, (Tensor, np.ndarray)) else np.asarray(value)


def _reduce(losses, reduction: str, weight=None):
    """Reduce elementwise losses; a weighted mean divides by the sum of the weights."""
    if reduction == "none":
        return losses if weight is None else losses * weight
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if weight is None:
        return losses.mean() if reduction == "mean" else losses.sum()
    total = (losses * weight).sum()
    if reduction == "sum":
        return total
    return total / ops.sum(ops.broadcast_to(weight, np.shape(raw(losses))))


def _difference(input, target, op: str, weight):
    input, target = _operand(input), _operand(target)
    if np.shape(raw(input)) != np.shape(raw(target)):
        warnings.warn(
            f"{op}: using a target size ({np.shape(raw(target))}) that is different to the "
            f"input size ({np.shape(raw(input))}); they are broadcast, which is likely wrong",
            stacklevel=3,
        )
    if weight is not None and np.shape(raw(weight)) != np.shape(raw(input)):
        raise ValueError(f"{op}: weights and input must have the same size")
    return input - target


# -- regression --------------------------------------------------------------------------------


def mse_loss(input, target, reduction: str = "mean", weight=None):
    """(input - target)^2, reduced; with ``weight``, the mean is sum(w l) / sum(w).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> p = cr.tensor([1.0, 3.0], requires_grad=True)
    >>> loss = F.mse_loss(p, cr.tensor([1.0, 1.0]))  # (0**2 + 2**2) / 2
    >>> loss.backward()
    >>> loss.item(), p.grad                         # 2 (p - t) / n
    (2.0, tensor([0., 2.]))
    """
    d = _difference(input, target, "mse_loss", weight)
    return _reduce(d * d, reduction, weight)


def l1_loss(input, target, reduction: str = "mean", weight=None):
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> p = cr.tensor([1.0, 3.0], requires_grad=True)
    >>> loss = F.l1_loss(p, cr.tensor([0.0, 4.0]))   # (1 + 1) / 2
    >>> loss.backward()
    >>> loss.item(), p.grad                         # sign(p - t) / n
    (1.0, tensor([ 0.5, -0.5]))
    """
    d = _difference(input, target, "l1_loss", weight)
    return _reduce(ops.abs(d), reduction, weight)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) beyond: quadratic near 0, linear
    (robust to outliers) far from it. With ``weight``, the mean is mean(w l) (PyTorch's,
    unlike mse_loss and l1_loss, which divide by sum(w)).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> p = cr.tensor([0.5, 3.0], requires_grad=True)
    >>> F.huber_loss(p, cr.zeros(2), reduction="none")   # 0.5 * 0.5**2; 3 - 0.5
    tensor([0.125, 2.500], op=where)
    >>> F.huber_loss(p, cr.zeros(2), reduction="sum").backward()
    >>> p.grad                                      # d near 0, at most delta far away
    tensor([0.5, 1.0])
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = _difference(input, target, "huber_loss", weight)
    size = ops.abs(d)
    losses = ops.where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))
    if weight is not None:  # PyTorch's weighted Huber mean is the plain mean of w * loss
        return _reduce(losses * weight, reduction)
    return _reduce(losses, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 beyond (Huber divided by beta).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.smooth_l1_loss(cr.tensor([1.0, 4.0]), cr.zeros(2), reduction="none", beta=2.0)
    tensor([0.25, 3.00])
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = _difference(input, target, "smooth_l1_loss", None)
    size = ops.abs(d)
    if beta == 0:
        return _reduce(size, reduction)
    losses = ops.where(size < beta, 0.5 * d * d / beta, size - 0.5 * beta)
    return _reduce(losses, reduction)


# -- classification ----------------------------------------------------------------------------


def _class_weight(weight, classes: int, op: str):
    if weight is None:
        return None
    array = np.asarray(raw(weight))
    if array.shape != (classes,):
        raise ValueError(
            f"{op}: weight must have one entry per class ({classes}), got {array.shape}"
        )
    return array


def _unbatched(input, target, op: str):
    """An input of one sample (C,) with a 0-d target as a batch of one."""
    if np.ndim(raw(input)) == 1:
        if (
            np.ndim(raw(target)) not in (0, 1)
            or np.ndim(raw(target)) == 1
            and np.size(raw(target)) != np.size(raw(input))
        ):
            raise ValueError(f"{op}: a 1-D input (C,) takes a 0-d class-index target")
        return ops.unsqueeze(input, 0), target, True
    if np.ndim(raw(input)) == 0:
        raise ValueError(f"{op}: the input must have a class axis, got a 0-d input")
    return input, target, False


def cross_entropy(
    input,
    target,
    weight=None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """-log softmax(input)[target] over the classes on axis 1, stable for any logits.

    ``target`` holds class indices (N,) or (N, d1, ...), or class probabilities of the
    input's shape. ``weight`` (C,) weighs each class; ``ignore_index`` marks targets that
    do not count; ``label_smoothing`` blends the target with the uniform distribution.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> logits = cr.tensor([[0.0, 0.0]], requires_grad=True)  # one sample, two classes
    >>> loss = F.cross_entropy(logits, cr.tensor([1]))        # -log(1/2)
    >>> loss.backward()
    >>> round(loss.item(), 4), logits.grad          # softmax minus one-hot
    (0.6931, tensor([[ 0.5, -0.5]]))
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target = _operand(input), _operand(target)
    if np.asarray(raw(target)).dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    x, target, unbatched = _unbatched(input, target, "cross_entropy")
    target_array = np.asarray(raw(target))
    if unbatched:
        target_array = target_array.reshape(1)
    weight = _class_weight(weight, np.shape(raw(x))[1], "cross_entropy")
    out = _loss.cross_entropy(
        x,
        target_array,
        weight,
        ignore_index=ignore_index,
        label_smoothing=float(label_smoothing),
        reduction=reduction,
    )
    return ops.reshape(out, ()) if unbatched and reduction == "none" else out


def _soft_cross_entropy(input, target, weight, reduction: str, label_smoothing: float):
    """Cross-entropy against class probabilities: -sum_c target_c log softmax(input)_c."""
    if np.shape(raw(input)) != np.shape(raw(target)):
        raise ValueError(
            f"cross_entropy: a float target holds class probabilities and must have the "
            f"input's shape {np.shape(raw(input))}, got {np.shape(raw(target))} (class "
            "indices must be integers)"
        )
    axis = 1 if np.ndim(raw(input)) > 1 else 0
    classes = np.shape(raw(input))[axis]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = target * ops.log_softmax(input, axis=axis)
    weight = _class_weight(weight, classes, "cross_entropy")
    if weight is not None:
        terms = terms * weight.reshape((-1,) + (1,) * (np.ndim(raw(input)) - axis - 1))
    losses = -ops.sum(terms, axis=axis)
    return _reduce(losses, reduction)


def nll_loss(
    input,
    target,
    weight=None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
):
    """-input[target] for log-probabilities on axis 1 (pair it with log_softmax), weighted
    per class; the mean divides by the summed weights of the targets that count.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> log_probs = cr.tensor([[-1.0, -2.0]], requires_grad=True)
    >>> F.nll_loss(log_probs, cr.tensor([1])).backward()     # the loss: 2
    >>> log_probs.grad                              # -1 at the target, 0 elsewhere
    tensor([[ 0., -1.]])
    """
    x, target, unbatched = _unbatched(_operand(input), _operand(target), "nll_loss")
    target_array = np.asarray(raw(target))
    if unbatched:
        target_array = target_array.reshape(1)
    weight = _class_weight(weight, np.shape(raw(x))[1], "nll_loss")
    out = _loss.nll_loss(x, target_array, weight, ignore_index=ignore_index, reduction=reduction)
    return ops.reshape(out, ()) if unbatched and reduction == "none" else out


def _same_shape(input, target, op: str) -> None:
    if np.shape(raw(input)) != np.shape(raw(target)):
        raise ValueError(
            f"{op}: target size {np.shape(raw(target))} must be the same as input size "
            f"{np.shape(raw(input))}"
        )


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p (each log clamped at -100).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> p = cr.tensor([0.5], requires_grad=True)
    >>> F.binary_cross_entropy(p, cr.tensor([1.0])).backward()   # the loss: -log(1/2)
    >>> p.grad                                      # -t / p
    tensor([-2.])
    """
    input, target = _operand(input), _operand(target)
    _same_shape(input, target, "binary_cross_entropy")
    losses = _loss.binary_cross_entropy(input, target)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Binary cross-entropy of sigmoid(input), computed from the logits without overflow
    (finite for logits of +-1000): softplus(x) - t x, and with ``pos_weight`` (weighing the
    positive term, broadcast along the last axis) (1 - t) x + (1 + (pw - 1) t) softplus(-x).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> F.binary_cross_entropy_with_logits(x, cr.tensor([1.0])).backward()
    >>> x.grad                                      # sigmoid(x) - t
    tensor([-0.5])
    >>> F.binary_cross_entropy_with_logits(cr.tensor([1000.0]), cr.tensor([0.0]))
    tensor(1000.)
    """
    input, target = _operand(input), _operand(target)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        losses = ops.softplus(input, 1.0, math.inf) - input * target
    else:
        positive = 1 + (pos_weight - 1) * target
        losses = (1 - target) * input + positive * ops.softplus(-input, 1.0, math.inf)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)
