"""core/history.py: samples -> minute records, events -> event records (pure, no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from posturewatch.core.events import (BreakDue, BreakTaken, PostureAlert, PostureRecovered,
                                      UserAway)
from posturewatch.core.history import (EventRecord, MinuteBuilder, MinuteRecord, Sample,
                                       WallTime, break_how, column, event_record, local_date)

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC, a Thursday


def feed(samples):
    builder, out = MinuteBuilder(), []
    for s in samples:
        out += builder.update(s)
    return out, builder


def steady(start, count, step=1.0, state="good", offset=0, **kw):
    """`count` samples `step` apart from `start`; the first stands for no time."""
    return [Sample(WallTime(start + i * step, offset), step if i else 0.0, state, **kw)
            for i in range(count)]


@pytest.mark.parametrize("t, offset, expected", [
    (T0, 0, dt.date(2026, 1, 1)),
    (T0 - 1, 0, dt.date(2025, 12, 31)),
    (T0 - 1800, 3600, dt.date(2026, 1, 1)),  # 23:30 UTC is 00:30 at UTC+1
    (T0 + 1800, -3600, dt.date(2025, 12, 31)),  # 00:30 UTC is 23:30 at UTC-1
    (T0 + 13 * 3600, 14 * 3600, dt.date(2026, 1, 2)),  # Kiribati
])
def test_local_date_uses_the_offset_recorded_with_the_time(t, offset, expected):
    assert local_date(t, offset) == expected == WallTime(t, offset).local_date


@pytest.mark.parametrize("state, expected", [
    ("good", "good"), ("poor", "poor"), ("looking_down", "looking_down"), ("away", "away"),
    ("standing", "standing"), ("uncertain", "uncertain"),
    ("watching", "uncertain"),  # no profile: at the desk, posture not judged
    ("starting", "uncertain"), ("something_new", "uncertain"),
])
def test_monitor_states_map_to_columns(state, expected):
    assert column(state) == expected


def test_one_minute_of_samples_is_one_record_when_flushed():
    done, builder = feed(steady(T0 + 5, 50))
    assert done == [] and builder.pending_s == pytest.approx(49.0)
    (m,) = builder.flush()
    assert (m.start, m.good_s, m.recorded_s) == (T0, 49.0, 49.0)
    assert builder.pending_s == 0 and builder.flush() == []


def test_a_minute_is_handed_out_when_the_next_begins_and_the_step_is_split_at_the_boundary():
    samples = steady(T0 + 50, 5, step=5.0, state="good")  # 50, 55, 60, 65, 70
    done, builder = feed(samples)
    assert len(done) == 1
    assert done[0].start == T0 and done[0].good_s == pytest.approx(10.0)  # 50->55, 55->60
    (rest,) = builder.flush()
    assert rest.start == T0 + 60 and rest.good_s == pytest.approx(10.0)


def test_a_step_over_the_boundary_is_shared_between_the_two_minutes():
    samples = [Sample(WallTime(T0 + 58), 0.0, "good"), Sample(WallTime(T0 + 61), 3.0, "good")]
    done, builder = feed(samples)
    assert done[0].good_s == pytest.approx(2.0)  # 58->60
    assert builder.flush()[0].good_s == pytest.approx(1.0)  # 60->61


def test_a_change_of_state_between_two_samples_gives_each_state_half_the_step():
    """Away is sampled every 5 s: nobody knows when in those 5 s the user came back."""
    samples = [Sample(WallTime(T0 + 10 + 5 * i), 5.0 if i else 0.0, "away") for i in range(3)]
    samples += [Sample(WallTime(T0 + 25 + i), 1.0 if i else 5.0, "good") for i in range(5)]
    (m,) = feed(samples)[1].flush()
    assert (m.away_s, m.good_s) == (pytest.approx(10.0 + 2.5), pytest.approx(2.5 + 4.0))


def test_the_halves_of_a_step_over_the_boundary_go_to_their_own_minutes():
    samples = [Sample(WallTime(T0 + 55), 0.0, "good"), Sample(WallTime(T0 + 61), 6.0, "away")]
    done, builder = feed(samples)
    assert (done[0].good_s, done[0].away_s) == (pytest.approx(3.0), pytest.approx(2.0))
    assert builder.flush()[0].away_s == pytest.approx(1.0)


@pytest.mark.parametrize("jump", [+7200.0, -7200.0, -30.0])
def test_a_wall_clock_jump_neither_creates_nor_loses_time(jump):
    """Durations come from the monitor's clock; the wall clock only files samples."""
    before = steady(T0 + 100, 30)  # 29 s
    after = [Sample(WallTime(T0 + 130 + jump + i), 1.0, "poor") for i in range(20)]  # 20 s
    done, builder = feed(before + after)
    records = done + builder.flush()
    assert sum(m.recorded_s for m in records) == pytest.approx(49.0)
    assert sum(m.poor_s for m in records) == pytest.approx(19.5)  # half the first step was good


def test_a_jump_back_files_a_second_row_under_an_earlier_minute():
    samples = steady(T0 + 120, 10) + [Sample(WallTime(T0 + 60 + i), 1.0, "good") for i in range(5)]
    done, builder = feed(samples)
    records = done + builder.flush()
    assert [m.start for m in records] == [T0 + 120, T0 + 60]


def test_scores_reasons_and_the_sitting_timer_are_kept_per_minute():
    samples = ([Sample(WallTime(T0 + i), 1.0, "poor", 60.0, ("lean_in", "head_drop"), 100 + i)
                for i in range(10)]
               + [Sample(WallTime(T0 + 10 + i), 1.0, "poor", 80.0, ("head_drop",), 110 + i)
                  for i in range(20)]
               + [Sample(WallTime(T0 + 30), 1.0, "away", None, (), 130)])
    (m,) = feed(samples)[1].flush()
    assert m.score_n == 30 and m.score_mean == pytest.approx((10 * 60 + 20 * 80) / 30)
    assert m.reasons == ("head_drop", "lean_in")  # most seconds first
    assert m.seated_run_s == 130 and m.away_s == 0.5  # poor -> away: half the step each


def test_minute_records_refuse_negative_seconds():
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        MinuteRecord(T0, good_s=-1.0)


# --- events ------------------------------------------------------------------------

class StandingBreak(BreakTaken):
    how = "standing"


@pytest.mark.parametrize("event, expected", [
    (BreakTaken(10.0, 1800.0, 130.0), "away"),
    (BreakTaken(10.0, 1800.0, 0.0), "command"),  # `posturewatch break`
    (StandingBreak(10.0, 1800.0, 0.0), "standing"),  # the presence rule says how
])
def test_how_a_break_was_taken(event, expected):
    assert break_how(event) == expected


W = WallTime(T0 + 3600, 3600)


@pytest.mark.parametrize("event, expected", [
    (PostureAlert(50.0, 20.0, ("head_drop", "lean_in"), 72.5, 1),
     EventRecord(W, "posture_alert", 30.0, 72.5, 1, "head_drop lean_in")),
    (PostureRecovered(90.0, 20.0, ("lean_in",), 80.0),
     EventRecord(W, "posture_recovered", 70.0, 80.0, 0, "lean_in")),
    (BreakDue(1800.0, 1800.0, 2), EventRecord(W, "break_due", 1800.0, None, 2)),
    (BreakTaken(2000.0, 1900.0, 125.0), EventRecord(W, "break_taken", 1900.0, None, 0, "away")),
    (UserAway(5.0), None),  # the minutes say when nobody was there
])
def test_monitor_events_become_records(event, expected):
    assert event_record(event, W) == expected


def test_an_unknown_event_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        EventRecord(W, "posture_alrt")
