"""Dropout: in training, each element zeroed with probability p and the rest scaled by
1 / (1 - p) (inverted dropout, so evaluation needs no rescaling); the identity in eval.

The mask is drawn from the generator that ``cr.manual_seed`` sets, so seeded runs repeat.

>>> import chainrule as cr
>>> drop = cr.nn.Dropout(p=0.5)
>>> _ = cr.manual_seed(0)
>>> sorted(set(drop(cr.ones(1000)).tolist()))
[0.0, 2.0]
>>> drop.eval()(cr.ones(3))
tensor([1., 1., 1.])
"""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zero elements with probability ``p`` while training.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> y = cr.nn.Dropout(0.5)(cr.ones(1000))              # training mode: zeros, the rest doubled
    >>> sorted(set(y.tolist())), bool(0.4 < float((y == 0).mean()) < 0.6)
    ([0.0, 2.0], True)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
