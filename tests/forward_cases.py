"""The op tables of the Tensor tests as one list of rows for forward mode, and its checks.

Nothing is copied: the rows come from the tables of test_tensor_elementwise, _reductions,
_shape and _linalg (their inputs random and asymmetric, see tests/tensor_cases.py), so a case
added there is checked in forward mode too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

import chainrule as cr
from chainrule.forward import jvp
from tests import test_tensor_elementwise as elementwise
from tests import test_tensor_linalg as linalg
from tests import test_tensor_reductions as reductions
from tests import test_tensor_shape as shape
from tests.tensor_cases import draw, rng


@dataclass(frozen=True)
class Row:
    """One function of Tensors, its inputs, and its torch spelling (None: not comparable)."""

    name: str
    fn: Callable
    make_inputs: Callable
    torch_fn: Callable | None = None
    atol: float = 1e-6  # for comparisons with finite differences

    def inputs(self) -> list[np.ndarray]:
        return [np.array(a, dtype=np.float64) for a in self.make_inputs()]

    def __str__(self) -> str:
        return self.name


def _from_case(case, prefix: str) -> Row:
    """A row of tests.tensor_cases.Case (elementwise, shape) or of the linalg table."""
    torch_fn = (case.torch_fn or case.fn) if getattr(case, "torch", True) else None
    return Row(f"{prefix} {case.name}", case.fn, case.inputs, torch_fn)


def _reduction_row(param) -> Row:
    reduction, axis, keep = param.values
    return Row(
        f"reduction {param.id}",
        lambda x: reduction.fn(x, axis, keep),
        lambda: [draw(reductions.SHAPE)],
        lambda t: reduction.torch_fn(t, reductions._dims(axis), keep),
    )


def _softmax_rows() -> list[Row]:
    rows = []
    for name, fn, torch_fn in reductions.SOFTMAX_FAMILY:
        rows.append(Row(f"{name}", fn, lambda: [draw((3, 4))], torch_fn or fn))
        # logits of +-1000: the finite differences' step is 1000 times larger there
        rows.append(
            Row(f"{name} at +-1000", fn, lambda: [reductions.LOGITS], torch_fn or fn, atol=1e-4)
        )
    return rows


def _cumsum_rows() -> list[Row]:
    return [
        Row(f"cumsum {name}", fn, lambda: [draw(reductions.SHAPE)], torch_fn)
        for name, fn, torch_fn in reductions.CUMSUM
    ]


def _prod_with_zeros_rows() -> list[Row]:
    rows = []
    for label, values in reductions.WITH_ZEROS.items():
        for axis in reductions.PROD_AXES:
            rows.append(
                Row(
                    f"prod {label} axis={axis}",
                    lambda x, axis=axis: x.prod(axis=axis),
                    lambda values=values: [values],
                    lambda t, axis=axis: reductions._torch_prod(t, reductions._dims2(axis), False),
                )
            )
    return rows


# (torch.clip takes no tensor bounds: the elementwise tests compare only the clamp rows)
ELEMENTWISE = [
    _from_case(c, "elementwise")
    for c in elementwise.UNARY + elementwise.BINARY + elementwise.TENSOR_BOUNDS[1:]
] + [_from_case(replace(elementwise.TENSOR_BOUNDS[0], torch=False), "elementwise")]
REDUCTIONS = (
    [_reduction_row(p) for p in reductions.GRID]
    + _softmax_rows()
    + _cumsum_rows()
    + _prod_with_zeros_rows()
)
SHAPE = [_from_case(c, "shape") for c in shape.ALL]
LINALG = [_from_case(c, "linalg") for c in linalg.CASES]


def _nn_rows() -> list[Row]:
    """cr.nn's primitives (layers and losses), and their VJP primitives reached through
    cr.grad, which forward mode then runs on Tensors (forward over reverse)."""
    import torch.nn.functional as TF  # noqa: N812  (only called by tests marked needs_torch)

    F = cr.nn.functional  # noqa: N806
    labels = np.array([2, 0, 1, 2])
    c_conv, c_pool = draw((2, 3, 5, 5), salt=40), draw((2, 2, 2, 2), salt=41)

    def t(array):
        import torch

        return torch.tensor(array)

    def conv_input_grad(x, w):
        return cr.grad(lambda a: (F.conv2d(a, w, padding=1) * c_conv).sum())(x)

    def conv_weight_grad(x, w):
        return cr.grad(lambda b: (F.conv2d(x, b, padding=1) * c_conv).sum())(w)

    def pool_grad(pool):
        return lambda x: cr.grad(lambda a: (pool(a, 2) * c_pool).sum())(x) * x

    def pool_grad_transposed(x, c):
        # d/dc of <scatter(c, x), d>: the VJP of max-pooling's VJP, which gathers d at x's maxima
        def inner(cc):
            return (
                cr.grad(lambda a: (F.max_pool2d(a, 2) * cc).sum())(x) * c_conv[:, :2, :4, :4]
            ).sum()

        return cr.grad(inner)(c) * (c * c).sum()  # (gather alone is piecewise constant)

    return [
        Row(
            "nn max_pool2d gradient's transpose",
            pool_grad_transposed,
            lambda: [draw((2, 2, 4, 4), salt=37), draw((2, 2, 2, 2), salt=45)],
        ),
        Row(
            "nn linear",
            F.linear,
            lambda: [draw((4, 3), salt=30), draw((2, 3), salt=31), draw((2,), salt=32)],
            TF.linear,
        ),
        Row(
            "nn embedding",
            lambda w: F.embedding(cr.tensor(labels), w),
            lambda: [draw((3, 2), salt=33)],
            lambda w: TF.embedding(t(labels), w),
        ),
        Row(
            "nn conv2d",
            lambda x, w, b: F.conv2d(x, w, b, padding=1),
            lambda: [draw((2, 2, 5, 5), salt=34), draw((3, 2, 3, 3), salt=35), draw((3,), salt=36)],
            lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        ),
        Row(
            "nn conv2d input gradient",
            conv_input_grad,
            lambda: [draw((2, 2, 5, 5), salt=34), draw((3, 2, 3, 3), salt=35)],
        ),
        Row(
            "nn conv2d weight gradient",
            conv_weight_grad,
            lambda: [draw((2, 2, 5, 5), salt=34), draw((3, 2, 3, 3), salt=35)],
        ),
        Row(
            "nn max_pool2d",
            lambda x: F.max_pool2d(x, 2),
            lambda: [draw((2, 2, 4, 4), salt=37)],
            lambda x: TF.max_pool2d(x, 2),
        ),
        Row(
            "nn max_pool2d gradient", pool_grad(F.max_pool2d), lambda: [draw((2, 2, 4, 4), salt=37)]
        ),
        Row(
            "nn avg_pool2d",
            lambda x: F.avg_pool2d(x, 2),
            lambda: [draw((2, 2, 4, 4), salt=38)],
            lambda x: TF.avg_pool2d(x, 2),
        ),
        Row(
            "nn avg_pool2d gradient", pool_grad(F.avg_pool2d), lambda: [draw((2, 2, 4, 4), salt=38)]
        ),
        Row(
            "nn cross_entropy",
            lambda z: F.cross_entropy(z, cr.tensor(labels), label_smoothing=0.1),
            lambda: [draw((4, 3), salt=39)],
            lambda z: TF.cross_entropy(z, t(labels), label_smoothing=0.1),
        ),
        Row(
            "nn nll_loss",
            lambda z: F.nll_loss(z, cr.tensor(labels)),
            lambda: [draw((4, 3), salt=42)],
            lambda z: TF.nll_loss(z, t(labels)),
        ),
        Row(
            "nn binary_cross_entropy",
            lambda z, y: F.binary_cross_entropy(z.sigmoid(), y.sigmoid()),
            lambda: [draw((5,), salt=43), draw((5,), salt=44)],
            lambda z, y: TF.binary_cross_entropy(z.sigmoid(), y.sigmoid()),
        ),
    ]


NN = _nn_rows()
ROWS = ELEMENTWISE + REDUCTIONS + SHAPE + LINALG + NN

# (name, fn of (x, y) giving a result without derivative): elementwise's and reductions'
NONDIFFERENTIABLE = [(name, fn) for name, fn, _ in elementwise.NONDIFFERENTIABLE] + [
    (name, lambda x, y, fn=fn: fn(x)) for name, fn, _ in reductions.NONDIFFERENTIABLE
]


def row_ids(rows) -> list[str]:
    return [row.name for row in rows]


def directions(arrays: list[np.ndarray], salt: int) -> list[np.ndarray]:
    """Random tangents (or other directions), one per input, of its shape, asymmetric."""
    generator = rng(salt)
    return [generator.uniform(-2.0, 2.0, np.shape(a)) for a in arrays]


def as_list(fn: Callable) -> Callable:
    """fn with its one output in a list, as jvp wants."""
    return lambda *xs: [fn(*xs)]


def finite_difference_jvp(fn: Callable, arrays: list[np.ndarray], tangents) -> np.ndarray:
    """J·v of fn (Tensors -> Tensor, read as values) from cr.numerical_jacobian: the sum over
    inputs of the Jacobian with respect to each, contracted with that input's tangent."""
    total = 0.0
    for k, (array, tangent) in enumerate(zip(arrays, tangents)):

        def partial(value, k=k):
            args = [cr.tensor(a) for a in arrays]
            args[k] = cr.tensor(np.asarray(value, dtype=np.float64))
            return fn(*args)

        jacobian = cr.numerical_jacobian(partial, array)
        total = total + np.tensordot(jacobian, tangent, axes=np.ndim(tangent))
    return np.asarray(total)


def directional_difference(fn: Callable, arrays: list[np.ndarray], direction) -> np.ndarray:
    """The derivative of fn (Tensors -> Tensor) along ``direction`` by one central difference,
    (f(x + h u) - f(x - h u)) / 2h: two evaluations, where a Jacobian takes two per entry.
    The step is numerical_jacobian's, eps^(1/3) scaled by the inputs' magnitude."""
    scale = max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in arrays])
    h = np.finfo(np.float64).eps ** (1 / 3) * scale

    def at(sign: float) -> np.ndarray:
        out = fn(*[cr.tensor(a + sign * h * u) for a, u in zip(arrays, direction)])
        return np.asarray(out.numpy() if isinstance(out, cr.Tensor) else out, dtype=np.float64)

    return (at(1.0) - at(-1.0)) / (2 * h)


def jvp_values(fn: Callable, arrays: list[np.ndarray], tangents) -> tuple[np.ndarray, np.ndarray]:
    """fn's value and J·v by chainrule's forward mode, as float64 arrays."""
    (out,), (out_dot,) = jvp(as_list(fn), [cr.tensor(a) for a in arrays], tangents)
    return out.numpy(), out_dot.numpy()
