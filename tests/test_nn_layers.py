"""Layers of cr.nn: values and gradients (input and parameters) against PyTorch with the same
weights, in float64, and against finite differences (gradcheck, and gradgradcheck for the
second derivatives); the JVP rules of the fused primitives against finite differences.

Inputs are random and asymmetric (odd sizes, different heights and widths, strides that do
not divide the input), so a transposed kernel or a swapped axis shows.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import conv as conv_ops
from chainrule.ops import nn as nn_ops
from tests.conftest import needs_torch
from tests.nn_helpers import assert_module_matches_torch, randomise_torch
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


# -- Linear ------------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)], ids=["batch", "vector", "sequence"])
def test_linear_matches_torch(bias, shape):
    tm = torch.nn.Linear(4, 3, bias=bias)
    randomise_torch(tm)
    assert_module_matches_torch(cr.nn.Linear(4, 3, bias=bias), tm, draw(shape))


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)], ids=["batch", "vector", "sequence"])
def test_linear_gradcheck(shape):
    def f(x, w, b):
        return F.linear(x, w, b)

    x, w, b = draw(shape), draw((3, 4), salt=1), draw((3,), salt=2)
    assert cr.gradcheck(f, x, w, b)
    assert cr.gradgradcheck(f, x, w, b)


def test_linear_weight_layout_and_no_bias():
    layer = cr.nn.Linear(4, 3, bias=False)
    assert layer.weight.shape == (3, 4)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = draw((2, 4))
    np.testing.assert_allclose(layer(cr.tensor(x)).numpy(), x @ layer.weight.numpy().T)


def test_linear_float32_stays_float32():
    cr.set_default_dtype(np.float32)
    layer = cr.nn.Linear(4, 3)
    x = cr.tensor(draw((5, 4)).astype(np.float32), requires_grad=True)
    out = layer(x)
    out.backward(gradient=np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"in_features \(4\).*\(2, 5\)"):
        cr.nn.Linear(4, 3)(cr.zeros(2, 5))


# -- Conv2d ------------------------------------------------------------------------------------

CONV_CASES = [
    {},
    {"stride": 2, "padding": 1},
    {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)},
    {"padding": "same", "dilation": 2},
    {"padding": "valid", "groups": 2},
    {"stride": 3, "groups": 2, "bias": False},
]


def _conv_id(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items()) or "default"


@needs_torch
@pytest.mark.parametrize("case", CONV_CASES, ids=_conv_id)
def test_conv2d_matches_torch(case):
    tm = torch.nn.Conv2d(4, 6, (3, 2), **case)
    randomise_torch(tm)
    ours = cr.nn.Conv2d(4, 6, (3, 2), **case)
    assert_module_matches_torch(ours, tm, draw((2, 4, 7, 6)))


@needs_torch
def test_conv2d_unbatched_input_matches_torch():
    tm = torch.nn.Conv2d(2, 3, 3, padding=1)
    randomise_torch(tm)
    assert_module_matches_torch(cr.nn.Conv2d(2, 3, 3, padding=1), tm, draw((2, 5, 4)))


@pytest.mark.parametrize("case", CONV_CASES, ids=_conv_id)
def test_conv2d_gradcheck(case):
    options = {k: v for k, v in case.items() if k != "bias"}
    groups = case.get("groups", 1)

    def f(x, w, b):
        return F.conv2d(x, w, b, **options)

    x = draw((1, 4, 5, 4))
    w = draw((4, 4 // groups, 3, 2), salt=1)
    b = draw((4,), salt=2)
    assert cr.gradcheck(f, x, w, b)
    assert cr.gradgradcheck(f, x, w, b)


def test_conv2d_adjoint_primitives_gradcheck():
    # the input- and weight-gradient primitives are differentiated by each other: check them
    # as functions in their own right, with second derivatives
    geometry = {"stride": (2, 1), "padding": ((1, 0), (2, 1)), "dilation": (1, 2), "groups": 1}
    x_shape, w_shape = (1, 2, 5, 6), (3, 2, 2, 3)
    out_shape = conv_ops.conv2d(np.zeros(x_shape), np.zeros(w_shape), **geometry).shape
    g, w, x = draw(out_shape), draw(w_shape, salt=1), draw(x_shape, salt=2)

    def input_grad(g, w):
        return conv_ops.conv2d_input_grad(g, w, x_shape=x_shape, **geometry)

    def weight_grad(x, g):
        return conv_ops.conv2d_weight_grad(x, g, w_shape=w_shape, **geometry)

    assert cr.gradcheck(input_grad, g, w) and cr.gradgradcheck(input_grad, g, w)
    assert cr.gradcheck(weight_grad, x, g) and cr.gradgradcheck(weight_grad, x, g)


def _directional(f, arrays, tangents, eps=1e-6):
    """(f(x + eps t) - f(x - eps t)) / 2 eps: the JVP by central differences."""
    plus = f(*[a + eps * t for a, t in zip(arrays, tangents)])
    minus = f(*[a - eps * t for a, t in zip(arrays, tangents)])
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize(
    "name",
    ["linear", "conv2d", "conv2d_input_grad", "conv2d_weight_grad"],
)
def test_jvp_rules_match_finite_differences(name):
    geometry = {"stride": (2, 1), "padding": ((1, 1), (0, 2)), "dilation": (1, 1), "groups": 1}
    x_shape, w_shape = (2, 2, 5, 4), (3, 2, 3, 2)
    out_shape = conv_ops.conv2d(np.zeros(x_shape), np.zeros(w_shape), **geometry).shape
    if name == "linear":
        prim, shapes, params = nn_ops.linear, [(5, 4), (3, 4), (3,)], {}
    elif name == "conv2d":
        prim, shapes, params = conv_ops.conv2d, [x_shape, w_shape, (3,)], geometry
    elif name == "conv2d_input_grad":
        prim, shapes = conv_ops.conv2d_input_grad, [out_shape, w_shape]
        params = {"x_shape": x_shape, **geometry}
    else:
        prim, shapes = conv_ops.conv2d_weight_grad, [x_shape, out_shape]
        params = {"w_shape": w_shape, **geometry}
    arrays = [draw(s, salt=k) for k, s in enumerate(shapes)]
    tangents = [draw(s, salt=10 + k) for k, s in enumerate(shapes)]
    ans = prim(*arrays, **params)
    expected = _directional(lambda *a: prim(*a, **params), arrays, tangents)
    np.testing.assert_allclose(prim.jvp(tangents, ans, *arrays, **params), expected, atol=1e-7)
    # a None tangent is a zero one
    some = [tangents[0]] + [None] * (len(shapes) - 1)
    only_first = _directional(lambda a: prim(a, *arrays[1:], **params), [arrays[0]], [tangents[0]])
    np.testing.assert_allclose(prim.jvp(some, ans, *arrays, **params), only_first, atol=1e-7)


@pytest.mark.parametrize(
    "name", ["max_pool2d", "max_pool2d_scatter", "max_pool2d_gather", "avg_pool2d", "spread"]
)
def test_pool_jvp_rules_match_finite_differences(name):
    from chainrule.ops import pool as pool_ops

    geometry = {"kernel": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True}
    max_options = {**geometry, "dilation": (1, 1)}
    avg_options = {**geometry, "count_include_pad": False, "divisor_override": None}
    x = draw((2, 3, 6, 5))
    out_shape = pool_ops.max_pool2d(x, **max_options).shape
    if name == "max_pool2d":
        prim, arrays, params = pool_ops.max_pool2d, [x], max_options
    elif name == "max_pool2d_scatter":
        prim, arrays, params = (
            pool_ops.max_pool2d_scatter,
            [draw(out_shape, salt=1), x],
            max_options,
        )
    elif name == "max_pool2d_gather":
        prim, arrays, params = pool_ops.max_pool2d_gather, [draw(x.shape, salt=1), x], max_options
    elif name == "avg_pool2d":
        prim, arrays, params = pool_ops.avg_pool2d, [x], avg_options
    else:
        prim, params = pool_ops.avg_pool2d_spread, {**avg_options, "x_shape": x.shape}
        arrays = [draw(pool_ops.avg_pool2d(x, **avg_options).shape, salt=1)]
    tangent = draw(arrays[0].shape, salt=20)
    ans = prim(*arrays, **params)
    expected = _directional(
        lambda first: prim(first, *arrays[1:], **params), [arrays[0]], [tangent]
    )
    np.testing.assert_allclose(prim.jvp([tangent], ans, *arrays, **params), expected, atol=1e-7)


def test_embedding_jvp_rule_matches_finite_differences():
    weight, tangent = draw((5, 3)), draw((5, 3), salt=1)
    indices = np.array([[1, 4, 1], [0, 3, 4]])
    ans = nn_ops.embedding(weight, indices)
    expected = _directional(lambda w: nn_ops.embedding(w, indices), [weight], [tangent])
    np.testing.assert_allclose(nn_ops.embedding.jvp([tangent], ans, weight, indices), expected)


def test_conv2d_default_init_and_repr():
    conv = cr.nn.Conv2d(3, 8, (3, 5), stride=2, bias=False, dilation=2, groups=1)
    assert conv.weight.shape == (8, 3, 3, 5)
    assert (
        repr(conv) == "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), bias=False)"
    )
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.numpy()).max() <= bound


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: F.conv2d(cr.zeros(1, 3, 5, 5), cr.zeros(2, 2, 3, 3)), "3 channels"),
        (lambda: F.conv2d(cr.zeros(5, 5), cr.zeros(2, 1, 3, 3)), "3-D or 4-D"),
        (lambda: F.conv2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 3, 3)), "larger than"),
        (lambda: cr.nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
        (lambda: cr.nn.Conv2d(3, 4, 3, stride=2, padding="same"), "strided"),
        (lambda: cr.nn.Conv2d(3, 4, 3, padding_mode="reflect"), "padding_mode"),
    ],
)
def test_conv2d_errors(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make()


# -- pooling -----------------------------------------------------------------------------------

MAX_POOL_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (1, 2)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "stride": 1},  # overlapping windows: gradients add up
]
AVG_POOL_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 3, "divisor_override": 2},
]


@needs_torch
@pytest.mark.parametrize("case", MAX_POOL_CASES, ids=_conv_id)
def test_max_pool2d_matches_torch(case):
    x = draw((2, 3, 7, 6))
    assert_module_matches_torch(cr.nn.MaxPool2d(**case), torch.nn.MaxPool2d(**case), x)
    _, indices = F.max_pool2d(cr.tensor(x), **case, return_indices=True)
    _, expected = torch.nn.functional.max_pool2d(torch.tensor(x), **case, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), expected.numpy())


@needs_torch
@pytest.mark.parametrize("case", AVG_POOL_CASES, ids=_conv_id)
def test_avg_pool2d_matches_torch(case):
    x = draw((2, 3, 7, 6))
    assert_module_matches_torch(cr.nn.AvgPool2d(**case), torch.nn.AvgPool2d(**case), x)


@pytest.mark.parametrize("case", MAX_POOL_CASES, ids=_conv_id)
def test_max_pool2d_gradcheck(case):
    x = draw((1, 2, 5, 6))
    assert cr.gradcheck(lambda x: F.max_pool2d(x, **case), x)
    assert cr.gradgradcheck(lambda x: F.max_pool2d(x, **case) ** 2, x)


@pytest.mark.parametrize("case", AVG_POOL_CASES, ids=_conv_id)
def test_avg_pool2d_gradcheck(case):
    x = draw((1, 2, 5, 6))
    assert cr.gradcheck(lambda x: F.avg_pool2d(x, **case), x)
    assert cr.gradgradcheck(lambda x: F.avg_pool2d(x, **case) ** 2, x)


def test_max_pool2d_ties_go_to_the_first_maximum():
    x = cr.tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_pool_defaults_and_reprs():
    pool = cr.nn.MaxPool2d(3, 2, 1)
    assert repr(pool) == (
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    )
    assert repr(cr.nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert cr.nn.AvgPool2d(2)(cr.zeros(1, 1, 6, 4)).shape == (1, 1, 3, 2)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(cr.zeros(1, 1, 6, 6), 2, padding=2)


# -- Flatten, Embedding ------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize(("start", "end"), [(1, -1), (0, 2), (2, 3)])
def test_flatten_matches_torch(start, end):
    x = draw((2, 3, 4, 2))
    assert_module_matches_torch(cr.nn.Flatten(start, end), torch.nn.Flatten(start, end), x)


@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    tm = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    indices = np.array([[1, 2, 3, 2], [9, 1, 1, 0]])  # repeats: their gradients add up
    assert_module_matches_torch(cr.nn.Embedding(10, 4, padding_idx=padding_idx), tm, indices)


def test_embedding_gradcheck_and_padding_row():
    indices = np.array([[1, 4, 1], [0, 3, 4]])
    assert cr.gradcheck(lambda w: F.embedding(indices, w), draw((5, 3)))
    assert cr.gradgradcheck(lambda w: F.embedding(indices, w) ** 2, draw((5, 3)))
    table = cr.nn.Embedding(5, 3, padding_idx=4)
    assert table.weight.numpy()[4].tolist() == [0.0, 0.0, 0.0]
    table(cr.tensor(indices)).sum().backward()
    assert table.weight.grad.numpy()[4].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(table.weight.grad.numpy()[1], [2.0, 2.0, 2.0])


@needs_torch
def test_embedding_max_norm_renormalises_like_torch():
    weight = draw((6, 3)) * 3
    indices = np.array([0, 2, 2, 5])
    ours = cr.nn.Embedding.from_pretrained(cr.tensor(weight.copy()), max_norm=1.5)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight.copy()), max_norm=1.5)
    np.testing.assert_allclose(
        ours(cr.tensor(indices)).numpy(), theirs(torch.tensor(indices)).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.numpy(), rtol=1e-12)
    assert not ours.weight.requires_grad


def test_embedding_errors():
    with pytest.raises(IndexError, match="index 7 is out of range for 5"):
        cr.nn.Embedding(5, 2)(cr.tensor([1, 7]))
    with pytest.raises(TypeError, match="integers"):
        cr.nn.Embedding(5, 2)(cr.tensor([1.0]))


# -- activations -------------------------------------------------------------------------------

ACTIVATIONS = [
    ("ReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {"alpha": 0.7}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Tanh", {}),
    ("Sigmoid", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}),
    ("Softmax", {"dim": 1}),
    ("Softmax", {"dim": 0}),
    ("LogSoftmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}),
]


def _activation_id(case) -> str:
    name, options = case
    return name + "".join(f"-{v}" for v in options.values())


@needs_torch
@pytest.mark.parametrize("case", ACTIVATIONS, ids=_activation_id)
def test_activation_matches_torch(case):
    name, options = case
    ours, theirs = getattr(cr.nn, name)(**options), getattr(torch.nn, name)(**options)
    assert repr(ours) == repr(theirs)
    assert_module_matches_torch(ours, theirs, draw((3, 4, 2)) * 2)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=_activation_id)
def test_activation_gradcheck(case):
    name, options = case
    layer = getattr(cr.nn, name)(**options)
    assert cr.gradcheck(layer, draw((3, 4)) * 2)


def test_softmax_without_dim_warns_and_picks_torchs_legacy_axis():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = cr.nn.Softmax()(cr.tensor(draw((2, 3))))
    np.testing.assert_allclose(out.numpy().sum(axis=1), [1.0, 1.0])


def test_inplace_is_accepted_and_shown_but_never_overwrites():
    layer = cr.nn.ReLU(inplace=True)
    assert repr(layer) == "ReLU(inplace=True)"
    x = cr.tensor([-1.0, 2.0])
    layer(x)
    assert x.tolist() == [-1.0, 2.0]


def test_identity_and_unflatten():
    x = cr.tensor(rng(3).standard_normal((2, 6)))
    assert cr.nn.Identity(5, any_keyword=1)(x) is x
    assert cr.nn.Unflatten(1, (2, 3))(x).shape == (2, 2, 3)


@needs_torch
def test_max_pool2d_propagates_nan_like_torch():
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [5.0, 2.0, 0.0, 1.0]]]])
    ours = cr.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(ours, 2, return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(theirs, 2, return_indices=True)
    out.backward(gradient=np.array([[[[2.0, 3.0]]]]))
    expected.backward(torch.tensor([[[[2.0, 3.0]]]], dtype=torch.float64))
    assert np.isnan(out.numpy()).all()
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_a_float32_model_stays_float32_forward_and_backward():
    # no layer, loss or rule upcasts to float64 (which would cost speed, not correctness)
    cr.set_default_dtype(np.float32)
    model = cr.nn.Sequential(
        cr.nn.Conv2d(2, 4, 3, padding=1),
        cr.nn.BatchNorm2d(4),
        cr.nn.GELU(),
        cr.nn.MaxPool2d(2),
        cr.nn.AvgPool2d(2, stride=1),
        cr.nn.Flatten(),
        cr.nn.Dropout(0.2),
        cr.nn.Linear(4, 6),
        cr.nn.LayerNorm(6),
        cr.nn.ELU(),
        cr.nn.Linear(6, 3),
    )
    x = cr.tensor(draw((5, 2, 4, 4)).astype(np.float32), requires_grad=True)
    logits = model(x)
    assert logits.dtype == np.float32
    loss = F.cross_entropy(logits, np.array([0, 2, 1, 1, 0]), label_smoothing=0.1)
    loss = loss + F.binary_cross_entropy_with_logits(logits, np.full((5, 3), 0.25, np.float32))
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    for name, p in model.named_parameters():
        assert p.grad.dtype == np.float32, name
    assert model[1].running_var.dtype == np.float32
