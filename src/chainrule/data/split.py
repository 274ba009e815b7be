"""Splitting data: ``random_split`` for datasets (PyTorch) and ``train_test_split`` for
arrays (scikit-learn's semantics, without scikit-learn).

>>> import numpy as np
>>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=0)
>>> X_train.shape, X_test.shape, sorted(y_train.tolist() + y_test.tolist()) == list(range(10))
((7, 2), (3, 2), True)
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.data.dataset import Subset
from chainrule.data.seeding import generator_from
from chainrule.tensor import Tensor

__all__ = ["random_split", "train_test_split"]


def random_split(dataset, lengths, seed=None) -> list[Subset]:
    """Split ``dataset`` at random into ``Subset``s of the given ``lengths``.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that add up to 1;
    fractions are rounded down and the samples left over go one each to the first parts,
    as in PyTorch. The permutation comes from ``seed`` or, if None, from ``cr.manual_seed``.

    >>> import chainrule as cr
    >>> train, val = random_split(cr.data.TensorDataset(np.arange(10)), [0.75, 0.25], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    counts = _split_counts(list(lengths), n)
    order = generator_from(seed).permutation(n)
    stops = np.cumsum(counts)
    return [Subset(dataset, order[stop - count : stop]) for count, stop in zip(counts, stops)]


def _split_counts(lengths: list, n: int) -> list[int]:
    if not lengths:
        raise ValueError("random_split needs at least one length")
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(
                f"random_split: lengths {lengths} must be >= 0 and add up to the dataset's "
                f"length {n}"
            )
        return [int(x) for x in lengths]
    fractions = [float(x) for x in lengths]
    if any(not 0 <= f <= 1 for f in fractions) or not math.isclose(sum(fractions), 1.0):
        raise ValueError(
            f"random_split: fractions {lengths} must each lie in [0, 1] and add up to 1 "
            "(or give counts that add up to the dataset's length)"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def train_test_split(
    *arrays, test_size=None, train_size=None, seed=None, shuffle: bool = True, stratify=None
) -> list:
    """Split arrays (same first-axis length) into train and test parts: returns
    ``[a_train, a_test, b_train, b_test, ...]``, as scikit-learn's function does.

    ``test_size`` and ``train_size`` are fractions in (0, 1) or counts; a fraction of the
    test set is rounded up, of the train set down; give one and the other is the rest;
    give neither and the test set is 25%. ``shuffle=False`` takes the first samples for
    training and the next ones for testing. ``stratify=labels`` keeps each label's share
    the same in both parts (largest remainders decide the rounding, ties at random).
    Tensors come back as Tensors, ndarrays as ndarrays, anything else as ndarrays.
    Randomness comes from ``seed`` or, if None, from ``cr.manual_seed``.

    >>> y = np.array([0] * 8 + [1] * 4)
    >>> y_train, y_test = train_test_split(y, test_size=0.25, stratify=y, seed=1)
    >>> np.bincount(y_train).tolist(), np.bincount(y_test).tolist()
    ([6, 3], [2, 1])
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = _common_length(arrays)
    n_train, n_test = _train_test_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("stratify needs shuffle=True (a stratified split is random)")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is None:
        order = generator_from(seed).permutation(n)
        test, train = order[:n_test], order[n_test : n_test + n_train]
    else:
        # np.asarray, not as_array: labels may be strings
        labels = stratify.data if isinstance(stratify, Tensor) else np.asarray(stratify)
        if labels.shape[:1] != (n,):
            raise ValueError(f"stratify needs one label per sample ({n}), got shape {labels.shape}")
        train, test = _stratified_indices(labels, n_train, n_test, generator_from(seed))
    parts = []
    for array in arrays:
        parts.extend([_take(array, train), _take(array, test)])
    return parts


def _common_length(arrays) -> int:
    lengths = []
    for array in arrays:
        if isinstance(array, (Tensor, np.ndarray)) and array.ndim == 0:
            raise ValueError("train_test_split: 0-d arrays have no samples to split")
        lengths.append(len(array))
    if len(set(lengths)) > 1:
        raise ValueError(
            f"train_test_split: every array needs the same number of samples, got {lengths}"
        )
    return lengths[0]


def _train_test_sizes(n: int, test_size, train_size) -> tuple[int, int]:
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = _size(test_size, n, "test_size", math.ceil)
    n_train = _size(train_size, n, "train_size", math.floor)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(
            f"train_test_split: {n_train} train + {n_test} test samples exceed the {n} there are"
        )
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"train_test_split of {n} samples with test_size={test_size}, "
            f"train_size={train_size} leaves the {'train' if n_train == 0 else 'test'} set "
            "empty: adjust the sizes"
        )
    return n_train, n_test


def _size(size, n: int, name: str, rounding) -> int | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if not 0 < size < n:
            raise ValueError(f"{name}={size} must be between 1 and {n - 1} for {n} samples")
        return int(size)
    if isinstance(size, (float, np.floating)):
        if not 0.0 < size < 1.0:
            raise ValueError(f"{name}={size} must be a fraction in (0, 1) or a count")
        return int(rounding(size * n))
    raise TypeError(f"{name} must be a fraction, a count or None, got {size!r}")


def _stratified_indices(labels, n_train: int, n_test: int, rng) -> tuple[np.ndarray, ...]:
    classes, label_of = np.unique(labels, return_inverse=True)
    label_of = label_of.reshape(-1)
    class_counts = np.bincount(label_of)
    if class_counts.min() < 2:
        rare = classes[class_counts.argmin()]
        raise ValueError(
            f"stratify: label {rare!r} has a single sample; every label needs at least 2"
        )
    if min(n_train, n_test) < len(classes):
        raise ValueError(
            f"stratify: {len(classes)} labels need at least that many samples in each part, "
            f"got {n_train} train and {n_test} test"
        )
    train_counts = _apportion(class_counts, n_train, rng)
    test_counts = _apportion(class_counts - train_counts, n_test, rng)
    members = np.split(np.argsort(label_of, kind="stable"), np.cumsum(class_counts)[:-1])
    train, test = [], []
    for member, n_tr, n_te in zip(members, train_counts, test_counts):
        shuffled = rng.permutation(member)
        train.append(shuffled[:n_tr])
        test.append(shuffled[n_tr : n_tr + n_te])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _apportion(counts: np.ndarray, total: int, rng) -> np.ndarray:
    """``total`` draws shared among classes in proportion to ``counts`` (Hamilton's method:
    round down, then one more to the largest remainders, ties chosen at random)."""
    exact = counts * (total / counts.sum())
    shares = np.floor(exact).astype(np.int64)
    remainders = exact - shares
    # a random tie-break key under the remainder: lexsort sorts by the last key first
    ranked = np.lexsort((rng.random(len(counts)), -remainders))
    shares[ranked[: total - shares.sum()]] += 1
    return shares


def _take(array, indices: np.ndarray):
    if isinstance(array, Tensor):
        return Tensor._wrap(array.data.take(indices, axis=0))
    return np.asarray(array).take(indices, axis=0)
