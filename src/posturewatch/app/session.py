"""Run the posture tracker over a recorded session: shared by analyze and evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.baseline import Baseline
from ..core.events import Event, PostureAlert
from ..core.observation import Observation
from ..core.posture_state import Episode, PostureConfig, PostureTracker


@dataclass
class Timeline:
    """What the tracker made of a session, frame by frame."""

    tracker: PostureTracker
    times: list[float] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def update(self, obs: Observation) -> None:
        self.events += self.tracker.update(obs)
        self.times.append(obs.t)
        self.states.append(self.tracker.state)

    def finish(self, end_s: float) -> None:
        self.events += self.tracker.finish(end_s)

    @property
    def episodes(self) -> list[Episode]:
        return self.tracker.episodes

    @property
    def alerts(self) -> list[PostureAlert]:
        return [e for e in self.events if isinstance(e, PostureAlert)]


def new_timeline(baseline: Baseline, config: PostureConfig = PostureConfig()) -> Timeline:
    return Timeline(PostureTracker(baseline, config))
