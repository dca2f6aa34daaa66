"""Pauses with a reason (core/holds.py) and what the loop does with them (app/daemon/holding.py):
a screen lock counts as away (a long one is a break), a busy camera as seated."""

from __future__ import annotations

import math

import pytest
from history_support import Notes
from test_daemon import person

from posturewatch.core import holds
from posturewatch.core.events import BreakDue, BreakTaken
from posturewatch.core.pose import TimedPose
from posturewatch.core.session import build_session
from posturewatch.core.settings import Settings
from posturewatch.app.daemon.loop import Daemon
from posturewatch.errors import UsageError


# --- the pure value ----------------------------------------------------------------

def test_holds_overlap_and_end_on_their_own():
    h = holds.Holds().hold(holds.CAMERA_BUSY).hold(holds.LOCKED, until=100.0)
    assert h.active(50.0) == (holds.LOCKED, holds.CAMERA_BUSY)
    assert h.counts_as(50.0) == holds.AWAY  # anyone's lock means nobody is there
    assert h.active(100.0) == (holds.CAMERA_BUSY,)  # the timed one ended
    assert h.counts_as(100.0) == holds.SEATED
    assert h.release(holds.CAMERA_BUSY).counts_as(50.0) == holds.AWAY
    assert h.release(holds.CAMERA_BUSY).release(holds.LOCKED).counts_as(0.0) is None


@pytest.mark.parametrize("user, reasons, shown", [
    (False, (), None),
    (True, (), "user"),
    (True, ("camera busy",), "user"),
    (False, ("camera busy",), "camera busy"),
    (True, ("screen locked", "camera busy"), "screen locked"),
    (False, ("suspend", "screen locked"), "suspend"),
])
def test_the_reason_shown(user, reasons, shown):
    assert holds.pause_reason(user, reasons) == shown


def test_a_hold_needs_a_known_reason():
    with pytest.raises(ValueError, match="reason"):
        holds.Holds((("lunch", math.inf),))
    with pytest.raises(ValueError, match="counts_as"):
        holds.assumed_observation(0.0, "asleep")


# --- in the loop ---------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class Feed:
    """A camera that always sees someone seated; counts its releases."""

    live = True

    def __init__(self, clock):
        self.clock, self.released, self.frames = clock, 0, 0

    def next(self, due):
        self.frames += 1
        return TimedPose(self.clock(), person())

    def release(self):
        self.released += 1

    def close(self):
        pass


def make_daemon(**settings):
    clock = Clock()
    s = Settings(source="0", **settings)
    daemon = Daemon(s, Feed(clock), build_session(s), Notes(), "", clock=clock)
    events = []
    on_event = daemon.on_event
    daemon.on_event = lambda e: (events.append(e), on_event(e))
    return daemon, clock, events


def sit(daemon, clock, seconds, step=1.0):
    """Samples as the loop does (one step per second), without the loop's waiting."""
    end = clock.t + seconds
    while clock.t < end:
        now = clock()
        if daemon.monitor.is_paused(now):
            daemon._paused(now)
        elif (counts_as := daemon.holds.counts_as(now)) is not None:
            daemon._held(now, counts_as)
        else:
            daemon._sampled(daemon.feed.next(now))
        clock.t += step


def test_a_lock_of_break_away_is_a_break_counted_at_unlock():
    daemon, clock, events = make_daemon(break_away=120.0)
    sit(daemon, clock, 300)
    seated = daemon.monitor.breaks.seated_s
    assert seated > 250
    status = daemon.handle("pause", {"reason": "screen locked"})
    assert status["paused"] is True and status["pause_reason"] == "screen locked"
    assert daemon.feed.released == 1 and status["camera"] == "released (screen locked)"
    sit(daemon, clock, 125, step=5.0)  # locked: the loop samples nothing, at the away rate
    frames = daemon.feed.frames
    status = daemon.handle("resume", {"reason": "screen locked"})
    assert status["paused"] is False and status["pause_reason"] is None
    assert [e for e in events if isinstance(e, BreakTaken)]  # the lock was a break
    assert daemon.monitor.breaks.seated_s == 0.0
    sit(daemon, clock, 10)
    assert daemon.feed.frames > frames  # watching again


def test_a_short_lock_is_no_break_and_its_time_is_not_seated():
    daemon, clock, events = make_daemon(break_away=120.0)
    sit(daemon, clock, 300)
    seated = daemon.monitor.breaks.seated_s
    daemon.handle("pause", {"reason": "screen locked"})
    clock.t += 60
    daemon.handle("resume", {"reason": "screen locked"})
    sit(daemon, clock, 5)
    assert not [e for e in events if isinstance(e, BreakTaken)]
    assert seated <= daemon.monitor.breaks.seated_s <= seated + 6  # the 60 s did not count


def test_a_busy_camera_counts_as_seated_and_is_said_once():
    daemon, clock, events = make_daemon(break_after=5.0, fps=1.0)
    sit(daemon, clock, 60)
    status = daemon.handle("pause", {"reason": "camera busy"})
    assert status["state"] == "camera busy" and status["pause_reason"] == "camera busy"
    assert daemon.feed.released == 1
    frames = daemon.feed.frames
    sit(daemon, clock, 300, step=5.0)
    assert daemon.feed.frames == frames  # the camera is left alone
    assert daemon.monitor.breaks.seated_s >= 355  # a call is seated time
    assert [e for e in events if isinstance(e, BreakDue)]  # breaks keep counting
    daemon.handle("resume", {"reason": "camera busy"})
    daemon.handle("pause", {"reason": "camera busy"})
    busy = [n for n in daemon.notifier.sent if n[0] == "Camera in use"]
    assert busy == [("Camera in use", "camera in use by another app — posture paused, "
                     "breaks keep counting")]


def test_the_users_resume_leaves_the_desktops_holds_alone():
    daemon, clock, _ = make_daemon()
    sit(daemon, clock, 5)
    daemon.handle("pause", {"reason": "screen locked"})
    daemon.handle("pause", {})
    assert daemon.handle("status", {})["pause_reason"] == "screen locked"
    status = daemon.handle("resume", {})
    assert status["paused"] is True and status["pause_reason"] == "screen locked"
    status = daemon.handle("resume", {"reason": "screen locked"})
    assert status["paused"] is False


def test_a_reason_must_be_known():
    daemon, _, _ = make_daemon()
    with pytest.raises(UsageError, match="reason must be one of"):
        daemon.handle("pause", {"reason": "lunch"})


def test_in_10_min_puts_off_only_the_break_reminder():
    daemon, clock, events = make_daemon(break_after=1.0)
    sit(daemon, clock, 61)
    assert len([e for e in events if isinstance(e, BreakDue)]) == 1
    status = daemon.handle("snooze", {"seconds": 600, "breaks_only": True})
    assert status["snoozed_until"] is None  # posture alerts still come
    sit(daemon, clock, 590)
    assert len([e for e in events if isinstance(e, BreakDue)]) == 1
    sit(daemon, clock, 15)
    assert len([e for e in events if isinstance(e, BreakDue)]) == 2
