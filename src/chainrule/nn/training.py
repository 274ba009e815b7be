"""``fit``: the training loop, written once: epochs of batches, validation, metrics, the
learning-rate schedule, gradient norms per parameter, a progress bar and a clean Ctrl-C.

>>> import numpy as np
>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> X, y = cr.data.make_moons(200, noise=0.1, seed=0)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=50, shuffle=True, seed=0)
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 16), cr.nn.Tanh(), cr.nn.Linear(16, 2))
>>> opt = cr.optim.Adam(model.parameters(), lr=0.05)
>>> history = cr.nn.fit(model, cr.nn.CrossEntropyLoss(), opt, loader, epochs=20, progress=False)
>>> len(history), history.train_loss[-1] < history.train_loss[0] / 3
(20, True)
>>> history.train_accuracy[-1] > 0.95
True
>>> sorted(history.grad_norms)
['0.bias', '0.weight', '2.bias', '2.weight']
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable

import numpy as np

from chainrule.autograd import no_grad
from chainrule.nn.history import History
from chainrule.nn.metrics import resolve_metrics
from chainrule.nn.module import Module
from chainrule.nn.progress import make_reporter
from chainrule.tensor import Tensor

__all__ = ["fit"]


def fit(
    model: Module,
    loss_fn: Callable,
    optimizer,
    train_loader,
    epochs: int,
    val_loader=None,
    metrics=("accuracy",),
    scheduler=None,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return a ``History``.

    Each batch is ``(inputs..., target)``: the model gets the inputs, ``loss_fn(output,
    target)`` gives a scalar Tensor, then backward and ``optimizer.step()``. The epoch's
    loss and metrics are means over its batches weighed by batch size (train metrics are
    measured on the outputs of training mode, as the batches go by). With ``val_loader``,
    each epoch ends with a pass in ``model.eval()`` under ``no_grad``, recorded as
    ``val_loss`` and ``val_<metric>``. ``metrics``: names from ``cr.nn.metrics.METRICS``,
    functions ``f(output, target) -> float`` of ndarrays, or a ``{name: function}`` dict.

    ``scheduler.step()`` runs after each epoch; a ``ReduceLROnPlateau`` is given the
    validation loss (the training loss without validation data). ``progress=True`` shows
    a bar on a terminal (rich, or plain lines without it) and nothing elsewhere.
    Ctrl-C (KeyboardInterrupt) stops training cleanly: the history of the completed epochs
    comes back with ``interrupted=True``; the model keeps its weights as they were then.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> X, y = cr.data.make_moons(100, noise=0.1, seed=0)
    >>> data = cr.data.TensorDataset(X, y)
    >>> loader = cr.data.DataLoader(data, batch_size=20, shuffle=True, seed=0)
    >>> model = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.Tanh(), cr.nn.Linear(8, 2)).double()
    >>> opt = cr.optim.Adam(model.parameters(), lr=0.05)
    >>> history = cr.nn.fit(model, cr.nn.CrossEntropyLoss(), opt, loader, epochs=5, progress=False)
    >>> len(history.train_loss), bool(history.train_loss[-1] < history.train_loss[0])
    (5, True)
    """
    _check_arguments(model, loss_fn, optimizer, epochs, scheduler)
    metric_fns = resolve_metrics(metrics)
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    history = History()
    reporter = make_reporter(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            reporter.start_epoch(epoch, _length(train_loader))
            model.train()
            train = _train_epoch(
                model, loss_fn, optimizer, train_loader, metric_fns, named, reporter
            )
            figures = {f"train_{name}": value for name, value in train.metrics.items()}
            val_loss = None
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader, metric_fns)
                val_loss = val.loss
                figures.update({f"val_{name}": value for name, value in val.metrics.items()})
            history.record(
                train.loss,
                lr,
                train.grad_norms,
                figures,
                val_loss,
                time.perf_counter() - started,
            )
            reporter.end_epoch(epoch, _summary(history))
            if scheduler is not None:
                _step_scheduler(scheduler, train.loss if val_loss is None else val_loss)
    except KeyboardInterrupt:
        history.interrupted = True
        reporter.message(
            f"interrupted during epoch {len(history) + 1}: "
            f"returning the history of the {len(history)} epochs completed"
        )
    finally:
        reporter.close()
    model.train()
    return history


class _EpochFigures:
    """Sums over an epoch's batches, weighed by batch size, and their means."""

    def __init__(self, metric_fns: dict, parameter_names=()):
        self.metric_fns = metric_fns
        self.samples = 0
        self.loss_sum = 0.0
        self.metric_sums = dict.fromkeys(metric_fns, 0.0)
        self.norm_sums = dict.fromkeys(parameter_names, 0.0)
        self.norm_counts = dict.fromkeys(parameter_names, 0)

    def add(self, loss: float, output, target) -> float:
        n = _batch_size(target)
        self.samples += n
        self.loss_sum += loss * n
        out, tgt = _array(output), _array(target)
        for name, fn in self.metric_fns.items():
            self.metric_sums[name] += float(fn(out, tgt)) * n
        return loss

    @property
    def loss(self) -> float:
        return self.loss_sum / self.samples if self.samples else math.nan

    @property
    def metrics(self) -> dict[str, float]:
        total = self.samples or math.nan
        return {name: value / total for name, value in self.metric_sums.items()}

    @property
    def grad_norms(self) -> dict[str, float]:
        return {
            name: self.norm_sums[name] / count if count else math.nan
            for name, count in self.norm_counts.items()
        }


def _train_epoch(model, loss_fn, optimizer, loader, metric_fns, named, reporter) -> _EpochFigures:
    figures = _EpochFigures(metric_fns, [name for name, _ in named])
    for batch in loader:
        inputs, target = _split_batch(batch, "train_loader")
        output = model(*inputs)
        loss = _scalar_loss(loss_fn(output, target))
        optimizer.zero_grad()
        loss.backward()
        for name, p in named:
            if p.grad is not None:
                g = p.grad.data.ravel()
                figures.norm_sums[name] += math.sqrt(float(np.dot(g, g)))
                figures.norm_counts[name] += 1
        optimizer.step()
        value = float(loss.data)
        figures.add(value, output, target)
        reporter.advance(value)
    if figures.samples == 0:
        raise ValueError("fit: train_loader yielded no batches")
    return figures


def evaluate(model: Module, loss_fn: Callable, loader, metrics=("accuracy",)):
    """The loss and metrics of ``model`` over ``loader``, in eval mode under ``no_grad``
    (means over batches weighed by batch size); the model's mode is put back afterwards.
    Returns an object with ``.loss`` and ``.metrics`` (a dict).

    >>> import chainrule as cr
    >>> model = cr.nn.Linear(3, 2)
    >>> ds = cr.data.TensorDataset(cr.randn(10, 3), cr.tensor([0, 1] * 5))
    >>> result = evaluate(model, cr.nn.CrossEntropyLoss(), cr.data.DataLoader(ds, batch_size=4))
    >>> result.loss > 0, 0.0 <= result.metrics["accuracy"] <= 1.0
    (True, True)
    """
    metric_fns = metrics if isinstance(metrics, dict) else resolve_metrics(metrics)
    figures = _EpochFigures(metric_fns)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                inputs, target = _split_batch(batch, "val_loader")
                output = model(*inputs)
                figures.add(float(_scalar_loss(loss_fn(output, target)).data), output, target)
    finally:
        model.train(was_training)
    if figures.samples == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return figures


def _check_arguments(model, loss_fn, optimizer, epochs, scheduler) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a cr.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be callable (output, target) -> loss, got {loss_fn!r}")
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "param_groups")):
        raise TypeError(f"fit: optimizer must be a cr.optim optimizer, got {optimizer!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if scheduler is not None and not hasattr(scheduler, "step"):
        raise TypeError(f"fit: scheduler must have a step() method, got {scheduler!r}")


def _split_batch(batch, where: str):
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError(
            f"fit: {where} must yield (inputs..., target) tuples, got "
            f"{type(batch).__name__}"
            + (f" of length {len(batch)}" if hasattr(batch, "__len__") else "")
        )
    return tuple(batch[:-1]), batch[-1]


def _scalar_loss(loss) -> Tensor:
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        shape = getattr(loss, "shape", None)
        raise TypeError(
            f"fit: loss_fn must return a scalar Tensor, got {type(loss).__name__}"
            + (f" of shape {tuple(shape)}" if shape is not None else "")
        )
    return loss


def _batch_size(target) -> int:
    shape = np.shape(_array(target))
    return int(shape[0]) if shape else 1


def _array(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _length(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:  # an iterable without a length: the bar shows no total
        return None


def _step_scheduler(scheduler, metric: float) -> None:
    # ReduceLROnPlateau's step(metrics) needs the figure to watch; the others step by epoch.
    # Told apart by signature, not by class: nn sits above optim in the layers (DESIGN.md)
    if _needs_argument(scheduler.step):
        scheduler.step(metric)
    else:
        scheduler.step()


def _needs_argument(method) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in parameters
    )


def _summary(history: History) -> str:
    parts = [
        f"{name} {values[-1]:.4g}" for name, values in history.columns().items() if name != "lr"
    ]
    parts += [f"lr {history.lr[-1]:.3g}", f"{history.seconds[-1]:.1f} s"]
    return "  ".join(parts)
