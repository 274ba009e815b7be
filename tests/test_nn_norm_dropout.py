"""BatchNorm1d/2d, LayerNorm and Dropout: against PyTorch (outputs, gradients, running
statistics over several training steps, then evaluation), finite differences, and the
statistics and determinism of dropout masks."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from tests.conftest import needs_torch
from tests.nn_helpers import copy_torch_weights, randomise_torch
from tests.tensor_cases import draw, rng

try:
    import torch
except ImportError:
    torch = None


@pytest.fixture(autouse=True)
def float64_layers():
    previous = cr.get_default_dtype()
    cr.set_default_dtype(np.float64)
    yield
    cr.set_default_dtype(previous)


# -- BatchNorm ---------------------------------------------------------------------------------

BATCH_NORMS = [
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (5, 3, 4), {"momentum": None}),
    ("BatchNorm2d", (4, 3, 5, 2), {}),
    ("BatchNorm2d", (3, 3, 2, 4), {"momentum": 0.3, "eps": 1e-3}),
    ("BatchNorm1d", (6, 3), {"affine": False}),
    ("BatchNorm2d", (4, 3, 2, 2), {"track_running_stats": False}),
]


def _bn_id(case) -> str:
    name, shape, options = case
    return f"{name}{shape}" + "".join(f"-{k}={v}" for k, v in options.items())


@needs_torch
@pytest.mark.parametrize("case", BATCH_NORMS, ids=_bn_id)
def test_batch_norm_matches_torch_over_training_steps_then_eval(case):
    name, shape, options = case
    ours = getattr(cr.nn, name)(3, **options)
    theirs = getattr(torch.nn, name)(3, **options).double()
    randomise_torch(theirs)
    copy_torch_weights(ours, theirs)
    generator = rng(11)
    for _ in range(4):
        x = generator.standard_normal(shape) * 2 + 0.5
        upstream = generator.uniform(-2, 2, shape)
        x_ours = cr.tensor(x, requires_grad=True)
        x_theirs = torch.tensor(x, requires_grad=True)
        out = ours(x_ours)
        expected = theirs(x_theirs)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.backward(gradient=upstream)
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), atol=1e-11)
        for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-11, err_msg=key)
        ours.zero_grad()
        theirs.zero_grad()
    state, expected_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(expected_state)
    for key in expected_state:
        np.testing.assert_allclose(state[key].numpy(), expected_state[key].numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    x = generator.standard_normal(shape)
    np.testing.assert_allclose(
        ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
    )


def test_batch_norm_train_and_eval_differ_and_eval_leaves_stats_alone():
    bn = cr.nn.BatchNorm1d(2)
    x = cr.tensor(draw((8, 2)) * 3 + 1)
    train_out = bn(x)
    mean = bn.running_mean.numpy().copy()
    # training output: zero mean, unit (biased) variance per channel
    np.testing.assert_allclose(train_out.numpy().mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_out.numpy().var(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(mean, 0.1 * x.numpy().mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        bn.running_var.numpy(), 0.9 + 0.1 * x.numpy().var(axis=0, ddof=1), rtol=1e-12
    )
    bn.eval()
    eval_out = bn(x)
    assert int(bn.num_batches_tracked) == 1
    np.testing.assert_array_equal(bn.running_mean.numpy(), mean)
    expected = (x.numpy() - mean) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(eval_out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    running_mean, running_var = draw((3,)), draw((3,), "positive", salt=1)

    def f(x, w, b):
        # fresh copies: training mode updates the running statistics in place
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), w, b, training=training)

    args = draw((4, 3, 2)), draw((3,), salt=2), draw((3,), salt=3)
    assert cr.gradcheck(f, *args)
    assert cr.gradgradcheck(f, *args)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        cr.nn.BatchNorm1d(3)(cr.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 3 channels"):
        cr.nn.BatchNorm2d(3)(cr.zeros(2, 4, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        cr.nn.BatchNorm1d(3)(cr.zeros(1, 3))


def test_batch_norm_reprs():
    assert repr(cr.nn.BatchNorm2d(8)) == (
        "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert repr(cr.nn.BatchNorm1d(3, momentum=None, affine=False)) == (
        "BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=True)"
    )


# -- LayerNorm ---------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize(
    ("shape", "normalized", "options"),
    [((2, 3, 4), 4, {}), ((2, 3, 4), (3, 4), {"eps": 1e-3}), ((5, 4), 4, {"bias": False})],
)
def test_layer_norm_matches_torch(shape, normalized, options):
    from tests.nn_helpers import assert_module_matches_torch

    theirs = torch.nn.LayerNorm(normalized, **options)
    randomise_torch(theirs)
    ours = cr.nn.LayerNorm(normalized, **options)
    assert repr(ours) == repr(theirs)
    assert_module_matches_torch(ours, theirs, draw(shape) * 2 + 1)


def test_layer_norm_gradcheck_and_error():
    def f(x, w, b):
        return F.layer_norm(x, (3, 4), w, b)

    args = draw((2, 3, 4)), draw((3, 4), salt=1), draw((3, 4), salt=2)
    assert cr.gradcheck(f, *args)
    assert cr.gradgradcheck(f, *args)
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\).*\(2, 4\)"):
        cr.nn.LayerNorm(5)(cr.zeros(2, 4))


# -- Dropout -----------------------------------------------------------------------------------


def test_dropout_is_the_identity_in_eval_and_at_p0():
    x = cr.tensor(draw((4, 5)), requires_grad=True)
    assert cr.nn.Dropout(0.5).eval()(x) is x
    assert F.dropout(x, p=0.0) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_the_expected_fraction_and_scales_the_rest(p):
    cr.manual_seed(5)
    x = cr.tensor(rng(5).uniform(1.0, 2.0, (200, 500)), requires_grad=True)
    out = cr.nn.Dropout(p)(x)
    kept = out.numpy() != 0
    # 100,000 Bernoulli draws: the kept fraction is within 5 standard errors of 1 - p
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-12)
    # the gradient passes exactly where the value did, with the same scale
    upstream = rng(6).uniform(-1, 1, x.shape)
    out.backward(gradient=upstream)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, upstream / (1 - p), 0.0))


def test_dropout_is_deterministic_under_manual_seed():
    x = cr.ones(50, 40)
    cr.manual_seed(123)
    first = cr.nn.Dropout(0.3)(x).numpy()
    second = cr.nn.Dropout(0.3)(x).numpy()
    cr.manual_seed(123)
    again = cr.nn.Dropout(0.3)(x).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


def test_dropout_p1_zeros_and_bad_p():
    assert not F.dropout(cr.ones(3, 3), p=1.0).numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        cr.nn.Dropout(1.5)
    assert repr(cr.nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"


def test_dropout_float32_mask_keeps_float32():
    out = F.dropout(cr.ones(4, 4, dtype=np.float32), 0.5)
    assert out.dtype == np.float32
