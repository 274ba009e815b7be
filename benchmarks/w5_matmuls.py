"""W5: the float32 matrix products of one W2 step, and nothing else: the physical floor.

One W2 step multiplies 8 matrices: 3 in the forward pass, and in the backward pass the 3
weight gradients and the 2 input gradients (the batch itself needs no gradient). No engine
can take a W2 step faster than its BLAS does these, so W2's figures read against this one.
The operands are random, of the shapes and layouts (transposed views included) W2 uses.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import installed
from benchmarks.w2_mlp import BATCH, SEED, SIZES, torch_module

NAME = "W5"
TITLE = "the 8 float32 matmuls of one W2 step alone (the physical floor), and their GFLOP/s"
UNIT = "per step's matmuls"
TARGET = "None: the floor W2 is read against (W2's time minus this is the engines' overhead)."
NOTE = (
    "Forward x@W1, h1@W2, h2@W3; weight gradients x.T@d1, h1.T@d2, h2.T@d3; input gradients "
    "d3@W3.T, d2@W2.T. chainrule multiplies Tensors that do not require grad. "
    "GFLOP/s counts 2*m*n*k flops per product."
)


def shapes(batch: int = BATCH, sizes: tuple[int, ...] = SIZES) -> list[tuple[int, int, int]]:
    """(m, k, n) of each product, m x k times k x n, in the order a W2 step does them."""
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = [(batch, fan_in, fan_out) for fan_in, fan_out in layers]
    weight_grads = [(fan_in, batch, fan_out) for fan_in, fan_out in layers]
    input_grads = [(batch, fan_out, fan_in) for fan_in, fan_out in reversed(layers[1:])]
    return forward + weight_grads + input_grads


def flops(batch: int = BATCH, sizes: tuple[int, ...] = SIZES) -> int:
    """Floating-point operations of the products: 2*m*n*k each (a multiply and an add)."""
    return sum(2 * m * k * n for m, k, n in shapes(batch, sizes))


FLOPS = flops()


def operands() -> dict[str, np.ndarray]:
    """Random float32 activations, weights and gradients of W2's shapes (batch BATCH)."""
    rng = np.random.default_rng(SEED)
    n_in, n1, n2, n_out = SIZES
    named_shapes = {
        "x": (BATCH, n_in),
        "h1": (BATCH, n1),
        "h2": (BATCH, n2),
        "w1": (n_in, n1),
        "w2": (n1, n2),
        "w3": (n2, n_out),
        "d1": (BATCH, n1),
        "d2": (BATCH, n2),
        "d3": (BATCH, n_out),
    }
    return {
        name: rng.standard_normal(shape, dtype=np.float32) for name, shape in named_shapes.items()
    }


def products(a: dict) -> list:
    """The 8 products of one W2 step, on any engine whose arrays have ``@`` and ``.T``."""
    return [
        a["x"] @ a["w1"],
        a["h1"] @ a["w2"],
        a["h2"] @ a["w3"],
        a["x"].T @ a["d1"],
        a["h1"].T @ a["d2"],
        a["h2"].T @ a["d3"],
        a["d3"] @ a["w3"].T,
        a["d2"] @ a["w2"].T,
    ]


def _chainrule_setup():
    import chainrule as cr

    tensors = {name: cr.tensor(array) for name, array in operands().items()}

    def unit():
        return [p.data for p in products(tensors)]

    return unit


def _numpy_setup():
    arrays = operands()

    def unit():
        return products(arrays)

    return unit


def _torch_setup():
    torch = torch_module()
    tensors = {name: torch.from_numpy(array) for name, array in operands().items()}

    def unit():
        return [p.numpy() for p in products(tensors)]

    return unit


def engines() -> dict:
    setups = {"chainrule": _chainrule_setup, "numpy": _numpy_setup}
    if installed("torch"):
        setups["torch"] = _torch_setup
    return setups


def check(rtol: float = 1e-4) -> None:
    """Every engine's products equal NumPy's (up to float32 summation order)."""
    expected = _numpy_setup()()
    for name, setup in engines().items():
        for k, (got, want) in enumerate(zip(setup()(), expected)):
            scale = float(np.abs(want).max())
            if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=rtol * scale):
                raise AssertionError(f"W5 product {k}: {name} differs from numpy")
