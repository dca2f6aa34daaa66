"""When the daemon looks next: every second while posture is changing, less while it holds.

Pose estimation is nearly all the daemon's cost, and an alert waits `alert_after`
(30 s) anyway. `Cadence.update(look)` takes what the session made of the newest
sample and returns the seconds until the next one:

- away (nobody in view): every 1/fps for the first `away_after_s` (the settings'
  `brief_absence`, 10 s) -- a user who bent down, turned round or stood up a moment
  is seen again at once, and whether a short absence counts as seated is timed to
  the second -- then every 1/away_fps (5 s);
- poor posture, confirmed and far past the threshold (a deviation of `deep`, twice
  it): every 1/poor_fps (2 s). Nothing new is learnt from a slouch that holds; once
  the deviation falls under `deep` (straightening up), 1/fps again. The look after
  the alert is due is the one the fixed 1/fps would take, so the notification comes
  when it would have;
- steady (opt-in, `steady_fps`; off, i.e. 1/fps, in the settings' defaults):
  `steady_after_s` (10 s) of good posture with every poor-posture deviation under
  `drift` (half the threshold) -- or, with nothing to judge (no calibration profile,
  or standing), the same presence for that long: every 1/steady_fps;
- everything else -- drifting towards the threshold, poor but near it, looking down,
  uncertain, just sat down or came back, a presence that changed: every 1/fps (1 s).

Intervals are whole numbers of 1/fps steps where they must meet the fixed rate's
looks. A deviation past `drift` on a steady look brings the next look at 1/fps. A
gap between looks longer than the cadence asked for (a pause, a lost camera) starts
the steadiness over. Time is data: the cadence reads no clock. Why poor_fps is on
and steady_fps off by default, measured: docs/daemon.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .presence import AWAY, PRESENT
from .scoring import POOR_REASONS
from .settings import Settings

GAP_SLACK = 1.5  # a look this much later than asked for means something else happened between


@dataclass(frozen=True)
class CadenceConfig:
    fps: float = 1.0  # looks per second while posture drifts, is poor, or is not settled
    steady_fps: float = 1.0  # ... while it is steady and good (never more than fps)
    away_fps: float = 0.2  # ... while nobody is in view
    drift: float = 0.5  # a poor-posture deviation (in tolerances; 1 = the threshold) past this is drifting
    steady_after_s: float = 10.0  # calm this long before looking less often
    poor_fps: float = 1.0  # ... while poor posture is confirmed and past `deep` (never more than fps)
    deep: float = 2.0  # a poor-posture deviation (in tolerances) past this holds a slouch
    away_after_s: float = 10.0  # away this long before looking at the away rate

    def __post_init__(self) -> None:
        for name in ("fps", "steady_fps", "away_fps", "drift", "poor_fps", "deep"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"CadenceConfig.{name} must be a number > 0, got {value!r}")
        for name in ("steady_after_s", "away_after_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"CadenceConfig.{name} must be a number >= 0 seconds, "
                                 f"got {value!r}")

    @property
    def steady_s(self) -> float:
        return 1.0 / min(self.steady_fps, self.fps)

    @property
    def poor_s(self) -> float:
        """1/poor_fps, as a whole number of 1/fps steps (the fixed rate's grid)."""
        step = 1.0 / self.fps
        return step * max(1, round(1.0 / min(self.poor_fps, self.fps) / step))


def cadence_config(settings: Settings) -> CadenceConfig:
    """The settings' rates; `steady_fps` or `poor_fps` 0 is `fps`."""
    return CadenceConfig(fps=settings.fps, steady_fps=settings.steady_fps or settings.fps,
                         away_fps=settings.away_fps, poor_fps=settings.poor_fps or settings.fps,
                         away_after_s=settings.brief_absence)


@dataclass(frozen=True)
class Look:
    """What one sample showed, as far as the cadence cares."""

    t: float
    presence: str  # core.presence: "present" (seated), "standing" or "away"
    state: str = ""  # the posture tracker's state; "" without one (no calibration profile)
    drift: float | None = None  # the largest smoothed poor-posture deviation; None: not judged
    alert_in: float | None = None  # seconds until an alert is due if it stays poor (tracker)


def look_at(t: float, presence: str, tracker=None) -> Look:
    """The Look of a sample from the presence rule's answer and the posture tracker (or None)."""
    if tracker is None:
        return Look(t, presence)
    score = tracker.score
    devs = [] if score is None else [d for r in POOR_REASONS
                                     if (d := score.deviations.get(r)) is not None]
    return Look(t, presence, tracker.state, max(devs) if devs else None, tracker.alert_in(t))


class Cadence:
    """`update(look) -> seconds until the next look`; read `steady` for the current pace."""

    def __init__(self, config: CadenceConfig = CadenceConfig()) -> None:
        self.config = config
        self.calm_since: float | None = None
        self.steady = False
        self._last: Look | None = None
        self._asked_s = 0.0

    def update(self, look: Look) -> float:
        last, self._last = self._last, look
        if last is None or look.presence != last.presence or self._gap(look.t - last.t):
            self.calm_since = None  # a new situation: watch it closely first
        if look.presence == AWAY:
            self.steady = False
            if self.calm_since is None:
                self.calm_since = look.t  # here: away since
            settled = look.t - self.calm_since >= self.config.away_after_s
            return self._ask(1.0 / (self.config.away_fps if settled else self.config.fps))
        if self._holding_poor(look):
            self.calm_since, self.steady = None, False
            return self._ask(self._until_alert(look))
        if not self._calm(look):
            self.calm_since = None
        elif self.calm_since is None:
            self.calm_since = look.t
        self.steady = (self.calm_since is not None
                       and look.t - self.calm_since >= self.config.steady_after_s)
        return self._ask(self.config.steady_s if self.steady else 1.0 / self.config.fps)

    def _calm(self, look: Look) -> bool:
        if look.presence != PRESENT or not look.state:
            return True  # nothing to judge (standing, or no profile): the presence held
        return look.state == "good" and look.drift is not None and look.drift < self.config.drift

    def _holding_poor(self, look: Look) -> bool:
        return (look.presence == PRESENT and look.state == "poor" and look.drift is not None
                and look.drift >= self.config.deep)

    def _until_alert(self, look: Look) -> float:
        """The poor-posture pace, but no later than the first step of 1/fps at or after the
        alert is due (where the fixed rate would alert)."""
        if look.alert_in is None:
            return self.config.poor_s
        step = 1.0 / self.config.fps
        due = step * max(1, math.ceil(look.alert_in / step - 1e-9))
        return min(self.config.poor_s, due)

    def _gap(self, step: float) -> bool:
        return step > GAP_SLACK * self._asked_s

    def _ask(self, seconds: float) -> float:
        self._asked_s = seconds
        return seconds


__all__ = ["Cadence", "CadenceConfig", "Look", "cadence_config", "look_at"]
