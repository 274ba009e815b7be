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


def _split(target: np.ndarray, ignore_index: int):
    """(targets with the ignored ones set to 0, a mask of the ones that count, or None when
    all of them do)."""
    counts = target != ignore_index
    if counts.all():
        return target, None
    return np.where(counts, target, 0), counts


def _checked_targets(x_shape: tuple, target, ignore_index: int, op: str):
    """_split's result for class indices checked against the input: integers, of the input's
    shape without the class axis, each a class or ignore_index."""
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
    safe, counts = _split(target, ignore_index)
    classes = x_shape[1]
    if safe.size and (safe.min() < 0 or safe.max() >= classes):
        bad = target[(safe < 0) | (safe >= classes)].flat[0]
        raise IndexError(f"{op}: target {bad} is out of bounds for {classes} classes")
    return safe, counts


def _class_axis(values: np.ndarray, ndim: int) -> np.ndarray:
    """Per-class values (C,) shaped to broadcast along axis 1 of an ndim-array."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _picked(x: np.ndarray, safe: np.ndarray) -> np.ndarray:
    """x[i, target_i, ...]: the entries of the target classes, of the target's shape."""
    if x.ndim == 2:  # the common case, by plain fancy indexing (cheaper than take_along_axis)
        return x[np.arange(len(safe)), safe]
    return np.take_along_axis(x, safe[:, None], axis=1)[:, 0]


def _subtract_at_targets(x: np.ndarray, safe: np.ndarray, values) -> None:
    """x[i, target_i, ...] -= values[i, ...], in place."""
    if x.ndim == 2:
        x[np.arange(len(safe)), safe] -= values
        return
    index = safe[:, None]
    picked = np.take_along_axis(x, index, axis=1)
    np.put_along_axis(x, index, picked - np.expand_dims(values, 1), axis=1)


def _target_weights(safe, counts, weight, dtype):
    """Each target's class weight, 0 for ignored ones; None when all are 1."""
    if weight is None:
        return None if counts is None else counts.astype(dtype)
    w_t = np.asarray(weight, dtype=dtype)[safe]
    return w_t if counts is None else w_t * counts


def _denominator(w_t, safe: np.ndarray, dtype):
    """What reduction="mean" divides by: the summed weights of the targets that count."""
    return dtype.type(safe.size) if w_t is None else w_t.sum(dtype=dtype)


def _reduce(losses: np.ndarray, denominator, reduction: str):
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: nan, as torch
        return total / denominator


def _scale(g, denominator, reduction: str):
    """What each row's gradient is multiplied by: g itself (reduction none, one per row,
    broadcast along the class axis), or g over the mean's denominator."""
    if reduction == "none":
        return g.reshape(g.shape[:1] + (1,) + g.shape[1:])
    if reduction == "mean":
        return g / denominator
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
    safe, counts = _checked_targets(x.shape, target, ignore_index, "cross_entropy")
    shifted = x - x.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(shifted).sum(axis=1))
    losses = logsumexp - _picked(shifted, safe)  # -log softmax(x)[target]
    w_t = _target_weights(safe, counts, weight, x.dtype)
    if w_t is not None:
        losses *= w_t
    if label_smoothing:
        # -sum_c w_c log softmax(x)_c = sum(w) logsumexp - sum_c w_c shifted_c
        classes = x.shape[1]
        if weight is None:
            smooth = classes * logsumexp - shifted.sum(axis=1)
        else:
            w = _class_axis(np.asarray(weight, dtype=x.dtype), x.ndim)
            smooth = w.sum() * logsumexp - (shifted * w).sum(axis=1)
        if counts is not None:
            smooth *= counts
        losses = (1 - label_smoothing) * losses + (label_smoothing / classes) * smooth
    return _reduce(losses, _denominator(w_t, safe, x.dtype), reduction)


@cross_entropy.defvjp(saves=("x", "target", "weight"))
def cross_entropy_vjp(
    g, ans, x, target, weight=None, *, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    # each row's target distribution q: a weighted one-hot ("hit", 1 - label_smoothing of
    # it) plus a weighted uniform part ("spread"); the gradient is softmax * sum(q) - q
    x_shape, dtype = np.shape(raw(x)), np.result_type(raw(x))
    safe, counts = _split(np.asarray(target), ignore_index)
    w_t = _target_weights(safe, counts, weight, dtype)
    hit = dtype.type(1 - label_smoothing) if w_t is None else (1 - label_smoothing) * w_t
    spread = total = None  # None: no uniform part; each q sums to 1 (where it counts)
    if label_smoothing:
        per_class = np.ones(x_shape[1], dtype) if weight is None else np.asarray(weight, dtype)
        spread = _class_axis(label_smoothing / x_shape[1] * per_class, len(x_shape))
    if weight is not None:
        total = hit + (spread.sum() if spread is not None else 0) * (
            1 if counts is None else counts
        )
    scale = _scale(g, _denominator(w_t, safe, dtype), reduction)
    if isinstance(x, np.ndarray):
        # the fast path (a plain backward): one fresh array, updated in place
        x_bar = np.exp(x - x.max(axis=1, keepdims=True))
        x_bar /= x_bar.sum(axis=1, keepdims=True)
        if total is not None:
            x_bar *= np.expand_dims(total, 1)
        _subtract_at_targets(x_bar, safe, hit)
        if spread is not None:
            x_bar -= spread
        if counts is not None:
            x_bar *= np.expand_dims(counts, 1)
        x_bar *= scale
        return x_bar, None, None
    # on Tensors (create_graph): the same formula from recorded ops, q as a dense constant
    q = np.zeros(x_shape, dtype=dtype)
    _subtract_at_targets(q, safe, -np.broadcast_to(hit, safe.shape))
    if spread is not None:
        q += spread if counts is None else spread * np.expand_dims(counts, 1)
    probs = softmax(x, axis=1)
    if total is not None:
        probs = probs * np.expand_dims(total, 1).astype(dtype)
    elif counts is not None:
        probs = probs * np.expand_dims(counts, 1).astype(dtype)
    return (probs - q) * scale, None, None


@cross_entropy.defjvp
def cross_entropy_jvp(
    tangents,
    ans,
    x,
    target,
    weight=None,
    *,
    ignore_index=-100,
    label_smoothing=0.0,
    reduction="mean",
):
    options = {
        "ignore_index": ignore_index,
        "label_smoothing": label_smoothing,
        "reduction": reduction,
    }
    return _jvp_from_vjp(cross_entropy_vjp, tangents, ans, x, target, weight, options)


def _jvp_from_vjp(vjp, tangents, ans, x, target, weight, options: dict):
    """A loss's JVP in its input as the VJP's row gradients dotted with the tangent: for
    reduction "none" one dot product per sample, else one in all."""
    x_dot = tangents[0]
    if x_dot is None:
        return None
    g = np.ones(np.shape(raw(ans)), dtype=np.result_type(raw(ans)))
    x_bar = vjp(g, ans, x, target, weight, **options)[0]
    per_sample = (x_bar * x_dot).sum(axis=1)
    return per_sample if options["reduction"] == "none" else per_sample.sum()


# -- negative log-likelihood on log-probabilities ------------------------------------------------


@primitive
def nll_loss(x, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """-x[target] (weighted), for x holding log-probabilities along axis 1."""
    _check_reduction(reduction, "nll_loss")
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"nll_loss: the input must be (N, C, ...), got shape {x.shape}")
    safe, counts = _checked_targets(x.shape, target, ignore_index, "nll_loss")
    w_t = _target_weights(safe, counts, weight, x.dtype)
    losses = -_picked(x, safe)
    if w_t is not None:
        losses *= w_t
    return _reduce(losses, _denominator(w_t, safe, x.dtype), reduction)


@nll_loss.defvjp(saves=("target", "weight"))
def nll_loss_vjp(g, ans, x, target, weight=None, *, ignore_index=-100, reduction="mean"):
    x_shape, dtype = np.shape(raw(x)), np.result_type(raw(x))
    safe, counts = _split(np.asarray(target), ignore_index)
    w_t = _target_weights(safe, counts, weight, dtype)
    picks = np.zeros(x_shape, dtype=dtype)  # -w_t at each target: the rule is linear in g
    _subtract_at_targets(picks, safe, np.ones(safe.shape, dtype) if w_t is None else w_t)
    return picks * _scale(g, _denominator(w_t, safe, dtype), reduction), None, None


@nll_loss.defjvp
def nll_loss_jvp(tangents, ans, x, target, weight=None, *, ignore_index=-100, reduction="mean"):
    options = {"ignore_index": ignore_index, "reduction": reduction}
    return _jvp_from_vjp(nll_loss_vjp, tangents, ans, x, target, weight, options)


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


@binary_cross_entropy.defjvp
def binary_cross_entropy_jvp(tangents, ans, x, y):
    x_dot, y_dot = (tuple(tangents) + (None, None))[:2]
    g = np.ones(np.shape(raw(ans)), dtype=np.result_type(raw(ans)))
    x_bar, y_bar = binary_cross_entropy_vjp(
        g, ans, x, y, needs=(x_dot is not None, y_dot is not None)
    )
    out = None if y_dot is None else y_bar * y_dot
    if x_dot is not None:
        out = x_bar * x_dot if out is None else out + x_bar * x_dot
    return out
