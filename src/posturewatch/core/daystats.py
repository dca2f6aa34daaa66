"""History records -> per-day statistics, totals and the trend (pure).

`day_stats(minutes, events, first, last)` gives one `DayStats` for every local
date from `first` to `last`, days without data included (all zeros), so a
report never skips a day silently. Minutes and events are filed under the
local date of their own wall time, so a session that runs over midnight is
split between the two days. The longest seated stretch follows the sitting
timer (seated since the last break) minute by minute in write order: a break
restarts it, and midnight splits it (the part before belongs to the day
before). A wall clock that jumps back files minutes twice under the same
time; they add up, and write order keeps the stretch right.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass, fields, replace
from typing import Iterable, Sequence

from .history import BREAK_HOWS, STATES, EventRecord, MinuteRecord, local_date


@dataclass(frozen=True)
class Counts:
    """What a day (or a period) adds up to. Seconds are floats, counts ints."""

    seated_s: float = 0.0  # at the desk: good + poor + looking_down + uncertain
    good_s: float = 0.0
    poor_s: float = 0.0
    looking_down_s: float = 0.0
    standing_s: float = 0.0
    away_s: float = 0.0
    uncertain_s: float = 0.0
    alerts: int = 0  # posture notifications
    breaks_due: int = 0  # break reminders that were the first for their stretch
    reminders: int = 0  # every break reminder, repeats included
    breaks_taken: int = 0
    breaks_away: int = 0
    breaks_standing: int = 0
    breaks_command: int = 0
    snoozes: int = 0
    pauses: int = 0
    longest_seated_s: float = 0.0
    score_sum: float = 0.0  # for the mean posture score
    score_n: int = 0

    @property
    def recorded_s(self) -> float:
        return self.seated_s + self.standing_s + self.away_s

    @property
    def good_share(self) -> float | None:
        """Good posture as a share of the time it was judged good or poor (None: never judged)."""
        judged = self.good_s + self.poor_s
        return self.good_s / judged if judged > 0 else None

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.score_n if self.score_n else None

    def __add__(self, other: "Counts") -> "Counts":
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        values["longest_seated_s"] = max(self.longest_seated_s, other.longest_seated_s)
        return Counts(**values)


@dataclass(frozen=True)
class DayStats:
    date: _dt.date
    counts: Counts
    reasons: tuple[tuple[str, float], ...] = ()  # (reason, seconds of minutes it was seen)

    @property
    def has_data(self) -> bool:
        return self.counts.recorded_s > 0 or self.counts.alerts > 0 or self.counts.breaks_taken > 0


@dataclass(frozen=True)
class Totals:
    counts: Counts
    days: int  # days in the period
    days_with_data: int
    reasons: tuple[tuple[str, float], ...] = ()

    @property
    def seated_per_day_s(self) -> float | None:
        return self.counts.seated_s / self.days_with_data if self.days_with_data else None

    @property
    def break_share(self) -> float | None:
        """Breaks taken per break due (None when none was due)."""
        c = self.counts
        return min(1.0, c.breaks_taken / c.breaks_due) if c.breaks_due else None

    @property
    def alerts_per_hour(self) -> float | None:
        hours = self.counts.seated_s / 3600
        return self.counts.alerts / hours if hours > 0 else None


@dataclass(frozen=True)
class Trend:
    """This period against the one before it; None where either has nothing to compare."""

    previous: Totals
    good_share: float | None  # change in share: +0.05 is five points better
    seated_per_day_s: float | None
    break_share: float | None
    alerts_per_hour: float | None


@dataclass(frozen=True)
class Period:
    days: tuple[DayStats, ...]
    totals: Totals
    trend: Trend


# --- minutes and events ---------------------------------------------------------------

def _minute_counts(ms: Sequence[MinuteRecord]) -> Counts:
    """The minutes' seconds added up (one pass per field: a year is ~200 000 minutes)."""
    def total(name: str) -> float:
        return sum(getattr(m, name) for m in ms)

    return Counts(seated_s=sum(m.seated_s for m in ms), good_s=total("good_s"),
                  poor_s=total("poor_s"), looking_down_s=total("looking_down_s"),
                  standing_s=total("standing_s"), away_s=total("away_s"),
                  uncertain_s=total("uncertain_s"),
                  score_sum=sum((m.score_mean or 0.0) * m.score_n for m in ms),
                  score_n=sum(m.score_n for m in ms))


def _event_counts(es: Sequence[EventRecord]) -> Counts:
    kinds = Counter(e.kind for e in es)
    how = Counter(e.detail if e.detail in BREAK_HOWS else "away"
                  for e in es if e.kind == "break_taken")
    return Counts(alerts=kinds["posture_alert"], reminders=kinds["break_due"],
                  breaks_due=sum(1 for e in es if e.kind == "break_due" and e.repeat == 0),
                  breaks_taken=kinds["break_taken"], breaks_away=how["away"],
                  breaks_standing=how["standing"], breaks_command=how["command"],
                  snoozes=kinds["snooze"], pauses=kinds["pause"])


def by_date(items: Iterable, first: _dt.date, last: _dt.date) -> dict[_dt.date, list]:
    """Minutes or events grouped by their local date, for every date from first to last."""
    groups: dict[_dt.date, list] = {d: [] for d in dates(first, last)}
    for item in items:
        group = groups.get(item.local_date)
        if group is not None:
            group.append(item)
    return groups


def longest_stretches(minutes: Sequence[MinuteRecord]) -> dict[_dt.date, float]:
    """date -> the longest time seated without a break, from the sitting timer."""
    longest: dict[_dt.date, float] = {}
    prev: MinuteRecord | None = None
    prev_day, base = None, 0.0
    for m in sorted(minutes, key=lambda m: m.seq):
        run, day = m.seated_run_s, m.local_date
        if prev is None or prev.session != m.session or run < prev.seated_run_s - 1e-6:
            base = 0.0  # a new session, or a break restarted the timer
        elif prev_day != day:
            base = prev.seated_run_s  # midnight: what came before counts for the day before
        longest[day] = max(longest.get(day, 0.0), run - base)
        prev, prev_day = m, day
    return longest


def _reasons(minutes: Iterable[MinuteRecord]) -> tuple[tuple[str, float], ...]:
    weight: dict[str, float] = {}
    for m in minutes:
        for reason in m.reasons:
            weight[reason] = weight.get(reason, 0.0) + m.poor_s + m.looking_down_s
    return tuple(sorted(((r, w) for r, w in weight.items() if w > 0), key=lambda p: (-p[1], p[0])))


def dates(first: _dt.date, last: _dt.date) -> list[_dt.date]:
    return [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_stats(minutes: Sequence[MinuteRecord], events: Sequence[EventRecord],
              first: _dt.date, last: _dt.date) -> tuple[DayStats, ...]:
    """One DayStats per local date from `first` to `last` (inclusive), empty days included."""
    ms, es = by_date(minutes, first, last), by_date(events, first, last)
    longest = longest_stretches(minutes)
    days = []
    for day in ms:
        counts = _minute_counts(ms[day]) + _event_counts(es[day])
        # never longer than the day's seated time (the timer counts brief absences as seated)
        run = max(0.0, min(longest.get(day, 0.0), counts.seated_s))
        days.append(DayStats(day, replace(counts, longest_seated_s=run), _reasons(ms[day])))
    return tuple(days)


def totals(days: Sequence[DayStats]) -> Totals:
    total = Counts()
    weight: dict[str, float] = {}
    for day in days:
        total += day.counts
        for reason, w in day.reasons:
            weight[reason] = weight.get(reason, 0.0) + w
    reasons = tuple(sorted(weight.items(), key=lambda p: (-p[1], p[0])))
    return Totals(total, len(days), sum(d.has_data for d in days), reasons)


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def trend(current: Totals, previous: Totals) -> Trend:
    return Trend(previous,
                 _change(current.counts.good_share, previous.counts.good_share),
                 _change(current.seated_per_day_s, previous.seated_per_day_s),
                 _change(current.break_share, previous.break_share),
                 _change(current.alerts_per_hour, previous.alerts_per_hour))


def period(minutes: Sequence[MinuteRecord], events: Sequence[EventRecord],
           last: _dt.date, days: int) -> Period:
    """The `days` days up to `last` (inclusive), and the trend against the `days` before."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days!r}")
    both = day_stats(minutes, events, last - _dt.timedelta(days=2 * days - 1), last)  # one pass
    before, current = both[:days], both[days:]
    now = totals(current)
    return Period(current, now, trend(now, totals(before)))


def span(last: _dt.date, days: int) -> tuple[_dt.date, _dt.date]:
    """The first date `period` reads (the start of the previous period) and the last."""
    return last - _dt.timedelta(days=2 * days - 1), last


# --- the timeline of a day ----------------------------------------------------

@dataclass(frozen=True)
class Slot:
    """One minute of a day's timeline: the state it was mostly in."""

    minute: int  # minutes after local midnight, 0-1439
    state: str
    seconds: float  # seconds recorded in that minute (over 60 after a clock jump back)


def day_slots(minutes: Iterable[MinuteRecord], day: _dt.date) -> tuple[Slot, ...]:
    """The day's minutes in time order; minutes filed twice (a clock jump) are added up."""
    return slots_by_date(minutes, day, day)[day]


def slots_by_date(minutes: Iterable[MinuteRecord], first: _dt.date,
                  last: _dt.date) -> dict[_dt.date, tuple[Slot, ...]]:
    return {day: _slots(ms) for day, ms in by_date(minutes, first, last).items()}


def _slots(minutes: Sequence[MinuteRecord]) -> tuple[Slot, ...]:
    merged: dict[int, dict[str, float]] = {}
    for m in minutes:
        index = int((m.start + m.utc_offset_s) // 60 % 1440)
        slot = merged.setdefault(index, dict.fromkeys(STATES, 0.0))
        for state in STATES:
            slot[state] += m.seconds(state)
    return tuple(Slot(i, max(STATES, key=lambda s: merged[i][s]), sum(merged[i].values()))
                 for i in sorted(merged) if sum(merged[i].values()) > 0)


# --- for scripts ---------------------------------------------------------------

def _round(value):
    return round(value, 1) if isinstance(value, float) else value


def counts_json(c: Counts) -> dict:
    data = {f.name: _round(getattr(c, f.name)) for f in fields(c)
            if f.name not in ("score_sum", "score_n")}
    share, mean = c.good_share, c.mean_score
    data.update(recorded_s=_round(c.recorded_s),
                good_share=None if share is None else round(share, 4),
                mean_score=None if mean is None else round(mean, 1))
    return data


def period_json(p: Period) -> dict:
    """The `stats --json` contract: keys are only ever added."""
    t = p.trend
    return {
        "days": [{"date": d.date.isoformat(), **counts_json(d.counts), "has_data": d.has_data,
                  "reasons": [r for r, _ in d.reasons]} for d in p.days],
        "totals": {**counts_json(p.totals.counts), "days": p.totals.days,
                   "days_with_data": p.totals.days_with_data,
                   "reasons": [r for r, _ in p.totals.reasons]},
        "trend": {"previous": {**counts_json(t.previous.counts),
                               "days_with_data": t.previous.days_with_data},
                  "good_share_change": _opt(t.good_share, 4),
                  "seated_per_day_change_s": _opt(t.seated_per_day_s, 1),
                  "break_share_change": _opt(t.break_share, 4),
                  "alerts_per_hour_change": _opt(t.alerts_per_hour, 3)},
    }


def _opt(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


__all__ = ["Counts", "DayStats", "Period", "Slot", "Totals", "Trend", "by_date", "day_slots",
           "day_stats", "local_date", "period", "period_json", "slots_by_date", "totals", "trend"]
