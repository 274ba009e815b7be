"""W4: second derivatives of the n-dimensional Rosenbrock function, in float64.

Two workloads share this module: ``HESSIAN`` (the full Hessian at n = 100) and ``HVP`` (one
Hessian-vector product at n = 100,000, where the Hessian itself would take 80 GB).
Each engine uses its own second-order tools, the way its users would: chainrule's
``cr.hessian`` and ``cr.hvp``, ``torch.func`` (hessian = jacfwd(jacrev); hvp = jvp of grad),
HIPS autograd's ``hessian`` and ``hessian_tensor_product``, JAX's ``hessian`` and
jvp-of-grad (eager and jit). The floor is NumPy with the Hessian worked out by hand
(Rosenbrock's is tridiagonal). ``check()`` compares every engine with that floor.
"""

from __future__ import annotations

import functools
import types

import numpy as np

from benchmarks.harness import installed
from benchmarks.w2_mlp import torch_module

SEED = 0


def point(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The point x (near the valley, where the Hessian is interesting) and a direction v."""
    rng = np.random.default_rng(SEED)
    return rng.uniform(-1.5, 1.5, n), rng.standard_normal(n)


def rosenbrock(x, total):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, on any engine's array, given its sum."""
    head, tail = x[:-1], x[1:]
    return total(100 * (tail - head**2) ** 2 + (1 - head) ** 2)


def hessian_by_hand(x: np.ndarray) -> np.ndarray:
    """Rosenbrock's Hessian: tridiagonal, worked out on paper."""
    n = len(x)
    diagonal = np.zeros(n)
    diagonal[:-1] = 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diagonal[1:] += 200
    off = -400 * x[:-1]
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


def hvp_by_hand(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H v without forming H: the three diagonals applied to v."""
    diagonal = np.zeros_like(x)
    diagonal[:-1] = 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diagonal[1:] += 200
    off = -400 * x[:-1]
    out = diagonal * v
    out[:-1] += off * v[1:]
    out[1:] += off * v[:-1]
    return out


# -- the engines: each setup returns the unit of work for (x, v) -------------------------


def _chainrule(kind, x, v):
    import chainrule as cr

    def f(t):
        return rosenbrock(t, lambda a: a.sum())

    if kind == "hessian":
        return lambda: cr.hessian(f)(x)
    return lambda: cr.hvp(f, x, v)


def _numpy(kind, x, v):
    if kind == "hessian":
        return lambda: hessian_by_hand(x)
    return lambda: hvp_by_hand(x, v)


def _torch(kind, x, v):
    torch = torch_module()
    from torch import func

    tx, tv = torch.from_numpy(x), torch.from_numpy(v)

    def f(t):
        return rosenbrock(t, torch.sum)

    if kind == "hessian":
        return lambda: func.hessian(f)(tx).numpy()
    return lambda: func.jvp(func.grad(f), (tx,), (tv,))[1].numpy()


def _autograd(kind, x, v):
    import autograd
    import autograd.numpy as anp

    def f(a):
        return rosenbrock(a, anp.sum)

    if kind == "hessian":
        hessian = autograd.hessian(f)
        return lambda: hessian(x)
    product = autograd.hessian_tensor_product(f)
    return lambda: product(x, v)


def _jax(kind, x, v, jit=False):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(a):
        return rosenbrock(a, jnp.sum)

    if kind == "hessian":
        work = jax.hessian(f)
    else:

        def work(a, direction):
            return jax.jvp(jax.grad(f), (a,), (direction,))[1]

    if jit:
        work = jax.jit(work)
    jx, jv = jnp.asarray(x), jnp.asarray(v)
    args = (jx,) if kind == "hessian" else (jx, jv)
    return lambda: np.asarray(jax.block_until_ready(work(*args)))


def _engines(kind: str, n: int) -> dict:
    x, v = point(n)
    setups = {"chainrule": _chainrule, "numpy": _numpy}
    if installed("torch"):
        setups["torch"] = _torch
    if installed("autograd"):
        setups["autograd"] = _autograd
    if installed("jax"):
        setups["jax"] = _jax
        setups["jax-jit"] = functools.partial(_jax, jit=True)
    return {name: functools.partial(setup, kind, x, v) for name, setup in setups.items()}


def _check(kind: str, n: int, names=None, rtol: float = 1e-9) -> dict:
    x, v = point(n)
    expected = hessian_by_hand(x) if kind == "hessian" else hvp_by_hand(x, v)
    setups = _engines(kind, n)
    results = {}
    for name in ["chainrule", *(k for k in names or setups if k != "chainrule")]:
        results[name] = got = np.asarray(setups[name]()(), dtype=np.float64)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=rtol, atol=1e-9):
            worst = np.max(np.abs(got - expected)) if got.shape == expected.shape else got.shape
            raise AssertionError(f"W4 {kind}: {name} differs from the Hessian by hand ({worst})")
    return results


def _workload(name, kind, n, title, unit, target, repeat):
    module = types.SimpleNamespace(
        NAME=name,
        TITLE=title,
        UNIT=unit,
        TARGET=target,
        NOTE=(
            "float64. x drawn uniformly in [-1.5, 1.5], v standard normal (seed 0). The numpy "
            "row is the Hessian worked out by hand (a floor no autodiff engine can reach); "
            "JAX runs with jax_enable_x64."
        ),
        REPEAT=repeat,
        N=n,
    )
    module.engines = functools.partial(_engines, kind, n)
    module.check = functools.partial(_check, kind, n)
    return module


HESSIAN = _workload(
    "W4-hessian",
    "hessian",
    100,
    "Hessian of the 100-dimensional Rosenbrock function",
    "per Hessian",
    "Report only (no target in the issue): the ratio to each peer.",
    15,
)
HVP = _workload(
    "W4-hvp",
    "hvp",
    100_000,
    "Hessian-vector product of the 100,000-dimensional Rosenbrock function",
    "per product",
    "Report only (no target in the issue): the ratio to each peer.",
    15,
)
