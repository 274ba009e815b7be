"""Shared helpers for the Tensor op tables: asymmetric inputs, and PyTorch as a reference.

Inputs are random and asymmetric on purpose: with x = y = 2 or an all-ones upstream gradient,
a swapped division rule or a sum over the wrong one of two equal-sized axes still passes.
So values are drawn with a fixed seed, kept away from 0 and from each other, and every
comparison with PyTorch backpropagates a random, non-uniform upstream gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import chainrule as cr

SEED = 20240611


def rng(salt: int = 0) -> np.random.Generator:
    """A generator with the suite's fixed seed (``salt`` makes independent streams)."""
    return np.random.default_rng([SEED, salt])


def draw(shape: tuple, domain: str = "real", salt: int = 0) -> np.ndarray:
    """Random float64 values of ``shape``, all distinct and away from kinks and poles.

    ``real``: magnitudes in [0.2, 2] with random signs (no 0, where abs and relu kink);
    ``positive``: in [0.5, 2] (log, sqrt, a power's base); ``small``: in [-1.2, 1.2] away
    from 0 (tan).
    """
    generator = rng(salt)
    size = int(np.prod(shape))
    if domain == "positive":
        values = np.linspace(0.5, 2.0, size)
    elif domain == "small":
        values = np.linspace(0.15, 1.2, size) * generator.choice([-1.0, 1.0], size)
    elif domain == "real":
        values = np.linspace(0.2, 2.0, size) * generator.choice([-1.0, 1.0], size)
    else:
        raise ValueError(f"unknown domain {domain!r}")
    # evenly spaced magnitudes, shuffled, plus a little jitter: distinct, no two equal
    values = generator.permutation(values) + generator.uniform(-0.01, 0.01, size)
    return values.reshape(shape)


@dataclass(frozen=True)
class Case:
    """One row of an op table.

    ``fn`` takes chainrule Tensors; when it is written with methods and operators that
    PyTorch shares (``x.exp()``, ``x.sum(dim=1)``, ``x / y``) it runs on torch Tensors as it
    is. Otherwise ``torch_fn`` spells it for torch, or ``torch`` is False where torch has no
    counterpart.
    """

    name: str
    fn: Callable
    shapes: tuple = ((3, 4),)
    domain: str | tuple = "real"  # one for all inputs, or one per input
    torch_fn: Callable | None = None
    torch: bool = True
    keeps_float32: bool = True  # False where fn's own float64 constants promote (NumPy's rule)

    def inputs(self) -> list[np.ndarray]:
        domains = (
            self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(self.shapes)
        )
        return [draw(shape, domains[k], salt=k) for k, shape in enumerate(self.shapes)]

    def __str__(self) -> str:
        return self.name


def case_ids(cases) -> list[str]:
    return [case.name for case in cases]


def grads_of(fn, arrays, upstream=None, *, library: str = "chainrule"):
    """fn's value at ``arrays`` and the gradients of <fn(arrays), upstream> with respect to
    each, by chainrule or by torch (float64). A random upstream gradient when none is given."""
    if library == "torch":
        import torch

        xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    else:
        xs = [cr.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    value = out.detach().numpy() if library == "torch" else out.numpy()
    if upstream is None:
        upstream = rng(99).uniform(-2.0, 2.0, np.shape(value))
    if out.requires_grad:
        if library == "torch":
            out.backward(torch.tensor(upstream, dtype=torch.float64))
        else:
            out.backward(gradient=upstream)
    grads = [
        np.zeros(np.shape(a)) if x.grad is None else np.array(x.grad.numpy(), dtype=np.float64)
        for x, a in zip(xs, arrays)
    ]
    return np.array(value, dtype=np.float64), grads


def assert_matches_torch(fn, arrays, torch_fn=None, *, rtol=1e-10, atol=1e-12, upstream=None):
    """chainrule and PyTorch give the same value and gradients (float64, tight tolerances),
    with the same random upstream gradient."""
    value, grads = grads_of(fn, arrays, upstream)
    if upstream is None:
        upstream = rng(99).uniform(-2.0, 2.0, value.shape)
    expected, expected_grads = grads_of(torch_fn or fn, arrays, upstream, library="torch")
    assert value.shape == expected.shape, f"shape {value.shape}, torch {expected.shape}"
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, err_msg="value")
    for k, (g, expected_g) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(g, expected_g, rtol=rtol, atol=atol, err_msg=f"grad {k}")


def assert_same(fn, other, arrays, *, rtol=0.0, atol=0.0):
    """Two chainrule spellings give the same value and gradients."""
    value, grads = grads_of(fn, arrays)
    other_value, other_grads = grads_of(other, arrays)
    np.testing.assert_allclose(value, other_value, rtol=rtol, atol=atol, err_msg="value")
    for g, other_g in zip(grads, other_grads):
        np.testing.assert_allclose(g, other_g, rtol=rtol, atol=atol, err_msg="grad")


def assert_float32_throughout(fn, arrays):
    """float32 inputs give a float32 output and float32 gradients at every node: no rule
    upcasts to float64 on the way back (which would cost speed, not correctness)."""
    leaves = [cr.tensor(np.asarray(a, dtype=np.float32), requires_grad=True) for a in arrays]
    inner = [x * 1 for x in leaves]  # not leaves: their gradient is the rules' own, uncast
    for t in inner:
        t.retain_grad()
    out = fn(*inner)
    assert out.dtype == np.float32, f"output {out.dtype}"
    out.backward(gradient=rng(98).uniform(-2.0, 2.0, out.shape).astype(np.float32))
    for k, t in enumerate(inner):
        assert t.grad is None or t.grad.dtype == np.float32, f"gradient {k}: {t.grad.dtype}"
