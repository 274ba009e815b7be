"""Learning-rate schedules: change each param group's ``lr`` as training goes on.

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``. Making a scheduler
sets ``last_epoch = 0`` and each group's starting lr; ``get_last_lr()`` gives the lrs now in
force. The sequences are PyTorch's, computed the same way (recursively from the current lr,
so schedules made one after another on one optimizer compose, as in PyTorch):

- ``StepLR``:            lr_t = lr_0 * gamma^(t // step_size)
- ``MultiStepLR``:       lr_t = lr_0 * gamma^(number of milestones <= t)
- ``ExponentialLR``:     lr_t = lr_0 * gamma^t
- ``CosineAnnealingLR``: lr_t = eta_min + (lr_0 - eta_min) * (1 + cos(pi t / T_max)) / 2
- ``LambdaLR``:          lr_t = lr_0 * lr_lambda(t)
- ``ReduceLROnPlateau``: lr <- max(lr * factor, min_lr) after ``patience`` epochs without
  improvement of the metric given to ``step(metric)``

>>> import chainrule as cr
>>> w = cr.zeros(2, requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=1.0)
>>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(sched.get_last_lr()[0])
...     opt.step()          # (a training epoch)
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
import types
from collections import Counter

from chainrule.optim.optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "ReduceLROnPlateau",
    "StepLR",
]


class LRScheduler:
    """Base class: subclasses write ``get_lr()``, the lrs for epoch ``last_epoch``.

    ``last_epoch=-1`` (the default) starts a schedule; a saved ``last_epoch`` resumes one,
    and then every param group must already hold its ``"initial_lr"`` (restore the
    optimizer's state dict first).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=1.0)
    >>> schedule = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # an LRScheduler
    >>> for _ in range(3):
    ...     opt.step()
    ...     schedule.step()
    >>> schedule.get_last_lr()
    [0.125]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param group {i} has no 'initial_lr', needed to resume a schedule at "
                        f"last_epoch={last_epoch}: load the optimizer's state dict first"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # the first step, at construction, sets epoch 0; it keeps the lrs (PyTorch's _is_initial)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each param group for epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch and set its lrs in the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lr of each param group, as the last ``step`` (or the construction) set it."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (save and load the optimizer's state dict beside it)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=3, gamma=0.1)
    >>> for _ in range(3):
    ...     sched.step()
    >>> sched.last_epoch, sched.get_last_lr()
    (3, [0.1])
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch=-1):
        _check_positive_int("step_size", step_size)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch of ``milestones`` (twice if listed twice).

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = [sched.get_last_lr()[0]] + [sched.step() or sched.get_last_lr()[0] for _ in range(4)]
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch=-1):
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int):
                raise TypeError(f"milestones must be epoch numbers (ints), got {m!r}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from the starting lr down to ``eta_min`` over ``T_max`` epochs
    (and back up over the next ``T_max``: there is no restart, as in PyTorch).

    Computed recursively, as PyTorch does::

        lr_t = eta_min + (lr_{t-1} - eta_min) * c(t) / c(t - 1),   c(t) = 1 + cos(pi t / T_max)

    which equals the closed form above when nothing else changes the lr.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=2)
    >>> lrs = [sched.get_last_lr()[0]] + [sched.step() or sched.get_last_lr()[0] for _ in range(2)]
    >>> [round(lr, 12) for lr in lrs]
    [1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch=-1):  # noqa: N803
        _check_positive_int("T_max", T_max)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            # at the bottom the recursion divides 0 by 0: step up the cosine's first rise
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(self._current_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + (lr - eta_min) * ratio for lr in self._current_lrs()]


class LambdaLR(LRScheduler):
    """Set the lr to the starting lr times ``lr_lambda(epoch)`` (one function, or one per
    param group).

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=2.0)
    >>> sched = LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.6666666666666666]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"lr_lambda: got {len(lr_lambda)} functions for {n} param groups")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"lr_lambda must be a function of the epoch, got {f!r}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        """As the base class, but functions are not saved: only callable objects' attributes
        (as in PyTorch), ``None`` for plain functions and lambdas."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) else dict(f.__dict__) for f in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for f, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                f.__dict__.update(attributes)


class ReduceLROnPlateau(LRScheduler):
    """Divide the lr by ``1 / factor`` when ``step(metric)`` has not improved for more than
    ``patience`` epochs (then wait ``cooldown`` epochs before counting again).

    "Improved" means below ``best * (1 - threshold)`` (``mode="min"``, ``threshold_mode="rel"``),
    below ``best - threshold`` (``"abs"``), or above the mirrored bounds with ``mode="max"``.

    >>> import chainrule as cr
    >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [3.0, 2.0, 2.5, 2.4, 2.2, 1.0]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()      # 2.5 and 2.4 (two bad epochs > patience) halve it once
    [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1 (the lr is multiplied by it), got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"min_lr: got {len(min_lr)} values for {n} param groups")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def step(self, metrics) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a one-element tensor); reduce the lr if it
        has not improved for more than ``patience`` epochs."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown do not count as bad
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, current: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            bound = best * (1 - threshold) if self.threshold_mode == "rel" else best - threshold
            return current < bound
        bound = best * (1 + threshold) if self.threshold_mode == "rel" else best + threshold
        return current > bound

    def _reduce_lr(self) -> None:
        n = len(self.optimizer.param_groups)
        if len(self.min_lrs) != n and self.default_min_lr is not None:
            self.min_lrs = [self.default_min_lr] * n  # a group was added since
        if len(self.min_lrs) != n:
            raise RuntimeError(
                f"ReduceLROnPlateau has {len(self.min_lrs)} min_lrs but the optimizer now has "
                f"{len(self.optimizer.param_groups)} param groups: set .min_lrs to match"
            )
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:  # changes smaller than eps are not worth making
                group["lr"] = new


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
