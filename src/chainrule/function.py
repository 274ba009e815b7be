"""Function: a user-defined primitive, written as a forward and a backward on arrays.

Subclass ``cr.Function`` with two static methods, PyTorch's spelling:

- ``forward(ctx, *args)`` gets ndarrays (and whatever non-Tensor arguments were passed) and
  returns one ndarray; it may keep what backward needs with ``ctx.save_for_backward(...)``
  or as attributes of ``ctx``;
- ``backward(ctx, g)`` gets the gradient arriving at the output and returns one gradient
  per argument of forward (``None`` where there is none, e.g. for a plain number), each of
  its argument's shape or broadcastable to it.

``Op.apply(*args)`` runs it: on Tensors that require grad, the call is recorded in the graph
like any built-in op, and ``backward()`` calls your rule. Check a new rule with
``cr.gradcheck``: it compares every entry with finite differences and names those that
differ.

An optional ``jvp(ctx, *tangents)`` (tangent per argument, None for zero) gives forward mode.

Second derivatives go through a Function only if its ``backward`` is itself differentiable:
set ``differentiable_backward = True`` and compute with operators and ``cr.`` functions. It
is then called with Tensors: ``g``, and the saved arguments of forward as the input Tensors
(other saved values are constants, so save inputs and recompute the rest). With the default
``differentiable_backward = False`` (a backward written with ``np.`` calls), a second
derivative through it raises instead of silently returning a wrong number.

>>> import numpy as np, chainrule as cr
>>> class Cube(cr.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([ 3., 12.])
"""

from __future__ import annotations

import numpy as np

from chainrule.ops.core import Primitive, raw

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What forward leaves for backward: saved values, and which inputs want a gradient.

    >>> import chainrule as cr
    >>> class Scale(cr.Function):
    ...     @staticmethod
    ...     def forward(ctx, x, k):
    ...         print("needs_input_grad:", ctx.needs_input_grad)
    ...         ctx.k = k                        # for backward (arrays: ctx.save_for_backward)
    ...         return x * k
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * ctx.k, None           # nothing for the plain number k
    >>> y = Scale.apply(cr.tensor([1.0], requires_grad=True), 3.0)
    needs_input_grad: (True, False)
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.arguments: tuple = ()  # the arrays forward received

    def save_for_backward(self, *values) -> None:
        """Keep values (the arrays forward received or made) for backward."""
        self.saved_tensors = values

    def on_graph(self, inputs: tuple) -> FunctionCtx:
        """A copy whose saved arguments are the input Tensors themselves, so a differentiable
        backward is differentiated through them (other saved values stay constants)."""
        copy = FunctionCtx(self.needs_input_grad)
        copy.__dict__.update(self.__dict__)
        copy.saved_tensors = tuple(
            next((x for a, x in zip(self.arguments, inputs) if v is a), v)
            for v in self.saved_tensors
        )
        return copy

    def __repr__(self) -> str:
        return "ctx"


class Function:
    """Base class of user-defined primitives (see the module docstring).

    >>> import chainrule as cr
    >>> class Square(cr.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 2 * x                 # the chain rule: g times the local derivative
    >>> x = cr.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).sum().backward()
    >>> x.grad
    tensor([6.])
    """

    differentiable_backward = False  # True if backward is written with cr ops only
    _primitive: Primitive | None = None

    @staticmethod
    def forward(ctx: FunctionCtx, *args):
        raise NotImplementedError("a cr.Function subclass defines forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, g):
        raise NotImplementedError("a cr.Function subclass defines backward(ctx, g)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._primitive = _as_primitive(cls)

    @classmethod
    def apply(cls, *args):
        """Run forward on the arguments' arrays; record the call if an input requires grad."""
        needs = tuple(bool(getattr(a, "requires_grad", False)) for a in args)
        return cls._primitive(*args, ctx=FunctionCtx(needs))


def _as_primitive(cls: type[Function]) -> Primitive:
    """The Primitive that runs cls.forward and cls.backward; ctx travels as a parameter."""
    name = cls.__name__

    def forward(*arrays, ctx):
        ctx.arguments = arrays
        out = cls.forward(ctx, *arrays)
        if not isinstance(out, np.ndarray | np.generic | float | int):
            raise TypeError(
                f"{name}.forward must return one ndarray (got {type(out).__name__}); "
                "a Function has one output"
            )
        return np.asarray(out)

    forward.__name__ = name
    forward.__doc__ = cls.__doc__
    primitive = Primitive(forward, name=name)

    first_order_only = _first_order_only(name)

    def vjp(g, ans, *inputs, ctx):
        recording = g is not raw(g)  # a Tensor: backward(create_graph=True)
        if recording and not cls.differentiable_backward:
            # first derivatives from the arrays; a second one through them raises
            grads = vjp(raw(g), ans, *[raw(x) for x in inputs], ctx=ctx)
            return tuple(None if x is None else first_order_only(x, g, *inputs) for x in grads)
        if recording:
            ctx = ctx.on_graph(inputs)
        grads = cls.backward(ctx, g)
        grads = grads if isinstance(grads, tuple | list) else (grads,)
        if len(grads) != len(inputs):
            raise ValueError(
                f"{name}.backward returned {len(grads)} gradient(s) for {len(inputs)} "
                "input(s) of forward: return one per input (None where there is none)"
            )
        for position, (grad, x) in enumerate(zip(grads, inputs)):
            _check_shape(name, position, grad, x)
        return tuple(grads)

    primitive.defvjp(vjp)
    if "jvp" in cls.__dict__:

        def jvp(tangents, ans, *inputs, ctx):
            return cls.jvp(ctx, *tangents)

        primitive.defjvp(jvp)
    return primitive


def _first_order_only(name: str) -> Primitive:
    """An identity on a gradient that refuses to be differentiated (PyTorch's
    once_differentiable): it links the gradient to the graph only to raise there."""

    def forward(gradient, *depends_on):  # g and the inputs: what the gradient is a function of
        return gradient

    primitive = Primitive(forward, name=f"{name}.backward")

    @primitive.defvjp(saves=())
    def refuse(g, ans, gradient, *depends_on):
        raise NotImplementedError(
            f"{name}: a second derivative needs a differentiable backward; write "
            f"{name}.backward with operators and cr functions and set "
            "differentiable_backward = True"
        )

    return primitive


def _check_shape(name: str, position: int, grad, x) -> None:
    """A gradient must be broadcastable to its input (the engine sums over broadcast axes)."""
    if grad is None:
        return
    grad_shape, x_shape = np.shape(raw(grad)), np.shape(raw(x))
    if grad_shape == x_shape:
        return
    try:
        if np.broadcast_shapes(grad_shape, x_shape) == grad_shape:
            return
    except ValueError:
        pass
    raise ValueError(
        f"{name}.backward returned a gradient of shape {grad_shape} for input {position} "
        f"of shape {x_shape}"
    )
