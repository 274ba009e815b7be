"""The backward pass for Tensors, grad mode, and anomaly detection.

``backward(root)`` visits the graph once, output first (``chainrule.graph`` gives the
order). At each node the gradient that arrived is complete; the node's primitive's VJP rule
turns it into one cotangent per input, the engine sums each down to its input's shape
(undoing broadcasting), and adds it to what that input has collected. Leaves keep theirs in
``.grad``.

Without ``create_graph`` the rules run on plain ndarrays with recording off; with it they run
on Tensors with recording on, so the gradients are themselves differentiable. While a
forward-mode ``jvp`` is open they run on Tensors either way (recording as create_graph says),
so that tangents flow through them: the JVP of a gradient is a Hessian-vector product.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True)
>>> (g,) = cr.autograd.grad(x ** 3, [x], create_graph=True)   # 3x^2 = 27
>>> g.backward()                                               # d(3x^2)/dx = 6x = 18
>>> float(g), float(x.grad)
(27.0, 18.0)
"""

from __future__ import annotations

import contextlib

import numpy as np

from chainrule.graph import topological_order
from chainrule.node import Node, Unsaved, placeholder
from chainrule.ops.core import anomaly_mode, forward_levels, raw, set_grad_enabled, unbroadcast
from chainrule.tensor import Tensor

__all__ = ["AnomalyError", "backward", "detect_anomaly", "enable_grad", "grad", "no_grad"]


class AnomalyError(FloatingPointError):
    """A backward pass under ``detect_anomaly()`` produced nan or inf."""


class _GradModeContext(contextlib.ContextDecorator):
    """A context manager that is also a decorator, setting grad mode inside."""

    mode = True

    def __enter__(self):
        self._previous = set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        return False


class no_grad(_GradModeContext):  # noqa: N801  (PyTorch's name)
    """Operations inside are not recorded (a context manager and a decorator).

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801  (PyTorch's name)
    """Operations inside are recorded, even within ``no_grad`` (a context manager and a
    decorator).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     with cr.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    mode = True


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801  (PyTorch's name)
    """Inside, every recorded op notes the file:line that created it, and backward raises
    ``AnomalyError`` at the first nan or inf gradient, naming that op and that line.

    Slower: use it to find where a nan comes from, not for training.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     try:
    ...         x.sqrt().backward()                 # d sqrt(x)/dx = 1/(2 sqrt(x)): inf at 0
    ...     except cr.AnomalyError as error:
    ...         print(str(error).split(';')[0])
    backward of 'sqrt' produced inf in the gradient of an input of shape (1,)
    """

    def __enter__(self):
        self._previous = anomaly_mode.enabled
        anomaly_mode.enabled = True
        return self

    def __exit__(self, *exc):
        anomaly_mode.enabled = self._previous
        return False


def _on_tensors(create_graph: bool) -> bool:
    """Whether the rules run on Tensors: to be recorded (create_graph), or because forward
    mode is on and tangents must flow through them (a jvp is open)."""
    return create_graph or bool(forward_levels)


def _seed(root: Tensor, gradient, on_tensors: bool):
    """The gradient of root with respect to itself: ones, or the one given."""
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {root.shape}; a gradient can be implied only "
                "for one-element outputs: pass gradient= (a tensor of the output's shape)"
            )
        data = root.data
        seed = np.empty(data.shape, data.dtype)  # ones; np.ones_like is ~2 us of Python
        seed.fill(1)
    else:
        seed = gradient.data if isinstance(gradient, Tensor) and not on_tensors else gradient
        if np.shape(raw(seed)) != root.shape:
            raise RuntimeError(
                f"backward: gradient has shape {np.shape(raw(seed))} but the output has shape "
                f"{root.shape}"
            )
        if not isinstance(seed, Tensor):
            seed = np.asarray(seed, dtype=root.dtype)
    if on_tensors and not isinstance(seed, Tensor):
        seed = Tensor._wrap(seed)
    return seed


def backward(
    root: Tensor, gradient=None, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf of root's graph.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.autograd.backward((x ** 2).sum())       # the same as (x ** 2).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """
    on_tensors = _on_tensors(create_graph)
    seed = _seed(root, gradient, on_tensors)
    _run(root, seed, retain_graph or create_graph, create_graph, on_tensors)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than stored
    in ``.grad`` (PyTorch's torch.autograd.grad); one per input, None where unreached.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = cr.autograd.grad((x ** 3).sum(), [x])
    >>> g, x.grad                                   # returned, not accumulated into x.grad
    (tensor([ 3., 12.]), None)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    retain = create_graph if retain_graph is None else retain_graph
    collected: dict[int, object] = {id(_graph_object(x)): None for x in inputs}
    on_tensors = _on_tensors(create_graph)
    for output, gradient in zip(outputs, grad_outputs, strict=True):
        seed = _seed(output, gradient, on_tensors)
        _run(output, seed, retain, create_graph, on_tensors, collected)
    found = [collected[id(_graph_object(x))] for x in inputs]
    return tuple(None if g is None else _as_tensor(g) for g in found)


def _graph_object(t: Tensor):
    """What stands for t in the graph: its node, or the tensor itself for a leaf."""
    return t._node if t._node is not None else t


def _as_tensor(g) -> Tensor:
    return g if isinstance(g, Tensor) else Tensor._wrap(g)


def _run(
    root,
    seed,
    retain_graph: bool,
    create_graph: bool,
    on_tensors: bool,
    capture: dict | None = None,
):
    """One backward pass from root, its rules on Tensors if ``on_tensors`` (see _on_tensors),
    recorded if ``create_graph``. With ``capture`` (id -> None for chosen tensors' graph
    objects), their gradients are stored there, and only the part of the graph that leads to
    them is visited: no leaf's ``.grad`` changes (as in torch.autograd.grad)."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad, so nothing can be differentiated "
            "(make an input with requires_grad=True, and compute outside no_grad())"
        )
    start = _graph_object(root)
    order = topological_order(start)
    passing = None  # with capture: the items whose gradient goes on to their inputs
    if capture is not None:
        order, passing = _leading_to(order, capture)
    pending = {id(start): seed}
    owned: set[int] = set()  # ids of graph objects whose pending gradient only we hold
    previous = set_grad_enabled(create_graph)
    # rules follow IEEE (inf, nan) silently, as Scalar and PyTorch do; detect_anomaly finds them
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
    quiet.__enter__()
    try:
        while order:
            item = order.pop()  # dropping each one as it is done lets memory go early
            key = id(item)
            g = pending.pop(key, None)
            if g is None:
                continue
            is_node = type(item) is Node
            if is_node:
                hooks = item.hooks
            else:  # a leaf Tensor keeps its hooks among its rarely set extras
                hooks = item._extra.get("hooks") if item._extra is not None else None
            if hooks:
                g = _run_hooks(hooks, g, on_tensors)
            if capture is not None and key in capture:
                captured = capture[key]
                capture[key] = g if captured is None else captured + g
                if key not in passing:
                    continue
            elif not is_node:
                _accumulate_leaf(item, g, on_tensors, key in owned)
                continue
            if item.retain is not None:
                _retain(item, g, on_tensors)
            # g is ours alone if it was fresh and no hook saw it, nor a capture kept it
            g_owned = key in owned and not hooks and (capture is None or key not in capture)
            _propagate(item, g, g_owned, pending, owned, on_tensors)
            if not retain_graph:
                # free what the rule needed; a second pass through here must fail
                item.inputs = None
                item.arrays = None
                item.ans = None
                item.parents = ()
    finally:
        quiet.__exit__(None, None, None)
        set_grad_enabled(previous)


def _leading_to(order: list, capture: dict) -> tuple[list, set]:
    """The items of a topological order from which a captured item can be reached, and the
    ids of those among them from which another captured item can be reached through their
    inputs.

    Past the captured inputs (into the graph that made them, say an outer derivative's) and on
    branches that never reach them, backward would only do useless work, free graph that others
    still use, and write into the ``.grad`` of leaves nobody asked about."""
    useful: set[int] = set()
    passing: set[int] = set()
    kept = []
    for item in order:  # parents come before children
        through = any(id(parent) in useful for parent in item.parents)
        if through or id(item) in capture:
            useful.add(id(item))
            kept.append(item)
            if through:
                passing.add(id(item))
    return kept, passing


def _run_hooks(hooks, g, on_tensors: bool):
    if not hooks:
        return g
    for hook in list(hooks):
        replaced = hook(_as_tensor(g))
        if replaced is not None:
            g = replaced if on_tensors else raw(replaced)
    return g


def _retain(node: Node, g, on_tensors: bool) -> None:
    tensor = node.retain()
    if tensor is not None:
        tensor.grad = _as_tensor(g if on_tensors else np.array(g))


def _accumulate_leaf(leaf: Tensor, g, on_tensors: bool, owned: bool) -> None:
    if on_tensors:
        leaf.grad = _as_tensor(g) if leaf.grad is None else leaf.grad + g
        return
    if g.dtype != leaf.data.dtype:
        g, owned = g.astype(leaf.data.dtype), True
    if leaf.grad is None:
        # keep an array only we hold; copy one that may be a view or shared with another input
        leaf.grad = Tensor._wrap(g if owned else np.array(g, copy=True))
    else:
        leaf.grad.data = leaf.grad.data + g


def _ans_for_rule(node: Node, on_tensors: bool):
    """The op's output as its rule sees it: the saved array, a Tensor on the graph (so the
    rule's use of it is differentiated too) with the output's forward-mode tangents if it had
    any, or a shape-only placeholder if it was not saved."""
    if node.ans is None:
        return placeholder(node.shape, node.dtype)
    if not on_tensors or isinstance(node.ans, Unsaved):  # a Kept: values for display only
        return node.ans
    ans = Tensor._wrap(node.ans)
    ans.requires_grad = True
    ans._node = node
    ans._extra = getattr(node, "tangents", None)  # unset unless forward mode set it
    return ans


def _propagate(node: Node, g, g_owned: bool, pending: dict, owned: set, on_tensors: bool) -> None:
    prim = node.prim
    inputs = node.inputs
    if inputs is None:
        raise RuntimeError(
            f"backward: the graph through '{prim.name}' was already freed by an earlier "
            "backward(); pass retain_graph=True to the first one to backpropagate twice"
        )
    if on_tensors:
        ans = _ans_for_rule(node, True)
        args = inputs
    else:
        # the common case, inlined: this runs once per node of every backward
        ans = node.ans
        if ans is None:
            ans = placeholder(node.shape, node.dtype)
        args = node.arrays
    # a rule may overwrite g if only the engine holds it, and pass it on as its own if it
    # goes to one input alone (given to two, in place changes by one would reach the other)
    overwrite = g_owned and prim.vjp_takes_overwrite and not on_tensors
    g_passes_owned = overwrite and len(node.parents) == 1
    if prim.vjp_takes_needs:
        if prim.vjp_takes_overwrite:
            extras = {"needs": node.needs, "overwrite": overwrite}
            cotangents = prim.vjp(g, ans, *args, **extras, **node.params)
        else:
            cotangents = prim.vjp(g, ans, *args, needs=node.needs, **node.params)
    elif prim.vjp_takes_overwrite:
        cotangents = prim.vjp(g, ans, *args, overwrite=overwrite, **node.params)
    else:
        cotangents = prim.vjp(g, ans, *args, **node.params)
    check_finite = anomaly_mode.enabled
    handed_out: list = []  # the arrays given to inputs so far (one array to two: not fresh)
    for edge, x_bar in zip(node.edges, cotangents):
        if edge is None or x_bar is None:
            continue
        shape = edge.shape
        if x_bar.shape != shape:
            x_bar = unbroadcast(x_bar, shape)
        if check_finite:
            _check_finite(node, x_bar)
        # ownership only pays off for big arrays: small ones are cheaper to copy than to track
        if x_bar is g:
            fresh = g_passes_owned
        else:
            fresh = (
                not on_tensors
                and x_bar.size >= _OWNERSHIP_MIN_SIZE
                and _is_fresh(x_bar, g, ans, args, handed_out)
            )
        handed_out.append(x_bar)
        key = id(edge)
        collected = pending.get(key)
        if collected is None:
            pending[key] = x_bar
        elif key in owned and collected.dtype == x_bar.dtype:
            collected += x_bar  # in place: no other reference to this array exists
            continue
        else:
            x_bar = pending[key] = collected + x_bar
            # a sum of 0-d arrays is a NumPy scalar, which += would rebind, not update in place
            fresh = type(x_bar) is np.ndarray
        if fresh:
            owned.add(key)
        else:
            owned.discard(key)


# arrays smaller than this are added out of place and copied into leaves (cheap at that size)
_OWNERSHIP_MIN_SIZE = 4096


def _is_fresh(x_bar, g, ans, args: tuple, handed_out: list) -> bool:
    """Whether a rule's cotangent is a new array that nothing else refers to (so the engine
    may add into it in place, or keep it as a leaf's .grad without a copy)."""
    if (
        type(x_bar) is not np.ndarray
        or x_bar.base is not None
        or not x_bar.flags.writeable
        or x_bar is g
        or x_bar is ans
    ):
        return False
    # loops, not any(...): no generator to create, once per cotangent of every backward
    for other in handed_out:
        if x_bar is other:
            return False
    for a in args:
        if x_bar is a:
            return False
    return True


def _check_finite(node: Node, x_bar) -> None:
    values = x_bar.data if isinstance(x_bar, Tensor) else np.asarray(x_bar)
    if np.all(np.isfinite(values)):
        return
    kind = "nan" if np.any(np.isnan(values)) else "inf"
    where = node.created_at or "unknown (made outside detect_anomaly)"
    raise AnomalyError(
        f"backward of '{node.prim.name}' produced {kind} in the gradient of an input of shape "
        f"{values.shape}; that '{node.prim.name}' was created at {where}"
    )
