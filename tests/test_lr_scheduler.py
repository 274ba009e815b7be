"""cr.optim.lr_scheduler: the same lr sequences as PyTorch's for 50 epochs, the closed forms,
ReduceLROnPlateau's bookkeeping, checkpoints and errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import lr_scheduler
from tests.conftest import needs_torch

EPOCHS = 50
LRS = (0.1, 0.035)  # two param groups, two starting lrs

# (scheduler, keywords): each given the same keywords in both libraries
CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1, "gamma": 0.9}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("CosineAnnealingLR", {"T_max": 10}),  # 50 epochs: down, up, down, ... (no restarts)
    ("CosineAnnealingLR", {"T_max": 17, "eta_min": 0.004}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + 0.3 * epoch)}),
    ("LambdaLR", {"lr_lambda": [lambda e: 0.95**e, lambda e: 1 + math.sin(e)]}),
]

rng = np.random.default_rng(11)
# a metric that improves, stalls, wobbles and improves again
METRIC = np.concatenate(
    [np.linspace(2.0, 1.0, 10), 1.0 + 0.01 * rng.standard_normal(15), np.linspace(0.99, 0.5, 25)]
)
PLATEAU_CASES = [
    {"patience": 4},
    {"patience": 2, "factor": 0.5},
    {"patience": 0, "factor": 0.7, "cooldown": 3},
    {"patience": 3, "threshold": 0.01, "threshold_mode": "abs", "min_lr": [0.02, 0.001]},
    {"mode": "max", "patience": 1, "factor": 0.6, "min_lr": 0.01},
    {"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.05, "eps": 1e-3},
]


def our_sequence(name, kwargs, metric=None):
    params = [cr.zeros(2, requires_grad=True), cr.zeros(1, requires_grad=True)]
    opt = cr.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)])
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    lrs = []
    for epoch in range(EPOCHS):
        lrs.append(sched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
        opt.step()
        sched.step(metric[epoch]) if metric is not None else sched.step()
    return np.array(lrs)


def torch_sequence(name, kwargs, metric=None):
    import torch

    params = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)])
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    lrs = []
    for epoch in range(EPOCHS):
        lrs.append(sched.get_last_lr())
        opt.step()
        sched.step(metric[epoch]) if metric is not None else sched.step()
    return np.array(lrs)


@needs_torch
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}{sorted(k)}" for n, k in CASES])
def test_50_epochs_give_pytorchs_lr_sequence(name, kwargs):
    ours, theirs = our_sequence(name, kwargs), torch_sequence(name, kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert len(np.unique(ours[:, 0])) > 2  # the schedule did change the lr


@needs_torch
@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=lambda k: ",".join(map(str, k.items())))
def test_reduce_lr_on_plateau_gives_pytorchs_lr_sequence_for_the_same_metric(kwargs):
    metric = METRIC if kwargs.get("mode") != "max" else -METRIC
    ours = our_sequence("ReduceLROnPlateau", kwargs, metric)
    theirs = torch_sequence("ReduceLROnPlateau", kwargs, metric)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert len(np.unique(ours[:, 0])) > 1  # the plateau was detected at least once


@needs_torch
def test_two_schedules_on_one_optimizer_compose_as_in_pytorch():
    import torch

    def run(module, make_optimizer, param):
        opt = make_optimizer([param], lr=0.2)
        first = module.ExponentialLR(opt, gamma=0.9)
        second = module.StepLR(opt, step_size=4, gamma=0.5)
        lrs = []
        for _ in range(20):
            opt.step()
            first.step()
            second.step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    ours = run(lr_scheduler, cr.optim.SGD, cr.zeros(1, requires_grad=True))
    theirs = run(torch.optim.lr_scheduler, torch.optim.SGD, torch.zeros(1, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# -- without PyTorch: the closed forms ------------------------------------------------------


def test_step_multistep_exponential_follow_their_closed_forms():
    epochs = np.arange(EPOCHS)
    steps = our_sequence("StepLR", {"step_size": 7, "gamma": 0.5})
    np.testing.assert_allclose(steps, np.outer(0.5 ** (epochs // 7), LRS), rtol=1e-13)
    multi = our_sequence("MultiStepLR", {"milestones": [12, 5, 12], "gamma": 0.3})
    passed = (epochs >= 5).astype(int) + 2 * (epochs >= 12)
    np.testing.assert_allclose(multi, np.outer(0.3**passed, LRS), rtol=1e-13)
    exponential = our_sequence("ExponentialLR", {"gamma": 0.93})
    np.testing.assert_allclose(exponential, np.outer(0.93**epochs, LRS), rtol=1e-12)


def test_cosine_annealing_follows_the_closed_form_down_and_back_up():
    t_max, eta_min = 10, 0.004
    lrs = our_sequence("CosineAnnealingLR", {"T_max": t_max, "eta_min": eta_min})
    epochs = np.arange(EPOCHS)[:, None]
    closed = eta_min + (np.array(LRS) - eta_min) * (1 + np.cos(np.pi * epochs / t_max)) / 2
    np.testing.assert_allclose(lrs, closed, rtol=1e-9, atol=1e-12)
    assert lrs[t_max, 0] == pytest.approx(eta_min) and lrs[2 * t_max, 0] == pytest.approx(0.1)


def test_lambda_lr_with_one_function_per_group():
    lrs = our_sequence("LambdaLR", {"lr_lambda": [lambda e: 0.5**e, lambda e: e + 1]})
    np.testing.assert_allclose(lrs[:, 0], LRS[0] * 0.5 ** np.arange(EPOCHS))
    np.testing.assert_allclose(lrs[:, 1], LRS[1] * (np.arange(EPOCHS) + 1))


def test_reduce_lr_on_plateau_counts_bad_epochs_and_cools_down():
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=2, min_lr=0.2)
    seen = []
    for metric in [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0]:
        sched.step(metric)
        seen.append(sched.get_last_lr()[0])
    # two bad epochs (> patience 1) halve the lr; two cooldown epochs do not count; the floor
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    for _ in range(10):
        sched.step(3.0)
    assert sched.get_last_lr() == [0.2] and sched.last_epoch == 21


# -- checkpoints, resuming and errors ----------------------------------------------------------


def test_a_scheduler_state_dict_resumes_the_sequence():
    def fresh():
        opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
        return opt, lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.1)

    opt, sched = fresh()
    for _ in range(5):
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), pickle.loads(pickle.dumps(sched.state_dict()))
    straight = []
    for _ in range(5):
        sched.step()
        straight.append(sched.get_last_lr()[0])

    opt, sched = fresh()
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    resumed = []
    for _ in range(5):
        sched.step()
        resumed.append(sched.get_last_lr()[0])
    assert resumed == straight and sched.last_epoch == 10


def test_resuming_at_last_epoch_needs_initial_lr_in_the_groups():
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(KeyError, match="no 'initial_lr'.*load the optimizer's state dict"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 2.0
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=4)
    assert sched.last_epoch == 5 and sched.base_lrs == [2.0]


def test_lambda_lr_saves_callable_objects_but_not_functions():
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, [Warmup(4)])
    sched.lr_lambdas[0].epochs = 10
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 10}] and "optimizer" not in state
    other = lr_scheduler.LambdaLR(cr.optim.SGD([cr.zeros(1, requires_grad=True)]), [Warmup(4)])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].epochs == 10
    assert lr_scheduler.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size must be a positive"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be"),
        (lambda o: lr_scheduler.MultiStepLR(o, [2.5]), TypeError, "milestones must be epoch"),
        (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), ValueError, "2 functions for 1 param"),
        (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "'min' or 'max'"),
        (
            lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"),
            ValueError,
            "threshold_mode",
        ),
        (lambda o: lr_scheduler.StepLR("sgd", step_size=1), TypeError, "needs an Optimizer"),
    ],
)
def test_bad_scheduler_arguments_are_named(make, error, message):
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(error, match=message):
        make(opt)
