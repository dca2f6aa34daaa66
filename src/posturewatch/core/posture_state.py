"""Posture over time: good / poor / looking_down / standing / away / uncertain.

Per-frame scores are noisy and people move, so the tracker smooths each
reason's deviation (a moving median over `smoothing_s` of the observations'
own times, so uneven frame rates behave the same), uses hysteresis (poor
starts at `enter`, ends below `exit`), and only confirms poor posture once
`onset_delay_s` of it has been seen, counting only poor time: a glance at the
keyboard is over long before that. An episode starts when the
poor posture began, not when it was confirmed: when the smoothed deviation
rose past `exit` on its way to `enter` (hysteresis works both ways), less the
half window by which a moving median reports a change late. Alerts repeat at most once per
`cooldown_s`. Everything is driven by the observations' own times.

Whether the user is seated, standing or away is the presence rule's answer
(core.presence, carried by the observation): standing pauses the sitting
rules, and an episode ends when the user stands up or leaves.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .baseline import Baseline
from .events import CalibrationStale, Event, PostureAlert, PostureRecovered
from .observation import Observation
from .scoring import (POOR_REASONS, RULES, Deviations, PostureScore, deviations, rule_deviation,
                      score_from)

STATES = ("good", "poor", "looking_down", "standing", "away", "uncertain")

# A posture that builds up past `exit` counts from there, but only so far back: a
# slouch or lean takes a second or two to settle; hovering just under `enter` for
# a minute and then crossing it is not a minute of poor posture.
RAMP_S = 2.0

# Deviations no posture produces (head far above the calibrated height,
# shoulders much narrower): the camera or the desk moved.
IMPLAUSIBLE = -2.5
IMPLAUSIBLE_RULES = tuple(r for r in RULES if r.feature in ("head_drop_ear", "shoulder_width"))


@dataclass(frozen=True)
class PostureConfig:
    onset_delay_s: float = 5.0  # poor posture must last this long to count as an episode
    alert_after_s: float = 0.0  # ... and this long (at least onset_delay_s) to raise an alert
    cooldown_s: float = 300.0  # at most one posture alert per this many seconds
    smoothing_s: float = 1.0  # window of the moving median of deviations
    enter: float = 1.0  # smoothed deviation (in tolerances) where poor posture starts
    exit: float = 0.7  # ... and below which it ends: hysteresis against flicker
    recovery_s: float = 2.0  # good posture this long ends an episode
    away_after_s: float = 2.0  # not seen seated this long: away or standing; shorter misses are held
    stale_after_s: float = 60.0  # implausible deviations this long: suggest recalibrating
    settle_s: float = 5.0  # after sitting down (or coming back), judge posture from then on

    def __post_init__(self) -> None:
        for name in ("onset_delay_s", "alert_after_s", "cooldown_s", "smoothing_s", "recovery_s",
                     "away_after_s", "stale_after_s", "settle_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"PostureConfig.{name} must be a number >= 0 seconds, got {value!r}")
        if not 0 < self.exit <= self.enter:
            raise ValueError(f"PostureConfig needs 0 < exit <= enter, got exit={self.exit!r}, "
                             f"enter={self.enter!r}")


@dataclass(frozen=True)
class Episode:
    start_s: float
    end_s: float
    reasons: tuple[str, ...]
    peak_score: float


@dataclass
class _Run:
    """A stretch of poor posture, pending until it lasts onset_delay_s."""

    start: float
    last_poor: float
    poor_s: float = 0.0  # time actually spent poor; brief good moments do not count
    peaks: dict[str, float] = field(default_factory=dict)
    peak_score: float = 0.0
    confirmed: bool = False
    alerts: int = 0
    good_since: float | None = None  # the good stretch that may end the run began
    good_s: float = 0.0  # time actually spent good since then
    last_good: float | None = None  # the previous frame was good (None: it was poor)

    def note(self, t: float, smoothed: Deviations, score: PostureScore, exit: float,
             clearly: bool) -> None:
        """Poor at `t`; `clearly` (past `enter`, not just over `exit`) restarts the recovery."""
        if self.last_good is None:
            self.poor_s += t - self.last_poor
        self.last_poor, self.last_good = t, None
        if clearly:
            self.good_since, self.good_s = None, 0.0
        self.peak_score = max(self.peak_score, score.total)
        for reason, d in smoothed.items():
            if d >= exit:
                self.peaks[reason] = max(self.peaks.get(reason, 0.0), d)

    def rest(self, t: float) -> None:
        """Good at `t`: a wobble back over `exit` pauses the recovery, it does not restart it."""
        if self.good_since is None:
            self.good_since = t
        elif self.last_good is not None:
            self.good_s += t - self.last_good
        self.last_good = t

    def reasons(self) -> tuple[str, ...]:
        return tuple(sorted(self.peaks, key=lambda r: -self.peaks[r]))


class PostureTracker:
    """`update(observation) -> events`; read `state`, `score`, `episodes`."""

    def __init__(self, baseline: Baseline, config: PostureConfig = PostureConfig()) -> None:
        self.baseline, self.config = baseline, config
        self.state = "uncertain"
        self.score: PostureScore | None = None
        self.episodes: list[Episode] = []
        self.time_in_state = {s: 0.0 for s in STATES}
        self.stale = False
        self._smoothed = Deviations()
        self._window: deque[tuple[float, Deviations]] = deque()
        self._run: _Run | None = None
        self._last_t: float | None = None
        self._last_seen: float | None = None
        self._seated_since: float | None = None  # back (seated) since, after away/standing
        self._rising_since: float | None = None  # smoothed deviation >= exit, no run yet
        self._last_alert: float | None = None
        self._implausible_since: float | None = None

    # -- the one verb ---------------------------------------------------------
    def update(self, obs: Observation) -> list[Event]:
        t = obs.t
        if self._last_t is not None:
            self.time_in_state[self.state] += max(0.0, t - self._last_t)
        self._last_t = t
        if not obs.present:
            return self._not_seated(t, obs.presence)
        if self.state in ("away", "standing"):
            self._seated_since = t  # back: settle first (at the start the user already sits)
        self._last_seen = t
        if self._seated_since is not None and t - self._seated_since < self.config.settle_s:
            # Sitting down takes a few seconds of shifting about, and the pose model
            # a few frames to lock onto the user again: no judging yet.
            self.state = "uncertain"
            return []
        # No features: seated but unseen (another app has the camera, core.holds).
        devs = (deviations(obs.features, self.baseline) if obs.features is not None
                else Deviations())
        if devs.head_drop is None:
            # Nothing to judge a slouch by (no shoulders, no calibrated head): never an alert.
            self.state = "uncertain"
            return []
        self._smooth(t, devs)
        self.score = score_from(self._smoothed)
        events = self._check_stale(t, obs)
        events += self._track(t)
        self.state = self._classify()
        return events

    def alert_in(self, t: float) -> float | None:
        """Seconds until the next alert is due at `t` if posture stays poor; None while no
        poor posture is confirmed (or the calibration is stale: no alerts)."""
        run = self._run
        if run is None or not run.confirmed or self.stale:
            return None
        wait = max(self.config.onset_delay_s, self.config.alert_after_s) - run.poor_s
        if self._last_alert is not None:
            wait = max(wait, self._last_alert + self.config.cooldown_s - t)
        return max(0.0, wait)

    def finish(self, t: float) -> list[Event]:
        """Close an open episode at the end of a recording."""
        return self._end_run(t)

    # -- steps ------------------------------------------------------------------
    def _not_seated(self, t: float, presence: str) -> list[Event]:
        """Away or standing: the sitting rules pause, an episode ends at the last sighting."""
        if self._last_seen is not None and t - self._last_seen < self.config.away_after_s:
            return []  # a brief miss: keep the current state
        self.state = "standing" if presence == "standing" else "away"
        self._smoothed = Deviations()
        self._window.clear()
        return self._end_run(self._last_seen if self._last_seen is not None else t)

    def _smooth(self, t: float, devs: Deviations) -> None:
        """A moving median: a one-frame glitch is ignored, and a glance ends when it ends."""
        self._window.append((t, devs))
        while self._window[0][0] <= t - self.config.smoothing_s:
            self._window.popleft()
        smoothed = {}
        for reason, _ in devs.items():
            values = sorted(v for _, d in self._window if (v := d.get(reason)) is not None)
            mid = len(values) // 2
            smoothed[reason] = (values[mid] if len(values) % 2
                                else (values[mid - 1] + values[mid]) / 2)
        self._smoothed = Deviations(**smoothed)

    def _poor_now(self) -> bool:
        level = self.config.exit if self._run is not None else self.config.enter
        return self._peak() >= level

    def _peak(self) -> float:
        return max([0.0, *(d for r in POOR_REASONS if (d := self._smoothed.get(r)) is not None)])

    def _began(self, t: float) -> float:
        """When the poor posture that just reached `enter` began."""
        rising = max(self._rising_since if self._rising_since is not None else t, t - RAMP_S)
        start = rising - self.config.smoothing_s / 2  # the moving median's delay
        if self._seated_since is None:
            return start
        return max(start, self._seated_since + self.config.settle_s)

    def _track(self, t: float) -> list[Event]:
        run = self._run
        if run is None and self._peak() < self.config.exit:
            self._rising_since = None
        elif run is None and self._rising_since is None:
            self._rising_since = t
        if self._poor_now():
            if run is None:
                start = self._began(t)
                run = self._run = _Run(start=start, last_poor=start)
            run.note(t, self._smoothed, self.score, self.config.exit,
                     clearly=self._peak() >= self.config.enter)
            return self._maybe_alert(t, run)
        if run is None:
            return []
        run.rest(t)
        if run.good_s >= self.config.recovery_s:
            return self._end_run(run.good_since)
        return []

    def _maybe_alert(self, t: float, run: _Run) -> list[Event]:
        # Counting only poor time: three short glances in a row are not a slouch.
        if not run.confirmed and run.poor_s >= self.config.onset_delay_s:
            run.confirmed = True
        due = max(self.config.onset_delay_s, self.config.alert_after_s)
        if not run.confirmed or self.stale or run.poor_s < due:
            return []
        if self._last_alert is not None and t - self._last_alert < self.config.cooldown_s:
            return []
        self._last_alert = t
        run.alerts += 1
        return [PostureAlert(t, run.start, run.reasons(), run.peak_score, run.alerts - 1)]

    def _end_run(self, end: float) -> list[Event]:
        run, self._run, self._rising_since = self._run, None, None
        if run is None or not run.confirmed:
            return []
        self.episodes.append(Episode(run.start, max(end, run.start), run.reasons(), run.peak_score))
        return [PostureRecovered(end, run.start, run.reasons(), run.peak_score)]

    def _classify(self) -> str:
        if self._run is not None and self._run.confirmed:
            return "poor"
        if (self._smoothed.head_down or 0.0) >= self.config.enter:
            return "looking_down"
        return "good"

    def _check_stale(self, t: float, obs: Observation) -> list[Event]:
        odd = [rule_deviation(r, getattr(obs.features, r.feature), self.baseline)
               for r in IMPLAUSIBLE_RULES]
        if not any(d is not None and d <= IMPLAUSIBLE for d in odd):
            self._implausible_since, self.stale = None, False
            return []
        if self._implausible_since is None:
            self._implausible_since = t
        if not self.stale and t - self._implausible_since >= self.config.stale_after_s:
            self.stale = True
            return [CalibrationStale(t, self._implausible_since)]
        return []
