"""Forward mode: Jacobian-vector products in one pass, by dual numbers with levels.

Reverse mode (``backward``) gives a gradient: how one output moves when each input moves.
Forward mode answers the transposed question: how every output moves when the inputs move
in one chosen direction v. That is J·v, the Jacobian times a vector (a JVP), and it costs
about one more forward pass, with no graph to keep.

**Dual numbers.** Give every value a second part, its *tangent*: x becomes x + ε·ẋ, with ε a
formal number whose square is 0. Push that through f and the first-order Taylor expansion
comes out, f(x + ε·ẋ) = f(x) + ε·f'(x)·ẋ: the tangent part of the result is the derivative
in the direction ẋ. Each primitive knows how to move tangents along (its JVP rule, written
beside its forward: ``exp`` sends ẋ to ẋ·exp(x), ``x * y`` sends (ẋ, ẏ) to ẋ·y + x·ẏ), so
every operation computes its result and its result's tangent together.

Here a Tensor carries its tangent beside its data: while ``jvp`` runs, every operation (in
``chainrule.ops.core``) also applies the primitive's JVP rule to its inputs' tangents and
attaches the result to its output. Outside ``jvp`` operations run exactly the code they run
without forward mode: ``jvp`` switches them to the forward-mode path, and back.

**Levels.** ``jvp`` inside ``jvp`` (a second derivative, or a derivative of a function that
itself takes one) needs two independent ε's, or the perturbations get confused. The classic
trap: d/dx [x · (d/dy (x + y) at y = 1)] is 1, since the inner derivative is 1 for every x;
with one shared ε, the x inside the inner derivative would count as perturbed too, and give
2. So each ``jvp`` call opens its own *level*, a fresh ε; a tangent is stored under its
level, and a rule for one level sees only the outer levels: the inner tangent is an
ordinary value to them, and can be differentiated by them (or by ``backward``) in turn.

>>> import numpy as np
>>> import chainrule as cr
>>> x = cr.tensor(np.array([0.0, 1.0, 2.0]))
>>> (y,), (y_dot,) = jvp(lambda x: [cr.sin(x) * 2], (x,), (np.array([1.0, 1.0, 0.5]),))
>>> y_dot                                  # 2 cos(x) · ẋ
tensor([ 2.0000,  1.0806, -0.4161], dtype=float64)

>>> def inner_derivative(x):               # d/dy (x + y) at y = 1: 1, whatever x is
...     _, (slope,) = jvp(lambda y: [x + y], (cr.tensor(1.0),), (np.array(1.0),))
...     return [x * slope]
>>> _, (d,) = jvp(inner_derivative, (cr.tensor(3.0),), (np.array(1.0),))
>>> float(d)                               # 1, not the 2 of confused perturbations
1.0

Forward mode composes with reverse mode both ways. ``backward()`` through a ``jvp``
differentiates the tangents, which are recorded like any result (reverse-over-forward). A
``jvp`` of a function that calls ``backward`` or ``cr.autograd.grad`` pushes tangents
through the VJP rules (forward-over-reverse): the JVP of a gradient is a Hessian-vector
product. Tangents are computed under ``no_grad`` too: grad mode decides what reverse mode
records, not what forward mode carries. ``detach()`` drops the tangent along with the graph
(JAX's stop_gradient, PyTorch's detach). Like grad mode, the open levels are global state:
one thread at a time.
"""

from __future__ import annotations

import numpy as np

from chainrule.ops import core
from chainrule.ops.shape import astype, broadcast_to, reshape
from chainrule.tensor import Tensor

__all__ = ["jvp", "tangent_of"]

_levels = core.forward_levels  # the open levels, outermost first (shared with ops.core)


class _Level:
    """One open ``jvp``: the key its tangents are stored under, and the graph nodes that hold
    tangents of this level, so they can be let go when it closes. (A node and a tangent whose
    recorded rule read the node's output refer to each other: while reverse mode records
    inside a jvp, such nodes live until it closes, like a tape.)"""

    __slots__ = ("depth", "nodes")

    def __init__(self, depth: int):
        self.depth = depth
        self.nodes = []

    def __repr__(self) -> str:
        return f"<forward level {self.depth}>"


def jvp(fun, primals: tuple, tangents: tuple) -> tuple[list, list]:
    """``fun``'s outputs at ``primals`` and their tangents along ``tangents``: (f(x), J·v).

    ``fun(*tensors)`` returns a flat list (or tuple) of Tensors, or one Tensor. ``primals``
    are Tensors (or float ndarrays); ``tangents`` one per primal, ndarrays or Tensors of its
    shape (cast to its float dtype). Returns two flat lists of Tensors: the outputs, and
    their tangents (zeros of the output's shape and dtype where it does not depend on the
    primals). Costs about one forward pass more than ``fun`` alone.

    >>> import chainrule as cr
    >>> x = cr.tensor(np.array([1.0, 2.0]))
    >>> outs, out_dots = jvp(lambda x: [x * x, x.sum()], (x,), (np.array([1.0, 0.0]),))
    >>> out_dots
    [tensor([2., 0.], dtype=float64), tensor(1., dtype=float64)]
    """
    primals = tuple(primals)
    tangents = tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal"
        )
    inputs = _distinct([_as_primal(x, k) for k, x in enumerate(primals)])
    seeds = [_as_tangent(v, x, k) for k, (x, v) in enumerate(zip(inputs, tangents))]
    level = _Level(len(_levels))
    if not _levels:
        core.set_forward_mode(True)
    _levels.append(level)
    outputs = []
    try:
        for x, x_dot in zip(inputs, seeds):
            x._extras()[level] = x_dot
        outputs = _as_outputs(fun(*inputs))
        output_tangents = [_tangent_or_zeros(out, level) for out in outputs]
    finally:
        _close(level, inputs, outputs)
    return outputs, output_tangents


def tangent_of(x, level=None):
    """The tangent ``x`` carries in the innermost open ``jvp`` (or at ``level``); None if it
    carries none (a zero tangent) or no ``jvp`` is open."""
    if level is None:
        if not _levels:
            return None
        level = _levels[-1]
    if isinstance(x, Tensor) and x._extra:
        return x._extra.get(level)
    return None


# -- the per-operation step, called by core._call_forward while a level is open --------------


def _attach_tangents(out: Tensor, prim, args: tuple, params: dict) -> None:
    """Compute ``out``'s tangent at each open level from its inputs', by prim's JVP rule.

    Outer levels go first, and the rule for a level runs with only the levels outside it
    open: so its operations carry the outer tangents (the inner tangent can be differentiated
    by an outer jvp) and never a tangent of its own level or an inner one (perturbations
    stay apart). ``out`` then enters the inner rules with its outer tangents attached.
    """
    if not prim.differentiable or out.data.dtype.kind != "f":
        return  # integer, boolean and non-differentiable results have zero tangents
    open_levels = tuple(_levels)
    for depth, level in enumerate(open_levels):
        input_tangents = _tangents_at(args, level)
        if input_tangents is None:
            continue
        if prim.jvp is None:
            raise NotImplementedError(
                f"forward mode: the primitive '{prim.name}' has no JVP rule; declare one "
                f"with @{prim.name}.defjvp beside its VJP rule"
            )
        ans = _ans_for_rule(out)
        del _levels[depth:]  # the rule's own operations are seen by the outer levels only
        try:
            out_dot = prim.jvp(input_tangents, ans, *args, **params)
            if out_dot is None:
                continue
            out_dot = _fitted(out_dot, out)
        finally:
            _levels[depth:] = open_levels[depth:]
        extra = out._extras()
        extra[level] = out_dot
        node = out._node
        if node is not None and node.ans is not None:
            # backward hands a VJP rule a re-wrapped ans (autograd's _ans_for_rule), not
            # this Tensor: the node lends it this output's tangents, for forward over reverse
            node.tangents = extra
            level.nodes.append(node)


def _tangents_at(args: tuple, level: _Level) -> tuple | None:
    """Each argument's tangent at ``level`` (None where it has none), or None if none has."""
    tangents = []
    found = False
    for a in args:
        extra = a._extra if isinstance(a, Tensor) else None
        tangent = extra.get(level) if extra else None
        if tangent is not None:
            found = True
        tangents.append(tangent)
    return tuple(tangents) if found else None


def _ans_for_rule(out: Tensor) -> Tensor:
    """``out`` as a rule sees it: the same value, graph node and outer tangents, in a Tensor of
    its own. A tangent recorded for reverse mode keeps the Tensors its rule read; were that
    ``out`` itself, which holds the tangent, the two would form a cycle that reference
    counting cannot free. Without recording there is nothing to keep, so ``out`` serves."""
    if not core.is_grad_enabled():
        return out
    ans = Tensor._wrap(out.data)
    ans.requires_grad = out.requires_grad
    ans._node = out._node
    ans._extra = dict(out._extra) if out._extra else None
    return ans


def _fitted(out_dot, out: Tensor) -> Tensor:
    """A rule's result as a tangent of ``out``: a Tensor of out's shape and dtype (rules may
    leave broadcasting to here, as VJP rules leave unbroadcasting to backward)."""
    if not isinstance(out_dot, Tensor):
        out_dot = Tensor._wrap(np.asarray(out_dot))
    if out_dot.data.shape != out.data.shape:
        out_dot = broadcast_to(out_dot, out.data.shape)
    if out_dot.data.dtype != out.data.dtype:
        out_dot = astype(out_dot, out.data.dtype)
    return out_dot


core.attach_tangents = _attach_tangents


# -- jvp's inputs and outputs ------------------------------------------------------------------


def _as_primal(x, k: int) -> Tensor:
    if not isinstance(x, Tensor):
        if not isinstance(x, (np.ndarray, np.generic, int, float)):
            raise TypeError(
                f"jvp: primal {k} is a {type(x).__name__}; give Tensors (or float ndarrays)"
            )
        x = Tensor._wrap(np.asarray(x))
    if x.data.dtype.kind != "f":
        raise TypeError(
            f"jvp: primal {k} has dtype {x.data.dtype}; only floating-point inputs have "
            "tangents (convert it with .astype(np.float64))"
        )
    return x


def _distinct(inputs: list) -> list:
    """The primals, each a Tensor of its own: one Tensor given twice gets a recorded copy in
    its second place, so that each place carries its own tangent."""
    seen = set()
    for k, x in enumerate(inputs):
        if id(x) in seen:
            inputs[k] = reshape(x, x.data.shape)  # the identity, on the graph
        seen.add(id(inputs[k]))
    return inputs


def _as_tangent(v, x: Tensor, k: int) -> Tensor:
    """The tangent of primal k as a Tensor of its shape and dtype (a Tensor stays on its graph
    and keeps its own tangents, so that jvps nest)."""
    if not isinstance(v, Tensor):
        try:
            v = Tensor._wrap(np.asarray(v, dtype=x.data.dtype))
        except (TypeError, ValueError) as error:
            raise TypeError(f"jvp: tangent {k} is not an array of numbers: {error}") from None
    if v.data.shape != x.data.shape:
        raise ValueError(
            f"jvp: tangent {k} has shape {v.data.shape} but its primal has shape {x.data.shape}"
        )
    if v.data.dtype != x.data.dtype:
        v = astype(v, x.data.dtype)
    return v


def _as_outputs(result) -> list:
    if isinstance(result, Tensor):
        return [result]
    if not isinstance(result, (list, tuple)):
        raise TypeError(
            f"jvp: the function returned a {type(result).__name__}; it must return a Tensor "
            "or a flat list of Tensors"
        )
    outputs = []
    for k, out in enumerate(result):
        if isinstance(out, Tensor):
            outputs.append(out)
        elif isinstance(out, (np.ndarray, np.generic, int, float)):
            outputs.append(Tensor._wrap(np.asarray(out)))  # a constant: its tangent is zero
        else:
            raise TypeError(
                f"jvp: output {k} of the function is a {type(out).__name__}; it must return "
                "a flat list of Tensors"
            )
    return outputs


def _tangent_or_zeros(out: Tensor, level: _Level) -> Tensor:
    out_dot = tangent_of(out, level)
    if out_dot is None:
        return Tensor._wrap(np.zeros(out.data.shape, dtype=out.data.dtype))
    return out_dot


def _close(level: _Level, inputs: list, outputs: list) -> None:
    """Close ``level``: forget its tangents on the tensors jvp handed in and out and on the
    graph nodes that lent them to backward. Intermediate tensors still held elsewhere keep
    theirs, inert: no later level has this key."""
    assert _levels and _levels[-1] is level, "jvp levels must close innermost first"
    _levels.pop()
    if not _levels:
        core.set_forward_mode(False)
    for x in (*inputs, *outputs):
        if x._extra:
            x._extra.pop(level, None)
    for node in level.nodes:
        node.tangents.pop(level, None)
    level.nodes.clear()
