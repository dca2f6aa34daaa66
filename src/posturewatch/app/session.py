"""Run a session over a recording and keep its timeline: shared by analyze and evaluate.

The session itself (presence reference, tracker, monitor) comes from the one
builder, core.session.build_session, exactly as the daemon builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..core.baseline import Baseline
from ..core.events import Event, PostureAlert
from ..core.observation import Observation
from ..core.pose import TimedPose
from ..core.posture_state import Episode, PostureTracker
from ..core.session import Session, build_session
from ..core.settings import DEFAULTS, Settings


@dataclass
class Timeline:
    """What the session made of a recording, frame by frame."""

    session: Session
    times: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)  # the tracker's (or the presence rule's)
    presence: list[str] = field(default_factory=list)  # present / standing / away per frame
    events: list[Event] = field(default_factory=list)

    def update(self, timed: TimedPose) -> Observation:
        obs, events = self.session.update(timed)
        self.events += events
        self.times.append(obs.t)
        self.states.append(self.session.state)
        self.presence.append(obs.presence)
        return obs

    def finish(self, end_s: float) -> None:
        self.events += self.session.finish(end_s)

    @property
    def tracker(self) -> PostureTracker | None:
        return self.session.tracker

    @property
    def episodes(self) -> list[Episode]:
        return self.tracker.episodes if self.tracker is not None else []

    @property
    def alerts(self) -> list[PostureAlert]:
        return [e for e in self.events if isinstance(e, PostureAlert)]


MAX_RATE = 30.0  # Settings.fps's range; faster recordings smooth over at least 1 s anyway


def at_rate(settings: Settings, frame_step: float) -> Settings:
    """The settings with `fps` the rate a recording's poses come at (the tracker's
    moving median spans three of them)."""
    rate = 1.0 / frame_step if frame_step > 0 else MAX_RATE
    return replace(settings, fps=min(rate, MAX_RATE))


def new_timeline(baseline: Baseline | None, settings: Settings = DEFAULTS) -> Timeline:
    """The session the daemon would run with `settings` (their `fps`: the poses' rate)."""
    return Timeline(build_session(settings, baseline))
