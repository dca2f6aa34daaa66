"""The seams between the pure core and the outside world.

Sources and estimators are plain iterators and small objects, so a test can
stand in for a camera with a list of frames, and the daemon, the wizard and
analysis all get their poses through `pipeline.py` (or a pose log replay that
reads the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from .core.pose import Pose, TimedPose


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a frame source before reading it."""

    path: str  # file path, camera index/device, or URL as the user gave it
    fps: float  # frames per second of the source (0 when unknown)
    frame_count: int  # 0 for live sources
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 and self.frame_count > 0 else 0.0

    @property
    def is_live(self) -> bool:
        return self.frame_count <= 0


@dataclass(frozen=True)
class Frame:
    """One image (BGR, as OpenCV gives it) and when it was seen, in seconds."""

    image: Any  # numpy.ndarray, H x W x 3, uint8
    t: float
    index: int


class FrameSource(Protocol):
    """Frames of a file, camera or stream (adapters/video.py): iterated, or read on demand."""

    info: SourceInfo
    live: bool

    def __iter__(self) -> Iterator[Frame]: ...

    def read(self, due: float) -> Frame | None:
        """The frame at `due` (a file, in its own time) or now (a camera); None at the end."""

    def release(self) -> None:
        """Close the file or device until the next read (a camera's light goes off)."""

    def close(self) -> None: ...


class PoseSource(Protocol):
    """Timed poses, iterated or sampled on demand: pipeline.PoseFeed, pose_log.PoseLogReplay."""

    live: bool

    def __iter__(self) -> Iterator[TimedPose]: ...

    def next(self, due: float) -> TimedPose | None: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


class PoseEstimator(Protocol):
    """Turns frames into poses, in time order (VIDEO mode tracks between frames)."""

    def estimate(self, frame: Frame) -> Pose | None: ...

    def close(self) -> None: ...


class Notifier(Protocol):
    """Shows a desktop notification; returns False when it could not."""

    name: str

    def notify(self, title: str, message: str) -> bool: ...
