"""Gradient clipping and flattening parameters to one vector (``torch.nn.utils``).

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(2))
>>> w.grad = cr.tensor([3.0, 4.0])
>>> clip_grad_norm_([w], max_norm=1.0)
tensor(5.)
>>> w.grad
tensor([0.6, 0.8])
"""

from __future__ import annotations

import math

import numpy as np

from chainrule import ops
from chainrule.tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _tensors(parameters) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm (the norm of the
    vector of every gradient entry) is at most ``max_norm``; returns that norm before
    clipping. PyTorch's formula: grads *= min(1, max_norm / (total_norm + 1e-6)).

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import clip_grad_norm_
    >>> a, b = cr.nn.Parameter(cr.zeros(1)), cr.nn.Parameter(cr.zeros(1))
    >>> a.grad, b.grad = cr.tensor([3.0]), cr.tensor([4.0])
    >>> clip_grad_norm_([a, b], max_norm=1.0)       # sqrt(3**2 + 4**2)
    tensor(5.)
    >>> a.grad, b.grad                              # one direction kept, length 1
    (tensor([0.6]), tensor([0.8]))
    """
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros(()))
    dtype = grads[0].data.dtype
    if norm_type == math.inf:
        norms = [np.max(np.abs(g.data)) if g.data.size else 0.0 for g in grads]
        total = np.max(np.asarray(norms, dtype=dtype))
    else:
        norms = [np.linalg.norm(g.data.ravel(), ord=norm_type) for g in grads]
        total = np.linalg.norm(np.asarray(norms, dtype=dtype), ord=norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        g.data *= g.data.dtype.type(coefficient)
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place.

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import clip_grad_value_
    >>> w = cr.nn.Parameter(cr.zeros(3))
    >>> w.grad = cr.tensor([-5.0, 0.5, 2.0])
    >>> clip_grad_value_([w], 1.0)
    >>> w.grad                                      # each entry on its own: the direction changes
    tensor([-1.0,  0.5,  1.0])
    """
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and joined into one vector (differentiable).

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import parameters_to_vector
    >>> layer = cr.nn.Linear(2, 3)                  # a 3x2 weight and 3 biases
    >>> parameters_to_vector(layer.parameters()).shape
    (9,)
    """
    return ops.cat([ops.reshape(p, (-1,)) for p in _tensors(parameters)])


def vector_to_parameters(vec, parameters) -> None:
    """Write consecutive slices of ``vec`` into the parameters, in place.

    >>> import chainrule as cr
    >>> from chainrule.nn.utils import vector_to_parameters
    >>> w, b = cr.nn.Parameter(cr.zeros((2, 2))), cr.nn.Parameter(cr.zeros(1))
    >>> vector_to_parameters(cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), [w, b])
    >>> w.tolist(), b.tolist()
    ([[1.0, 2.0], [3.0, 4.0]], [5.0])
    """
    values = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if values.ndim != 1:
        raise TypeError(f"expected a 1-D vector, got shape {values.shape}")
    params = _tensors(parameters)
    needed = sum(p.size for p in params)
    if values.size != needed:
        raise ValueError(f"the vector has {values.size} entries, the parameters {needed}")
    start = 0
    for p in params:
        p.data[...] = values[start : start + p.size].reshape(p.shape)
        start += p.size
