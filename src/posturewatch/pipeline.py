"""The one loop every job shares: frames -> timed poses -> observations.

Drivers (analyze, calibrate, the daemon, tests) differ only in the source they
plug in front and what they do with the observations.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from .core.observation import Observation, observe
from .core.pose import TimedPose
from .ports import Frame, PoseEstimator


def estimate_poses(frames: Iterable[Frame], estimator: PoseEstimator) -> Iterator[TimedPose]:
    for frame in frames:
        yield TimedPose(frame.t, estimator.estimate(frame))


def observations(poses: Iterable[TimedPose]) -> Iterator[Observation]:
    for timed in poses:
        yield observe(timed)
