"""Every public function and class has a docstring with a runnable example (``>>>``).

The examples themselves run as doctests (``--doctest-modules``); this checks that they are
there. Public means: the names in the ``__all__`` of the modules below, and the public methods
of the classes a newcomer works with. The few exemptions are listed with their reasons.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "chainrule",
    "chainrule.autograd",
    "chainrule.cli",
    "chainrule.colors",
    "chainrule.data",
    "chainrule.descent",
    "chainrule.descent_sweep",
    "chainrule.explain",
    "chainrule.expr",
    "chainrule.func",
    "chainrule.graph",
    "chainrule.io",
    "chainrule.nn",
    "chainrule.nn.functional",
    "chainrule.nn.init",
    "chainrule.nn.metrics",
    "chainrule.nn.utils",
    "chainrule.numeric",
    "chainrule.optim",
    "chainrule.optim.lr_scheduler",
    "chainrule.surfaces",
]
# present once the pictures are merged; checked when they import
OPTIONAL_MODULES = ["chainrule.viz"]

# classes whose public methods each need an example (other classes: the class docstring)
MAIN_CLASSES = [
    "chainrule.Tensor",
    "chainrule.Scalar",
    "chainrule.nn.Module",
    "chainrule.optim.Optimizer",
    "chainrule.expr.Formula",
    "chainrule.descent.Trajectory",
    "chainrule.explain.Report",
    "chainrule.surfaces.Surface",
    "chainrule.data.DataLoader",
    "chainrule.nn.History",
    "chainrule.descent_sweep.Sweep",
]

# Deliberately without an example of their own, and why:
EXEMPT_KINDS = {
    # exceptions: the examples of the functions that raise them show them (gradcheck's shows
    # GradcheckError, parse's ParseError, ...)
    "exception": lambda obj: inspect.isclass(obj) and issubclass(obj, BaseException),
}
EXEMPT_METHODS = {
    # PyTorch's Module hooks and plumbing, named and behaving as in torch.nn; Module's class
    # example shows the part a learner uses (parameters, state_dict, train/eval)
    "chainrule.nn.Module": {
        "forward",
        "extra_repr",
        "register_forward_pre_hook",
        "register_forward_hook",
        "register_parameter",
        "register_buffer",
        "add_module",
        "register_module",
        "get_submodule",
        "apply",
        "to",
        "cpu",
        "named_buffers",
        "buffers",
    },
}


def _resolve(dotted: str):
    """The object at ``dotted``: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def _documented(obj) -> bool:
    return ">>>" in (getattr(obj, "__doc__", None) or "")


def public_objects() -> dict[str, object]:
    """Every public function and class, by its first public dotted name."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    modules = list(PUBLIC_MODULES)
    for name in OPTIONAL_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        modules.append(name)
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            found[f"{module_name}.{name}"] = obj
    return found


def public_methods() -> dict[str, object]:
    """The public methods defined by each of MAIN_CLASSES (inherited ones: where defined)."""
    found: dict[str, object] = {}
    for class_name in MAIN_CLASSES:
        cls = _resolve(class_name)
        exempt = EXEMPT_METHODS.get(class_name, set())
        for name, member in vars(cls).items():
            if name.startswith("_") or name in exempt:
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, property) or not callable(member):
                continue  # attributes (shape, dtype, T): one line of docs, no example
            found[f"{class_name}.{name}"] = member
    return found


def _missing() -> list[str]:
    everything = {**public_objects(), **public_methods()}
    return sorted(
        name
        for name, obj in everything.items()
        if not _documented(obj) and not any(is_kind(obj) for is_kind in EXEMPT_KINDS.values())
    )


def test_every_public_name_has_an_example():
    missing = _missing()
    assert missing == [], "add a >>> example to each docstring:\n" + "\n".join(missing)


@pytest.mark.parametrize("class_name", MAIN_CLASSES)
def test_main_classes_exist(class_name):
    # a renamed class would silently drop out of the check above
    assert inspect.isclass(_resolve(class_name))


def test_the_check_sees_a_missing_example():
    def documented():
        """Twice.

        >>> 2 * 1
        2
        """

    def bare():
        """Twice."""

    assert _documented(documented) and not _documented(bare)
