"""Toy datasets made with NumPy: two moons, two circles, spirals, and the course's three
points on a line.

Each returns ``(X, y)``: X of shape (n_samples, 2) in the default dtype (float32 unless
``cr.set_default_dtype`` changed it, or ``dtype=``), y the int64 class of each point.
``noise`` is the standard deviation of Gaussian noise added to every coordinate; the
randomness comes from ``seed`` or, if None, from ``cr.manual_seed``.

>>> X, y = make_moons(6, shuffle=False)
>>> np.round(X, 2).tolist()
[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 0.5], [1.0, -0.5], [2.0, 0.5]]
>>> y.tolist()
[0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import numpy as np

from chainrule.creation import get_default_dtype
from chainrule.data.seeding import generator_from

__all__ = ["linear_points", "make_circles", "make_moons", "make_spirals"]


def make_moons(
    n_samples: int = 100, noise: float = 0.0, seed=None, shuffle: bool = True, dtype=None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's geometry): class 0 the upper half of
    the unit circle, class 1 the lower half of a unit circle centred at (1, 0.5).

    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> X.shape, X.dtype, np.bincount(y).tolist()
    ((200, 2), dtype('float32'), [100, 100])
    """
    n_outer, n_inner = _two_sizes(n_samples)
    _check_noise(noise)
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),
            np.stack([1 - np.cos(inner), 0.5 - np.sin(inner)], axis=1),
        ]
    )
    y = np.repeat(np.array([0, 1]), [n_outer, n_inner])
    return _finish(X, y, noise, seed, shuffle, dtype)


def make_circles(
    n_samples: int = 100,
    noise: float = 0.0,
    factor: float = 0.8,
    seed=None,
    shuffle: bool = True,
    dtype=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (scikit-learn's geometry): class 0 on the unit circle,
    class 1 on the circle of radius ``factor``, each evenly spaced from angle 0.

    >>> X, y = make_circles(8, factor=0.5, shuffle=False)
    >>> np.round(np.hypot(X[:, 0], X[:, 1]), 3).tolist(), y.tolist()
    ([1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5], [0, 0, 0, 0, 1, 1, 1, 1])
    """
    if not 0 <= factor < 1:
        raise ValueError(f"factor (the inner circle's radius) must be in [0, 1), got {factor}")
    n_outer, n_inner = _two_sizes(n_samples)
    _check_noise(noise)
    outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),
            factor * np.stack([np.cos(inner), np.sin(inner)], axis=1),
        ]
    )
    y = np.repeat(np.array([0, 1]), [n_outer, n_inner])
    return _finish(X, y, noise, seed, shuffle, dtype)


def make_spirals(
    n_samples: int = 100,
    n_classes: int = 2,
    noise: float = 0.0,
    seed=None,
    shuffle: bool = True,
    dtype=None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms, one per class (classes differ by at most one
    point in size). Arm k's j-th of m points lies at radius r = (j + 1/2)/m and angle
    2*pi*(k/n_classes + r): each arm makes one full turn from near the centre out to
    radius 1, the arms rotated evenly apart.

    >>> X, y = make_spirals(300, n_classes=3, seed=0)
    >>> X.shape, np.bincount(y).tolist(), bool(np.hypot(X[:, 0], X[:, 1]).max() < 1)
    ((300, 2), [100, 100, 100], True)
    """
    n_samples = _positive_int(n_samples, "n_samples")
    n_classes = _positive_int(n_classes, "n_classes")
    if n_samples < n_classes:
        raise ValueError(f"make_spirals: {n_samples} samples cannot fill {n_classes} classes")
    _check_noise(noise)
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    y = np.repeat(np.arange(n_classes), sizes)
    # position of each point along its arm: j + 1/2 of m, never exactly at the centre,
    # so no two classes share a point
    position = np.concatenate([np.arange(m) for m in sizes])
    radius = (position + 0.5) / sizes[y]
    angle = 2 * np.pi * (y / n_classes + radius)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _finish(X, y, noise, seed, shuffle, dtype)


def linear_points(dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """The course's three points (1, 3), (2, 5), (3, 7), to fit a line to: returns ``x, y``.

    They lie exactly on y = 2x + 1; the best line through the origin, y = wx, has
    w = sum(x*y)/sum(x*x) = 34/14, about 2.43.

    >>> x, y = linear_points()
    >>> x.tolist(), y.tolist(), x.dtype
    ([1.0, 2.0, 3.0], [3.0, 5.0, 7.0], dtype('float32'))
    """
    dtype = get_default_dtype() if dtype is None else dtype
    return np.array([1.0, 2.0, 3.0], dtype=dtype), np.array([3.0, 5.0, 7.0], dtype=dtype)


def _positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def _two_sizes(n_samples) -> tuple[int, int]:
    # as scikit-learn: the outer class gets the smaller half
    n_samples = _positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2 (one per class), got {n_samples}")
    return n_samples // 2, n_samples - n_samples // 2


def _check_noise(noise) -> None:
    if noise is None:
        return
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise (a standard deviation) must be >= 0, got {noise}")


def _finish(X, y, noise, seed, shuffle, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = generator_from(seed) if shuffle or noise else None
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X.astype(get_default_dtype() if dtype is None else dtype), y.astype(np.int64)
