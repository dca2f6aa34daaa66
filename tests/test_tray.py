"""The tray icon for real: a StatusNotifierItem shown by a real tray host (gtk-sni-tray, with
its own StatusNotifierWatcher) on a virtual screen; screenshots show the state's colour, and
the menu's entries, clicked as a host does (dbusmenu Event), drive the daemon."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess

import clips
import numpy as np
import pytest
from daemon_support import UPRIGHT_CLIP, log_text, make_profile, spawn_run, status_or_none, \
    stop, wait_for
from desktop import desktop_session
from screenshot import screenshot

from posturewatch.adapters.tray import COLORS
from posturewatch.app.daemon.status import DaemonStatus
from posturewatch.app.daemon.tray_menu import MENU, enabled, icon_state, tooltip

pytestmark = pytest.mark.desktop
HOST = "gtk-sni-tray-standalone"  # Debian: haskell-gtk-sni-tray-utils
ENTRY = {item.key: item.id for item in MENU if item.key}


def icon_pixels(env, state) -> int:
    """Pixels of the state's colour in the tray bar (the bottom 40 rows). This host draws
    the pixmap's channels rotated from pixel to pixel, so any order of them counts."""
    bar = screenshot(env)[-40:].reshape(-1, 3).astype(int)
    want = np.sort(np.array(COLORS[state]))
    return int((np.abs(np.sort(bar, axis=1) - want) <= 8).all(axis=1).sum())


def click(env, pid, key):
    subprocess.run(["dbus-send", "--print-reply", f"--dest=org.kde.StatusNotifierItem-{pid}-1",
                    "/MenuBar", "com.canonical.dbusmenu.Event", f"int32:{ENTRY[key]}",
                    "string:clicked", "variant:int32:0", "uint32:0"],
                   env=env, check=True, capture_output=True, timeout=10)


def item_property(env, pid, name) -> str:
    return subprocess.run(["dbus-send", "--print-reply", f"--dest=org.kde.StatusNotifierItem-"
                           f"{pid}-1", "/StatusNotifierItem", "org.freedesktop.DBus.Properties.Get",
                           "string:org.kde.StatusNotifierItem", f"string:{name}"],
                          env=env, check=True, capture_output=True, text=True, timeout=10).stdout


def watcher_up(env) -> bool:
    done = subprocess.run(["dbus-send", "--print-reply", "--dest=org.freedesktop.DBus",
                           "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                           "string:org.kde.StatusNotifierWatcher"],
                          env=env, capture_output=True, text=True, timeout=10)
    return "boolean true" in done.stdout


@contextlib.contextmanager
def tray_host(env, tmp):
    with (tmp / "host.log").open("w") as out:
        host = subprocess.Popen([HOST, "--watcher", "--bottom", "--size", "40", "-c", "#ffffff"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            # Up once its watcher owns the name (a fixed sleep was too short on a busy machine).
            wait_for(lambda: host.poll() is not None or watcher_up(env), timeout=30)
            assert host.poll() is None, (tmp / "host.log").read_text()
            yield host
        finally:
            host.terminate()
            host.wait(timeout=10)


def test_the_icon_shows_the_state_and_the_menu_drives_the_daemon(tmp_path):
    profile = make_profile(UPRIGHT_CLIP, 12.0, tmp_path / "p.json")
    with desktop_session() as desk, tray_host(desk.env, desk.tmp):
        proc = spawn_run("--source", str(clips.pose_log(UPRIGHT_CLIP)), "--realtime",
                         "--profile", str(profile), env=desk.env)
        try:
            wait_for(lambda: "tray icon registered" in log_text(), timeout=60)
            wait_for(lambda: (status_or_none() or {}).get("state") == "good", timeout=30)
            wait_for(lambda: icon_pixels(desk.env, "good") > 100, timeout=10)
            assert icon_pixels(desk.env, "paused") == 0
            tip = item_property(desk.env, proc.pid, "ToolTip")
            assert "posturewatch: good posture" in tip and "next break in" in tip, tip
            click(desk.env, proc.pid, "pause")
            wait_for(lambda: status_or_none()["pause_reason"] == "user", timeout=5)
            wait_for(lambda: icon_pixels(desk.env, "paused") > 100, timeout=10)
            assert icon_pixels(desk.env, "good") == 0
            click(desk.env, proc.pid, "resume")
            wait_for(lambda: status_or_none()["paused"] is False, timeout=5)
            click(desk.env, proc.pid, "pause30")
            wait_for(lambda: status_or_none()["paused_until"] not in (None, "until resumed"),
                     timeout=5)  # a click is answered first, then carried out
            click(desk.env, proc.pid, "resume")
            wait_for(lambda: status_or_none()["paused"] is False, timeout=5)
            click(desk.env, proc.pid, "snooze")
            wait_for(lambda: status_or_none()["snoozed_until"], timeout=5)
            seated = wait_for(lambda: (m := status_or_none()["seated_min"]) > 0.1 and m, timeout=20)
            click(desk.env, proc.pid, "break")
            wait_for(lambda: status_or_none()["seated_min"] < seated - 0.05, timeout=5)
            click(desk.env, proc.pid, "quit")
            assert proc.wait(timeout=10) == 0
        finally:
            stop(proc)
    assert "tray menu: quit" in log_text()


WATCHING = DaemonStatus(
    running=True, state="good", paused=False, pause_reason=None, present=True,
    presence="present", score=None, reasons=(), seated_min=0.0, next_break_min=30.0,
    paused_until=None, snoozed_until=None, posture_alerts=True, profile=None, profile_note="",
    camera="ok", camera_error="", notifier="dbus", last_notification="", source="0",
    stopping=False, pid=1, today=None, history="on (/x)", history_pending_s=0.0)


def status(**changes) -> DaemonStatus:
    return dataclasses.replace(WATCHING, **changes)


@pytest.mark.parametrize("changes, state", [
    ({"state": "good"}, "good"), ({"state": "looking_down"}, "good"),
    ({"state": "poor"}, "poor"), ({"state": "away"}, "away"), ({"state": "standing"}, "standing"),
    ({"state": "paused", "paused": True, "pause_reason": "user"}, "paused"),
    ({"state": "away", "paused": True, "pause_reason": "screen locked"}, "paused"),
    ({"state": "camera busy", "paused": True, "pause_reason": "camera busy"}, "camera busy"),
    ({"state": "uncertain"}, "watching"),
])
def test_icon_states(changes, state):
    assert icon_state(status(**changes)) == state


def test_tooltip_and_entries():
    paused = status(state="paused", paused=True, pause_reason="user", seated_min=12.0,
                    next_break_min=18.0)
    assert tooltip(paused) == ("posturewatch: paused (user)",
                               "seated 12 min 00 s, next break in 18 min 00 s")
    assert enabled(paused) == {"pause30": False, "pause60": False, "pause": False,
                               "resume": True, "report": True}
    assert enabled(status(history="off: turned off"))["report"] is False
