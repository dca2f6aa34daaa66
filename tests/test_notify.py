"""Notifications against a real notification server (dunst on Xvfb), and without one."""

from __future__ import annotations

import logging
import time

import pytest
from daemon_support import hanging_notify_send, started_pids, still_running, wait_for
from desktop import desktop_session

from posturewatch.adapters.notify import (
    BackgroundNotifier,
    ConsoleNotifier,
    FallbackNotifier,
    NotifySendNotifier,
    PlyerNotifier,
    default_notifier,
)


@pytest.fixture(scope="module")
def desk():
    with desktop_session() as session:
        yield session


@pytest.fixture
def no_bus_env(tmp_path, monkeypatch):
    """A session whose D-Bus socket is dead, as after the desktop crashed."""
    dead = f"unix:path={tmp_path}/no-such-bus"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dead)
    return {"PATH": "/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS": dead, "DISPLAY": ":9999"}


class Flaky:
    def __init__(self, name, results):
        self.name, self.results, self.calls = name, list(results), 0

    def notify(self, title, message):
        self.calls += 1
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


@pytest.mark.desktop
def test_default_chain_delivers_exact_text_to_the_server(desk, monkeypatch):
    for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        monkeypatch.setenv(key, desk.env[key])  # plyer reads the process environment
    notifier = default_notifier(desk.env)
    title, body = "Sit up straight", "You have been slouching for 2 minutes - roll your shoulders back."
    assert notifier.notify(title, body) is True
    assert notifier.active in ("d-bus", "plyer", "notify-send")  # d-bus first since issue 10
    last = desk.history()[-1]
    assert (last["summary"], last["body"], last["appname"]) == (title, body, "posturewatch")


@pytest.mark.desktop
def test_notify_send_alone_reaches_dunst(desk):
    assert NotifySendNotifier(env=desk.env).notify("-Break time", "Stand up & stretch") is True
    last = desk.history()[-1]
    assert (last["summary"], last["body"], last["appname"]) == (
        "-Break time", "Stand up & stretch", "posturewatch")


def test_without_a_bus_falls_back_to_console(no_bus_env, capsys, caplog):
    notifier = default_notifier(no_bus_env)
    with caplog.at_level(logging.WARNING, logger="posturewatch.adapters.notify"):
        assert notifier.notify("Break due", "50 minutes of sitting") is True
        assert notifier.notify("Break due", "again") is True
    assert notifier.active == "console"
    assert "posturewatch: Break due: 50 minutes of sitting" in capsys.readouterr().err
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == len(notifier.chain) - 1  # once per failing notifier, not per call


def test_notify_send_missing_or_failing_is_false(tmp_path):
    assert NotifySendNotifier(executable=str(tmp_path / "nope")).notify("t", "m") is False
    assert NotifySendNotifier(executable="false").notify("t", "m") is False


def test_notify_send_times_out(tmp_path):
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    assert NotifySendNotifier(executable=str(slow), timeout=0.2).notify("t", "m") is False


def test_a_hung_notify_send_is_killed_with_everything_it_started(tmp_path):
    folder, pids = hanging_notify_send(tmp_path)
    notifier = NotifySendNotifier(executable=str(folder / "notify-send"), timeout=0.5)
    start = time.monotonic()
    assert notifier.notify("t", "m") is False
    assert time.monotonic() - start < 2.0
    assert notifier.last_error == "no answer within 0.5 s; stopped it"
    assert len(started_pids(pids)) == 2  # the script and the child it started
    assert still_running(pids) == []


def hung_chain(tmp_path) -> tuple[FallbackNotifier, object]:
    folder, pids = hanging_notify_send(tmp_path)
    return FallbackNotifier([NotifySendNotifier(executable=str(folder / "notify-send"),
                                                timeout=60)]), pids


def test_background_notify_returns_at_once_and_close_kills_a_hung_helper(tmp_path, caplog):
    chain, pids = hung_chain(tmp_path)
    notifier = BackgroundNotifier(chain)
    start = time.monotonic()
    assert notifier.notify("Time for a break", "Stand up") is True
    assert time.monotonic() - start < 0.1  # queued, not sent
    wait_for(lambda: len(started_pids(pids)) == 2)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="posturewatch.adapters.notify"):
        notifier.close(wait_s=0.2)
    assert time.monotonic() - start < 1.5
    assert still_running(pids) == []
    assert "still being sent at exit; cancelled it" in caplog.text


def test_background_queue_is_bounded_and_says_what_it_drops(tmp_path, caplog):
    chain, pids = hung_chain(tmp_path)
    notifier = BackgroundNotifier(chain, max_pending=3)
    try:
        notifier.notify("first", "in flight")
        wait_for(lambda: started_pids(pids))
        with caplog.at_level(logging.WARNING, logger="posturewatch.adapters.notify"):
            queued = [notifier.notify(f"n{i}", "waits") for i in range(5)]
        assert queued == [True, True, True, False, False]
        assert "notification 'n3' dropped: 3 earlier ones still wait" in caplog.text
    finally:
        notifier.close(wait_s=0.0)


def test_background_delivers_in_order_and_close_waits_for_the_queue():
    delivered = []

    class Slow:
        name, active = "slow", "slow"

        def notify(self, title, message):
            time.sleep(0.05)
            delivered.append(title)
            return True

    notifier = BackgroundNotifier(Slow())
    for title in ("a", "b", "c"):
        notifier.notify(title, "x")
    assert notifier.active == "slow"
    notifier.close(wait_s=5.0)
    assert delivered == ["a", "b", "c"]


def test_fallback_remembers_active_and_recovers(caplog):
    first = Flaky("first", [False, RuntimeError("boom"), True])
    second = Flaky("second", [True, True])
    notifier = FallbackNotifier([first, second])
    assert notifier.active == ""
    with caplog.at_level(logging.INFO, logger="posturewatch.adapters.notify"):
        assert notifier.notify("a", "b") and notifier.active == "second"
        assert notifier.notify("a", "b") and notifier.active == "second"
        assert notifier.notify("a", "b") and notifier.active == "first"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("first failed" in m for m in messages) == 1
    assert any("first work again" in m for m in messages)


def test_fallback_all_failing_returns_false_without_raising():
    notifier = FallbackNotifier([Flaky("a", [OSError("x")]), Flaky("b", [False])])
    assert notifier.notify("t", "m") is False
    assert notifier.active == ""


def test_fallback_needs_a_chain():
    with pytest.raises(ValueError, match="empty chain"):
        FallbackNotifier([])


def test_console_always_delivers(capsys):
    assert ConsoleNotifier().notify("Title", "Body") is True
    assert capsys.readouterr().err == "posturewatch: Title: Body\n"


class NotifySendNotification:  # same class name as plyer's Linux subprocess backend
    def notify(self, **kwargs):
        raise AssertionError("must not be called: it cannot report failures")


class NotifyDbus:  # same class name as plyer's D-Bus backend
    def __init__(self, error=None):
        self.error, self.calls = error, []

    def notify(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error


def test_plyer_declines_backends_that_hide_failures():
    notifier = PlyerNotifier(NotifySendNotification())
    assert notifier.usable() is False
    assert notifier.notify("t", "m") is False


def test_plyer_dbus_backend_delivers_with_app_name():
    backend = NotifyDbus()
    assert PlyerNotifier(backend).notify("Title", "Body") is True
    assert backend.calls[0]["app_name"] == "posturewatch"
    assert (backend.calls[0]["title"], backend.calls[0]["message"]) == ("Title", "Body")


def test_plyer_failure_is_false():
    assert PlyerNotifier(NotifyDbus(error=RuntimeError("no server"))).notify("t", "m") is False


def test_real_plyer_backend_is_resolved_quietly(capsys):
    PlyerNotifier().backend()
    assert capsys.readouterr().err == ""


class Notification:  # plyer's empty facade, when no backend could be loaded
    def notify(self, **kwargs):
        raise NotImplementedError("No usable implementation found!")


def test_plyer_without_a_backend_is_not_used():
    assert PlyerNotifier(Notification()).usable() is False
