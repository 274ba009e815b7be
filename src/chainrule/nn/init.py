"""Weight initialisation, in place, with PyTorch's names and formulas (``torch.nn.init``).

Fans as PyTorch computes them: for a weight of shape (out, in, *kernel), fan_in =
in * prod(kernel) and fan_out = out * prod(kernel). Random values come from the generator
``cr.manual_seed`` sets (or the ``generator`` given), so seeded runs repeat.

- Glorot & Bengio (2010): ``xavier_uniform_`` U(-a, a) with a = gain sqrt(6 / (fan_in +
  fan_out)); ``xavier_normal_`` N(0, gain^2 2 / (fan_in + fan_out)).
- He et al. (2015): ``kaiming_uniform_`` U(-b, b) with b = gain sqrt(3 / fan);
  ``kaiming_normal_`` N(0, gain^2 / fan); gain from ``calculate_gain(nonlinearity, a)``.

>>> import chainrule as cr
>>> w = cr.empty(256, 100)
>>> _ = kaiming_uniform_(w, a=5 ** 0.5)    # nn.Linear's default: bound 1 / sqrt(fan_in)
>>> bool(abs(w).max() <= 1 / 100 ** 0.5)
True
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.creation import default_generator
from chainrule.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_GAINS = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2)
    (relu), sqrt(2 / (1 + slope^2)) (leaky_relu, slope 0.01 unless given), 3/4 (selu).

    >>> calculate_gain("relu") == 2 ** 0.5
    True
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape})"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` into the tensor's own array (its identity and dtype kept)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions take a Tensor, got {type(tensor).__name__}")
    tensor.data[...] = values
    return tensor


def _rng(generator) -> np.random.Generator:
    return generator if generator is not None else default_generator()


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> w = cr.empty(1000)
    >>> init.uniform_(w, -1.0, 1.0) is w            # filled in place, and returned
    True
    >>> bool(w.min() >= -1.0 and w.max() <= 1.0)
    True
    """
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std^2).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> _ = cr.manual_seed(0)
    >>> w = init.normal_(cr.empty(100, 100), mean=3.0, std=0.5)
    >>> round(w.mean().item(), 2), round(w.std().item(), 2)   # 10 000 samples
    (3.0, 0.5)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None) -> Tensor:
    """Fill with N(mean, std^2) samples redrawn until they fall in [a, b].

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> w = init.trunc_normal_(cr.empty(1000), std=1.0, a=-1.0, b=1.0)
    >>> bool(w.abs().max() <= 1.0)                  # nothing beyond one std
    True
    """
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> init.constant_(cr.empty(2, 3), 0.5)
    tensor([[0.5, 0.5, 0.5],
            [0.5, 0.5, 0.5]])
    """
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> init.zeros_(cr.empty(2))                    # a bias is often started here
    tensor([0., 0.])
    """
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> init.ones_(cr.empty(2))                     # a normalisation's scale starts here
    tensor([1., 1.])
    """
    return _fill(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix.

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> init.eye_(cr.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (Saxe et al. 2013), trailing axes flattened.

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> import numpy as np
    >>> w = init.orthogonal_(cr.empty(3, 5))
    >>> np.allclose((w @ w.T).numpy(), np.eye(3), atol=1e-6)    # orthonormal rows
    True
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ needs at least 2 dimensions, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.size // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, so the result is uniform
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> w = init.xavier_uniform_(cr.empty(20, 30))  # a = sqrt(6 / (30 + 20)) = 0.3464
    >>> bool(w.abs().max() <= (6 / 50) ** 0.5)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> _ = cr.manual_seed(0)
    >>> w = init.xavier_normal_(cr.empty(100, 100))
    >>> round(w.std().item(), 2)                    # sqrt(2 / (100 + 100))
    0.1
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0, mode="fan_in", nonlinearity="leaky_relu", generator=None
) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> w = init.kaiming_uniform_(cr.empty(100, 24), nonlinearity="relu")
    >>> bool(w.abs().max() <= 0.5)                  # b = sqrt(2) * sqrt(3 / 24) = 1/2
    True
    """
    if 0 in tensor.shape:
        return tensor  # nothing to fill (PyTorch warns and returns)
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0, mode="fan_in", nonlinearity="leaky_relu", generator=None
) -> Tensor:
    """He normal: N(0, std^2), std = gain / sqrt(fan).

    >>> import chainrule as cr
    >>> from chainrule.nn import init
    >>> _ = cr.manual_seed(0)
    >>> w = init.kaiming_normal_(cr.empty(500, 200), nonlinearity="relu")
    >>> round(w.std().item(), 2)                    # sqrt(2) / sqrt(200)
    0.1
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)
