"""W6: one training step of a small CNN on 8x8 digits: Conv2d(1, 16, 3), ReLU, MaxPool2d(2),
Flatten, Linear(16*3*3, 10); cross_entropy; plain SGD; a batch of 256, float32.

chainrule runs ``cr.nn`` + ``cr.optim.SGD``, PyTorch ``torch.nn`` + ``torch.optim.SGD``, from
the same weights (``problem``) and the same batch (the first 256 digits, gray levels scaled
to 0..1). ``check()`` asserts that their losses agree over a few steps.
"""

from __future__ import annotations

import numpy as np

from benchmarks import harness, w2_mlp
from benchmarks.harness import installed

NAME = "W6"
TITLE = "CNN step on 8x8 digits: Conv2d(1,16,3), ReLU, MaxPool2d(2), Linear(144,10), batch 256"
UNIT = "per training step"
TARGET = "None yet: reported to see where a convolution step stands against PyTorch."
BATCH = 256
LR = 0.05
SEED = 0
NOTE = (
    f"Same weights and batch for both engines; SGD with lr {LR}, no momentum; float32. "
    "PyTorch runs on as many threads as NumPy's BLAS."
)


def problem(batch: int = BATCH) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """[conv weight (16, 1, 3, 3), conv bias, linear weight (10, 144), linear bias], images
    (batch, 1, 8, 8) and labels: He-initialised weights from a seeded Generator, float32."""
    import chainrule as cr

    rng = np.random.default_rng(SEED)
    conv = rng.standard_normal((16, 1, 3, 3), dtype=np.float32) * np.float32(np.sqrt(2 / 9))
    linear = rng.standard_normal((10, 144), dtype=np.float32) * np.float32(np.sqrt(2 / 144))
    params = [conv, np.zeros(16, np.float32), linear, np.zeros(10, np.float32)]
    X, y = cr.data.load_digits(dtype=np.float32)
    images = (X[:batch] / np.float32(16)).reshape(-1, 1, 8, 8)
    return params, images, y[:batch]


def _chainrule_setup():
    import chainrule as cr

    arrays, images, labels = problem()
    nn = cr.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(144, 10)
    )
    model.load_state_dict(dict(zip(model.state_dict(), arrays)))
    optimizer = cr.optim.SGD(model.parameters(), lr=LR)
    x, target = cr.tensor(images), cr.tensor(labels)
    return harness.training_step(model, optimizer, cr.nn.functional.cross_entropy, x, target)


def _torch_setup():
    torch = w2_mlp.torch_module()

    arrays, images, labels = problem()
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(144, 10)
    )
    model.load_state_dict({k: torch.from_numpy(a) for k, a in zip(model.state_dict(), arrays)})
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x, target = torch.from_numpy(images), torch.from_numpy(labels)
    return harness.training_step(model, optimizer, torch.nn.functional.cross_entropy, x, target)


def engines() -> dict:
    """Every installed engine's setup; chainrule first."""
    setups = {"chainrule": _chainrule_setup}
    if installed("torch"):
        setups["torch"] = _torch_setup
    return setups


def check(steps: int = 3, rtol: float = 1e-4, names=None) -> dict[str, list[float]]:
    """Train every engine (or those named) a few steps from the same weights; raise if
    chainrule's losses do not fall or another engine's differ from them."""
    return harness.check_losses("W6", engines(), steps, rtol, names, must_fall=True)
