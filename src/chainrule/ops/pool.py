"""2-D max and average pooling, each a pair of primitives that differentiate each other.

Max pooling picks one input per window, so its VJP scatters the gradient to the picked
places (``max_pool2d_scatter``), and that scatter's VJP gathers from them
(``max_pool2d_gather``); the choice itself is piecewise constant and has no gradient. Ties
go to the first maximum in the window, row by row, as in PyTorch.

Average pooling is linear: its VJP spreads each gradient evenly over its window
(``avg_pool2d_spread``), whose VJP is average pooling again.

Windows follow PyTorch: ``stride`` defaults to the kernel size, ``padding`` is implicit
(-inf for max, zeros for average), ``ceil_mode`` lets a last, partial window in as long as
it starts inside the input or the left padding.

>>> import chainrule as cr
>>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
>>> max_pool2d(x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1),
...            ceil_mode=False)
tensor([[[[ 5.,  7.],
          [13., 15.]]]])
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import primitive, raw

__all__ = [
    "avg_pool2d",
    "avg_pool2d_spread",
    "max_pool2d",
    "max_pool2d_gather",
    "max_pool2d_indices",
    "max_pool2d_scatter",
    "pool_output_size",
]


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) -> int:
    """Output length along one axis (PyTorch's pooling_output_shape)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the right padding: PyTorch drops it
    return out


def _geometry(shape: tuple, kernel, stride, padding, dilation, ceil_mode, op: str):
    """Output size and the padding per side ((top, bottom), (left, right)) that makes every
    window, ceil_mode's last partial one included, fit in the padded input."""
    if len(shape) not in (3, 4):
        raise ValueError(f"{op}: the input must be 3-D or 4-D (N, C, H, W), got shape {shape}")
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(
                f"{op}: padding {padding} must be at most half the kernel size {kernel}"
            )
    out, pads = [], []
    for size, k, s, p, d in zip(shape[-2:], kernel, stride, padding, dilation):
        n = pool_output_size(size, k, s, p, d, ceil_mode)
        if n <= 0:
            raise ValueError(
                f"{op}: the kernel {kernel} is larger than the padded input {shape[-2:]}"
            )
        needed = (n - 1) * s + d * (k - 1) + 1
        pads.append((p, max(needed - size - p, 0)))
        out.append(n)
    return tuple(out), tuple(pads)


def _padded(x: np.ndarray, pads: tuple, value) -> np.ndarray:
    if not any(a or b for a, b in pads):
        return x
    widths = ((0, 0),) * (x.ndim - 2) + pads
    return np.pad(x, widths, constant_values=value)


def _kernel_slices(i, j, out_size, stride, dilation) -> tuple:
    """The places in the padded input that kernel position (i, j) reads, over all windows."""
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    return (
        Ellipsis,
        slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
    )


def _cropped(xp: np.ndarray, pads: tuple, shape: tuple) -> np.ndarray:
    (top, _), (left, _) = pads
    return xp[..., top : top + shape[-2], left : left + shape[-1]]


# -- max pooling -------------------------------------------------------------------------------


def _lowest(dtype) -> float | int:
    """The padding of max pooling: below every value of the dtype."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _maxima(xp, out_size, kernel, stride, dilation) -> np.ndarray:
    """The largest value of each window of the padded input (nan if the window holds one):
    one vectorised maximum per kernel position, over all windows at once."""
    out = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            here = xp[_kernel_slices(i, j, out_size, stride, dilation)]
            out = here.copy() if out is None else np.maximum(out, here, out=out)
    return out


def _argmax(x, kernel, stride, padding, dilation, ceil_mode):
    """For each window, the position of its maximum in kernel order (..., OH, OW): the
    first one on ties, the last nan if any (as PyTorch)."""
    x = np.asarray(x)
    out_size, pads = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode, "")
    xp = _padded(x, pads, _lowest(x.dtype))
    best = _maxima(xp, out_size, kernel, stride, dilation)
    index = np.zeros(best.shape, dtype=np.intp)
    positions = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
    # backwards, so that the first position holding the maximum is the one written last
    for i, j in reversed(positions):
        here = xp[_kernel_slices(i, j, out_size, stride, dilation)]
        np.copyto(index, i * kernel[1] + j, where=here == best)
    if x.dtype.kind == "f" and np.isnan(best).any():
        for i, j in positions:
            here = xp[_kernel_slices(i, j, out_size, stride, dilation)]
            np.copyto(index, i * kernel[1] + j, where=np.isnan(here))
    return index, out_size, pads


@primitive
def max_pool2d(x, *, kernel, stride, padding, dilation, ceil_mode):
    """The largest value in each window of x (N, C, H, W) or (C, H, W)."""
    out_size, pads = _geometry(
        np.shape(x), kernel, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    return _maxima(_padded(x, pads, _lowest(x.dtype)), out_size, kernel, stride, dilation)


@max_pool2d.defvjp(saves=("x",))
def max_pool2d_vjp(g, ans, x, *, kernel, stride, padding, dilation, ceil_mode):
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return (max_pool2d_scatter(g, raw(x), ceil_mode=ceil_mode, **geometry),)


@max_pool2d.defjvp
def max_pool2d_jvp(tangents, ans, x, *, kernel, stride, padding, dilation, ceil_mode):
    # each output moves with its window's maximum
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return max_pool2d_gather(tangents[0], raw(x), ceil_mode=ceil_mode, **geometry)


def max_pool2d_indices(x, kernel, stride, padding, dilation, ceil_mode) -> np.ndarray:
    """Each window's maximum as a flat index into its input plane (H * W), as PyTorch's
    return_indices gives it."""
    x = raw(x)
    picked, out_size, pads = _argmax(x, kernel, stride, padding, dilation, ceil_mode)
    (sh, sw), (dh, dw) = stride, dilation
    rows = np.arange(out_size[0])[:, None] * sh - pads[0][0] + (picked // kernel[1]) * dh
    cols = np.arange(out_size[1])[None, :] * sw - pads[1][0] + (picked % kernel[1]) * dw
    return (rows * np.shape(x)[-1] + cols).astype(np.int64)


@primitive
def max_pool2d_scatter(g, x, *, kernel, stride, padding, dilation, ceil_mode):
    """Each window's gradient sent to the place of its maximum in x (summed where windows
    overlap)."""
    picked, out_size, pads = _argmax(x, kernel, stride, padding, dilation, ceil_mode)
    shape = np.shape(x)
    padded_shape = shape[:-2] + tuple(n + a + b for n, (a, b) in zip(shape[-2:], pads))
    out = np.zeros(padded_shape, dtype=np.result_type(g))
    zero = np.zeros((), dtype=out.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            here = _kernel_slices(i, j, out_size, stride, dilation)
            out[here] += np.where(picked == i * kernel[1] + j, g, zero)  # windows may overlap
    return _cropped(out, pads, shape)


@max_pool2d_scatter.defvjp(saves=("x",))
def max_pool2d_scatter_vjp(h, ans, g, x, *, kernel, stride, padding, dilation, ceil_mode):
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return max_pool2d_gather(h, raw(x), ceil_mode=ceil_mode, **geometry), None


@max_pool2d_scatter.defjvp
def max_pool2d_scatter_jvp(tangents, ans, g, x, *, kernel, stride, padding, dilation, ceil_mode):
    # linear in g; the places of the maxima do not move with x
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return max_pool2d_scatter(tangents[0], raw(x), ceil_mode=ceil_mode, **geometry)


@primitive
def max_pool2d_gather(h, x, *, kernel, stride, padding, dilation, ceil_mode):
    """h read at the place of each window's maximum in x: the adjoint of the scatter."""
    picked, out_size, pads = _argmax(x, kernel, stride, padding, dilation, ceil_mode)
    hp = _padded(h, pads, 0)
    out = np.zeros(picked.shape, dtype=np.result_type(h))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            here = hp[_kernel_slices(i, j, out_size, stride, dilation)]
            np.copyto(out, here, where=picked == i * kernel[1] + j)
    return out


@max_pool2d_gather.defvjp(saves=("x",))
def max_pool2d_gather_vjp(k, ans, h, x, *, kernel, stride, padding, dilation, ceil_mode):
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return max_pool2d_scatter(k, raw(x), ceil_mode=ceil_mode, **geometry), None


@max_pool2d_gather.defjvp
def max_pool2d_gather_jvp(tangents, ans, h, x, *, kernel, stride, padding, dilation, ceil_mode):
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return max_pool2d_gather(tangents[0], raw(x), ceil_mode=ceil_mode, **geometry)


# -- average pooling ---------------------------------------------------------------------------


def _divisors(shape, out_size, kernel, stride, padding, count_include_pad, divisor_override):
    """The divisor of each window (OH, OW), PyTorch's: the window clipped to the padded
    input, or to the input itself when padding does not count."""
    if divisor_override:
        return np.full(out_size, float(divisor_override))
    counts = []
    for size, n, k, s, p in zip(shape[-2:], out_size, kernel, stride, padding):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return np.outer(counts[0], counts[1]).astype(np.float64)


def _avg_setup(shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    dilation = (1, 1)
    out_size, pads = _geometry(shape, kernel, stride, padding, dilation, ceil_mode, "avg_pool2d")
    divisors = _divisors(
        shape, out_size, kernel, stride, padding, count_include_pad, divisor_override
    )
    return out_size, pads, divisors


@primitive
def avg_pool2d(x, *, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """The mean of each window of x (N, C, H, W) or (C, H, W)."""
    out_size, pads, divisors = _avg_setup(
        np.shape(x), kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    xp = _padded(x, pads, 0)
    total = np.zeros(np.shape(x)[:-2] + out_size, dtype=np.result_type(x, np.float32))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            total += xp[_kernel_slices(i, j, out_size, stride, (1, 1))]
    total /= divisors.astype(total.dtype)
    return total


@avg_pool2d.defvjp(saves=())
def avg_pool2d_vjp(g, ans, x, **options):
    return (avg_pool2d_spread(g, x_shape=np.shape(raw(x)), **options),)


@avg_pool2d.defjvp
def avg_pool2d_jvp(tangents, ans, x, **options):
    return avg_pool2d(tangents[0], **options)  # linear


@primitive
def avg_pool2d_spread(
    g, *, x_shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    """Each window's gradient shared among its places: the adjoint of avg_pool2d."""
    out_size, pads, divisors = _avg_setup(
        x_shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    share = g / divisors.astype(np.result_type(g))
    padded_shape = x_shape[:-2] + tuple(n + a + b for n, (a, b) in zip(x_shape[-2:], pads))
    out = np.zeros(padded_shape, dtype=share.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[_kernel_slices(i, j, out_size, stride, (1, 1))] += share
    return _cropped(out, pads, x_shape)


@avg_pool2d_spread.defvjp(saves=())
def avg_pool2d_spread_vjp(h, ans, g, *, x_shape, **options):
    return (avg_pool2d(h, **options),)


@avg_pool2d_spread.defjvp
def avg_pool2d_spread_jvp(tangents, ans, g, **options):
    return avg_pool2d_spread(tangents[0], **options)  # linear
