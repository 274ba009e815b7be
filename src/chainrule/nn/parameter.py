"""Parameter: a Tensor that a Module registers as one of its learnable weights.

A Parameter is a Tensor in every respect (operations on it are recorded, ``.grad`` fills on
backward); assigning one to a Module attribute is what makes it show up in
``parameters()`` and ``state_dict()``.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(2))
>>> w
Parameter containing:
tensor([0., 0.], requires_grad=True)
>>> isinstance(w, cr.Tensor), (w * 2).requires_grad
(True, True)
"""

from __future__ import annotations

import numpy as np

from chainrule.creation import as_array, get_default_dtype
from chainrule.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A learnable Tensor (requires grad by default). Built from a Tensor, it shares that
    Tensor's memory, as in PyTorch; built from anything else, it holds a copy.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2))
    >>> w.requires_grad, isinstance(w, cr.Tensor)
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = np.empty((0,), dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.data
        else:
            array = np.array(as_array(data), copy=True)
        super().__init__(array)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
