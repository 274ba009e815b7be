"""The Optimizer base class: parameter groups, per-parameter state, the step loop, checkpoints.

An optimizer holds its parameters in *groups* (a list of dicts: ``"params"`` and the
hyperparameters that apply to them, defaults filled in), and a *state* per parameter
(momentum buffers, running averages, a step count). ``step()`` walks every parameter that has
a gradient and applies the subclass's update rule, in place, under ``cr.no_grad()``.

A subclass writes two small functions, the whole of its algorithm:

- ``_init_state(p, group) -> dict``: the state of a parameter before its first step;
- ``_update(p, g, state, group)``: one step on ndarrays: ``p`` the parameter's values
  (changed in place), ``g`` its gradient (read only), ``state`` its state (changed in place).

The names, defaults, hyperparameter checks and ``state_dict`` layout are PyTorch's, so a
training loop written for ``torch.optim`` runs unchanged and gives the same numbers.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, -2.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()     # gradient 2w = [2, -4]
>>> opt.step()                   # w - 0.1 * 2w
>>> w
tensor([ 0.8, -1.6], requires_grad=True)
>>> opt.zero_grad()
>>> w.grad is None
True
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from chainrule.autograd import enable_grad, no_grad
from chainrule.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of all optimizers: param groups, state, ``step``, ``zero_grad``, checkpoints.

    ``params`` is an iterable of Tensors, or of dicts (one per param group) with a
    ``"params"`` entry and any hyperparameters that differ from ``defaults`` for that group.

    >>> import chainrule as cr
    >>> a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    >>> opt = cr.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults, where="")
        # keyed by the parameter Tensor itself (Tensors hash by identity), as in PyTorch
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        # reusable work arrays, one per (purpose, shape, dtype): not state, never saved
        self._buffers: dict[tuple, np.ndarray] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Tensors or of dicts (param groups), "
                "got a single Tensor: pass [tensor]"
            )
        _check_ordered(params)
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer got an empty list of parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- what a subclass writes -------------------------------------------------------------

    def _init_state(self, p: np.ndarray, group: dict) -> dict:
        """The state of parameter values ``p`` before its first step."""
        raise NotImplementedError

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        """One step of the algorithm on arrays: change ``p`` and ``state`` in place."""
        raise NotImplementedError

    @classmethod
    def _validate(cls, group: dict, where: str) -> None:
        """Raise ValueError naming the first hyperparameter of ``group`` that is out of range
        (``where`` says which group, for the message)."""

    # -- groups ------------------------------------------------------------------------------

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (a dict with ``"params"`` and optional hyperparameters),
        for example layers unfrozen during fine-tuning.

        >>> import chainrule as cr
        >>> a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.SGD([a], lr=0.1)
        >>> opt.add_param_group({"params": [b], "lr": 0.01})   # b learns ten times slower
        >>> [group["lr"] for group in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a param group needs a 'params' entry (its tensors)")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        _check_ordered(params)
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"params must be Tensors, item {i} of the group is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (item {i} of the group was computed "
                    "from other tensors): optimize the tensors it was computed from"
                )
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "a param group contains the same parameter twice; it is updated once per step",
                UserWarning,
                stacklevel=2,
            )
            params = list({id(p): p for p in params}.values())
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        where = f" (param group {len(self.param_groups)})" if self.param_groups else ""
        self._validate(group, where)
        self.param_groups.append(group)

    # -- the training-loop calls -------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or fill them with zeros.

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1)
        >>> (w * 3).sum().backward()
        >>> opt.zero_grad()
        >>> w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif grad._node is None and grad.data.flags.writeable:
                    grad.data[...] = 0
                else:  # a gradient that is part of a graph (create_graph) is not changed
                    p.grad = Tensor._wrap(np.zeros_like(grad.data))

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient, once; returns what ``closure`` returned.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with grad
        recording on, before the update.

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1)
        >>> (w ** 2).sum().backward()                    # gradient 2w = 2
        >>> opt.step()                                   # w - 0.1 * 2
        >>> w
        tensor([0.8], requires_grad=True)
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state.update(self._init_state(p.data, group))
                    self._update(p.data, _gradient_array(p), state, group)
        return loss

    # -- checkpoints -------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """A snapshot of the optimizer, in PyTorch's layout.

        ``{"state": {index: {name: Tensor}}, "param_groups": [{..., "params": [index]}]}``:
        parameters are numbered in the order of the groups; every state value is a Tensor
        (copied), the step count a 0-d float32 Tensor as in PyTorch.

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
        (tensor([2., 4.]), [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {
                        name: _saved(name, value) for name, value in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a snapshot made by ``state_dict()`` (of an optimizer of the same kind, over
        parameters of the same shapes, grouped the same way): hyperparameters and state.

        State values may be Tensors, ndarrays or numbers; buffers take the dtype of their
        parameter. Indices may be ints or their strings (as some file formats keep them).

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = cr.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> again = cr.optim.Adam([w])
        >>> again.load_state_dict(opt.state_dict())
        >>> again.param_groups[0]["lr"], again.state[w]["step"], again.state[w]["exp_avg"]
        (0.1, 1, tensor([0.2, 0.4]))
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state dict has {len(saved_groups)} param groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"param group {i} of the state dict has {len(saved['params'])} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
            for index, p in zip(saved["params"], group["params"]):
                by_index[int(index)] = p
        states = {}
        for key, saved_state in state_dict["state"].items():
            index = int(key)
            if index not in by_index:
                raise ValueError(
                    f"the state dict has state for parameter {index}, which no group has"
                )
            p = by_index[index]
            states[p] = {
                name: _loaded(name, value, p, index) for name, value in saved_state.items()
            }
        new_groups = []
        for i, saved in enumerate(saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            self._validate(new, f" (param group {i} of the state dict)")
            new_groups.append(new)
        # everything checked: now replace (a failed load leaves the optimizer as it was)
        for group, new in zip(self.param_groups, new_groups):
            params = group["params"]
            group.clear()
            group.update(new)
            group["params"] = params
        self.state = defaultdict(dict, states)

    # -- helpers for the update rules --------------------------------------------------------

    def _buffer(self, purpose: str, like: np.ndarray) -> np.ndarray:
        """A work array of ``like``'s shape and dtype, reused from step to step.

        A fresh temporary per parameter per step sends the allocator to the OS for pages
        again and again; one buffer per shape, reused, does not. Parameters share it, one at
        a time.
        """
        key = (purpose, like.shape, like.dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = np.empty_like(like)
        return buffer

    def _adjusted_grad(self, p: np.ndarray, g: np.ndarray, weight_decay, maximize) -> np.ndarray:
        """The gradient as PyTorch's rules use it: negated under ``maximize``, plus
        ``weight_decay * p`` (the L2 penalty's gradient); ``g`` itself is not changed."""
        if not weight_decay and not maximize:
            return g
        out = self._buffer("grad", p)
        if not weight_decay:
            return np.negative(g, out=out)
        np.multiply(p, weight_decay, out=out)
        if maximize:
            out -= g
        else:
            out += g
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for name in sorted(group):
                if name != "params":
                    lines.append(f"    {name}: {group[name]}")
        lines.append(")")
        return "\n".join(lines)


def _check_ordered(params) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            "params must be an ordered collection (a list or tuple), not a set: the order of "
            "parameters must be the same from run to run (state_dict numbers them in order)"
        )


def _gradient_array(p: Tensor) -> np.ndarray:
    g = p.grad.data
    if g.shape != p.data.shape:
        raise ValueError(f"a parameter of shape {p.data.shape} has a gradient of shape {g.shape}")
    return g


def _saved(name: str, value) -> Tensor:
    if name == "step":
        return Tensor._wrap(np.array(value, dtype=np.float32))
    array = value.data if isinstance(value, Tensor) else value
    return Tensor._wrap(np.array(array, copy=True))


def _loaded(name: str, value, p: Tensor, index: int):
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if name == "step":
        if array.size != 1:
            raise ValueError(f"state of parameter {index}: 'step' must be one number")
        return int(array.item())
    if array.shape != p.data.shape:
        raise ValueError(
            f"state of parameter {index}: '{name}' has shape {array.shape}, the parameter "
            f"{p.data.shape}"
        )
    # a copy, so the optimizer never writes into the caller's checkpoint
    dtype = p.data.dtype if np.issubdtype(array.dtype, np.floating) else array.dtype
    return Tensor._wrap(np.array(array, dtype=dtype, copy=True))


# -- hyperparameter checks shared by the optimizers ---------------------------------------


def check_number(group: dict, name: str, where: str, low: float = 0.0, high=None) -> None:
    """Raise ValueError unless ``group[name]`` is a number in [low, high) (high: no bound)."""
    value = group[name]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}{where}")
    if value < low or (high is not None and value >= high) or value != value:
        bound = f"in [{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {bound}, got {value}{where}")


def check_betas(group: dict, where: str) -> None:
    betas = group["betas"]
    if not isinstance(betas, Iterable) or len(tuple(betas)) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}{where}")
    for i, beta in enumerate(betas):
        check_number({f"betas[{i}]": beta}, f"betas[{i}]", where, 0.0, 1.0)
