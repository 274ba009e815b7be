"""Metrics that ``cr.nn.fit`` reports each epoch: functions of a batch's outputs and targets.

A metric takes ``(output, target)`` as ndarrays and returns a number, the metric's mean
over the batch's samples; ``fit`` weighs each batch by its size, so for a per-sample mean
such as accuracy the epoch's figure is exact.

>>> import numpy as np
>>> accuracy(np.array([[2.0, 0.1], [0.3, 0.9], [1.0, -1.0]]), np.array([0, 1, 1]))
0.6666666666666666
>>> accuracy(np.array([[1.5], [-0.2]]), np.array([[1.0], [0.0]]))   # one column: logits
1.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["METRICS", "accuracy", "resolve_metrics"]


def accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """The fraction of samples classified right.

    With one score per class (output (N, C), target (N,) class indices) the prediction is
    the highest score. With one score per sample (output (N,) or (N, 1)) the score is read
    as a logit, as ``BCEWithLogitsLoss`` does: class 1 where it is above 0.

    >>> import chainrule as cr
    >>> import numpy as np
    >>> cr.nn.metrics.accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    """
    output, target = np.asarray(output), np.asarray(target)
    if output.ndim >= 2 and output.shape[1] > 1:
        predicted = output.argmax(axis=1)
    else:
        predicted = (output > 0).astype(np.int64)
    if target.size == predicted.size:  # targets (N, 1) against predictions (N,), and back
        target = target.reshape(predicted.shape)
    if predicted.shape != target.shape:
        raise ValueError(
            f"accuracy: output of shape {output.shape} gives predictions of shape "
            f"{predicted.shape}, which do not match the target's shape {target.shape} "
            "(for regression, give fit metrics=())"
        )
    return float(np.mean(predicted == target))


METRICS: dict[str, Callable] = {"accuracy": accuracy}


def resolve_metrics(metrics) -> dict[str, Callable]:
    """``{name: function}`` from names in ``METRICS``, functions (named by ``__name__``) or
    a mapping of names to functions.

    >>> list(resolve_metrics(("accuracy",)))
    ['accuracy']
    """
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = (metrics,)
    items = metrics.items() if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    resolved = {}
    for name, metric in items:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)}")
            name, metric = name or metric, METRICS[metric]
        elif callable(metric):
            name = name or getattr(metric, "__name__", type(metric).__name__)
        else:
            raise TypeError(f"a metric is a name or a function of (output, target), got {metric!r}")
        if name in ("loss",):
            raise ValueError("'loss' is recorded anyway; give the metric another name")
        resolved[str(name)] = metric
    return resolved
