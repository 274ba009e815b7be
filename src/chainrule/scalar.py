"""Scalar: the readable engine. One Python float per node, the chain rule in plain sight.

Every operation computes its value and, right beside it, the local derivative of that value
with respect to each input. ``backward()`` then walks the graph once, from the output back to
the inputs, multiplying local derivatives by the gradient arriving from above (the chain rule)
and adding up what reaches each node along different paths.

The surface matches micrograd's ``Value`` (``data``, ``grad``, ``backward()``, the operators,
``relu``/``tanh``/``exp``), so code written for micrograd runs on ``Scalar``.

Undefined math follows IEEE 754, as NumPy and PyTorch do: ``log(0)`` is ``-inf``, ``log(-1)``
and ``(-8) ** (1/3)`` are ``nan``, ``1 / 0`` is ``inf``. Nothing raises; a training loop that
goes astray shows nan or inf in its numbers instead of crashing. Check with ``math.isfinite``.

Example:

>>> from chainrule import Scalar
>>> a, x, b = Scalar(1.0), Scalar(2.0), Scalar(3.0)
>>> y = (a * x + b).sigmoid()
>>> y.backward()
>>> round(y.data, 6), round(a.grad, 6), round(x.grad, 6), round(b.grad, 6)
(0.993307, 0.013296, 0.006648, 0.006648)
"""

from __future__ import annotations

import math
from numbers import Real

from chainrule.floatmath import divide, exp, exponent_grad, log, power, trig
from chainrule.graph import topological_order

__all__ = ["FORMULAS", "Scalar", "formula_key"]

_new = object.__new__
_nan = math.nan


def _number(other) -> float | None:
    """``other`` as a float if it is a plain real number, else None."""
    if type(other) is float:  # the common case first: isinstance(x, Real) is slow
        return other
    if isinstance(other, Real):
        return float(other)
    return None


def _node(data: float, opcode, x: Scalar, dx: float, y: Scalar | None = None, dy: float = 0.0):
    """A new node with value ``data``, inputs ``x`` (and ``y``), local derivatives ``dx`` (``dy``).

    Inputs and local derivatives sit in the node's own slots, not in tuples or closures: one
    object per node keeps graph building cheap, and nothing in a graph points back at its
    children, so graphs are acyclic in memory and freed by reference counting alone.
    """
    out = _new(Scalar)
    out.data = data
    out.grad = 0.0
    out._x = x
    out._y = y
    out._dx = dx
    out._dy = dy
    out._opcode = opcode
    out.label = None
    return out


# How each op reads as math, for the chain-rule report (chainrule.explain): the node's
# expression, then its local derivative with respect to each input, in the order of
# local_grads(). {x} and {y} stand for the inputs' names, {c} for the plain number and {c_1}
# for that number minus 1. Keyed by formula_key(opcode). Every op defined below has an entry
# here (a test checks it), so a new op comes with its formula.
FORMULAS: dict = {
    "+": ("{x} + {y}", ("1", "1")),
    "-": ("{x} − {y}", ("1", "−1")),
    "*": ("{x}·{y}", ("{y}", "{x}")),
    "/": ("{x}/{y}", ("1/{y}", "−{x}/{y}^2")),
    "**": ("{x}^{y}", ("{y}·{x}^({y} − 1)", "{x}^{y}·ln({x})")),
    ("+", False): ("{x} + {c}", ("1",)),
    ("+", True): ("{c} + {x}", ("1",)),
    ("-", False): ("{x} − {c}", ("1",)),
    ("-", True): ("{c} − {x}", ("−1",)),
    ("*", False): ("{x}·{c}", ("{c}",)),
    ("*", True): ("{c}·{x}", ("{c}",)),
    ("/", False): ("{x}/{c}", ("1/{c}",)),
    ("/", True): ("{c}/{x}", ("−{c}/{x}^2",)),
    ("**", False): ("{x}^{c}", ("{c}·{x}^{c_1}",)),
    ("**", True): ("{c}^{x}", ("{c}^{x}·ln({c})",)),
    "neg": ("−{x}", ("−1",)),
    "abs": ("|{x}|", ("sign({x})",)),
    "exp": ("exp({x})", ("exp({x})",)),
    "log": ("ln({x})", ("1/{x}",)),
    "sqrt": ("√{x}", ("1/(2·√{x})",)),
    "sin": ("sin({x})", ("cos({x})",)),
    "cos": ("cos({x})", ("−sin({x})",)),
    "tan": ("tan({x})", ("1 + tan({x})^2",)),
    "tanh": ("tanh({x})", ("1 − tanh({x})^2",)),
    "sigmoid": ("σ({x})", ("σ({x})·(1 − σ({x}))",)),
    "relu": ("relu({x})", ("1 if {x} > 0 else 0",)),
}


def formula_key(opcode) -> str | tuple[str, bool]:
    """The key of an opcode in FORMULAS: the op's name, or (symbol, constant_first)."""
    return opcode if type(opcode) is str else (opcode[0], opcode[2])


class Scalar:
    """A float that remembers how it was computed, so that it can be differentiated.

    ``data`` is the value, ``grad`` the derivative of the last ``backward()`` output with
    respect to it. Gradients of leaves (inputs) accumulate across ``backward()`` calls, as in
    PyTorch; ``zero_grad()`` clears a whole graph.

    >>> x = Scalar(3.0, label="x")
    >>> y = x ** 2
    >>> y.backward()
    >>> x.grad
    6.0
    """

    # _x, _y: the inputs (None where absent); _dx, _dy: d(self)/d(_x), d(self)/d(_y).
    # _opcode: the op's name, or (symbol, constant, constant_first) when a plain number took
    # part, so that `x * 3` is one node, not two.
    __slots__ = ("data", "grad", "_x", "_y", "_dx", "_dy", "_opcode", "label")
    # `==` compares values (like PyTorch's tensors), but a node stays hashable by identity,
    # so graphs can keep nodes in sets and dicts.
    __hash__ = object.__hash__

    def __init__(self, data, label: str | None = None):
        try:
            if isinstance(data, (str, bytes)):  # float("2") would parse text; a Scalar doesn't
                raise TypeError
            value = float(data)  # numbers, NumPy scalars, 0-d arrays, Scalars (their value)
        except (TypeError, ValueError):
            raise TypeError(
                f"Scalar() takes a real number, got {type(data).__name__}: {data!r}"
            ) from None
        self.data = value
        self.grad = 0.0
        self._x = None
        self._y = None
        self._dx = 0.0
        self._dy = 0.0
        self._opcode = ""
        self.label = label

    # -- the node protocol (see chainrule.graph) ------------------------------------------

    @property
    def parents(self) -> tuple[Scalar, ...]:
        """The Scalars this one was computed from: none for a leaf, one or two otherwise."""
        if self._x is None:
            return ()
        if self._y is None:
            return (self._x,)
        return (self._x, self._y)

    @property
    def op(self) -> str:
        """The operation that made this node: ``"*"``, ``"tanh"``, ``"** 2"``; ``""`` for a leaf."""
        code = self._opcode
        if type(code) is str:
            return code
        symbol, constant, constant_first = code
        shown = f"{constant:g}"
        return f"{shown} {symbol}" if constant_first else f"{symbol} {shown}"

    def local_grads(self) -> tuple[float, ...]:
        """The derivative of this node with respect to each parent, at the forward values.

        >>> import chainrule as cr
        >>> a, b = cr.Scalar(2.0), cr.Scalar(3.0)
        >>> (a * b).local_grads()                       # d(ab)/da = b, d(ab)/db = a
        (3.0, 2.0)
        """
        if self._x is None:
            return ()
        if self._y is None:
            return (self._dx,)
        return (self._dx, self._dy)

    def vjp(self, g: float) -> tuple[float, ...]:
        """What the chain rule sends to each parent when gradient ``g`` arrives here.

        >>> import chainrule as cr
        >>> a, b = cr.Scalar(2.0), cr.Scalar(3.0)
        >>> (a * b).vjp(10.0)                           # g times each local derivative
        (30.0, 20.0)
        """
        return tuple(local * g for local in self.local_grads())

    # micrograd's names, so that micrograd's own tools (draw_dot) read a Scalar graph
    @property
    def _prev(self) -> set[Scalar]:
        return set(self.parents)

    @property
    def _op(self) -> str:
        return self.op

    # -- arithmetic: each value with its local derivatives beside it --------------------------

    def __add__(self, other) -> Scalar:
        if isinstance(other, Scalar):
            return _node(self.data + other.data, "+", self, 1.0, other, 1.0)
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(self.data + c, ("+", c, False), self, 1.0)

    def __radd__(self, other) -> Scalar:
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(c + self.data, ("+", c, True), self, 1.0)

    def __sub__(self, other) -> Scalar:
        if isinstance(other, Scalar):
            return _node(self.data - other.data, "-", self, 1.0, other, -1.0)
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(self.data - c, ("-", c, False), self, 1.0)

    def __rsub__(self, other) -> Scalar:
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(c - self.data, ("-", c, True), self, -1.0)

    def __mul__(self, other) -> Scalar:
        if isinstance(other, Scalar):
            x, y = self.data, other.data
            return _node(x * y, "*", self, y, other, x)
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(self.data * c, ("*", c, False), self, c)

    def __rmul__(self, other) -> Scalar:
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(c * self.data, ("*", c, True), self, c)

    def __truediv__(self, other) -> Scalar:
        if isinstance(other, Scalar):
            x, y = self.data, other.data
            value = divide(x, y)
            # d(x/y)/dx = 1/y,  d(x/y)/dy = -x/y**2 = -(x/y)/y
            return _node(value, "/", self, divide(1.0, y), other, divide(-value, y))
        c = _number(other)
        if c is None:
            return NotImplemented
        return _node(divide(self.data, c), ("/", c, False), self, divide(1.0, c))

    def __rtruediv__(self, other) -> Scalar:
        c = _number(other)
        if c is None:
            return NotImplemented
        x = self.data
        value = divide(c, x)
        # d(c/x)/dx = -c/x**2 = -(c/x)/x
        return _node(value, ("/", c, True), self, divide(-value, x))

    def __pow__(self, other) -> Scalar:
        x = self.data
        if isinstance(other, Scalar):
            y = other.data
            value = power(x, y)
            dx = 0.0 if y == 0.0 else y * power(x, y - 1.0)
            return _node(value, "**", self, dx, other, exponent_grad(value, x, y))
        n = _number(other)
        if n is None:
            return NotImplemented
        # power rule d(x**n)/dx = n * x**(n-1), written out for n == 0 so that x = 0 gives 0,
        # not 0 * inf
        dx = 0.0 if n == 0.0 else n * power(x, n - 1.0)
        return _node(power(x, n), ("**", n, False), self, dx)

    def __rpow__(self, other) -> Scalar:
        c = _number(other)
        if c is None:
            return NotImplemented
        y = self.data
        value = power(c, y)
        return _node(value, ("**", c, True), self, exponent_grad(value, c, y))

    def __neg__(self) -> Scalar:
        return _node(-self.data, "neg", self, -1.0)

    def __pos__(self) -> Scalar:
        return self

    def __abs__(self) -> Scalar:
        x = self.data
        # the derivative at 0 is taken as 0, as in PyTorch; nan stays nan
        dx = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else _nan
        return _node(abs(x), "abs", self, dx)

    # -- functions -------------------------------------------------------------------------

    def exp(self) -> Scalar:
        """e ** self; its derivative is itself.

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> y = x.exp()
        >>> y.backward()
        >>> y.data, x.grad                              # e^0, and d e^x/dx = e^x
        (1.0, 1.0)
        """
        value = exp(self.data)
        return _node(value, "exp", self, value)

    def log(self) -> Scalar:
        """Natural logarithm; d/dx = 1/x. ``-inf`` at 0 and ``nan`` below.

        >>> import chainrule as cr
        >>> x = cr.Scalar(2.0)
        >>> x.log().backward()
        >>> x.grad                                      # 1/x
        0.5
        """
        x = self.data
        return _node(log(x), "log", self, divide(1.0, x))

    def sqrt(self) -> Scalar:
        """Square root; d/dx = 1 / (2 sqrt(x)). ``nan`` below 0, infinite slope at 0.

        >>> import chainrule as cr
        >>> x = cr.Scalar(4.0)
        >>> x.sqrt().backward()
        >>> x.grad                                      # 1 / (2 sqrt(x))
        0.25
        """
        x = self.data
        value = math.sqrt(x) if x >= 0.0 else _nan
        return _node(value, "sqrt", self, divide(0.5, value))

    def sin(self) -> Scalar:
        """Sine; d/dx = cos(x).

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> x.sin().backward()
        >>> x.grad                                      # cos(0)
        1.0
        """
        x = self.data
        return _node(trig(math.sin, x), "sin", self, trig(math.cos, x))

    def cos(self) -> Scalar:
        """Cosine; d/dx = -sin(x).

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> x.cos().backward()
        >>> x.grad                                      # -sin(0)
        0.0
        """
        x = self.data
        return _node(trig(math.cos, x), "cos", self, -trig(math.sin, x))

    def tan(self) -> Scalar:
        """Tangent; d/dx = 1 + tan(x)**2. Very large near odd multiples of pi/2.

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> x.tan().backward()
        >>> x.grad                                      # 1 / cos^2(0)
        1.0
        """
        value = trig(math.tan, self.data)
        return _node(value, "tan", self, 1.0 + value * value)

    def tanh(self) -> Scalar:
        """Hyperbolic tangent; d/dx = 1 - tanh(x)**2.

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> y = x.tanh()
        >>> y.backward()
        >>> y.data, x.grad                              # 1 - tanh^2 = 1
        (0.0, 1.0)
        """
        t = math.tanh(self.data)
        return _node(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Scalar:
        """Logistic function 1 / (1 + e**-x); d/dx = s * (1 - s).

        >>> import chainrule as cr
        >>> x = cr.Scalar(0.0)
        >>> y = x.sigmoid()
        >>> y.backward()
        >>> y.data, x.grad                              # s(0) = 0.5, s'(0) = s(1 - s) = 0.25
        (0.5, 0.25)
        """
        x = self.data
        # two forms so that exp never overflows: exp(-x) for x >= 0, exp(x) below
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            z = exp(x)
            s = z / (1.0 + z)
        return _node(s, "sigmoid", self, s * (1.0 - s))

    def relu(self) -> Scalar:
        """max(0, x); the derivative is 1 above 0 and 0 at or below it (as in PyTorch).

        >>> import chainrule as cr
        >>> a, b = cr.Scalar(-1.0), cr.Scalar(2.0)
        >>> (a.relu() + b.relu()).backward()
        >>> a.grad, b.grad                              # 0 where x < 0, 1 where x > 0
        (0.0, 1.0)
        """
        x = self.data
        if x > 0.0:
            return _node(x, "relu", self, 1.0)
        return _node(0.0 if x <= 0.0 else x, "relu", self, 0.0)  # nan stays nan

    # -- backpropagation ---------------------------------------------------------------------

    def backward(self, gradient: float = 1.0) -> None:
        """Fill ``grad`` of every node this one depends on with d(self)/d(node).

        Leaves add to the gradient they hold (PyTorch's rule), so gradients of several
        outputs can be summed; in-between nodes hold the gradient of this call only.
        Iterative, and linear in the size of the graph.

        >>> x = Scalar(2.0)
        >>> y = x * x * x
        >>> y.backward()
        >>> x.grad
        12.0
        """
        order = topological_order(self)
        for node in order:
            if node._x is not None:
                node.grad = 0.0
        self.grad += float(gradient)
        # children before parents: a node's gradient is complete before it is passed on
        for node in reversed(order):
            x = node._x
            if x is None:
                continue
            g = node.grad
            x.grad += node._dx * g
            y = node._y
            if y is not None:
                y.grad += node._dy * g

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on every node of this node's graph, leaves included.

        >>> x = Scalar(2.0)
        >>> y = x * 3
        >>> y.backward(); y.backward()
        >>> x.grad
        6.0
        >>> y.zero_grad()
        >>> x.grad
        0.0
        """
        for node in topological_order(self):
            node.grad = 0.0

    # -- plain-value behaviour -------------------------------------------------------------
    # Comparisons look at values, return bools and record nothing in the graph.

    def _value_of(self, other) -> float | None:
        if isinstance(other, Scalar):
            return other.data
        return _number(other)

    def __eq__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data == value

    def __ne__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data != value

    def __lt__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data < value

    def __le__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data <= value

    def __gt__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data > value

    def __ge__(self, other) -> bool:
        value = self._value_of(other)
        return NotImplemented if value is None else self.data >= value

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Scalar({name}data={self.data!r}, grad={self.grad!r})"
