"""Linear algebra primitives: matrix products, inverse, determinants and linear solves.

Every rule is written with this package's own functions (matmul, solve, inv, swapaxes), so
the same rule gives first derivatives on arrays and second derivatives on Tensors. The
matrix rules follow Giles, "Collected matrix derivative results for forward and reverse
mode algorithmic differentiation" (2008). einsum has a module of its own.

>>> import chainrule as cr
>>> w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (cr.tensor([1.0, -1.0]) @ w).sum().backward()
>>> w.grad
tensor([[ 1.,  1.],
        [-1., -1.]])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule.ops.core import add_tangents, nondifferentiable, primitive, raw
from chainrule.ops.elementwise import multiply
from chainrule.ops.shape import reshape, squeeze, swapaxes, unsqueeze


def _matrix_transpose(a):
    return swapaxes(a, -1, -2)


def _as_batch_of_matrices(v):
    """v of shape (...) as (..., 1, 1): one scalar per matrix of a batch, ready to broadcast."""
    return reshape(v, np.shape(raw(v)) + (1, 1))


# -- products --------------------------------------------------------------------------------


def _matmul_mismatch(x_shape: tuple, y_shape: tuple) -> str:
    """Why NumPy refused to multiply matrices of these shapes, in words."""
    if not x_shape or not y_shape:
        return "operands need at least one dimension (use * to multiply by a scalar)"
    k_x = x_shape[-1]
    k_y = y_shape[0] if len(y_shape) == 1 else y_shape[-2]
    if k_x != k_y:
        return (
            f"the last axis of the first ({k_x}) must match the "
            f"{'only' if len(y_shape) == 1 else 'second-to-last'} axis of the second ({k_y})"
        )
    return f"the batch axes {x_shape[:-2]} and {y_shape[:-2]} do not broadcast"


@primitive
def matmul(x, y):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes batch.

    >>> matmul(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    try:
        return np.matmul(x, y)
    except ValueError:
        raise ValueError(_matmul_mismatch(np.shape(x), np.shape(y))) from None


@matmul.defvjp(saves=("x", "y"))
def matmul_vjp(g, ans, x, y, *, needs):
    if x.ndim == 2 and y.ndim == 2:
        # a layer's product, the common case: operators, so that on arrays this is NumPy's
        # own matmul and transpose with no dispatch (on Tensors, the recorded ones)
        return (g @ y.T if needs[0] else None), (x.T @ g if needs[1] else None)
    x_shape, y_shape = np.shape(raw(x)), np.shape(raw(y))
    if len(x_shape) == 1 and len(y_shape) == 1:  # a dot product: g is a scalar
        return (g * y if needs[0] else None), (g * x if needs[1] else None)
    # promote vectors to matrices as NumPy does, x (k,) -> (1, k) and y (k,) -> (k, 1), so one
    # formula serves every case; the promoted axis is dropped from the cotangent at the end
    if len(x_shape) == 1:
        x = reshape(x, (1, x_shape[0]))
        g = unsqueeze(g, -2)
    if len(y_shape) == 1:
        y = reshape(y, (y_shape[0], 1))
        g = unsqueeze(g, -1)
    x_bar = y_bar = None
    if needs[0]:
        x_bar = matmul(g, _matrix_transpose(y))  # batch axes y added are summed by the engine
        if len(x_shape) == 1:
            x_bar = squeeze(x_bar, -2)
    if needs[1]:
        if np.ndim(raw(y)) == 2 and np.ndim(raw(x)) > 2:
            # a shared matrix times a batch (a layer on a sequence): fold the batch into the
            # rows, one product instead of a batch of products summed afterwards
            k = np.shape(raw(x))[-1]
            rows = reshape(x, (-1, k))
            y_bar = matmul(_matrix_transpose(rows), reshape(g, (-1, np.shape(raw(g))[-1])))
        else:
            y_bar = matmul(_matrix_transpose(x), g)
        if len(y_shape) == 1:
            y_bar = squeeze(y_bar, -1)
    return x_bar, y_bar


@matmul.defjvp
def matmul_jvp(tangents, ans, x, y):
    x_dot, y_dot = tangents
    return add_tangents(
        None if x_dot is None else matmul(x_dot, y),
        None if y_dot is None else matmul(x, y_dot),
    )


def dot(x, y):
    """NumPy's dot for operands of up to two dimensions: a product with a scalar, the inner
    product of vectors, or a matrix product (use matmul for batches, einsum for the rest).

    >>> float(dot(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    x_ndim, y_ndim = np.ndim(raw(x)), np.ndim(raw(y))
    if x_ndim == 0 or y_ndim == 0:
        return multiply(x, y)
    if x_ndim > 2 or y_ndim > 2:
        raise ValueError(
            f"dot: takes operands of up to 2 dimensions, got shapes {np.shape(raw(x))} and "
            f"{np.shape(raw(y))}; use matmul for batches of matrices, or einsum"
        )
    return matmul(x, y)


def outer(x, y):
    """The outer product: out[i, j] = x[i] * y[j] (inputs of any shape are flattened, as NumPy).

    >>> outer(np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]))
    array([[  1.,  10., 100.],
           [  2.,  20., 200.]])
    """
    return multiply(reshape(x, (-1, 1)), reshape(y, (1, -1)))


# -- inverse and determinants ------------------------------------------------------------------


@primitive
def inv(x):
    """The inverse of a square matrix, or of each matrix in a batch (..., n, n).

    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return np.linalg.inv(x)


@inv.defvjp
def inv_vjp(g, ans, x):
    # d(A^-1) = -A^-1 dA A^-1, so A_bar = -A^-T G A^-T
    ans_t = _matrix_transpose(ans)
    return (-matmul(matmul(ans_t, g), ans_t),)


@inv.defjvp
def inv_jvp(tangents, ans, x):
    # d(A^-1) = -A^-1 dA A^-1
    return -matmul(matmul(ans, tangents[0]), ans)


@primitive
def det(x):
    """The determinant of a square matrix, or of each matrix in a batch (..., n, n).

    The gradient needs the inverse: it is defined for invertible matrices only.

    >>> round(float(det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 12)
    -2.0
    """
    return np.linalg.det(x)


@det.defvjp
def det_vjp(g, ans, x):
    # Jacobi's formula: d det A = det A tr(A^-1 dA), so A_bar = g det(A) A^-T
    return (_as_batch_of_matrices(g * ans) * _matrix_transpose(inv(x)),)


@det.defjvp
def det_jvp(tangents, ans, x):
    # Jacobi's formula: d det A = det A tr(A^-1 dA)
    return ans * _trace_of_product(inv(x), tangents[0])


def _trace_of_product(a, b):
    """tr(a @ b) for each matrix of a batch, without forming the product."""
    return (_matrix_transpose(a) * b).sum(axis=(-2, -1))


class SlogdetResult(NamedTuple):
    """slogdet's result: det = sign * exp(logabsdet)."""

    sign: object
    logabsdet: object


# Two primitives, one per output, because a primitive returns one array. Each factorises the
# matrix, so slogdet costs two LU decompositions: cheap next to the gradient's inverse.
@nondifferentiable
def _det_sign(x):
    return np.linalg.slogdet(x)[0]


@primitive
def _logabsdet(x):
    return np.linalg.slogdet(x)[1]


@_logabsdet.defvjp
def _logabsdet_vjp(g, ans, x):
    # d log|det A| = tr(A^-1 dA), so A_bar = g A^-T
    return (_as_batch_of_matrices(g) * _matrix_transpose(inv(x)),)


@_logabsdet.defjvp
def _logabsdet_jvp(tangents, ans, x):
    # d log|det A| = tr(A^-1 dA)
    return _trace_of_product(inv(x), tangents[0])


_det_sign.name = "slogdet"
_logabsdet.name = "slogdet"


def slogdet(x) -> SlogdetResult:
    """(sign, logabsdet) of the determinant: log|det| without overflow; sign has no gradient.

    >>> sign, logabsdet = slogdet(np.array([[0.0, 1e200], [1e200, 0.0]]))
    >>> float(sign), round(float(logabsdet), 3)
    (-1.0, 921.034)
    """
    return SlogdetResult(_det_sign(x), _logabsdet(x))


# -- linear systems --------------------------------------------------------------------------


@primitive
def solve(a, b):
    """x with a @ x = b, for a square a (..., n, n); b is a vector (n,) or matrices (..., n, k)
    (NumPy's rule: only a 1-D b is a vector).

    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    return np.linalg.solve(a, b)


@solve.defvjp
def solve_vjp(g, ans, a, b, *, needs):
    # x = A^-1 b: b_bar = A^-T g, and A_bar = -b_bar x^T (the cotangent's outer product)
    a_t = _matrix_transpose(a)
    if np.ndim(raw(b)) == 1:
        # g has a's batch axes: solve it as a batch of one-column matrices
        b_bar = squeeze(solve(a_t, unsqueeze(g, -1)), -1)
        a_bar = -(unsqueeze(b_bar, -1) * unsqueeze(ans, -2)) if needs[0] else None
    else:
        b_bar = solve(a_t, g)
        a_bar = -matmul(b_bar, _matrix_transpose(ans)) if needs[0] else None
    return a_bar, (b_bar if needs[1] else None)


@solve.defjvp
def solve_jvp(tangents, ans, a, b):
    # x = A^-1 b, so dx = A^-1 (db - dA x); a vector b goes as a one-column matrix, since
    # solve reads only a 1-D b as a vector (and a batch of vectors as a matrix)
    a_dot, b_dot = tangents
    vector = np.ndim(raw(b)) == 1
    x = unsqueeze(ans, -1) if vector else ans
    rhs = add_tangents(
        None if b_dot is None else (unsqueeze(b_dot, -1) if vector else b_dot),
        None if a_dot is None else -matmul(a_dot, x),
    )
    x_dot = solve(a, rhs)
    return squeeze(x_dot, -1) if vector else x_dot
