"""einsum: Einstein summation, and its gradient as one more einsum.

``einsum("ij,jk->ik", a, b)`` multiplies the operands' entries wherever their labels agree
and sums over the labels missing from the output. Its gradient follows from linearity: the
cotangent of operand k is the einsum of the output's cotangent with every *other* operand,
onto k's labels,

    a_bar = einsum("ik,jk->ij", g, b)        b_bar = einsum("ik,ij->jk", g, a)

Two cases need more than that. A label only operand k carries (``"ij->i"``) was summed
away, so its cotangent is g repeated along it. A label repeated within operand k
(``"ii->"``, the trace) read only the diagonal, so the cotangent lies on that diagonal,
zeros elsewhere. Both are one more einsum, with a ones vector or an identity matrix.

>>> import chainrule as cr
>>> a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> einsum("ii->", a).backward()
>>> a.grad
tensor([[1., 0.],
        [0., 1.]])
"""

from __future__ import annotations

import functools
import string

import numpy as np

from chainrule.ops.core import add_tangents, primitive, raw


@primitive
def einsum(subscripts, *operands):
    """Einstein summation as NumPy's: explicit (``"ij,jk->ik"``) or implicit (``"ij,jk"``)
    output, repeated labels (``"ii->i"``, the diagonal), and ``...`` for broadcast axes.

    >>> einsum("ij,j->i", np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    # a plain loop over all labels at once is fine for two operands; past that, NumPy
    # must choose an order of pairwise contractions or the cost multiplies out
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


@einsum.defvjp
def einsum_vjp(g, ans, subscripts, *operands, needs):
    inputs, output = _labels(subscripts, tuple(np.ndim(raw(x)) for x in operands))
    bars = [None]  # the subscripts have none
    for k in range(len(operands)):
        bars.append(_operand_bar(g, inputs, output, operands, k) if needs[k + 1] else None)
    return tuple(bars)


@einsum.defjvp
def einsum_jvp(tangents, ans, subscripts, *operands):
    # linear in each operand: one einsum per operand with a tangent, that operand replaced
    terms = []
    for k, operand_dot in enumerate(tangents[1:]):
        if operand_dot is not None:
            replaced = list(operands)
            replaced[k] = operand_dot
            terms.append(einsum(subscripts, *replaced))
    return add_tangents(*terms)


def _operand_bar(g, inputs: tuple, output: str, operands: tuple, k: int):
    """Operand k's cotangent: g contracted with every other operand onto k's labels."""
    others = [j for j in range(len(operands)) if j != k]
    target = inputs[k]
    reachable = set(output).union(*(inputs[j] for j in others))
    # an einsum output names each label once, and only labels of its inputs
    kept = "".join(dict.fromkeys(c for c in target if c in reachable))
    spec = ",".join([output, *(inputs[j] for j in others)]) + "->" + kept
    bar = einsum(spec, g, *(operands[j] for j in others))
    if kept == target:
        return bar
    return _spread(bar, kept, target, np.shape(raw(operands[k])))


def _spread(bar, kept: str, target: str, shape: tuple):
    """bar (labels ``kept``) laid out on ``target``'s labels: repeated along the labels it
    lacks (times ones), and onto the diagonal of labels ``target`` repeats (times identity)."""
    dtype = np.result_type(raw(bar))
    fresh = iter(c for c in string.ascii_letters if c not in target)
    out_labels = ""
    factors = []
    factor_labels = []
    for label, n in zip(target, shape):
        if label in out_labels:  # a repeat: a new axis, tied to the first by the identity
            new = next(fresh)
            factors.append(np.eye(n, dtype=dtype))
            factor_labels.append(label + new)
            out_labels += new
        else:
            if label not in kept:  # summed away in the forward: the same g all along it
                factors.append(np.ones(n, dtype=dtype))
                factor_labels.append(label)
            out_labels += label
    spec = ",".join([kept, *factor_labels]) + "->" + out_labels
    return einsum(spec, bar, *factors)


@functools.lru_cache(maxsize=512)
def _labels(subscripts: str, ndims: tuple) -> tuple[tuple[str, ...], str]:
    """The labels of each operand and of the output, explicit: ``...`` spelled out as letters
    (right-aligned, as broadcasting aligns axes) and an implicit output made explicit.

    Called after NumPy accepted the subscripts, so it need not check them.

    >>> _labels("...ij,jk", (4, 2))
    (('abij', 'jk'), 'abik')
    >>> _labels("ii", (2,))
    (('ii',), '')
    """
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    parts = inputs.split(",")
    named = [len(p.replace("...", "")) for p in parts]
    broadcast = max((nd - n for p, nd, n in zip(parts, ndims, named) if "..." in p), default=0)
    unused = [c for c in string.ascii_letters if c not in subscripts]
    ellipsis = "".join(unused[:broadcast])
    spelled = tuple(
        p.replace("...", ellipsis[broadcast - (nd - n) :]) for p, nd, n in zip(parts, ndims, named)
    )
    if arrow:
        return spelled, output.replace("...", ellipsis)
    # NumPy's implicit output: the broadcast axes, then the labels used once, in code order
    written = inputs.replace("...", "").replace(",", "")
    once = sorted(c for c in set(written) if written.count(c) == 1)
    return spelled, ellipsis + "".join(once)
