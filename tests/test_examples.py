"""Every script in examples/ runs, and does what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script):
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_xor_network_learns_xor():
    script = next(p for p in EXAMPLES if p.name == "xor_network.py")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True).stdout
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", out)]
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.01
    for target, said in re.findall(r"= (\d)   network says ([0-9.]+)", out):
        assert abs(float(said) - float(target)) < 0.1
