"""Making tensors: from data, filled, ranges, random; the default dtype and the random seed.

Python numbers and lists of floats take the default dtype (float32, as in PyTorch; change it
with ``set_default_dtype``). Lists of ints or bools give int64 or bool tensors, as in PyTorch.
An ndarray keeps its dtype.

>>> import chainrule as cr
>>> cr.tensor([1.0, 2.0]).dtype, cr.tensor([1, 2]).dtype, cr.tensor(np.ones(2)).dtype
(dtype('float32'), dtype('int64'), dtype('float64'))
>>> _ = cr.manual_seed(0); a = cr.randn(3)
>>> _ = cr.manual_seed(0); bool((cr.randn(3) == a).all())
True
"""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Tensor

__all__ = [
    "arange",
    "as_array",
    "empty",
    "eye",
    "full",
    "get_default_dtype",
    "linspace",
    "manual_seed",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "set_default_dtype",
    "tensor",
    "zeros",
    "zeros_like",
]


class _Defaults:
    dtype = np.dtype(np.float32)
    generator = np.random.default_rng()


def set_default_dtype(dtype) -> None:
    """The float dtype for tensors made from Python numbers, creation functions and layers.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.set_default_dtype(np.float64)
    >>> cr.tensor([1.0]).dtype, cr.nn.Linear(2, 1).weight.dtype
    (dtype('float64'), dtype('float64'))
    >>> cr.set_default_dtype(np.float32)           # back to the default
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"the default dtype must be float16, float32 or float64, got {dtype}")
    _Defaults.dtype = dtype


def get_default_dtype() -> np.dtype:
    """The float dtype new tensors and layers get unless told otherwise.

    >>> import chainrule as cr
    >>> cr.get_default_dtype()
    dtype('float32')
    >>> cr.tensor([1.0]).dtype
    dtype('float32')
    """
    return _Defaults.dtype


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random creation function and layer initialiser; returns the generator.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(42)
    >>> a = cr.randn(3)
    >>> _ = cr.manual_seed(42)
    >>> bool((cr.randn(3) == a).all())           # the same seed, the same numbers
    True
    """
    _Defaults.generator = np.random.default_rng(seed)
    return _Defaults.generator


def default_generator() -> np.random.Generator:
    return _Defaults.generator


def as_array(data, dtype=None) -> np.ndarray:
    """``data`` as an ndarray: ndarrays keep their dtype, Python floats take the default one."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {data!r}")
    if array.dtype.kind == "f":
        return array.astype(_Defaults.dtype)
    if array.dtype.kind == "c":
        raise TypeError("complex tensors are not supported")
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    if array.dtype.kind not in "b":
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {data!r}")
    return array


def tensor(data, dtype=None, requires_grad: bool = False, label: str | None = None) -> Tensor:
    """A tensor holding ``data`` (a number, nested lists, an ndarray or a Tensor), copied.
    ``label`` names it in ``cr.explain`` reports (as ``Scalar(..., label=)`` does).

    >>> tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    array = np.array(as_array(data, dtype), copy=True)
    out = Tensor._wrap(array)
    if requires_grad:
        out.requires_grad_(True)
    if label is not None:
        out.label = label
    return out


def _float_dtype(dtype):
    return _Defaults.dtype if dtype is None else np.dtype(dtype)


def _shape(shape) -> tuple[int, ...]:
    # both zeros(2, 3) and zeros((2, 3)), as in PyTorch and NumPy
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _made(array: np.ndarray, requires_grad: bool) -> Tensor:
    out = Tensor._wrap(array)
    return out.requires_grad_(True) if requires_grad else out


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    >>> import chainrule as cr
    >>> cr.zeros(2, 3)
    tensor([[0., 0., 0.],
            [0., 0., 0.]])
    >>> cr.zeros((2,), requires_grad=True)
    tensor([0., 0.], requires_grad=True)
    """
    return _made(np.zeros(_shape(shape), _float_dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> import chainrule as cr
    >>> cr.ones(2, 2)
    tensor([[1., 1.],
            [1., 1.]])
    """
    return _made(np.ones(_shape(shape), _float_dtype(dtype)), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever the memory held.

    >>> import chainrule as cr
    >>> cr.empty(2, 3).shape          # the values are whatever was in memory
    (2, 3)
    """
    return _made(np.empty(_shape(shape), _float_dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``.

    >>> import chainrule as cr
    >>> cr.full((2, 2), 7.0)
    tensor([[7., 7.],
            [7., 7.]])
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _made(np.full(shape, fill_value, _float_dtype(dtype)), requires_grad)


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape and dtype.

    >>> import chainrule as cr
    >>> cr.zeros_like(cr.tensor([[1.0, 2.0]]))
    tensor([[0., 0.]])
    """
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    return _made(np.zeros(array.shape, dtype or array.dtype), requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape and dtype.

    >>> import chainrule as cr
    >>> cr.ones_like(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 1., 1.])
    """
    array = np.asarray(x.data if isinstance(x, Tensor) else x)
    return _made(np.ones(array.shape, dtype or array.dtype), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, as in PyTorch.

    >>> arange(4), arange(0, 1, 0.25)
    (tensor([0, 1, 2, 3]), tensor([0.00, 0.25, 0.50, 0.75]))
    """
    if stop is None:
        start, stop = 0, start
    whole = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    kind = dtype if dtype is not None else (np.int64 if whole else _Defaults.dtype)
    return _made(np.arange(start, stop, step, dtype=kind), requires_grad)


def linspace(start, stop, num: int = 50, dtype=None, requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from start to stop, both included.

    >>> import chainrule as cr
    >>> cr.linspace(0.0, 1.0, 5)
    tensor([0.00, 0.25, 0.50, 0.75, 1.00])
    """
    return _made(np.linspace(start, stop, num, dtype=_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n by m).

    >>> import chainrule as cr
    >>> cr.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _made(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*shape, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from ``generator`` or the one ``manual_seed`` set.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> u = cr.rand(1000)
    >>> bool(u.min() >= 0 and u.max() < 1), u.dtype
    (True, dtype('float32'))
    """
    rng = generator or _Defaults.generator
    return _made(rng.random(_shape(shape)).astype(_float_dtype(dtype)), requires_grad)


def randn(*shape, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from ``generator`` or the one ``manual_seed`` set.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> z = cr.randn(10_000)
    >>> round(float(z.mean()), 1), round(float(z.std()), 1)
    (0.0, 1.0)
    """
    rng = generator or _Defaults.generator
    return _made(rng.standard_normal(_shape(shape)).astype(_float_dtype(dtype)), requires_grad)
