"""How the transforms of ``chainrule.func`` compute: f evaluated once, then derivatives.

Reverse mode evaluates f on Tensors (``TensorPullback``) or, for functions written for the
Scalar engine, on Scalars (``ScalarPullback``), and pulls cotangents back with backward
passes, as often as needed (one per output element for a Jacobian). Forward mode
(``push_forward``) pushes tangents through f with ``chainrule.forward.jvp``, one call per set
of input tangents (one per input element for a Jacobian). The Jacobian's blocks are then
stacked from those rows or columns.
"""

from __future__ import annotations

import numpy as np

from chainrule import forward
from chainrule.autograd import enable_grad
from chainrule.autograd import grad as _backward_grad
from chainrule.graph import topological_order
from chainrule.ops.core import raw
from chainrule.pytree import tree_flatten
from chainrule.scalar import Scalar
from chainrule.tensor import Tensor
from chainrule.transform_args import (
    SCALAR_ENGINE_FIRST_ORDER,
    Arguments,
    ScalarOutput,
    assemble,
    inside,
    output_tensor,
    split_aux,
)

__all__ = [
    "ScalarPullback",
    "TensorPullback",
    "forward_blocks",
    "linearize",
    "output_dtype",
    "output_shape",
    "output_value",
    "push_forward",
    "reverse_blocks",
    "tangent_basis",
]


class TensorPullback:
    """f evaluated on Tensors standing for its arguments, ready for backward passes."""

    def __init__(self, name: str, f, spec: Arguments, has_aux: bool, kwargs: dict):
        self.keep_graph = spec.keep_graph
        with enable_grad():
            self.variables = spec.variables()
            with inside():
                result = f(*spec.rebuild(self.variables), **kwargs)
        out, self.aux = split_aux(name, result, has_aux)
        leaves, self.treedef = tree_flatten(out)
        self.outputs = [output_tensor(name, leaf) for leaf in leaves]

    def pull(self, cotangents: list) -> tuple[list, bool]:
        """The cotangent of each input (None for zero) for one cotangent per output (None for
        zero), and whether they were recorded on the graph."""
        roots, seeds = [], []
        for out, cotangent in zip(self.outputs, cotangents):
            if cotangent is not None and out.requires_grad:
                roots.append(out)
                seeds.append(cotangent)
        record = self.keep_graph or any(isinstance(s, Tensor) and s.requires_grad for s in seeds)
        if not roots:
            return [None] * len(self.variables), record
        grads = _backward_grad(
            roots, self.variables, grad_outputs=seeds, retain_graph=True, create_graph=record
        )
        return list(grads), record


class ScalarPullback:
    """f evaluated on Scalars (the readable engine), ready for backward passes."""

    keep_graph = False

    def __init__(self, name: str, f, spec: Arguments, has_aux: bool, kwargs: dict):
        self.variables = spec.scalars()
        with inside(scalar_engine=True):
            result = f(*spec.rebuild(self.variables), **kwargs)
        out, self.aux = split_aux(name, result, has_aux)
        leaves, self.treedef = tree_flatten(out)
        self.outputs = [self._output(name, leaf) for leaf in leaves]
        # every node backward will write .grad into, Scalars of the caller's (f's closure) too
        self._nodes = list({id(n): n for o in self.outputs for n in topological_order(o)}.values())

    @staticmethod
    def _output(name: str, leaf) -> Scalar:
        if isinstance(leaf, Scalar):
            return leaf
        if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
            return Scalar(leaf)  # a constant
        raise TypeError(
            f"{name}: on the Scalar engine f must return Scalars or numbers (or lists, tuples, "
            f"dicts of them), got a {type(leaf).__name__}"
        )

    def pull(self, cotangents: list) -> tuple[list, bool]:
        """As TensorPullback.pull; the ``.grad`` of every Scalar is left as it was found."""
        saved = [(node, node.grad) for node in self._nodes]
        for variable in self.variables:
            variable.grad = 0.0
        for out, cotangent in zip(self.outputs, cotangents):
            if cotangent is not None:
                out.backward(float(raw(cotangent)))  # leaves add up what each output sends
        grads = [variable.grad for variable in self.variables]
        for node, grad in saved:
            node.grad = grad
        return grads, False


def refuse_scalar_output(name: str, spec: Arguments) -> None:
    """f returned a Scalar on Tensors: fine (the Scalar engine takes over) only for numbers."""
    if not spec.numbers_only:
        raise TypeError(
            f"{name}: f returned a cr.Scalar (or Tensors holding Scalars) when called on "
            "Tensors; the Scalar engine takes over only where f's arguments are plain numbers. "
            "Also, " + SCALAR_ENGINE_FIRST_ORDER
        )


def linearize(name: str, f, spec: Arguments, has_aux: bool, kwargs: dict):
    """f evaluated for reverse mode, on the engine its arguments (or its output) call for."""
    if spec.uses_scalars:
        return ScalarPullback(name, f, spec, has_aux, kwargs)
    try:
        return TensorPullback(name, f, spec, has_aux, kwargs)
    except ScalarOutput:
        refuse_scalar_output(name, spec)
    return ScalarPullback(name, f, spec, has_aux, kwargs)


def push_forward(name: str, f, spec: Arguments, has_aux: bool, kwargs: dict, tangent_sets):
    """Forward mode: f's outputs, and for each list of input tangents the output tangents.
    None when f turns out to be written for the Scalar engine."""
    if spec.uses_scalars:
        return None
    found = {}

    def flat_f(*tensors):
        with inside():
            result = f(*spec.rebuild(list(tensors)), **kwargs)
        out, found["aux"] = split_aux(name, result, has_aux)
        leaves, found["treedef"] = tree_flatten(out)
        return [output_tensor(name, leaf) for leaf in leaves]

    primals = spec.primals()
    try:
        if not tangent_sets:
            return flat_f(*primals), [], found["treedef"], found["aux"]
        pushed = [forward.jvp(flat_f, primals, tangents) for tangents in tangent_sets]
    except ScalarOutput:
        refuse_scalar_output(name, spec)
        return None
    return pushed[-1][0], [dots for _, dots in pushed], found["treedef"], found["aux"]


# -- Jacobians, row by row or column by column -----------------------------------------------------


def reverse_blocks(spec: Arguments, pullback) -> list[list]:
    """blocks[i][j] = d output i / d input j, row by row: one backward pass per output
    element."""
    blocks = []
    for i, out in enumerate(pullback.outputs):
        shape, dtype = output_shape(out), output_dtype(out)
        rows = [[] for _ in spec.leaves]
        if isinstance(out, Scalar) or out.requires_grad:
            for index in np.ndindex(shape):
                seed = np.zeros(shape, dtype)
                seed[index] = 1
                cotangents = [None] * len(pullback.outputs)
                cotangents[i] = seed
                grads, _ = pullback.pull(cotangents)
                for row, g, in_shape, in_dtype in zip(rows, grads, spec.shapes, spec.dtypes):
                    row.append(np.zeros(in_shape, in_dtype) if g is None else g)
        blocks.append(
            [
                assemble(
                    row,
                    shape + in_shape,
                    np.result_type(dtype, in_dtype),
                    0,
                    pullback.keep_graph,
                )
                for row, in_shape, in_dtype in zip(rows, spec.shapes, spec.dtypes)
            ]
        )
    return blocks


def tangent_basis(spec: Arguments) -> list[list]:
    """One list of input tangents per input element: a one there, zeros everywhere else."""
    sets = []
    for j, shape in enumerate(spec.shapes):
        for index in np.ndindex(shape):
            tangents = [np.zeros(s, d) for s, d in zip(spec.shapes, spec.dtypes)]
            tangents[j][index] = 1
            sets.append(tangents)
    return sets


def forward_blocks(spec: Arguments, outputs: list, dot_sets: list) -> list[list]:
    """blocks[i][j] = d output i / d input j, column by column, from the output tangents of
    ``tangent_basis``'s sets."""
    starts = np.cumsum([0] + [int(np.prod(s)) for s in spec.shapes])
    return [
        [
            assemble(
                [dots[i] for dots in dot_sets[starts[j] : starts[j + 1]]],
                out.shape + in_shape,
                np.result_type(out.dtype, in_dtype),
                -1,
                spec.keep_graph,
            )
            for j, (in_shape, in_dtype) in enumerate(zip(spec.shapes, spec.dtypes))
        ]
        for i, out in enumerate(outputs)
    ]


# -- outputs of either engine ----------------------------------------------------------------------


def output_shape(out) -> tuple:
    return () if isinstance(out, Scalar) else out.shape


def output_dtype(out) -> np.dtype:
    return np.dtype(np.float64) if isinstance(out, Scalar) else out.dtype


def output_value(out):
    return out.data if isinstance(out, Scalar) else out
