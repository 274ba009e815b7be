"""W1: micrograd's own demo, one training step of MLP(2, [16, 16, 1]) on make_moons.

The network code below has the shape of micrograd's ``nn.py`` line for line, written once for
any engine whose values offer ``+ * relu backward data grad``. micrograd runs its own
``micrograd.nn.MLP``; chainrule runs the same code on ``Scalar``. Both start from the same
weights and take the same steps, and ``check()`` asserts that their losses agree.
"""

from __future__ import annotations

import random

from benchmarks.harness import installed

NAME = "W1"
TITLE = "micrograd's demo: MLP(2, [16, 16, 1]) on make_moons(100), SVM loss, one SGD step"
UNIT = "per training step"
TARGET = "Scalar engine at least 3x faster than micrograd (ratio >= 3)."
NOTE = (
    "Both engines run micrograd's nn code shape (chainrule a line-for-line copy of it), "
    "from the same weights; the runner's check asserts equal losses to 1e-9."
)

SEED = 1337
STEPS = 100  # the demo's schedule: lr = 1 - 0.9 k / STEPS


class Neuron:
    def __init__(self, value, weights, bias, nonlin=True):
        self.w = [value(w) for w in weights]
        self.b = value(bias)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, neurons):
        self.neurons = neurons

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """The same network as a given micrograd MLP, with its weights, on another engine."""

    def __init__(self, value, like):
        self.layers = [
            Layer([Neuron(value, [w.data for w in n.w], n.b.data, n.nonlin) for n in layer.neurons])
            for layer in like.layers
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0


def moons():
    """make_moons(100, noise=0.1, random_state=1) with labels -1/+1, as plain Python floats."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return [[float(v) for v in row] for row in X], [float(2 * label - 1) for label in y]


def reference_model():
    """micrograd's MLP(2, [16, 16, 1]), initialised as its demo does."""
    from micrograd.nn import MLP as MicrogradMLP

    random.seed(SEED)
    return MicrogradMLP(2, [16, 16, 1])


def loss(model, value, X, y):
    """The demo's loss: mean SVM max-margin loss plus 1e-4 times the sum of squared weights."""
    inputs = [list(map(value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def trainer(model, value, X, y):
    """A callable doing one training step per call, and returning the loss before the step."""
    step = [0]

    def train_step():
        k = step[0] % STEPS
        total = loss(model, value, X, y)
        model.zero_grad()
        total.backward()
        learning_rate = 1.0 - 0.9 * k / STEPS
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        step[0] += 1
        return total.data

    return train_step


def _chainrule_setup(like=None):
    from chainrule import Scalar

    X, y = moons()
    model = MLP(Scalar, like if like is not None else reference_model())
    return trainer(model, Scalar, X, y)


def _micrograd_setup():
    from micrograd.engine import Value

    X, y = moons()
    return trainer(reference_model(), Value, X, y)


def engines():
    # without micrograd there is nothing to copy the weights from, nor to compare with
    if not (installed("micrograd") and installed("sklearn")):
        return {}
    return {"chainrule": _chainrule_setup, "micrograd": _micrograd_setup}


def check(steps: int = 5, tolerance: float = 1e-9) -> list[tuple[float, float]]:
    """Train both engines side by side; raise if their losses ever differ by more than tolerance."""
    ours, theirs = _chainrule_setup(), _micrograd_setup()
    pairs = []
    for k in range(steps):
        a, b = ours(), theirs()
        if abs(a - b) > tolerance:
            raise AssertionError(f"W1 step {k}: chainrule loss {a!r} != micrograd loss {b!r}")
        pairs.append((a, b))
    return pairs
