"""The ``chainrule`` command, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule
from chainrule.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"chainrule {chainrule.__version__}\n"


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "tour" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_tour_prints_every_stop(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour draws its pictures into ./chainrule-tour/
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    for n in range(1, 11):
        assert f"\n{n}. " in "\n" + out
    assert "dy/dx by backward()" in out


@pytest.mark.parametrize(
    "command",
    [["chainrule", "tour"], [sys.executable, "-m", "chainrule", "tour"]],
    ids=["console script", "python -m"],
)
def test_tour_runs_as_a_program(command, tmp_path):
    result = subprocess.run(
        [*command, "--no-pictures"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "2.3664" in result.stdout
    assert result.stderr == ""
