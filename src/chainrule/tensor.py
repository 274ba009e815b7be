"""Tensor: an ndarray that remembers how it was computed, so that it can be differentiated.

A Tensor holds one ndarray (``.data``). Operations on Tensors that require grad are recorded:
each result keeps the primitive that made it, its inputs and parameters. ``backward()`` walks
that graph once, from the output back, applying each primitive's VJP rule (see
``chainrule.ops.core``). A Tensor is a node of the same protocol as a Scalar
(``chainrule.graph``), so one explainer and one drawer serve both.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from chainrule.node import record
from chainrule.ops import core

__all__ = ["Tensor"]

_new = object.__new__


class Tensor:
    """An n-dimensional array with automatic differentiation, on NumPy.

    Create one with ``cr.tensor`` (or ``cr.zeros``, ``cr.randn``, ...). ``requires_grad=True``
    makes operations on it recorded; after ``backward()`` its ``.grad`` holds the gradient.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad                                      # d(sum x^2)/dx = 2x
    tensor([2., 4.])
    """

    # data: the ndarray. grad: a Tensor or None. _node: the recorded operation that made this
    # tensor (chainrule.node), None for a leaf. _extra: None, or a dict of what few tensors
    # carry: a leaf's label and hooks, and while a jvp is open, tangents keyed by their
    # forward level (chainrule.forward).
    __slots__ = ("data", "grad", "requires_grad", "_node", "_extra", "__weakref__")
    __array_priority__ = 1000
    # NumPy hands every binary operation with a Tensor to the Tensor: ndarray * Tensor is a Tensor
    __array_ufunc__ = None
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_array(data, dtype)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._extra = None
        if requires_grad:
            self.requires_grad_(True)

    # -- construction without checks, for the engine's own results -------------------------

    @classmethod
    def _wrap(cls, array) -> Tensor:
        out = _new(cls)
        out.data = array if type(array) is np.ndarray else np.asarray(array)
        out.grad = None
        out.requires_grad = False
        out._node = None
        out._extra = None
        return out

    @classmethod
    def _record(cls, array, prim, inputs: tuple, arrays: list, params: dict) -> Tensor:
        out = _new(cls)
        out.data = array = array if type(array) is np.ndarray else np.asarray(array)
        out.grad = None
        out.requires_grad = True
        out._node = node = record(array, prim, inputs, arrays, params, cls)
        out._extra = None
        if core.anomaly_mode.enabled:
            node.created_at = core.anomaly_mode.creation_site()
        return out

    def _extras(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    # -- the node protocol (chainrule.graph) ---------------------------------------------

    @property
    def parents(self) -> tuple:
        """The graph nodes (or leaf tensors) this tensor was computed from; empty for a leaf."""
        return self._node.parents if self._node is not None else ()

    @property
    def op(self) -> str:
        """The name of the primitive that made this tensor, ``""`` for a leaf."""
        return self._node.prim.name if self._node is not None else ""

    @property
    def label(self) -> str | None:
        """A name given to this tensor (shown by the explainer and the drawer), or None."""
        if self._node is not None:
            return self._node.label
        return self._extra.get("label") if self._extra else None

    @label.setter
    def label(self, name: str | None) -> None:
        if self._node is not None:
            self._node.label = name
        else:
            self._extras()["label"] = name

    def vjp(self, g) -> tuple:
        """What the chain rule sends to each input of this tensor's op when ``g`` arrives here.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 3).vjp(cr.tensor([1.0, 1.0]))          # 3 * g to x; None to the constant 3
        (array([3., 3.], dtype=float32), None)
        """
        return self._node.vjp(g) if self._node is not None else ()

    def local_grads(self) -> tuple:
        """Tensors have Jacobians, not numbers, as local derivatives: see ``vjp``.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).local_grads()                       # one None per parent (x, twice)
        (None, None)
        """
        return tuple(None for _ in self.parents)

    # -- basic attributes ------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``).

        >>> import chainrule as cr
        >>> cr.zeros((2, 3)).numel()
        6
        """
        return self.data.size

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``).

        >>> import chainrule as cr
        >>> cr.zeros((2, 3)).dim()
        2
        """
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        """The ndarray itself (shared, not copied).

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).numpy()
        array([1., 2.], dtype=float32)
        """
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number.

        >>> import chainrule as cr
        >>> cr.tensor([[2.5]]).item()
        2.5
        """
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self):
        """The values as nested Python lists of numbers.

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist()
        [[1.0, 2.0], [3.0, 4.0]]
        """
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous: "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __repr__(self) -> str:
        # four decimals, as PyTorch shows them
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal"
        )
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"op={self._node.prim.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    # -- autograd --------------------------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded operation (inputs, parameters)."""
        return self._node is None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this tensor; returns it.

        >>> import chainrule as cr
        >>> w = cr.zeros(2).requires_grad_()
        >>> w.requires_grad, w.is_leaf
        (True, True)
        """
        if requires_grad and not np.issubdtype(self.data.dtype, np.inexact):
            raise TypeError(
                f"only floating-point tensors can require grad; this one is {self.data.dtype} "
                "(make it with a float dtype, e.g. .astype(np.float32))"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "requires_grad_(False) on a tensor computed in the graph: use .detach()"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shared, not copied).

        >>> import chainrule as cr
        >>> x = cr.tensor([2.0], requires_grad=True)
        >>> d = (x * 3).detach()                        # the same numbers, cut from the graph
        >>> d, d.requires_grad
        (tensor([6.]), False)
        """
        return Tensor._wrap(self.data)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * x
        >>> h.retain_grad()
        >>> (3 * h).sum().backward()
        >>> h.grad, x.grad                              # d/dh = 3; d/dx = 3 * 2x
        (tensor([3., 3.]), tensor([ 6., 12.]))
        """
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._node is not None:  # the node reaches its tensor weakly: no cycle
            self._node.retain = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle whose ``remove()`` takes the hook away.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = x.register_hook(lambda grad: print("grad:", grad))
        >>> (x * 3).sum().backward()
        grad: tensor([3., 3.])
        >>> handle.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if self._node is not None:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        else:
            hooks = self._extras().setdefault("hooks", [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` (a Tensor or ndarray of this tensor's shape) is needed unless this tensor
        has one element. ``create_graph=True`` records the backward pass, so the gradients
        can be differentiated again.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> (3 * x).backward(gradient=cr.tensor([1.0, 1.0]))  # not a scalar: give a gradient
        >>> x.grad
        tensor([3., 3.])
        """
        from chainrule.autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    # -- in place, outside the graph (optimizer updates), as PyTorch's trailing underscore --

    def _check_in_place(self, op: str) -> None:
        # an in-place change under a recording graph would silently corrupt its gradients
        if self._node is not None:
            raise RuntimeError(
                f"{op}: this tensor was computed in a graph; changing it in place would corrupt "
                "that graph's gradients (use the out-of-place form)"
            )
        if self.requires_grad and core._grad_mode.enabled:
            raise RuntimeError(
                f"{op}: a leaf that requires grad is changed in place only inside cr.no_grad() "
                "(as an optimizer step is)"
            )

    def zero_(self) -> Tensor:
        """Fill with zeros in place (outside the graph); returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).zero_()
        tensor([0., 0.])
        """
        self.data[...] = 0
        return self

    def add_(self, other, alpha=1) -> Tensor:
        """self += alpha * other, in place (PyTorch's add_); returns the tensor.

        >>> import chainrule as cr
        >>> v = cr.tensor([1.0, 2.0])
        >>> v.mul_(0.5).add_(cr.tensor([1.0, 1.0]), alpha=2)
        tensor([2.5, 3.0])
        """
        self._check_in_place("add_")
        other = other.data if isinstance(other, Tensor) else other
        self.data += other if alpha == 1 else _scaled(other, alpha, self.data)
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        """self -= alpha * other, in place; returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).sub_(cr.tensor([1.0, 1.0]), alpha=0.5)   # a gradient step
        tensor([0.5, 1.5])
        """
        self._check_in_place("sub_")
        other = other.data if isinstance(other, Tensor) else other
        self.data -= other if alpha == 1 else _scaled(other, alpha, self.data)
        return self

    def mul_(self, other) -> Tensor:
        """self *= other, in place; returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).mul_(3)
        tensor([3., 6.])
        """
        self._check_in_place("mul_")
        self.data *= other.data if isinstance(other, Tensor) else other
        return self

    def div_(self, other) -> Tensor:
        """self /= other, in place; returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).div_(4)
        tensor([0.25, 0.50])
        """
        self._check_in_place("div_")
        self.data /= other.data if isinstance(other, Tensor) else other
        return self

    def copy_(self, source) -> Tensor:
        """Overwrite the values with source's (broadcast), in place; returns the tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).copy_(cr.tensor(7.0))
        tensor([7., 7.])
        """
        self._check_in_place("copy_")
        self.data[...] = source.data if isinstance(source, Tensor) else source
        return self

    # -- operators (their primitives are in chainrule.ops) ----------------------------------

    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    # comparisons are not differentiable: they give boolean tensors outside the graph
    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)

    def __eq__(self, other):
        return _ops.equal(self, other)

    def __ne__(self, other):
        return _ops.not_equal(self, other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError(
            "tensors are not assigned in place: use x.at[index].set(value) "
            "(or .add(value)), which returns a new tensor and keeps gradients right"
        )

    @property
    def at(self):
        """Functional index updates: ``x.at[i].set(v)`` and ``x.at[i].add(v)`` (JAX's spelling)."""
        return _ops.IndexUpdateHelper(self)

    @property
    def T(self) -> Tensor:
        """All axes reversed (for 2-D, the transpose)."""
        # straight to the primitive: these axes need none of permute's checks
        return _permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: the transpose of each matrix in a batch."""
        return _ops.swapaxes(self, -1, -2)


_scratch = threading.local()


def _scaled(other, alpha, like: np.ndarray) -> np.ndarray:
    """alpha * other, written into a buffer kept per shape and dtype (per thread).

    An optimizer's ``p.sub_(v, alpha=lr)`` runs every step for every parameter. A fresh
    temporary each time sends the allocator to the OS for pages again and again (glibc gives
    large blocks back when they are freed): measured, that page-faulting made a training step
    of a 784-512-256-10 MLP ~25% slower. PyTorch fuses the multiply-add; this is NumPy's way.
    """
    if not isinstance(other, np.ndarray) or other.shape != like.shape:
        return np.multiply(other, alpha)
    buffers = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    key = (like.shape, like.dtype)
    buffer = buffers.get(key)
    if buffer is None:
        buffer = buffers[key] = np.empty_like(like)
    return np.multiply(other, alpha, out=buffer, casting="unsafe")


class _HookHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks: list, hook):
        self.hooks = hooks
        self.hook = hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


core.Tensor = Tensor

# The ops build on Tensor, defined above; every function in their method table becomes a
# method too: x.exp(), x.sum(axis=1), x.reshape(2, 3).
from chainrule import ops as _ops  # noqa: E402
from chainrule.creation import as_array  # noqa: E402
from chainrule.ops.shape import _permute  # noqa: E402

for _name, _function in _ops.METHODS.items():
    setattr(Tensor, _name, _function)
