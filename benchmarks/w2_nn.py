"""W2-nn: W2's training step written the way users of a framework write it: a Sequential of
Linear and ReLU layers, cross_entropy, and the library's SGD with momentum.

chainrule runs ``cr.nn`` + ``cr.optim.SGD(momentum=0.9)``, PyTorch ``torch.nn`` +
``torch.optim.SGD``; both start from W2's weights and batch (``w2_mlp.problem``; a Linear
layer holds its weight as (out, in), the transpose of the problem's (in, out) arrays). The
NumPy floor is W2's hand-written step: the same numbers with no framework at all.
``check()`` asserts that the engines' losses agree over a few steps.
"""

from __future__ import annotations

import numpy as np

from benchmarks import harness, w2_mlp
from benchmarks.harness import installed

NAME = "W2-nn"
TITLE = "W2 with the nn layers: Sequential(Linear, ReLU, ...), cross_entropy, optim.SGD momentum"
UNIT = "per training step"
# A step's time differs more from one process to the next than within one (the NumPy floor:
# 2.8 to 4.9 ms in six fresh processes, cause not pinned down), so samples are pooled from
# several fresh processes.
PROCESSES = 5
TARGET = "Tensor engine with cr.nn and cr.optim at most 1.15x PyTorch's time (torch ratio >= 0.87)."
NOTE = (
    f"W2's weights, batch and update (SGD, lr {w2_mlp.LR}, momentum {w2_mlp.MU}, PyTorch's "
    "convention), each engine through its own layers, loss and optimizer: zero_grad, forward, "
    "backward, step. PyTorch runs on as many threads as NumPy's BLAS. numpy is W2's step by "
    "hand, the floor."
)
LR, MU = w2_mlp.LR, w2_mlp.MU


def layer_weights() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """W2's problem with each weight transposed to a Linear layer's (out, in) layout:
    [weight1, bias1, weight2, bias2, weight3, bias3], inputs, labels."""
    arrays, x, labels = w2_mlp.problem()
    layers = [np.ascontiguousarray(a.T) if a.ndim == 2 else a for a in arrays]
    return layers, x, labels


def _chainrule_setup():
    import chainrule as cr

    arrays, x_array, labels = layer_weights()
    sizes = w2_mlp.SIZES
    model = cr.nn.Sequential(
        cr.nn.Linear(sizes[0], sizes[1]),
        cr.nn.ReLU(),
        cr.nn.Linear(sizes[1], sizes[2]),
        cr.nn.ReLU(),
        cr.nn.Linear(sizes[2], sizes[3]),
    )
    model.load_state_dict(dict(zip(model.state_dict(), arrays)))
    optimizer = cr.optim.SGD(model.parameters(), lr=LR, momentum=MU)
    x, target = cr.tensor(x_array), cr.tensor(labels)
    return harness.training_step(model, optimizer, cr.nn.functional.cross_entropy, x, target)


def _torch_setup():
    torch = w2_mlp.torch_module()

    arrays, x_array, labels = layer_weights()
    sizes = w2_mlp.SIZES
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(sizes[1], sizes[2]),
        torch.nn.ReLU(),
        torch.nn.Linear(sizes[2], sizes[3]),
    )
    state = {name: torch.from_numpy(a) for name, a in zip(model.state_dict(), arrays)}
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MU)
    x, target = torch.from_numpy(x_array), torch.from_numpy(labels)
    return harness.training_step(model, optimizer, torch.nn.functional.cross_entropy, x, target)


def engines() -> dict:
    """Every installed engine's setup; chainrule first."""
    setups = {"chainrule": _chainrule_setup, "numpy": w2_mlp._numpy_setup}
    if installed("torch"):
        setups["torch"] = _torch_setup
    return setups


def check(steps: int = 3, rtol: float = 1e-4, names=None) -> dict[str, list[float]]:
    """Train every engine (or those named) a few steps; raise if their losses differ from
    chainrule's."""
    return harness.check_losses("W2-nn", engines(), steps, rtol, names)
