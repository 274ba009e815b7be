"""Datasets: anything with ``len()`` and ``[i]``, plus a fast path for whole batches.

A ``Dataset`` returns one sample per index. ``get_batch(indices)`` returns a collated batch;
the base class collates ``self[i]`` one by one, while ``TensorDataset`` indexes its arrays
once per batch (one NumPy fancy-indexing call per array), which is what makes a DataLoader
over arrays as fast as slicing them by hand.

>>> import numpy as np
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.array([0, 1, 0, 1, 1]))
>>> len(ds), ds[1]
(5, (tensor([2., 3.], dtype=float64), tensor(1)))
>>> ds.get_batch(np.array([4, 0]))
(tensor([[8., 9.],
        [0., 1.]], dtype=float64), tensor([1, 0]))
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from chainrule.creation import as_array
from chainrule.data.collate import default_collate
from chainrule.tensor import Tensor

__all__ = ["Dataset", "Subset", "TensorDataset"]


class Dataset(ABC):
    """A collection of samples: subclasses define ``__getitem__(i)`` and ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return float(i), float(i * i)
    >>> Squares().get_batch([1, 3])
    (tensor([1., 3.]), tensor([1., 9.]))
    """

    @abstractmethod
    def __getitem__(self, index):
        """The sample at ``index``."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""

    def get_batch(self, indices):
        """The samples at ``indices``, collated into a batch (override to fetch in one go)."""
        return default_collate([self[int(i)] for i in indices])


class TensorDataset(Dataset):
    """Samples are rows: sample ``i`` is ``(a[i] for a in arrays)``, as Tensors.

    Takes ndarrays or Tensors (their data, detached), all with the same first-axis length.
    Arrays keep their dtype, as in ``cr.tensor``.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> ds = cr.data.TensorDataset(np.array([[1.0], [2.0], [3.0]]), np.array([0, 1, 1]))
    >>> len(ds), ds[1]
    (3, (tensor([2.], dtype=float64), tensor(1)))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(as_array(t) for t in tensors)
        for position, array in enumerate(arrays):
            if array.ndim == 0:
                raise ValueError(
                    f"TensorDataset: array {position} is 0-d; every array needs a first axis "
                    "that indexes the samples"
                )
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            shapes = ", ".join(f"array {i}: {a.shape}" for i, a in enumerate(arrays))
            raise ValueError(
                f"TensorDataset: every array needs the same first-axis length (the number "
                f"of samples), got {shapes}"
            )
        self.arrays = arrays

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as PyTorch's ``TensorDataset.tensors``."""
        return tuple(Tensor._wrap(a) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> tuple[Tensor, ...]:
        # copies, so that changing a sample in place leaves the dataset as it was
        return tuple(Tensor._wrap(np.array(a[index])) for a in self.arrays)

    def get_batch(self, indices) -> tuple[Tensor, ...]:
        """Rows ``indices`` of every array: one fancy-indexing call per array."""
        indices = np.asarray(indices, dtype=np.intp)
        return tuple(Tensor._wrap(a.take(indices, axis=0)) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (what ``random_split`` returns).

    >>> import numpy as np
    >>> part = Subset(TensorDataset(np.array([10, 11, 12, 13])), [3, 1])
    >>> len(part), part[0], part.get_batch([0, 1])
    (2, (tensor(13),), (tensor([13, 11]),))
    """

    def __init__(self, dataset, indices):
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(f"Subset indices must be a 1-d sequence of ints, got {indices!r}")
        n = len(dataset)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"Subset indices must lie in [-{n}, {n}) for a dataset of {n}")
        self.dataset = dataset
        self.indices = indices.astype(np.intp)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        inner = self.indices[np.asarray(indices, dtype=np.intp)]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(inner)
        return default_collate([self.dataset[int(i)] for i in inner])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"
