"""Shared helpers for the cr.nn tests: run a chainrule module and its PyTorch twin on the same
weights and inputs, with the same random upstream gradient, and compare everything."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from tests.tensor_cases import rng


def copy_torch_weights(module, torch_module) -> None:
    """Load the torch module's state dict (float64) into the chainrule module, strictly."""
    state = {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}
    module.load_state_dict(state)


def randomise_torch(torch_module, salt: int = 0) -> None:
    """Give every floating parameter and buffer of a torch module random, asymmetric values
    (so ones/zeros defaults, like a norm layer's, do not hide a wrong gradient)."""
    import torch

    generator = rng(1000 + salt)
    with torch.no_grad():
        for name, tensor in torch_module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            values = generator.uniform(0.5, 1.5, tuple(tensor.shape))
            if "var" not in name:
                values *= generator.choice([-1.0, 1.0], tuple(tensor.shape))
            tensor.copy_(torch.tensor(values))


def assert_module_matches_torch(
    module, torch_module, *inputs, rtol=1e-10, atol=1e-12, input_grads=True
):
    """Same output, input gradients and parameter gradients (by name) as the torch module,
    in float64, after copying its weights in. ``inputs`` are ndarrays; integer ones (indices)
    are passed as they are, float ones require grad."""
    import torch

    torch_module.double()
    copy_torch_weights(module, torch_module)
    ours = [cr.tensor(a, requires_grad=bool(input_grads and a.dtype.kind == "f")) for a in inputs]
    theirs = [
        torch.tensor(a, requires_grad=bool(input_grads and a.dtype.kind == "f")) for a in inputs
    ]
    out = module(*ours)
    expected = torch_module(*theirs)
    upstream = rng(7).uniform(-2.0, 2.0, tuple(expected.shape))
    np.testing.assert_allclose(
        out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol, err_msg="output"
    )
    out.backward(gradient=upstream)
    expected.backward(torch.tensor(upstream))
    for k, (x, t) in enumerate(zip(ours, theirs)):
        if t.requires_grad:
            np.testing.assert_allclose(
                x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {k}"
            )
    torch_params = dict(torch_module.named_parameters())
    names = [name for name, _ in module.named_parameters()]
    assert names == list(torch_params), f"parameters {names} vs torch {list(torch_params)}"
    for name, param in module.named_parameters():
        expected_grad = torch_params[name].grad
        if expected_grad is None:
            assert param.grad is None, name
            continue
        np.testing.assert_allclose(
            param.grad.numpy(), expected_grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )
    return out
