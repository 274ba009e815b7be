"""cr.nn.init: gains and fans against PyTorch's, the statistics of every random initialiser
on large tensors, each layer's default initialisation bounds, and seeding; cr.nn.utils:
gradient clipping and parameter vectors against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init
from chainrule.nn.init import _calculate_fan_in_and_fan_out
from chainrule.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)
from tests.conftest import needs_torch
from tests.tensor_cases import rng

try:
    import torch
except ImportError:
    torch = None


GAINS = [
    ("linear", None),
    ("conv2d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("selu", None),
]


@needs_torch
@pytest.mark.parametrize(("nonlinearity", "param"), GAINS)
def test_calculate_gain_equals_torchs(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


@needs_torch
@pytest.mark.parametrize("shape", [(7, 3), (8, 3, 5, 2), (4, 6, 3)])
def test_fans_equal_torchs(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert _calculate_fan_in_and_fan_out(cr.empty(*shape)) == expected


def test_fans_need_two_dimensions_and_gains_a_known_name():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(5))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(cr.empty(3, 3), mode="fan_avg")


# (initialiser, kwargs, expected bound of a uniform or std of a normal, kind) for a
# (400, 250, 3) tensor: fan_in = 750, fan_out = 1200
FAN_IN, FAN_OUT = 250 * 3, 400 * 3
DISTRIBUTIONS = [
    (init.uniform_, {"a": -0.3, "b": 0.7}, (-0.3, 0.7), "uniform"),
    (init.normal_, {"mean": 0.5, "std": 2.0}, (0.5, 2.0), "normal"),
    (init.xavier_uniform_, {"gain": 2.0}, (-2 * math.sqrt(6 / (FAN_IN + FAN_OUT)),) * 2, "sym"),
    (init.xavier_normal_, {}, (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT))), "normal"),
    (init.kaiming_uniform_, {}, (-math.sqrt(2) * math.sqrt(3 / FAN_IN),) * 2, "sym"),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, (-1 / math.sqrt(FAN_IN),) * 2, "sym"),
    (
        init.kaiming_uniform_,
        {"mode": "fan_out", "nonlinearity": "relu"},
        (-math.sqrt(6 / FAN_OUT),) * 2,
        "sym",
    ),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, (0.0, math.sqrt(2 / FAN_IN)), "normal"),
    (init.kaiming_normal_, {"mode": "fan_out", "a": 0.3}, (0.0, None), "normal"),
]


@pytest.mark.parametrize(
    "case", DISTRIBUTIONS, ids=[f"{c[0].__name__}{c[1]}" for c in DISTRIBUTIONS]
)
def test_initialiser_statistics(case):
    fill, kwargs, parameters, kind = case
    cr.manual_seed(0)
    t = fill(cr.empty(400, 250, 3, dtype=np.float64), **kwargs)
    values = t.numpy().ravel()
    n = values.size
    if kind == "normal":
        mean, std = parameters
        if std is None:  # leaky_relu gain with slope a, fan_out
            std = math.sqrt(2 / (1 + 0.3**2)) / math.sqrt(FAN_OUT)
        assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
        assert values.std() == pytest.approx(std, rel=0.01)
        return
    low, high = parameters
    if kind == "sym":
        low, high = low, -low
    assert values.min() >= low and values.max() <= high
    # 300,000 uniform draws reach within 0.1% of each end, and spread with std (b - a)/sqrt(12)
    assert values.min() < low + 1e-3 * (high - low) and values.max() > high - 1e-3 * (high - low)
    assert values.std() == pytest.approx((high - low) / math.sqrt(12), rel=0.01)


def test_init_fills_in_place_keeps_dtype_and_repeats_under_manual_seed():
    t = cr.empty(50, 20)
    array = t.numpy()
    cr.manual_seed(42)
    assert init.kaiming_uniform_(t) is t and t.numpy() is array and t.dtype == np.float32
    first = t.numpy().copy()
    cr.manual_seed(42)
    init.kaiming_uniform_(t)
    np.testing.assert_array_equal(t.numpy(), first)
    init.kaiming_uniform_(t, generator=np.random.default_rng(1))
    assert not np.array_equal(t.numpy(), first)


def test_constant_zeros_ones_eye_orthogonal_trunc_normal():
    t = cr.empty(4, 6)
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()
    assert not init.zeros_(t).numpy().any()
    assert (init.ones_(t).numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(4, 6))
    q = init.orthogonal_(cr.empty(4, 6, dtype=np.float64), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-12)
    cr.manual_seed(3)
    values = init.trunc_normal_(cr.empty(20000, dtype=np.float64), std=1.0, a=-1.0, b=2.0)
    assert values.numpy().min() >= -1.0 and values.numpy().max() <= 2.0
    assert values.numpy().min() < -0.99 and values.numpy().max() > 1.99


@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [
        (lambda: cr.nn.Linear(300, 200), 300),
        (lambda: cr.nn.Conv2d(12, 40, (3, 5), groups=2), 6 * 15),
    ],
)
def test_default_layer_init_uses_torchs_bounds(layer, fan_in):
    cr.manual_seed(0)
    module = layer()
    bound = 1 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        values = getattr(module, name).numpy()
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.9 * bound, name
        assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.15), name


def test_default_init_of_norms_and_embedding():
    cr.manual_seed(0)
    bn, ln = cr.nn.BatchNorm2d(5), cr.nn.LayerNorm((2, 3))
    for module in (bn, ln):
        assert (module.weight.numpy() == 1).all() and not module.bias.numpy().any()
    assert not bn.running_mean.numpy().any() and (bn.running_var.numpy() == 1).all()
    table = cr.nn.Embedding(1000, 100).weight.numpy()
    assert abs(table.mean()) < 0.01 and table.std() == pytest.approx(1.0, rel=0.01)


def test_manual_seed_makes_models_repeat():
    cr.manual_seed(7)
    first = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Conv2d(1, 2, 3)).state_dict()
    cr.manual_seed(7)
    second = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Conv2d(1, 2, 3)).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())


# -- utils -------------------------------------------------------------------------------------


def _params_with_grads(library, scale: float):
    generator = rng(50)
    shapes = [(3, 4), (4,), (2, 2, 3)]
    params = []
    for shape in shapes:
        grad = generator.standard_normal(shape) * scale
        if library == "torch":
            p = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
            p.grad = torch.tensor(grad)
        else:
            p = cr.nn.Parameter(cr.zeros(*shape, dtype=np.float64))
            p.grad = cr.tensor(grad)
        params.append(p)
    return params


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 3.0])  # below and above max_norm
def test_clip_grad_norm_matches_torch(norm_type, scale):
    ours, theirs = _params_with_grads("chainrule", scale), _params_with_grads("torch", scale)
    total = clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    assert isinstance(total, cr.Tensor)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_clips_to_max_norm_and_flags_nonfinite():
    params = _params_with_grads("chainrule", 10.0)
    clip_grad_norm_(params, 2.0)
    joined = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert np.linalg.norm(joined) == pytest.approx(2.0, rel=1e-5)
    params[0].grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 2.0, error_if_nonfinite=True)


@needs_torch
def test_clip_grad_value_matches_torch():
    ours, theirs = _params_with_grads("chainrule", 2.0), _params_with_grads("torch", 2.0)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back():
    model = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.Linear(2, 1))
    vector = parameters_to_vector(model.parameters())
    assert vector.shape == (11,)
    np.testing.assert_array_equal(vector.numpy()[:6], model[0].weight.numpy().ravel())
    # differentiable: the gradient of a weighted sum lands on each parameter
    weights = rng(4).standard_normal(11)
    (vector * weights).sum().backward()
    np.testing.assert_array_equal(model[1].bias.grad.numpy(), weights[-1:].astype(np.float32))
    new = np.arange(11, dtype=np.float32)
    vector_to_parameters(cr.tensor(new), model.parameters())
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).numpy(), new)
    with pytest.raises(ValueError, match="11"):
        vector_to_parameters(cr.zeros(5), model.parameters())
