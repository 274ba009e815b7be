"""What the transforms of ``chainrule.func`` share: arguments in, results out, nesting depth.

A transform takes the arguments it differentiates apart into leaves (``Arguments``), notes
each leaf's kind (a Python float, an ndarray, a Tensor, a Scalar) and dtype, and hands the
engine Tensors that stand for them. Results come back through ``deliver``: in the kind of
the leaf they belong to, or as Tensors on the graph when something may differentiate them
further (``Arguments.keep_graph``).

>>> import numpy as np
>>> spec = Arguments("grad", (2.0, np.array([1.0, 2.0], dtype=np.float32)), (0, 1))
>>> spec.kinds, [str(d) for d in spec.dtypes], spec.shapes
(['float', 'array'], ['float64', 'float32'], [(), (2,)])
"""

from __future__ import annotations

import contextlib

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.ops import astype, core, reshape, stack
from chainrule.ops.core import raw
from chainrule.pytree import tree_flatten, tree_unflatten
from chainrule.scalar import Scalar
from chainrule.tensor import Tensor

__all__ = [
    "ARRAY",
    "FLOAT",
    "SCALAR",
    "TENSOR",
    "Arguments",
    "ScalarOutput",
    "assemble",
    "check_argnums",
    "deliver",
    "inside",
    "output_tensor",
    "split_aux",
]

# the kinds of leaf a transform accepts, and gives back
FLOAT, ARRAY, TENSOR, SCALAR = "float", "array", "tensor", "scalar"


class _Depth:
    """How many transforms are evaluating their function right now (all of them, and those
    on the Scalar engine)."""

    all = 0
    scalar = 0


@contextlib.contextmanager
def inside(scalar_engine: bool = False):
    """While a transform evaluates its function: transforms called in there know they are
    nested, so they record their derivatives for the outer one."""
    _Depth.all += 1
    _Depth.scalar += scalar_engine
    try:
        yield
    finally:
        _Depth.all -= 1
        _Depth.scalar -= scalar_engine


def nested() -> bool:
    """Inside another transform, or inside a forward-mode jvp (whose tangents must flow
    through this transform's derivative, so it is recorded on Tensors)."""
    return _Depth.all > 0 or bool(core.forward_levels)


class ScalarOutput(Exception):
    """f returned a cr.Scalar (or Tensors holding Scalars): it was written for the Scalar
    engine."""


SCALAR_ENGINE_FIRST_ORDER = (
    "the Scalar engine gives first derivatives only (its local derivatives are plain floats). "
    "For higher derivatives pass floats, ndarrays or Tensors, and write f with operations "
    "that work on Tensors (x.sin(), cr.exp(x), x ** 2, ...), not with cr.Scalar"
)


def check_argnums(name: str, argnums) -> tuple[tuple[int, ...], bool]:
    """argnums as a tuple, and whether it was one int (the result is then not a tuple)."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (argnums,), True
    if isinstance(argnums, (tuple, list)) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in argnums
    ):
        return tuple(argnums), False
    raise TypeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}")


def _resolve_argnums(name: str, argnums: tuple, nargs: int) -> tuple[int, ...]:
    resolved = []
    for n in argnums:
        if not -nargs <= n < nargs:
            raise ValueError(
                f"{name}: argnums={n} is out of range: f was called with {nargs} positional "
                f"argument{'' if nargs == 1 else 's'} (valid argnums: "
                f"{'none' if nargs == 0 else f'{-nargs} to {nargs - 1}'})"
            )
        resolved.append(n % nargs)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{name}: argnums {argnums} names an argument twice")
    return tuple(resolved)


def _describe(value) -> str:
    if isinstance(value, (np.ndarray, Tensor)):
        return f"{type(value).__name__} of shape {value.shape}"
    return type(value).__name__


class Arguments:
    """The positional arguments of one call of a transformed function, the differentiated
    ones (``argnums``) taken apart into leaves."""

    def __init__(self, name: str, args, argnums: tuple, single: bool = False):
        if _Depth.scalar:
            raise RuntimeError(
                f"{name}: called inside a transform that runs on the Scalar engine; "
                + SCALAR_ENGINE_FIRST_ORDER
            )
        self.name = name
        self.args = list(args)
        self.argnums = _resolve_argnums(name, argnums, len(self.args))
        self.single = single
        self.treedefs = []
        self.leaves: list = []
        self.kinds: list[str] = []
        self.dtypes: list[np.dtype] = []
        self.shapes: list[tuple] = []
        self.counts: list[int] = []  # leaves per argnum
        for n in self.argnums:
            leaves, treedef = tree_flatten(self.args[n])
            self.treedefs.append(treedef)
            self.counts.append(len(leaves))
            for leaf, path in zip(leaves, treedef.paths()):
                kind, dtype, shape = self._classify(leaf, f"argument {n}{path}")
                self.leaves.append(leaf)
                self.kinds.append(kind)
                self.dtypes.append(dtype)
                self.shapes.append(shape)
        self.uses_scalars = SCALAR in self.kinds
        self.numbers_only = all(kind in (FLOAT, SCALAR) for kind in self.kinds)
        # a Tensor on a graph, or an outer transform: the derivatives must be recorded too
        self.keep_graph = nested() or any(
            isinstance(leaf, Tensor) and leaf.requires_grad for leaf in self.leaves
        )
        if TENSOR in self.kinds:
            self.out_kind = TENSOR
        elif self.numbers_only:
            self.out_kind = FLOAT
        else:
            self.out_kind = ARRAY

    def _classify(self, leaf, where: str) -> tuple[str, np.dtype, tuple]:
        if isinstance(leaf, Scalar):
            return SCALAR, np.dtype(np.float64), ()
        if isinstance(leaf, (bool, np.bool_)):
            raise TypeError(f"{self.name}: {where} is a bool, which cannot be differentiated")
        if isinstance(leaf, (int, float)):  # ints count as floats; floats enter as float64
            return FLOAT, np.dtype(np.float64), ()
        if isinstance(leaf, (Tensor, np.ndarray, np.generic)):
            dtype = leaf.dtype
            if not np.issubdtype(dtype, np.floating):
                raise TypeError(
                    f"{self.name}: {where} has dtype {dtype}; only floating-point values can be "
                    "differentiated (convert it, e.g. x.astype(np.float64))"
                )
            return (TENSOR if isinstance(leaf, Tensor) else ARRAY), dtype, tuple(np.shape(leaf))
        raise TypeError(
            f"{self.name}: {where} is a {_describe(leaf)}; transforms differentiate floats, "
            "ndarrays, Tensors and Scalars, and lists, tuples and dicts of them"
        )

    def variables(self) -> list[Tensor]:
        """A fresh Tensor requiring grad per leaf, for reverse mode.

        A Tensor leaf goes through an identity op (not a copy): derivatives then reach what
        made it (an outer transform's variable, a user's graph), and gradients taken with
        respect to this new graph object are not mixed with other uses of the same Tensor
        (as when f also closes over it: "perturbation confusion")."""
        made = []
        for leaf, kind, dtype in zip(self.leaves, self.kinds, self.dtypes):
            if kind == TENSOR:
                variable = reshape(leaf, leaf.shape)
                if not variable.requires_grad:
                    variable.requires_grad_()
            else:
                variable = Tensor._wrap(np.asarray(leaf, dtype=dtype)).requires_grad_()
            made.append(variable)
        return made

    def primals(self) -> list[Tensor]:
        """A Tensor per leaf for forward mode. A Tensor leaf goes through an identity op, so
        the kernel gets an object of its own (the same Tensor may be passed twice) that is
        still on the graph of whatever made the leaf."""
        with enable_grad():
            return [
                reshape(leaf, leaf.shape)
                if kind == TENSOR
                else Tensor._wrap(np.asarray(leaf, dtype=dtype))
                for leaf, kind, dtype in zip(self.leaves, self.kinds, self.dtypes)
            ]

    def scalars(self) -> list[Scalar]:
        """A fresh Scalar leaf per leaf, for the Scalar engine."""
        made = []
        for leaf, kind, shape, where in zip(self.leaves, self.kinds, self.shapes, self._wheres()):
            if kind not in (FLOAT, SCALAR) and shape != ():
                raise TypeError(
                    f"{self.name}: the Scalar engine differentiates functions of numbers; "
                    f"{where} is a {_describe(leaf)}"
                )
            made.append(Scalar(float(leaf.data if kind == SCALAR else raw(leaf))))
        return made

    def _wheres(self) -> list[str]:
        return [
            f"argument {n}{path}"
            for n, treedef in zip(self.argnums, self.treedefs)
            for path in treedef.paths()
        ]

    def rebuild(self, leaves: list) -> list:
        """The positional arguments with ``leaves`` in place of the differentiated ones."""
        args = list(self.args)
        for n, tree in zip(self.argnums, self.split(leaves)):
            args[n] = tree
        return args

    def split(self, leaves: list) -> list:
        """One pytree per argnum, of that argument's structure, holding ``leaves``."""
        trees = []
        start = 0
        for treedef, count in zip(self.treedefs, self.counts):
            trees.append(tree_unflatten(treedef, leaves[start : start + count]))
            start += count
        return trees

    def package(self, leaves: list):
        """Per-leaf results as the transform returns them: one tree for an int argnums, a
        tuple of trees for a tuple."""
        trees = self.split(leaves)
        return trees[0] if self.single else tuple(trees)


def split_aux(name: str, result, has_aux: bool):
    """(output, aux) of f's result."""
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        what = (
            f"a {type(result).__name__} of {len(result)}"
            if isinstance(result, (tuple, list))
            else f"a {_describe(result)}"
        )
        raise TypeError(f"{name}: has_aux=True needs f to return a pair (output, aux), got {what}")
    return result[0], result[1]


def output_tensor(name: str, leaf) -> Tensor:
    """A leaf of f's output as a Tensor (a number or an array becomes a constant)."""
    if isinstance(leaf, Tensor):
        if leaf.dtype == object:
            raise ScalarOutput
        return leaf
    if isinstance(leaf, Scalar):
        raise ScalarOutput
    array = np.asarray(leaf)
    if array.dtype == object and any(isinstance(x, Scalar) for x in array.flat):
        raise ScalarOutput
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(
            f"{name}: f must return Tensors, arrays or numbers (or lists, tuples, dicts of "
            f"them); it returned a {_describe(leaf)}"
        )
    return Tensor._wrap(array)


def cast(value, dtype):
    """value (a Tensor, an array or a number) in ``dtype``; recorded for a Tensor."""
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else astype(value, dtype)
    return np.asarray(value, dtype=dtype)


def deliver(value, kind: str, keep_graph: bool):
    """A result as the caller gets it: a Tensor (on the graph where it depends on it) if
    ``keep_graph``, so that whoever differentiates further always gets Tensors; otherwise in
    ``kind``: a float (0-d) or an ndarray for floats and Scalars, an ndarray for arrays, a
    Tensor (off the graph) for Tensors."""
    if keep_graph:
        return value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))
    array = np.asarray(raw(value))
    if kind == TENSOR:
        return Tensor._wrap(array)
    if kind in (FLOAT, SCALAR) and array.ndim == 0:
        return float(array)
    return array


def assemble(pieces: list, shape: tuple, dtype, axis: int, keep_graph: bool):
    """Rows (``axis=0``) or columns (``axis=-1``) of a Jacobian block stacked and shaped to
    ``shape``; recorded when ``keep_graph``."""
    if not pieces:
        return np.zeros(shape, dtype)
    if keep_graph and any(isinstance(p, Tensor) for p in pieces):
        tensors = [p if isinstance(p, Tensor) else Tensor._wrap(np.asarray(p)) for p in pieces]
        return cast(stack(tensors, axis=axis).reshape(shape), dtype)
    arrays = [np.asarray(raw(p)) for p in pieces]
    return np.stack(arrays, axis=axis).reshape(shape).astype(dtype, copy=False)
