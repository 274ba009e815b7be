"""Small real datasets that need no download: digits, iris and breast cancer.

They are the files scikit-learn ships inside its package (install it with
``pip install 'chainrule[data]'``). They are read with NumPy straight from there, without
importing scikit-learn, which would take seconds (it imports SciPy). Each loader returns a
``LabeledData``: it unpacks as ``X, y`` (X float32, or the default dtype; y int64 class
numbers) and carries the feature names, class names and scikit-learn's description.

>>> X, y = load_iris()
>>> X.shape, X.dtype, y.dtype, sorted(set(y.tolist()))
((150, 4), dtype('float32'), dtype('int64'), [0, 1, 2])
>>> load_iris().target_names
['setosa', 'versicolor', 'virginica']
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from chainrule.creation import get_default_dtype

__all__ = ["LabeledData", "load_breast_cancer", "load_digits", "load_iris"]

_IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
# the Wisconsin diagnostic data: ten measurements of cell nuclei, each as mean, standard
# error and worst (largest) value over the nuclei of one image
_NUCLEUS_MEASUREMENTS = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
]
_CANCER_FEATURES = (
    [f"mean {measurement}" for measurement in _NUCLEUS_MEASUREMENTS]
    + [f"{measurement} error" for measurement in _NUCLEUS_MEASUREMENTS]
    + [f"worst {measurement}" for measurement in _NUCLEUS_MEASUREMENTS]
)


class LabeledData(tuple):
    """Features and labels: unpacks as ``X, y``; also ``.X``, ``.y``, ``.feature_names``,
    ``.target_names`` (class number -> name) and ``.description``.

    >>> data = load_digits()
    >>> X, y = data
    >>> data.X is X, X.shape, data.feature_names[:2], data.target_names[:3]
    (True, (1797, 64), ['pixel_0_0', 'pixel_0_1'], [0, 1, 2])
    """

    def __new__(cls, X, y, feature_names, target_names, description=""):
        data = super().__new__(cls, (X, y))
        data.feature_names = list(feature_names)
        data.target_names = list(target_names)
        data.description = description
        return data

    @property
    def X(self) -> np.ndarray:
        return self[0]

    @property
    def y(self) -> np.ndarray:
        return self[1]

    def __repr__(self) -> str:
        return (
            f"LabeledData(X: {self.X.shape} {self.X.dtype}, y: {self.y.shape} {self.y.dtype}, "
            f"{len(self.target_names)} classes)"
        )


def load_digits(dtype=None) -> LabeledData:
    """1797 handwritten digits as 8x8 images of 0-16 gray levels, flattened to 64 features;
    classes 0 to 9. ``X.reshape(-1, 8, 8)`` gives the images back.

    >>> X, y = load_digits()
    >>> X.shape, float(X.min()), float(X.max()), np.bincount(y).tolist()[:3]
    ((1797, 64), 0.0, 16.0, [178, 182, 177])
    """
    table, _ = _read_table("digits.csv.gz", header=False)
    names = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
    return _labeled(table, names, list(range(10)), "digits", dtype)


def load_iris(dtype=None) -> LabeledData:
    """Fisher's 150 iris flowers: 4 measurements in cm; 3 species, 50 flowers each.

    >>> X, y = load_iris()
    >>> np.bincount(y).tolist()
    [50, 50, 50]
    """
    table, classes = _read_table("iris.csv", header=True)
    return _labeled(table, _IRIS_FEATURES, classes, "iris", dtype)


def load_breast_cancer(dtype=None) -> LabeledData:
    """569 breast tumour biopsies (Wisconsin): 30 features of the cell nuclei; class 0 is
    malignant, class 1 benign.

    >>> X, y = load_breast_cancer()
    >>> X.shape, np.bincount(y).tolist(), load_breast_cancer().target_names
    ((569, 30), [212, 357], ['malignant', 'benign'])
    """
    table, classes = _read_table("breast_cancer.csv", header=True)
    return _labeled(table, _CANCER_FEATURES, classes, "breast_cancer", dtype)


def _labeled(table, feature_names, target_names, name, dtype) -> LabeledData:
    X = table[:, :-1].astype(get_default_dtype() if dtype is None else dtype)
    y = table[:, -1].astype(np.int64)
    if X.shape[1] != len(feature_names):
        raise ValueError(
            f"scikit-learn's {name} file has {X.shape[1]} features, expected "
            f"{len(feature_names)}: this scikit-learn stores it in a format chainrule does not know"
        )
    return LabeledData(X, y, feature_names, target_names, _description(name))


def _read_table(filename: str, header: bool) -> tuple[np.ndarray, list[str]]:
    """The rows of one of scikit-learn's data files; with ``header``, its first line is
    ``n_samples,n_features,class_name,...``, which is checked against the rows."""
    path = _sklearn_dir() / "data" / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"scikit-learn's bundled file {path} is missing: reinstall scikit-learn "
            "(pip install 'chainrule[data]')"
        )
    table = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, ndmin=2)
    if not header:
        return table, []
    first_line = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    n_samples, n_features, classes = int(first_line[0]), int(first_line[1]), first_line[2:]
    if table.shape != (n_samples, n_features + 1):
        raise ValueError(
            f"{path} holds a table of shape {table.shape}, but its header announces "
            f"{n_samples} samples of {n_features} features and a label"
        )
    return table, classes


def _description(name: str) -> str:
    path = _sklearn_dir() / "descr" / f"{name}.rst"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _sklearn_dir() -> Path:
    # find_spec locates the package without running it: no scikit-learn (or SciPy) import
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the bundled datasets (digits, iris, breast cancer) are scikit-learn's files: "
            "install them with pip install 'chainrule[data]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"
