"""The GIF: its frame count follows the documented rule, its frames move, it is written
atomically; and ``chainrule animate`` makes one from the command line."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.viz.animate import frame_steps

pytest.importorskip("matplotlib", reason="drawing needs matplotlib: pip install chainrule[viz]")
Image = pytest.importorskip("PIL.Image")

from chainrule.viz.animate import animate  # noqa: E402


@pytest.mark.parametrize("points", [1, 2, 3, 7, 50, 51, 101, 997])
@pytest.mark.parametrize("cap", [1, 2, 5, 50])
def test_frame_steps_follow_the_rule(points, cap):
    steps = frame_steps(points, max_frames=cap)
    assert len(steps) == min(points, cap)
    assert steps[-1] == points - 1  # the last step is always shown
    if len(steps) > 1:
        assert steps[0] == 0
        assert all(b > a for a, b in zip(steps, steps[1:]))  # no step twice
        gaps = np.diff(steps)
        assert gaps.max() - gaps.min() <= 1  # evenly spaced, to rounding
    assert frame_steps(points, frames=cap, max_frames=1) == steps  # frames= overrides the cap


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_frame_counts_must_be_positive_ints(bad):
    with pytest.raises(ValueError, match="frames"):
        frame_steps(10, frames=bad)


def frames_of(gif: bytes) -> list[np.ndarray]:
    image = Image.open(io.BytesIO(gif))
    frames = []
    for k in range(image.n_frames):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB"), dtype=float))
    return frames


@pytest.fixture(scope="module")
def bowl_runs():
    bowl = cr.surfaces.get("bowl")
    return cr.compare(bowl, bowl.start, ["sgd", "momentum"], lr=0.05, steps=11, tol=None)


def test_one_frame_per_point_and_every_frame_drawn(bowl_runs):
    gif = animate("bowl", bowl_runs, fps=5, figsize=(4, 3), dpi=50)
    frames = frames_of(gif)
    assert len(frames) == 12  # 11 steps: the start and one frame per step
    for frame in frames:
        assert np.any(frame < 245, axis=2).mean() > 0.3  # the map fills the picture
        assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 20
    # the paths grow: each frame differs from the one before
    assert all(np.abs(b - a).sum() > 0 for a, b in zip(frames, frames[1:]))


def test_long_runs_are_subsampled_to_the_cap(bowl_runs, tmp_path):
    target = tmp_path / "descent.gif"
    written = animate("bowl", bowl_runs, target, frames=4, figsize=(4, 3), dpi=40)
    assert written == target
    with Image.open(target) as image:
        assert image.n_frames == 4
        assert image.info["duration"] == 100  # 10 fps by default
    assert os.listdir(tmp_path) == ["descent.gif"]  # the temporary file was renamed


def test_bad_options_leave_an_existing_file_alone(bowl_runs, tmp_path):
    target = tmp_path / "descent.gif"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="fps"):
        animate("bowl", bowl_runs, target, fps=0)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["descent.gif"]


def test_animate_needs_a_trajectory():
    with pytest.raises(ValueError, match="at least one"):
        animate("bowl", {})


def test_cli_animate_writes_the_gif(tmp_path, capsys):
    target = tmp_path / "walk.gif"
    code = main(
        [
            "animate",
            "rosenbrock",
            "--optimizers",
            "sgd,adam",
            "--lr",
            "0.001,0.05",
            "--steps",
            "9",
            "-o",
            str(target),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"wrote {target}" in out and "10 frames" in out
    with Image.open(target) as image:
        assert image.n_frames == 10


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bowl", "--optimizers", "sgd,nope"], "unknown optimizer 'nope'"),
        (["bowl", "--lr", "0.1,0.2"], "--lr gives 2 rates for 3 optimizers"),
        (["bowl", "--lr", "fast"], "--lr: expected numbers"),
        (["x*y*z", "--from", "x=1,y=1,z=1"], "two variables"),
        (["x*y", "--steps", "3"], "starting point"),
        (["bowl", "--steps", "-2"], "--steps must be >= 0"),
        (["bowl", "--fps", "0"], "--fps must be > 0"),
    ],
)
def test_cli_animate_bad_input_is_one_line_and_exit_2(arguments, message, capsys, tmp_path):
    assert main(["animate", *arguments, "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.gif").exists()
