"""Neural-network primitives that are fused for speed: the affine map of a Linear layer and
an Embedding's row lookup.

``linear(x, w, b) = x @ w.T + b`` with w of shape (out_features, in_features), PyTorch's
layout. One primitive instead of a transpose, a matmul and an add: the forward writes the
bias into the product in place, and the VJP makes w's gradient as one contiguous product
(g.T @ x, already of w's shape), with no transposed copy and no temporaries.

Rules are written with this package's functions (matmul, sum, reshape), so under
``create_graph=True`` they are recorded and give second derivatives.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0]])
>>> w = cr.tensor([[1.0, 0.0], [1.0, -1.0], [0.5, 0.5]], requires_grad=True)
>>> linear(x, w, cr.tensor([0.0, 1.0, -1.0]))
tensor([[1.0, 0.0, 0.5]], op=linear)
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import primitive, raw
from chainrule.ops.linalg import matmul
from chainrule.ops.shape import _index_add, reshape, swapaxes

__all__ = ["embedding", "linear"]


# -- linear ------------------------------------------------------------------------------------


@primitive
def linear(x, w, b=None):
    """x @ w.T + b: x of shape (..., in), w of shape (out, in), b of shape (out,) or None."""
    if np.ndim(w) != 2:
        raise ValueError(f"linear: the weight must be 2-D (out, in), got shape {np.shape(w)}")
    if np.shape(x)[-1:] != np.shape(w)[1:]:
        raise ValueError(
            f"linear: the input's last axis ({np.shape(x)[-1:]}) must match the weight's "
            f"in_features ({np.shape(w)[1]}); input shape {np.shape(x)}, weight shape "
            f"{np.shape(w)}"
        )
    out = np.matmul(x, w.T)  # a transposed view: BLAS reads it as it is, no copy
    if b is not None:
        out += b  # out is fresh: adding in place spares a temporary of the output's size
    return out


@linear.defvjp(saves=("x", "w"))
def linear_vjp(g, ans, x, w, b=None, *, needs):
    needs = tuple(needs) + (False,) * (3 - len(needs))  # linear(x, w) has no bias edge
    x_bar = matmul(g, w) if needs[0] else None
    w_bar = b_bar = None
    if needs[1] or needs[2]:
        out_features = np.shape(raw(w))[0]
        g_rows = reshape(g, (-1, out_features))  # leading axes folded: one product, not many
        if needs[1]:
            x_rows = reshape(x, (-1, np.shape(raw(x))[-1]))
            w_bar = matmul(swapaxes(g_rows, 0, 1), x_rows)  # (out, in), as w
        if needs[2]:
            b_bar = g_rows.sum(axis=0)
    return x_bar, w_bar, b_bar


@linear.defjvp
def linear_jvp(tangents, ans, x, w, b=None):
    x_dot, w_dot, b_dot = (tuple(tangents) + (None, None, None))[:3]
    out = None
    if x_dot is not None:
        out = linear(x_dot, w)
    if w_dot is not None:
        term = linear(x, w_dot)
        out = term if out is None else out + term
    if b_dot is not None:
        out = b_dot if out is None else out + b_dot
    return out


# -- embedding ---------------------------------------------------------------------------------


@primitive
def embedding(weight, indices, padding_idx=None):
    """Rows of ``weight`` picked by integer ``indices``: the result has shape
    indices.shape + (embedding_dim,). The row ``padding_idx`` gets no gradient."""
    if np.ndim(weight) != 2:
        raise ValueError(
            f"embedding: the weight must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{np.shape(weight)}"
        )
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {indices.dtype}")
    rows = np.shape(weight)[0]
    if indices.size and (indices.min() < -rows or indices.max() >= rows):
        bad = indices.max() if indices.max() >= rows else indices.min()
        raise IndexError(f"embedding: index {bad} is out of range for {rows} embeddings")
    return np.take(weight, indices, axis=0)


@embedding.defvjp(saves=("indices",))
def embedding_vjp(g, ans, weight, indices, padding_idx=None):
    indices = np.asarray(indices)
    if padding_idx is not None:
        rows = np.shape(raw(weight))[0]
        keep = (indices % rows != padding_idx % rows)[..., None]
        g = g * keep.astype(np.result_type(raw(g)))
    zeros = np.zeros(np.shape(raw(weight)), dtype=np.result_type(raw(g)))
    return _index_add(zeros, indices, g), None


@embedding.defjvp
def embedding_jvp(tangents, ans, weight, indices, padding_idx=None):
    # the looked-up rows of the tangent (padding_idx only stops gradients, as in PyTorch)
    return None if tangents[0] is None else embedding(tangents[0], indices)
