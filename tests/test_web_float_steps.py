"""The hiker's update rules on Python floats against the optimisers' own rules (bit for bit),
and the page's default request against cr.descend (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.tensor import Tensor
from chainrule.web.float_steps import float_step
from chainrule.web.handlers import HIKER_OPTIMIZERS, _options
from chainrule.web.runs import descend_together

SETTINGS = [
    (optim.SGD, {"lr": 0.01}),
    (optim.SGD, {"lr": 0.3, "momentum": 0.9}),
    (optim.SGD, {"lr": 0.003, "momentum": 0.5, "nesterov": True}),
    (optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.2, "alpha": 0.5, "eps": 1e-3}),
    (optim.Adam, {"lr": 0.05}),
    (optim.Adam, {"lr": 1.5, "betas": (0.5, 0.9), "eps": 1e-12}),
    (optim.AdamW, {"lr": 0.1, "weight_decay": 0.0}),
]


def _gradients(rng) -> list:
    """Gradients of every size, with the awkward ones: zeros of both signs, huge, inf, nan."""
    out = [list(g) for g in rng.normal(size=(300, 2)) * 10.0 ** rng.integers(-2, 3, (300, 1))]
    out[50] = [0.0, -0.0]
    out[200] = [1e-300, -1e-12]
    return out + [[1e300, 1.0], [np.inf, 2.0], [np.nan, -1.0], [1.0, 1.0]]


@pytest.mark.parametrize("kind, options", SETTINGS, ids=lambda s: getattr(s, "__name__", str(s)))
def test_a_float_rule_moves_a_point_as_the_optimizers_own_rule(kind, options):
    start = np.array([0.7, -1.3])
    own = kind([Tensor._wrap(start.copy())], **options)
    group = own.param_groups[0]
    state = own._init_state(start, group)
    step = float_step(kind([Tensor._wrap(start.copy())], **options))
    assert step is not None
    array, point = start.copy(), start.tolist()
    with np.errstate(all="ignore"):
        for g in _gradients(np.random.default_rng(3)):
            own._update(array, np.array(g), state, group)
            step(point, g)
            # equal bit for bit: the same numbers, nan where the rule gives nan
            np.testing.assert_array_equal(np.array(point), array)
            for key, buffer in state.items():  # and the same state
                if key != "step" and hasattr(step, key):
                    np.testing.assert_array_equal(getattr(step, key), buffer.data, err_msg=key)


@pytest.mark.parametrize(
    "kind, options",
    [
        (optim.SGD, {"lr": 0.1, "weight_decay": 0.1}),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
        (optim.SGD, {"lr": 0.1, "maximize": True}),
        (optim.RMSprop, {"lr": 0.1, "momentum": 0.5}),
        (optim.RMSprop, {"lr": 0.1, "centered": True}),
        (optim.RMSprop, {"lr": 0.1, "eps": 0.0}),
        (optim.Adam, {"lr": 0.1, "amsgrad": True}),
        (optim.Adam, {"lr": 0.1, "eps": 0.0}),
        (optim.AdamW, {"lr": 0.1}),
        (optim.Adagrad, {"lr": 0.1}),
    ],
    ids=str,
)
def test_settings_without_a_float_rule_get_none(kind, options):
    assert float_step(kind([Tensor._wrap(np.zeros(2))], **options)) is None


def test_runs_without_a_float_rule_use_the_optimizers_own_and_match_cr_descend():
    s = cr.surfaces.get("himmelblau")
    choices = [
        ("sgd", {"lr": 0.01, "weight_decay": 0.05}),
        ("adamw", {"lr": 0.05}),
        ("adagrad", {"lr": 0.5}),
        ("rmsprop", {"lr": 0.01, "centered": True}),
    ]
    together = descend_together(s.formula, s.start, choices, steps=120, tol=1e-6)
    for (name, options), run in zip(choices, together):
        ref = cr.descend(s, list(s.start), name, steps=120, tol=1e-6, **options)
        assert (run.status, run.steps) == (ref.status, ref.steps)
        np.testing.assert_array_equal(run.points, ref.points)


@pytest.mark.parametrize("surface, steps", [("rosenbrock", 500), ("himmelblau", 360)])
def test_the_pages_default_request_is_cr_descend_bit_for_bit(surface, steps):
    s = cr.surfaces.get(surface)
    choices = [(n, _options(info["hyperparameters"], {})) for n, info in HIKER_OPTIMIZERS.items()]
    together = descend_together(s.formula, s.start, choices, steps=steps, tol=1e-6)
    for (name, options), run in zip(choices, together):
        ref = cr.descend(s, list(s.start), name, steps=steps, tol=1e-6, **options)
        assert (run.status, run.steps, run.diverged_at) == (ref.status, ref.steps, ref.diverged_at)
        np.testing.assert_array_equal(run.points, ref.points)
        np.testing.assert_array_equal(run.values, ref.values)
        np.testing.assert_array_equal(run.gradients, ref.gradients)
