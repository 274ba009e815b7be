"""``chainrule graph``: the formula's graph printed as DOT or written to a file; bad input and
a missing Graphviz exit 2 with one line."""

from __future__ import annotations

import html
import math
import re
import shutil

import pytest

from chainrule.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_dot_with_every_value_and_gradient_after_backward(capsys):
    code, out, err = run(capsys, "graph", "sigmoid(a*x+b)", "--at", "a=1,x=2,b=3")
    assert code == 0 and err == ""
    assert out.startswith("digraph chainrule {") and out.rstrip().endswith("}")
    s = 1 / (1 + math.exp(-5.0))
    ds = s * (1 - s)
    text = html.unescape(out)
    for name, gradient in (("a", 2 * ds), ("x", ds), ("b", ds)):
        cell = re.search(rf"<B>{name}</B>.*?grad ([-\d.e]+)<", text)
        assert cell is not None and float(cell.group(1)) == pytest.approx(gradient, rel=1e-3)
    assert f"data {s:.4g}" in text and "grad unset" not in text


def test_writes_dot_text_with_o(capsys, tmp_path):
    path = tmp_path / "graph.dot"
    code, out, _ = run(capsys, "graph", "x*y - y", "--at", "x=2,y=3", "-o", str(path))
    assert code == 0 and str(path) in out
    text = path.read_text()
    assert text.startswith("digraph") and "<B>−</B>" in text


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_renders_svg_and_png(capsys, tmp_path, suffix):
    path = tmp_path / f"graph{suffix}"
    code, out, err = run(capsys, "graph", "sigmoid(a*x+b)", "--at", "a=1,x=2,b=3", "-o", str(path))
    assert code == 0, err
    assert out.strip() == f"wrote {path}"
    content = path.read_bytes()
    if suffix == ".svg":
        assert b"<svg" in content and b"sigmoid" in content
    else:
        assert content[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_formula_exits_2_with_the_caret(capsys):
    code, out, err = run(capsys, "graph", "sigmoid(a*x+)", "--at", "a=1,x=2")
    assert code == 2 and out == ""
    assert err.startswith("chainrule graph: error:")
    lines = err.splitlines()
    assert lines[-1].strip() == "^" and "sigmoid(a*x+)" in lines[-2]


def test_missing_variable_and_bad_suffix_exit_2_with_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "graph", "x*y", "--at", "x=1")
    assert code == 2 and len(err.splitlines()) == 1 and "y" in err
    code, _, err = run(capsys, "graph", "x*y", "--at", "x=1,y=2", "-o", str(tmp_path / "g.jpg"))
    assert code == 2 and len(err.splitlines()) == 1 and ".jpg" in err
    assert not (tmp_path / "g.jpg").exists()


def test_missing_dot_exits_2_saying_install_graphviz_and_where_the_dot_went(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    path = tmp_path / "graph.svg"
    code, out, err = run(capsys, "graph", "sigmoid(a*x+b)", "--at", "a=1,x=2,b=3", "-o", str(path))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert "apt-get install graphviz" in err and str(tmp_path / "graph.dot") in err
    assert (tmp_path / "graph.dot").read_text().startswith("digraph chainrule {")
    assert not path.exists()
