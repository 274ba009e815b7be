"""Where the data package's randomness comes from: a seed, a Generator, or ``cr.manual_seed``."""

from __future__ import annotations

import numpy as np

from chainrule.creation import default_generator

__all__ = ["generator_from"]


def generator_from(seed) -> np.random.Generator:
    """A Generator for ``seed``: None draws from the one ``cr.manual_seed`` set.

    >>> a = generator_from(3).permutation(5)
    >>> b = generator_from(3).permutation(5)
    >>> bool((a == b).all())
    True
    """
    if seed is None:
        return default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(int(seed))
