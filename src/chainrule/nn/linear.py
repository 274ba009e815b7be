"""Linear (the affine layer y = x W^T + b) and Identity.

The weight has PyTorch's layout, (out_features, in_features), and PyTorch's default
initialisation: kaiming_uniform_(a=sqrt(5)), which is U(-1/sqrt(in), 1/sqrt(in)), and the
bias U(-1/sqrt(in), 1/sqrt(in)).

>>> import chainrule as cr
>>> layer = cr.nn.Linear(3, 2)
>>> layer
Linear(in_features=3, out_features=2, bias=True)
>>> layer.weight.shape, layer(cr.randn(5, 3)).shape
((2, 3), (5, 2))
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.creation import get_default_dtype
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

__all__ = ["Identity", "Linear", "empty_parameter", "layer_dtype"]


def layer_dtype(dtype=None, device=None) -> np.dtype:
    """A layer's parameter dtype: the one given, else ``cr.get_default_dtype()``."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"chainrule runs on the CPU only, got device {device!r}")
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"layer parameters must be floating point, got dtype {dtype}")
    return dtype


def empty_parameter(shape: tuple, dtype) -> Parameter:
    """An uninitialised Parameter (its layer's reset_parameters fills it)."""
    return Parameter(Tensor._wrap(np.empty(shape, dtype=dtype)))


def uniform_bias_(bias: Tensor, fan_in: int) -> None:
    """PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (0 if fan_in is 0)."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input (a placeholder layer); takes and ignores any arguments.

    >>> import chainrule as cr
    >>> cr.nn.Identity()(cr.tensor([1.0, 2.0]))
    tensor([1., 2.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features).

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> layer = cr.nn.Linear(3, 2)                   # y = x W^T + b
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    >>> layer(cr.ones(5, 3)).shape
    (5, 2)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        dtype = layer_dtype(dtype, device)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the module docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            uniform_bias_(self.bias, self.in_features)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
