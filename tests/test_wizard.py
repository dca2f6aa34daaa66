"""The calibration wizard with a sample clip as its camera and scripted answers.

Real MediaPipe (the full model) on short stretches of the clips; a fake
estimator for the state machine's corner cases.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import clips
import numpy as np
import pytest

from posturewatch.adapters import profiles
from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
from posturewatch.adapters.video import VideoFileSource
from posturewatch.app import cli, wizard as wz
from posturewatch.core.session import fit_upright
from posturewatch.core.framing import NOBODY
from posturewatch.errors import CameraError, ProfileError
from posturewatch.ports import Frame, SourceInfo

UPRIGHT = "warp_proctor_man_upright_steady"  # upright for 45 s
SLOUCHER = "warp_intel_man_slouch_gradual"  # upright 0-10 s, then slouches
AWAY = "warp_intel_man_leave_and_return"  # nobody in view from ~12 s to ~25 s
FPS = 5.0


class Script:
    """Scripted answers to the wizard's questions; remembers what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.asked = list(answers), []

    def __call__(self, prompt: str) -> str:
        self.asked.append(prompt)
        assert self.answers, f"the wizard asked more than scripted: {prompt!r}"
        return self.answers.pop(0)


def run_wizard(clip: str, answers: Script, tmp_path: Path, start: float = 0.0, **kw):
    out = io.StringIO()
    source = VideoFileSource(clips.video(clip), fps=FPS, start=start)
    try:
        with MediaPipePoseEstimator(clips.model_path()) as estimator:
            wizard = wz.Wizard(source, estimator, name="me", model="full", ask=answers, out=out,
                               output=str(tmp_path / "me.json"), **kw)
            try:
                saved = wizard.run()
            finally:
                wizard.output_text = out.getvalue()
    finally:
        source.close()
    return wizard, saved, out.getvalue()


def test_upright_only_saves_a_profile_like_fit_upright(tmp_path):
    answers = Script("n", "no", "y")
    wizard, saved, text = run_wizard(UPRIGHT, answers, tmp_path)
    assert saved is not None and saved.path == tmp_path / "me.json"
    assert profiles.read_profile(saved.path).baseline == saved.baseline
    assert saved.samples == {} and saved.model == "full"
    assert [a.split("?")[0] for a in answers.asked] == [
        wz.SLOUCH.question.split("?")[0], wz.GLANCE.question.split("?")[0],
        f"Save profile 'me' to {tmp_path / 'me.json'}"]
    # The countdowns, one line each, and the summary.
    assert "get ready: 3 2 1 go!" in text
    assert "recording: 5 4 3 2 1 done" in text
    assert "framing OK" in text and "Quality: good" in text and "alerts past" in text
    # The same stretch of the clip through the analysis pipeline gives the same baseline.
    recorded = wizard.recorded["upright"]
    t0, t1 = recorded[0].t, recorded[-1].t
    assert t1 - t0 == pytest.approx(wz.RECORD_S, abs=2 / FPS)
    same = [o for o in clips.observations(UPRIGHT, FPS) if t0 - 1e-6 <= o.t <= t1 + 1e-6]
    expected = fit_upright(same)
    assert set(saved.baseline.features) == set(expected.features)
    for name, feature in expected.features.items():
        got = saved.baseline.features[name]
        assert got.center == pytest.approx(feature.center, abs=0.02 + 0.02 * abs(feature.center)), name


def test_optional_steps_add_slouch_and_glance_samples(tmp_path):
    wizard, saved, text = run_wizard(SLOUCHER, Script("y", "y", ""), tmp_path)
    assert set(saved.samples) == {"slouch", "glance"}
    assert "head_drop_nose" in saved.samples["slouch"]
    assert set(profiles.read_profile(saved.path).samples) == {"slouch", "glance"}
    assert text.count("recording: 4 3 2 1 done") == 2  # the optional steps are shorter
    assert "Your usual slouch: Now slouch" in text and "A glance down: Look down" in text
    assert "your slouch:" in text  # the summary shows what the slouch did to the alerts


def test_saying_no_saves_nothing(tmp_path):
    _, saved, text = run_wizard(UPRIGHT, Script("n", "n", "n"), tmp_path)
    assert saved is None
    assert not (tmp_path / "me.json").exists()
    assert "Not saved." in text and "Profile 'me'" in text


def test_nobody_there_reports_the_problem_and_gives_up(tmp_path):
    out = io.StringIO()
    source = VideoFileSource(clips.video(AWAY), fps=FPS, start=15.0)
    with MediaPipePoseEstimator(clips.model_path()) as estimator:
        wizard = wz.Wizard(source, estimator, name="me", ask=Script(), out=out,
                           output=str(tmp_path / "me.json"), framing_timeout_s=4.0)
        with pytest.raises(ProfileError) as failed:
            wizard.run()
    source.close()
    assert NOBODY in out.getvalue()
    message = str(failed.value)
    assert "after 4 s the framing is still not right" in message and NOBODY in message
    assert "\n" not in message
    assert not (tmp_path / "me.json").exists()


# -- through the command line --------------------------------------------------


@pytest.fixture
def calibrate_cmd(monkeypatch):
    """`posturewatch calibrate` registered in the CLI (whether or not cli.COMMANDS has it yet)."""
    if "calibrate" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + ("calibrate",))


def test_camera_that_cannot_be_opened_is_one_error_line(tmp_path, capsys, calibrate_cmd):
    status = cli.main(["calibrate", "--camera", str(tmp_path / "no-such-camera"), "--yes",
                       "--no-preview"])
    err = capsys.readouterr().err
    assert status == CameraError.exit_code
    assert err.count("\n") == 1 and err.startswith("posturewatch: error: cannot open camera")


def test_without_a_terminal_it_refuses_instead_of_hanging(capsys, calibrate_cmd):
    status = cli.main(["calibrate", "--camera", str(clips.video(UPRIGHT)), "--no-preview"])
    err = capsys.readouterr().err
    assert status == 2
    assert "not a terminal" in err and "--yes" in err and err.count("\n") == 1


def test_cli_with_a_clip_as_camera_and_yes_saves_the_profile(private_home, capsys, calibrate_cmd):
    status = cli.main(["calibrate", "--camera", str(clips.video(UPRIGHT)), "--yes",
                       "--no-preview", "--fps", "5", "--profile", "desk", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    data = json.loads(captured.out)  # --json: stdout is the profile, the chatter on stderr
    assert data["name"] == "desk" and data["samples"] == {}
    assert "recording: 5 4 3 2 1 done" in captured.err
    assert profiles.load_profile("desk").baseline.frames == data["baseline"]["frames"]


# -- the state machine with a fake estimator ------------------------------------


class FakeSource:
    def __init__(self, seconds: float, fps: float = 5.0, light: int = 120) -> None:
        self.info = SourceInfo("fake", fps, 0, 64, 48)
        self.n, self.fps, self.light = int(seconds * fps), fps, light

    def __iter__(self):
        for i in range(self.n):
            yield Frame(np.full((48, 64, 3), self.light, np.uint8), i / self.fps, i)

    def close(self) -> None:
        pass


class FakeEstimator:
    """Someone framed well, except in the `away` time ranges."""

    def __init__(self, away=()) -> None:
        from test_framing import pose  # the hand-made frontal pose

        self.pose, self.away = pose(), away

    def estimate(self, frame):
        return None if any(a <= frame.t < b for a, b in self.away) else self.pose

    def close(self) -> None:
        pass


def fake_wizard(tmp_path, source, estimator, *answers, **kw):
    out = io.StringIO()
    wizard = wz.Wizard(source, estimator, name="me", ask=Script(*answers), out=out,
                       output=str(tmp_path / "me.json"), **kw)
    return wizard, out


def test_leaving_during_the_recording_restarts_the_step(tmp_path):
    # framing ok at 2 s; get ready 2.2-5.2 s, recording from 5.2 s; away from 6 s: lost at 7.6 s.
    wizard, out = fake_wizard(tmp_path, FakeSource(60), FakeEstimator(away=[(6.0, 8.0)]),
                              "n", "n", "y")
    saved = wizard.run()
    text = out.getvalue()
    assert "recording: 5 4 3 stopped" in text and "let's do this step again" in text
    assert text.count("recording: 5 4 3 2 1 done") == 1
    assert saved is not None and all(o.present for o in wizard.recorded["upright"])


def test_keeps_leaving_gives_up(tmp_path):
    wizard, out = fake_wizard(tmp_path, FakeSource(200), FakeEstimator(away=[(5.5, 999.0)]))
    with pytest.raises(ProfileError, match="kept leaving"):
        wizard.run()
    assert out.getvalue().count("let's do this step again") == wz.MAX_RESTARTS


def test_dark_room_is_reported(tmp_path):
    wizard, out = fake_wizard(tmp_path, FakeSource(30, light=10), FakeEstimator(),
                              framing_timeout_s=3.0)
    with pytest.raises(ProfileError, match="too dark"):
        wizard.run()
    assert "it's too dark" in out.getvalue()


def test_video_ending_early_is_a_camera_error(tmp_path):
    wizard, _ = fake_wizard(tmp_path, FakeSource(6), FakeEstimator())
    with pytest.raises(CameraError, match="ended before calibration finished"):
        wizard.run()


def test_unclear_answers_are_asked_again(tmp_path):
    wizard, out = fake_wizard(tmp_path, FakeSource(60), FakeEstimator(), "maybe", "n", "n", "yes")
    assert wizard.run() is not None
    assert "please answer y or n" in out.getvalue()


def test_assume_yes_skips_the_save_question(tmp_path):
    wizard, _ = fake_wizard(tmp_path, FakeSource(60), FakeEstimator(), "n", "n", assume_yes=True)
    assert wizard.run().path == tmp_path / "me.json"


def test_countdown_phases():
    c = wz.Countdown(3.0, 5.0)
    assert [c.update(t)[0] for t in (10.0, 12.9, 13.0, 17.9, 18.0)] == [
        "ready", "ready", "record", "record", "done"]


def test_preview_only_with_a_display():
    assert not wz.has_display({}, "linux")
    assert wz.has_display({"DISPLAY": ":0"}, "linux")
    assert wz.has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert wz.has_display({}, "darwin")


def test_brightness_of_bgr_frames():
    assert wz.brightness(np.zeros((8, 8, 3), np.uint8)) == 0
    assert wz.brightness(np.full((8, 8, 3), 200, np.uint8)) == pytest.approx(200, abs=0.5)


class FakePreview:
    """Records what the wizard would draw; the user closes it after `close_after` frames."""

    def __init__(self, close_after: int | None = None) -> None:
        self.shown, self.close_after, self.closed = [], close_after, False

    def show(self, image, pose, title, lines, alerts, big) -> bool:
        self.shown.append((title, tuple(lines), tuple(alerts), big))
        return self.close_after is None or len(self.shown) < self.close_after

    def close(self) -> None:
        self.closed = True


def test_the_preview_gets_the_step_the_problems_and_the_countdown(tmp_path):
    preview = FakePreview()
    wizard, _ = fake_wizard(tmp_path, FakeSource(60, light=10), FakeEstimator(),
                            framing_timeout_s=1.0, preview=preview)
    with pytest.raises(ProfileError):
        wizard.run()
    assert preview.shown[0][0] == "Framing" and "it's too dark" in preview.shown[0][2][0]

    preview = FakePreview()
    wizard, _ = fake_wizard(tmp_path, FakeSource(60), FakeEstimator(), "n", "n", "y",
                            preview=preview)
    wizard.run()
    recording = [s for s in preview.shown if s[0] == "Good posture - recording"]
    assert [s[3] for s in recording][::5] == ["5", "4", "3", "2", "1"]
    assert recording[0][1] == (wz.UPRIGHT.instruction,) and recording[0][2] == ()


def test_closing_the_preview_stops_without_saving(tmp_path):
    wizard, _ = fake_wizard(tmp_path, FakeSource(60), FakeEstimator(), preview=FakePreview(20))
    with pytest.raises(KeyboardInterrupt):
        wizard.run()
    assert not (tmp_path / "me.json").exists()


def test_no_preview_window_without_a_display_or_when_asked():
    out = io.StringIO()
    assert isinstance(wz.make_preview(True, out, {"DISPLAY": ":0"}), wz.NoPreview)
    assert isinstance(wz.make_preview(False, out, {}), wz.NoPreview) or not wz.sys.platform.startswith("linux")
    assert out.getvalue() == ""
