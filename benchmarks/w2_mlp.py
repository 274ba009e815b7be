"""W2: one training step of an MLP 784-512-256-10 (ReLU) on a batch of 128, in float32.

Every engine starts from the same weights and batch (``problem``), computes the same loss
(the mean of -log_softmax(logits)[row, label]) and takes the same SGD-with-momentum step in
PyTorch's convention: v = MU * v + g; p -= LR * v. Each writes it the way its users would:
chainrule and PyTorch with their Tensor ops and in-place update methods, NumPy by hand (the floor).
The peers that are not PyTorch live in ``w2_peers``. ``check()`` runs a few steps of every
engine and asserts that their losses agree.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from benchmarks import harness
from benchmarks.harness import installed

NAME = "W2"
TITLE = "MLP 784-512-256-10, ReLU, log_softmax cross-entropy, batch 128, float32, SGD momentum"
UNIT = "per training step"
# A step's time differs more from one process to the next than within one (the NumPy floor:
# 2.8 to 4.9 ms in six fresh processes, cause not pinned down), so samples are pooled from
# several fresh processes.
PROCESSES = 5
TARGET = (
    "Tensor engine at most 1.10x PyTorch's time (torch ratio >= 0.91) and at most 1.15x "
    "the NumPy floor's (numpy ratio >= 0.87)."
)

SIZES = (784, 512, 256, 10)
BATCH = 128
LR = 0.01
MU = 0.9
SEED = 0
# What each engine imports before it builds anything (the memory workload takes its baseline
# after these imports, so that they do not count as the work's memory).
IMPORTS = {
    "chainrule": ("chainrule",),
    "numpy": (),
    "torch": ("torch", "torch.nn.functional"),
    "autograd": ("autograd", "autograd.numpy", "autograd.scipy.special"),
    "mygrad": ("mygrad", "mygrad.nnet.activations"),
    "jax": ("jax", "jax.numpy"),
    "jax-jit": ("jax", "jax.numpy"),
}


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses here: PyTorch gets as many."""
    if installed("threadpoolctl"):
        from threadpoolctl import threadpool_info

        counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        if counts:
            return max(counts)
    return os.cpu_count() or 1


NOTE = (
    f"Same weights, batch and update for every engine (v = {MU} v + g; p -= {LR} v). "
    f"PyTorch runs with torch.set_num_threads({blas_threads()}), the thread count of NumPy's "
    "BLAS here; JAX (XLA) uses its own pool over all cores. chainrule and PyTorch write the "
    "update with their in-place Tensor methods under no_grad (mul_, add_, sub_); NumPy with "
    "in-place operators and lr * v written into a kept buffer (as chainrule's sub_(alpha=) "
    "does: a fresh temporary each step cost the floor ~750 page faults per step). "
    "PyTorch's loss is nll_loss(log_softmax(z)), the same mean of picked log-probabilities."
)


def problem(batch: int = BATCH) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Fresh copies of the weights [W1, b1, W2, b2, W3, b3], inputs and labels, float32.

    He-initialised weights (ReLU layers), zero biases, standard normal inputs, labels 0..9,
    all from one seeded Generator, so every call and every engine gets the same numbers.
    """
    rng = np.random.default_rng(SEED)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        weight = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
        weight *= np.float32(np.sqrt(2.0 / fan_in))
        params += [weight, np.zeros(fan_out, dtype=np.float32)]
    x = rng.standard_normal((batch, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], size=batch)
    return params, x, labels


def _chainrule_setup(batch: int = BATCH):
    import chainrule as cr

    arrays, x_array, labels = problem(batch)
    params = [cr.tensor(a, requires_grad=True) for a in arrays]
    velocity = [cr.tensor(np.zeros_like(a)) for a in arrays]
    x = cr.tensor(x_array)
    rows = np.arange(batch)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = (x @ w1 + b1).relu()
        h2 = (h1 @ w2 + b2).relu()
        log_probs = (h2 @ w3 + b3).log_softmax(axis=-1)
        loss = -log_probs[rows, labels].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with cr.no_grad():  # in place, as torch.optim.SGD does
            for p, v in zip(params, velocity):
                v.mul_(MU).add_(p.grad)
                p.sub_(v, alpha=LR)
        return loss

    return step


def _numpy_setup(batch: int = BATCH):
    """The floor: forward and backward by hand, float32 throughout, in place where it can."""
    params, x, labels = problem(batch)
    velocity = [np.zeros_like(p) for p in params]
    scratch: dict = {}
    rows = np.arange(batch)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = x @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3
        z += b3
        z -= z.max(axis=1, keepdims=True)  # log_softmax is shift-invariant; exp cannot overflow
        probs = np.exp(z)
        norms = probs.sum(axis=1, keepdims=True)
        loss = np.log(norms).mean() - z[rows, labels].mean()
        # d loss / d z = (softmax(z) - onehot(labels)) / batch
        probs /= norms
        probs[rows, labels] -= 1
        probs /= batch
        dz2 = probs @ w3.T
        dz2 *= h2 > 0  # the ReLU passes gradient where its output is positive
        dz1 = dz2 @ w2.T
        dz1 *= h1 > 0
        grads = (
            x.T @ dz1,
            dz1.sum(axis=0),
            h1.T @ dz2,
            dz2.sum(axis=0),
            h2.T @ probs,
            probs.sum(axis=0),
        )
        momentum_update(params, velocity, grads, scratch)
        return loss

    return step


def momentum_update(params, velocity, grads, scratch: dict) -> None:
    """SGD with momentum on ndarrays, in place, PyTorch's convention: v = mu v + g; p -= lr v.

    ``scratch`` (a dict the caller keeps) holds one buffer per shape for lr * v. Without it,
    a fresh 1.6 MB temporary each step is handed back to the OS when freed and page-faulted
    in again on the next (glibc does this for large blocks): ~750 page faults per step,
    which made this floor 15-30% slower than it needs to be. chainrule's sub_(alpha=) keeps
    such a buffer, so the floor keeps one too.
    """
    for p, v, g in zip(params, velocity, grads):
        v *= MU
        v += g
        buffer = scratch.get(p.shape)
        if buffer is None:
            buffer = scratch[p.shape] = np.empty_like(p)
        np.multiply(v, LR, out=buffer)
        p -= buffer


def torch_module():
    """torch, running on as many threads as NumPy's BLAS."""
    import torch

    torch.set_num_threads(blas_threads())
    return torch


def _torch_setup(batch: int = BATCH):
    torch = torch_module()
    from torch.nn import functional

    arrays, x_array, labels_array = problem(batch)
    params = [torch.from_numpy(a).requires_grad_() for a in arrays]
    velocity = [torch.zeros_like(p) for p in params]
    x = torch.from_numpy(x_array)
    labels = torch.from_numpy(labels_array)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = torch.relu(x @ w1 + b1)
        h2 = torch.relu(h1 @ w2 + b2)
        loss = functional.nll_loss(functional.log_softmax(h2 @ w3 + b3, dim=-1), labels)
        loss.backward()
        with torch.no_grad():
            for p, v in zip(params, velocity):
                v.mul_(MU).add_(p.grad)
                p.sub_(LR * v)
                p.grad = None
        return loss.detach()

    return step


def engines(batch: int = BATCH) -> dict:
    """Every installed engine's setup for a step at ``batch``; chainrule first."""
    from benchmarks import w2_peers

    setups = {"chainrule": _chainrule_setup, "numpy": _numpy_setup}
    if installed("torch"):
        setups["torch"] = _torch_setup
    setups.update(w2_peers.setups())
    return {name: functools.partial(setup, batch) for name, setup in setups.items()}


def check(steps: int = 3, rtol: float = 1e-4, names=None) -> dict[str, list[float]]:
    """Train every engine (or those named) a few steps from the same weights; raise if their
    losses differ from chainrule's."""
    return harness.check_losses("W2", engines(), steps, rtol, names)
