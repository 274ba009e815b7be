"""Data for training: datasets, batches, splits, and small datasets to learn on.

>>> import chainrule as cr
>>> X, y = cr.data.make_moons(100, noise=0.1, seed=0)
>>> train, test = cr.data.random_split(cr.data.TensorDataset(X, y), [0.8, 0.2], seed=0)
>>> loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
>>> [tuple(xb.shape) for xb, yb in loader]
[(32, 2), (32, 2), (16, 2)]
"""

from chainrule.data.bundled import LabeledData, load_breast_cancer, load_digits, load_iris
from chainrule.data.collate import default_collate
from chainrule.data.dataset import Dataset, Subset, TensorDataset
from chainrule.data.generated import linear_points, make_circles, make_moons, make_spirals
from chainrule.data.loader import DataLoader
from chainrule.data.split import random_split, train_test_split

__all__ = [
    "DataLoader",
    "Dataset",
    "LabeledData",
    "Subset",
    "TensorDataset",
    "default_collate",
    "linear_points",
    "load_breast_cancer",
    "load_digits",
    "load_iris",
    "make_circles",
    "make_moons",
    "make_spirals",
    "random_split",
    "train_test_split",
]
