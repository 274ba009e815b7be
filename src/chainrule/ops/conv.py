"""2-D convolution (PyTorch's cross-correlation) as three primitives that differentiate
one another.

A convolution is bilinear in its input x and weight w: out = B(x, w). Its VJP needs the
two adjoints of B, and they are bilinear too:

- ``conv2d(x, w)``                 out = B(x, w)        (plus a bias per output channel)
- ``conv2d_input_grad(g, w)``      x_bar = Bx*(g, w)    (the "transposed convolution")
- ``conv2d_weight_grad(x, g)``     w_bar = Bw*(x, g)

From <h, Bx*(g, w)> = <B(h, w), g> = <w, Bw*(h, g)> and the like, each one's VJP is made of
the other two, so the family is closed: second (and higher) derivatives come for free,
and each pair of rules is checked by gradcheck alone.

Vectorised with im2col: ``sliding_window_view`` gives every window as a view, one reshape
copies them into columns, and a batched matmul does the rest. The input gradient adds the
columns back (col2im) with one strided add per kernel position.

Shapes, PyTorch's: x (N, C, H, W), w (O, C / groups, kh, kw), out (N, O, OH, OW) with
OH = (H + pad_top + pad_bottom - dilation * (kh - 1) - 1) // stride + 1.

>>> import chainrule as cr
>>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
>>> w = cr.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
>>> conv2d(x, w, None, stride=(2, 2), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
tensor([[[[-5., -5.],
          [-5., -5.]]]])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.ops.core import primitive, raw

__all__ = ["conv2d", "conv2d_input_grad", "conv2d_output_size", "conv2d_weight_grad"]


def conv2d_output_size(size: int, kernel: int, stride: int, pad: tuple, dilation: int) -> int:
    """Output length along one axis (PyTorch's formula, floor mode)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x: np.ndarray, padding: tuple) -> np.ndarray:
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def _windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """Every window of the padded input as a view: (N, C, OH, OW, kh, kw)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    views = sliding_window_view(xp, span, axis=(2, 3))
    return views[:, :, ::sh, ::sw, ::dh, ::dw]


def _columns(x: np.ndarray, kernel, stride, padding, dilation, groups) -> np.ndarray:
    """im2col: (N, groups, C/groups * kh * kw, OH * OW), one copy of the windows."""
    windows = _windows(_padded(x, padding), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = windows.shape
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, groups, c // groups * kh * kw, oh * ow)


def _add_columns(cols, x_shape, kernel, stride, padding, dilation) -> np.ndarray:
    """col2im, the adjoint of _columns: each column entry added back where it was read.
    cols: (N, C, kh, kw, OH, OW)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (top, bottom), (left, right) = padding
    n, c, h, w = x_shape
    oh, ow = cols.shape[-2:]
    out = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, columns] += cols[:, :, i, j]
    return out[:, :, top : top + h, left : left + w]


def _check(x_shape: tuple, w_shape: tuple, groups: int) -> None:
    if len(x_shape) != 4:
        raise ValueError(f"conv2d: the input must be 4-D (N, C, H, W), got shape {x_shape}")
    if len(w_shape) != 4:
        raise ValueError(f"conv2d: the weight must be 4-D (O, C/groups, kh, kw), got {w_shape}")
    if x_shape[1] != w_shape[1] * groups:
        raise ValueError(
            f"conv2d: the input has {x_shape[1]} channels, but the weight of shape {w_shape} "
            f"with groups={groups} expects {w_shape[1] * groups}"
        )
    if w_shape[0] % groups:
        raise ValueError(f"conv2d: out_channels {w_shape[0]} not divisible by groups={groups}")


# -- out = B(x, w) + b -------------------------------------------------------------------------


@primitive
def conv2d(x, w, b=None, *, stride, padding, dilation, groups):
    """The 2-D cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw), plus b (O,).

    ``stride`` and ``dilation`` are pairs, ``padding`` is ((top, bottom), (left, right)).
    """
    _check(np.shape(x), np.shape(w), groups)
    kernel = np.shape(w)[2:]
    n, (h, wd) = np.shape(x)[0], np.shape(x)[2:]
    oh = conv2d_output_size(h, kernel[0], stride[0], padding[0], dilation[0])
    ow = conv2d_output_size(wd, kernel[1], stride[1], padding[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"conv2d: the kernel {kernel} (dilation {dilation}) is larger than the padded "
            f"input {np.shape(x)[2:]} with padding {padding}"
        )
    cols = _columns(x, kernel, stride, padding, dilation, groups)
    o = np.shape(w)[0]
    out = np.matmul(w.reshape(groups, o // groups, -1), cols).reshape(n, o, oh, ow)
    if b is not None:
        out += b.reshape(o, 1, 1)  # out is fresh: in place spares a temporary
    return out


@conv2d.defvjp(saves=("x", "w"))
def conv2d_vjp(g, ans, x, w, b=None, *, stride, padding, dilation, groups, needs):
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    x_bar = w_bar = b_bar = None
    if needs[0]:
        x_bar = conv2d_input_grad(g, w, x_shape=np.shape(raw(x)), **geometry)
    if needs[1]:
        w_bar = conv2d_weight_grad(x, g, w_shape=np.shape(raw(w)), **geometry)
    if needs[2]:
        b_bar = g.sum(axis=(0, 2, 3))
    return x_bar, w_bar, b_bar


@conv2d.defjvp
def conv2d_jvp(tangents, ans, x, w, b=None, *, stride, padding, dilation, groups):
    x_dot, w_dot, b_dot = (tuple(tangents) + (None, None, None))[:3]
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = None
    if x_dot is not None:
        out = conv2d(x_dot, w, None, **geometry)
    if w_dot is not None:
        term = conv2d(x, w_dot, None, **geometry)
        out = term if out is None else out + term
    if b_dot is not None:
        term = b_dot.reshape(-1, 1, 1)
        out = term if out is None else out + term
    return out


# -- x_bar = Bx*(g, w) -------------------------------------------------------------------------


@primitive
def conv2d_input_grad(g, w, *, x_shape, stride, padding, dilation, groups):
    """The adjoint of conv2d in its input: what x receives from the output gradient g."""
    n, o, oh, ow = np.shape(g)
    kernel = np.shape(w)[2:]
    w_groups = w.reshape(groups, o // groups, -1)
    # (groups, C/groups*kh*kw, O/groups) @ (N, groups, O/groups, L): the columns' gradient
    cols = np.matmul(w_groups.transpose(0, 2, 1), g.reshape(n, groups, o // groups, oh * ow))
    cols = cols.reshape(n, x_shape[1], kernel[0], kernel[1], oh, ow)
    return _add_columns(cols, x_shape, kernel, stride, padding, dilation)


@conv2d_input_grad.defvjp(saves=("g", "w"))
def conv2d_input_grad_vjp(h, ans, g, w, *, x_shape, stride, padding, dilation, groups, needs):
    # <h, Bx*(g, w)> = <B(h, w), g> = <w, Bw*(h, g)>
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    g_bar = conv2d(h, w, None, **geometry) if needs[0] else None
    w_bar = conv2d_weight_grad(h, g, w_shape=np.shape(raw(w)), **geometry) if needs[1] else None
    return g_bar, w_bar


@conv2d_input_grad.defjvp
def conv2d_input_grad_jvp(tangents, ans, g, w, *, x_shape, stride, padding, dilation, groups):
    g_dot, w_dot = (tuple(tangents) + (None, None))[:2]
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = None
    if g_dot is not None:
        out = conv2d_input_grad(g_dot, w, x_shape=x_shape, **geometry)
    if w_dot is not None:
        term = conv2d_input_grad(g, w_dot, x_shape=x_shape, **geometry)
        out = term if out is None else out + term
    return out


# -- w_bar = Bw*(x, g) -------------------------------------------------------------------------


@primitive
def conv2d_weight_grad(x, g, *, w_shape, stride, padding, dilation, groups):
    """The adjoint of conv2d in its weight: what w receives from the output gradient g."""
    kernel = w_shape[2:]
    cols = _columns(x, kernel, stride, padding, dilation, groups)  # (N, G, CgK, L)
    n, o, oh, ow = np.shape(g)
    g_groups = g.reshape(n, groups, o // groups, oh * ow)
    # sum over samples of g_n @ cols_n^T: batched products summed, a chunk of samples at a
    # time so that the (samples, O, CgK) intermediate stays small
    per_sample = o * cols.shape[2]
    chunk = max(1, _CHUNK_ELEMENTS // per_sample)
    total = np.zeros((groups, o // groups, cols.shape[2]), dtype=np.result_type(x, g))
    for start in range(0, n, chunk):
        part = slice(start, start + chunk)
        total += np.matmul(g_groups[part], cols[part].transpose(0, 1, 3, 2)).sum(axis=0)
    return total.reshape(w_shape)


# the most elements conv2d_weight_grad's per-sample products may hold at once (16 MiB float32)
_CHUNK_ELEMENTS = 1 << 22


@conv2d_weight_grad.defvjp(saves=("x", "g"))
def conv2d_weight_grad_vjp(h, ans, x, g, *, w_shape, stride, padding, dilation, groups, needs):
    # <h, Bw*(x, g)> = <B(x, h), g> = <x, Bx*(g, h)>
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    x_bar = conv2d_input_grad(g, h, x_shape=np.shape(raw(x)), **geometry) if needs[0] else None
    g_bar = conv2d(x, h, None, **geometry) if needs[1] else None
    return x_bar, g_bar


@conv2d_weight_grad.defjvp
def conv2d_weight_grad_jvp(tangents, ans, x, g, *, w_shape, stride, padding, dilation, groups):
    x_dot, g_dot = (tuple(tangents) + (None, None))[:2]
    geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = None
    if x_dot is not None:
        out = conv2d_weight_grad(x_dot, g, w_shape=w_shape, **geometry)
    if g_dot is not None:
        term = conv2d_weight_grad(x, g_dot, w_shape=w_shape, **geometry)
        out = term if out is None else out + term
    return out
