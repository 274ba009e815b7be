"""cr.save / cr.load: safetensors files, nested state, atomic writes, clear errors, PyTorch.

References: safetensors' own reader, a training run that is never interrupted, and
PyTorch's nn modules loading the files.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import io as crio
from tests.conftest import needs_torch

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("safetensors") is None, reason="safetensors is not installed"
)


def rng(salt: int = 0) -> np.random.Generator:
    return np.random.default_rng([20240611, salt])


def flat_state() -> dict:
    """A flat state dict with every kind of array leaf save() meets in practice."""
    g = rng(1)
    return {
        "fc.weight": cr.tensor(g.standard_normal((3, 4)).astype(np.float32)),
        "fc.bias": cr.tensor(g.standard_normal(3).astype(np.float32)),
        "double": cr.tensor(g.standard_normal((2, 2))),
        "counts": g.integers(-(2**40), 2**40, (5,)),  # int64 beyond int32
        "mask": g.random(6) > 0.5,
        "half": g.standard_normal(3).astype(np.float16),
        "bytes": g.integers(0, 255, 4).astype(np.uint8),
        "scalar": cr.tensor(np.float64(2.5)),
        "empty": np.zeros((0, 3), np.float32),
        "transposed": g.standard_normal((3, 5)).T,  # not contiguous
    }


def assert_same(got, expected, where="state"):
    """Same structure, same kinds of leaves, same dtypes and bits."""
    assert type(got) is type(expected), f"{where}: {type(got)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key in expected:
            assert type(key) is type(next(k for k in got if k == key)), f"{where}: key {key!r}"
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{where}[{i}]")
    elif isinstance(expected, (cr.Tensor, np.ndarray, np.generic)):
        g, e = np.asarray(got), np.asarray(expected)
        assert g.dtype == e.dtype and g.shape == e.shape, where
        np.testing.assert_array_equal(g, e, err_msg=where)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got), where
    else:
        assert got == expected, where


def test_flat_round_trip_keeps_names_dtypes_kinds_and_bits(tmp_path):
    state = flat_state()
    path = tmp_path / "model.safetensors"
    cr.save(state, path)
    assert_same(cr.load(path), state)
    assert cr.load(str(path))["fc.weight"].requires_grad is False


def test_flat_file_is_a_plain_safetensors_file(tmp_path):
    from safetensors.numpy import load_file

    state = flat_state()
    path = tmp_path / "model.safetensors"
    cr.save(state, path)
    read = load_file(str(path))
    assert set(read) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(read[name], np.asarray(value))
        assert read[name].dtype == np.asarray(value).dtype


def test_loaded_arrays_are_writable_and_independent_of_the_file(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": np.arange(4.0)}, path)
    first = cr.load(path)["w"]
    first += 1.0  # an optimizer updates in place
    np.testing.assert_array_equal(cr.load(path)["w"], np.arange(4.0))


def optimizer_like_state() -> dict:
    """The torch.optim layout: int keys, tensors, numbers, tuples, bools, None, strings."""
    g = rng(2)
    return {
        "state": {
            0: {
                "step": cr.tensor(np.float32(7.0)),
                "exp_avg": cr.tensor(g.standard_normal((3, 4)).astype(np.float32)),
                "exp_avg_sq": g.random((3, 4)).astype(np.float32),
            },
            1: {"step": np.int64(7), "momentum_buffer": None},
        },
        "param_groups": [
            {
                "params": [0, 1],
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "foreach": None,
                "name": "encoder",
                "initial_lr": float("nan"),
                "max_lr": float("inf"),
            }
        ],
    }


def test_nested_optimizer_state_round_trips_exactly(tmp_path):
    state = optimizer_like_state()
    path = tmp_path / "opt.safetensors"
    cr.save(state, path)
    assert_same(cr.load(path), state)


def test_checkpoint_of_model_optimizer_and_epoch_round_trips(tmp_path):
    checkpoint = {"model": flat_state(), "optimizer": optimizer_like_state(), "epoch": 3}
    path = tmp_path / "checkpoint.safetensors"
    cr.save(checkpoint, path)
    assert_same(cr.load(path), checkpoint)


def test_paths_that_collide_after_flattening_stay_apart(tmp_path):
    state = {"a.b": np.arange(2.0), "a": {"b": np.arange(3.0), "b#2": np.arange(4.0)}}
    path = tmp_path / "x.safetensors"
    cr.save(state, path)
    assert_same(cr.load(path), state)


def momentum_run(steps: int, state=None, start: int = 0):
    """SGD with momentum on a least-squares problem, as plain arrays and a state dict."""
    g = rng(3)
    A, b = g.standard_normal((8, 3)), g.standard_normal(8)
    if state is None:
        state = {"w": g.standard_normal(3), "momentum": np.zeros(3), "step": 0, "lr": 0.05}
    for _ in range(start, steps):
        grad = 2 * A.T @ (A @ state["w"] - b)
        state["momentum"] = 0.9 * state["momentum"] + grad
        state["w"] = state["w"] - state["lr"] * state["momentum"]
        state["step"] += 1
    return state


def test_training_resumes_exactly_from_a_checkpoint(tmp_path):
    straight = momentum_run(10)
    path = tmp_path / "resume.safetensors"
    cr.save(momentum_run(4), path)
    resumed = momentum_run(10, state=cr.load(path), start=4)
    assert resumed["step"] == 10
    np.testing.assert_array_equal(resumed["w"], straight["w"])  # bit for bit


# -- atomic writes -------------------------------------------------------------------------


def test_a_crash_mid_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    old = {"w": np.arange(6.0).reshape(2, 3)}
    cr.save(old, path)
    old_bytes = path.read_bytes()
    written = []

    def crash_midway(file, data):
        file.write(data[: len(data) // 2])
        written.append(file.name)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(crio, "_write_chunks", crash_midway)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cr.save({"w": np.ones((50, 50))}, path)
    assert written  # the writer did start
    assert path.read_bytes() == old_bytes
    assert_same(cr.load(path), old)
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_an_interrupt_mid_save_leaves_no_temporary(tmp_path, monkeypatch):
    def interrupted(file, data):
        file.write(data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(crio, "_write_chunks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cr.save({"w": np.ones(3)}, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.ones(3)}, path)
    old_bytes = path.read_bytes()

    def refuse(source, target):
        raise PermissionError("no")

    monkeypatch.setattr(crio.os, "replace", refuse)
    with pytest.raises(PermissionError):
        cr.save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == old_bytes and os.listdir(tmp_path) == ["model.safetensors"]


def test_writing_in_chunks_writes_everything(tmp_path, monkeypatch):
    state = {"w": rng(7).standard_normal((30, 40))}
    real = crio._write_chunks
    monkeypatch.setattr(crio, "_write_chunks", lambda file, data: real(file, data, chunk=1000))
    cr.save(state, tmp_path / "chunks.safetensors")
    assert_same(cr.load(tmp_path / "chunks.safetensors"), state)


def test_save_syncs_the_temporary_before_renaming_it(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source, target):
        events.append(("replace", os.fspath(source), os.fspath(target)))
        real_replace(source, target)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to name file descriptors")
    monkeypatch.setattr(crio.os, "fsync", fsync)
    monkeypatch.setattr(crio.os, "replace", replace)
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.ones(3)}, path)
    temporary = events[0][1]
    assert os.path.dirname(temporary) == str(tmp_path)  # same directory: rename is atomic
    assert events[:2] == [("fsync", temporary), ("replace", temporary, str(path))]


def test_saved_file_has_the_usual_permissions(tmp_path):
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.ones(3)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_a_value_that_cannot_be_saved_is_refused_before_writing(tmp_path):
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.ones(3)}, path)
    old_bytes = path.read_bytes()
    with pytest.raises(TypeError, match=r"'optimizer\.hook'.*function"):
        cr.save({"w": np.zeros(3), "optimizer": {"hook": print}}, path)
    assert path.read_bytes() == old_bytes and os.listdir(tmp_path) == ["model.safetensors"]


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ([np.ones(2)], TypeError, "takes a dict"),
        ({"x": {1, 2}}, TypeError, r"'x'.*set"),
        ({"x": np.array(["a"])}, TypeError, r"'x'.*dtype <U1"),
        ({"x": np.array([object()])}, TypeError, r"'x'.*dtype object"),
        ({(1, 2): np.ones(2)}, TypeError, r"key \(1, 2\)"),
    ],
)
def test_save_refuses_what_it_cannot_store(tmp_path, state, error, message):
    with pytest.raises(error, match=message):
        cr.save(state, tmp_path / "x.safetensors")


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cr.save({"w": np.ones(2)}, tmp_path / "nowhere" / "x.safetensors")
    with pytest.raises(IsADirectoryError):
        cr.save({"w": np.ones(2)}, tmp_path)


def test_load_of_a_missing_file_names_it(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        cr.load(path)
    with pytest.raises(IsADirectoryError, match="directory"):
        cr.load(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a safetensors file at all", b'\x08\x00\x00\x00\x00\x00\x00\x00{"a":1}'],
    ids=["empty", "text", "bad-header"],
)
def test_load_of_something_else_says_it_is_not_safetensors(tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"model\.safetensors is not a safetensors file"):
        cr.load(path)


def test_load_of_a_truncated_file_says_so(tmp_path):
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.ones((20, 20))}, path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="not a safetensors file"):
        cr.load(path)


def test_load_of_damaged_structure_metadata_says_so(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": np.ones(2)}, str(path), metadata={crio.STRUCTURE_KEY: "{not json"})
    with pytest.raises(ValueError, match="structure metadata is damaged"):
        cr.load(path)


def test_a_file_from_elsewhere_loads_as_tensors(tmp_path):
    from safetensors.numpy import save_file

    arrays = {"layer.weight": rng(4).standard_normal((2, 3)), "layer.bias": np.arange(2)}
    path = tmp_path / "other.safetensors"
    save_file(arrays, str(path))
    loaded = cr.load(path)
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert isinstance(loaded[name], cr.Tensor)
        np.testing.assert_array_equal(loaded[name].numpy(), array)


def test_without_safetensors_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'chainrule\[io\]'"):
        cr.save({"w": np.ones(2)}, tmp_path / "x.safetensors")


# -- comparing state dicts -----------------------------------------------------------------


def test_compare_lists_every_problem_at_once():
    expected = {
        "fc.weight": np.zeros((3, 4), np.float32),
        "fc.bias": np.zeros(3, np.float32),
        "out.weight": np.zeros((2, 3), np.float32),
        "out.bias": np.zeros(2, np.float32),
    }
    got = {
        "fc.weight": cr.tensor(np.zeros((4, 3), np.float32)),  # transposed
        "fc.bias": np.zeros(3, np.float64),  # wrong dtype
        "out.weight": np.zeros((2, 3), np.float32),
        "out.b": np.zeros(2, np.float32),  # misnamed
    }
    problems = cr.io.compare_state_dicts(expected, got)
    assert {(p.kind, p.key) for p in problems} == {
        ("shape", "fc.weight"),
        ("dtype", "fc.bias"),
        ("missing", "out.bias"),
        ("unexpected", "out.b"),
    }
    shape = next(p for p in problems if p.kind == "shape")
    assert (shape.expected, shape.got) == ((3, 4), (4, 3))
    assert "fc.weight" in str(shape) and "(3, 4)" in str(shape) and "(4, 3)" in str(shape)
    without_dtype = cr.io.compare_state_dicts(expected, got, check_dtype=False)
    assert {p.kind for p in without_dtype} == {"shape", "missing", "unexpected"}
    assert cr.io.compare_state_dicts(expected, dict(expected)) == []


def test_compare_walks_nested_state_and_ignores_values_of_numbers():
    expected = optimizer_like_state()
    got = optimizer_like_state()
    got["param_groups"][0]["lr"] = 0.5  # a new value is fine
    got["state"][0]["exp_avg"] = np.zeros((4, 3), np.float32)
    got["state"][1]["momentum_buffer"] = np.zeros(3)  # None was expected
    got["param_groups"].append({})
    del got["state"][0]["exp_avg_sq"]
    problems = cr.io.compare_state_dicts(expected, got)
    assert {(p.kind, p.key) for p in problems} == {
        ("shape", "state.0.exp_avg"),
        ("type", "state.1.momentum_buffer"),
        ("length", "param_groups"),
        ("missing", "state.0.exp_avg_sq"),
    }


def test_load_like_raises_listing_all_problems(tmp_path):
    path = tmp_path / "model.safetensors"
    cr.save({"w": np.zeros((2, 3), np.float32), "extra": np.zeros(1)}, path)
    expected = {"w": np.zeros((3, 2), np.float32), "b": np.zeros(3, np.float32)}
    with pytest.raises(cr.io.StateDictError) as raised:
        cr.load(path, like=expected)
    message = str(raised.value)
    assert "model.safetensors" in message and "3 problems" in message
    for part in ("shape of 'w'", "missing key 'b'", "unexpected key 'extra'"):
        assert part in message
    assert len(raised.value.problems) == 3
    assert isinstance(raised.value, ValueError)
    matching = {"w": np.ones((2, 3), np.float32), "extra": np.ones(1)}  # values may differ
    loaded = cr.load(path, like=matching)
    assert_same(loaded, {"w": np.zeros((2, 3), np.float32), "extra": np.zeros(1)})


# -- PyTorch reads what we write, and the other way round ----------------------------------


def torch_state_as_arrays(module, salt: int) -> dict:
    """Fresh random values with the names, shapes and dtypes of ``module.state_dict()``."""
    g = rng(salt)
    return {
        name: cr.tensor(g.standard_normal(tuple(value.shape)).astype(np.float32))
        for name, value in module.state_dict().items()
    }


@needs_torch
@pytest.mark.parametrize("kind", ["linear", "sequential"])
def test_torch_modules_load_our_files_and_compute_the_same(tmp_path, kind):
    import torch
    from safetensors.torch import load_file

    if kind == "linear":
        model = torch.nn.Linear(4, 3)
        layers = [""]
    else:
        model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
        layers = ["0.", "2."]
    state = torch_state_as_arrays(model, salt=5)
    path = tmp_path / "model.safetensors"
    cr.save(state, path)
    model.load_state_dict(load_file(str(path)), strict=True)
    x = rng(6).standard_normal((7, 4)).astype(np.float32)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    # the same network by hand, from the arrays we saved (torch's layout: y = x W^T + b)
    h = x
    for i, layer in enumerate(layers):
        if i > 0:
            h = np.tanh(h)
        h = h @ state[f"{layer}weight"].numpy().T + state[f"{layer}bias"].numpy()
    np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-6)


@needs_torch
def test_we_load_files_that_torch_wrote(tmp_path):
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "torch.safetensors"
    save_file(model.state_dict(), str(path))
    loaded = cr.load(path, like={k: v.numpy() for k, v in model.state_dict().items()})
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
