"""W3: 200 elementwise ops on 10-element float32 vectors, then sum and backward.

The arrays are tiny, so the arithmetic costs nothing: what is timed is each engine's
overhead per op, forward (checking, dispatching, recording) and backward (visiting the node,
applying its rule). ``chain`` is written once for every engine, given its tanh and exp.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.harness import installed
from benchmarks.w2_mlp import torch_module

NAME = "W3"
TITLE = "200 elementwise ops (x*w, +c, tanh, exp) on 10-element float32 vectors, sum, backward"
UNIT = "per forward + backward"
TARGET = "Tensor engine faster than PyTorch (torch ratio >= 1.0)."
NOTE = (
    "Inputs x = linspace(-1, 1, 10) and w = 0.5, float32, both requiring grad; the ops cycle "
    "v*w, v+0.1, tanh, exp; the unit returns the sum and both gradients. HIPS autograd and "
    "JAX differentiate a function of (x, w); jax-jit compiles the whole chain once."
)

LENGTH = 200
SIZE = 10
C = 0.1


def inputs() -> tuple[np.ndarray, np.ndarray]:
    """Fresh x and w, float32."""
    return np.linspace(-1, 1, SIZE, dtype=np.float32), np.full(SIZE, 0.5, dtype=np.float32)


def chain(v, w, tanh, exp):
    """The LENGTH ops, on any engine's values, given that engine's tanh and exp."""
    for i in range(LENGTH):
        op = i % 4
        if op == 0:
            v = v * w
        elif op == 1:
            v = v + C
        elif op == 2:
            v = tanh(v)
        else:
            v = exp(v)
    return v


def _chainrule_setup():
    import chainrule as cr

    x_array, w_array = inputs()
    x = cr.tensor(x_array, requires_grad=True)
    w = cr.tensor(w_array, requires_grad=True)

    def unit():
        x.grad = w.grad = None  # each unit starts afresh: gradients would accumulate
        total = chain(x, w, cr.tanh, cr.exp).sum()
        total.backward()
        return total.data, x.grad.data, w.grad.data

    return unit


def _numpy_setup():
    """The floor: the forward keeps what each op's derivative needs; the backward walks back."""
    x, w = inputs()

    def unit():
        saved = []
        v = x
        for i in range(LENGTH):
            op = i % 4
            if op == 0:
                saved.append(v)
                v = v * w
            elif op == 1:
                saved.append(None)
                v = v + C
            elif op == 2:
                v = np.tanh(v)
                saved.append(v)
            else:
                v = np.exp(v)
                saved.append(v)
        total = v.sum()
        g = np.ones_like(v)
        w_bar = np.zeros_like(w)
        for i in reversed(range(LENGTH)):
            op = i % 4
            if op == 0:
                w_bar += g * saved[i]
                g = g * w
            elif op == 2:
                g = g * (1 - saved[i] * saved[i])  # tanh' = 1 - tanh^2
            elif op == 3:
                g = g * saved[i]  # exp' = exp
        return total, g, w_bar

    return unit


def _torch_setup():
    torch = torch_module()
    x_array, w_array = inputs()
    x = torch.from_numpy(x_array).requires_grad_()
    w = torch.from_numpy(w_array).requires_grad_()

    def unit():
        x.grad = w.grad = None
        total = chain(x, w, torch.tanh, torch.exp).sum()
        total.backward()
        return total.detach().numpy(), x.grad.numpy(), w.grad.numpy()

    return unit


def _autograd_setup():
    import autograd
    import autograd.numpy as anp

    def total(params):
        x, w = params
        return anp.sum(chain(x, w, anp.tanh, anp.exp))

    total_and_grads = autograd.value_and_grad(total)
    params = inputs()

    def unit():
        value, (x_bar, w_bar) = total_and_grads(params)
        return value, x_bar, w_bar

    return unit


def _mygrad_setup():
    import mygrad as mg

    x_array, w_array = inputs()
    x, w = mg.tensor(x_array), mg.tensor(w_array)

    def unit():
        total = chain(x, w, mg.tanh, mg.exp).sum()
        total.backward()  # mygrad clears the previous gradients when a new graph is built
        return total.data, x.grad, w.grad

    return unit


def _jax_setup(jit: bool = False):
    import jax
    import jax.numpy as jnp

    def total(params):
        x, w = params
        return jnp.sum(chain(x, w, jnp.tanh, jnp.exp))

    total_and_grads = jax.value_and_grad(total)
    if jit:
        total_and_grads = jax.jit(total_and_grads)
    params = tuple(jnp.asarray(a) for a in inputs())

    def unit():
        value, (x_bar, w_bar) = total_and_grads(params)
        jax.block_until_ready((value, x_bar, w_bar))
        return value, x_bar, w_bar

    return unit


def engines() -> dict:
    setups = {"chainrule": _chainrule_setup, "numpy": _numpy_setup}
    if installed("torch"):
        setups["torch"] = _torch_setup
    if installed("autograd"):
        setups["autograd"] = _autograd_setup
    if installed("mygrad"):
        setups["mygrad"] = _mygrad_setup
    if installed("jax"):
        setups["jax"] = _jax_setup
        setups["jax-jit"] = functools.partial(_jax_setup, jit=True)
    return setups


def check(rtol: float = 1e-4, names=None) -> dict[str, tuple[np.ndarray, ...]]:
    """Every engine (or those named) gives chainrule's sum and gradients, and they are
    finite."""
    setups = engines()
    results = {}
    for name in ["chainrule", *(n for n in names or setups if n != "chainrule")]:
        unit = setups[name]()
        results[name] = tuple(np.asarray(part, dtype=np.float64) for part in unit())
    ours = results["chainrule"]
    if not all(np.all(np.isfinite(part)) for part in ours):
        raise AssertionError(f"W3: chainrule's values are not finite: {ours}")
    for name, theirs in results.items():
        for what, a, b in zip(("sum", "d/dx", "d/dw"), theirs, ours):
            if not np.allclose(a, b, rtol=rtol, atol=0.0):
                raise AssertionError(f"W3 {what}: {name} gives {a}, chainrule {b}")
    return results
