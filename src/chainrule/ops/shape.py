"""Shape primitives: views, joins, splits, indexing and functional index updates.

Each rule moves the gradient back the way the forward moved the values: reshape undoes a
reshape, a transpose transposes back, indexing scatters into zeros. Rules use only
functions of this package, so they serve second derivatives too.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
>>> x[:, 1:].sum().backward()
>>> x.grad
tensor([[0., 1., 1.],
        [0., 1., 1.]])
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import primitive, raw


def _shape_arg(shape) -> tuple:
    # reshape(2, 3) and reshape((2, 3)) alike
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


# -- reshaping -------------------------------------------------------------------------------


@primitive
def _reshape(x, shape):
    try:
        return np.reshape(x, shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape an array of shape {np.shape(x)} ({np.size(x)} elements) "
            f"into shape {shape}"
        ) from None


@_reshape.defvjp(saves=())
def _reshape_vjp(g, ans, x, shape):
    return g.reshape(np.shape(raw(x))), None


@_reshape.defjvp
def _reshape_jvp(tangents, ans, x, shape):
    return _reshape(tangents[0], shape)


_reshape.name = "reshape"


def reshape(x, *shape):
    """x with a new shape of the same size; one dimension may be -1 (inferred).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> cr.reshape(x, 2, 3)                         # or x.reshape(2, 3), x.view(2, -1)
    tensor([[1., 2., 3.],
            [4., 5., 6.]])
    >>> x.view(-1, 2).shape
    (3, 2)
    """
    return _reshape(x, _shape_arg(shape))


view = reshape


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Dimensions start_dim..end_dim merged into one (all of them by default).

    >>> import chainrule as cr
    >>> x = cr.zeros((2, 3, 4))
    >>> cr.flatten(x).shape, cr.flatten(x, 1).shape  # from axis 1 on: one row per sample
    ((24,), (2, 12))
    """
    shape = np.shape(raw(x))
    if not shape:
        return reshape(x, (1,))
    start = start_dim % len(shape)
    end = end_dim % len(shape)
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


@primitive
def _permute(x, axes):
    # the method, not np.transpose: the same view without its Python layer
    return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)


@_permute.defvjp(saves=())
def _permute_vjp(g, ans, x, axes):
    return _permute(g, tuple(np.argsort(axes))), None


@_permute.defjvp
def _permute_jvp(tangents, ans, x, axes):
    return _permute(tangents[0], axes)


_permute.name = "permute"


def permute(x, *axes):
    """The axes of x in a new order (PyTorch's permute).

    >>> import chainrule as cr
    >>> cr.permute(cr.zeros((2, 3, 4)), 2, 0, 1).shape   # axis 2 first, then 0, then 1
    (4, 2, 3)
    """
    axes = _shape_arg(axes)
    ndim = np.ndim(raw(x))
    if sorted(a % ndim for a in axes) != list(range(ndim)):
        raise ValueError(f"permute: {axes} is not an ordering of the {ndim} axes")
    return _permute(x, tuple(a % ndim for a in axes))


def transpose(x, *axes):
    """Two ints swap two axes (PyTorch); a tuple permutes (NumPy); nothing reverses them.

    >>> import chainrule as cr
    >>> m = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> cr.transpose(m)                             # the same as m.T
    tensor([[1., 4.],
            [2., 5.],
            [3., 6.]])
    >>> cr.transpose(cr.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    if not axes or axes == (None,):
        return _permute(x, tuple(reversed(range(np.ndim(raw(x))))))
    if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
        return swapaxes(x, axes[0], axes[1])
    return permute(x, *axes)


def swapaxes(x, axis0: int, axis1: int):
    """Axes axis0 and axis1 exchanged.

    >>> import chainrule as cr
    >>> cr.swapaxes(cr.zeros((2, 3, 4)), 0, 1).shape
    (3, 2, 4)
    """
    if type(x) is np.ndarray:  # in a backward rule on arrays: NumPy's own view, no dispatch
        return x.swapaxes(axis0, axis1)
    order = list(range(np.ndim(raw(x))))
    order[axis0], order[axis1] = order[axis1], order[axis0]
    return _permute(x, tuple(order))


def _axes_arg(axis, dim):
    return dim if axis is None else axis


def squeeze(x, axis=None, *, dim=None):
    """x without its length-1 axes (all of them, or those named).

    >>> import chainrule as cr
    >>> x = cr.zeros((1, 3, 1))
    >>> cr.squeeze(x).shape, cr.squeeze(x, 0).shape
    ((3,), (3, 1))
    """
    axis = _axes_arg(axis, dim)
    shape = np.shape(raw(x))
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    return reshape(x, new)


def unsqueeze(x, axis=None, *, dim=None):
    """x with a new axis of length 1 at ``axis`` (NumPy's expand_dims).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0])
    >>> cr.unsqueeze(x, 0).shape, x.unsqueeze(1).shape   # a row, a column
    ((1, 3), (3, 1))
    """
    axis = _axes_arg(axis, dim)
    shape = np.shape(raw(x))
    position = axis % (len(shape) + 1)
    return reshape(x, shape[:position] + (1,) + shape[position:])


expand_dims = unsqueeze


@primitive
def _broadcast_to(x, shape):
    if type(x) is np.ndarray and x.flags.c_contiguous and len(shape) >= x.ndim:
        return _broadcast_view(x, shape)
    return np.broadcast_to(x, shape)


def _broadcast_view(x: np.ndarray, shape: tuple) -> np.ndarray:
    """np.broadcast_to for a C-contiguous x: the same read-only view, built directly.

    A mean's gradient is a broadcast, once per backward; np.broadcast_to spends ~4.5 us in
    Python on it, this ~0.7 us. Axes x lacks or has as 1 get stride 0, so every element
    of the view reads x's memory.
    """
    extra = len(shape) - x.ndim
    strides = [0] * extra
    for n, have, stride in zip(shape[extra:], x.shape, x.strides):
        if have == n:
            strides.append(stride)
        elif have == 1:
            strides.append(0)
        else:
            raise ValueError(f"cannot broadcast an array of shape {x.shape} to shape {shape}")
    view = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    view.flags.writeable = False
    return view


@_broadcast_to.defvjp(saves=())
def _broadcast_to_vjp(g, ans, x, shape):
    return g, None  # the engine sums the broadcast axes back down


@_broadcast_to.defjvp
def _broadcast_to_jvp(tangents, ans, x, shape):
    return _broadcast_to(tangents[0], shape)


_broadcast_to.name = "broadcast_to"


def broadcast_to(x, *shape):
    """x repeated along broadcast axes to ``shape`` (a view in NumPy).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.broadcast_to(x, (3, 2)).sum().backward()
    >>> x.grad                                      # each element was used 3 times
    tensor([3., 3.])
    """
    return _broadcast_to(x, _shape_arg(shape))


def expand(x, *shape):
    """PyTorch's expand: broadcast_to, where -1 keeps a dimension.

    >>> import chainrule as cr
    >>> cr.expand(cr.tensor([[1.0], [2.0]]), -1, 3)   # a column repeated to 3 columns
    tensor([[1., 1., 1.],
            [2., 2., 2.]])
    """
    shape = _shape_arg(shape)
    current = np.shape(raw(x))
    offset = len(shape) - len(current)
    resolved = tuple(
        current[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(shape)
    )
    return _broadcast_to(x, resolved)


@primitive
def astype(x, dtype):
    """x converted to ``dtype``; the gradient is converted back.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.5, 2.0], requires_grad=True)
    >>> y = cr.astype(x, "float64")                 # or x.astype("float64")
    >>> y.dtype, y.tolist()
    (dtype('float64'), [1.5, 2.0])
    >>> y.sum().backward()
    >>> x.grad.dtype                                # back in x's own dtype
    dtype('float32')
    """
    return np.asarray(x).astype(dtype)


@astype.defvjp(saves=())
def astype_vjp(g, ans, x, dtype):
    return g.astype(raw(x).dtype), None


@astype.defjvp
def astype_jvp(tangents, ans, x, dtype):
    return astype(tangents[0], dtype)  # (never called for an integer dtype: no tangent)


# -- joining and splitting -------------------------------------------------------------------


@primitive
def _concatenate(axis, *xs):
    return np.concatenate(xs, axis=axis)


@_concatenate.defvjp(saves=())
def _concatenate_vjp(g, ans, axis, *xs):
    sizes = np.cumsum([np.shape(raw(x))[axis] for x in xs])[:-1]
    return (None, *split_at(g, tuple(int(s) for s in sizes), axis))


@_concatenate.defjvp
def _concatenate_jvp(tangents, ans, axis, *xs):
    parts = [_zeros_like(x, ans) if x_dot is None else x_dot for x, x_dot in zip(xs, tangents[1:])]
    return _concatenate(axis, *parts)


def _zeros_like(x, ans) -> np.ndarray:
    """A zero tangent for input x, in ans's dtype (where a linear op needs every input's)."""
    return np.zeros(np.shape(raw(x)), dtype=np.result_type(raw(ans)))


_concatenate.name = "concatenate"


def concatenate(xs, axis: int = 0, *, dim=None):
    """The arrays of ``xs`` joined along an existing axis (PyTorch: cat).

    >>> import chainrule as cr
    >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.cat([a, cr.tensor([3.0])])
    tensor([1., 2., 3.], op=concatenate)
    >>> (cr.cat([a, a]) * cr.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    >>> a.grad                                      # a appears twice: 1 + 3 and 2 + 4
    tensor([4., 6.])
    """
    axis = axis if dim is None else dim
    return _concatenate(axis, *xs)


cat = concatenate


def stack(xs, axis: int = 0, *, dim=None):
    """The arrays of ``xs`` (all one shape) joined along a new axis.

    >>> import chainrule as cr
    >>> a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])
    >>> cr.stack([a, b])                            # cr.stack([a, b], axis=1): as columns
    tensor([[1., 2.],
            [3., 4.]])
    """
    axis = axis if dim is None else dim
    shapes = {np.shape(raw(x)) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all inputs need one shape, got {sorted(shapes)}")
    return concatenate([unsqueeze(x, axis) for x in xs], axis)


@primitive
def _split_part(x, start, stop, axis):
    index = [slice(None)] * np.ndim(x)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


@_split_part.defvjp(saves=())
def _split_part_vjp(g, ans, x, start, stop, axis):
    shape = np.shape(raw(x))
    widths = [(0, 0)] * len(shape)
    widths[axis] = (start, shape[axis] - stop)
    return pad(g, tuple(widths)), None, None, None


@_split_part.defjvp
def _split_part_jvp(tangents, ans, x, start, stop, axis):
    return _split_part(tangents[0], start, stop, axis)


_split_part.name = "split"


def split_at(x, boundaries: tuple, axis: int):
    """x cut along ``axis`` at the given indices (NumPy's split with indices)."""
    size = np.shape(raw(x))[axis]
    edges = [0, *boundaries, size]
    return [_split_part(x, a, b, axis) for a, b in zip(edges[:-1], edges[1:])]


def split(x, split_size_or_sections, axis: int = 0, *, dim=None):
    """PyTorch's split: pieces of ``split_size`` (an int) or of the given sizes (a list).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> cr.split(x, 2)                              # pieces of 2, the last one shorter
    [tensor([1., 2.]), tensor([3., 4.]), tensor([5.])]
    >>> cr.split(x, [1, 4])                         # pieces of these sizes
    [tensor([1.]), tensor([2., 3., 4., 5.])]
    """
    axis = axis if dim is None else dim
    size = np.shape(raw(x))[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        boundaries = tuple(range(step, size, step))
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise ValueError(f"split: sizes {sizes} do not add up to {size} along axis {axis}")
        boundaries = tuple(int(b) for b in np.cumsum(sizes)[:-1])
    return split_at(x, boundaries, axis)


def chunk(x, chunks: int, axis: int = 0, *, dim=None):
    """x cut into ``chunks`` pieces of (nearly) equal size along ``axis``.

    >>> import chainrule as cr
    >>> cr.chunk(cr.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 2)
    [tensor([1., 2., 3.]), tensor([4., 5.])]
    """
    axis = axis if dim is None else dim
    size = np.shape(raw(x))[axis]
    return split(x, -(-size // chunks), axis)


@primitive
def _pad(x, widths, value):
    return np.pad(x, widths, constant_values=value)


@_pad.defvjp(saves=())
def _pad_vjp(g, ans, x, widths, value):
    index = tuple(slice(a, n - b) for (a, b), n in zip(widths, np.shape(ans)))
    return g[index], None, None


@_pad.defjvp
def _pad_jvp(tangents, ans, x, widths, value):
    return _pad(tangents[0], widths, 0.0)  # the padding is a constant


_pad.name = "pad"


def pad(x, pad_width, value=0.0):
    """x padded with ``value``; ``pad_width`` as NumPy's (one (before, after) per axis).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0])
    >>> cr.pad(x, (1, 2)), cr.pad(x, [(1, 0)], value=9.0)
    (tensor([0., 1., 2., 0., 0.]), tensor([9., 1., 2.]))
    """
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(raw(x)), 2))
    return _pad(x, tuple(map(tuple, widths.tolist())), value)


@primitive
def tile(x, reps):
    """x repeated ``reps`` times along each axis (NumPy's tile; PyTorch's repeat).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0])
    >>> cr.tile(x, 2)
    tensor([1., 2., 1., 2.])
    >>> cr.tile(x, (2, 1))                          # 2 copies down, 1 across
    tensor([[1., 2.],
            [1., 2.]])
    """
    return np.tile(x, reps)


@tile.defvjp(saves=())
def tile_vjp(g, ans, x, reps):
    shape = np.shape(raw(x))
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    # view the tiled axis n*r as (r, n) and sum the copies
    split_shape = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    summed = g.reshape(split_shape).sum(axis=tuple(range(0, 2 * ndim, 2)))
    return summed.reshape(np.shape(raw(x))), None


@tile.defjvp
def tile_jvp(tangents, ans, x, reps):
    return tile(tangents[0], reps)


def repeat(x, *repeats):
    """PyTorch's Tensor.repeat: the whole tensor tiled (NumPy's tile).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 2.0]).repeat(2, 2)          # not NumPy's repeat, which repeats each element
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    return tile(x, _shape_arg(repeats))


@primitive
def flip(x, axis=None):
    """x with the order of elements reversed along ``axis`` (all axes if None).

    >>> import chainrule as cr
    >>> m = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> cr.flip(m, 1)                               # each row reversed
    tensor([[3., 2., 1.],
            [6., 5., 4.]])
    """
    return np.flip(x, axis)


@flip.defvjp(saves=())
def flip_vjp(g, ans, x, axis=None):
    return flip(g, axis), None


@flip.defjvp
def flip_jvp(tangents, ans, x, axis=None):
    return flip(tangents[0], axis)


# -- indexing --------------------------------------------------------------------------------


def _plain_index(index):
    """The index with Tensors replaced by their arrays (indices are never differentiated)."""
    if isinstance(index, tuple):
        return tuple([raw(i) for i in index])
    return raw(index)


@primitive
def _getitem(x, index):
    return x[index]


@_getitem.defvjp(saves=("index",))
def _getitem_vjp(g, ans, x, index):
    zeros = np.zeros(x.shape, dtype=g.dtype)  # x: the input's placeholder
    if type(g) is np.ndarray:  # on arrays: scatter into the zeros, which nothing else holds
        _scatter_add(zeros, index, g)
        return zeros, None
    return _index_add(zeros, index, g), None


@_getitem.defjvp
def _getitem_jvp(tangents, ans, x, index):
    return _getitem(tangents[0], index)


_getitem.name = "getitem"


def getitem(x, index):
    """x[index] with ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    return _getitem(x, _plain_index(index))


def _may_repeat(index) -> bool:
    """Whether an index can name one place twice (only integer arrays can)."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, (np.ndarray, list)) and np.asarray(part).dtype != bool:
            return True
    return False


def _scatter_add(out: np.ndarray, index, values) -> None:
    """out[index] += values in place, where a place named twice gets both additions."""
    if _may_repeat(index):
        np.add.at(out, index, values)  # unbuffered: repeated indices add up
    else:
        out[index] += values


@primitive
def _index_add(x, index, values):
    out = np.array(x, copy=True)
    _scatter_add(out, index, values)
    return out


@_index_add.defvjp(saves=("index",))
def _index_add_vjp(g, ans, x, index, values, *, needs):
    values_bar = None
    if needs[2]:
        values_bar = _getitem(g, index)
    return g, None, values_bar


@_index_add.defjvp
def _index_add_jvp(tangents, ans, x, index, values):
    x_dot, _, values_dot = tangents
    if values_dot is None:
        return x_dot
    return _index_add(_zeros_like(x, ans) if x_dot is None else x_dot, index, values_dot)


_index_add.name = "index_add"


@primitive
def _index_set(x, index, values):
    out = np.array(x, copy=True)
    out[index] = values
    return out


@_index_set.defvjp(saves=("index",))
def _index_set_vjp(g, ans, x, index, values, *, needs):
    x_bar = values_bar = None
    if needs[0]:
        x_bar = _index_set(g, index, 0.0)  # overwritten places get nothing
    if needs[2]:
        values_bar = _getitem(g, index)
        if _may_repeat(index):
            # a place written twice keeps only the last write: the earlier ones get nothing
            values_bar = values_bar * _last_writes(np.shape(raw(g)), index)
        values_bar = _with_leading_ones(values_bar, np.ndim(raw(values)))
    return x_bar, None, values_bar


@_index_set.defjvp
def _index_set_jvp(tangents, ans, x, index, values):
    # linear in (x, values): the same write, of the tangents (the last write wins again)
    x_dot, _, values_dot = tangents
    x_dot = _zeros_like(x, ans) if x_dot is None else x_dot
    return _index_set(x_dot, index, 0.0 if values_dot is None else values_dot)


def _with_leading_ones(values_bar, ndim: int):
    """NumPy's assignment drops leading length-1 axes of the values (x[1] = v of shape
    (1, 4)); give them back so that the engine can unbroadcast to the values' shape."""
    extra = ndim - np.ndim(raw(values_bar))
    if extra <= 0:
        return values_bar
    return values_bar.reshape((1,) * extra + np.shape(raw(values_bar)))


def _last_writes(shape: tuple, index) -> np.ndarray:
    """A mask over x[index]: True where that write is the last one to its place. Found by
    writing each position's number with the same indexing as the forward, so the same write
    wins (the last, in NumPy)."""
    written_shape = np.empty(shape, dtype=np.bool_)[index].shape
    numbers = np.arange(int(np.prod(written_shape))).reshape(written_shape)
    places = np.full(shape, -1)
    places[index] = numbers
    return places[index] == numbers


_index_set.name = "index_set"


class IndexUpdateHelper:
    """``x.at[index]``: a place in x to ``set`` or ``add`` to, giving a new tensor (JAX)."""

    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, index):
        return _IndexUpdate(self.x, _plain_index(index))


class _IndexUpdate:
    __slots__ = ("x", "index")

    def __init__(self, x, index):
        self.x = x
        self.index = index

    def set(self, values):
        """A copy of x with ``values`` written at the index (the last write wins on repeats,
        and only it has a gradient)."""
        return _index_set(self.x, self.index, values)

    def add(self, values):
        """A copy of x with ``values`` added at the index (repeated indices add up)."""
        return _index_add(self.x, self.index, values)


def index_put(x, index, values, accumulate: bool = False):
    """PyTorch's index_put: ``x.at[index].add(values)`` if accumulate else ``.set(values)``.

    >>> import chainrule as cr
    >>> x, index = cr.zeros(3), cr.tensor([0, 0, 2])
    >>> cr.index_put(x, index, cr.tensor([1.0, 1.0, 5.0]), accumulate=True)  # index 0 twice
    tensor([2., 0., 5.])
    """
    update = _IndexUpdate(x, _plain_index(index))
    return update.add(values) if accumulate else update.set(values)
