"""The primitive: a differentiable operation on arrays, declared once with its derivative rules.

A primitive is a forward function on ndarrays plus a VJP rule (and, where written, a JVP
rule). Calling it dispatches on its arguments:

- only ndarrays and numbers: the forward runs on them and an ndarray comes back. This is
  how derivative rules run in an ordinary ``backward()``: on plain arrays, at NumPy's speed.
- a Tensor among them: the result is a Tensor, and if grad mode is on and an input requires
  grad, the call is recorded in the graph. This is how the same rules run under
  ``backward(create_graph=True)``: on Tensors, recorded, so they can be differentiated again.

So every rule is written once with operators and chainrule functions, never with ``np.``
calls on its inputs, and serves first and higher derivatives alike.

A VJP rule is ``rule(g, ans, *inputs, **params) -> tuple``: one cotangent per input (None
where there is none), of the input's shape or broadcastable to it (unbroadcasting happens
once, in the backward pass, not in each rule).

A JVP rule is ``rule(tangents, ans, *inputs, **params) -> output tangent``: ``tangents`` has
one entry per input, None where it is zero; the result may be broadcastable to the output's
shape (forward mode broadcasts it, once). Forward mode (``chainrule.forward``) calls it.

>>> import numpy as np
>>> @primitive
... def cube(x):
...     return x ** 3
>>> @cube.defvjp
... def cube_vjp(g, ans, x):
...     return (g * 3 * x ** 2,)
>>> cube(np.array([1.0, 2.0]))
array([1., 8.])
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from types import MethodType

import numpy as np

__all__ = [
    "Primitive",
    "add_tangents",
    "has_derivative",
    "is_grad_enabled",
    "nondifferentiable",
    "primitive",
    "raw",
    "set_grad_enabled",
    "unbroadcast",
]


# chainrule's own directory: frames inside it are the engine's, not the user's
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _GradMode(threading.local):
    """Whether operations on Tensors are recorded for backward (a flag read per op).

    One per thread, as in PyTorch: a server thread computing under no_grad() must not stop
    another thread's recording halfway through its graph. Each thread starts with it on.
    """

    enabled = True


_grad_mode = _GradMode()


class anomaly_mode:  # noqa: N801  (a namespace of state, read per op like _GradMode)
    """Under ``cr.detect_anomaly()``: each recorded op notes where it was created, and
    backward checks every gradient for nan and inf."""

    enabled = False

    @staticmethod
    def creation_site() -> str:
        """``file:line in function`` of the user code that called the op."""
        import traceback

        for frame in reversed(traceback.extract_stack()[:-1]):
            if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
                return f"{frame.filename}:{frame.lineno} in {frame.name}"
        return "unknown"


def is_grad_enabled() -> bool:
    """True when operations on Tensors that require grad are recorded.

    >>> import chainrule as cr
    >>> cr.is_grad_enabled()
    True
    >>> with cr.no_grad():
    ...     print(cr.is_grad_enabled())
    False
    """
    return _grad_mode.enabled


def set_grad_enabled(mode: bool) -> bool:
    """Turn recording on or off; return the previous mode.

    >>> import chainrule as cr
    >>> previous = cr.set_grad_enabled(False)      # returns the mode it replaces
    >>> (cr.tensor([1.0], requires_grad=True) * 2).requires_grad
    False
    >>> _ = cr.set_grad_enabled(previous)
    """
    previous = _grad_mode.enabled
    _grad_mode.enabled = bool(mode)
    return previous


class Primitive:
    """A named operation: forward on ndarrays, and its derivative rules beside it.

    A primitive is also a method: ``exp(x)`` and ``x.exp()`` call the same thing.
    """

    def __init__(self, forward: Callable, name: str | None = None, differentiable: bool = True):
        self.name = name or forward.__name__
        self.forward = forward
        self.vjp = None
        self.jvp = None
        self.differentiable = differentiable
        self.vjp_takes_needs = False
        self.vjp_takes_overwrite = False
        self.saves = None  # positions of the inputs the VJP rule reads; None: all of them
        self.saves_ans = True
        self.__doc__ = forward.__doc__
        self.__wrapped__ = forward
        # the forward's own module and name, so doctest finds (and runs) the examples of a
        # primitive where it is declared, and the docs show it there
        self.__module__ = forward.__module__
        self.__name__ = forward.__name__
        self.__qualname__ = forward.__qualname__

    def defvjp(self, rule: Callable | None = None, *, saves: tuple[str, ...] | None = None):
        """Declare the VJP rule ``rule(g, ans, *inputs, **params) -> one cotangent per input``.

        ``saves`` names what the rule reads, among ``ans`` and its input parameters: the graph
        keeps only those, so the memory of the rest is freed early (PyTorch's saved
        tensors). Inputs not named reach the rule as placeholders with a shape and a dtype.
        Without ``saves``, everything is kept. Usable as ``@p.defvjp`` or
        ``@p.defvjp(saves=("ans",))``.

        A rule that declares a keyword-only ``needs`` parameter receives a tuple of bools
        saying which inputs want a cotangent, so it can skip costly work (a matmul's
        gradient for its data input, say).

        A rule that declares a keyword-only ``overwrite`` parameter receives True when ``g``
        is an array that nothing but the engine refers to: the rule may then write its
        result into ``g`` and return it, sparing an array as large as the output (as a
        hand-written backward does with ``g *= mask``). It receives False otherwise, and
        always on Tensors.
        """
        if rule is None:
            return lambda function: self.defvjp(function, saves=saves)
        parameters = inspect.signature(rule).parameters
        self.vjp = rule
        self.vjp_takes_needs = "needs" in parameters
        self.vjp_takes_overwrite = "overwrite" in parameters
        if saves is not None:
            names = [name for name, p in parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD][
                2:
            ]  # after g and ans
            unknown = set(saves) - set(names) - {"ans"}
            if unknown:
                raise ValueError(f"{self.name}: saves= names {unknown} not among {names}")
            self.saves = frozenset(names.index(name) for name in saves if name != "ans")
            self.saves_ans = "ans" in saves
        return rule

    def defjvp(self, rule: Callable) -> Callable:
        """Declare the JVP rule ``rule(tangents, ans, *inputs, **params) -> output tangent``.

        ``tangents`` holds one tangent per input, None for a zero one (the rule is not called
        when all are None). Like a VJP rule, it is written with this package's operations,
        so forward mode can nest and reverse mode can differentiate it. Usable as
        ``@p.defjvp``.
        """
        self.jvp = rule
        return rule

    # __call__ is _call_plain, or _call_forward while a jvp is open (set_forward_mode, below)

    def __get__(self, instance, owner=None):
        return self if instance is None else MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def primitive(forward: Callable) -> Primitive:
    """Declare ``forward`` (a function of ndarrays) as a primitive; add rules with defvjp."""
    return Primitive(forward)


def nondifferentiable(forward: Callable) -> Primitive:
    """Declare ``forward`` as an operation with no derivative: its results never require grad
    (comparisons, argmax, sign, floor, round)."""
    return Primitive(forward, differentiable=False)


# The Tensor class, set by chainrule.tensor when it is imported: Tensor builds on this module,
# so this module cannot import it, yet every call must know a Tensor when it sees one.
Tensor = None


# Forward mode (chainrule.forward): the open jvp levels, outermost first. It is changed in
# place only, never rebound, so modules that import it see every change.
forward_levels: list = []
attach_tangents = None  # set by chainrule.forward: computes an output's tangents

# errors a forward raises on bad input: re-raised naming the op and the shapes
_USER_ERRORS = (np.linalg.LinAlgError, IndexError, ValueError, TypeError)


def _call_plain(prim: Primitive, *args, **params):
    """What calling a primitive does: the forward on arrays; a Tensor result, recorded when
    grad mode is on and an input requires grad."""
    tensor_type = Tensor
    has_tensor = False
    record = False
    arrays = []
    for a in args:
        if isinstance(a, tensor_type):
            has_tensor = True
            arrays.append(a.data)
            if a.requires_grad:
                record = True
        else:
            arrays.append(a)
    try:
        ans = prim.forward(*arrays, **params)
    except _USER_ERRORS as error:
        # re-raised as the plain base class: some NumPy subclasses take other arguments
        kind = next(k for k in _USER_ERRORS if isinstance(error, k))
        raise kind(_describe_failure(prim, arrays, params, error)) from error
    if not has_tensor:
        return ans
    if record and _grad_mode.enabled and prim.differentiable:
        return tensor_type._record(ans, prim, args, arrays, params)
    return tensor_type._wrap(ans)


def _call_forward(prim: Primitive, *args, **params):
    """A call while a jvp is open: the same result, with its tangents attached."""
    out = _call_plain(prim, *args, **params)
    if forward_levels and isinstance(out, Tensor):
        attach_tangents(out, prim, args, params)
    return out


# Calling a primitive runs Primitive.__call__, which is _call_plain, or _call_forward while a
# jvp is open. A switch of the method rather than a test inside it, so that with forward mode
# off, which is the rule, operations pay nothing at all for it (nor a frame to dispatch).
Primitive.__call__ = _call_plain


def set_forward_mode(on: bool) -> None:
    """Route every operation through forward mode (on) or not (off); chainrule.forward's
    jvp turns it on when it opens the first level and off when it closes the last."""
    Primitive.__call__ = _call_forward if on else _call_plain


def _describe_failure(prim: Primitive, arrays: list, params: dict, error: Exception) -> str:
    """The op, its inputs' shapes and dtypes, and NumPy's own words."""
    shapes = ", ".join(
        f"{a.shape} {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__ for a in arrays
    )
    shown = "".join(f", {k}={v!r}" for k, v in params.items())
    return f"{prim.name}: cannot apply to inputs of shapes ({shapes}){shown}: {error}"


def raw(x):
    """The ndarray inside a Tensor; anything else as it is. (Not ``getattr(x, "data")``: an
    ndarray's own ``.data`` is its memory buffer.)"""
    return x.data if isinstance(x, Tensor) else x


def add_tangents(*terms):
    """The sum of the terms that are not None, or None if all are: a JVP rule's total of
    the contributions of its inputs, where a None tangent contributes nothing.

    >>> add_tangents(None, np.array([1.0, 2.0]), None)
    array([1., 2.])
    """
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def has_derivative(x) -> bool:
    """Whether x may carry a derivative: a Tensor that requires grad, or, while forward mode is
    on, any Tensor (it may carry a tangent). For functions that take a cheaper path for
    constant arguments."""
    return isinstance(x, Tensor) and (x.requires_grad or bool(forward_levels))


def unbroadcast(g, shape: tuple):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``g.shape``.

    Works on ndarrays and on Tensors alike (it uses only ``sum`` and ``reshape``).

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    g_shape = g.shape
    if g_shape == shape:
        return g
    extra = len(g_shape) - len(shape)
    axes = list(range(extra))  # the leading axes broadcasting added, then those it stretched
    for i, n in enumerate(shape):
        if n == 1 and g_shape[extra + i] != 1:
            axes.append(extra + i)
    if axes:
        axes = tuple(axes)
        # np.add.reduce is what ndarray.sum calls, minus its Python layer (once per broadcast
        # input in every backward); a Tensor sums with its own method, recorded
        g = np.add.reduce(g, axis=axes) if type(g) is np.ndarray else g.sum(axis=axes)
    return g.reshape(shape) if g.shape != shape else g
