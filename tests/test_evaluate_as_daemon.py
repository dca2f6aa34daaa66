"""`evaluate --as-daemon`: a clip through the daemon's own loop and cadence, states held."""

from __future__ import annotations

import json

import pytest

import clips
from daemon_support import SLOUCH_CLIP

from posturewatch.app import cli
from posturewatch.core.evaluation import held


@pytest.mark.parametrize("times, states, step, end, grid, shown", [
    ([0.0, 1.0, 4.0], ["good", "poor", "good"], 1.0, 5.0,
     [0, 1, 2, 3, 4, 5], ["good", "poor", "poor", "poor", "good", "good"]),
    ([0.5, 3.0], ["good", "poor"], 1.0, 3.0, [1, 2, 3], ["good", "good", "poor"]),  # none before 0.5
    ([0.0], ["away"], 0.5, 1.2, [0, 0.5, 1.0], ["away"] * 3),
    ([], [], 1.0, 2.0, [], []),
])
def test_held_shows_the_newest_sample_on_a_grid(times, states, step, end, grid, shown):
    assert held(times, states, step, end) == (grid, shown)


def test_held_needs_a_step():
    with pytest.raises(ValueError, match="step must be > 0"):
        held([0.0], ["good"], 0.0, 1.0)


UPRIGHT_CLIP = "warp_proctor_man_upright_steady"  # 45 s of sitting well


def evaluate(capsys, clip, *flags):
    assert cli.main(["evaluate", str(clips.pose_log(clip)), "--as-daemon", "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out)["clips"][0]


def test_the_daemon_looks_less_often_while_posture_is_steady(capsys):
    fixed = evaluate(capsys, UPRIGHT_CLIP, "--steady-fps", "1")
    slower = evaluate(capsys, UPRIGHT_CLIP, "--steady-fps", "0.2")
    duration = clips.poses(UPRIGHT_CLIP)[-1].t
    # One look a second (a 5 fps pose log has a pose at or up to 0.2 s after each due time).
    assert duration / 1.25 <= fixed["frames_analysed"] <= duration + 1
    # After 10 s of calm, one every 5 s: about a third as many.
    assert slower["frames_analysed"] < 0.5 * fixed["frames_analysed"], (fixed, slower)
    assert fixed["episodes"] == slower["episodes"] == 0


@pytest.mark.parametrize("steady_fps", ["1", "0.2"])
def test_the_slouch_is_found_at_either_rate(capsys, steady_fps):
    result = evaluate(capsys, SLOUCH_CLIP, "--steady-fps", steady_fps)
    assert result["episodes"] == 1 and result["f1"] > 0.9, result
    assert len(result["alert_latencies_s"]) == 1


def test_steady_fps_goes_with_as_daemon(capsys):
    assert cli.main(["evaluate", str(clips.pose_log(SLOUCH_CLIP)), "--steady-fps", "1"]) == 2
    assert "--steady-fps and --poor-fps go with --as-daemon" in capsys.readouterr().err
