"""chainrule: derivatives, gradients, the chain rule and backpropagation, visible and fast.

>>> import chainrule as cr
>>> x = cr.Scalar(3.0)
>>> (x ** 2).backward()
>>> x.grad
6.0
"""

from chainrule._version import __version__
from chainrule.graph import topological_order
from chainrule.scalar import Scalar

__all__ = ["Scalar", "__version__", "topological_order"]
