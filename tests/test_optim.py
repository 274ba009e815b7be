"""cr.optim: trajectories against PyTorch's, first steps against the formulas by hand,
checkpoints that resume exactly, hyperparameter checks, zero_grad and closures."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch

rng = np.random.default_rng(20240607)

# -- one problem for every optimizer: a small non-quadratic loss of three tensors --------------

X = rng.standard_normal((6, 3))
Y = rng.standard_normal((6, 2))
START = {
    "W": 0.5 * rng.standard_normal((3, 2)),
    "b": 0.5 * rng.standard_normal(2),
    "s": np.array(0.7),  # a 0-d parameter
    "unused": rng.standard_normal(2),  # in a group, never reached by the loss: no gradient
}


def objective(W, b, s, unused, x, y, sign=1.0):  # noqa: N803
    """A tanh regression, a double well in s and a quartic penalty; torch or chainrule alike."""
    fit = (((x @ W + b).tanh() - y) ** 2).mean()
    return sign * (fit + 0.1 * (s * s - 1) ** 2 + 0.05 * (W**4).sum() + 0.2 * (s * b).sum().sin())


# (optimizer, constructor keywords, overrides for the second param group): every option
CASES = [
    ("SGD", {"lr": 0.05}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}, {}),
    ("SGD", {"lr": 0.05, "maximize": True}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"momentum": 0.5, "lr": 0.02}),
    ("Adagrad", {"lr": 0.1}, {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}, {}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}, {}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3}, {}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-2}, {}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "weight_decay": 0.1}, {"lr_decay": 0.1}),
    ("RMSprop", {"lr": 0.004}, {}),
    ("RMSprop", {"lr": 0.004, "alpha": 0.95}, {}),
    ("RMSprop", {"lr": 0.004, "momentum": 0.8}, {}),
    ("RMSprop", {"lr": 0.004, "centered": True}, {}),
    ("RMSprop", {"lr": 0.004, "centered": True, "momentum": 0.8}, {}),
    ("RMSprop", {"lr": 0.004, "weight_decay": 0.1}, {}),
    ("RMSprop", {"lr": 0.004, "eps": 1e-2}, {}),
    ("RMSprop", {"lr": 0.004, "maximize": True, "centered": True}, {"momentum": 0.5}),
    ("Adam", {"lr": 0.02}, {}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9)}, {}),
    ("Adam", {"lr": 0.02, "amsgrad": True}, {}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1}, {}),
    ("Adam", {"lr": 0.02, "eps": 1e-2}, {}),
    ("Adam", {"lr": 0.02, "maximize": True}, {}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1, "maximize": True}, {}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}, {}),
    ("AdamW", {"lr": 0.02}, {}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3}, {}),
    ("AdamW", {"lr": 0.02, "amsgrad": True}, {"betas": (0.5, 0.6)}),
    ("AdamW", {"lr": 0.02, "maximize": True}, {"weight_decay": 0.0}),
]
# the second group always learns at its own rate, unless the case says otherwise
SECOND_GROUP_LR = {"SGD": 0.1, "Adagrad": 0.05, "RMSprop": 0.008, "Adam": 0.03, "AdamW": 0.03}


def case_id(case) -> str:
    name, kwargs, overrides = case
    options = ",".join(f"{k}={v}" for k, v in {**kwargs, **overrides}.items() if k != "lr")
    return f"{name}({options})"


def groups_of(params: dict, name: str, overrides: dict) -> list[dict]:
    second = {"lr": SECOND_GROUP_LR[name], **overrides}
    return [
        {"params": [params["W"]]},
        {"params": [params["b"], params["s"], params["unused"]], **second},
    ]


def run_chainrule(name, kwargs, overrides, steps):
    """The parameters after each step (W, b, s joined), and the optimizer."""
    params = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(cr.optim, name)(groups_of(params, name, overrides), **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize climbs -f: same valley as f
    x, y = cr.tensor(X), cr.tensor(Y)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(**params, x=x, y=y, sign=sign).backward()
        opt.step()
        path.append(np.concatenate([params[k].data.ravel() for k in ("W", "b", "s")]))
    return np.array(path), params, opt


def run_torch(name, kwargs, overrides, steps):
    import torch

    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(torch.optim, name)(groups_of(params, name, overrides), **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    x, y = torch.tensor(X), torch.tensor(Y)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(**params, x=x, y=y, sign=sign).backward()
        opt.step()
        path.append(np.concatenate([params[k].detach().numpy().ravel() for k in ("W", "b", "s")]))
    return np.array(path), params, opt


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_100_steps_follow_pytorchs_trajectory(case):
    ours, params, _ = run_chainrule(*case, steps=100)
    theirs, _, _ = run_torch(*case, steps=100)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)
    # the parameter without a gradient was left alone, as PyTorch leaves it
    assert np.array_equal(params["unused"].data, START["unused"])


@needs_torch
def test_the_state_matches_pytorchs_state():
    for name, kwargs in [
        ("SGD", {"momentum": 0.9}),
        ("Adagrad", {}),
        ("RMSprop", {"momentum": 0.5, "centered": True}),
        ("Adam", {"amsgrad": True}),
    ]:
        _, params, ours = run_chainrule(name, {"lr": 0.01, **kwargs}, {}, steps=7)
        _, torch_params, theirs = run_torch(name, {"lr": 0.01, **kwargs}, {}, steps=7)
        for key in ("W", "b", "s"):
            mine, other = ours.state[params[key]], theirs.state[torch_params[key]]
            assert set(mine) == set(other), name
            for entry, value in other.items():
                expected = value.numpy() if hasattr(value, "numpy") else value
                np.testing.assert_allclose(np.asarray(mine[entry]), expected, rtol=1e-9)


def test_every_option_changes_the_trajectory():
    """Each case other than maximize must move differently from its optimizer's plain run,
    or the comparisons above would not be testing that option."""
    plain = {}
    for case in CASES:
        name, kwargs, overrides = case
        if set(kwargs) == {"lr"} and not overrides:
            plain[name] = run_chainrule(*case, steps=30)[0]
            continue
        if kwargs.get("maximize") and len(kwargs) == 2 and not overrides:
            continue
        path = run_chainrule(*case, steps=30)[0]
        assert np.max(np.abs(path - plain[name])) > 1e-6, case_id(case)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1}),
        ("SGD", {"momentum": 0.9, "nesterov": True}),
        ("Adagrad", {"lr_decay": 0.1, "weight_decay": 0.1}),
        ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
        ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
        ("AdamW", {"weight_decay": 0.2}),
    ],
)
def test_maximizing_minus_f_walks_the_same_path_as_minimizing_f(name, kwargs):
    # PyTorch negates the gradient before the weight decay, so the two runs agree exactly
    kwargs = {"lr": 0.02, **kwargs}
    up = run_chainrule(name, {**kwargs, "maximize": True}, {}, steps=20)[0]
    params = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(cr.optim, name)(groups_of(params, name, {}), **kwargs)
    down = []
    for _ in range(20):
        opt.zero_grad()
        objective(**params, x=cr.tensor(X), y=cr.tensor(Y)).backward()
        opt.step()
        down.append(np.concatenate([params[k].data.ravel() for k in ("W", "b", "s")]))
    np.testing.assert_array_equal(up, np.array(down))


# -- the first steps against the formulas, written out by hand -------------------------------

A = rng.uniform(0.5, 2.0, size=5)
B = rng.standard_normal(5)
P0 = rng.standard_normal(5)


def quartic_grad(p):
    """Gradient of sum(A p^4 / 4 + B p): A p^3 + B."""
    return A * p**3 + B


def chainrule_steps(optimizer_class, steps, **kwargs):
    p = cr.tensor(P0.copy(), requires_grad=True)
    opt = optimizer_class([p], **kwargs)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        (cr.tensor(A) * p**4 / 4 + cr.tensor(B) * p).sum().backward()
        opt.step()
        path.append(p.data.copy())
    return path


def test_sgd_momentum_dampening_weight_decay_by_hand():
    lr, mu, tau, wd = 0.1, 0.8, 0.25, 0.05
    ours = chainrule_steps(cr.optim.SGD, 3, lr=lr, momentum=mu, dampening=tau, weight_decay=wd)
    p, b = P0.copy(), None
    for t in range(3):
        g = quartic_grad(p) + wd * p
        b = g if t == 0 else mu * b + (1 - tau) * g
        p = p - lr * b
        np.testing.assert_allclose(ours[t], p, rtol=1e-13)


def test_sgd_nesterov_by_hand():
    lr, mu = 0.1, 0.9
    ours = chainrule_steps(cr.optim.SGD, 3, lr=lr, momentum=mu, nesterov=True)
    p, b = P0.copy(), None
    for t in range(3):
        g = quartic_grad(p)
        b = g if t == 0 else mu * b + g
        p = p - lr * (g + mu * b)
        np.testing.assert_allclose(ours[t], p, rtol=1e-13)


def test_adagrad_by_hand():
    lr, decay, s0, eps = 0.3, 0.1, 0.2, 1e-10
    ours = chainrule_steps(
        cr.optim.Adagrad, 3, lr=lr, lr_decay=decay, initial_accumulator_value=s0, eps=eps
    )
    p, s = P0.copy(), np.full(5, s0)
    for t in range(1, 4):
        g = quartic_grad(p)
        s = s + g**2
        p = p - lr / (1 + (t - 1) * decay) * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(ours[t - 1], p, rtol=1e-13)


def test_rmsprop_centered_with_momentum_by_hand():
    lr, alpha, mu, eps = 0.01, 0.9, 0.7, 1e-8
    ours = chainrule_steps(
        cr.optim.RMSprop, 3, lr=lr, alpha=alpha, momentum=mu, centered=True, eps=eps
    )
    p, v, m, b = P0.copy(), np.zeros(5), np.zeros(5), np.zeros(5)
    for t in range(3):
        g = quartic_grad(p)
        v = alpha * v + (1 - alpha) * g**2
        m = alpha * m + (1 - alpha) * g
        b = mu * b + g / (np.sqrt(v - m**2) + eps)
        p = p - lr * b
        np.testing.assert_allclose(ours[t], p, rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_by_hand(amsgrad):
    lr, (b1, b2), eps, wd = 0.05, (0.8, 0.95), 1e-8, 0.1
    ours = chainrule_steps(
        cr.optim.Adam, 4, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad
    )
    p, m, v, v_max = P0.copy(), np.zeros(5), np.zeros(5), np.zeros(5)
    for t in range(1, 5):
        g = quartic_grad(p) + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - b1**t)
        v_hat = (v_max if amsgrad else v) / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(ours[t - 1], p, rtol=1e-12)


def test_adamw_decays_the_weights_apart_from_the_gradient_by_hand():
    lr, (b1, b2), eps, wd = 0.05, (0.9, 0.999), 1e-8, 0.3
    ours = chainrule_steps(cr.optim.AdamW, 3, lr=lr, weight_decay=wd)
    p, m, v = P0.copy(), np.zeros(5), np.zeros(5)
    for t in range(1, 4):
        g = quartic_grad(p)
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(ours[t - 1], p, rtol=1e-12)


def test_an_optimizer_changes_the_parameters_arrays_in_place_and_keeps_their_dtype():
    w = cr.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    array = w.data
    opt = cr.optim.Adam([w], lr=0.01, weight_decay=0.1, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    assert w.data is array and w.dtype == np.float32
    assert all(t.dtype == np.float32 for k, t in opt.state[w].items() if k != "step")
    assert w.is_leaf and w.requires_grad


# -- checkpoints -------------------------------------------------------------------------------

CHECKPOINT_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("RMSprop", {"lr": 0.004, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.02, "amsgrad": True}),
    ("AdamW", {"lr": 0.02}),
]


def train(opt, params, steps):
    x, y = cr.tensor(X), cr.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        objective(**params, x=x, y=y).backward()
        opt.step()


def as_saved_in_a_file(state_dict):
    """What a checkpoint file gives back: ndarrays for tensors, strings for the indices."""
    return {
        "state": {
            str(i): {k: np.array(v.data) for k, v in s.items()}
            for i, s in state_dict["state"].items()
        },
        "param_groups": [dict(g, params=list(g["params"])) for g in state_dict["param_groups"]],
    }


@pytest.mark.parametrize("name,kwargs", CHECKPOINT_CASES, ids=[c[0] for c in CHECKPOINT_CASES])
def test_train_10_save_load_train_10_is_train_20(name, kwargs):
    straight = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(cr.optim, name)(groups_of(straight, name, {}), **kwargs)
    train(opt, straight, 20)

    first = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = getattr(cr.optim, name)(groups_of(first, name, {}), **kwargs)
    train(opt, first, 10)
    snapshot = opt.state_dict()
    at_10 = {k: p.data.copy() for k, p in first.items()}
    train(opt, first, 3)  # the snapshot must not follow the optimizer after it was taken

    resumed = {k: cr.tensor(v, requires_grad=True) for k, v in at_10.items()}
    fresh = getattr(cr.optim, name)(groups_of(resumed, name, {}), lr=123.0)  # lr is restored
    fresh.load_state_dict(as_saved_in_a_file(snapshot))
    train(fresh, resumed, 10)
    for k in START:
        np.testing.assert_array_equal(resumed[k].data, straight[k].data)


def test_state_dict_layout_is_pytorchs():
    params = {k: cr.tensor(v.copy(), requires_grad=True) for k, v in START.items()}
    opt = cr.optim.Adam(groups_of(params, "Adam", {}), lr=0.01)
    train(opt, params, 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2, 3]]
    assert sd["param_groups"][1]["lr"] == SECOND_GROUP_LR["Adam"]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1, 2}  # "unused" (3) never had a gradient, so no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(sd["state"][0]["step"]) == 2.0
    assert sd["state"][1]["exp_avg"].shape == (2,)


@needs_torch
def test_a_pytorch_state_dict_loads_and_resumes_as_pytorch_does():
    import torch

    _, torch_params, torch_opt = run_torch("Adam", {"lr": 0.02, "amsgrad": True}, {}, steps=10)
    torch_sd = torch_opt.state_dict()
    state = {
        i: {k: v.numpy() for k, v in s.items()} for i, s in copy.deepcopy(torch_sd)["state"].items()
    }
    params = {
        k: cr.tensor(v.detach().numpy().copy(), requires_grad=True) for k, v in torch_params.items()
    }
    opt = cr.optim.Adam(groups_of(params, "Adam", {}))
    opt.load_state_dict({"state": state, "param_groups": torch_sd["param_groups"]})
    train(opt, params, 5)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(5):
        torch_opt.zero_grad()
        objective(**torch_params, x=x, y=y).backward()
        torch_opt.step()
    for k in ("W", "b", "s"):
        np.testing.assert_allclose(params[k].data, torch_params[k].detach().numpy(), rtol=1e-9)


def test_load_state_dict_refuses_a_mismatch_and_changes_nothing():
    a = cr.tensor(rng.standard_normal(3), requires_grad=True)
    b = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    opt = cr.optim.SGD([a, b], lr=0.1, momentum=0.9)
    (a.sum() + (b * b).sum()).backward()
    opt.step()
    sd = opt.state_dict()
    other = cr.optim.SGD([a], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="param group 0 of the state dict has 2 parameters"):
        other.load_state_dict(sd)
    two_groups = cr.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="1 param groups, this optimizer has 2"):
        two_groups.load_state_dict(sd)
    swapped = cr.optim.SGD([b, a], lr=0.5, momentum=0.9)
    with pytest.raises(
        ValueError, match=r"'momentum_buffer' has shape \(3,\), the parameter \(2, 2\)"
    ):
        swapped.load_state_dict(sd)
    assert swapped.param_groups[0]["lr"] == 0.5 and not swapped.state
    bad = dict(sd, param_groups=[dict(sd["param_groups"][0], momentum=-1)])
    with pytest.raises(ValueError, match=r"momentum must be >= 0, got -1 \(param group 0 of"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["momentum"] == 0.9


# -- hyperparameter checks ---------------------------------------------------------------------

BAD = [
    (cr.optim.SGD, {"lr": -0.1}, "lr must be >= 0, got -0.1"),
    (cr.optim.SGD, {"momentum": -0.5}, "momentum must be >= 0"),
    (cr.optim.SGD, {"weight_decay": -1}, "weight_decay must be >= 0"),
    (cr.optim.SGD, {"nesterov": True}, "nesterov=True needs momentum > 0"),
    (cr.optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening = 0"),
    (cr.optim.SGD, {"lr": "fast"}, "lr must be a number, got 'fast'"),
    (cr.optim.Adagrad, {"lr_decay": -1}, "lr_decay must be >= 0"),
    (cr.optim.Adagrad, {"initial_accumulator_value": -1}, "initial_accumulator_value"),
    (cr.optim.Adagrad, {"eps": -1e-10}, "eps must be >= 0"),
    (cr.optim.RMSprop, {"alpha": -0.1}, "alpha must be >= 0"),
    (cr.optim.RMSprop, {"momentum": -0.1}, "momentum must be >= 0"),
    (cr.optim.Adam, {"betas": (1.0, 0.999)}, r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (cr.optim.Adam, {"betas": (0.9, -0.1)}, r"betas\[1\] must be in \[0, 1\), got -0.1"),
    (cr.optim.Adam, {"betas": (0.9,)}, "betas must be a pair"),
    (cr.optim.Adam, {"lr": float("nan")}, "lr must be >= 0, got nan"),
    (cr.optim.AdamW, {"weight_decay": -0.01}, "weight_decay must be >= 0"),
    (cr.optim.Newton, {"damping": -1.0}, "damping must be >= 0"),
    (cr.optim.Newton, {"max_params": 0}, "max_params must be a positive int"),
]


@pytest.mark.parametrize("cls,kwargs,message", BAD, ids=[f"{c.__name__}-{k}" for c, k, _ in BAD])
def test_a_bad_hyperparameter_is_a_value_error_naming_it(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([cr.zeros(2, requires_grad=True)], **kwargs)


def test_a_bad_hyperparameter_in_a_group_names_the_group():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"lr must be >= 0, got -1 \(param group 1\)"):
        cr.optim.Adam([{"params": [a]}, {"params": [b], "lr": -1}])


def test_bad_params_are_refused_clearly():
    a = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty list of parameters"):
        cr.optim.SGD([])
    with pytest.raises(TypeError, match=r"single Tensor: pass \[tensor\]"):
        cr.optim.SGD(a)
    with pytest.raises(TypeError, match="item 1 of the group is ndarray"):
        cr.optim.SGD([a, np.zeros(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        cr.optim.SGD([a * 2])
    with pytest.raises(TypeError, match="not a set"):
        cr.optim.SGD({a})
    with pytest.raises(ValueError, match="more than one parameter group"):
        cr.optim.SGD([{"params": [a]}, {"params": [a]}])


# -- groups, zero_grad, closures ---------------------------------------------------------------


def test_param_groups_have_the_defaults_filled_in_and_add_param_group_works_mid_run():
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0], requires_grad=True)
    opt = cr.optim.SGD((p for p in [a]), lr=0.1, momentum=0.9)  # any iterable, e.g. a generator
    assert opt.param_groups[0] == {
        "params": [a],
        "lr": 0.1,
        "momentum": 0.9,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "maximize": False,
    }
    (a * a).sum().backward()
    opt.step()
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    opt.zero_grad()
    ((a * a).sum() + (b * b).sum()).backward()
    opt.step()
    np.testing.assert_allclose(b.data, [3.0 - 0.5 * 6.0])


def test_zero_grad_sets_none_or_zeros_in_place():
    w = cr.tensor(rng.standard_normal(3), requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.array_equal(grad.data, np.zeros(3))
    (w * w).sum().backward()  # accumulates onto the zeros: exactly 2w
    np.testing.assert_allclose(w.grad.data, 2 * w.data)
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no gradient: nothing moves, no state is made
    assert not opt.state.get(w)


def test_zero_grad_does_not_write_into_a_gradient_that_is_part_of_a_graph():
    w = cr.tensor(rng.standard_normal(3), requires_grad=True)
    (w**3).sum().backward(create_graph=True)
    graph_grad = w.grad
    before = graph_grad.data.copy()
    cr.optim.SGD([w]).zero_grad(set_to_none=False)
    assert np.array_equal(graph_grad.data, before) and np.array_equal(w.grad.data, np.zeros(3))


def test_step_with_a_closure_evaluates_it_with_grad_on_and_returns_its_loss():
    w = cr.tensor(rng.standard_normal(3), requires_grad=True)
    start = w.data.copy()
    opt = cr.optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():  # the closure still records: step turns grad on for it
        loss = opt.step(closure)
    assert len(calls) == 1
    assert float(loss) == pytest.approx(float((start**2).sum()))
    np.testing.assert_allclose(w.data, start - 0.1 * 2 * start, rtol=1e-13)


def test_step_refuses_a_gradient_of_the_wrong_shape():
    w = cr.zeros(3, requires_grad=True)
    w.grad = cr.zeros(2)
    with pytest.raises(ValueError, match=r"shape \(3,\) has a gradient of shape \(2,\)"):
        cr.optim.SGD([w]).step()


def test_repr_lists_each_group():
    opt = cr.optim.Adam([cr.zeros(1, requires_grad=True)], lr=0.5)
    text = repr(opt)
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text
