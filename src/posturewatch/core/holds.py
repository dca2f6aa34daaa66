"""Pauses that the desktop asks for, each with its reason, and what their time counts as.

The user pauses the monitor (`posturewatch pause`, the tray): nothing is
watched and the time is not counted (core.monitor). The desktop can hold the
camera off too, and then the time still means something:

- "screen locked" and "suspend": nobody is at the screen. The time counts as
  away, exactly as if the camera saw nobody, so a lock of `break_away` or more
  is a break.
- "camera busy": another app (usually a video call) has the camera. The user
  is most likely still seated: the time counts as seated, so break reminders
  keep coming; posture is not judged.

Several holds can overlap (a call, then the screen locks); each ends on its
own. While any "away" hold is in force the time counts as away. Pure: time is
an argument, and nothing here touches a device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .observation import Observation

USER = "user"
LOCKED = "screen locked"
SUSPEND = "suspend"
CAMERA_BUSY = "camera busy"
REASONS = (USER, LOCKED, SUSPEND, CAMERA_BUSY)
DESKTOP_REASONS = (SUSPEND, LOCKED, CAMERA_BUSY)  # also the order `pause_reason` picks in
AWAY_REASONS = frozenset({LOCKED, SUSPEND})

AWAY = "away"  # what the time of a hold counts as
SEATED = "seated"


@dataclass(frozen=True)
class Holds:
    """The desktop's holds in force: (reason, until) pairs; until is inf for "until released"."""

    items: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for reason, until in self.items:
            if reason not in DESKTOP_REASONS or math.isnan(until):
                raise ValueError(f"Holds: expected a reason in {DESKTOP_REASONS} and an end "
                                 f"time, got {reason!r} until {until!r}")

    def hold(self, reason: str, until: float = math.inf) -> Holds:
        return Holds(tuple(i for i in self.items if i[0] != reason) + ((reason, until),))

    def release(self, reason: str) -> Holds:
        return Holds(tuple(i for i in self.items if i[0] != reason))

    def active(self, now: float) -> tuple[str, ...]:
        """The reasons in force at `now`, most telling first (suspend, lock, camera busy)."""
        held = {reason for reason, until in self.items if now < until}
        return tuple(r for r in DESKTOP_REASONS if r in held)

    def counts_as(self, now: float) -> str | None:
        """AWAY, SEATED, or None when no hold is in force."""
        active = self.active(now)
        if not active:
            return None
        return AWAY if AWAY_REASONS.intersection(active) else SEATED


def pause_reason(user_paused: bool, reasons: tuple[str, ...]) -> str | None:
    """The one reason `status` and the tray show: suspend, lock, the user, camera busy."""
    ordered = [r for r in (SUSPEND, LOCKED) if r in reasons]
    ordered += [USER] if user_paused else []
    ordered += [r for r in reasons if r == CAMERA_BUSY]
    return ordered[0] if ordered else None


def assumed_observation(t: float, counts_as: str, why: str = "") -> Observation:
    """What the monitor is told at `t` while a hold is in force: nobody there (AWAY), or
    seated with no pose to judge (SEATED)."""
    if counts_as == AWAY:
        return Observation(t, None, False, None, "away", why)
    if counts_as == SEATED:
        return Observation(t, None, True, None, "present", why)
    raise ValueError(f"counts_as must be {AWAY!r} or {SEATED!r}, got {counts_as!r}")


__all__ = ["assumed_observation", "AWAY", "AWAY_REASONS", "CAMERA_BUSY", "DESKTOP_REASONS", "Holds", "LOCKED",
           "REASONS", "SEATED", "SUSPEND", "USER", "pause_reason"]
