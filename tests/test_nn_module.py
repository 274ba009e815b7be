"""Module, Parameter and the containers: registration, traversal order and names, modes,
state_dict keys and shapes against PyTorch's, load_state_dict (round trip, errors, the
returned keys), reprs equal to PyTorch's strings, hooks, copying and pickling."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from tests.conftest import needs_torch
from tests.nn_helpers import copy_torch_weights
from tests.tensor_cases import draw

try:
    import torch
except ImportError:
    torch = None


class Block(nn.Module):
    """A custom module with a submodule, a bare parameter, a buffer and a non-persistent one."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.norm = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(cr.ones(3))
        self.register_buffer("offset", cr.zeros(3))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

    def forward(self, x):
        return self.head(self.norm(self.fc1(x)) * self.scale + self.offset)


def _torch_block():
    """Block, written in PyTorch."""

    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 3)
            self.norm = torch.nn.BatchNorm1d(3)
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("offset", torch.zeros(3))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)
            self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 2))

        def forward(self, x):
            return self.head(self.norm(self.fc1(x)) * self.scale + self.offset)

    return TorchBlock()


def _models():
    """Pairs of (chainrule model, torch model) of the same architecture."""
    pairs = [
        (
            lambda lib: lib.Sequential(
                lib.Conv2d(3, 8, 3, padding=1),
                lib.BatchNorm2d(8),
                lib.ReLU(),
                lib.MaxPool2d(2),
                lib.Conv2d(8, 4, (3, 5), stride=2, bias=False, dilation=2, groups=2),
                lib.AvgPool2d(2),
                lib.Flatten(),
                lib.Dropout(0.3),
                lib.Linear(16, 10),
                lib.LogSoftmax(dim=1),
            )
        ),
        (
            lambda lib: lib.Sequential(
                OrderedDict(
                    [
                        ("embed", lib.Embedding(10, 4, padding_idx=0)),
                        ("norm", lib.LayerNorm(4)),
                        ("blocks", lib.ModuleList([lib.Linear(4, 4) for _ in range(3)])),
                        ("heads", lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.GELU()})),
                    ]
                )
            )
        ),
    ]
    return pairs


@needs_torch
@pytest.mark.parametrize("index", [0, 1])
def test_state_dict_keys_shapes_and_repr_equal_torchs(index):
    build = _models()[index]
    ours, theirs = build(nn), build(torch.nn)
    state, expected = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(expected)
    for key in expected:
        assert state[key].shape == tuple(expected[key].shape), key
        assert state[key].dtype == expected[key].numpy().dtype or key.endswith("tracked"), key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert repr(ours) == repr(theirs)


@needs_torch
def test_custom_module_matches_torchs_registration():
    ours, theirs = Block(), _torch_block()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert repr(ours) == repr(theirs).replace("TorchBlock", "Block")


@needs_torch
def test_torch_state_dict_loads_and_gives_torchs_outputs():
    theirs = _torch_block().double()
    with torch.no_grad():
        theirs.scale.copy_(torch.tensor([0.5, -1.0, 2.0]))
        theirs.offset.copy_(torch.tensor([0.1, 0.2, -0.3]))
    theirs.train()
    theirs(torch.tensor(draw((5, 4))))  # moves the running statistics
    cr.set_default_dtype(np.float64)
    try:
        ours = Block()
    finally:
        cr.set_default_dtype(np.float32)
    copy_torch_weights(ours, theirs)
    ours.eval()
    theirs.eval()
    x = draw((3, 4), salt=1)
    np.testing.assert_allclose(
        ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12
    )


def test_load_state_dict_round_trip_copies_in_place():
    source, target = Block(), Block()
    weight = target.fc1.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert target.fc1.weight is weight  # same Parameter: an optimizer holding it still works
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), value.numpy())


def test_load_state_dict_strict_errors_list_every_problem():
    model = Block()
    state = model.state_dict()
    del state["fc1.bias"]
    state["extra.weight"] = cr.zeros(2)
    state["fc1.weight"] = cr.zeros(3, 5)
    with pytest.raises(RuntimeError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert message.startswith("Error(s) in loading state_dict for Block:")
    assert 'Missing key(s) in state_dict: "fc1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message
    assert "size mismatch for fc1.weight: copying a param with shape (3, 5)" in message
    assert "the shape in current model is (3, 4)" in message


def test_load_state_dict_not_strict_returns_the_keys_but_still_checks_shapes():
    model = Block()
    state = model.state_dict()
    del state["head.1.weight"]
    state["unknown"] = cr.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.1.weight"]
    assert result.unexpected_keys == ["unknown"]
    assert "missing_keys=['head.1.weight']" in repr(result)
    state["fc1.bias"] = cr.zeros(4)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.bias"):
        model.load_state_dict(state, strict=False)


def test_batch_norm_checkpoint_without_num_batches_tracked_loads():
    bn = nn.BatchNorm1d(3)
    state = bn.state_dict()
    del state["num_batches_tracked"]
    assert bn.load_state_dict(state).missing_keys == []


def test_state_dict_shares_memory_and_is_detached():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    assert np.shares_memory(state["weight"].numpy(), layer.weight.numpy())
    assert state["weight"] is not layer.weight
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


def test_non_persistent_buffers_are_not_saved_but_are_listed():
    block = Block()
    assert "scratch" not in block.state_dict()
    assert "scratch" in dict(block.named_buffers())


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3


def test_registration_rules():
    module = nn.Module()
    module.w = nn.Parameter(cr.zeros(2))
    module.child = nn.Linear(1, 1)
    module.plain = cr.zeros(2)  # a Tensor that is not a Parameter stays a plain attribute
    assert [n for n, _ in module.named_parameters()] == ["w", "child.weight", "child.bias"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        module.w = cr.zeros(2)
    module.w = None
    assert module.w is None and "w" not in dict(module.named_parameters())
    module.register_buffer("stat", cr.zeros(1))
    with pytest.raises(TypeError, match="buffer 'stat'"):
        module.stat = 3.0
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("plain", cr.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        module.register_parameter("a.b", None)
    del module.child
    assert not hasattr(module, "child")
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = module.missing


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Broken()


def test_forward_must_be_written():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(cr.zeros(1))


def test_train_eval_apply_zero_grad_requires_grad():
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(), nn.Sequential(nn.BatchNorm1d(2)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Dropout", "BatchNorm1d", "Sequential", "Sequential"]
    model(cr.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_to_double_float_cast_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model.double()
    assert all(t.dtype == np.float64 for t in model.parameters())
    assert model[1].running_var.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model[0].weight is weight
    model.to(dtype=np.float32)
    assert all(t.dtype == np.float32 for t in model.state_dict().values() if t.ndim)
    assert model.to("cpu") is model
    with pytest.raises(ValueError, match="CPU only"):
        model.to("cuda")


def test_layers_take_dtype_and_the_default_dtype():
    assert nn.Linear(2, 3, dtype=np.float64).weight.dtype == np.float64
    assert nn.Conv2d(1, 2, 3).weight.dtype == np.float32
    cr.set_default_dtype(np.float64)
    try:
        assert nn.BatchNorm2d(2).running_mean.dtype == np.float64
        assert nn.Embedding(3, 2).weight.dtype == np.float64
    finally:
        cr.set_default_dtype(np.float32)


def test_forward_hooks_and_their_removal():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 0)
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    out = layer(cr.ones(1, 2))
    assert calls == [(1, 2)] and not out.numpy().any()
    handle.remove()
    pre.remove()
    np.testing.assert_allclose(
        layer(cr.ones(1, 2)).numpy(), [layer.weight.numpy().sum(axis=1) + layer.bias.numpy()]
    )


def test_deepcopy_and_pickle_keep_values_and_parameter_type():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model(cr.randn(4, 3)).sum().backward()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad
        assert clone[0].weight is not model[0].weight
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(clone.state_dict()[key].numpy(), value.numpy())
        clone[0].weight.data[...] = 0
        assert model[0].weight.numpy().any()


def test_parameter_shares_a_tensors_memory_and_copies_other_data():
    t = cr.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert np.shares_memory(p.numpy(), t.numpy()) and p.requires_grad and p.is_leaf
    frozen = nn.Parameter([1.0, 2.0], requires_grad=False)
    assert not frozen.requires_grad and frozen.dtype == np.float32
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(cr.tensor([1, 2]))


# -- containers --------------------------------------------------------------------------------


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert model[0] is a and model[-1] is c and len(model) == 3 and list(model) == [a, b, c]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["1", "2"]
    x = cr.randn(4, 2)
    np.testing.assert_allclose(model(x).numpy(), c(b(a(x))).numpy())
    model.append(nn.Sigmoid())
    assert list(model._modules) == ["0", "1", "2", "3"]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is c
    model.insert(1, b)
    assert model[1] is b and model[2] is c
    model[0] = nn.Tanh()
    assert isinstance(model[0], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        model[7]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.ReLU())
    layers += [nn.Linear(2, 1)]
    assert len(layers) == 4 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "3.weight",
        "3.bias",
    ]
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    with pytest.raises(NotImplementedError):
        layers(cr.zeros(1))
    heads = nn.ModuleDict({"cls": nn.Linear(2, 3)})
    heads["box"] = nn.Linear(2, 4)
    heads.update([("aux", nn.Tanh())])
    assert list(heads) == ["cls", "box", "aux"] and "box" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    assert isinstance(heads.pop("aux"), nn.Tanh) and list(heads.keys()) == ["cls", "box"]


@needs_torch
def test_module_list_repr_groups_equal_children_like_torch():
    def build(lib):
        return lib.ModuleList(
            [lib.Linear(2, 2), lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU(), lib.Linear(2, 3)]
        )

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.ModuleDict({"a": nn.Tanh()})) == repr(
        torch.nn.ModuleDict({"a": torch.nn.Tanh()})
    )


def test_get_submodule():
    model = nn.Sequential(OrderedDict([("enc", nn.Sequential(nn.Linear(2, 2)))]))
    assert model.get_submodule("enc.0") is model.enc[0]
    assert model.get_submodule("") is model
    with pytest.raises(AttributeError, match="no submodule 'dec'"):
        model.get_submodule("dec")
