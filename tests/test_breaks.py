"""The sitting timer, table-driven: presence over time in, events out."""

from __future__ import annotations

import pytest

from posturewatch.core.breaks import BreakConfig, BreakTimer
from posturewatch.core.events import BreakDue, BreakTaken, UserAway, UserReturned

CONFIG = BreakConfig(break_after_s=60, break_away_s=30, brief_absence_s=5, remind_every_s=20)


def replay(timeline, config=CONFIG, step=1.0):
    """timeline: [(seconds, present)], sampled every `step` s; returns (timer, events)."""
    timer, events, t = BreakTimer(config), [], 0.0
    for seconds, present in timeline:
        for _ in range(int(seconds / step)):
            events += [(t, e) for e in timer.update(present, t)]
            t += step
    return timer, events


def kinds(events):
    return [type(e).__name__ for _, e in events]


@pytest.mark.parametrize("timeline, expected", [
    ([(59, True)], []),
    ([(62, True)], ["BreakDue"]),
    ([(62 + 20, True)], ["BreakDue", "BreakDue"]),  # re-reminds after remind_every
    ([(40, True), (4, False), (25, True)], ["BreakDue"]),  # a brief absence still counts
    ([(40, True), (10, False), (15, True)], ["UserAway", "UserReturned"]),  # neither
    ([(40, True), (40, False), (40, True)], ["UserAway", "BreakTaken", "UserReturned"]),
])
def test_timelines(timeline, expected):
    assert kinds(replay(timeline)[1]) == expected


def test_brief_absence_time_counts_as_seated():
    timer, _ = replay([(10, True), (4, False), (10, True)])
    assert timer.seated_s == pytest.approx(23.0)


def test_a_middling_absence_pauses_the_clock_without_resetting_it():
    timer, _ = replay([(10, True), (10, False), (10, True)])
    assert timer.seated_s == pytest.approx(9.0 + 9.0)


def test_a_long_absence_is_a_break_reported_when_it_reaches_the_threshold():
    _, events = replay([(40, True), (40, False)])
    t, taken = next((t, e) for t, e in events if isinstance(e, BreakTaken))
    assert taken.away_s == pytest.approx(30.0) and taken.seated_s == pytest.approx(39.0)
    away = next(e for _, e in events if isinstance(e, UserAway))
    assert away.t == 40.0


def test_take_break_resets_the_sitting_clock():
    timer, _ = replay([(30, True)])
    taken = timer.take_break(30.0)
    assert taken.seated_s == pytest.approx(29.0) and timer.seated_s == 0


def test_snooze_defers_the_reminder_then_it_reminds_again():
    timer = BreakTimer(CONFIG)  # due after 60 s seated, again every 20 s
    timer.update(True, 0)
    timer.snooze(0, 100)
    events = [e for t in range(1, 150) for e in timer.update(True, float(t))]
    due = [e for e in events if isinstance(e, BreakDue)]
    assert [e.t for e in due] == [100.0, 120.0, 140.0]  # none while snoozed, then every 20 s
    assert [e.repeat for e in due] == [0, 1, 2]


def test_a_gap_longer_than_max_step_is_not_counted():
    timer = BreakTimer(CONFIG)
    timer.update(True, 0.0)
    timer.update(True, 1000.0)
    assert timer.seated_s == 0.0


def test_returned_reports_how_long_the_user_was_away():
    _, events = replay([(5, True), (12, False), (1, True)])
    returned = [e for _, e in events if isinstance(e, UserReturned)]
    assert returned and returned[0].away_s == pytest.approx(12.0)


@pytest.mark.parametrize("kwargs", [{"break_after_s": 0}, {"brief_absence_s": 30},
                                    {"remind_every_s": -1}])
def test_config_is_validated(kwargs):
    with pytest.raises(ValueError):
        BreakConfig(**{**CONFIG.__dict__, **kwargs})


def test_time_must_not_go_backwards():
    timer = BreakTimer(CONFIG)
    timer.update(True, 10.0)
    with pytest.raises(ValueError, match="backwards"):
        timer.update(True, 9.0)
