"""DataLoader: a dataset in batches, shuffled anew each epoch if asked.

>>> import numpy as np
>>> import chainrule as cr
>>> ds = cr.data.TensorDataset(np.arange(5.0), np.array([0, 1, 0, 1, 1]))
>>> loader = cr.data.DataLoader(ds, batch_size=2)
>>> len(loader)
3
>>> for xb, yb in loader:
...     print(xb.numpy(), yb.numpy())
[0. 1.] [0 1]
[2. 3.] [0 1]
[4.] [1]
"""

from __future__ import annotations

import numpy as np

from chainrule.data.collate import default_collate
from chainrule.data.seeding import generator_from

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Each batch is collated into Tensors (a tuple of Tensors for a ``TensorDataset``; see
    ``default_collate`` for other samples). A dataset with ``get_batch(indices)`` (such as
    ``TensorDataset`` and ``Subset``) is asked for the whole batch at once, so arrays are
    indexed once per batch, never sample by sample; ``collate_fn(list_of_samples)`` replaces
    that and sees the samples one by one.

    ``shuffle=True`` draws a new permutation at the start of each epoch (each ``iter()``):
    from a Generator made once from ``seed``, or, if ``seed`` is None, from the generator
    ``cr.manual_seed`` sets, so runs are reproducible either way. ``drop_last=True`` skips
    a last batch smaller than ``batch_size``. ``len(loader)`` is the number of batches.

    >>> import chainrule as cr
    >>> ds = cr.data.TensorDataset(np.arange(6))
    >>> loader = cr.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> [xb.numpy().tolist() for (xb,) in loader]
    [[3, 2, 5, 4], [0, 1]]
    >>> [xb.numpy().tolist() for (xb,) in loader]   # the next epoch, a new order
    [[4, 5, 1, 2], [0, 3]]
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed=None,
        collate_fn=None,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"a DataLoader needs a dataset with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.collate_fn = collate_fn
        # one generator for the loader's life: each epoch continues its stream, so epochs
        # differ and the whole sequence of epochs repeats for the same seed
        self._generator = None if seed is None else generator_from(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        # the order is drawn here, when the epoch starts, not at the first next()
        return self._batches(self._order())

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        generator = self._generator if self._generator is not None else generator_from(None)
        return generator.permutation(n)

    def _batches(self, order: np.ndarray):
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._fetch(order[start : start + self.batch_size])

    def _fetch(self, indices: np.ndarray):
        if self.collate_fn is not None:
            return self.collate_fn([self.dataset[int(i)] for i in indices])
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None:
            return get_batch(indices)
        return default_collate([self.dataset[int(i)] for i in indices])

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
