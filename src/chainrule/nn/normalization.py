"""BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's arguments, defaults, buffers and
running-statistics update.

BatchNorm normalises each channel by the batch's mean and (biased) variance in training,
and by running estimates in evaluation. The running estimates move by ``momentum``
(0.1) toward each batch's statistics, the variance's unbiased (as PyTorch):
running = (1 - momentum) running + momentum batch. With ``momentum=None`` they are plain
averages over all batches seen (``num_batches_tracked`` of them).

>>> import chainrule as cr
>>> bn = cr.nn.BatchNorm1d(3)
>>> list(bn.state_dict())
['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
>>> out = bn(cr.randn(8, 3))
>>> int(bn.num_batches_tracked), bool(abs(out.mean(axis=0)).max() < 1e-5)
(1, True)
"""

from __future__ import annotations

import numpy as np

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.linear import empty_parameter, layer_dtype
from chainrule.nn.module import Module
from chainrule.ops.core import raw
from chainrule.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input shapes they take."""

    _input_dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        dtype = layer_dtype(dtype, device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.has_bias = affine and bias
        if affine:
            self.weight = empty_parameter((num_features,), dtype)
        else:
            self.register_parameter("weight", None)
        if self.has_bias:
            self.bias = empty_parameter((num_features,), dtype)
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; weight ones and bias zeros (PyTorch's)."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _tolerates_missing(self, name: str) -> bool:
        # checkpoints written before PyTorch 0.4.1 have no num_batches_tracked; torch loads
        # them (and any plain dict) keeping the current count
        return name == "num_batches_tracked"

    def _check_input(self, input) -> None:
        shape = np.shape(raw(input))
        if len(shape) not in self._input_dims:
            dims = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"expected {dims} input (got {len(shape)}D input)")
        if shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels on axis 1, got "
                f"input of shape {shape}"
            )

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative average over the batches seen
                factor = 1.0 / float(self.num_batches_tracked.data)
        # batch statistics in training, or in evaluation when there are no running ones
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_running else None,
            self.running_var if keep_running else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.has_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    >>> import chainrule as cr
    >>> bn = cr.nn.BatchNorm1d(2)
    >>> y = bn(cr.tensor([[1.0, 10.0], [3.0, 30.0]]))      # each feature to mean 0, variance 1
    >>> y
    tensor([[-1., -1.],
            [ 1.,  1.]], op=add)
    """

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C.

    >>> import chainrule as cr
    >>> bn = cr.nn.BatchNorm2d(3)
    >>> y = bn(cr.randn(4, 3, 5, 5))
    >>> y.shape, bool(abs(float(y.mean())) < 1e-5)
    ((4, 3, 5, 5), True)
    """

    _input_dims = (4,)


class LayerNorm(Module):
    """Normalisation of each sample over its trailing ``normalized_shape`` axes, then an
    elementwise scale (ones) and shift (zeros).

    >>> import chainrule as cr
    >>> ln = cr.nn.LayerNorm(2)
    >>> ln(cr.tensor([[1.0, 3.0]]))                        # each row to mean 0, variance 1
    tensor([[-1.,  1.]], op=add)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = layer_dtype(dtype, device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.has_bias = elementwise_affine and bias
        if elementwise_affine:
            self.weight = empty_parameter(self.normalized_shape, dtype)
        else:
            self.register_parameter("weight", None)
        if self.has_bias:
            self.bias = empty_parameter(self.normalized_shape, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.has_bias}"
        )
