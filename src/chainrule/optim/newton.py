"""Newton's method: step to the minimum of the local quadratic model of the loss.

With all parameters flattened into one vector p, g the gradient of the loss and H its
Hessian (the matrix of second derivatives), one step is::

    p <- p - lr * (H + damping * I)^-1 g

On a quadratic loss with a positive definite H, lr = 1 and damping = 0 land on the minimum
in one step, whatever the starting point. ``damping`` > 0 (Levenberg 1944) blends in a
gradient step of size 1/damping: it keeps the step finite where H is singular and points it
downhill where H has negative eigenvalues, at the cost of slower convergence near a minimum.

H is built by double backward: the gradient is computed with ``create_graph=True``, then
each of its n entries is differentiated once more (n backward passes, an n-by-n matrix), so
this is for models of up to a few thousand parameters. The linear system is solved with
``np.linalg.solve``; if H + damping * I is singular (or the solve gives inf/nan), with
``np.linalg.lstsq`` instead: the least-squares, smallest-norm step, which does not move the
parameters along directions the loss is flat in.
"""

from __future__ import annotations

import numpy as np

from chainrule import autograd
from chainrule.autograd import enable_grad, no_grad
from chainrule.ops import concatenate
from chainrule.optim.optimizer import Optimizer, check_number
from chainrule.tensor import Tensor

__all__ = ["Newton"]


class Newton(Optimizer):
    """A damped Newton step ``p -= lr (H + damping I)^-1 g``; ``step(closure)`` needs the loss.

    The closure returns the loss with its graph (it must not call ``backward()`` itself):
    Newton differentiates it twice. With several param groups, each group's ``damping`` is
    added to its own diagonal entries and its ``lr`` scales its own part of the step.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0], requires_grad=True)
    >>> opt = cr.optim.Newton([x])
    >>> loss = opt.step(lambda: ((x - 1) ** 2 * cr.tensor([1.0, 10.0])).sum())
    >>> x            # a quadratic: one step lands on its minimum
    tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1.0, damping: float = 0.0, *, max_params: int = 5000):
        if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1:
            raise ValueError(f"max_params must be a positive int, got {max_params!r}")
        self.max_params = max_params
        super().__init__(params, {"lr": lr, "damping": damping})
        self._trainable()  # a model too big for Newton fails here, not at the first step

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        check_number(group, "lr", where)
        check_number(group, "damping", where)

    def _trainable(self) -> list[tuple[Tensor, dict]]:
        """(parameter, its group) for every parameter that requires grad, checking the size."""
        pairs = [(p, g) for g in self.param_groups for p in g["params"] if p.requires_grad]
        n = sum(p.size for p, _ in pairs)
        if n > self.max_params:
            raise ValueError(
                f"Newton builds the full {n} x {n} Hessian ({n} backward passes), more than "
                f"max_params={self.max_params} allows: use a first-order optimizer (Adam, SGD) "
                "for a model this size, or raise max_params if you mean it"
            )
        return pairs

    def step(self, closure=None):
        """One Newton step; ``closure()`` returns the loss (a one-element Tensor with its graph).
        Returns that loss, as evaluated before the step."""
        if closure is None:
            raise ValueError(
                "Newton.step needs a closure that returns the loss, e.g. "
                "opt.step(lambda: loss_fn(model(x), y)): it differentiates the loss twice"
            )
        pairs = self._trainable()
        params = [p for p, _ in pairs]
        with enable_grad():
            loss = closure()
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ValueError(
                    f"Newton: the closure must return the loss as a one-element Tensor, got "
                    f"{type(loss).__name__}{getattr(loss, 'shape', '')}"
                )
            if not loss.requires_grad:
                raise ValueError(
                    "Newton: the loss the closure returned does not depend on any parameter "
                    "(was it computed under no_grad, or from detached tensors?)"
                )
            gradient = _flat(autograd.grad(loss, params, create_graph=True), params)
        hessian = _hessian(gradient, params)
        damping = np.concatenate([np.full(p.size, group["damping"]) for p, group in pairs])
        hessian[np.diag_indices_from(hessian)] += damping
        delta = _solve(hessian, gradient.data)
        with no_grad():
            start = 0
            for p, group in pairs:
                piece = delta[start : start + p.size].reshape(p.shape)
                p.data -= group["lr"] * piece
                start += p.size
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
        return loss


def _flat(grads: tuple, params: list[Tensor]) -> Tensor:
    """The gradients joined into one vector (zeros for parameters the loss does not reach)."""
    pieces = [
        (g if g is not None else Tensor._wrap(np.zeros_like(p.data))).reshape(-1)
        for g, p in zip(grads, params)
    ]
    return concatenate(pieces)


def _hessian(gradient: Tensor, params: list[Tensor]) -> np.ndarray:
    """Row i is the gradient of gradient[i]: one backward pass through the gradient's graph."""
    n = gradient.size
    hessian = np.zeros((n, n), dtype=gradient.dtype)
    if not gradient.requires_grad:  # the loss is linear in the parameters: H = 0
        return hessian
    for i in range(n):
        seed = np.zeros(n, dtype=gradient.dtype)
        seed[i] = 1
        rows = autograd.grad(gradient, params, grad_outputs=[seed], retain_graph=True)
        start = 0
        for row, p in zip(rows, params):
            if row is not None:
                hessian[i, start : start + p.size] = row.data.reshape(-1)
            start += p.size
    # equal to its transpose in exact arithmetic; averaging removes the rounding asymmetry
    return (hessian + hessian.T) / 2


def _solve(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    try:
        delta = np.linalg.solve(matrix, vector)
        if np.all(np.isfinite(delta)):
            return delta
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(matrix, vector, rcond=None)[0]
