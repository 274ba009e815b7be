"""Module: the base class of layers and models, PyTorch's ``nn.Module``.

A Module registers what is assigned to its attributes: a Parameter becomes one of its
parameters, a Module one of its children, and ``register_buffer`` adds state that is saved
but not learned. From that registry come ``parameters()``, ``named_modules()``,
``state_dict()`` and ``load_state_dict()``, with PyTorch's order and dotted names
(``0.weight``, ``encoder.fc1.bias``), so checkpoints carry over between the two.

>>> import chainrule as cr
>>> class Net(cr.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc1 = cr.nn.Linear(4, 3)
...         self.fc2 = cr.nn.Linear(3, 1)
...     def forward(self, x):
...         return self.fc2(self.fc1(x).relu())
>>> net = Net()
>>> [name for name, _ in net.named_parameters()]
['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
>>> net(cr.randn(5, 4)).shape
(5, 1)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

__all__ = ["IncompatibleKeys", "Module"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` could not match: keys the model wanted but did not get, and
    keys it got but has no place for (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )

    __str__ = __repr__


class _RemovableHandle:
    """Returned by the register_*_hook methods: ``remove()`` takes the hook away."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _indent(text: str, spaces: int) -> str:
    """Every line but the first indented by ``spaces`` (PyTorch's _addindent)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for layers and models: subclass it, assign layers and Parameters in
    ``__init__`` (after ``super().__init__()``), and write ``forward``.

    >>> import chainrule as cr
    >>> class Line(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = cr.nn.Parameter(cr.tensor([2.0]))
    ...     def forward(self, x):
    ...         return self.w * x
    >>> line = Line()
    >>> line(cr.tensor([3.0])), [name for name, _ in line.named_parameters()]
    (tensor([6.], op=multiply), ['w'])
    >>> line.state_dict()
    OrderedDict([('w', tensor([2.]))])
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ reads these dictionaries
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out

    def register_forward_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(module, args)`` runs before forward; a returned value replaces the args."""
        handle = _RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> _RemovableHandle:
        """``hook(module, args, output)`` runs after forward; a returned value replaces the
        output."""
        handle = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # -- registration ----------------------------------------------------------------------

    def _check_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent one, as a bias=False layer's)."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(cr.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not learned: saved in ``state_dict()`` unless not persistent."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(a Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module, reachable as an attribute and named ``name`` in dotted keys."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(cr.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(a Module or None expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(a Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry and the instance dictionary."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # only called when ordinary lookup fails: the registries
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            found = registries.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    # -- walking the tree --------------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh())
        >>> [name for name, _ in model.named_modules()]
        ['', '0', '1']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, each once.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh())
        >>> [type(m).__name__ for m in model.modules()]      # itself first, then every submodule
        ['Sequential', 'Linear', 'Tanh']
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh())
        >>> [name for name, _ in model.named_children()]
        ['0', '1']
        """
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules, in the order they were set.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Sequential(cr.nn.Tanh()))
        >>> [type(m).__name__ for m in model.children()]     # direct submodules only
        ['Linear', 'Sequential']
        """
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """(dotted name, parameter) in PyTorch's order: a module's own, then its children's.
        A parameter shared by two modules comes once, under its first name.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
        >>> [(name, tuple(p.shape)) for name, p in model.named_parameters()]
        [('0.weight', (3, 2)), ('0.bias', (3,)), ('2.weight', (1, 3)), ('2.bias', (1,))]
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and its submodules, each once.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
        >>> sum(p.numel() for p in model.parameters())   # 2*3 + 3 + 3*1 + 1
        13
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path (``"encoder.0"``); ``""`` is this module."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}'")
            module = module._modules[part]
        return module

    # -- modes and in-place changes ----------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Dropout(0.5))
        >>> model.train().training, model[0].training         # train mode: dropout drops
        (True, True)
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``); returns self.

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Dropout(0.5))
        >>> model.eval().training, model(cr.ones(4))          # eval mode: dropout passes through
        (False, tensor([1., 1., 1., 1.]))
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Make every parameter require grad (or stop, to freeze them); returns self.

        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(2, 1).requires_grad_(False)   # freeze it
        >>> [p.requires_grad for p in layer.parameters()]
        [False, False]
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default), or to zeros in place.

        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(2, 1)
        >>> layer(cr.ones(1, 2)).sum().backward()
        >>> layer.zero_grad()
        >>> layer.weight.grad is None                         # set_to_none, as in PyTorch
        True
        """
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call ``fn`` on every child (recursively), then on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Cast floating-point parameters and buffers to a dtype, in place: ``to(np.float64)``
        or ``to(dtype=...)``. A device argument is accepted only as ``"cpu"``."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device) != "cpu":
            raise ValueError(f"chainrule runs on the CPU only, got device {device!r}")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to() casts to a floating dtype only, got {dtype}")
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.data.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad.data = tensor.grad.data.astype(dtype)
        return self

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64.

        >>> import chainrule as cr
        >>> cr.nn.Linear(2, 1).double().weight.dtype
        dtype('float64')
        """
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32.

        >>> import chainrule as cr
        >>> cr.nn.Linear(2, 1).double().float().weight.dtype
        dtype('float32')
        """
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self

    # -- state dict --------------------------------------------------------------------------

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of name -> Tensor: every parameter, then every persistent buffer,
        module by module in PyTorch's order. Tensors share memory with the model (detached
        unless ``keep_vars``).

        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
        >>> list(model.state_dict())                          # PyTorch's key names
        ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _load_own(self, state_dict, prefix: str, missing: list, errors: list) -> set:
        """Copy this module's entries in place; returns the keys it used."""
        used = set()
        persistent = {
            k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set
        }
        for name, target in [*self._parameters.items(), *persistent.items()]:
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                if not self._tolerates_missing(name):
                    missing.append(key)
                continue
            used.add(key)
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
                continue
            target.data[...] = array  # in place: an optimizer holding it sees the new values
        return used

    def _tolerates_missing(self, name: str) -> bool:
        """Whether a checkpoint may lack this entry (BatchNorm's num_batches_tracked)."""
        return False

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        With ``strict`` (default), missing or unexpected keys raise; shape mismatches always
        do, naming each key and both shapes. Returns the missing and unexpected keys.

        >>> import chainrule as cr
        >>> a, b = cr.nn.Linear(2, 1), cr.nn.Linear(2, 1)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a mapping of name -> tensor, got {type(state_dict)}")
        missing: list = []
        errors: list = []
        used: set = set()
        for prefix, module in self.named_modules():
            used |= module._load_own(state_dict, prefix + "." if prefix else "", missing, errors)
        unexpected = [key for key in state_dict.keys() if key not in used]
        if strict:
            if unexpected:
                shown = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {shown}. ")
            if missing:
                shown = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {shown}. ")
        if errors:
            details = "\n\t".join(errors)
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t{details}"
            )
        return IncompatibleKeys(missing, unexpected)

    # -- printing ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_indent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"
