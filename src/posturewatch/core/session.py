"""One session builder: settings + calibration -> presence reference, tracker, monitor.

Every driver (analyze, evaluate, the daemon, the wizard, the tests) builds what it
runs here, so they all judge presence against the same reference, smooth and
confirm poor posture with the same constants, and report the same states and
latencies. Fitting a baseline from an upright window lives here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from .baseline import Baseline, fit_baseline
from .breaks import BreakConfig, BreakTimer
from .events import Event
from .monitor import Monitor
from .observation import Observation, observe
from .pose import TimedPose
from .posture_state import PostureConfig, PostureTracker
from .presence import PresenceReference
from .settings import DEFAULTS, Settings


# The moving median ignores a one-frame glitch only with three frames in its window:
# at the daemon's 1 frame a second it spans 2.5 s (three frames, and never four when
# the frame times jitter: an even count would average instead of taking a median).
MEDIAN_FRAMES = 3


def posture_config(settings: Settings) -> PostureConfig:
    """Episodes count from the usual onset delay; a notification waits for alert_after
    (and a user's shorter alert_after shortens the onset too). `settings.fps` is the
    rate the poses come at."""
    onset = min(PostureConfig.onset_delay_s, settings.alert_after_s)
    smoothing = max(PostureConfig.smoothing_s, (MEDIAN_FRAMES - 0.5) / settings.fps)
    return PostureConfig(onset_delay_s=onset, alert_after_s=settings.alert_after_s,
                         cooldown_s=settings.cooldown, smoothing_s=smoothing)


def break_config(settings: Settings) -> BreakConfig:
    return BreakConfig(
        break_after_s=settings.break_after_s, break_away_s=settings.break_away,
        brief_absence_s=settings.brief_absence, remind_every_s=settings.remind_every_s,
        # Three samples at the away rate may pass between two updates without a gap.
        max_step_s=max(60.0, 3.0 / settings.away_fps))


def fit_upright(observations: Iterable[Observation], start: float = -math.inf,
                end: float = math.inf) -> Baseline:
    """The user's baseline from the observations in [start, end) of sitting well.

    The observations must come from `observe` without a reference (there is no
    calibration yet); NotEnoughData when too few show the user seated.
    """
    window = [o for o in observations if start <= o.t < end]
    return fit_baseline(window, window_s=PostureConfig.smoothing_s)


@dataclass
class Session:
    """What a driver runs: presence against the reference, then the monitor."""

    reference: PresenceReference | None
    tracker: PostureTracker | None
    monitor: Monitor

    def observe(self, timed: TimedPose) -> Observation:
        return observe(timed, self.reference)

    def update(self, timed: TimedPose) -> tuple[Observation, list[Event]]:
        obs = self.observe(timed)
        return obs, self.monitor.update(obs, obs.t)

    def finish(self, end_s: float) -> list[Event]:
        """Close an open posture episode at the end of a recording."""
        return self.tracker.finish(end_s) if self.tracker is not None else []

    @property
    def state(self) -> str:
        """The tracker's state, or without a calibration the presence rule's answer."""
        return self.tracker.state if self.tracker is not None else self.monitor.presence


def build_session(settings: Settings = DEFAULTS, baseline: Baseline | None = None) -> Session:
    """Without a baseline: presence and break reminders only, no posture tracker."""
    reference = PresenceReference.from_baseline(baseline) if baseline is not None else None
    tracker = PostureTracker(baseline, posture_config(settings)) if baseline is not None else None
    return Session(reference, tracker, Monitor(BreakTimer(break_config(settings)), tracker))
