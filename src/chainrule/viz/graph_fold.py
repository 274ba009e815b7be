"""Folding a large graph into at most ``max_nodes`` boxes a person can read.

Three steps, each taken only while the picture still has too many boxes:

1. **by module**: a named parameter ``0.weight`` belongs to module ``0``; it, its module's other
   parameters and the ops that read them directly (``linear``, or ``matmul`` then ``add``)
   become one box, so an MLP reads as ``module 0 -> relu -> module 2 -> loss``;
2. **runs**: a chain of nodes that each feed only the next (10,000 steps of ``x = x*0.5 + 1``)
   keeps its first and last two nodes and folds the middle into one box;
3. **the far end**: what is still too much is cut at the nodes nearest the output (breadth
   first from it); everything further back becomes one box of earlier nodes.

The output node is never folded, and a run never takes in a leaf (an input stays in view).

>>> from chainrule.viz.graph_nodes import Unit
>>> chain = [Unit(name="x")] + [Unit("tanh", inputs=[(i, 0)]) for i in range(9)]
>>> items, owner = fold(chain, max_nodes=7)
>>> [item if isinstance(item, int) else (item.kind, len(item.members)) for item in items]
[0, 1, 2, ('run', 4), 7, 8, 9]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from chainrule.graph import collector_paused

__all__ = ["Group", "fold"]

# a run keeps this many nodes visible at each end, so the reader sees where it starts and ends
_RUN_ENDS = 2


@dataclass
class Group:
    """Nodes drawn as one box: a module's, the middle of a run, or the earliest nodes."""

    kind: str  # "module", "run" or "earlier"
    name: str  # the module's name ("0"); "" for the others
    members: list[int]  # unit indices, in evaluation order


def fold(units: list, max_nodes: int | None) -> tuple[list, list[int]]:
    """Items to draw (a unit index or a ``Group``), in evaluation order, and each unit's item."""
    owner = list(range(len(units)))  # unit -> the unit that represents its item
    groups: dict[int, Group] = {}
    with collector_paused():  # sets and lists of ints only: nothing cyclic to collect
        if max_nodes is not None and len(units) > max_nodes:
            _by_module(units, owner, groups)
        if max_nodes is not None and _count(owner) > max_nodes:
            _runs(units, owner, groups)
        if max_nodes is not None and _count(owner) > max_nodes:
            _far_end(units, owner, groups, max_nodes)
        return _items(owner, groups)


def _count(owner: list[int]) -> int:
    return len(set(owner))


def _merge(members: list[int], kind: str, name: str, owner: list[int], groups: dict) -> None:
    units_in = sorted({u for m in members for u in _members_of(m, owner, groups)})
    head = units_in[-1]  # the last unit stands for the item: items stay in evaluation order
    for m in {owner[u] for u in units_in}:
        groups.pop(m, None)
    for u in units_in:
        owner[u] = head
    groups[head] = Group(kind, name, units_in)


def _members_of(rep: int, owner: list[int], groups: dict) -> list[int]:
    rep = owner[rep]
    return groups[rep].members if rep in groups else [rep]


def _by_module(units: list, owner: list[int], groups: dict) -> None:
    last = len(units) - 1
    module: list[str | None] = [None] * len(units)
    params_only = [False] * len(units)  # a parameter, or one op of one parameter (w.T)
    for i, unit in enumerate(units):
        if not unit.inputs:
            module[i] = unit.module
            params_only[i] = unit.module is not None
            continue
        if i == last:
            continue
        direct = {module[j] for j, _ in unit.inputs if params_only[j]}
        if len(direct) == 1:
            module[i] = direct.pop()
            # w.T or w.reshape(...) stands for w; an op with other operands is an activation
            params_only[i] = len(unit.inputs) == 1 and not unit.constants
    members: dict[str, list[int]] = {}
    for i, name in enumerate(module):
        if name is not None:
            members.setdefault(name, []).append(i)
    for name, units_in in members.items():
        _merge(units_in, "module", name, owner, groups)


def _item_links(units: list, owner: list[int]):
    """Per item: the distinct items it reads, and the distinct items that read it."""
    reads: dict[int, set[int]] = {}
    read_by: dict[int, set[int]] = {}
    for i, unit in enumerate(units):
        item = owner[i]
        reads.setdefault(item, set())
        read_by.setdefault(item, set())
        for j, _ in unit.inputs:
            if owner[j] != item:
                reads[item].add(owner[j])
                read_by.setdefault(owner[j], set()).add(item)
    return reads, read_by


def _runs(units: list, owner: list[int], groups: dict) -> None:
    reads, read_by = _item_links(units, owner)
    root = owner[len(units) - 1]
    following: dict[int, int] = {}
    for item, sources in reads.items():
        if item == root or len(sources) != 1:
            continue
        (source,) = sources
        is_leaf = source not in groups and not units[source].inputs
        if not is_leaf and len(read_by[source]) == 1:
            following[source] = item
    starts = set(following) - set(following.values())
    for start in sorted(starts):
        run = [start]
        while run[-1] in following:
            run.append(following[run[-1]])
        middle = run[_RUN_ENDS:-_RUN_ENDS]
        if len(middle) >= 2:
            _merge(middle, "run", "", owner, groups)


def _far_end(units: list, owner: list[int], groups: dict, max_nodes: int) -> None:
    reads, _ = _item_links(units, owner)
    root = owner[len(units) - 1]
    kept = {root}
    queue = deque([root])
    while queue and len(kept) < max_nodes - 1:
        for source in sorted(reads[queue.popleft()], reverse=True):  # nearest in order first
            if source not in kept and len(kept) < max_nodes - 1:
                kept.add(source)
                queue.append(source)
    rest = sorted(item for item in reads if item not in kept)
    if rest:
        _merge(rest, "earlier", "", owner, groups)


def _items(owner: list[int], groups: dict) -> tuple[list, list[int]]:
    reps = sorted(set(owner))
    position = {rep: k for k, rep in enumerate(reps)}
    items = [groups.get(rep, rep) for rep in reps]
    return items, [position[rep] for rep in owner]
