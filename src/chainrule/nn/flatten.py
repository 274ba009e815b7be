"""Flatten: merge a range of axes into one (by default all but the batch axis).

>>> import chainrule as cr
>>> cr.nn.Flatten()(cr.zeros(2, 3, 4, 5)).shape
(2, 60)
"""

from __future__ import annotations

from chainrule import ops
from chainrule.nn.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Axes start_dim..end_dim merged into one.

    >>> import chainrule as cr
    >>> cr.nn.Flatten()(cr.zeros(4, 2, 3, 3)).shape        # keeps the batch dimension
    (4, 18)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size``: the inverse of Flatten.

    >>> import chainrule as cr
    >>> cr.nn.Unflatten(1, (2, 3))(cr.zeros(4, 6)).shape
    (4, 2, 3)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        shape = input.shape
        dim = self.dim % len(shape)
        return ops.reshape(input, shape[:dim] + self.unflattened_size + shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
