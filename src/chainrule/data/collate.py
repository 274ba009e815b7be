"""Collating: a list of samples into one batch of Tensors.

>>> import numpy as np
>>> batch = default_collate([(np.array([1.0, 2.0]), 0), (np.array([3.0, 4.0]), 1)])
>>> batch
(tensor([[1., 2.],
        [3., 4.]], dtype=float64), tensor([0, 1]))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from chainrule.creation import as_array
from chainrule.tensor import Tensor

__all__ = ["default_collate"]


def default_collate(samples: list):
    """Stack ``samples`` along a new first axis, keeping their structure.

    Arrays, Tensors and numbers become one Tensor (arrays and NumPy numbers keep their
    dtype; Python floats take the default dtype and ints int64, as in ``cr.tensor``);
    tuples and lists become a tuple with one batch per position; dicts a dict with one
    batch per key; strings stay a list.
    The batch is new data: it does not require grad and shares no memory with the samples.

    >>> default_collate([{"x": 1.5, "label": "a"}, {"x": 2.5, "label": "b"}])
    {'x': tensor([1.5, 2.5]), 'label': ['a', 'b']}
    """
    if len(samples) == 0:
        raise ValueError("default_collate needs at least one sample")
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [s.data if isinstance(s, Tensor) else s for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"cannot stack samples of different shapes into a batch: {shapes}")
        return Tensor._wrap(np.stack(arrays))
    if isinstance(first, np.generic):  # NumPy numbers keep their dtype, as arrays do
        return Tensor._wrap(np.array(samples))
    if isinstance(first, (bool, int, float)):
        return Tensor._wrap(as_array(list(samples)))
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Sequence):
        lengths = {len(s) for s in samples}
        if len(lengths) > 1:
            raise ValueError(f"samples have different lengths {sorted(lengths)}: cannot batch")
        return tuple(default_collate(list(column)) for column in zip(*samples))
    raise TypeError(
        f"default_collate cannot batch samples of type {type(first).__name__}: "
        "pass a collate_fn to the DataLoader"
    )
