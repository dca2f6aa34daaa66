"""TimedPose -> Observation: is the user at the desk (the presence rule), and their features.

`core.presence.judge` decides whether the user is seated in view, standing
or away; features are measured only for a seated user, the only posture the
scoring rules judge.
"""

from __future__ import annotations

from dataclasses import dataclass

from .features import PostureFeatures, extract
from .pose import Pose, TimedPose
from .presence import AWAY, FRAME_MARGIN, PRESENT, STATES, PresenceReference, judge

__all__ = ["FRAME_MARGIN", "Observation", "is_present", "observe"]


@dataclass(frozen=True)
class Observation:
    t: float
    pose: Pose | None
    present: bool  # the user is seated in view: posture can be judged
    features: PostureFeatures | None  # None unless present
    presence: str = ""  # "present", "standing" or "away"; "" = from `present`
    why: str = ""  # the presence rule's reason (core.presence.Presence.why)

    def __post_init__(self) -> None:
        if not self.presence:
            object.__setattr__(self, "presence", PRESENT if self.present else AWAY)
        if self.presence not in STATES or self.present != (self.presence == PRESENT):
            raise ValueError(f"Observation.presence must be one of {STATES} and agree with "
                             f"present={self.present!r}, got {self.presence!r}")

    @property
    def in_view(self) -> bool:
        """The user is there, seated or standing."""
        return self.presence != AWAY


def is_present(pose: Pose | None, reference: PresenceReference | None = None) -> bool:
    """The user seated in view, by the presence rule (core.presence.judge)."""
    return judge(pose, reference).present


def observe(timed: TimedPose, reference: PresenceReference | None = None) -> Observation:
    verdict = judge(timed.pose, reference)
    features = extract(timed.pose) if verdict.present else None
    return Observation(timed.t, timed.pose, verdict.present, features, verdict.state, verdict.why)
