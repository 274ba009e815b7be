"""Activation layers: ReLU, LeakyReLU, ELU, GELU, SiLU, Tanh, Sigmoid, Softplus, Softmax,
LogSoftmax, with PyTorch's arguments and reprs.

``inplace=True`` is accepted (so PyTorch code runs) but the result is always a new tensor:
chainrule never overwrites a value the graph may need.

>>> import chainrule as cr
>>> cr.nn.LeakyReLU(0.1)(cr.tensor([-1.0, 2.0]))
tensor([-0.1,  2.0])
>>> cr.nn.Softmax(dim=1)
Softmax(dim=1)
"""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = [
    "ELU",
    "GELU",
    "LeakyReLU",
    "LogSoftmax",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


class ReLU(Module):
    """max(x, 0).

    >>> import chainrule as cr
    >>> cr.nn.ReLU()(cr.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise.

    >>> import chainrule as cr
    >>> cr.nn.LeakyReLU(0.1)(cr.tensor([-2.0, 3.0]))
    tensor([-0.2,  3.0])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    >>> import chainrule as cr
    >>> cr.nn.ELU()(cr.tensor([-1.0, 0.0, 1.0]))           # alpha (e^x - 1) below 0
    tensor([-0.6321,  0.0000,  1.0000])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x) (exact), or its tanh approximation with ``approximate="tanh"``.

    >>> import chainrule as cr
    >>> cr.nn.GELU()(cr.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x).

    >>> import chainrule as cr
    >>> cr.nn.SiLU()(cr.tensor([0.0, 1.0]))                # x sigmoid(x)
    tensor([0.0000, 0.7311])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """The hyperbolic tangent.

    >>> import chainrule as cr
    >>> cr.nn.Tanh()(cr.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7616])
    """

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    >>> import chainrule as cr
    >>> cr.nn.Sigmoid()(cr.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8808])
    """

    def forward(self, input):
        return F.sigmoid(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``.

    >>> import chainrule as cr
    >>> cr.nn.Softplus()(cr.tensor([0.0]))                 # log(1 + e^0) = log 2
    tensor([0.6931])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``.

    >>> import chainrule as cr
    >>> cr.nn.Softmax(dim=1)(cr.tensor([[0.0, 0.0], [0.0, 1.0]]))
    tensor([[0.5000, 0.5000],
            [0.2689, 0.7311]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - logsumexp(x) along ``dim``.

    >>> import chainrule as cr
    >>> cr.nn.LogSoftmax(dim=1)(cr.tensor([[0.0, 0.0]]))   # log(1/2)
    tensor([[-0.6931, -0.6931]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
