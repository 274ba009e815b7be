"""Shared test helpers: finite differences for Scalar code, and PyTorch when it is installed."""

from __future__ import annotations

import importlib.util

import pytest

from chainrule import Scalar


@pytest.fixture(scope="session")
def docs_run(tmp_path_factory):
    """Every docs/ page run once per session into a copy of docs/ (see tests/docs_pages.py):
    tests/test_docs.py reads the results, tests/test_docs_site.py builds the copy."""
    pytest.importorskip("matplotlib", reason="the docs draw pictures: pip install chainrule[viz]")
    from tests.docs_pages import run_all_pages

    return run_all_pages(tmp_path_factory.mktemp("docs") / "docs")


HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")


def scalar_grads(f, *values: float) -> tuple[float, list[float]]:
    """f's value and its gradient at ``values``, by chainrule's backward()."""
    inputs = [Scalar(v) for v in values]
    out = f(*inputs)
    out.backward()
    return out.data, [x.grad for x in inputs]


def central_differences(f, *values: float, h: float = 1e-6) -> list[float]:
    """Each partial derivative of f at ``values`` as (f(v + h) - f(v - h)) / 2h, in float64.

    f is evaluated on Scalars (so any Scalar expression works) but only values are read.
    """
    grads = []
    for i, v in enumerate(values):
        step = h * max(1.0, abs(v))
        up = list(values)
        down = list(values)
        up[i] = v + step
        down[i] = v - step
        plus = f(*map(Scalar, up)).data
        minus = f(*map(Scalar, down)).data
        grads.append((plus - minus) / (2 * step))
    return grads


def torch_grads(f, *values: float) -> tuple[float, list[float]]:
    """f's value and gradient at ``values`` by PyTorch's autograd, in float64."""
    import torch

    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = f(*inputs)
    out.backward()
    return out.item(), [x.grad.item() for x in inputs]
