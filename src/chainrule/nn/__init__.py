"""Neural networks, PyTorch's ``torch.nn``: Module and Parameter, containers, layers,
losses, ``functional``, ``init`` and ``utils``, with PyTorch's names, defaults, formulas,
parameter layouts and state_dict keys.

>>> import chainrule as cr
>>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
>>> loss = cr.nn.functional.cross_entropy(model(cr.randn(5, 4)), cr.tensor([0, 2, 1, 1, 0]))
>>> loss.backward()
>>> [tuple(p.grad.shape) for p in model.parameters()]
[(8, 4), (8,), (3, 8), (3,)]
"""

from chainrule.nn import functional, init, metrics, utils
from chainrule.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.container import ModuleDict, ModuleList, Sequential
from chainrule.nn.conv import Conv2d
from chainrule.nn.dropout import Dropout
from chainrule.nn.embedding import Embedding
from chainrule.nn.flatten import Flatten, Unflatten
from chainrule.nn.history import History
from chainrule.nn.linear import Identity, Linear
from chainrule.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.nn.pooling import AvgPool2d, MaxPool2d
from chainrule.nn.training import evaluate, fit

__all__ = [
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "History",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "evaluate",
    "fit",
    "functional",
    "init",
    "metrics",
    "utils",
]
