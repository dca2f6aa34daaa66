"""History records: what is kept of a day, minute by minute (pure).

The daemon's history sink feeds every sample's monitor state into a
`MinuteBuilder`, which sums the seconds spent in each state per wall-clock
minute and hands back each minute once it is over; the store writes and
commits it, so a crash loses at most the minute in progress. Events (alerts,
breaks, snoozes, pauses) become `EventRecord`s. No image and no landmark is
ever part of a record.

Durations come from the monitor's own clock (monotonic, or the recording's
time) and wall time is used only to file a sample under its minute and local
date: a wall clock that jumps neither creates nor loses time. A jump back
just files later samples under minutes that already have a row; the rows add
up (`core.daystats` keeps them in write order).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .events import (BreakDue, BreakTaken, CalibrationStale, Event, PostureAlert,
                     PostureRecovered)

# The per-minute columns, one per state the monitor reports.
STATES = ("good", "poor", "looking_down", "standing", "away", "uncertain")
SEATED_STATES = ("good", "poor", "looking_down", "uncertain")  # at the desk, sitting
# Monitor states that are not a column: no profile ("watching"), the first sample.
STATE_ALIASES = {"watching": "uncertain", "starting": "uncertain"}

EVENT_KINDS = ("posture_alert", "posture_recovered", "break_due", "break_taken", "snooze",
               "pause", "resume", "calibration_stale", "summary")
BREAK_HOWS = ("away", "standing", "command")
EPOCH = _dt.datetime(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()


@dataclass(frozen=True)
class WallTime:
    """A moment on the wall clock: seconds since the epoch (UTC) and the local UTC offset then."""

    t: float
    utc_offset_s: int = 0

    @property
    def local_date(self) -> _dt.date:
        return local_date(self.t, self.utc_offset_s)

    def shifted(self, seconds: float) -> "WallTime":
        return WallTime(self.t + seconds, self.utc_offset_s)


def local_date(t: float, utc_offset_s: int) -> _dt.date:
    return _dt.date.fromordinal(EPOCH_ORDINAL + int((t + utc_offset_s) // 86400))


def local_day_start(day: _dt.date) -> float:
    """Seconds since the epoch of local midnight *in local time*: compare with `t + utc_offset_s`."""
    return (_dt.datetime.combine(day, _dt.time()) - EPOCH).total_seconds()


@dataclass(frozen=True)
class Sample:
    """One daemon sample as the history sees it."""

    wall: WallTime
    step_s: float  # seconds this sample stands for: time since the previous one (0 after a gap)
    state: str  # the monitor's state: good, poor, looking_down, standing, away, uncertain ...
    score: float | None = None  # posture score 0-100 while someone is judged
    reasons: tuple[str, ...] = ()
    seated_run_s: float = 0.0  # the sitting timer: seated since the last break


@dataclass(frozen=True)
class MinuteRecord:
    start: float  # seconds since the epoch, a multiple of 60
    utc_offset_s: int = 0
    good_s: float = 0.0  # seconds in each state (STATES)
    poor_s: float = 0.0
    looking_down_s: float = 0.0
    standing_s: float = 0.0
    away_s: float = 0.0
    uncertain_s: float = 0.0
    score_mean: float | None = None
    score_n: int = 0
    reasons: tuple[str, ...] = ()  # reasons seen this minute, most seconds first
    seated_run_s: float = 0.0  # the sitting timer at the minute's last sample
    session: int = 0  # filled in by the store
    seq: int = 0  # write order, filled in by the store

    def __post_init__(self) -> None:
        if not min(self.good_s, self.poor_s, self.looking_down_s, self.standing_s, self.away_s,
                   self.uncertain_s) >= 0:  # also catches NaN
            bad = {s: self.seconds(s) for s in STATES if not self.seconds(s) >= 0}
            raise ValueError(f"MinuteRecord seconds must be >= 0, got {bad}")

    def seconds(self, state: str) -> float:
        return getattr(self, f"{state}_s")

    @property
    def local_date(self) -> _dt.date:
        return local_date(self.start, self.utc_offset_s)

    @property
    def seated_s(self) -> float:  # SEATED_STATES, spelled out: summed over a year of minutes
        return self.good_s + self.poor_s + self.looking_down_s + self.uncertain_s

    @property
    def recorded_s(self) -> float:
        return self.seated_s + self.standing_s + self.away_s


@dataclass(frozen=True)
class EventRecord:
    wall: WallTime
    kind: str  # one of EVENT_KINDS
    seconds: float | None = None  # seated time (breaks), duration (snooze, pause)
    score: float | None = None  # posture alerts: the score
    repeat: int = 0  # reminders and alerts: 0 first, then 1, 2 ...
    detail: str = ""  # alerts: reasons; break_taken: how; pause: why; summary: the date
    session: int = 0
    seq: int = 0

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"EventRecord.kind must be one of {EVENT_KINDS}, got {self.kind!r}")

    @property
    def local_date(self) -> _dt.date:
        return self.wall.local_date


@dataclass(frozen=True)
class SessionRecord:
    start: WallTime
    source: str
    profile: str
    model: str
    end: WallTime | None = None  # None: still running, or the process was killed
    id: int = 0


def break_how(event: BreakTaken) -> str:
    """How a break was taken: away from the desk, standing up, or the `break` command."""
    how = getattr(event, "how", None)  # a standing break says so (the one presence rule)
    if how in BREAK_HOWS:
        return how
    return "command" if event.away_s == 0 else "away"  # break_away is at least 1 s


def event_record(event: Event, wall: WallTime) -> EventRecord | None:
    """The record of a monitor event; None for events the minutes already tell (away, back)."""
    if isinstance(event, PostureAlert):  # seconds: how long the poor posture had lasted
        return EventRecord(wall, "posture_alert", event.t - event.started_s, event.score,
                           event.repeat, " ".join(event.reasons))
    if isinstance(event, PostureRecovered):
        return EventRecord(wall, "posture_recovered", event.t - event.started_s,
                           event.peak_score, 0, " ".join(event.reasons))
    if isinstance(event, BreakDue):
        return EventRecord(wall, "break_due", event.seated_s, None, event.repeat)
    if isinstance(event, BreakTaken):
        return EventRecord(wall, "break_taken", event.seated_s, None, 0, break_how(event))
    if isinstance(event, CalibrationStale):
        return EventRecord(wall, "calibration_stale", event.t - event.since_s)
    return None


@dataclass
class _Open:
    start: float
    utc_offset_s: int
    seconds: dict[str, float] = field(default_factory=lambda: {s: 0.0 for s in STATES})
    reasons: dict[str, float] = field(default_factory=dict)
    score_sum: float = 0.0
    score_n: int = 0
    seated_run_s: float = 0.0

    def add(self, state: str, seconds: float, reasons: tuple[str, ...]) -> None:
        self.seconds[state] += seconds
        for reason in reasons:
            self.reasons[reason] = self.reasons.get(reason, 0.0) + seconds

    def record(self) -> MinuteRecord:
        mean = self.score_sum / self.score_n if self.score_n else None
        order = tuple(sorted(self.reasons, key=lambda r: (-self.reasons[r], r)))
        return MinuteRecord(self.start, self.utc_offset_s,
                            **{f"{s}_s": v for s, v in self.seconds.items()},
                            score_mean=mean, score_n=self.score_n, reasons=order,
                            seated_run_s=self.seated_run_s)


def column(state: str) -> str:
    """The per-minute column a monitor state is counted in (unknown states: uncertain)."""
    state = STATE_ALIASES.get(state, state)
    return state if state in STATES else "uncertain"


class MinuteBuilder:
    """Samples in, finished minutes out. `update` returns the minutes that ended.

    A sample stands for the time since the one before. When the state changed
    between the two, nobody knows when in between: each state gets half the
    step (with sparse samples while away, giving it all to either state would
    bias the time seated by up to a whole step at every return).
    """

    def __init__(self) -> None:
        self._open: _Open | None = None
        self._last: tuple[str, tuple[str, ...]] | None = None  # the previous sample's state

    @property
    def pending_s(self) -> float:
        """Seconds held in memory, not yet handed out (lost if the process dies now)."""
        return 0.0 if self._open is None else sum(self._open.seconds.values())

    def update(self, sample: Sample) -> list[MinuteRecord]:
        start = sample.wall.t // 60 * 60
        pieces, done = self._pieces(sample), []
        if self._open is not None and self._open.start != start:
            before = self._before_boundary(start, sample.wall.t, max(0.0, sample.step_s))
            pieces = self._give(pieces, before)
            done = self.flush()
        if self._open is None:
            self._open = _Open(start, sample.wall.utc_offset_s)
        for state, seconds, reasons in pieces:
            self._open.add(state, seconds, reasons)
        self._note(sample)
        return done

    def _pieces(self, sample: Sample) -> list[tuple[str, float, tuple[str, ...]]]:
        """The step as (state, seconds, reasons) in time order."""
        state, step = column(sample.state), max(0.0, sample.step_s)
        last, self._last = self._last, (state, sample.reasons)
        if last is None or last[0] == state:
            return [(state, step, sample.reasons)]
        return [(last[0], step / 2, last[1]), (state, step / 2, sample.reasons)]

    def _give(self, pieces, seconds: float) -> list[tuple[str, float, tuple[str, ...]]]:
        """The first `seconds` of the pieces go to the open minute; the rest is returned."""
        rest = []
        for state, length, reasons in pieces:
            take = min(length, seconds)
            if take > 0:
                self._open.add(state, take, reasons)
            seconds -= take
            if length - take > 0:
                rest.append((state, length - take, reasons))
        return rest

    def _before_boundary(self, start: float, t: float, step: float) -> float:
        """The part of a step that belongs to the open minute, when that is the one just before."""
        if self._open.start != start - 60:
            return 0.0  # the clock jumped: the whole step goes to the new minute
        return min(step, max(0.0, step - (t - start)))

    def _note(self, sample: Sample) -> None:
        if sample.score is not None:
            self._open.score_sum += sample.score
            self._open.score_n += 1
        self._open.seated_run_s = sample.seated_run_s

    def peek(self) -> list[MinuteRecord]:
        """The open minute so far, without closing it (for today's totals)."""
        return [] if self._open is None else [self._open.record()]

    def flush(self) -> list[MinuteRecord]:
        """The open minute (partial), e.g. before a pause or at the end."""
        done, self._open = self._open, None
        if done is None or (sum(done.seconds.values()) == 0 and done.score_n == 0):
            return []
        return [done.record()]
