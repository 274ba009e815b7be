"""Several descents side by side: ``cr.compare`` (optimizers) and ``cr.lr_sweep`` (rates).

``compare`` runs several optimizers from one start and returns a ``Comparison``: a dict
name -> Trajectory with a summary ``table()``. ``lr_sweep`` runs one optimizer at several
learning rates and returns a ``Sweep`` whose table says, per rate, where the run ended, its
status, and whether it *overshoots*: whether some step reverses the previous one (the two
updates point in opposite directions, a negative dot product). In one dimension that is
exactly crossing the minimum, the gradient changing sign; in several it is a zig-zag.

The course's question, "what if the learning rate were 0.7?", on L(w) = (w - 3)^2:

>>> import chainrule as cr
>>> sweep = cr.lr_sweep(lambda w: (w - 3) ** 2, 0.0, [0.3, 0.7, 1.0, 1.5], steps=40)
>>> print(sweep.table())
 lr  status     steps  final x   final f(x)  overshoots
---  ---------  -----  -------  -----------  -------------
0.3  converged     23        3  4.45658e-18  no
0.7  converged     23        3  4.45658e-18  yes: 22 of 22
  1  max_steps     40        0            9  yes: 39 of 39
1.5  diverged      12   -12285  1.50995e+08  yes: 11 of 11

Rates 0.3 and 0.7 shrink the distance to 3 by the same factor 0.4 each step, but 0.7
jumps across the minimum every time; at 1 the iterate bounces between 0 and 6 for ever;
at 1.5 each step doubles the distance.
>>> sweep.overshoots_from, sweep.diverges_from
(0.7, 1.5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from chainrule.descent import OPTIMIZERS, Trajectory, _cell, descend
from chainrule.table import Table

__all__ = ["Comparison", "Sweep", "compare", "lr_sweep", "reversals"]


def reversals(trajectory: Trajectory) -> int:
    """How many steps reversed the step before (updates with a negative dot product).

    >>> import chainrule as cr
    >>> reversals(cr.descend(lambda x: x**2, 1.0, lr=0.75, steps=3))  # 1, -0.5, 0.25, ...
    2
    """
    updates = trajectory.updates
    if len(updates) < 2:
        return 0
    return int(np.sum(np.einsum("ij,ij->i", updates[1:], updates[:-1]) < 0))


class Comparison(dict):
    """Trajectories by name (a dict), with a one-row-per-optimizer summary ``table()``.

    >>> import chainrule as cr
    >>> bowl = cr.surfaces.get("bowl")
    >>> runs = cr.compare(bowl, bowl.start, ["sgd", "adam"], lr=0.1, steps=50)
    >>> sorted(runs)
    ['adam', 'sgd']
    >>> bool(runs["sgd"].values[-1] < 1e-6)
    True
    """

    def table(self, f_name: str = "f") -> Table:
        """Per optimizer: status, steps, where it ended and the value there."""
        rows = [
            [name, t.status, t.steps, _cell(t.points[-1]), float(t.values[-1])]
            for name, t in self.items()
        ]
        return Table(["optimizer", "status", "steps", "final x", f"final {f_name}(x)"], rows)


def compare(f, x0, optimizers: Sequence | Mapping = ("sgd", "momentum", "adam"), **common):
    """Descend ``f`` from ``x0`` with each optimizer; ``common`` goes to every ``descend``.

    ``optimizers`` is a list of names or Optimizer classes, or a dict label -> a name, a
    class, or a dict of ``descend`` keywords (``{"optimizer": "adam", "lr": 0.1}``) that
    override ``common`` for that run; a dict without ``"optimizer"`` under an optimizer's name
    runs that optimizer (``{"adam": {"lr": 0.1}}``).

    >>> import chainrule as cr
    >>> runs = cr.compare(cr.surfaces.get("bowl"), [2.5, -1.5], ["sgd", "adam"], lr=0.1, steps=5)
    >>> print(runs.table())
    optimizer  status     steps  final x              final f(x)
    ---------  ---------  -----  -------------------  ----------
    sgd        max_steps      5  (0.8192, -0.49152)     0.912681
    adam       max_steps      5  (2.00222, -1.00436)     5.01764
    >>> runs["adam"].points.shape
    (6, 2)
    """
    if isinstance(optimizers, (str, type)):
        raise TypeError("optimizers must be a list or dict of optimizers, e.g. ['sgd', 'adam']")
    if isinstance(optimizers, Mapping):
        specs = list(optimizers.items())
    else:
        specs = [(spec if isinstance(spec, str) else spec.__name__, spec) for spec in optimizers]
    if not specs:
        raise ValueError("compare needs at least one optimizer")
    result = Comparison()
    for label, spec in specs:
        if label in result:
            raise ValueError(f"optimizer {label!r} appears twice: give them labels in a dict")
        options = dict(common)
        if isinstance(spec, Mapping):
            options.update(spec)
            if "optimizer" not in spec and str(label).lower() in OPTIMIZERS:
                options["optimizer"] = str(label).lower()
        else:
            options["optimizer"] = spec
        result[label] = descend(f, x0, **options)
    return result


@dataclass
class Sweep:
    """One trajectory per learning rate, and where the rates start to overshoot and diverge.

    >>> import chainrule as cr
    >>> sweep = cr.lr_sweep(cr.parse("(w-3)**2"), {"w": 0.0}, [0.1, 0.7, 1.5], steps=20)
    >>> sweep.overshoots_from, sweep.diverges_from   # the first lr to overshoot, to diverge
    (0.7, 1.5)
    """

    lrs: list[float]
    trajectories: list[Trajectory]

    @property
    def overshoots_from(self) -> float | None:
        """The smallest rate whose run overshoots (None: none does)."""
        rates = [lr for lr, t in zip(self.lrs, self.trajectories) if reversals(t)]
        return min(rates, default=None)

    @property
    def diverges_from(self) -> float | None:
        """The smallest rate whose run diverged (None: none did)."""
        rates = [lr for lr, t in zip(self.lrs, self.trajectories) if t.status == "diverged"]
        return min(rates, default=None)

    def table(self, f_name: str = "f") -> Table:
        """Per rate: status, steps, final x, final f(x), and how many steps overshot.

        >>> import chainrule as cr
        >>> print(cr.lr_sweep(lambda w: w ** 2, 1.0, [0.1, 1.2], steps=10).table())
         lr  status     steps   final x  final f(x)  overshoots
        ---  ---------  -----  --------  ----------  -----------
        0.1  max_steps     10  0.107374   0.0115292  no
        1.2  max_steps     10   28.9255     836.683  yes: 9 of 9
        """
        rows = []
        for lr, t in zip(self.lrs, self.trajectories):
            count = reversals(t)
            overshoots = f"yes: {count} of {t.steps - 1}" if count else "no"
            rows.append(
                [lr, t.status, t.steps, _cell(t.points[-1]), float(t.values[-1]), overshoots]
            )
        columns = ["lr", "status", "steps", "final x", f"final {f_name}(x)", "overshoots"]
        return Table(columns, rows)


def lr_sweep(f, x0, lrs: Sequence[float], optimizer="sgd", steps: int = 100, **common) -> Sweep:
    """Descend ``f`` from ``x0`` once per learning rate in ``lrs`` (in the order given).

    >>> import chainrule as cr
    >>> sweep = cr.lr_sweep(cr.surfaces.get("bowl"), [2.5, -1.5], [0.1, 0.9, 1.1], steps=100)
    >>> [t.status for t in sweep.trajectories]
    ['converged', 'converged', 'diverged']
    """
    lrs = list(lrs)
    if not lrs:
        raise ValueError("lr_sweep needs at least one learning rate")
    for lr in lrs:
        if isinstance(lr, bool) or not isinstance(lr, Real) or not lr >= 0:
            raise ValueError(f"learning rates must be numbers >= 0, got {lr!r}")
    runs = [descend(f, x0, optimizer, lr=lr, steps=steps, **common) for lr in lrs]
    return Sweep(lrs, runs)
