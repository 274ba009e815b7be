"""A formula's value and gradient at many points at once, by the primitives' own VJP rules.

The hiker runs six optimisers side by side, 500 steps each: 3000 gradients per request.
Building a Tensor graph for each costs about half a millisecond, almost all of it the
engine's bookkeeping on 0-d arrays. Here the formula's program runs once per step on
NumPy arrays holding one entry per run, and its reverse pass calls the very VJP rules the
Tensor engine calls (``chainrule.ops``: ``power_vjp``, ``exp_vjp``...), so the derivative
of every operation is still declared once, in ``ops``. No Tensor, node or graph is made.

Values match the Tensor engine's: the forward of each operation is the same NumPy call on
the same float64 numbers; only the order in which the cotangents of a variable used twice
are summed may differ, by an ulp.

>>> import numpy as np
>>> from chainrule.expr import parse
>>> value, grads = value_and_grad(parse("x**2 + 3*x*y"), {"x": np.array([1.0, 2.0]),
...                                                       "y": np.array([0.0, 1.0])})
>>> value, grads["x"], grads["y"]
(array([ 1., 10.]), array([2., 7.]), array([3., 6.]))
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from chainrule import ops
from chainrule.expr import Formula
from chainrule.expr_eval import NUMERIC, run

__all__ = ["Tape", "value_and_grad"]

_BINARY = {
    "+": ops.add,
    "-": ops.subtract,
    "*": ops.multiply,
    "/": ops.divide,
    "**": ops.power,
}
# the functions a formula may call, as the Tensor engine runs them (min and max of many are
# folded into pairs, as chainrule.expr_eval folds them)
_CALLS = {
    "exp": ops.exp,
    "log": ops.log,
    "ln": ops.log,
    "sqrt": ops.sqrt,
    "sin": ops.sin,
    "cos": ops.cos,
    "tan": ops.tan,
    "tanh": ops.tanh,
    "sigmoid": ops.sigmoid,
    "relu": ops.relu,
    "abs": ops.abs,
    "sign": ops.sign,
    "min": ops.minimum,
    "max": ops.maximum,
}


class _Traced:
    """A value that depends on the variables: its place on the tape (and, while recording,
    its array)."""

    __slots__ = ("value", "index")

    def __init__(self, value, index: int):
        self.value = value
        self.index = index


class _Recorder:
    """A backend for ``expr_eval.run`` that writes the tape: operations on constants are
    computed once, as the Tensor engine computes them (``NUMERIC``); every operation on a
    value that depends on the variables becomes a tape entry."""

    def __init__(self):
        # (primitive or None for a variable, arguments): an argument is (True, tape index)
        # for a traced value or (False, the constant)
        self.entries: list[tuple] = []

    def leaf(self, value) -> _Traced:
        self.entries.append((None, ()))
        return _Traced(value, len(self.entries) - 1)

    def record(self, prim, args: tuple):
        if not any(type(a) is _Traced for a in args):
            return None
        values = [a.value if type(a) is _Traced else a for a in args]
        refs = tuple((True, a.index) if type(a) is _Traced else (False, a) for a in args)
        self.entries.append((prim, refs))
        # a step (sign) is traced too: its value changes with the variables, its gradient is 0
        return _Traced(prim.forward(*values), len(self.entries) - 1)

    # -- the backend's interface ---------------------------------------------------------

    number = staticmethod(NUMERIC.number)
    constant = staticmethod(NUMERIC.constant)

    def negative(self, x):
        traced = self.record(ops.negative, (x,))
        return NUMERIC.negative(x) if traced is None else traced

    def binary(self, code: str, x, y):
        traced = self.record(_BINARY[code], (x, y))
        return NUMERIC.binary(code, x, y) if traced is None else traced

    def call(self, name: str, args: list):
        if not any(type(a) is _Traced for a in args):
            return NUMERIC.call(name, args)
        prim = _CALLS[name]
        if name in ("min", "max"):
            result = args[0]
            for arg in args[1:]:
                pair = self.record(prim, (result, arg))
                result = NUMERIC.call(name, [result, arg]) if pair is None else pair
            return result
        return self.record(prim, tuple(args))


# Forwards that are one NumPy call inside ``np.errstate``: the replay runs under one errstate
# of its own, so it calls the ufunc itself (entering errstate costs more than the call).
# A test checks each gives what the primitive's forward gives.
_UFUNCS = {
    ops.add: np.add,
    ops.subtract: np.subtract,
    ops.multiply: np.multiply,
    ops.negative: np.negative,
    ops.exp: np.exp,
    ops.sin: np.sin,
    ops.cos: np.cos,
    ops.tan: np.tan,
    ops.tanh: np.tanh,
    ops.power: np.power,
    ops.divide: np.true_divide,
    ops.log: np.log,
    ops.sqrt: np.sqrt,
}


def _vjp_rule(prim, refs: tuple):
    """The VJP rule of a tape entry as ``rule(g, ans, args) -> bars`` (None if the primitive
    has no derivative): the primitive's own rule, or for the common cases of ``_FAST_RULES``
    the same arithmetic on the same arrays without the calls that only matter elsewhere (a
    power's guard for an exponent of 0 when the exponent is a constant that is not 0; the
    dispatch of ``cos(x)`` through the primitive when x is an array). A test checks each
    gives what the primitive's rule gives, bit for bit."""
    if not prim.differentiable:
        return None
    make = _FAST_RULES.get(prim)
    fast = make(refs) if make is not None else None
    if fast is not None:
        return fast
    vjp = prim.vjp
    if prim.vjp_takes_needs:
        needs = tuple(traced for traced, _ in refs)
        return lambda g, ans, args: vjp(g, ans, *args, needs=needs)
    return lambda g, ans, args: vjp(g, ans, *args)


def _power_rule(refs: tuple):
    (x_traced, _), (y_traced, y) = refs
    if not x_traced or y_traced or np.ndim(y) != 0 or y == 0:
        return None
    y_less_one = y - 1  # power_vjp's x_bar, where(y == 0, 0, g * y * x ** (y - 1)), y != 0
    return lambda g, ans, args: (g * y * args[0] ** y_less_one, None)


_FAST_RULES = {
    ops.power: _power_rule,
    ops.sin: lambda refs: lambda g, ans, args: (g * np.cos(args[0]),),
    ops.cos: lambda refs: lambda g, ans, args: (-g * np.sin(args[0]),),
}


class Tape:
    """A formula, recorded once as a list of primitive calls, replayed at every step.

    >>> import numpy as np
    >>> from chainrule.expr import parse
    >>> tape = Tape(parse("sin(x) * y"))
    >>> value, grads = tape.value_and_grad({"x": np.array([0.0]), "y": np.array([2.0])})
    >>> value, grads
    (array([0.]), {'x': array([2.]), 'y': array([0.])})
    """

    def __init__(self, formula: Formula):
        recorder = _Recorder()
        probe = np.zeros(1)
        leaves = {name: recorder.leaf(probe) for name in formula.variables}
        with np.errstate(all="ignore"):
            out = run(formula._program, leaves, recorder)
        self.variables = tuple(formula.variables)
        # A replay fills a list of slots: the constants, then the variables' values, then
        # each operation's answer (tape index i is slot i + len(constants)), so that every
        # argument is a slot, fetched with one itemgetter call.
        constants = [ref for _, refs in recorder.entries for traced, ref in refs if not traced]
        self._constants = constants
        shift = len(constants)
        slot_of_constant = iter(range(shift))
        self._ops = []
        for prim, refs in recorder.entries[len(leaves) :]:
            slots = [ref + shift if traced else next(slot_of_constant) for traced, ref in refs]
            # per operation: its forward, a getter of its arguments, whether it has one (a
            # getter of one item gives the item, not a tuple), its VJP rule as a function of
            # (g, ans, args) (None: no gradient), and (argument position, slot) of each
            # argument that wants a cotangent
            targets = [
                (i, slot) for i, ((traced, _), slot) in enumerate(zip(refs, slots)) if traced
            ]
            self._ops.append(
                (
                    _UFUNCS.get(prim, prim.forward),
                    itemgetter(*slots),
                    len(slots) == 1,
                    _vjp_rule(prim, refs),
                    targets,
                )
            )
        self._first = shift + len(leaves)  # the slot of the first operation
        # the output: a slot, or a constant when the formula ignores its variables
        self._output = out.index + shift if type(out) is _Traced else None
        self._constant = None if type(out) is _Traced else float(out)

    def value_and_grad(self, values: dict[str, np.ndarray]):
        """``f`` and ``{name: df/dname}`` at the points ``values`` (1-d arrays of one length)."""
        shape = np.shape(values[self.variables[0]]) if self.variables else (1,)
        with np.errstate(all="ignore"):  # nan and inf are answers here (a diverging run)
            value, grads = self.replay(values, np.ones(shape))
        return _full(value, shape), {
            name: np.zeros(shape) if g is None else _full(g, shape) for name, g in grads.items()
        }

    def replay(self, values: dict[str, np.ndarray], ones: np.ndarray):
        """``value_and_grad`` without its checks and copies, for a loop that calls it often:
        run it under ``np.errstate(all="ignore")``; ``ones`` is the output's cotangent (ones
        of the points' shape, not changed); a gradient is None where it is zero, and arrays
        may be shared with the tape's (copy them before changing them)."""
        if self._output is None:
            return ones * self._constant, dict.fromkeys(self.variables)
        answers = self._forward(values)
        cotangents = self._backward(answers, ones)
        first = len(self._constants)
        return answers[self._output], dict(zip(self.variables, cotangents[first:]))

    def _forward(self, values: dict) -> list:
        answers = self._constants + [values[name] for name in self.variables]
        append = answers.append
        for forward, arguments, unary, _, _ in self._ops:
            append(forward(arguments(answers)) if unary else forward(*arguments(answers)))
        return answers

    def _backward(self, answers: list, ones: np.ndarray) -> list:
        """The cotangent of every slot, from the output's (ones) down to the variables'."""
        cotangents: list = [None] * len(answers)
        cotangents[self._output] = ones
        first = self._first
        ops = self._ops
        for index in range(self._output, first - 1, -1):
            g = cotangents[index]
            if g is None:
                continue
            _, arguments, unary, rule, targets = ops[index - first]
            if rule is None:
                continue
            args = arguments(answers)
            bars = rule(g, answers[index], (args,) if unary else args)
            for position, slot in targets:
                bar = bars[position]
                if bar is not None:
                    previous = cotangents[slot]
                    # a new array each time: a rule may hand back g itself, shared by two inputs
                    cotangents[slot] = bar if previous is None else previous + bar
        return cotangents


def _full(array, shape: tuple) -> np.ndarray:
    """A fresh float64 array of ``shape``, never one the tape holds."""
    return np.array(np.broadcast_to(np.asarray(array, dtype=np.float64), shape))


def value_and_grad(formula: Formula, values: dict[str, np.ndarray]):
    """``f`` and ``{name: df/dname}`` at every point given: ``values`` maps each variable of
    the formula to a 1-d float64 array (one entry per point, all of one length)."""
    return Tape(formula).value_and_grad(values)
