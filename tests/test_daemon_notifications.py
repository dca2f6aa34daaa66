"""The daemon's notifications reach a real notification server (dunst on Xvfb), and one
that hangs does not hold the daemon up."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import clips
import pytest
from daemon_support import (
    LONG_CLIP,
    SLOUCH_CLIP,
    UPRIGHT_CLIP,
    alive,
    make_profile,
    seconds_to_exit,
    spawn_run,
    status_or_none,
    still_found,
    stop,
    wait_for,
)
from desktop import desktop_session

from posturewatch.app import cli

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
    assert posture[0]["body"] == ("Your head has dropped towards your chest — sit back and lift "
                                  "your chest.")


def test_sitting_too_long_sends_a_break_reminder_with_a_stretch(desk):
    code = cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP)),
                     "--break-after", "0.25"])  # 15 s
    assert code == 0
    breaks = [n for n in ours(desk) if n["summary"] == "Time for a break"]
    assert len(breaks) == 1  # the next one is due only after remind_every (10 min)
    assert breaks[0]["body"] == (
        "You have been sitting for 1 minute. Stand up and move. Try: Knee-to-chest stretch — "
        "lying down or seated, pull one knee gently towards your chest, hold 10 seconds, swap.")
    assert not [n for n in ours(desk) if n["summary"] == "Check your posture"]  # no profile


def processes_with(arg0_suffix: str, bus: str) -> list[int]:
    """Pids of running processes named like `arg0_suffix` that use the D-Bus at `bus`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if argv0.endswith(arg0_suffix) and f"DBUS_SESSION_BUS_ADDRESS={bus}".encode() in environ:
            if alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_a_notification_server_that_never_answers_costs_the_loop_nothing(desk):
    """dunst stopped (SIGSTOP) still owns the notification service on the bus, so every
    request to it waits for an answer that never comes, as with a hung desktop."""
    bus = desk.env["DBUS_SESSION_BUS_ADDRESS"]
    [dunst] = processes_with("dunst", bus)
    os.kill(dunst, signal.SIGSTOP)
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime",
                     "--break-after", "0.02")  # a break reminder after 1.2 s
    try:
        wait_for(lambda: processes_with("notify-send", bus))  # stuck on the server
        for _ in range(10):
            start = time.monotonic()
            assert status_or_none(timeout=2.0)["camera"] == "ok"
            assert time.monotonic() - start < 0.5
            time.sleep(0.1)
        took = seconds_to_exit(proc)
        assert proc.returncode == 0 and took < 1.0, f"exit {proc.returncode} after {took:.2f} s"
        # killed, not left behind (and gone within 2 s: SIGKILL is asynchronous)
        assert still_found(lambda: processes_with("notify-send", bus)) == []
    finally:
        stop(proc)
        os.kill(dunst, signal.SIGCONT)
