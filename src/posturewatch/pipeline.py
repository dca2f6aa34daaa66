"""The one loop every job shares: frames -> timed poses.

Drivers (analyze, calibrate, evaluate, tests) differ only in the source they
plug in front and what they do with each pose (`core.observation.observe`
and the trackers behind it).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from .core.pose import TimedPose
from .ports import Frame, PoseEstimator


def estimate_poses(frames: Iterable[Frame], estimator: PoseEstimator) -> Iterator[TimedPose]:
    for frame in frames:
        yield TimedPose(frame.t, estimator.estimate(frame))
