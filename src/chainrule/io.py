"""Saving and loading state dicts as safetensors files, atomically, readable by PyTorch.

``save(state, path)`` writes a real safetensors file: each array under the name it has in
``state`` (a model's ``state_dict()`` names, so ``safetensors.torch.load_file`` gives a dict
that the equivalent ``torch.nn`` model's ``load_state_dict`` accepts), as a contiguous
little-endian array of its own dtype. Nested state, such as an optimizer's
``{"state": {0: {...}}, "param_groups": [...]}`` or ``{"model": ..., "optimizer": ...,
"epoch": 3}``, is flattened: arrays are stored under dotted paths (``optimizer.state.0.exp_avg``)
and the structure, with every non-array value (numbers, strings, bools, None), goes into
the file's JSON metadata, from which ``load`` rebuilds the same structure. Arrays come back
as they went in: Tensors as Tensors (not requiring grad), ndarrays as ndarrays, NumPy
scalars as NumPy scalars; a file written by another program loads as a dict of Tensors.

The file is written to a temporary file in the same directory, flushed to disk, then
renamed over ``path``: a crash mid-save leaves the previous file as it was.

>>> import os, tempfile
>>> import numpy as np
>>> import chainrule as cr
>>> state = {"weight": cr.tensor([[1.0, 2.0]]), "bias": cr.tensor([0.5])}
>>> folder = tempfile.TemporaryDirectory()
>>> path = os.path.join(folder.name, "model.safetensors")
>>> cr.save(state, path)
>>> cr.load(path)
{'weight': tensor([[1., 2.]]), 'bias': tensor([0.5])}
>>> cr.save({"model": state, "step": 3, "lr": 1e-3, "betas": (0.9, 0.999)}, path)
>>> checkpoint = cr.load(path)
>>> checkpoint["step"], checkpoint["betas"], checkpoint["model"]["bias"]
(3, (0.9, 0.999), tensor([0.5]))
>>> folder.cleanup()
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from chainrule.tensor import Tensor

__all__ = ["Mismatch", "StateDictError", "compare_state_dicts", "load", "save"]

# the metadata key under which the structure of the saved state is kept
STRUCTURE_KEY = "chainrule.structure"
_FORMAT_VERSION = 1
_KEY_TYPES = (str, int, bool, type(None))


def save(state_dict: Mapping, path) -> None:
    """Write ``state_dict`` (names -> Tensors/ndarrays, possibly nested) to ``path``.

    See the module's description for the format; a crash mid-save leaves the old file.

    >>> import chainrule as cr
    >>> import os, tempfile
    >>> model = cr.nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> cr.save(model.state_dict(), path)
    >>> sorted(cr.load(path))
    ['bias', 'weight']
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            "save() takes a dict (a state dict, or a dict of them), "
            f"got {type(state_dict).__name__}"
        )
    safetensors = _safetensors()
    arrays: dict[str, np.ndarray] = {}
    structure = _flatten(state_dict, "", arrays)
    metadata = {
        "format": "pt",  # what Hugging Face's loaders look for; PyTorch ignores it
        STRUCTURE_KEY: json.dumps({"version": _FORMAT_VERSION, "root": structure}),
    }
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {path}: it is a directory")
    # serialised in memory and written by us (not safetensors' save_file), so that this
    # module alone decides where the bytes go, when they reach the disk, and what is
    # cleaned up when writing fails
    _write_atomically(path, safetensors.numpy.save(arrays, metadata=metadata))


def load(path, like=None):
    """Read what ``save`` wrote to ``path`` (or any safetensors file: then a dict of Tensors).

    With ``like=`` (a state dict of the expected names, shapes and dtypes, e.g. a model's
    ``state_dict()``), a file that differs raises ``StateDictError`` listing every difference.

    >>> import chainrule as cr
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> cr.save({"w": cr.tensor([1.0, 2.0])}, path)
    >>> cr.load(path)
    {'w': tensor([1., 2.])}
    >>> model = cr.nn.Linear(2, 1)
    >>> cr.save(model.state_dict(), path)
    >>> cr.nn.Linear(2, 1).load_state_dict(cr.load(path))     # a fresh layer takes the weights
    <All keys matched successfully>
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a safetensors file")
    safetensors = _safetensors()
    try:
        opened = safetensors.safe_open(path, framework="numpy")
    except safetensors.SafetensorError as error:
        raise ValueError(f"{path} is not a safetensors file ({error})") from None
    with opened as file:
        metadata = file.metadata() or {}
        arrays = {name: _read_array(file, name, path) for name in file.keys()}
    if STRUCTURE_KEY in metadata:
        state = _rebuild_all(metadata[STRUCTURE_KEY], arrays, path)
    else:
        state = {name: Tensor._wrap(array) for name, array in arrays.items()}
    if like is not None:
        problems = compare_state_dicts(like, state)
        if problems:
            raise StateDictError(f"{path} does not match the expected state dict", problems)
    return state


# -- comparing state dicts ---------------------------------------------------------------


class Mismatch(NamedTuple):
    """One difference between an expected state dict and another: ``kind`` is "missing",
    "unexpected", "shape", "dtype", "type" or "length"; ``key`` the dotted path of the entry.

    >>> import numpy as np
    >>> [problem] = compare_state_dicts({"w": np.zeros(2)}, {"w": np.zeros(3)})
    >>> problem
    Mismatch(kind='shape', key='w', expected=(2,), got=(3,))
    >>> print(problem)
    shape of 'w': expected (2,), got (3,)
    """

    kind: str
    key: str
    expected: object = None
    got: object = None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"missing key {self.key!r} (expected {self.expected})"
        if self.kind == "unexpected":
            return f"unexpected key {self.key!r} ({self.got})"
        return f"{self.kind} of {self.key!r}: expected {self.expected}, got {self.got}"


class StateDictError(ValueError):
    """A state dict that does not match the expected one; ``.problems`` lists the Mismatches."""

    def __init__(self, message: str, problems: list[Mismatch]):
        self.problems = list(problems)
        listing = "\n".join(f"  {problem}" for problem in self.problems)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__(f"{message}: {count}\n{listing}")


def compare_state_dicts(expected, got, check_dtype: bool = True) -> list[Mismatch]:
    """Every difference in names, shapes and dtypes between two (possibly nested) state dicts.

    Values of arrays and of numbers are not compared: loading is meant to change them.
    An empty list means ``got`` fits ``expected``.

    >>> import numpy as np
    >>> expected = {"fc.weight": np.zeros((3, 2), np.float32), "fc.bias": np.zeros(3, np.float32)}
    >>> got = {"fc.weight": np.zeros((2, 3), np.float32), "fc.b": np.zeros(3, np.float32)}
    >>> for problem in compare_state_dicts(expected, got):
    ...     print(problem)
    shape of 'fc.weight': expected (3, 2), got (2, 3)
    missing key 'fc.bias' (expected (3,) float32)
    unexpected key 'fc.b' ((3,) float32)
    """
    problems: list[Mismatch] = []
    _compare(expected, got, "", problems, check_dtype)
    return problems


def _compare(expected, got, key: str, problems: list, check_dtype: bool) -> None:
    if _is_array(expected):
        if not _is_array(got):
            problems.append(Mismatch("type", key, "an array", _describe(got)))
            return
        expected_array, got_array = _as_numpy(expected), _as_numpy(got)
        if expected_array.shape != got_array.shape:
            problems.append(Mismatch("shape", key, expected_array.shape, got_array.shape))
        if check_dtype and expected_array.dtype != got_array.dtype:
            problems.append(Mismatch("dtype", key, str(expected_array.dtype), str(got_array.dtype)))
    elif isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            problems.append(Mismatch("type", key, "a dict", _describe(got)))
            return
        for name, value in expected.items():
            if name in got:
                _compare(value, got[name], _join(key, name), problems, check_dtype)
            else:
                problems.append(Mismatch("missing", _join(key, name), _describe(value)))
        for name, value in got.items():
            if name not in expected:
                problems.append(Mismatch("unexpected", _join(key, name), None, _describe(value)))
    elif isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            problems.append(Mismatch("type", key, "a list", _describe(got)))
        elif len(expected) != len(got):
            problems.append(Mismatch("length", key, len(expected), len(got)))
        else:
            for i, (e, g) in enumerate(zip(expected, got)):
                _compare(e, g, _join(key, i), problems, check_dtype)
    elif _is_array(got) or isinstance(got, (Mapping, list, tuple)):
        problems.append(Mismatch("type", key, _describe(expected), _describe(got)))


def _describe(value) -> str:
    if _is_array(value):
        array = _as_numpy(value)
        return f"{array.shape} {array.dtype}"
    if isinstance(value, Mapping):
        return f"a dict of {len(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"


def _join(prefix: str, name) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


# -- flattening nested state into named arrays and a JSON structure ------------------------


def _is_array(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray, np.generic))


def _as_numpy(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _flatten(value, name: str, arrays: dict) -> dict:
    """The JSON description of ``value``; its arrays go into ``arrays`` under unique names."""
    if _is_array(value):
        kind = "tensor" if isinstance(value, Tensor) else "ndarray"
        if isinstance(value, np.generic):
            kind = "scalar"
        unique = _unique_name(name, arrays)
        arrays[unique] = _storable(_as_numpy(value), name)
        return {"array": unique, "as": kind}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, _KEY_TYPES):
                raise TypeError(
                    f"cannot save the key {key!r} at {name or 'the top level'}: keys must be "
                    "str, int, bool or None"
                )
            items.append([key, _flatten(item, _join(name, key), arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_flatten(item, _join(name, i), arrays) for i, item in enumerate(value)]}
    if isinstance(value, float):
        return {"float": repr(value)}  # a string keeps nan, inf and every bit
    if value is None or isinstance(value, (bool, int, str)):
        return {"value": value}
    raise TypeError(
        f"cannot save {name!r}: a {type(value).__name__} (save() takes Tensors, ndarrays, "
        "numbers, strings, bools, None, and dicts, lists and tuples of them)"
    )


def _unique_name(name: str, taken: dict) -> str:
    # nested keys with dots can make two paths alike ({"a.b": x, "a": {"b": y}})
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}#{n}", n + 1
    return unique


def _storable(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"cannot save {name!r}: arrays of dtype {array.dtype} have no safetensors type"
        )
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    # not np.ascontiguousarray, which turns a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _rebuild_all(text: str, arrays: dict, path: str):
    try:
        document = json.loads(text)
        if document.get("version") != _FORMAT_VERSION:
            raise ValueError(f"format version {document.get('version')!r} is not known")
        used: set[str] = set()
        state = _rebuild(document["root"], arrays, used)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{path}: its chainrule structure metadata is damaged ({error})") from None
    if used != arrays.keys():
        raise ValueError(
            f"{path}: arrays {sorted(arrays.keys() - used)} are not in its structure metadata"
        )
    return state


def _rebuild(node: dict, arrays: dict, used: set):
    if "array" in node:
        array = arrays[node["array"]]
        used.add(node["array"])
        if node["as"] == "tensor":
            return Tensor._wrap(array)
        return array[()] if node["as"] == "scalar" else array
    if "dict" in node:
        return {key: _rebuild(item, arrays, used) for key, item in node["dict"]}
    if "list" in node:
        return [_rebuild(item, arrays, used) for item in node["list"]]
    if "tuple" in node:
        return tuple(_rebuild(item, arrays, used) for item in node["tuple"])
    if "float" in node:
        return float(node["float"])
    return node["value"]


# -- files -------------------------------------------------------------------------------


def _read_array(file, name: str, path: str) -> np.ndarray:
    try:
        return file.get_tensor(name)
    except Exception as error:  # e.g. bfloat16, which NumPy has no dtype for
        raise ValueError(f"{path}: cannot read the array {name!r} with NumPy ({error})") from None


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, rename it over
    ``path``: readers see the old file or the new one, never a part of the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary, descriptor = _new_temporary_file(directory, os.path.basename(path))
    try:
        with open(descriptor, "wb") as file:
            _write_chunks(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _write_chunks(file, data: bytes, chunk: int = 1 << 24) -> None:
    view = memoryview(data)
    for start in range(0, len(view), chunk):
        file.write(view[start : start + chunk])


def _new_temporary_file(directory: str, basename: str) -> tuple[str, int]:
    # in the target's directory, so that os.replace is a rename on one file system; O_EXCL
    # so that two saves never share one; mode 0o666 so the umask decides, as for open()
    while True:
        candidate = os.path.join(directory, f".{basename}.{secrets.token_hex(6)}.tmp")
        try:
            descriptor = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        return candidate, descriptor


def _fsync_directory(directory: str) -> None:
    # the rename is durable once the directory entry is on disk (POSIX); Windows cannot
    # open a directory, and there os.replace is already as safe as it gets
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _safetensors():
    try:
        import safetensors
        import safetensors.numpy
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "cr.save and cr.load write safetensors files: install the safetensors package with "
            "pip install 'chainrule[io]'"
        ) from None
    return safetensors
