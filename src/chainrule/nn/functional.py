"""Layers as functions, PyTorch's ``torch.nn.functional``: the same names, arguments and
defaults. The losses live in ``chainrule.nn.losses`` and are re-exported here.

Inputs may be Tensors or ndarrays; results are Tensors when any input is one.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> x = cr.tensor([[1.0, -2.0, 3.0]])
>>> F.relu(x), F.softmax(x, dim=1).sum(dim=1)
(tensor([[1., 0., 3.]]), tensor([1.]))
>>> F.cross_entropy(cr.tensor([[2.0, 0.0, -1.0]]), cr.tensor([0]))
tensor(0.1698)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule import ops
from chainrule.autograd import no_grad
from chainrule.creation import default_generator
from chainrule.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from chainrule.ops import conv as _conv
from chainrule.ops import nn as _nn
from chainrule.ops import pool as _pool
from chainrule.ops.core import raw
from chainrule.tensor import Tensor

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]


def _pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair (PyTorch's _pair), checked."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _batched(x, op: str, unbatched_ndim: int = 3):
    """x with a batch axis added if it has none (PyTorch accepts (C, H, W) too)."""
    ndim = np.ndim(raw(x))
    if ndim == unbatched_ndim:
        return ops.unsqueeze(x, 0), True
    if ndim != unbatched_ndim + 1:
        raise ValueError(
            f"{op}: expected a {unbatched_ndim}-D or {unbatched_ndim + 1}-D input, got shape "
            f"{np.shape(raw(x))}"
        )
    return x, False


# -- linear, convolution, pooling --------------------------------------------------------------


def linear(input, weight, bias=None):
    """input @ weight.T + bias, weight of shape (out_features, in_features).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([[1.0, 2.0]])                 # one sample, 2 features
    >>> w = cr.tensor([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])   # 3 outputs
    >>> F.linear(x, w, cr.tensor([0.5, 0.0, 0.0]))
    tensor([[3.5, 2.0, 2.0]])
    """
    return _nn.linear(input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (O, C / groups, kh, kw). ``padding`` is an int, a pair, ``"valid"`` or ``"same"``.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> image = cr.arange(16.0).reshape(1, 1, 4, 4)  # 0 .. 15, row by row
    >>> F.conv2d(image, cr.ones((1, 1, 2, 2)))      # the sum of each 2x2 window
    tensor([[[[10., 14., 18.],
              [26., 30., 34.],
              [42., 46., 50.]]]])
    >>> F.conv2d(image, cr.ones((1, 1, 3, 3)), padding="same").shape
    (1, 1, 4, 4)
    """
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    kernel = np.shape(raw(weight))[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            # PyTorch puts the odd one out of an even total at the end
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise ValueError(f"conv2d: padding must be 'valid', 'same' or ints, got {padding!r}")
    else:
        pads = tuple((p, p) for p in _pair(padding, "padding"))
    x, unbatched = _batched(input, "conv2d")
    out = _conv.conv2d(
        x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups
    )
    return ops.squeeze(out, 0) if unbatched else out


def _pool_args(kernel_size, stride, padding, dilation):
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else _pair(stride, "stride")
    return kernel, stride, _pair(padding, "padding"), _pair(dilation, "dilation")


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The largest value of each window; ``stride`` defaults to ``kernel_size``. With
    ``return_indices``, also each maximum's flat index in its H * W input plane.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> image = cr.arange(16.0).reshape(1, 1, 4, 4)  # 0 .. 15, row by row
    >>> F.max_pool2d(image, 2)                      # the bottom-right of each 2x2 block
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    kernel, stride, padding, dilation = _pool_args(kernel_size, stride, padding, dilation)
    geometry = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    out = _pool.max_pool2d(input, ceil_mode=bool(ceil_mode), **geometry)
    if not return_indices:
        return out
    indices = _pool.max_pool2d_indices(input, ceil_mode=bool(ceil_mode), **geometry)
    return out, Tensor._wrap(indices)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
):
    """The mean of each window; ``stride`` defaults to ``kernel_size``.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> image = cr.arange(16.0).reshape(1, 1, 4, 4)  # 0 .. 15, row by row
    >>> F.avg_pool2d(image, 2)                      # the mean of each 2x2 block
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
    """
    kernel, stride, padding, _ = _pool_args(kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    return _pool.avg_pool2d(
        input,
        kernel=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )


# -- activations -------------------------------------------------------------------------------


def relu(input, inplace: bool = False):
    """max(x, 0). (``inplace`` is accepted for PyTorch's signature; the result is new.)

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.relu(cr.tensor([-2.0, 0.0, 3.0]))
    tensor([0., 0., 3.])
    """
    return ops.relu(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x above 0, negative_slope * x below.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.leaky_relu(cr.tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    return ops.leaky_relu(input, negative_slope)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x above 0, alpha * (exp(x) - 1) below.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.elu(cr.tensor([-1.0, 3.0]))               # e**-1 - 1 below 0
    tensor([-0.6321,  3.0000])
    """
    return ops.elu(input, alpha)


def gelu(input, approximate: str = "none"):
    """x * Phi(x), exact (erf) by default, or ``approximate="tanh"``.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.gelu(cr.tensor([0.0, 1.0]))               # 1 * P(N(0, 1) < 1) = 0.8413
    tensor([0.0000, 0.8413])
    """
    return ops.gelu(input, approximate)


def silu(input, inplace: bool = False):
    """x * sigmoid(x) (the swish).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> F.silu(x).sum().backward()
    >>> x.grad                                      # sigmoid(0) + 0 * sigmoid'(0)
    tensor([0.5])
    """
    return input * ops.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> F.tanh(x).sum().backward()
    >>> x.grad                                      # 1 - tanh(0)**2
    tensor([1.])
    """
    return ops.tanh(input)


def sigmoid(input):
    """1 / (1 + exp(-x)), without overflow.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.sigmoid(cr.tensor([0.0, -1000.0]))
    tensor([0.5, 0.0])
    """
    return ops.sigmoid(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.softplus(cr.tensor([0.0, 100.0]))         # log 2; and x itself for large x
    tensor([  0.6931, 100.0000])
    """
    return ops.softplus(input, beta, threshold)


def _softmax_dim(ndim: int, name: str) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, without overflow.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.softmax(cr.tensor([[0.0, 0.0], [1.0, 3.0]]), dim=1).sum(dim=1)   # each row sums to 1
    tensor([1., 1.])
    """
    if dtype is not None:
        input = ops.astype(input, np.dtype(dtype))
    if dim is None:
        dim = _softmax_dim(np.ndim(raw(input)), "softmax")
    return ops.softmax(input, dim=dim)


def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along ``dim``, without overflow.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.log_softmax(cr.tensor([[0.0, 0.0]]), dim=1)   # log(1/2) each
    tensor([[-0.6931, -0.6931]])
    """
    if dtype is not None:
        input = ops.astype(input, np.dtype(dtype))
    if dim is None:
        dim = _softmax_dim(np.ndim(raw(input)), "log_softmax")
    return ops.log_softmax(input, dim=dim)


# -- dropout -----------------------------------------------------------------------------------


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted
    dropout), drawing from the generator ``cr.manual_seed`` sets; the identity unless
    ``training``.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> _ = cr.manual_seed(0)
    >>> F.dropout(cr.ones(6), p=0.5)                # the kept ones doubled: the mean stays 1
    tensor([2., 2., 2., 0., 0., 0.])
    >>> F.dropout(cr.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    x = raw(input)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
    if p == 1.0:
        return input * np.zeros(x.shape, dtype=dtype)
    keep = default_generator().random(x.shape, dtype=np.float32) >= np.float32(p)
    mask = keep.astype(dtype)
    mask *= dtype.type(1.0 / (1.0 - p))
    return input * mask


# -- normalisation -----------------------------------------------------------------------------


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum=0.1,
    eps: float = 1e-5,
):
    """Normalise each channel (axis 1) by its mean and variance: the batch's in training
    (updating the running statistics in place, with the unbiased variance, as PyTorch), the
    running ones otherwise. Then scale by weight and shift by bias, per channel.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([[1.0], [3.0]])               # 2 samples, 1 channel: mean 2, variance 1
    >>> running_mean, running_var = cr.zeros(1), cr.ones(1)
    >>> F.batch_norm(x, running_mean, running_var, training=True)
    tensor([[-1.],
            [ 1.]])
    >>> running_mean, running_var                   # moved 10% of the way to 2 and to 2
    (tensor([0.2]), tensor([1.1]))
    """
    x = input
    shape = np.shape(raw(x))
    if len(shape) < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2-D (N, C), got {shape}")
    axes = (0,) + tuple(range(2, len(shape)))
    per_channel = (1, shape[1]) + (1,) * (len(shape) - 2)
    if training:
        count = math.prod(shape) // shape[1]
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {shape}"
            )
        mean = ops.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        var = ops.mean(centred * centred, axis=axes, keepdims=True)
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, raw(mean), momentum, 1.0)
            _update_running(running_var, raw(var), momentum, count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        mean = ops.reshape(running_mean, per_channel)
        var = ops.reshape(running_var, per_channel)
        centred = x - mean
    out = centred / ops.sqrt(var + eps)
    if weight is not None:
        out = out * ops.reshape(weight, per_channel)
    if bias is not None:
        out = out + ops.reshape(bias, per_channel)
    return out


def _update_running(running, batch_value: np.ndarray, factor: float, correction: float):
    """running = (1 - factor) * running + factor * batch statistic, in place, off the graph."""
    if running is None:
        return
    array = raw(running)
    statistic = batch_value.reshape(array.shape) * correction
    array *= 1 - factor
    array += factor * statistic


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing ``normalized_shape`` axes of each sample (biased
    variance), then scale by weight and shift by bias (both of normalized_shape).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.layer_norm(cr.tensor([[1.0, 3.0], [10.0, 30.0]]), 2)   # each row: mean 0, variance 1
    tensor([[-1.,  1.],
            [-1.,  1.]])
    """
    normalized_shape = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    shape = np.shape(raw(input))
    count = len(normalized_shape)
    if count == 0 or shape[len(shape) - count :] != normalized_shape:
        raise ValueError(
            f"layer_norm: normalized_shape {normalized_shape} must match the trailing axes of "
            f"the input, whose shape is {shape}"
        )
    axes = tuple(range(len(shape) - count, len(shape)))
    mean = ops.mean(input, axis=axes, keepdims=True)
    centred = input - mean
    var = ops.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# -- embedding and encodings -------------------------------------------------------------------


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Rows of ``weight`` at the integer indices ``input``; the row ``padding_idx`` gets no
    gradient. With ``max_norm``, rows looked up whose norm exceeds it are first scaled down
    to it, in place (PyTorch's renorm).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> table = cr.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> F.embedding(cr.tensor([2, 0, 2]), table).sum().backward()
    >>> table.grad                                  # row 2 looked up twice, row 1 never
    tensor([[1., 1.],
            [0., 0.],
            [2., 2.]])
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    indices = np.asarray(raw(input))
    rows = np.shape(raw(weight))[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings")
        padding_idx = padding_idx % rows
    if max_norm is not None:
        _renorm_rows(raw(weight), indices, max_norm, norm_type)
    return _nn.embedding(weight, indices, padding_idx)


def _renorm_rows(weight: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float):
    with no_grad():
        picked = np.unique(indices)
        norms = np.linalg.norm(weight[picked], ord=norm_type, axis=1)
        too_long = norms > max_norm
        scale = max_norm / (norms[too_long] + 1e-7)
        weight[picked[too_long]] *= scale[:, None].astype(weight.dtype)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices as one-hot rows: int64, of shape tensor.shape + (num_classes,).

    >>> one_hot(np.array([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    indices = np.asarray(raw(tensor))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors, got {indices.dtype}")
    if indices.size and indices.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    if indices.size and indices.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes {num_classes}")
    return Tensor._wrap((indices[..., None] == np.arange(num_classes)).astype(np.int64))


def pad(input, pad, mode: str = "constant", value=None):
    """PyTorch's pad: ``pad`` lists (before, after) pairs from the last axis backwards.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> x = cr.tensor([[1.0, 2.0]])
    >>> F.pad(x, (1, 1))                            # the last axis: one zero on each side
    tensor([[0., 1., 2., 0.]])
    >>> F.pad(x, (0, 0, 1, 0)).shape                # then the axis before it: one row on top
    (2, 2)
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(pad)
    ndim = np.ndim(raw(input))
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"pad: {pad} must hold (before, after) pairs for at most {ndim} axes")
    widths = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        widths[ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return ops.pad(input, widths, 0.0 if value is None else value)
