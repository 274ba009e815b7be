"""Loss primitives fused for speed and stability: cross-entropy, negative log-likelihood and
binary cross-entropy on probabilities.

``cross_entropy`` runs on every training step of a classifier. As one primitive its forward
is a stable log-softmax and a pick, and its VJP the classic closed form

    d loss / d logits = (softmax(logits) - onehot(target)) * scale

made in place in one fresh array (no one-hot matrix, no graph of a dozen small ops). Class
weights, ``ignore_index`` and label smoothing keep that form: each row's target
distribution q (weighted one-hot, blended with a weighted uniform) gives
d loss_i / d logits_i = softmax_i * sum(q_i) - q_i. The formulas and the normalisation of
``reduction="mean"`` (by the summed weights of the targets that count) are PyTorch's.

Under ``create_graph=True`` the rules run on Tensors and are built from recorded ops
(softmax, products), so second derivatives work too.

Classes are on axis 1: logits (N, C) or (N, C, d1, ...), targets (N,) or (N, d1, ...).

>>> logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
>>> round(float(cross_entropy(logits, np.array([0, 2]))), 6)
0.160927
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import primitive, raw
from chainrule.ops.elementwise import log, maximum
from chainrule.ops.reductions import softmax

__all__ = ["binary_cross_entropy", "cross_entropy", "nll_loss"]

REDUCTIONS = ("mean", "sum", "none")
# binary_cross_entropy's floor for x (1 - x) in the gradient: PyTorch's EPSILON, a C float
_BCE_EPSILON = float(np.float32(1e-12))


def _targets(x_shape: tuple, target: np.ndarray, ignore_index: int, op: str):
    """Checked class indices: (targets with ignored ones set to 0, mask of those that count)."""
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers, got {target.dtype} (for class "
            "probabilities give a float target of the input's shape)"
        )
    expected = x_shape[:1] + x_shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{op}: expected a target of shape {expected} for an input of shape {x_shape}, "
            f"got {target.shape}"
        )
    counts = target != ignore_index
    classes = x_shape[1]
    bad = counts & ((target < 0) | (target >= classes))
    if bad.any():
        raise IndexError(
            f"{op}: target {target[bad].flat[0]} is out of bounds for {classes} classes"
        )
    return np.where(counts, target, 0), counts


def _class_axis(values: np.ndarray, ndim: int) -> np.ndarray:
    """Per-class values (C,) shaped to broadcast along axis 1 of an ndim-array."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _picked(x: np.ndarray, safe_target: np.ndarray) -> np.ndarray:
    """x[i, target_i, ...]: the entries of the target classes, of the target's shape."""
    return np.take_along_axis(x, safe_target[:, None], axis=1)[:, 0]


def _target_weights(safe_target, counts, weight, dtype) -> np.ndarray:
    """Each target's class weight, 0 for ignored ones."""
    w_t = counts.astype(dtype)
    if weight is not None:
        w_t *= np.asarray(weight, dtype=dtype)[safe_target]
    return w_t


def _reduce(losses: np.ndarray, w_t: np.ndarray, reduction: str):
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: nan, as torch
        return total / w_t.sum()


def _scale(g, w_t, x_ndim: int, reduction: str):
    """What each row's gradient is multiplied by: g itself (reduction none, per row), or g
    over the mean's denominator."""
    if reduction == "none":
        return g.reshape(g.shape[:1] + (1,) + g.shape[1:])
    if reduction == "mean":
        return g / w_t.sum().astype(w_t.dtype)
    return g


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


# -- cross-entropy on logits ---------------------------------------------------------------------


@primitive
def cross_entropy(
    x, target, weight=None, *, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    """-log softmax(x)[target], blended with the mean over classes by ``label_smoothing``."""
    _check_reduction(reduction, "cross_entropy")
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"cross_entropy: the input must be (N, C, ...), got shape {x.shape}")
    safe, counts = _targets(x.shape, target, ignore_index, "cross_entropy")
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    w_t = _target_weights(safe, counts, weight, x.dtype)
    losses = -w_t * _picked(log_probs, safe)
    if label_smoothing:
        classes = x.shape[1]
        if weight is not None:
            log_probs = log_probs * _class_axis(np.asarray(weight, dtype=x.dtype), x.ndim)
        smooth = -log_probs.sum(axis=1) * counts
        losses = (1 - label_smoothing) * losses + (label_smoothing / classes) * smooth
        losses = losses.astype(x.dtype, copy=False)
    return _reduce(losses, w_t, reduction)


@cross_entropy.defvjp(saves=("x", "target", "weight"))
def cross_entropy_vjp(
    g, ans, x, target, weight=None, *, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    x_shape, dtype = np.shape(raw(x)), np.result_type(raw(x))
    safe, counts = _targets(x_shape, target, ignore_index, "cross_entropy")
    w_t = _target_weights(safe, counts, weight, dtype)
    hit = (1 - label_smoothing) * w_t  # the one-hot part of each row's target distribution
    spread = None  # the uniform part, per class
    if label_smoothing:
        classes = x_shape[1]
        per_class = np.ones(classes) if weight is None else np.asarray(weight, dtype=np.float64)
        spread = _class_axis((label_smoothing / classes * per_class).astype(dtype), len(x_shape))
        total = hit + (label_smoothing / classes * per_class.sum()) * counts  # sum of q_i
    else:
        total = w_t
    scale = _scale(g, w_t, len(x_shape), reduction)
    if isinstance(x, np.ndarray):
        # the fast path: one fresh array, updated in place
        x_bar = softmax(x, axis=1)
        if weight is not None or label_smoothing:
            x_bar *= total[:, None]
        index = safe[:, None]
        at_target = np.take_along_axis(x_bar, index, axis=1)
        np.put_along_axis(x_bar, index, at_target - hit[:, None].astype(dtype), axis=1)
        if spread is not None:
            x_bar -= spread
        if not counts.all():
            x_bar *= counts[:, None]
        x_bar *= scale
        return x_bar, None, None
    # on Tensors (create_graph): the same formula from recorded ops, q as a dense constant
    q = np.zeros(x_shape, dtype=dtype)
    np.put_along_axis(q, safe[:, None], hit[:, None].astype(dtype), axis=1)
    if spread is not None:
        q += spread * counts[:, None]
    x_bar = (softmax(x, axis=1) * total[:, None].astype(dtype) - q) * scale
    return x_bar, None, None


# -- negative log-likelihood on log-probabilities ------------------------------------------------


@primitive
def nll_loss(x, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """-x[target] (weighted), for x holding log-probabilities along axis 1."""
    _check_reduction(reduction, "nll_loss")
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"nll_loss: the input must be (N, C, ...), got shape {x.shape}")
    safe, counts = _targets(x.shape, target, ignore_index, "nll_loss")
    w_t = _target_weights(safe, counts, weight, x.dtype)
    return _reduce(-w_t * _picked(x, safe), w_t, reduction)


@nll_loss.defvjp(saves=("target", "weight"))
def nll_loss_vjp(g, ans, x, target, weight=None, *, ignore_index=-100, reduction="mean"):
    x_shape, dtype = np.shape(raw(x)), np.result_type(raw(x))
    safe, counts = _targets(x_shape, target, ignore_index, "nll_loss")
    w_t = _target_weights(safe, counts, weight, dtype)
    picks = np.zeros(x_shape, dtype=dtype)  # -w_t at each target, linear in g
    np.put_along_axis(picks, safe[:, None], -w_t[:, None], axis=1)
    return picks * _scale(g, w_t, len(x_shape), reduction), None, None


# -- binary cross-entropy on probabilities -------------------------------------------------------


@primitive
def binary_cross_entropy(x, y):
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 (PyTorch's)."""
    x = np.asarray(x)
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1):
        raise ValueError(
            "binary_cross_entropy: all elements of the input must be probabilities in [0, 1] "
            "(for logits use binary_cross_entropy_with_logits)"
        )
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_rest = np.maximum(np.log1p(-x), -100)
    return -(y * log_x + (1 - y) * log_rest)


@binary_cross_entropy.defvjp(saves=("x", "y"))
def binary_cross_entropy_vjp(g, ans, x, y, *, needs):
    x_bar = y_bar = None
    if needs[0]:
        # (x - y) / (x (1 - x)), the denominator kept from 0 as PyTorch does
        x_bar = g * (x - y) / maximum((1 - x) * x, _BCE_EPSILON)
    if needs[1]:
        y_bar = g * (maximum(log(1 - x), -100.0) - maximum(log(x), -100.0))
    return x_bar, y_bar
