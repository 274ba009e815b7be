"""cr.data: datasets, the DataLoader, splits, bundled and generated datasets.

References are independent of the code under test: slicing by hand, scikit-learn's own
loaders and generators, PyTorch's random_split, and the geometry the docstrings promise.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import bundled
from tests.conftest import needs_torch

HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
needs_sklearn = pytest.mark.skipif(not HAS_SKLEARN, reason="scikit-learn is not installed")


def rng(salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([20240611, salt])


def arrays(n: int = 23):
    """Features and labels whose rows can be told apart (row i of X starts with i)."""
    X = np.concatenate([np.arange(n)[:, None], rng(1).standard_normal((n, 3))], axis=1)
    y = rng(2).integers(0, 5, n)
    return X.astype(np.float32), y


class CountingTensorDataset(cr.data.TensorDataset):
    """A TensorDataset that counts per-sample and per-batch fetches."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.item_calls = 0
        self.batch_calls = 0

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


# -- TensorDataset -------------------------------------------------------------------------


def test_tensor_dataset_rows_are_samples_and_keep_dtypes():
    X, y = arrays()
    ds = cr.data.TensorDataset(cr.tensor(X), y)
    assert len(ds) == len(X)
    x5, y5 = ds[5]
    assert isinstance(x5, cr.Tensor) and isinstance(y5, cr.Tensor)
    np.testing.assert_array_equal(x5.numpy(), X[5])
    assert y5.item() == y[5]
    assert x5.dtype == np.float32 and y5.dtype == y.dtype
    x5.data[0] = -99.0  # a sample is a copy: the dataset is unchanged
    assert ds[5][0].numpy()[0] == X[5, 0]


def test_tensor_dataset_rejects_arrays_of_different_lengths():
    with pytest.raises(ValueError, match=r"same first-axis length.*\(10, 2\).*\(9,\)"):
        cr.data.TensorDataset(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="at least one array"):
        cr.data.TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        cr.data.TensorDataset(np.float64(3.0))


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        cr.data.Dataset()


# -- DataLoader ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 23, 24])
@pytest.mark.parametrize("batch_size", [1, 4, 8, 30])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batches_in_order_like_slicing(n, batch_size, drop_last):
    X, y = arrays(n)
    loader = cr.data.DataLoader(
        cr.data.TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last
    )
    starts = range(0, n, batch_size)
    expected = [(X[s : s + batch_size], y[s : s + batch_size]) for s in starts]
    if drop_last:
        expected = [(xb, yb) for xb, yb in expected if len(xb) == batch_size]
    batches = list(loader)
    assert len(loader) == len(expected) == len(batches)
    for (xb, yb), (x_expected, y_expected) in zip(batches, expected):
        assert isinstance(xb, cr.Tensor) and isinstance(yb, cr.Tensor)
        np.testing.assert_array_equal(xb.numpy(), x_expected)
        np.testing.assert_array_equal(yb.numpy(), y_expected)


def test_loader_over_tensor_dataset_indexes_arrays_once_per_batch():
    X, y = arrays(103)
    ds = CountingTensorDataset(X, y)
    loader = cr.data.DataLoader(ds, batch_size=16, shuffle=True, seed=0)
    batches = list(loader)
    assert ds.item_calls == 0
    assert ds.batch_calls == len(batches) == math.ceil(103 / 16)
    # and through a Subset (what random_split returns)
    train, _ = cr.data.random_split(ds, [0.8, 0.2], seed=0)
    ds.batch_calls = 0
    assert len(list(cr.data.DataLoader(train, batch_size=16, shuffle=True, seed=1))) == 6
    assert ds.item_calls == 0 and ds.batch_calls == 6


def test_shuffled_epoch_is_a_permutation_and_rows_stay_together():
    X, y = arrays(50)
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=8, shuffle=True, seed=3)
    batches = list(loader)
    xs = np.concatenate([xb.numpy() for xb, _ in batches])
    ys = np.concatenate([yb.numpy() for _, yb in batches])
    order = xs[:, 0].astype(int)  # row i of X starts with i
    assert sorted(order.tolist()) == list(range(50))
    assert order.tolist() != list(range(50))
    np.testing.assert_array_equal(xs, X[order])
    np.testing.assert_array_equal(ys, y[order])


def epoch_orders(loader, epochs: int) -> list[list[int]]:
    return [
        np.concatenate([b[0].numpy()[:, 0] for b in loader]).astype(int).tolist()
        for _ in range(epochs)
    ]


def test_shuffle_is_new_each_epoch_and_reproducible_with_a_seed():
    ds = cr.data.TensorDataset(*arrays(40))
    first = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True, seed=7), 3)
    again = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True, seed=7), 3)
    other = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True, seed=8), 3)
    assert first == again
    assert len({tuple(order) for order in first}) == 3  # each epoch a new order
    assert first != other


def test_shuffle_without_seed_follows_manual_seed():
    ds = cr.data.TensorDataset(*arrays(40))
    cr.manual_seed(11)
    first = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True), 2)
    cr.manual_seed(11)
    again = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True), 2)
    cr.manual_seed(12)
    other = epoch_orders(cr.data.DataLoader(ds, batch_size=6, shuffle=True), 2)
    assert first == again and first != other and first[0] != first[1]


def test_shuffled_drop_last_gives_only_full_batches():
    loader = cr.data.DataLoader(
        cr.data.TensorDataset(*arrays(23)), batch_size=5, shuffle=True, drop_last=True, seed=0
    )
    sizes = [len(xb) for xb, _ in loader]
    assert sizes == [5] * 4 and len(loader) == 4


class Squares(cr.data.Dataset):
    """Samples as a tuple (number, array, dict), fetched one by one."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return float(i), np.array([i, i * i]), {"label": i % 3, "name": f"s{i}"}


def test_generic_dataset_is_collated_sample_by_sample():
    ds = Squares(7)
    batches = list(cr.data.DataLoader(ds, batch_size=3))
    assert ds.calls == 7 and len(batches) == 3
    numbers, pairs, extra = batches[1]
    assert numbers.dtype == cr.get_default_dtype()
    np.testing.assert_array_equal(numbers.numpy(), [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(pairs.numpy(), [[3, 9], [4, 16], [5, 25]])
    np.testing.assert_array_equal(extra["label"].numpy(), [0, 1, 2])
    assert extra["name"] == ["s3", "s4", "s5"]


def test_collate_fn_sees_the_samples_of_each_batch():
    seen = []

    def collate(samples):
        seen.append(samples)
        return len(samples)

    ds = CountingTensorDataset(*arrays(10))
    assert list(cr.data.DataLoader(ds, batch_size=4, collate_fn=collate)) == [4, 4, 2]
    assert [len(s) for s in seen] == [4, 4, 2]
    assert seen[2][1][0].numpy()[0] == 9  # the last sample, row 9
    assert ds.item_calls == 10 and ds.batch_calls == 0


def test_collate_keeps_numpy_dtypes_and_types_python_numbers_like_cr_tensor():
    assert cr.data.default_collate([np.float64(1.5), np.float64(2.5)]).dtype == np.float64
    assert cr.data.default_collate([np.int32(1), np.int32(2)]).dtype == np.int32
    assert cr.data.default_collate([1.5, 2.5]).dtype == cr.get_default_dtype()
    assert cr.data.default_collate([1, 2]).dtype == np.int64
    assert cr.data.default_collate([True, False]).dtype == np.bool_


def test_collate_of_samples_that_cannot_stack_says_why():
    with pytest.raises(ValueError, match="different shapes"):
        cr.data.default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        cr.data.default_collate([object(), object()])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.0}, TypeError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"collate_fn": 3}, TypeError, "collate_fn"),
        ({"seed": 1.5, "shuffle": True}, TypeError, "seed"),
    ],
)
def test_loader_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        cr.data.DataLoader(cr.data.TensorDataset(np.zeros(4)), **kwargs)


def test_loader_needs_a_dataset():
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        cr.data.DataLoader(42)


# -- random_split --------------------------------------------------------------------------


def test_random_split_partitions_the_dataset():
    ds = cr.data.TensorDataset(np.arange(31))
    parts = cr.data.random_split(ds, [10, 15, 6], seed=0)
    assert [len(p) for p in parts] == [10, 15, 6]
    values = [p.get_batch(np.arange(len(p)))[0].numpy().tolist() for p in parts]
    assert sorted(sum(values, [])) == list(range(31))
    assert values[0] != sorted(values[0])  # shuffled
    again = cr.data.random_split(ds, [10, 15, 6], seed=0)
    assert [p.indices.tolist() for p in again] == [p.indices.tolist() for p in parts]
    assert parts[1][0][0].item() == values[1][0]


@needs_torch
@pytest.mark.parametrize(
    ("n", "fractions"),
    [(10, [0.75, 0.25]), (31, [0.5, 0.3, 0.2]), (7, [1 / 3, 1 / 3, 1 / 3]), (5, [0.1, 0.9])],
)
def test_random_split_fractions_give_torchs_sizes(n, fractions):
    import torch
    from torch.utils.data import random_split

    expected = [len(p) for p in random_split(torch.arange(n), fractions)]
    got = [len(p) for p in cr.data.random_split(cr.data.TensorDataset(np.arange(n)), fractions)]
    assert got == expected


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [-1, 11], [1.5, -0.5], []])
def test_random_split_rejects_lengths_that_do_not_add_up(lengths):
    with pytest.raises(ValueError, match="random_split"):
        cr.data.random_split(cr.data.TensorDataset(np.arange(10)), lengths)


# -- train_test_split ----------------------------------------------------------------------


@needs_sklearn
@pytest.mark.parametrize(
    ("n", "test_size", "train_size"),
    [
        (10, None, None),
        (23, 0.3, None),
        (23, None, 0.6),
        (23, 0.2, 0.5),
        (17, 5, None),
        (17, None, 11),
        (100, 0.33, 0.33),
        (7, 0.5, None),
    ],
)
def test_train_test_split_sizes_match_sklearn(n, test_size, train_size):
    from sklearn.model_selection import train_test_split as sk_split

    X = np.arange(n)
    expected = [len(a) for a in sk_split(X, test_size=test_size, train_size=train_size)]
    got = cr.data.train_test_split(X, test_size=test_size, train_size=train_size, seed=0)
    assert [len(a) for a in got] == expected
    assert not set(got[0].tolist()) & set(got[1].tolist())


def test_train_test_split_keeps_rows_aligned_and_kinds():
    X, y = arrays(40)
    X_train, X_test, y_train, y_test = cr.data.train_test_split(
        cr.tensor(X), y, test_size=0.25, seed=5
    )
    assert isinstance(X_train, cr.Tensor) and isinstance(y_train, np.ndarray)
    rows_train = X_train.numpy()[:, 0].astype(int)
    rows_test = X_test.numpy()[:, 0].astype(int)
    assert sorted(rows_train.tolist() + rows_test.tolist()) == list(range(40))
    np.testing.assert_array_equal(y_train, y[rows_train])
    np.testing.assert_array_equal(y_test, y[rows_test])
    again = cr.data.train_test_split(cr.tensor(X), y, test_size=0.25, seed=5)
    np.testing.assert_array_equal(again[1].numpy(), X_test.numpy())


def test_train_test_split_without_shuffle_keeps_the_order():
    X = np.arange(12) * 10
    X_train, X_test = cr.data.train_test_split(X, test_size=0.25, shuffle=False)
    np.testing.assert_array_equal(X_train, X[:9])
    np.testing.assert_array_equal(X_test, X[9:])


@needs_sklearn
@pytest.mark.parametrize(
    ("counts", "test_size"),
    [([37, 41, 22], 0.3), ([60, 25, 15], 0.2), ([9, 14, 30, 7], 0.35), ([5, 45], 0.25)],
)
def test_stratified_split_gives_sklearns_class_counts(counts, test_size):
    from sklearn.model_selection import train_test_split as sk_split

    y = rng(3).permutation(np.repeat(np.arange(len(counts)), counts))
    sk_train, sk_test = sk_split(y, test_size=test_size, stratify=y, random_state=0)
    train, test = cr.data.train_test_split(y, test_size=test_size, stratify=y, seed=0)
    assert np.bincount(train).tolist() == np.bincount(sk_train).tolist()
    assert np.bincount(test).tolist() == np.bincount(sk_test).tolist()


@pytest.mark.parametrize("kind", ["ints", "strings", "tensor"])
def test_stratified_split_preserves_shares_and_partitions(kind):
    y = np.repeat([0, 1, 2], [50, 30, 20])
    labels = {"ints": y, "strings": np.array(["cat", "dog", "eel"])[y], "tensor": cr.tensor(y)}
    rows = np.arange(100)
    rows_train, rows_test = cr.data.train_test_split(
        rows, test_size=0.2, stratify=labels[kind], seed=4
    )
    assert np.bincount(y[rows_test]).tolist() == [10, 6, 4]
    assert np.bincount(y[rows_train]).tolist() == [40, 24, 16]
    assert sorted(np.concatenate([rows_train, rows_test]).tolist()) == rows.tolist()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"test_size": 1.0}, ValueError, "test_size"),
        ({"test_size": 0}, ValueError, "test_size"),
        ({"test_size": 10}, ValueError, "test_size"),
        ({"test_size": "half"}, TypeError, "test_size"),
        ({"test_size": 0.5, "train_size": 0.7}, ValueError, "exceed"),
        ({"train_size": 0.05}, ValueError, "train set empty"),
        ({"stratify": np.array([0] * 9 + [1])}, ValueError, "single sample"),
        ({"stratify": np.zeros(10), "shuffle": False}, ValueError, "shuffle=True"),
        ({"stratify": np.zeros(9)}, ValueError, "one label per sample"),
    ],
)
def test_train_test_split_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        cr.data.train_test_split(np.arange(10), **kwargs)


def test_train_test_split_needs_arrays_of_one_length():
    with pytest.raises(ValueError, match=r"same number of samples, got \[10, 9\]"):
        cr.data.train_test_split(np.arange(10), np.arange(9))


# -- bundled datasets ----------------------------------------------------------------------

BUNDLED = [
    ("load_digits", (1797, 64), 10),
    ("load_iris", (150, 4), 3),
    ("load_breast_cancer", (569, 30), 2),
]


@needs_sklearn
@pytest.mark.parametrize(("name", "shape", "n_classes"), BUNDLED)
def test_bundled_datasets_shapes_classes_and_determinism(name, shape, n_classes):
    data = getattr(cr.data, name)()
    X, y = data
    assert X.shape == shape and X.dtype == np.float32
    assert y.shape == shape[:1] and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(n_classes))
    assert len(data.target_names) == n_classes and len(data.feature_names) == shape[1]
    assert data.X is X and data.y is y
    X2, y2 = getattr(cr.data, name)()
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


@needs_sklearn
@pytest.mark.parametrize(("name", "shape", "n_classes"), BUNDLED)
def test_bundled_datasets_equal_sklearns_loaders(name, shape, n_classes):
    import sklearn.datasets

    reference = getattr(sklearn.datasets, name)()
    data = getattr(cr.data, name)(dtype=np.float64)
    np.testing.assert_array_equal(data.X, reference.data)
    np.testing.assert_array_equal(data.y, reference.target)
    assert data.feature_names == [str(f) for f in reference.feature_names]
    assert data.target_names == reference.target_names.tolist()
    assert data.description == reference.DESCR


def test_bundled_datasets_name_the_extra_when_sklearn_is_missing(monkeypatch):
    monkeypatch.setattr(bundled.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'chainrule\[data\]'"):
        cr.data.load_iris()


def test_bundled_datasets_follow_the_default_dtype():
    if not HAS_SKLEARN:
        pytest.skip("scikit-learn is not installed")
    cr.set_default_dtype(np.float64)
    try:
        assert cr.data.load_iris().X.dtype == np.float64
        assert cr.data.make_moons(10, seed=0)[0].dtype == np.float64
        assert cr.data.linear_points()[0].dtype == np.float64
    finally:
        cr.set_default_dtype(np.float32)


# -- generated datasets --------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 101, 400])
def test_moons_lie_on_their_half_circles(n):
    X, y = cr.data.make_moons(n, seed=0)
    X = X.astype(np.float64)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1, atol=1e-6)
    assert (outer[:, 1] >= -1e-6).all()  # the upper half
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1, atol=1e-6)
    assert (inner[:, 1] <= 0.5 + 1e-6).all()  # the lower half


@pytest.mark.parametrize("n", [2, 101, 400])
@pytest.mark.parametrize("factor", [0.0, 0.3, 0.8])
def test_circles_have_radii_one_and_factor(n, factor):
    X, y = cr.data.make_circles(n, factor=factor, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1]).astype(np.float64)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    np.testing.assert_allclose(radius[y == 0], 1, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], factor, atol=1e-6)


@needs_sklearn
@pytest.mark.parametrize("n", [7, 100])
def test_moons_and_circles_match_sklearn_without_noise(n):
    import sklearn.datasets

    for name, kwargs in [("make_moons", {}), ("make_circles", {"factor": 0.45})]:
        X_sk, y_sk = getattr(sklearn.datasets, name)(n, shuffle=False, **kwargs)
        X, y = getattr(cr.data, name)(n, shuffle=False, dtype=np.float64, **kwargs)
        np.testing.assert_allclose(X, X_sk, atol=1e-12)
        np.testing.assert_array_equal(y, y_sk)


@pytest.mark.parametrize("name", ["make_moons", "make_circles", "make_spirals"])
def test_noise_is_gaussian_of_the_given_spread(name):
    make = getattr(cr.data, name)
    clean, labels = make(4000, shuffle=False, dtype=np.float64)
    noisy, noisy_labels = make(4000, noise=0.07, shuffle=False, seed=1, dtype=np.float64)
    np.testing.assert_array_equal(labels, noisy_labels)
    offsets = (noisy - clean).ravel()
    assert abs(offsets.std() - 0.07) < 0.005
    assert abs(offsets.mean()) < 0.005


@pytest.mark.parametrize("name", ["make_moons", "make_circles", "make_spirals"])
def test_generated_datasets_are_reproducible(name):
    make = getattr(cr.data, name)
    a = make(50, noise=0.1, seed=3)
    b = make(50, noise=0.1, seed=3)
    c = make(50, noise=0.1, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    cr.manual_seed(9)
    d = make(50, noise=0.1)
    cr.manual_seed(9)
    np.testing.assert_array_equal(make(50, noise=0.1)[0], d[0])
    # shuffled: the labels are not in blocks
    assert a[1].tolist() != sorted(a[1].tolist())


@pytest.mark.parametrize(("n", "n_classes"), [(300, 3), (101, 2), (10, 4), (5, 5)])
def test_spiral_arms_turn_once_and_are_balanced(n, n_classes):
    X, y = cr.data.make_spirals(n, n_classes=n_classes, shuffle=False, dtype=np.float64)
    sizes = np.bincount(y, minlength=n_classes)
    assert sizes.sum() == n and sizes.max() - sizes.min() <= 1
    radius = np.hypot(X[:, 0], X[:, 1])
    assert (radius > 0).all() and (radius < 1).all()
    angle = np.arctan2(X[:, 1], X[:, 0])
    # angle = 2*pi*(k/K + r), up to whole turns
    turns = (angle / (2 * np.pi) - y / n_classes - radius) % 1.0
    np.testing.assert_allclose(np.minimum(turns, 1 - turns), 0, atol=1e-9)
    assert len({tuple(p) for p in np.round(X, 9)}) == n  # no point in two classes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cr.data.make_moons(1), "at least 2"),
        (lambda: cr.data.make_moons(0), "positive"),
        (lambda: cr.data.make_moons(10, noise=-0.1), "noise"),
        (lambda: cr.data.make_circles(10, factor=1.0), "factor"),
        (lambda: cr.data.make_spirals(3, n_classes=4), "cannot fill"),
        (lambda: cr.data.make_spirals(10, n_classes=0), "n_classes"),
    ],
)
def test_generators_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_linear_points_are_the_courses_and_give_its_slope():
    x, y = cr.data.linear_points()
    assert list(zip(x.tolist(), y.tolist())) == [(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]
    # the course: L(w) = sum (w x - y)^2 has dL/dw = 28 w - 68, zero at w = 68/28
    w = cr.tensor(0.0, requires_grad=True)
    ((w * cr.tensor(x) - cr.tensor(y)) ** 2).sum().backward()
    assert w.grad.item() == -68.0
    slope, *_ = np.linalg.lstsq(x[:, None].astype(np.float64), y.astype(np.float64), rcond=None)
    assert slope[0] == pytest.approx(68 / 28)
