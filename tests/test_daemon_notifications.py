"""The daemon's notifications reach a real notification server (dunst on Xvfb)."""

from __future__ import annotations

import clips
import pytest
from daemon_support import SLOUCH_CLIP, UPRIGHT_CLIP, make_profile
from desktop import desktop_session

from posturewatch.app import cli
from posturewatch.core import advice

pytestmark = pytest.mark.desktop


@pytest.fixture
def desk(monkeypatch):
    with desktop_session() as desk:
        for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
            monkeypatch.setenv(key, desk.env[key])
        yield desk


def ours(desk) -> list[dict]:
    return [n for n in desk.history() if n.get("appname") == "posturewatch"]


def test_slouching_on_a_recording_sends_the_posture_notification(desk, tmp_path):
    profile = make_profile(SLOUCH_CLIP, 10.0, tmp_path / "profile.json")
    code = cli.main(["run", "--source", str(clips.pose_log(SLOUCH_CLIP)), "--profile",
                     str(profile), "--alert-after", "5"])
    assert code == 0
    posture = [n for n in ours(desk) if n["summary"] == "Check your posture"]
    assert len(posture) == 1  # one episode, well inside the cooldown
    what, todo = advice.POSTURE["head_drop"]
    assert posture[0]["body"] == f"{what} — {todo}."
    assert posture[0]["body"].startswith("Your head has dropped towards your chest — sit back")


def test_sitting_too_long_sends_a_break_reminder_with_a_stretch(desk):
    code = cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP)),
                     "--break-after", "0.25"])  # 15 s
    assert code == 0
    breaks = [n for n in ours(desk) if n["summary"] == "Time for a break"]
    assert len(breaks) == 1  # the next one is due only after remind_every (10 min)
    name, how = advice.STRETCHES[0]
    assert breaks[0]["body"] == (f"You have been sitting for 1 minute. Stand up and move. "
                                 f"Try: {name} — {how}.")
    assert not [n for n in ours(desk) if n["summary"] == "Check your posture"]  # no profile
