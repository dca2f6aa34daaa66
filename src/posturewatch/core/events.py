"""What the monitor says happened. Sinks (notifier, history, report) consume these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostureAlert:
    """Poor posture held past the onset delay (and the cooldown has passed)."""

    t: float
    started_s: float  # when the poor posture began, not when it was confirmed
    reasons: tuple[str, ...]  # subset of core.scoring.REASONS, worst first
    score: float  # 0-100
    repeat: int = 0  # 0 for the first alert of an episode, then 1, 2... (gentle escalation)


@dataclass(frozen=True)
class PostureRecovered:
    t: float
    started_s: float  # when the episode began
    reasons: tuple[str, ...]
    peak_score: float


@dataclass(frozen=True)
class UserAway:
    t: float  # the first moment nobody was seen


@dataclass(frozen=True)
class UserReturned:
    t: float
    away_s: float


@dataclass(frozen=True)
class CalibrationStale:
    """Upright posture no longer matches the profile for a sustained time."""

    t: float
    since_s: float


@dataclass(frozen=True)
class BreakDue:
    t: float
    seated_s: float
    repeat: int = 0  # 0 for the first reminder, then 1, 2... after each snooze period


@dataclass(frozen=True)
class BreakTaken:
    t: float
    seated_s: float  # how long the user had sat before the break
    away_s: float


Event = PostureAlert | PostureRecovered | UserAway | UserReturned | CalibrationStale | BreakDue | BreakTaken
