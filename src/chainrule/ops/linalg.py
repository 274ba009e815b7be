"""Linear algebra primitives: matrix products, and the decompositions' derivatives.

>>> import chainrule as cr
>>> w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (cr.tensor([1.0, -1.0]) @ w).sum().backward()
>>> w.grad
tensor([[ 1.,  1.],
        [-1., -1.]])
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import primitive, raw
from chainrule.ops.shape import swapaxes


def _matrix_transpose(a):
    return swapaxes(a, -1, -2)


@primitive
def matmul(x, y):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes batch."""
    return np.matmul(x, y)


@matmul.defvjp
def matmul_vjp(g, ans, x, y, *, needs):
    x_nd, y_nd = np.ndim(raw(x)), np.ndim(raw(y))
    # promote 1-D operands to matrices so one formula serves every case; unbroadcast later
    # sums the batch axes down to each operand's own
    if x_nd == 1:
        x = x.reshape(1, -1)
        g = g.reshape(*np.shape(raw(g))[:-1], 1, np.shape(raw(g))[-1]) if y_nd > 1 else g
    if y_nd == 1:
        y = y.reshape(-1, 1)
        g = g.reshape(*np.shape(raw(g)), 1)
    if x_nd == 1 and y_nd == 1:
        g = g.reshape(1, 1)
    x_bar = matmul(g, _matrix_transpose(y)) if needs[0] else None
    y_bar = matmul(_matrix_transpose(x), g) if needs[1] else None
    if x_bar is not None and x_nd == 1:
        x_bar = x_bar.reshape(*np.shape(raw(x_bar))[:-2], np.shape(raw(x_bar))[-1])
    if y_bar is not None and y_nd == 1:
        y_bar = y_bar.reshape(np.shape(raw(y_bar))[:-1])
    return x_bar, y_bar
