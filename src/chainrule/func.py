"""Function transforms, with JAX's names: grad, value_and_grad, jacobian (jacrev, jacfwd),
hessian, jvp, vjp, hvp and derivative.

A transform takes a function and gives back its derivative as a function:

>>> import math
>>> import numpy as np
>>> import chainrule as cr
>>> cr.grad(lambda x: x ** 3)(2.0)                        # 3 x**2 at x = 2
12.0
>>> cr.derivative(lambda x: x ** 3, n=3)(2.0)             # d3/dx3 x**3 = 6
6.0
>>> cr.grad(cr.grad(lambda x: x.sin()))(0.5) == -math.sin(0.5)
True
>>> cr.hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))    # diag(6 x)
array([[ 6.,  0.],
       [ 0., 12.]])

**Inputs and results.** Arguments may be floats (and ints, taken as floats), ndarrays,
Tensors, or lists, tuples and dicts of them (pytrees). Results come back in the same kind and
structure: a float for a float, an ndarray for an ndarray (in its dtype), a Tensor for a
Tensor, a dict for a dict. Floats are differentiated as 0-d float64 Tensors (precision for
teaching); integer arrays cannot be differentiated. ``f`` sees Tensors, so it is written with
Tensor operations (``x.sin()``, ``cr.exp(x)``, ``x @ w``, ``x ** 2``).

**Nesting.** Transforms nest to any order: ``grad(grad(f))``, ``jacobian(grad(f))``, a
hessian of a function that calls ``grad``. A transform evaluated inside another one (or on a
Tensor that requires grad) records its derivative with ``create_graph=True`` and returns
Tensors on the graph, so the outer one can differentiate it; only the outermost transform
gives plain floats and ndarrays. Tensors that f closes over are constants for a transform at
the outermost level: to differentiate with respect to them, pass them as arguments.

**Cost.** Reverse mode (``grad``, ``vjp``, ``jacobian(mode="reverse")``) costs one backward
pass per output element; forward mode (``jvp``, ``jacobian(mode="forward")``) one
Jacobian-vector product (``chainrule.forward``) per input element. ``hessian`` is forward
over reverse, as in JAX, and ``hvp`` one JVP of the gradient.

**Scalars.** The Scalar engine is used when an argument to differentiate is a ``cr.Scalar``,
or when the arguments are numbers and f, called on Tensors, returns a Scalar (f is then
called again on Scalars): code written for micrograd-style Scalars gets its first
derivatives, as floats. The Scalar engine has no higher derivatives: ``hessian``, ``hvp`` and
``derivative(n >= 2)`` on it raise an error.
"""

from __future__ import annotations

import functools

import numpy as np

from chainrule.ops.core import raw
from chainrule.pytree import tree_flatten, tree_map, tree_unflatten
from chainrule.scalar import Scalar
from chainrule.tensor import Tensor
from chainrule.transform_args import (
    Arguments,
    cast,
    check_argnums,
    deliver,
    inside,
)
from chainrule.transform_engines import (
    ScalarPullback,
    forward_blocks,
    linearize,
    output_dtype,
    output_shape,
    output_value,
    push_forward,
    reverse_blocks,
    tangent_basis,
)

__all__ = [
    "derivative",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "value_and_grad",
    "vjp",
]

MODES = ("reverse", "forward")


# -- pieces shared by the transforms ---------------------------------------------------------------


def _input_cotangent(g, spec: Arguments, j: int, record: bool):
    """The derivative with respect to input leaf j, in that leaf's kind and dtype."""
    if g is None:
        g = np.zeros(spec.shapes[j], spec.dtypes[j])
    return deliver(cast(g, spec.dtypes[j]), spec.kinds[j], record)


def _deliver_aux(aux, spec: Arguments, keep_graph: bool):
    return tree_map(
        lambda leaf: deliver(leaf, spec.out_kind, keep_graph) if isinstance(leaf, Tensor) else leaf,
        aux,
    )


def _matching_leaves(name: str, what: str, tree, treedef, shapes: list, dtypes: list) -> list:
    """The leaves of ``tree`` (tangents or cotangents), checked against the structure and
    shapes they go with, in the dtypes they go with (Tensors stay Tensors)."""
    leaves, given = tree_flatten(tree)
    if given != treedef:
        raise ValueError(f"{name}: {what} has structure {given!r}, expected {treedef!r}")
    converted = []
    for leaf, shape, dtype, path in zip(leaves, shapes, dtypes, treedef.paths()):
        if isinstance(leaf, Scalar):
            leaf = leaf.data
        if np.shape(leaf) != shape:
            raise ValueError(f"{name}: {what}{path} has shape {np.shape(leaf)}, expected {shape}")
        converted.append(cast(leaf, dtype))
    return converted


def _tangent_leaves(name: str, spec: Arguments, tangents) -> list:
    leaves = []
    start = 0
    for k, (tangent, treedef, count) in enumerate(zip(tangents, spec.treedefs, spec.counts)):
        stop = start + count
        leaves += _matching_leaves(
            name,
            f"tangents[{k}]",
            tangent,
            treedef,
            spec.shapes[start:stop],
            spec.dtypes[start:stop],
        )
        start = stop
    return leaves


def _check_scalar_output(name: str, pullback) -> None:
    if not pullback.treedef.is_leaf:
        raise TypeError(
            f"{name}: f must return one scalar, it returned a {pullback.treedef!r} of "
            f"{len(pullback.outputs)} values (use cr.jacobian; or has_aux=True if all but the "
            "first are auxiliary data)"
        )
    shape = output_shape(pullback.outputs[0])
    if shape != ():
        raise TypeError(
            f"{name}: f must return a scalar (shape ()), got an output of shape {shape}; "
            "use cr.jacobian for non-scalar outputs, or reduce it (e.g. .sum())"
        )


def _as_arguments(name: str, what: str, values) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise TypeError(
            f"{name}: {what} must be a tuple with one entry per argument of f, e.g. (x,); "
            f"got a {type(values).__name__}"
        )
    return tuple(values)


# -- reverse mode ----------------------------------------------------------------------------------


def value_and_grad(f, argnums=0, has_aux: bool = False):
    """A function giving f's value and its gradient: ``(value, grad)``, or
    ``((value, aux), grad)`` with ``has_aux=True`` (f then returns ``(value, aux)``).

    >>> import chainrule as cr
    >>> cr.value_and_grad(lambda x, y: x * y ** 2, argnums=(0, 1))(3.0, 2.0)
    (12.0, (4.0, 12.0))
    """
    return _value_and_grad("value_and_grad", f, argnums, has_aux)


def _value_and_grad(name: str, f, argnums, has_aux: bool):
    argnums, single = check_argnums(name, argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        spec = Arguments(name, args, argnums, single)
        pullback = linearize(name, f, spec, has_aux, kwargs)
        _check_scalar_output(name, pullback)
        out = pullback.outputs[0]
        grads, record = pullback.pull([np.ones((), output_dtype(out))])
        value = deliver(output_value(out), spec.out_kind, pullback.keep_graph)
        gradient = spec.package([_input_cotangent(g, spec, j, record) for j, g in enumerate(grads)])
        if has_aux:
            return (value, _deliver_aux(pullback.aux, spec, pullback.keep_graph)), gradient
        return value, gradient

    return value_and_grad_f


def grad(f, argnums=0, has_aux: bool = False):
    """A function giving the gradient of a scalar-valued f with respect to argument
    ``argnums`` (an int; a tuple gives a tuple of gradients), in that argument's kind and
    structure. ``has_aux=True``: f returns ``(value, aux)`` and the result is
    ``(grad, aux)``.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.grad(lambda x: x ** 3)(2.0)
    12.0
    >>> cr.grad(lambda p: (p["w"] * p["b"]).sum())({"w": np.array([1.0, 2.0]), "b": 3.0})
    {'w': array([3., 3.]), 'b': 3.0}
    """
    value_and_grad_f = _value_and_grad("grad", f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        (value, gradient) = value_and_grad_f(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f, *primals, has_aux: bool = False):
    """f's output at ``primals`` and its VJP function: ``vjp_fn(cotangent)`` returns
    cotangentᵀ·J, one entry per primal (a tuple). With ``has_aux=True``: ``(out, vjp_fn,
    aux)``.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> vjp_fn(np.array([10.0, 100.0]))
    (array([ 30., 400.]), array([ 10., 200.]))
    """
    name = "vjp"
    spec = Arguments(name, primals, tuple(range(len(primals))))
    pullback = linearize(name, f, spec, has_aux, {})
    values = [
        deliver(output_value(o), spec.out_kind, pullback.keep_graph) for o in pullback.outputs
    ]
    out = tree_unflatten(pullback.treedef, values)

    def vjp_fn(cotangent):
        """cotangentᵀ·J: one entry per primal of f."""
        cotangents = _matching_leaves(
            name,
            "the cotangent",
            cotangent,
            pullback.treedef,
            [output_shape(o) for o in pullback.outputs],
            [output_dtype(o) for o in pullback.outputs],
        )
        grads, record = pullback.pull(cotangents)
        return tuple(
            spec.split([_input_cotangent(g, spec, j, record) for j, g in enumerate(grads)])
        )

    if has_aux:
        return out, vjp_fn, _deliver_aux(pullback.aux, spec, pullback.keep_graph)
    return out, vjp_fn


# -- Jacobians -------------------------------------------------------------------------------------


def jacobian(f, argnums=0, mode: str = "reverse", has_aux: bool = False):
    """A function giving the Jacobian of f: for an output of shape S and an input of shape
    T, an array of shape S + T (entry [i, j] is d out[i] / d in[j]). Pytrees nest as in JAX:
    output structure outside, input structure inside.

    ``mode="reverse"`` costs one backward pass per output element, ``"forward"`` one JVP per
    input element: pick the smaller side.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.jacobian(lambda x: x[0] * x ** 2)(np.array([1.0, 2.0]))
    array([[3., 0.],
           [4., 4.]])
    """
    return _jacobian("jacobian", f, argnums, mode, has_aux)


def jacrev(f, argnums=0, has_aux: bool = False):
    """``jacobian(f, mode="reverse")``: one backward pass per output element.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.jacrev(lambda v: v ** 2)(np.array([1.0, 3.0]))       # diag(2v), by reverse mode
    array([[2., 0.],
           [0., 6.]])
    """
    return _jacobian("jacrev", f, argnums, "reverse", has_aux)


def jacfwd(f, argnums=0, has_aux: bool = False):
    """``jacobian(f, mode="forward")``: one JVP per input element.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.jacfwd(lambda v: v ** 2)(np.array([1.0, 3.0]))       # diag(2v), by forward mode
    array([[2., 0.],
           [0., 6.]])
    """
    return _jacobian("jacfwd", f, argnums, "forward", has_aux)


def _jacobian(name: str, f, argnums, mode: str, has_aux: bool):
    if mode not in MODES:
        raise ValueError(f"{name}: mode must be 'reverse' or 'forward', got {mode!r}")
    argnums, single = check_argnums(name, argnums)

    @functools.wraps(f)
    def jacobian_f(*args, **kwargs):
        spec = Arguments(name, args, argnums, single)
        pushed = None
        if mode == "forward":
            pushed = push_forward(name, f, spec, has_aux, kwargs, tangent_basis(spec))
        if pushed is not None:
            outputs, dot_sets, treedef, aux = pushed
            blocks = forward_blocks(spec, outputs, dot_sets)
            keep_graph = spec.keep_graph
        else:  # reverse mode, or the Scalar engine (which has no forward mode)
            if mode == "forward":
                pullback = ScalarPullback(name, f, spec, has_aux, kwargs)
            else:
                pullback = linearize(name, f, spec, has_aux, kwargs)
            blocks = reverse_blocks(spec, pullback)
            treedef, aux, keep_graph = pullback.treedef, pullback.aux, pullback.keep_graph
        per_output = [
            spec.package([deliver(b, kind, keep_graph) for b, kind in zip(row, spec.kinds)])
            for row in blocks
        ]
        jac = tree_unflatten(treedef, per_output)
        return (jac, _deliver_aux(aux, spec, keep_graph)) if has_aux else jac

    return jacobian_f


def hessian(f, argnums=0, has_aux: bool = False):
    """A function giving the Hessian of a scalar-valued f: ``jacrev(jacrev(f))``. For an
    input of shape T, an array of shape T + T.

    JAX composes forward over reverse, which its vmap runs as one batched pass. Without vmap
    each column costs a pass; reverse over reverse then wins, because the gradient's graph is
    recorded once and every row is one backward walk over it: measured on W4 (Rosenbrock,
    n = 100), 31 ms against 160 ms forward over reverse. ``jacfwd(jacrev(f))`` gives the
    same matrix.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    gradient = _jacobian("hessian", f, argnums, "reverse", has_aux)
    return _jacobian("hessian", gradient, argnums, "reverse", has_aux)


# -- forward mode ----------------------------------------------------------------------------------


def jvp(f, primals, tangents, has_aux: bool = False):
    """f's output at ``primals`` and the Jacobian-vector product J·tangents:
    ``(out, tangent_out)`` (with ``has_aux=True``: ``(out, tangent_out, aux)``). ``primals``
    and ``tangents`` are tuples with one entry per argument of f, of the same structures.

    >>> import chainrule as cr
    >>> cr.jvp(lambda x, y: x * y, (3.0, 2.0), (1.0, 0.5))   # y dx + x dy
    (6.0, 3.5)
    """
    name = "jvp"
    primals = _as_arguments(name, "primals", primals)
    tangents = _as_arguments(name, "tangents", tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents")
    spec = Arguments(name, primals, tuple(range(len(primals))))
    return _jvp(name, f, spec, _tangent_leaves(name, spec, tangents), has_aux)


def _jvp(name: str, f, spec: Arguments, tangents: list, has_aux: bool):
    pushed = push_forward(name, f, spec, has_aux, {}, [tangents])
    if pushed is not None:
        outputs, (dots,), treedef, aux = pushed
        keep_graph = spec.keep_graph or any(
            isinstance(t, Tensor) and t.requires_grad for t in tangents
        )
    else:  # the Scalar engine: J by backward passes, then J·v
        pullback = ScalarPullback(name, f, spec, has_aux, {})
        blocks = reverse_blocks(spec, pullback)
        dots = [sum(float(b) * float(raw(t)) for b, t in zip(row, tangents)) for row in blocks]
        outputs, treedef, aux, keep_graph = (
            [o.data for o in pullback.outputs],
            pullback.treedef,
            pullback.aux,
            False,
        )
    out = tree_unflatten(treedef, [deliver(o, spec.out_kind, keep_graph) for o in outputs])
    dot = tree_unflatten(
        treedef,
        [deliver(cast(d, _dtype_of(o)), spec.out_kind, keep_graph) for o, d in zip(outputs, dots)],
    )
    return (out, dot, _deliver_aux(aux, spec, keep_graph)) if has_aux else (out, dot)


def _dtype_of(value) -> np.dtype:
    return value.dtype if isinstance(value, Tensor) else np.asarray(value).dtype


def hvp(f, x, v):
    """The Hessian of a scalar-valued f at x times v, H·v, without forming H: the JVP of
    the gradient (forward over reverse). x and v have the same structure; so does the result.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.hvp(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([4., 2.])
    """
    name = "hvp"
    value_and_grad_f = _value_and_grad(name, f, 0, False)
    spec = Arguments(name, (x,), (0,))
    tangents = _tangent_leaves(name, spec, (v,))
    return _jvp(name, lambda x: value_and_grad_f(x)[1], spec, tangents, False)[1]


def derivative(f, n: int = 1):
    """The n-th derivative of a function of one variable (n = 0 gives f's value). The
    variable is f's first argument, a number (or a 0-d array or Tensor); f's output may have
    any shape (each entry is differentiated).

    >>> import chainrule as cr
    >>> cr.derivative(lambda x: x ** 5, n=4)(2.0)        # 5*4*3*2 x
    240.0
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"derivative: n must be an int >= 0, got {n!r}")
    derived = _value_of(f) if n == 0 else f
    for _ in range(n):
        derived = _jacobian("derivative", derived, 0, "forward", False)

    @functools.wraps(f)
    def nth_derivative(x, *args, **kwargs):
        shape = () if isinstance(x, Scalar) else np.shape(raw(x))
        if shape != ():
            raise ValueError(
                f"derivative: x must be one number, got shape {shape}; for functions of "
                "several variables use cr.grad, cr.jacobian or cr.hessian"
            )
        return derived(x, *args, **kwargs)

    return nth_derivative


def _value_of(f):
    """f called as the transforms call it (on a Tensor standing for its first argument),
    its value given back in that argument's kind."""

    def value(x, *args, **kwargs):
        spec = Arguments("derivative", (x, *args), (0,))
        if spec.uses_scalars:
            return f(x, *args, **kwargs)
        with inside():
            out = f(*spec.rebuild(spec.primals()), **kwargs)
        return tree_map(lambda leaf: deliver(leaf, spec.out_kind, spec.keep_graph), out)

    return value
