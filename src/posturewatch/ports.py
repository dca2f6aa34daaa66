"""The seams between the pure core and the outside world.

Sources and estimators are plain iterators and callables, so a test can stand
in for a camera with a list of frames, and the daemon, the wizard and analysis
all share `pipeline.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from .core.pose import Pose


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
    info: SourceInfo

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class PoseEstimator(Protocol):
    """Turns frames into poses, in time order (VIDEO mode tracks between frames)."""

    def estimate(self, frame: Frame) -> Pose | None: ...

    def close(self) -> None: ...


class Notifier(Protocol):
    """Shows a desktop notification; returns False when it could not."""

    name: str

    def notify(self, title: str, message: str) -> bool: ...
