"""Posture over time: good / poor / looking_down / away / uncertain.

Per-frame scores are noisy and people move, so the tracker smooths each
reason's deviation (a moving median over `smoothing_s` of the observations'
own times, so uneven frame rates behave the same), uses hysteresis (poor
starts at `enter`, ends below `exit`), and only confirms poor posture once
`onset_delay_s` of it has been seen, counting only poor time: a glance at the
keyboard is over long before that. An episode starts when the
poor posture began, not when it was confirmed. Alerts repeat at most once per
`cooldown_s`. Everything is driven by the observations' own times.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .baseline import Baseline
from .events import CalibrationStale, Event, PostureAlert, PostureRecovered
from .observation import Observation
from .scoring import POOR_REASONS, RULES, PostureScore, deviations, rule_deviation, score_from

STATES = ("good", "poor", "looking_down", "away", "uncertain")

# A pose less than half the calibrated size is not the user at the desk: MediaPipe
# finds phantom "people" in background lights when the chair is empty.
NOT_THE_USER = 0.5

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
    away_after_s: float = 2.0  # nobody seen this long means away; shorter misses are held
    stale_after_s: float = 60.0  # implausible deviations this long: suggest recalibrating

    def __post_init__(self) -> None:
        for name in ("onset_delay_s", "alert_after_s", "cooldown_s", "smoothing_s", "recovery_s",
                     "away_after_s", "stale_after_s"):
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
    good_since: float | None = None

    def note(self, t: float, smoothed: dict[str, float], score: PostureScore, exit: float) -> None:
        if self.good_since is None:
            self.poor_s += t - self.last_poor
        self.last_poor, self.good_since = t, None
        self.peak_score = max(self.peak_score, score.total)
        for reason, d in smoothed.items():
            if d >= exit:
                self.peaks[reason] = max(self.peaks.get(reason, 0.0), d)

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
        self._smoothed: dict[str, float] = {}
        self._window: deque[tuple[float, dict[str, float]]] = deque()
        self._run: _Run | None = None
        self._last_t: float | None = None
        self._last_seen: float | None = None
        self._last_alert: float | None = None
        self._implausible_since: float | None = None

    # -- the one verb ---------------------------------------------------------
    def update(self, obs: Observation) -> list[Event]:
        t = obs.t
        if self._last_t is not None:
            self.time_in_state[self.state] += max(0.0, t - self._last_t)
        self._last_t = t
        if not obs.present or not self._is_user(obs):
            return self._nobody(t)
        self._last_seen = t
        devs = deviations(obs.features, self.baseline)
        if "head_drop" not in devs:
            # Without head and shoulders there is no judging a slouch: never an alert.
            self.state = "uncertain"
            return []
        self._smooth(t, devs)
        self.score = score_from(self._smoothed)
        events = self._check_stale(t, obs)
        events += self._track(t)
        self.state = self._classify()
        return events

    def finish(self, t: float) -> list[Event]:
        """Close an open episode at the end of a recording."""
        return self._end_run(t)

    # -- steps ------------------------------------------------------------------
    def _nobody(self, t: float) -> list[Event]:
        if self._last_seen is not None and t - self._last_seen < self.config.away_after_s:
            return []  # a brief miss: keep the current state
        self.state = "away"
        self._smoothed.clear()
        self._window.clear()
        return self._end_run(self._last_seen if self._last_seen is not None else t)

    def _is_user(self, obs: Observation) -> bool:
        base = self.baseline.get("shoulder_width")
        width = obs.features.shoulder_width if obs.features else None
        return base is None or width is None or width >= NOT_THE_USER * base.center

    def _smooth(self, t: float, devs: dict[str, float]) -> None:
        """A moving median: a one-frame glitch is ignored, and a glance ends when it ends."""
        self._window.append((t, devs))
        while self._window[0][0] <= t - self.config.smoothing_s:
            self._window.popleft()
        self._smoothed = {}
        for reason in devs:
            values = sorted(d[reason] for _, d in self._window if reason in d)
            mid = len(values) // 2
            self._smoothed[reason] = (values[mid] if len(values) % 2
                                      else (values[mid - 1] + values[mid]) / 2)

    def _poor_now(self) -> bool:
        level = self.config.exit if self._run is not None else self.config.enter
        return any(self._smoothed.get(r, 0.0) >= level for r in POOR_REASONS)

    def _track(self, t: float) -> list[Event]:
        run = self._run
        if self._poor_now():
            if run is None:
                run = self._run = _Run(start=t, last_poor=t)
            run.note(t, self._smoothed, self.score, self.config.exit)
            return self._maybe_alert(t, run)
        if run is None:
            return []
        if run.good_since is None:
            run.good_since = t
        if t - run.good_since >= self.config.recovery_s:
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
        run, self._run = self._run, None
        if run is None or not run.confirmed:
            return []
        self.episodes.append(Episode(run.start, max(end, run.start), run.reasons(), run.peak_score))
        return [PostureRecovered(end, run.start, run.reasons(), run.peak_score)]

    def _classify(self) -> str:
        if self._run is not None and self._run.confirmed:
            return "poor"
        if self._smoothed.get("head_down", 0.0) >= self.config.enter:
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
