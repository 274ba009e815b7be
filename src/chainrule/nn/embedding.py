"""Embedding: a table of vectors looked up by integer index (a word's, a class's).

The weight (num_embeddings, embedding_dim) starts as N(0, 1), PyTorch's default; the row
``padding_idx`` starts at zero and gets no gradient.

>>> import chainrule as cr
>>> table = cr.nn.Embedding(10, 3, padding_idx=0)
>>> table
Embedding(10, 3, padding_idx=0)
>>> table(cr.tensor([[1, 0, 4]])).shape, table.weight[0].tolist()
((1, 3, 3), [0.0, 0.0, 0.0])
"""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.linear import empty_parameter, layer_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    >>> import chainrule as cr
    >>> emb = cr.nn.Embedding(10, 3)                       # 10 rows of 3 numbers
    >>> emb(cr.tensor([1, 4, 1])).shape
    (3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = layer_dtype(dtype, device)
        if scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: scale_grad_by_freq and sparse are not supported")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"{num_embeddings}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = empty_parameter((num_embeddings, embedding_dim), dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                    f"{(num_embeddings, embedding_dim)}"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """N(0, 1), the padding row zero (PyTorch's)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None, norm_type=2.0
    ) -> Embedding:
        """An Embedding holding the given 2-D table (frozen unless ``freeze=False``)."""
        embeddings = embeddings if isinstance(embeddings, Tensor) else Tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embeddings parameter is expected to be 2-dimensional, got {embeddings.shape}"
            )
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            _weight=embeddings,
            _freeze=freeze,
            dtype=embeddings.dtype,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text
