"""The monitor: tracker + timer, pause, snooze, daily totals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from posturewatch.core import advice
from posturewatch.core.breaks import BreakConfig, BreakTimer
from posturewatch.core.events import BreakDue, PostureAlert
from posturewatch.core.monitor import Monitor
from posturewatch.core.observation import Observation


def obs(t, present=True):
    return Observation(t, None, present, None)


@dataclass
class Score:
    total: float
    reasons: tuple


class ScriptedTracker:
    """Poor from t=10 s, alerts at t=15 s."""

    def __init__(self):
        self.state, self.score = "good", Score(90.0, ())

    def update(self, o):
        self.state = "poor" if o.t >= 10 else "good"
        self.score = Score(40.0, ("head_drop",)) if self.state == "poor" else Score(90.0, ())
        return [PostureAlert(o.t, 10.0, ("head_drop",), 40.0)] if o.t == 15 else []


def monitor(tracker=None):
    return Monitor(BreakTimer(BreakConfig(break_after_s=20, break_away_s=30,
                                          brief_absence_s=5, remind_every_s=600)), tracker)


def run(m, times, present=True):
    return [e for t in times for e in m.update(obs(float(t), present), float(t))]


def test_posture_and_break_events_come_out_together_and_totals_add_up():
    m = monitor(ScriptedTracker())
    events = run(m, range(0, 30))
    assert [type(e) for e in events] == [PostureAlert, BreakDue]
    assert m.totals.seated_s == pytest.approx(29.0)
    assert m.totals.good_share == pytest.approx(9 / 29)  # the step up to each sample
    assert "breaks taken 0" in m.totals.line() and "good posture 31%" in m.totals.line()


def test_snooze_silences_notifications_but_time_keeps_counting():
    m = monitor(ScriptedTracker())
    m.snooze(0.0, 100.0)
    assert run(m, range(0, 30)) == []
    assert m.breaks.seated_s == pytest.approx(29.0)
    assert m.status(29.0).snoozed_until == 100.0


def test_pause_stops_counting_and_resume_restarts_the_clock():
    m = monitor()
    run(m, range(0, 10))
    m.pause(10.0, 60.0)
    assert run(m, range(10, 70)) == []
    assert m.status(20.0).state == "paused"
    run(m, range(70, 75))  # the pause ran out at 70
    assert m.breaks.seated_s == pytest.approx(9.0 + 4.0)
    m.pause(80.0)
    assert m.status(10_000.0).paused_until == float("inf")
    m.resume(10_000.0)
    assert m.status(10_000.0).paused_until is None


def test_without_a_tracker_only_breaks_work_and_status_says_so():
    m = monitor()
    assert [type(e) for e in run(m, range(0, 25))] == [BreakDue]
    status = m.status(25.0)
    assert status.posture_alerts is False and status.state == "watching" and status.score is None


def test_take_break_counts_in_the_totals_and_new_day_starts_empty():
    m = monitor()
    run(m, range(0, 10))
    m.take_break(10.0)
    assert m.status(10.0).next_break_s == 20.0
    totals = m.take_totals()
    assert totals.breaks == 1 and m.totals.breaks == 0


def test_advice_names_the_problem_and_one_thing_to_do():
    alert = PostureAlert(1.0, 0.0, ("head_drop",), 30.0)
    message = advice.posture_message(alert)
    assert message.body == "Your head has dropped towards your chest — sit back and lift your chest."
    later = advice.posture_message(PostureAlert(1.0, 0.0, ("lean_in",), 30.0, repeat=2))
    assert later.body.startswith("You are leaning in") and "short walk" in later.body
    names = [advice.stretch(i)[0] for i in range(8)]
    assert names[:7] == [s[0] for s in advice.STRETCHES] and names[7] == names[0]
    for _, how in advice.STRETCHES:
        assert "diagnos" not in how and how


def _everything(m):
    """The monitor's whole state, its timer's and its tracker's included."""
    return (m.paused_until, m.snoozed_until, m.totals, m.last_t, m.presence,
            dict(vars(m.breaks)), dict(vars(m.tracker)) if m.tracker is not None else None)


def test_status_never_changes_the_state():
    """Asking must not act: a pause that ran out used to end inside `status`, restarting
    the break clock; now it ends on the update path (`tick`) only."""
    m = monitor(ScriptedTracker())
    run(m, range(0, 10))
    m.snooze(10.0, 20.0)
    m.pause(10.0, 60.0)
    before = _everything(m)
    for now in (15.0, 30.0, 69.9, 70.0, 500.0):  # during both, after the snooze, after both
        m.status(now), m.is_paused(now), m.is_snoozed(now)
        assert _everything(m) == before, now
    over = m.status(500.0)
    assert over.state != "paused" and over.paused_until is None and over.snoozed_until is None
    assert m.breaks.last_t == 9.0  # the break clock did not restart
    m.tick(500.0)
    assert (m.paused_until, m.snoozed_until, m.breaks.last_t) == (None, None, None)
