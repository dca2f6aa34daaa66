"""The sitting timer: time seated, absences that count as breaks, reminders.

Pure: the caller says whether the user is seated in view (the presence rule,
core.presence: standing up counts as not seated) and when (`now`, seconds on
any monotonic scale). The rules:

- Time seated grows while the user is seated in view.
- An absence shorter than `brief_absence_s` (looking away, leaning out of the
  frame for a moment) counts as seated time.
- An absence of `break_away_s` or more is a break: the timer resets, and
  `BreakTaken` is reported the moment the absence reaches that length.
- An absence in between neither counts as seated nor resets the timer.
- Once seated time reaches `break_after_s`, `BreakDue` is reported while the
  user is in view, again every `remind_every_s` until a break is taken.
- A gap between two updates longer than `max_step_s` (the monitor was paused,
  the camera was lost) is not counted at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import BreakDue, BreakTaken, Event, UserAway, UserReturned


@dataclass(frozen=True)
class BreakConfig:
    break_after_s: float = 30 * 60.0
    break_away_s: float = 120.0
    brief_absence_s: float = 10.0
    remind_every_s: float = 10 * 60.0
    max_step_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("break_after_s", "break_away_s", "remind_every_s", "max_step_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.brief_absence_s < self.break_away_s:
            raise ValueError(f"brief_absence_s must be >= 0 and < break_away_s "
                             f"({self.break_away_s}), got {self.brief_absence_s!r}")


class BreakTimer:
    def __init__(self, config: BreakConfig = BreakConfig()) -> None:
        self.config = config
        self.seated_s = 0.0
        self.present = False
        self.away = False  # absent longer than the brief-absence grace
        self.absent_since: float | None = None
        self.break_counted = False  # this absence already counted as a break
        self.last_t: float | None = None
        self.last_seen_t: float | None = None
        self.next_reminder_t: float | None = None  # None: as soon as the time is up
        self.repeat = 0

    def update(self, present: bool, now: float) -> list[Event]:
        step = self._step(now)
        events: list[Event] = []
        if present:
            events += self._seen(now, step)
        else:
            events += self._unseen(now, step)
        self.present = present
        self.last_t = now
        return events

    def _step(self, now: float) -> float:
        if self.last_t is None:
            return 0.0
        step = now - self.last_t
        if step < 0:
            raise ValueError(f"time went backwards: {now} after {self.last_t}")
        return step if step <= self.config.max_step_s else 0.0

    def _seen(self, now: float, step: float) -> list[Event]:
        events: list[Event] = []
        if self.absent_since is not None:
            away_s = now - self.absent_since
            if self.away:
                events.append(UserReturned(now, away_s))
            elif step > 0 and self.last_seen_t is not None:
                self.seated_s += now - self.last_seen_t  # a brief absence: still seated
            self.absent_since, self.away, self.break_counted = None, False, False
        elif self.present:
            self.seated_s += step
        self.last_seen_t = now
        return events + self._reminder(now)

    def _unseen(self, now: float, step: float) -> list[Event]:
        events: list[Event] = []
        if self.absent_since is None:
            self.absent_since = now
        away_s = now - self.absent_since
        if not self.away and away_s >= self.config.brief_absence_s:
            self.away = True
            events.append(UserAway(self.absent_since))
        if not self.break_counted and away_s >= self.config.break_away_s:
            events.append(self._reset(now, away_s))
            self.break_counted = True
        return events

    def _reminder(self, now: float) -> list[Event]:
        if self.seated_s < self.config.break_after_s:
            return []
        if self.next_reminder_t is not None and now < self.next_reminder_t:
            return []
        event = BreakDue(now, self.seated_s, self.repeat)
        self.repeat += 1
        self.next_reminder_t = now + self.config.remind_every_s
        return [event]

    def _reset(self, now: float, away_s: float) -> BreakTaken:
        event = BreakTaken(now, self.seated_s, away_s)
        self.seated_s, self.repeat, self.next_reminder_t = 0.0, 0, None
        return event

    def take_break(self, now: float) -> BreakTaken:
        """The user says they are taking a break now."""
        return self._reset(now, 0.0)

    def snooze(self, now: float, duration_s: float) -> None:
        """No reminder before `now + duration_s` (seated time keeps counting)."""
        if duration_s < 0:
            raise ValueError(f"snooze duration must be >= 0, got {duration_s!r}")
        self.next_reminder_t = max(self.next_reminder_t or now, now + duration_s)

    def restart_clock(self) -> None:
        """Forget the last update time (after a pause): the gap is not counted."""
        self.last_t = self.last_seen_t = None
        self.absent_since, self.away, self.break_counted = None, False, False

    def seconds_to_break(self) -> float:
        return max(0.0, self.config.break_after_s - self.seated_s)
