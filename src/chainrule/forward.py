"""Forward mode (Jacobian-vector products) -- A STAND-IN, built on reverse mode.

This module is a placeholder with the interface of the real forward-mode kernel (dual
numbers with JVP rules per primitive), which replaces it. It is correct but slow: it gets
J·v from two reverse passes instead of one forward pass. ``chainrule.func`` uses only
``jvp`` below, so the swap changes speed, not results.

The trick ("double VJP"): for a dummy cotangent u, the VJP ``u -> uᵀJ`` is linear in u, and
its own VJP with cotangent v is ``Jv``. So: one backward pass with ``create_graph=True`` from
the outputs, seeded with u, gives uᵀJ as a recorded function of u; a second backward pass of
that, seeded with v, gives J·v. Both passes record, so the result nests with itself and with
reverse mode.

>>> import numpy as np
>>> from chainrule import tensor
>>> x = tensor(np.array([1.0, 2.0]))
>>> outputs, tangents = jvp(lambda x: [(x * x).sum()], (x,), (np.array([1.0, 0.5]),))
>>> float(outputs[0]), float(tangents[0])    # 2x . v = 2*1*1 + 2*2*0.5
(5.0, 4.0)
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.autograd import grad as _vjp
from chainrule.ops import reshape
from chainrule.tensor import Tensor

__all__ = ["jvp"]


def jvp(fun, primals: tuple, tangents: tuple) -> tuple[list, list]:
    """fun(*tensors) -> a flat list of Tensors. primals: Tensors; tangents: ndarrays or Tensors
    of the same shapes. Returns (outputs, output_tangents), two flat lists of Tensors (a zero
    tangent as zeros of the output's shape and dtype). Nests with itself and with reverse mode
    (forward-over-reverse: fun may call cr.autograd.grad(..., create_graph=True))."""
    primals = tuple(primals)
    tangents = tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for k, (p, t) in enumerate(zip(primals, tangents)):
        if np.shape(t) != np.shape(p):
            raise ValueError(
                f"jvp: tangent {k} has shape {np.shape(t)} but its primal has shape {np.shape(p)}"
            )
    with enable_grad():
        variables = [_variable(p) for p in primals]
        outputs = list(fun(*variables))
        for k, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                raise TypeError(f"jvp: fun must return a list of Tensors; item {k} is {out!r}")
        differentiable = [out for out in outputs if out.requires_grad]
        dummies = [_dummy_cotangent(out) for out in differentiable]
        found = {}
        if differentiable:
            # u -> uᵀJ, one function per primal, recorded
            pulled = _vjp(differentiable, variables, grad_outputs=dummies, create_graph=True)
            seeds = [(p, _tangent_like(t, p)) for p, t in zip(pulled, tangents)]
            seeds = [(p, t) for p, t in seeds if p is not None and p.requires_grad]
            if seeds:
                # v -> J·v: the VJP of the linear map above, with cotangent v
                pushed = _vjp(
                    [p for p, _ in seeds],
                    dummies,
                    grad_outputs=[t for _, t in seeds],
                    create_graph=True,
                )
                found = {id(o): t for o, t in zip(differentiable, pushed)}
    out_tangents = [_zero_if_none(found.get(id(out)), out) for out in outputs]
    return outputs, out_tangents


def _variable(primal) -> Tensor:
    """A fresh Tensor requiring grad that stands for ``primal``: an op on it (not a copy), so
    derivatives still reach whatever made ``primal``, and a new graph object, so gradients
    taken with respect to it are not mixed with other uses of ``primal``."""
    if not isinstance(primal, Tensor):
        raise TypeError(f"jvp: primals must be Tensors, got {type(primal).__name__}")
    variable = reshape(primal, primal.shape)
    if not variable.requires_grad:
        variable.requires_grad_()
    return variable


def _dummy_cotangent(out: Tensor) -> Tensor:
    # any value would do (uᵀJ is linear in u); zeros keep stray nonlinear terms at zero
    return Tensor._wrap(np.zeros(out.shape, out.dtype)).requires_grad_()


def _tangent_like(tangent, pulled: Tensor | None):
    if pulled is None:
        return None
    if isinstance(tangent, Tensor):
        return tangent if tangent.dtype == pulled.dtype else tangent.astype(pulled.dtype)
    return np.asarray(tangent, dtype=pulled.dtype)


def _zero_if_none(tangent, out: Tensor) -> Tensor:
    if tangent is None:
        return Tensor._wrap(np.zeros(out.shape, out.dtype))
    return tangent if tangent.dtype == out.dtype else tangent.astype(out.dtype)
