"""The monitor: posture tracker + sitting timer + pause/snooze, one `update`.

`Monitor.update(obs, now)` feeds one observation to both parts and returns
the events worth acting on. Both parts take the presence rule's answer from
the observation (core.presence): the timer counts seated time only while the
user is seated, so standing for `break_away` is a break, as leaving is. While snoozed, `PostureAlert`, `PostureRecovered`
and `BreakDue` are held back (time keeps counting); while paused nothing is
observed and no time counts. Daily totals (time seated, breaks, share of good
posture) feed the summary line the daemon logs.

The posture tracker is optional: without a calibration profile there is
nothing to compare posture with, and only break reminders work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .breaks import BreakTimer
from .events import BreakDue, BreakTaken, Event, PostureAlert, PostureRecovered
from .observation import Observation

SILENCED = (PostureAlert, PostureRecovered, BreakDue)
GOOD_STATES = ("good",)
POOR_STATES = ("poor",)


class Tracker(Protocol):
    state: str
    score: Any

    def update(self, obs: Observation) -> list[Event]: ...


@dataclass(frozen=True)
class DailyTotals:
    seated_s: float = 0.0
    breaks: int = 0
    good_s: float = 0.0  # seated with good posture
    poor_s: float = 0.0  # seated with poor posture

    @property
    def good_share(self) -> float | None:
        scored = self.good_s + self.poor_s
        return self.good_s / scored if scored > 0 else None

    def line(self) -> str:
        share = self.good_share
        good = "n/a" if share is None else f"{share:.0%}"
        return (f"daily summary: seated {self.seated_s / 60:.1f} min, "
                f"breaks taken {self.breaks}, good posture {good}")


@dataclass(frozen=True)
class MonitorStatus:
    state: str  # "paused", "away", "standing", "good", "poor", "looking_down", "uncertain", "watching"
    present: bool
    score: float | None
    reasons: tuple[str, ...]
    seated_s: float
    next_break_s: float
    paused_until: float | None  # inf while paused with no end; None when not paused
    snoozed_until: float | None
    posture_alerts: bool  # False without a calibration profile
    totals: DailyTotals


class Monitor:
    def __init__(self, breaks: BreakTimer, tracker: Tracker | None = None) -> None:
        self.breaks = breaks
        self.tracker = tracker
        self.paused_until: float | None = None
        self.snoozed_until: float | None = None
        self.totals = DailyTotals()
        self.last_t: float | None = None
        self.presence = "away"  # the presence rule's answer for the last observation

    # --- the one verb -------------------------------------------------------
    def update(self, obs: Observation, now: float) -> list[Event]:
        if self.is_paused(now):
            return []
        step = 0.0 if self.last_t is None else max(0.0, now - self.last_t)
        self.last_t = now
        self.presence = obs.presence
        events = self.breaks.update(obs.present, now)
        if self.tracker is not None:
            events += self.tracker.update(obs)
        self._count(obs, step, events)
        if self.is_snoozed(now):
            events = [e for e in events if not isinstance(e, SILENCED)]
        return events

    def _count(self, obs: Observation, step: float, events: list[Event]) -> None:
        t = self.totals
        seated = step if obs.present and step <= self.breaks.config.max_step_s else 0.0
        state = self.tracker.state if self.tracker is not None else ""
        self.totals = DailyTotals(
            seated_s=t.seated_s + seated,
            breaks=t.breaks + sum(isinstance(e, BreakTaken) for e in events),
            good_s=t.good_s + (seated if state in GOOD_STATES else 0.0),
            poor_s=t.poor_s + (seated if state in POOR_STATES else 0.0))

    # --- controls -----------------------------------------------------------
    def pause(self, now: float, duration_s: float | None = None) -> None:
        """Stop watching until `resume` (or for `duration_s`)."""
        self.paused_until = float("inf") if duration_s is None else now + duration_s

    def resume(self, now: float) -> None:
        self.paused_until = None
        self.breaks.restart_clock()
        self.last_t = None

    def is_paused(self, now: float) -> bool:
        if self.paused_until is not None and now >= self.paused_until:
            self.resume(now)
        return self.paused_until is not None

    def snooze(self, now: float, duration_s: float) -> None:
        """Silence notifications for `duration_s`; timers keep counting."""
        self.snoozed_until = now + duration_s
        self.breaks.snooze(now, duration_s)

    def is_snoozed(self, now: float) -> bool:
        if self.snoozed_until is not None and now >= self.snoozed_until:
            self.snoozed_until = None
        return self.snoozed_until is not None

    def take_break(self, now: float) -> BreakTaken:
        event = self.breaks.take_break(now)
        self.totals = DailyTotals(self.totals.seated_s, self.totals.breaks + 1,
                                  self.totals.good_s, self.totals.poor_s)
        return event

    def take_totals(self) -> DailyTotals:
        """Today's totals, and start counting a new day."""
        totals, self.totals = self.totals, DailyTotals()
        return totals

    # --- reading ------------------------------------------------------------
    def status(self, now: float) -> MonitorStatus:
        paused = self.is_paused(now)
        score = self.tracker.score if self.tracker is not None else None
        return MonitorStatus(
            state="paused" if paused else self._state(),
            present=self.breaks.present,
            score=None if score is None else float(score.total),
            reasons=tuple(score.reasons) if score is not None else (),
            seated_s=self.breaks.seated_s,
            next_break_s=self.breaks.seconds_to_break(),
            paused_until=self.paused_until,
            snoozed_until=self.snoozed_until if self.is_snoozed(now) else None,
            posture_alerts=self.tracker is not None,
            totals=self.totals)

    @property
    def in_view(self) -> bool:
        """The user was there (seated or standing) at the last observation."""
        return self.presence != "away"

    def _state(self) -> str:
        if self.breaks.last_t is None:
            return "starting"
        if self.tracker is not None:
            return self.tracker.state  # it holds the state over a brief miss
        return "watching" if self.breaks.present else self.presence
