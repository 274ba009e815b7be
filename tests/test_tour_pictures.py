"""``chainrule tour`` draws its pictures into a folder and prints where, under their stops;
without matplotlib it still prints every stop and says how to get the pictures."""

from __future__ import annotations

import stat
import sys

import numpy as np
import pytest

from chainrule.cli import main

pytest.importorskip("matplotlib", reason="drawing needs matplotlib: pip install chainrule[viz]")
Image = pytest.importorskip("PIL.Image")


def test_tour_writes_its_pictures_and_prints_them_under_their_stops(tmp_path, capsys):
    folder = tmp_path / "pictures"
    assert main(["tour", "--pictures", str(folder)]) == 0
    out = "\n" + capsys.readouterr().out  # every stop's title starts a line
    expected = {
        "1-tangent.png": ("1. ", "2. "),
        "9-learning-rates.png": ("9. ", "10. "),
        "9-rosenbrock.png": ("9. ", "10. "),
        "9-rosenbrock.gif": ("9. ", "10. "),
        "10-training.png": ("10. ", None),
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)  # no temporary left
    for name, (stop, next_stop) in expected.items():
        line = f"picture: {folder / name}"
        where = out.index(line)
        assert out.rindex("\n" + stop, 0, where) < where  # after its own stop's title
        if next_stop is not None:
            assert out.index("\n" + next_stop) > where  # before the next stop's
        path = folder / name
        assert stat.S_IMODE(path.stat().st_mode) & 0o044, "readable by others, as umask allows"
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            pixels = np.asarray(image.convert("RGB"), dtype=float)
        assert np.any(pixels < 245, axis=2).mean() > 0.05, f"{name} is blank"
        assert pixels.std() > 20
        assert frames == (40 if name.endswith(".gif") else 1)  # 301 points, capped at 40


def test_tour_without_matplotlib_prints_every_stop_and_one_line_on_pictures(
    tmp_path, monkeypatch, capsys
):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["tour", "--pictures", str(tmp_path / "pictures")]) == 0
    out = capsys.readouterr().out
    for n in range(1, 11):
        assert f"\n{n}. " in "\n" + out
    notes = [line for line in out.splitlines() if "pip install chainrule[viz]" in line]
    assert len(notes) == 1
    assert "picture:" not in out
    assert not (tmp_path / "pictures").exists()


def test_tour_with_no_pictures_draws_none(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tour", "--no-pictures", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "## 10. " in out and "![" not in out
    assert list(tmp_path.iterdir()) == []
