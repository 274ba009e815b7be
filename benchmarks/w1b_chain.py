"""W1b: build a chain of 100,000 operations (cycling x*y, +c, tanh) and backpropagate it.

A long thin graph measures the cost of one node: creating it, ordering it, visiting it in
backward. micrograd sorts its graph recursively, so it gets a recursion limit high enough for
the chain (Python 3.11 runs Python-to-Python recursion without the C stack). micrograd 0.1.0,
the release on PyPI, has no ``tanh``: it gets the one from micrograd's lecture, in its own
closure style, for this benchmark only.
"""

from __future__ import annotations

import math
import sys

from benchmarks.harness import installed

NAME = "W1b"
TITLE = "a 100,000-op chain (x*y, +c, tanh), built and backpropagated"
UNIT = "per chain (build + backward)"
TARGET = "Scalar engine at least 3x faster than micrograd (ratio >= 3)."
NOTE = (
    "micrograd 0.1.0 (PyPI) has no tanh: it gets its lecture's closure-style tanh, "
    "and a recursion limit above the chain's depth."
)

LENGTH = 100_000
C = 0.5


def chain(value, length=LENGTH):
    """Build the chain on engine ``value``, backpropagate it; return (output, x, y)."""
    x, y = value(0.3), value(0.9)
    v = x
    for i in range(length):
        step = i % 3
        if step == 0:
            v = v * y
        elif step == 1:
            v = v + C
        else:
            v = v.tanh()
    v.backward()
    return v, x, y


def _setup(value):
    def run():
        chain(value)

    return run


def _chainrule_setup():
    from chainrule import Scalar

    return _setup(Scalar)


def micrograd_value():
    """micrograd's Value, given a tanh if it lacks one, and a recursion limit for long chains."""
    from micrograd.engine import Value

    if not hasattr(Value, "tanh"):

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t**2) * out.grad

            out._backward = _backward
            return out

        Value.tanh = tanh
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * LENGTH))
    return Value


def _micrograd_setup():
    return _setup(micrograd_value())


def engines():
    cases = {"chainrule": _chainrule_setup}
    if installed("micrograd"):
        cases["micrograd"] = _micrograd_setup
    return cases


def check(length: int = 3_000, tolerance: float = 1e-9) -> None:
    """Both engines give the same output and input gradients on a shorter chain."""
    from chainrule import Scalar

    ours = chain(Scalar, length)
    if installed("micrograd"):
        theirs = chain(micrograd_value(), length)
        for a, b, what in zip(ours, theirs, ("output", "dv/dx", "dv/dy")):
            got, expected = (a.data, b.data) if what == "output" else (a.grad, b.grad)
            if abs(got - expected) > tolerance:
                raise AssertionError(f"W1b {what}: chainrule {got!r} != micrograd {expected!r}")
