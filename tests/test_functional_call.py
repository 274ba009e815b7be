"""cr.functional_call: a Module as a function of its weights, so transforms reach them."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from tests.conftest import needs_torch
from tests.tensor_cases import draw


def small_net():
    cr.manual_seed(3)
    return cr.nn.Sequential(
        cr.nn.Linear(3, 4, dtype=np.float64), cr.nn.Tanh(), cr.nn.Linear(4, 2, dtype=np.float64)
    )


X = draw((5, 3), salt=11)
TARGET = draw((5, 2), salt=12)


def loss_of(model):
    def loss(params):
        out = cr.functional_call(model, params, cr.tensor(X))
        return ((out - TARGET) ** 2).mean()

    return loss


def weights(model) -> dict:
    return {name: p.detach() for name, p in model.named_parameters()}


def flat(params: dict) -> np.ndarray:
    return np.concatenate(
        [np.asarray(v.data if isinstance(v, cr.Tensor) else v).ravel() for v in params.values()]
    )


def unflat(vector: np.ndarray, like: dict) -> dict:
    out, start = {}, 0
    for name, value in like.items():
        size = value.data.size
        out[name] = vector[start : start + size].reshape(value.shape)
        start += size
    return out


def test_call_uses_the_given_weights_and_puts_the_model_back():
    model = small_net()
    own = {name: p.data.copy() for name, p in model.named_parameters()}
    zeros = {name: np.zeros(p.shape) for name, p in model.named_parameters()}
    out = cr.functional_call(model, zeros, cr.tensor(X))
    assert np.array_equal(out.data, np.zeros((5, 2)))
    for name, p in model.named_parameters():
        assert isinstance(p, cr.nn.Parameter) and np.array_equal(p.data, own[name])
    # names left out keep the model's own values
    only_bias = cr.functional_call(model, {"2.bias": np.full(2, 7.0)}, cr.tensor(X))
    assert np.allclose(only_bias.data - model(cr.tensor(X)).data, 7.0 - own["2.bias"])


def test_model_is_put_back_when_forward_fails():
    model = small_net()
    before = [p for _, p in model.named_parameters()]
    with pytest.raises(ValueError):
        cr.functional_call(model, {"0.weight": np.zeros((4, 3))}, cr.tensor(np.ones((5, 7))))
    assert [p for _, p in model.named_parameters()] == before


def test_hessian_by_the_weights_matches_finite_differences():
    model = small_net()
    params = weights(model)
    loss = loss_of(model)
    hessian = cr.hessian(loss)(params)
    names = list(params)
    sizes = [params[n].data.size for n in names]
    dense = np.block(
        [
            [hessian[a][b].data.reshape(sa, sb) for b, sb in zip(names, sizes)]
            for a, sa in zip(names, sizes)
        ]
    )

    def gradient(vector):
        g = cr.grad(loss)({k: cr.tensor(v) for k, v in unflat(vector, params).items()})
        return flat(g)

    point, h = flat(params), 1e-6
    numeric = np.stack(
        [(gradient(point + h * e) - gradient(point - h * e)) / (2 * h) for e in np.eye(point.size)],
        axis=1,
    )
    assert dense.shape == (sum(sizes), sum(sizes))
    assert np.allclose(dense, numeric, atol=1e-6)
    assert np.allclose(dense, dense.T, atol=1e-10)


def test_jacobian_and_hvp_by_the_weights():
    model = small_net()
    params = weights(model)
    jac = cr.jacobian(lambda p: cr.functional_call(model, p, cr.tensor(X)))(params)
    assert jac["0.weight"].shape == (5, 2, 4, 3) and jac["2.bias"].shape == (5, 2, 2)
    # the output's derivative by the last bias is the identity for every sample
    assert np.allclose(jac["2.bias"].data, np.broadcast_to(np.eye(2), (5, 2, 2)))
    direction = {
        name: cr.tensor(draw(p.shape, salt=20 + i)) for i, (name, p) in enumerate(params.items())
    }
    product = cr.hvp(loss_of(model), params, direction)
    dense_hessian = cr.hessian(loss_of(model))(params)
    for a in params:
        expected = sum(
            np.tensordot(dense_hessian[a][b].data, direction[b].data, axes=direction[b].ndim)
            for b in params
        )
        assert np.allclose(product[a].data, expected, atol=1e-10)


@needs_torch
def test_hessian_by_the_weights_matches_torch_func():
    import torch
    from torch import func

    model = small_net()
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    torch_model.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in model.state_dict().items()}
    )
    x, target = torch.from_numpy(X), torch.from_numpy(TARGET)
    torch_params = {k: v.detach() for k, v in torch_model.named_parameters()}

    def torch_loss(p):
        return ((func.functional_call(torch_model, p, (x,)) - target) ** 2).mean()

    theirs = func.hessian(torch_loss)(torch_params)
    ours = cr.hessian(loss_of(model))(weights(model))
    for a in torch_params:
        for b in torch_params:
            assert np.allclose(ours[a][b].data, theirs[a][b].numpy(), atol=1e-10), (a, b)


def test_buffers_are_swapped_too():
    norm = cr.nn.BatchNorm1d(2, dtype=np.float64).eval()
    x = cr.tensor(draw((4, 2), salt=30))
    shifted = cr.functional_call(norm, {"running_mean": np.array([1.0, -1.0])}, x)
    assert np.allclose(shifted.data, (x.data - [1.0, -1.0]) / np.sqrt(1 + norm.eps))
    assert np.array_equal(norm.running_mean.data, [0.0, 0.0])


def test_unknown_names_and_wrong_shapes_are_named():
    model = small_net()
    with pytest.raises(
        KeyError, match=r"'0.wieght' is not a parameter or buffer.*0.weight, 0.bias"
    ):
        cr.functional_call(model, {"0.wieght": np.zeros((4, 3))}, cr.tensor(X))
    with pytest.raises(ValueError, match=r"'2.bias' has shape \(2,\) in the model, got \(3,\)"):
        cr.functional_call(model, {"2.bias": np.zeros(3)}, cr.tensor(X))
    with pytest.raises(TypeError, match="params must be a dict"):
        cr.functional_call(model, [np.zeros(3)], cr.tensor(X))
