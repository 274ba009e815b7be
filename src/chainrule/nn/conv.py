"""Conv2d: the 2-D convolution layer (PyTorch's cross-correlation).

Weight (out_channels, in_channels / groups, kh, kw) and bias (out_channels,), with
PyTorch's default initialisation: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) with fan_in = in_channels / groups * kh * kw, and the bias likewise.

>>> import chainrule as cr
>>> conv = cr.nn.Conv2d(3, 8, kernel_size=3, padding=1)
>>> conv
Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> conv(cr.randn(2, 3, 16, 16)).shape
(2, 8, 16, 16)
"""

from __future__ import annotations

import math

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.functional import _pair
from chainrule.nn.linear import empty_parameter, layer_dtype, uniform_bias_
from chainrule.nn.module import Module

__all__ = ["Conv2d"]


class Conv2d(Module):
    """2-D convolution over (N, C, H, W) inputs (or unbatched (C, H, W)).

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(1, 4, kernel_size=3, padding=1)
    >>> conv(cr.zeros(2, 1, 8, 8)).shape                   # (batch, channels, height, width)
    (2, 4, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = layer_dtype(dtype, device)
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"Conv2d: padding must be 'valid', 'same' or ints, got {padding!r}"
                )
            if padding == "same" and _pair(stride, "stride") != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = empty_parameter(
            (out_channels, in_channels // groups) + self.kernel_size, dtype
        )
        if bias:
            self.bias = empty_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the module docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            uniform_bias_(self.bias, fan_in)

    def forward(self, input):
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        # PyTorch's: defaults left out
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
