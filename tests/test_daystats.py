"""core/daystats.py: minute and event records -> days, totals, trend (pure, table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from posturewatch.core.daystats import Counts, day_slots, day_stats, period, period_json, totals
from posturewatch.core.history import EventRecord, MinuteRecord, WallTime

D1 = dt.date(2026, 1, 1)
T0 = 1_767_225_600.0  # D1 00:00 UTC


def at(day: dt.date, hh: int, mm: int, offset: int = 0) -> float:
    """Epoch seconds of local hh:mm on `day` at UTC offset `offset`."""
    return T0 + (day - D1).days * 86400 + hh * 3600 + mm * 60 - offset


def minutes(day, hh, mm, count, state="good", run0=0.0, session=1, offset=0, seq0=0, **extra):
    """`count` full minutes from local hh:mm, the sitting timer counting on from run0."""
    return [MinuteRecord(at(day, hh, mm, offset) + 60 * i, offset, **{f"{state}_s": 60.0},
                         seated_run_s=run0 + 60.0 * (i + 1) if state != "away" else run0,
                         session=session, seq=seq0 + i, **extra) for i in range(count)]


def event(day, hh, mm, kind, **kw):
    return EventRecord(WallTime(at(day, hh, mm)), kind, **kw)


def one_day(ms, es=(), day=D1):
    return day_stats(ms, es, day, day)[0].counts


# --- a day ---------------------------------------------------------------------------

def test_a_plain_day_adds_up():
    ms = (minutes(D1, 9, 0, 30, "good") + minutes(D1, 9, 30, 10, "poor", 1800, seq0=30)
          + minutes(D1, 9, 40, 5, "away", 2400, seq0=40))
    c = one_day(ms)
    assert (c.seated_s, c.good_s, c.poor_s, c.away_s) == (2400, 1800, 600, 300)
    assert c.good_share == pytest.approx(0.75) and c.recorded_s == 2700
    assert c.longest_seated_s == 2400


@pytest.mark.parametrize("kind, kw, field, value", [
    ("posture_alert", {}, "alerts", 1),
    ("break_due", {"repeat": 0}, "breaks_due", 1),
    ("break_due", {"repeat": 2}, "breaks_due", 0),  # a repeated reminder is the same break due
    ("break_due", {"repeat": 2}, "reminders", 1),
    ("break_taken", {"detail": "away"}, "breaks_away", 1),
    ("break_taken", {"detail": "standing"}, "breaks_standing", 1),
    ("break_taken", {"detail": "command"}, "breaks_command", 1),
    ("break_taken", {"detail": "command"}, "breaks_taken", 1),
    ("snooze", {"seconds": 1800.0}, "snoozes", 1),
    ("pause", {"detail": "screen locked"}, "pauses", 1),
    ("resume", {}, "pauses", 0),
])
def test_events_are_counted(kind, kw, field, value):
    assert getattr(one_day([], [event(D1, 10, 0, kind, **kw)]), field) == value


def test_a_break_restarts_the_longest_stretch():
    ms = (minutes(D1, 9, 0, 50, "good")  # 50 min
          + minutes(D1, 9, 50, 3, "away", 3000, seq0=50)  # a break: the timer resets
          + minutes(D1, 9, 53, 20, "good", 0, seq0=53))  # 20 min
    assert one_day(ms).longest_seated_s == 50 * 60


def test_the_longest_stretch_is_never_longer_than_the_time_seated():
    """The timer counts brief absences as seated; the day's seated time does not."""
    ms = [MinuteRecord(at(D1, 9, 0), good_s=30.0, away_s=30.0, seated_run_s=60.0, seq=1)]
    assert one_day(ms).longest_seated_s == 30.0


# --- days without data, midnight, clock jumps ------------------------------------------

def test_days_without_data_are_listed_with_zeros():
    days = day_stats(minutes(D1, 9, 0, 10), [], D1 - dt.timedelta(days=2), D1 + dt.timedelta(days=1))
    assert [d.date.isoformat() for d in days] == ["2025-12-30", "2025-12-31", "2026-01-01",
                                                  "2026-01-02"]
    assert [d.has_data for d in days] == [False, False, True, False]
    assert days[0].counts == Counts()
    assert totals(days).days_with_data == 1 and totals(days).days == 4


def test_no_data_at_all_gives_empty_days_and_no_trend():
    p = period([], [], D1, 7)
    assert len(p.days) == 7 and not any(d.has_data for d in p.days)
    assert p.totals.counts.good_share is None and p.trend.good_share is None
    data = period_json(p)
    assert data["totals"]["seated_s"] == 0 and data["trend"]["good_share_change"] is None


def test_midnight_inside_a_session_splits_time_and_the_stretch_between_the_days():
    d2 = D1 + dt.timedelta(days=1)
    ms = minutes(D1, 23, 40, 50, "good", run0=600)  # 23:40 -> 00:30, sat since 23:30
    days = day_stats(ms, [event(D1, 23, 59, "posture_alert"),
                          event(d2, 0, 1, "posture_alert")], D1, d2)
    assert [d.counts.seated_s for d in days] == [20 * 60, 30 * 60]
    assert [d.counts.alerts for d in days] == [1, 1]
    # the 10 min before 23:40 were not recorded (seated_s caps it); after midnight, 30 min
    assert [d.counts.longest_seated_s for d in days] == [20 * 60, 30 * 60]
    assert [s.minute for s in day_slots(ms, d2)][:2] == [0, 1]


def test_midnight_is_local_midnight():
    ms = minutes(D1, 23, 50, 20, offset=3600)  # 23:50-00:10 at UTC+1 (22:50-23:10 UTC)
    d2 = D1 + dt.timedelta(days=1)
    assert [d.counts.seated_s for d in day_stats(ms, [], D1, d2)] == [600, 600]


def test_a_daylight_saving_change_inside_a_day_keeps_each_minute_on_its_own_offset():
    before = minutes(D1, 1, 0, 60, offset=3600)
    after = minutes(D1, 3, 0, 60, offset=7200, run0=3600, seq0=60)
    (day,) = day_stats(before + after, [], D1, D1)
    assert day.counts.seated_s == 7200 and day.counts.longest_seated_s == 7200
    assert [s.minute for s in day_slots(before + after, D1)][59:61] == [119, 180]


def test_a_clock_jump_back_files_minutes_twice_and_they_add_up():
    first = minutes(D1, 10, 0, 30, "good")  # 10:00-10:30, then the clock goes back 20 min
    again = minutes(D1, 10, 10, 30, "poor", run0=1800, seq0=30)  # 10:10-10:40 again
    (day,) = day_stats(first + again, [], D1, D1)
    assert day.counts.seated_s == 3600 and day.counts.poor_s == 1800
    assert day.counts.longest_seated_s == 3600  # write order, not wall time, orders the timer
    slots = day_slots(first + again, D1)
    assert len(slots) == 40 and max(s.seconds for s in slots) == 120


def test_a_clock_jump_forward_counts_nothing_for_the_gap():
    ms = minutes(D1, 10, 0, 10) + minutes(D1, 14, 0, 10, run0=600, seq0=10)
    (day,) = day_stats(ms, [], D1, D1)
    assert day.counts.seated_s == 1200 and day.counts.longest_seated_s == 1200


def test_a_clock_jump_back_over_midnight_files_minutes_under_the_day_before():
    d2 = D1 + dt.timedelta(days=1)
    ms = minutes(d2, 0, 5, 10) + minutes(D1, 23, 0, 10, run0=600, seq0=10)
    days = day_stats(ms, [], D1, d2)
    assert [d.counts.seated_s for d in days] == [600, 600]
    assert days[0].counts.longest_seated_s == 600


def test_a_new_session_starts_a_new_stretch():
    ms = minutes(D1, 9, 0, 20, session=1) + minutes(D1, 9, 30, 20, session=2, seq0=20)
    assert one_day(ms).longest_seated_s == 20 * 60


# --- the period and the trend -----------------------------------------------------------

def test_the_trend_compares_with_the_period_before():
    last = D1 + dt.timedelta(days=13)
    previous = minutes(D1, 9, 0, 60, "good") + minutes(D1, 10, 0, 60, "poor", 3600, seq0=60)
    current = minutes(last, 9, 0, 90, "good", seq0=200) + minutes(last, 10, 30, 30, "poor", 5400,
                                                                  seq0=300)
    p = period(previous + current, [event(last, 9, 30, "break_due"),
                                    event(last, 9, 40, "break_taken", detail="away")], last, 7)
    assert p.totals.days_with_data == 1 and p.trend.previous.days_with_data == 1
    assert p.trend.good_share == pytest.approx(0.75 - 0.5)
    assert p.trend.seated_per_day_s == pytest.approx(0.0)
    assert p.trend.break_share is None  # nothing was due before
    assert p.totals.break_share == 1.0


def test_the_json_contract():
    p = period(minutes(D1, 9, 0, 3), [event(D1, 9, 1, "posture_alert")], D1, 2)
    data = period_json(p)
    assert set(data) >= {"days", "totals", "trend"}
    day = data["days"][-1]
    for key in ("date", "seated_s", "good_s", "poor_s", "away_s", "alerts", "breaks_due",
                "breaks_taken", "longest_seated_s"):
        assert key in day and key in data["totals"] or key == "date"
    assert day["date"] == "2026-01-01" and day["seated_s"] == 180 and day["alerts"] == 1
    assert data["days"][0] == {**data["days"][0], "date": "2025-12-31", "seated_s": 0.0,
                               "has_data": False}


def test_a_period_needs_at_least_a_day():
    with pytest.raises(ValueError, match="days must be >= 1"):
        period([], [], D1, 0)
