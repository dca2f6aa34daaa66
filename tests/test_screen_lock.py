"""Screen lock and suspend: real D-Bus signals on private buses (a session bus, and a second
dbus-daemon standing in for the system bus) pause the daemon with a reason and resume it."""

from __future__ import annotations

import os
import signal
import time

import clips
import pytest
from daemon_support import UPRIGHT_CLIP, log_text, spawn_run, status_or_none, stop, wait_for
from desktop import BUS_PIDS, private_buses, send_signal

from posturewatch.adapters.dbus import Message
from posturewatch.adapters.screen_lock import session_path, signal_change

pytestmark = pytest.mark.desktop

SCREENSAVER = ("/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver.ActiveChanged")
GNOME = ("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged")
SLEEP = ("/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep")
OUR_SESSION = "c7"


def daemon_env(env: dict, config: str = "") -> dict:
    home = os.environ["POSTUREWATCH_HOME"]
    if config:
        os.makedirs(f"{home}/config", exist_ok=True)
        with open(f"{home}/config/config.toml", "w") as f:
            f.write(config)
    return dict(env, POSTUREWATCH_HOME=home, XDG_SESSION_ID=OUR_SESSION)


def status():
    return status_or_none() or {}


def wait_pause(reason):
    return wait_for(lambda: status().get("pause_reason", "x") == reason and status(), timeout=10)


def start(env):
    proc = spawn_run("--source", str(clips.pose_log(UPRIGHT_CLIP)), "--realtime", env=env)
    wait_for(lambda: status().get("camera") == "ok", timeout=60)
    # the watcher subscribes on its own thread: a signal sent before that would be lost
    wait_for(lambda: "screen lock and suspend: listening to screensaver, logind" in log_text(),
             timeout=10)
    return proc


def test_lock_unlock_sleep_wake_pause_and_resume_the_daemon():
    with private_buses() as env:
        proc = start(daemon_env(env))
        try:
            for path, member in (SCREENSAVER, GNOME):
                send_signal(env, "session", path, member, "boolean:true")
                locked = wait_pause("screen locked")
                assert locked["paused"] is True and locked["camera"] == "released (screen locked)"
                send_signal(env, "session", path, member, "boolean:false")
                assert wait_pause(None)["paused"] is False
                wait_for(lambda: status()["camera"] == "ok", timeout=10)
            send_signal(env, "system", *SLEEP, "boolean:true")
            assert wait_pause("suspend")["camera"] == "released (suspend)"
            send_signal(env, "system", *SLEEP, "boolean:false")
            wait_pause(None)
            ours = session_path(OUR_SESSION)
            send_signal(env, "system", session_path("c8"), "org.freedesktop.login1.Session.Lock")
            send_signal(env, "system", ours, "org.freedesktop.login1.Session.Lock")
            assert wait_pause("screen locked")["paused"] is True
            send_signal(env, "system", ours, "org.freedesktop.login1.Session.Unlock")
            wait_pause(None)
        finally:
            stop(proc)
        log = log_text()
        assert log.count("screen locked: on") == 3  # the other session's lock was not ours
        assert "suspend: on" in log and "suspend: off" in log


def test_a_lock_of_break_away_is_a_break():
    with private_buses() as env:
        proc = start(daemon_env(env, "break_away = 3\nbrief_absence = 1\n"))
        try:
            wait_for(lambda: status()["seated_min"] >= 0.1, timeout=30)
            send_signal(env, "session", *SCREENSAVER, "boolean:true")
            wait_pause("screen locked")
            time.sleep(4)
            send_signal(env, "session", *SCREENSAVER, "boolean:false")
            after = wait_pause(None)
            assert after["seated_min"] < 0.05  # the lock reset the sitting timer
        finally:
            stop(proc)


def test_no_bus_and_a_hung_bus_cost_the_daemon_nothing():
    with private_buses() as env:
        os.kill(BUS_PIDS[env["DBUS_SYSTEM_BUS_ADDRESS"]], signal.SIGSTOP)
        hung = daemon_env(dict(env, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus"))
        try:
            proc = spawn_run("--source", str(clips.pose_log(UPRIGHT_CLIP)), "--realtime", env=hung)
            try:
                wait_for(lambda: status().get("camera") == "ok", timeout=60)
                started = time.monotonic()
                assert status_or_none(timeout=1.0) is not None
                assert time.monotonic() - started < 0.5
                begun = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=10) == 0
                assert time.monotonic() - begun < 1.0
            finally:
                stop(proc)
        finally:
            os.kill(BUS_PIDS[env["DBUS_SYSTEM_BUS_ADDRESS"]], signal.SIGCONT)
        assert "no session bus" in log_text()


@pytest.mark.parametrize("member, interface, path, body, change", [
    ("ActiveChanged", "org.freedesktop.ScreenSaver", "/x", (True,), ("screen locked", True)),
    ("ActiveChanged", "org.gnome.ScreenSaver", "/x", (False,), ("screen locked", False)),
    ("PrepareForSleep", "org.freedesktop.login1.Manager", "/", (True,), ("suspend", True)),
    ("Lock", "org.freedesktop.login1.Session", session_path("c7"), (), ("screen locked", True)),
    ("Lock", "org.freedesktop.login1.Session", session_path("c8"), (), None),
    ("Unlock", "org.freedesktop.login1.Session", session_path("c7"), (), ("screen locked", False)),
    ("ActiveChanged", "org.example.Other", "/x", (True,), None),
])
def test_which_signals_count(member, interface, path, body, change):
    msg = Message("signal", ":1.5", path, interface, member, body)
    assert signal_change(msg, session_path("c7")) == change


def test_session_paths_are_encoded_as_logind_does():
    assert session_path("c7") == "/org/freedesktop/login1/session/c7"
    assert session_path("2") == "/org/freedesktop/login1/session/_32"
