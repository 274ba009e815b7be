"""Reductions: sums, means, products, extremes, spreads, norms, softmax and friends.

Every function takes ``axis=`` (NumPy) or ``dim=`` (PyTorch), and ``keepdims=`` or
``keepdim=``. Primitives exist where stability asks for them (logsumexp, softmax,
log_softmax: no overflow for logits of +-1000); the rest are composed.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
>>> cr.max(x).backward()      # the two maxima share the gradient, as in PyTorch's amax
>>> x.grad
tensor([[0.0, 0.5],
        [0.5, 0.0]])
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.ops.core import nondifferentiable, primitive, raw
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import equal, exp, sqrt, where
from chainrule.ops.shape import _broadcast_to, flip, permute


def _axis(axis, dim):
    axis = dim if axis is None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def _keep(keepdims, keepdim) -> bool:
    return bool(keepdims or keepdim)


# The ufuncs' own reductions: np.sum(x) is np.add.reduce(x) behind ~2 us of Python that
# checks for other array types; forwards get ndarrays, and a backward pass runs many.
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_min_reduce = np.minimum.reduce


def _kept_shape(shape: tuple, axis) -> tuple:
    """``shape`` with the reduced axes kept as length 1."""
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _shape(x) -> tuple:
    """x's shape: the attribute of an array, a Tensor or a placeholder, NumPy's reading of
    anything else (numbers, lists). The attribute is free; np.shape costs ~1 us of Python, and
    the rules of reductions ask once or twice in every backward."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def _spread(g, x, axis, keepdims):
    """The gradient of a reduction, shaped to broadcast against x (reduced axes as length 1)."""
    if keepdims:
        return g
    return g.reshape(_kept_shape(_shape(x), axis))


def _count(x, axis) -> int:
    # math.prod, not np.prod: on a tuple of ints it is ~30x faster, and this runs per backward
    shape = _shape(x)
    if axis is None:
        return math.prod(shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    return math.prod(shape[a] for a in axes)


# -- sums and means ----------------------------------------------------------------------------


@primitive
def _sum(x, axis, keepdims):
    return _add_reduce(x, axis=axis, keepdims=keepdims)


@_sum.defvjp(saves=())
def _sum_vjp(g, ans, x, axis, keepdims):
    return _broadcast_to(_spread(g, x, axis, keepdims), _shape(x)), None, None


@_sum.defjvp
def _sum_jvp(tangents, ans, x, axis, keepdims):
    return _sum(tangents[0], axis, keepdims)


_sum.name = "sum"


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A001
    """The sum of the elements, over all axes or the ones named.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> cr.sum(x, axis=0)                            # or x.sum(dim=0)
    tensor([4., 6.], op=sum)
    >>> x.sum().backward()
    >>> x.grad                                      # every entry counts once
    tensor([[1., 1.],
            [1., 1.]])
    """
    return _sum(x, _axis(axis, dim), _keep(keepdims, keepdim))


@primitive
def _mean(x, axis, keepdims):
    if type(x) is np.ndarray and x.dtype.char in "fd" and x.size:
        # what np.mean does for float32/64, without its ~4 us of Python: the sum, divided
        # by the count as NumPy divides (so the result is the same to the bit)
        total = _add_reduce(x, axis=axis, keepdims=keepdims)
        count = _count(x, axis)
        if type(total) is np.ndarray:
            return np.true_divide(total, np.intp(count), out=total, casting="unsafe")
        # one number: NumPy divides it by an intp in float64 and casts back to the sum's type;
        # so does this, with Python's float instead of NumPy scalars (2 us less)
        return total.dtype.type(float(total) / count)
    return np.mean(x, axis=axis, keepdims=keepdims)


@_mean.defvjp(saves=())
def _mean_vjp(g, ans, x, axis, keepdims):
    share = _spread(g, x, axis, keepdims) / _count(x, axis)
    return _broadcast_to(share, _shape(x)), None, None


@_mean.defjvp
def _mean_jvp(tangents, ans, x, axis, keepdims):
    return _mean(tangents[0], axis, keepdims)


_mean.name = "mean"


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The mean of the elements, over all axes or the ones named.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
    >>> y = x.mean()
    >>> y.backward()
    >>> y, x.grad                                   # each entry counts 1/4
    (tensor(3., op=mean), tensor([0.25, 0.25, 0.25, 0.25]))
    """
    return _mean(x, _axis(axis, dim), _keep(keepdims, keepdim))


@primitive
def _prod(x, axis, keepdims):
    return np.prod(x, axis=axis, keepdims=keepdims)


@_prod.defvjp
def _prod_vjp(g, ans, x, axis, keepdims):
    g = _spread(g, x, axis, keepdims)
    ans = _spread(ans, x, axis, keepdims)
    if not np.any(raw(x) == 0):
        return g * ans / x, None, None
    # with zeros, ans / x fails: each element's gradient is the product of the others
    if raw(x) is not x:
        # x is a Tensor (create_graph): build that product from recorded ops, so that it can
        # be differentiated again
        return g * _others_product(x, axis), None, None
    # plain arrays: the products of the elements before and after each one, O(n)
    values = np.asarray(x)
    if axis is None:
        others = _exclusive_products(values.reshape(-1), 0).reshape(values.shape)
    else:
        others = _exclusive_products(values, axis)
    return g * others, None, None


@_prod.defjvp
def _prod_jvp(tangents, ans, x, axis, keepdims):
    # d prod = sum_i x_dot_i * (the product of the others); ans / x gives those without zeros
    if np.any(raw(x) == 0):
        others = _others_product(x, axis)
    else:
        others = _spread(ans, x, axis, keepdims) / x
    return _sum(tangents[0] * others, axis, keepdims)


def _others_product(x, axis):
    """For each element of x, the product of the others along ``axis`` (all, if None), from
    differentiable ops: row i of a stack of copies has element i replaced by 1, then each row
    is multiplied out. O(n * size) memory, so only used under create_graph with zeros."""
    shape = np.shape(raw(x))
    if axis is None:
        return _others_product(x.reshape(-1), 0).reshape(shape)
    axis = axis % len(shape)
    n = shape[axis]
    mask_shape = (n,) + tuple(n if k == axis else 1 for k in range(len(shape)))
    ones_on_diagonal = where(np.eye(n, dtype=bool).reshape(mask_shape), 1.0, x)
    products = _prod(ones_on_diagonal, axis + 1, False)  # (n, *shape without axis)
    # the leading axis (which element was left out) goes back to where the axis was
    order = (*range(1, axis + 1), 0, *range(axis + 1, len(shape)))
    return permute(products, order)


def _exclusive_products(values: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of all others along ``axis``."""
    ones = np.ones_like(np.take(values, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, values], axis=axis), axis=axis)
    after = np.flip(
        np.cumprod(np.concatenate([ones, np.flip(values, axis)], axis=axis), axis=axis), axis
    )
    size = values.shape[axis]
    return np.take(before, range(size), axis=axis) * np.take(after, range(1, size + 1), axis=axis)


_prod.name = "prod"


def prod(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The product of the elements, over all axes or the ones named (exact with zeros).

    >>> import chainrule as cr
    >>> x = cr.tensor([2.0, 3.0, 4.0], requires_grad=True)
    >>> cr.prod(x).backward()                       # 2 * 3 * 4 = 24
    >>> x.grad                                      # the product of the others
    tensor([12.,  8.,  6.])
    """
    axis = _axis(axis, dim)
    if isinstance(axis, tuple) and len(axis) > 1:
        out = x
        for a in sorted((a % np.ndim(raw(x)) for a in axis), reverse=True):
            out = _prod(out, a, keepdims or keepdim)
        return out
    if isinstance(axis, tuple):
        axis = axis[0]
    return _prod(x, axis, _keep(keepdims, keepdim))


# -- extremes ----------------------------------------------------------------------------------


def _extreme_vjp(g, ans, x, axis, keepdims):
    # every element equal to the extreme shares its gradient evenly (PyTorch's amax/amin)
    ans = _spread(ans, x, axis, keepdims)
    hits = equal(x, ans)
    # (the count in the gradient's dtype: an int64 count would upcast float32 to float64)
    count = np.sum(raw(hits), axis=axis, keepdims=True).astype(np.result_type(raw(ans)))
    return where(hits, _spread(g, x, axis, keepdims) / count, 0.0), None, None


def _extreme_jvp(tangents, ans, x, axis, keepdims):
    # the mean of the tangents of the elements equal to the extreme (the VJP's even split)
    hits = equal(x, _spread(ans, x, axis, keepdims))
    count = np.sum(raw(hits), axis=axis, keepdims=keepdims).astype(np.result_type(raw(ans)))
    return _sum(where(hits, tangents[0], 0.0), axis, keepdims) / count


@primitive
def _max(x, axis, keepdims):
    return _max_reduce(x, axis=axis, keepdims=keepdims)


_max.defvjp(_extreme_vjp, saves=("x", "ans"))
_max.defjvp(_extreme_jvp)
_max.name = "max"


@primitive
def _min(x, axis, keepdims):
    return _min_reduce(x, axis=axis, keepdims=keepdims)


_min.defvjp(_extreme_vjp, saves=("x", "ans"))
_min.defjvp(_extreme_jvp)
_min.name = "min"


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A001
    """The largest element, over all axes or the ones named; ties share the gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> cr.max(x).backward()                        # or x.max(); amax is the same function
    >>> x.grad                                      # two elements tie for 3: half each
    tensor([0.0, 0.5, 0.5])
    >>> cr.max(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([5., 7.])
    """
    return _max(x, _axis(axis, dim), _keep(keepdims, keepdim))


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A001
    """The smallest element, over all axes or the ones named; ties share the gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([2.0, 1.0, 5.0], requires_grad=True)
    >>> cr.min(x).backward()                        # or x.min(); amin is the same function
    >>> x.grad                                      # only the smallest gets the gradient
    tensor([0., 1., 0.])
    >>> cr.min(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0)
    tensor([1., 2.])
    """
    return _min(x, _axis(axis, dim), _keep(keepdims, keepdim))


amax = max
amin = min


@nondifferentiable
def _argmax(x, axis, keepdims):
    return np.argmax(x, axis=axis, keepdims=keepdims)


@nondifferentiable
def _argmin(x, axis, keepdims):
    return np.argmin(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The index of the largest element (of the flattened array if no axis).

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> cr.argmax(x).item(), cr.argmax(x, axis=1).tolist()
    (2, [1, 0])
    """
    return _argmax(x, _axis(axis, dim), _keep(keepdims, keepdim))


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """The index of the smallest element (of the flattened array if no axis).

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> cr.argmin(x).item(), cr.argmin(x, dim=1).tolist()
    (0, [0, 1])
    """
    return _argmin(x, _axis(axis, dim), _keep(keepdims, keepdim))


# -- spread and size -----------------------------------------------------------------------------


def _ddof(ddof=None, correction=None, unbiased=None) -> int:
    """The degrees of freedom taken off the count, from NumPy's or PyTorch's argument."""
    if correction is not None:
        return int(correction)
    if unbiased is not None:
        return 1 if unbiased else 0
    return 0 if ddof is None else int(ddof)


def var(x, axis=None, keepdims=False, *, dim=None, keepdim=False, **correction):
    """The variance. NumPy's default ddof=0; PyTorch's ``correction=``/``unbiased=`` accepted
    (note PyTorch's own default is the unbiased correction=1).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0], requires_grad=True)
    >>> cr.var(x).item(), cr.var(x, correction=1).item()     # mean 2, squared gaps 1 and 1
    (1.0, 2.0)
    >>> cr.var(x).backward()
    >>> x.grad                                      # 2 (x - mean) / n
    tensor([-1.,  1.])
    """
    axis = _axis(axis, dim)
    centred = x - mean(x, axis, keepdims=True)
    n = _count(x, axis) - _ddof(**correction)
    return sum(centred * centred, axis, keepdims=_keep(keepdims, keepdim)) / n


def std(x, axis=None, keepdims=False, *, dim=None, keepdim=False, **correction):
    """The standard deviation: the square root of ``var`` (same arguments); its gradient is 0
    where it is 0 (PyTorch), not nan.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0], requires_grad=True)
    >>> cr.std(x).item()
    1.0
    >>> cr.std(x).backward()
    >>> x.grad                                      # (x - mean) / (n std)
    tensor([-0.5,  0.5])
    """
    return _root(var(x, axis, keepdims, dim=dim, keepdim=keepdim, **correction), 2)


def _root(s, p):
    """s ** (1/p) for s >= 0, with derivative 0 at s = 0 (where it is infinite) instead of
    the nan that inf * 0 would give further back: PyTorch's choice for std and norms. The
    inner where keeps the root's own derivative finite; the outer one sends nothing to s."""
    zero = equal(s, 0)
    safe = where(zero, 1.0, s)
    return where(zero, 0.0, sqrt(safe) if p == 2 else safe ** (1.0 / p))


@primitive
def _norm2(x, axis, keepdims):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


@_norm2.defvjp(saves=("x", "ans"))
def _norm2_vjp(g, ans, x, axis, keepdims):
    ans = _spread(ans, x, axis, keepdims)
    # x / |x|, taken as 0 where the norm is 0 (PyTorch's subgradient)
    direction = where(equal(ans, 0), 0.0, x / where(equal(ans, 0), 1.0, ans))
    return _spread(g, x, axis, keepdims) * direction, None, None


@_norm2.defjvp
def _norm2_jvp(tangents, ans, x, axis, keepdims):
    # d|x| = <x / |x|, x_dot>, with the direction taken as 0 where the norm is 0 (as the VJP)
    ans = _spread(ans, x, axis, keepdims)
    direction = where(equal(ans, 0), 0.0, x / where(equal(ans, 0), 1.0, ans))
    return _sum(tangents[0] * direction, axis, keepdims)


_norm2.name = "norm"


def norm(x, ord=2, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A002
    """The vector p-norm (default 2, the Euclidean length) over all axes or the ones named;
    ``ord`` may be any p > 0, ``inf`` or ``-inf``.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -4.0], requires_grad=True)
    >>> cr.norm(x).item(), cr.norm(x, 1).item(), x.norm(float("inf")).item()
    (5.0, 7.0, 4.0)
    >>> cr.norm(x).backward()
    >>> x.grad                                      # x / |x|: the unit direction
    tensor([ 0.6, -0.8])
    """
    axis = _axis(axis, dim)
    keep = _keep(keepdims, keepdim)
    if ord in (2, 2.0, "fro", None):
        return _norm2(x, axis, keep)
    if ord in (np.inf, float("inf")):
        return max(_abs(x), axis, keep)
    if ord in (-np.inf, float("-inf")):
        return min(_abs(x), axis, keep)
    if ord == 1:
        return sum(_abs(x), axis, keep)
    return _root(sum(_abs(x) ** ord, axis, keep), ord)


# -- softmax family (primitives, for numerical stability) -------------------------------------


@primitive
def _logsumexp(x, axis, keepdims):
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)  # all -inf along an axis: log(0) = -inf, no nan
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


@_logsumexp.defvjp(saves=("x", "ans"))
def _logsumexp_vjp(g, ans, x, axis, keepdims):
    return _spread(g, x, axis, keepdims) * exp(x - _spread(ans, x, axis, keepdims)), None, None


@_logsumexp.defjvp
def _logsumexp_jvp(tangents, ans, x, axis, keepdims):
    return _sum(tangents[0] * exp(x - _spread(ans, x, axis, keepdims)), axis, keepdims)


_logsumexp.name = "logsumexp"


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=False):
    """log(sum(exp(x))) without overflow: the largest value is taken out first.

    >>> import chainrule as cr
    >>> x = cr.tensor([100.0, 100.0], requires_grad=True)
    >>> cr.logsumexp(x)                             # 100 + log 2; exp(100) overflows float32
    tensor(100.6931, op=logsumexp)
    >>> cr.logsumexp(x).backward()
    >>> x.grad                                      # its gradient is the softmax
    tensor([0.5, 0.5])
    """
    return _logsumexp(x, _axis(axis, dim), _keep(keepdims, keepdim))


@primitive
def _softmax(x, axis):
    shifted = np.exp(x - _max_reduce(x, axis=axis, keepdims=True))
    return shifted / _add_reduce(shifted, axis=axis, keepdims=True)


@_softmax.defvjp(saves=("ans",))
def _softmax_vjp(g, ans, x, axis):
    return ans * (g - sum(g * ans, axis, keepdims=True)), None


@_softmax.defjvp
def _softmax_jvp(tangents, ans, x, axis):
    x_dot = tangents[0]
    return ans * (x_dot - sum(x_dot * ans, axis, keepdims=True))


_softmax.name = "softmax"


def softmax(x, axis=None, *, dim=None):
    """exp(x) / sum(exp(x)) along ``axis`` (the last by default), without overflow.

    >>> import chainrule as cr
    >>> cr.softmax(cr.tensor([0.0, 0.0, 0.0, 0.0]))
    tensor([0.25, 0.25, 0.25, 0.25])
    >>> cr.softmax(cr.tensor([[1000.0, 1000.0], [0.0, 0.0]]), dim=1).tolist()  # each row sums to 1
    [[0.5, 0.5], [0.5, 0.5]]
    """
    axis = _axis(axis, dim)  # (a default of -1 here would hide dim=)
    return _softmax(x, -1 if axis is None else axis)


@primitive
def _log_softmax(x, axis):
    shifted = x - _max_reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(_add_reduce(np.exp(shifted), axis=axis, keepdims=True))


@_log_softmax.defvjp(saves=("ans",))
def _log_softmax_vjp(g, ans, x, axis):
    return g - exp(ans) * sum(g, axis, keepdims=True), None


@_log_softmax.defjvp
def _log_softmax_jvp(tangents, ans, x, axis):
    x_dot = tangents[0]
    return x_dot - sum(x_dot * exp(ans), axis, keepdims=True)


_log_softmax.name = "log_softmax"


def log_softmax(x, axis=None, *, dim=None):
    """x - logsumexp(x) along ``axis`` (the last by default), without overflow.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 0.0], requires_grad=True)
    >>> cr.log_softmax(x)                           # log(1/2) each
    tensor([-0.6931, -0.6931], op=log_softmax)
    >>> cr.log_softmax(x)[0].backward()
    >>> x.grad                                      # one-hot minus softmax
    tensor([ 0.5, -0.5])
    """
    axis = _axis(axis, dim)  # (a default of -1 here would hide dim=)
    return _log_softmax(x, -1 if axis is None else axis)


@primitive
def _cumsum(x, axis):
    return np.cumsum(x, axis=axis)


@_cumsum.defvjp(saves=())
def _cumsum_vjp(g, ans, x, axis):
    if axis is None:  # NumPy flattens
        return flip(_cumsum(flip(g, 0), 0), 0).reshape(np.shape(raw(x))), None
    return flip(_cumsum(flip(g, axis), axis), axis), None


@_cumsum.defjvp
def _cumsum_jvp(tangents, ans, x, axis):
    return _cumsum(tangents[0], axis)


_cumsum.name = "cumsum"


def cumsum(x, axis=None, *, dim=None):
    """Running sums along ``axis`` (of the flattened array if None, as in NumPy).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> cr.cumsum(x)
    tensor([1., 3., 6.], op=cumsum)
    >>> cr.cumsum(x).sum().backward()
    >>> x.grad                                      # how many running sums each one is in
    tensor([3., 2., 1.])
    """
    return _cumsum(x, _axis(axis, dim))


@nondifferentiable
def _any(x, axis, keepdims):
    return np.any(x, axis=axis, keepdims=keepdims)


@nondifferentiable
def _all(x, axis, keepdims):
    return np.all(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A001
    """Whether any element is true.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 2.0])
    >>> cr.any(x > 1).item(), cr.any(x > 5).item()
    (True, False)
    """
    return _any(x, _axis(axis, dim), _keep(keepdims, keepdim))


def all(x, axis=None, keepdims=False, *, dim=None, keepdim=False):  # noqa: A001
    """Whether every element is true.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 2.0])
    >>> cr.all(x >= 0).item(), x.all().item()       # 0.0 counts as false
    (True, False)
    """
    return _all(x, _axis(axis, dim), _keep(keepdims, keepdim))
