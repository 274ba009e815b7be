"""History: what ``cr.nn.fit`` saw, epoch by epoch.

Losses, metrics, the learning rate and each parameter's gradient norm, as lists with one
entry per completed epoch: the raw material of learning curves and of vanishing-gradient
plots (a layer whose norm shrinks towards 0 has stopped learning).

>>> h = History()
>>> h.record(train_loss=0.9, lr=0.1, grad_norms={"0.weight": 2.0}, metrics={"train_accuracy": 0.5})
>>> h.record(train_loss=0.4, lr=0.1, grad_norms={"0.weight": 1.0}, metrics={"train_accuracy": 0.8})
>>> h.train_loss, h.train_accuracy, h.grad_norms
([0.9, 0.4], [0.5, 0.8], {'0.weight': [2.0, 1.0]})
>>> print(h.table())
epoch  train_loss  train_accuracy   lr
-----  ----------  --------------  ---
    1         0.9             0.5  0.1
    2         0.4             0.8  0.1
"""

from __future__ import annotations

from chainrule.table import Table

__all__ = ["History"]


class History:
    """Per-epoch records of a training run; ``fit`` fills one and returns it.

    Attributes (lists, one entry per completed epoch): ``epochs`` (1, 2, ...),
    ``train_loss``, ``val_loss`` (empty without validation data), ``lr`` (the first param
    group's learning rate during the epoch), ``seconds``; ``metrics`` maps names such as
    ``"train_accuracy"`` and ``"val_accuracy"`` to lists, which also read as attributes
    (``history.val_accuracy``); ``grad_norms`` maps each parameter's name (``"0.weight"``)
    to its gradient's L2 norm, averaged over the epoch's batches. ``interrupted`` is True
    when Ctrl-C stopped the run; the lists then hold the epochs completed before it.

    >>> import chainrule as cr
    >>> history = cr.nn.History()
    >>> history.record(train_loss=0.9, lr=0.1, grad_norms={"0.weight": 2.0})
    >>> history.record(train_loss=0.5, lr=0.1, grad_norms={"0.weight": 1.0})
    >>> history.train_loss, history.epochs
    ([0.9, 0.5], [1, 2])
    """

    def __init__(self):
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.metrics: dict[str, list[float]] = {}
        self.lr: list[float] = []
        self.grad_norms: dict[str, list[float]] = {}
        self.seconds: list[float] = []
        self.interrupted = False

    def record(
        self,
        train_loss: float,
        lr: float,
        grad_norms: dict[str, float],
        metrics: dict[str, float] | None = None,
        val_loss: float | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Append one epoch's figures.

        >>> import chainrule as cr
        >>> history = cr.nn.History()
        >>> history.record(0.9, lr=0.1, grad_norms={"w": 2.0}, metrics={"train_accuracy": 0.6})
        >>> history.metrics
        {'train_accuracy': [0.6]}
        """
        self.epochs.append(len(self.epochs) + 1)
        self.train_loss.append(float(train_loss))
        if val_loss is not None:
            self.val_loss.append(float(val_loss))
        self.lr.append(float(lr))
        for name, value in (metrics or {}).items():
            self.metrics.setdefault(name, []).append(float(value))
        for name, value in grad_norms.items():
            self.grad_norms.setdefault(name, []).append(float(value))
        self.seconds.append(float(seconds))

    def __getattr__(self, name: str):
        # only reached for names that are not ordinary attributes: metric lists
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(
            f"History has no attribute {name!r}; its metrics are {sorted(metrics)}"
        )

    def __len__(self) -> int:
        return len(self.epochs)

    def columns(self) -> dict[str, list[float]]:
        """The per-epoch series shown in ``table()``: losses, metrics, lr, by name.

        >>> import chainrule as cr
        >>> history = cr.nn.History()
        >>> history.record(train_loss=0.9, lr=0.1, grad_norms={"w": 2.0})
        >>> history.columns()
        {'train_loss': [0.9], 'lr': [0.1]}
        """
        series = {"train_loss": self.train_loss}
        if self.val_loss:
            series["val_loss"] = self.val_loss
        series.update(self.metrics)
        series["lr"] = self.lr
        return series

    def table(self) -> Table:
        """One row per epoch: losses, metrics and learning rate.

        >>> import chainrule as cr
        >>> history = cr.nn.History()
        >>> history.record(train_loss=0.9, lr=0.1, grad_norms={"w": 2.0})
        >>> history.record(train_loss=0.5, lr=0.1, grad_norms={"w": 1.0})
        >>> print(history.table())
        epoch  train_loss   lr
        -----  ----------  ---
            1         0.9  0.1
            2         0.5  0.1
        """
        series = self.columns()
        rows = [
            [epoch, *(values[i] for values in series.values())]
            for i, epoch in enumerate(self.epochs)
        ]
        notes = ["(interrupted: the epochs completed before Ctrl-C)"] if self.interrupted else []
        return Table(["epoch", *series], rows, notes=notes)

    def to_dict(self) -> dict:
        """Plain lists, floats and strings, ready for ``json.dumps``.

        >>> import chainrule as cr
        >>> history = cr.nn.History()
        >>> history.record(train_loss=0.9, lr=0.1, grad_norms={"w": 2.0})
        >>> sorted(history.to_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['epochs', 'grad_norms', 'interrupted', 'lr', 'metrics', 'seconds', 'train_loss',
         'val_loss']
        """
        return {
            "epochs": list(self.epochs),
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "metrics": {name: list(values) for name, values in self.metrics.items()},
            "lr": list(self.lr),
            "grad_norms": {name: list(values) for name, values in self.grad_norms.items()},
            "seconds": list(self.seconds),
            "interrupted": self.interrupted,
        }

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        last = ", ".join(
            f"{name} {values[-1]:.4g}" for name, values in self.columns().items() if name != "lr"
        )
        stopped = ", interrupted" if self.interrupted else ""
        return f"History({len(self.epochs)} epochs{stopped}; last: {last})"

    def __str__(self) -> str:
        return self.table().text()
