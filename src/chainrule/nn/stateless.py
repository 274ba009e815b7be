"""Run a Module with parameters you pass in, so that transforms can differentiate by them.

``functional_call(model, params, x)`` is ``model(x)`` computed with ``params`` (a dict from
parameter or buffer names, as ``named_parameters()`` spells them, to Tensors or arrays) in
place of the model's own, which are put back afterwards. The model becomes a function of its
weights, and every transform applies to it: the Hessian of a loss with respect to a
network's weights, a Jacobian of the outputs by the weights, a Hessian-vector product.
PyTorch has this as ``torch.func.functional_call``.

>>> import numpy as np, chainrule as cr
>>> _ = cr.manual_seed(0)
>>> model = cr.nn.Linear(3, 1, dtype=np.float64)
>>> x = cr.tensor(np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]]))
>>> params = {name: p.detach() for name, p in model.named_parameters()}
>>> def loss(params):
...     return (cr.functional_call(model, params, x) ** 2).mean()
>>> h = cr.hessian(loss)(params)
>>> h["weight"]["weight"].shape              # (1, 3) by (1, 3): the weights' Hessian block
(1, 3, 1, 3)
>>> bool(np.allclose(h["weight"]["weight"].data.reshape(3, 3), x.data.T @ x.data))
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np

from chainrule.tensor import Tensor

__all__ = ["functional_call"]


def functional_call(module, params: Mapping, *args, **kwargs):
    """``module(*args, **kwargs)`` with the parameters and buffers named in ``params`` swapped
    in for the call; names not in ``params`` keep the module's own values (as PyTorch's
    ``strict=False``). Values may be Tensors (on a graph or not) or ndarrays.

    >>> import chainrule as cr
    >>> model = cr.nn.Linear(1, 1)
    >>> params = {"weight": cr.tensor([[2.0]]), "bias": cr.tensor([0.5])}
    >>> cr.functional_call(model, params, cr.tensor([[3.0]]))   # 2 * 3 + 0.5, model unchanged
    tensor([[6.5]])
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"functional_call: params must be a dict from names to tensors, got "
            f"{type(params).__name__}"
        )
    with _swapped(module, params):
        return module(*args, **kwargs)


@contextlib.contextmanager
def _swapped(module, params: Mapping):
    replaced = []  # (registry, name, original), put back in reverse order
    try:
        for name, value in params.items():
            registry, attribute = _slot(module, name)
            original = registry[attribute]
            value = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))
            if original is not None and value.shape != original.shape:
                raise ValueError(
                    f"functional_call: '{name}' has shape {tuple(original.shape)} in the model, "
                    f"got {tuple(value.shape)}"
                )
            replaced.append((registry, attribute, original))
            registry[attribute] = value
        yield
    finally:
        for registry, attribute, original in reversed(replaced):
            registry[attribute] = original


def _slot(module, name: str):
    """The registry (a module's parameter or buffer dict) holding ``name``, and its key."""
    owner_path, _, attribute = name.rpartition(".")
    try:
        owner = module.get_submodule(owner_path)
    except AttributeError:
        owner = None
    for registry in (owner._parameters, owner._buffers) if owner is not None else ():
        if attribute in registry:
            return registry, attribute
    known = [n for n, _ in module.named_parameters()] + [n for n, _ in module.named_buffers()]
    raise KeyError(
        f"functional_call: '{name}' is not a parameter or buffer of "
        f"{type(module).__name__} (its names: {', '.join(known) or 'none'})"
    )
