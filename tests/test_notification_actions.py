"""Notifications with buttons over D-Bus, clicked in a real dunst (its own context menu), and
Do Not Disturb (dunst paused): posture alerts held back, a break reminder shown when it ends."""

from __future__ import annotations

import threading
import time

import clips
import pytest
from daemon_support import UPRIGHT_CLIP, log_text, spawn_run, status_or_none, stop, wait_for
from desktop import desktop_session

from posturewatch.adapters.dbus import BusError
from posturewatch.adapters.dbus_notify import DBusNotifier
from posturewatch.adapters.notify import FallbackNotifier

pytestmark = pytest.mark.desktop


class Clicks(list):
    def __init__(self):
        super().__init__()
        self.came = threading.Event()

    def __call__(self, key):
        self.append(key)
        self.came.set()

    def wait(self, timeout=5.0):
        assert self.came.wait(timeout), "no click reached the notifier"
        self.came.clear()
        return self[-1]


@pytest.fixture
def desk(monkeypatch):
    with desktop_session() as desk:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desk.env["DBUS_SESSION_BUS_ADDRESS"])
        yield desk


def shown(desk):
    return {(n["summary"], n["category"]) for n in desk.history()}


def test_buttons_reach_the_notifier(desk):
    clicks = Clicks()
    notifier = DBusNotifier(clicks)
    try:
        assert notifier.notify("Sit up", "Your head has dropped.", kind="posture")
        assert "actions" in notifier.capabilities
        desk.click("Snooze 30 min")
        assert clicks.wait() == "snooze"
        assert notifier.notify("Time for a break", "You have been sitting.", kind="break")
        desk.click("In 10 min")
        assert clicks.wait() == "later"
        assert notifier.notify("Time for a break", "Still sitting.", kind="break")
        desk.click("Taking a break")
        assert clicks.wait() == "break"
        assert {("Sit up", "x-posturewatch.posture"),
                ("Time for a break", "x-posturewatch.break")} <= shown(desk)
        assert all(n["appname"] == "posturewatch" for n in desk.history())
    finally:
        notifier.close()


def test_do_not_disturb_holds_posture_alerts_and_delivers_the_break_after(desk, monkeypatch):
    monkeypatch.setattr("posturewatch.adapters.dbus_notify.RECHECK_S", 0.3)
    notifier = DBusNotifier()
    try:
        assert notifier.notify("Hello", "first", kind="")  # connects, starts listening
        desk.set_paused(True)
        assert notifier.notify("Sit up", "held", kind="posture")  # handled: no fallback
        assert notifier.notify("Time for a break", "old reminder", kind="break")
        assert notifier.notify("Time for a break", "due reminder", kind="break")
        time.sleep(1.0)
        desk.set_paused(False)
        wait_for(lambda: any(n["body"] == "due reminder" for n in desk.history()), timeout=5)
        bodies = [n["body"] for n in desk.history()]
        assert "held" not in bodies and "old reminder" not in bodies
        assert bodies.count("due reminder") == 1
    finally:
        notifier.close()


class FakeBus:
    """A notification server without buttons, or one that never answers."""

    alive = True

    def __init__(self, hung=False):
        self.hung, self.sent = hung, []

    def call(self, service, member, signature=None, body=(), timeout=2.0):
        if self.hung:
            raise BusError(f"no answer on the session bus within {timeout:g} s")
        if member == "GetCapabilities":
            return (["body"],)
        self.sent.append(body)
        return (7,)

    def get_property(self, service, name, timeout=2.0):
        raise BusError("org.freedesktop.DBus.Error.UnknownProperty")

    def subscribe(self, into, timeout=2.0, **rule):
        pass

    def close(self):
        pass


def test_a_server_without_actions_gets_no_buttons_and_a_missing_bus_falls_back():
    bus = FakeBus()
    notifier = DBusNotifier(open_bus=lambda kind: bus)
    assert notifier.notify("Sit up", "x", kind="posture")
    assert bus.sent[0][5] == []  # no actions offered
    hung = DBusNotifier(open_bus=lambda kind: FakeBus(hung=True))
    assert not hung.notify("Sit up", "x", kind="posture") and "no answer" in hung.last_error

    def no_bus(kind):
        raise BusError("no session bus: DBUS_SESSION_BUS_ADDRESS is not set")

    class Last:
        name, got = "last", []

        def notify(self, title, message):
            self.got.append(title)
            return True

    chain = FallbackNotifier([DBusNotifier(open_bus=no_bus), Last()])
    assert chain.notify("Sit up", "x", kind="posture") and chain.active == "last"


def test_a_click_in_dunst_reaches_the_daemon(desk):
    proc = spawn_run("--source", str(clips.pose_log(UPRIGHT_CLIP)), "--realtime",
                     "--break-after", "0.1", env=desk.env)
    try:
        wait_for(lambda: desk.displayed() == 1, timeout=60)  # the break reminder
        assert status_or_none()["notifier"] == "d-bus"
        seated = status_or_none()["seated_min"]
        desk.click("Taking a break")
        wait_for(lambda: status_or_none()["seated_min"] < seated, timeout=5)
        wait_for(lambda: desk.displayed() == 1, timeout=5)  # dunst closed the clicked one
        wait_for(lambda: desk.displayed() == 2, timeout=60)  # sat another 6 s: the next one
        desk.click("In 10 min")
        wait_for(lambda: "break reminder put off" in log_text(), timeout=5)
    finally:
        stop(proc)
    assert "notification button: break" in log_text()
    assert "notification button: later" in log_text()
