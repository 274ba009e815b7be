"""Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered collections).

Children are registered under their index or key, so parameters are named ``0.weight``,
``layers.2.bias``, ``heads.cls.weight``, as in PyTorch.

>>> import chainrule as cr
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())
>>> model
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
)
>>> list(model.state_dict())
['0.weight', '0.bias']
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from chainrule.nn.module import Module, _indent

__all__ = ["ModuleDict", "ModuleList", "Sequential"]


def _index(index: int, length: int, kind: str) -> int:
    try:
        index = operator.index(index)  # ints and NumPy integers
    except TypeError:
        raise TypeError(
            f"{kind} indices must be integers or slices, not {type(index).__name__}"
        ) from None
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a {kind} of length {length}")
    return index % length


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Also built from an OrderedDict of name -> module, whose names then name the parameters.

    >>> import chainrule as cr
    >>> model = cr.nn.Sequential(cr.nn.Linear(2, 4), cr.nn.ReLU(), cr.nn.Linear(4, 1))
    >>> model(cr.zeros(8, 2)).shape, len(model), type(model[1]).__name__
    ((8, 1), 3, 'ReLU')
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        keys = list(self._modules)
        return self._modules[keys[_index(index, len(keys), "Sequential")]]

    def __setitem__(self, index: int, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_index(index, len(keys), "Sequential")], module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [keys[_index(index, len(keys), "")]]
        for key in doomed:
            del self._modules[key]
        self._renumber(list(self._modules.values()))

    def _renumber(self, modules: list) -> None:
        # names stay 0..n-1, as in PyTorch
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put a module before position ``index`` (later ones move up by one)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        length = len(self)
        if not -length <= index <= length:
            raise IndexError(f"index {index} is out of range for a Sequential of length {length}")
        index = index + length if index < 0 else index
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them).

    >>> import chainrule as cr
    >>> layers = cr.nn.ModuleList([cr.nn.Linear(2, 2) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))  # every layer's weight and bias is registered
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_index(index, len(self), "ModuleList"))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_index(index, len(self), "ModuleList")), module)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        del modules[index]
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError("ModuleList.extend takes an iterable of modules, got one Module")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __repr__(self) -> str:
        # runs of equal children shown once, as PyTorch does: "(0-2): 3 x Linear(...)"
        shown = [repr(module) for module in self]
        if not shown:
            return "ModuleList()"
        lines, start = [], 0
        for end in range(1, len(shown) + 1):
            if end < len(shown) and shown[end] == shown[start]:
                continue
            count = end - start
            label = f"({start})" if count == 1 else f"({start}-{end - 1}): {count} x"
            separator = ": " if count == 1 else " "
            lines.append(f"{label}{separator}{_indent(shown[start], 2)}")
            start = end
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order.

    >>> import chainrule as cr
    >>> heads = cr.nn.ModuleDict({"a": cr.nn.Linear(2, 1), "b": cr.nn.Linear(2, 3)})
    >>> sorted(heads.keys()), heads["b"](cr.zeros(1, 2)).shape
    (['a', 'b'], (1, 3))
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def update(self, modules) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for key, module in pairs:
            self[key] = module
