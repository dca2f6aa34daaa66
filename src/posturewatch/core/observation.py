"""TimedPose -> Observation: is somebody really there, and their features.

The presence check rejects what MediaPipe reports when nobody is at the desk:
a faint "pose" on background lights, or a tracker that lingers for a while
with the landmarks drifting out of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from .features import VISIBLE, PostureFeatures, extract
from .pose import Part, Pose, TimedPose

HEAD = (Part.NOSE, Part.LEFT_EAR, Part.RIGHT_EAR, Part.LEFT_EYE, Part.RIGHT_EYE)
SHOULDERS = (Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER)
FRAME_MARGIN = 0.02  # landmarks this far outside the frame are guesses, not sightings


@dataclass(frozen=True)
class Observation:
    t: float
    pose: Pose | None
    present: bool
    features: PostureFeatures | None  # None when nobody is present


def _in_frame(pose: Pose, part: Part) -> bool:
    lm = pose.landmarks[part]
    return -FRAME_MARGIN <= lm.x <= 1 + FRAME_MARGIN and -FRAME_MARGIN <= lm.y <= 1 + FRAME_MARGIN


def _sighted(pose: Pose, part: Part) -> bool:
    return pose.visibility(part) >= VISIBLE and _in_frame(pose, part)


def is_present(pose: Pose | None) -> bool:
    """A head and a shoulder seen inside the frame."""
    if pose is None:
        return False
    return any(_sighted(pose, p) for p in HEAD) and any(_sighted(pose, p) for p in SHOULDERS)


def observe(timed: TimedPose) -> Observation:
    present = is_present(timed.pose)
    features = extract(timed.pose) if present else None
    return Observation(timed.t, timed.pose, present, features)
