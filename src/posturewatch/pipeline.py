"""The one loop every job shares: frames -> pose estimator -> timed poses.

Every driver gets its poses here, or from a pose log that recorded them
(adapters/pose_log.PoseLogReplay, which reads the same way):

- analyze, `calibrate --from-video`, evaluate and batch iterate a `PoseFeed`
  (`estimate_poses`);
- the daemon samples one on demand: `next(due)`, `release()` while paused;
- the wizard iterates frames with their poses (`estimated`): it shows the picture.

What a driver does with each pose (core.session.Session.update, observe, ...)
is its own; app/inputs.py opens what the user named as one of these sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from .core.pose import TimedPose
from .ports import Frame, FrameSource, PoseEstimator, SourceInfo


@dataclass(frozen=True)
class Estimated:
    """A frame and the pose the estimator found in it."""

    frame: Frame
    timed: TimedPose


def estimated(frames: Iterable[Frame], estimator: PoseEstimator) -> Iterator[Estimated]:
    for frame in frames:
        yield Estimated(frame, TimedPose(frame.t, estimator.estimate(frame)))


def estimate_poses(frames: Iterable[Frame], estimator: PoseEstimator) -> Iterator[TimedPose]:
    for frame in frames:
        yield TimedPose(frame.t, estimator.estimate(frame))


class PoseFeed:
    """A frame source and the estimator behind it, as a source of timed poses:
    iterated (at the frame source's rate) or sampled on demand."""

    def __init__(self, frames: FrameSource, estimator: PoseEstimator) -> None:
        self.frames, self.estimator = frames, estimator

    @property
    def live(self) -> bool:
        return self.frames.live

    @property
    def info(self) -> SourceInfo:
        return self.frames.info

    def __iter__(self) -> Iterator[TimedPose]:
        return estimate_poses(self.frames, self.estimator)

    def next(self, due: float) -> TimedPose | None:
        """The pose at `due` (a file) or now (a camera); None when the source ended."""
        frame = self.frames.read(due)
        return None if frame is None else TimedPose(frame.t, self.estimator.estimate(frame))

    def release(self) -> None:
        self.frames.release()

    def close(self) -> None:
        # Close the estimator here: left to the garbage collector, MediaPipe's
        # own __del__ can deadlock the process.
        try:
            self.frames.close()
        finally:
            self.estimator.close()
