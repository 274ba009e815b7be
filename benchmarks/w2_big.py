"""W2-big: W2's training step at batch 4096, measured for memory.

The same step as W2 (``w2_mlp``), on a batch 32 times larger, so that the activations and
their gradients, not the weights, fill the memory. W2's check covers the same code.
"""

from __future__ import annotations

from benchmarks import w2_mlp

NAME = "W2-big"
TITLE = "W2 at batch 4096: the peak memory of a training step"
UNIT = "per training step (batch 4096)"
TARGET = "Tensor engine's work at most 1.3x the NumPy floor's peak RSS (numpy ratio >= 0.77)."
METRIC = "memory"
REPEAT = 5  # memory peaks within the first steps; the time is only shown
BATCH = 4096
IMPORTS = w2_mlp.IMPORTS
NOTE = (
    "Each engine runs alone in a fresh process (python -m benchmarks.memory). The work's peak "
    "RSS is the process's peak minus its RSS after importing the engine, before building: it "
    f"holds the batch ({BATCH * w2_mlp.SIZES[0] * 4 / 2**20:.1f} MiB of float32 inputs), the "
    "weights and velocities, the step's activations and gradients, and whatever the engine "
    "allocates on first use (BLAS buffers, thread pools, JAX's XLA client). " + w2_mlp.NOTE
)


def engines() -> dict:
    return w2_mlp.engines(BATCH)
