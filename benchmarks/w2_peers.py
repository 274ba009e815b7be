"""W2's step on the peers that are not PyTorch: HIPS autograd, mygrad, JAX eager and jitted.

Each builds the same problem as ``w2_mlp.problem`` and does the same step (see ``w2_mlp``),
written the way that library's users write it: HIPS autograd and JAX differentiate a loss
function of the parameters, mygrad records like chainrule and updates ``.data`` in place.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.harness import installed
from benchmarks.w2_mlp import BATCH, LR, MU, momentum_update, problem


def _autograd_setup(batch: int = BATCH):
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    params, x, labels = problem(batch)
    velocity = [np.zeros_like(p) for p in params]
    rows = np.arange(batch)

    def loss_of(params):
        w1, b1, w2, b2, w3, b3 = params
        h1 = anp.maximum(anp.dot(x, w1) + b1, 0)
        h2 = anp.maximum(anp.dot(h1, w2) + b2, 0)
        z = anp.dot(h2, w3) + b3
        log_probs = z - logsumexp(z, axis=-1, keepdims=True)
        return -anp.mean(log_probs[rows, labels])

    loss_and_grads = autograd.value_and_grad(loss_of)
    scratch: dict = {}

    def step():
        loss, grads = loss_and_grads(params)
        momentum_update(params, velocity, grads, scratch)
        return loss

    return step


def _mygrad_setup(batch: int = BATCH):
    import mygrad as mg
    from mygrad.nnet.activations import logsoftmax, relu

    arrays, x, labels = problem(batch)
    params = [mg.tensor(a) for a in arrays]
    velocity = [np.zeros_like(a) for a in arrays]
    rows = np.arange(batch)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = relu(x @ w1 + b1)
        h2 = relu(h1 @ w2 + b2)
        loss = -logsoftmax(h2 @ w3 + b3)[rows, labels].mean()
        loss.backward()
        for p, v in zip(params, velocity):
            v *= MU
            v += p.grad
            p.data -= LR * v
        return loss

    return step


def _jax_setup(batch: int = BATCH, jit: bool = False):
    import jax
    import jax.numpy as jnp

    arrays, x_array, labels_array = problem(batch)
    x = jnp.asarray(x_array)
    labels = jnp.asarray(labels_array)
    rows = jnp.arange(batch)

    def loss_of(params):
        w1, b1, w2, b2, w3, b3 = params
        h1 = jax.nn.relu(x @ w1 + b1)
        h2 = jax.nn.relu(h1 @ w2 + b2)
        log_probs = jax.nn.log_softmax(h2 @ w3 + b3, axis=-1)
        return -jnp.mean(log_probs[rows, labels])

    loss_and_grads = jax.value_and_grad(loss_of)

    def train(params, velocity):
        loss, grads = loss_and_grads(params)
        velocity = tuple(MU * v + g for v, g in zip(velocity, grads))
        params = tuple(p - LR * v for p, v in zip(params, velocity))
        return loss, params, velocity

    if jit:
        train = jax.jit(train)
    params = tuple(jnp.asarray(a) for a in arrays)
    state = [params, tuple(jnp.zeros_like(p) for p in params)]

    def step():
        loss, state[0], state[1] = train(*state)
        jax.block_until_ready((loss, state))  # JAX dispatches asynchronously: time the work
        return loss

    return step


def setups() -> dict:
    """The setups of the peers installed here, by engine name."""
    found = {}
    if installed("autograd") and installed("scipy"):  # autograd's logsumexp needs scipy
        found["autograd"] = _autograd_setup
    if installed("mygrad"):
        found["mygrad"] = _mygrad_setup
    if installed("jax"):
        found["jax"] = _jax_setup
        found["jax-jit"] = functools.partial(_jax_setup, jit=True)
    return found
