"""A tiny network learns XOR on the Scalar engine: every weight a Scalar, every step backward().

Run it:  python examples/xor_network.py
"""

import random

from chainrule import Scalar

random.seed(0)
POINTS = [((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)]
HIDDEN = 4

# weights of a 2-4-1 network: tanh hidden layer, sigmoid output
w1 = [[Scalar(random.uniform(-1, 1)) for _ in range(2)] for _ in range(HIDDEN)]
b1 = [Scalar(0.0) for _ in range(HIDDEN)]
w2 = [Scalar(random.uniform(-1, 1)) for _ in range(HIDDEN)]
b2 = Scalar(0.0)
parameters = [w for row in w1 for w in row] + b1 + w2 + [b2]


def predict(x):
    hidden = [(row[0] * x[0] + row[1] * x[1] + b).tanh() for row, b in zip(w1, b1)]
    return (sum(w * h for w, h in zip(w2, hidden)) + b2).sigmoid()


def loss():
    """Mean squared error over the four points."""
    return sum((predict(x) - y) ** 2 for x, y in POINTS) * (1 / len(POINTS))


for step in range(1, 1501):
    total = loss()
    for p in parameters:
        p.grad = 0.0
    total.backward()
    for p in parameters:
        p.data -= 2.0 * p.grad
    if step % 300 == 0:
        print(f"step {step:4d}  loss {total.data:.5f}")

for x, y in POINTS:
    print(f"XOR{x} = {y:.0f}   network says {predict(x).data:.3f}")
