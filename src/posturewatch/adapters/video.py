"""Frame sources: video files, cameras and stream URLs behind one interface.

A file's frames are stamped with their position in the video, so analysing a
recording gives the same times however fast it runs; a camera's or stream's
with a monotonic clock at capture. Frames the sampler does not need are only
grabbed, not decoded into images.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable, Iterator

import cv2

from ..errors import BadVideo, CameraError, InputNotFound
from ..ports import Frame, SourceInfo
from .native_logs import native_logs_wanted

log = logging.getLogger(__name__)

# The pose model resizes every frame to 256x256 itself, so shrinking first saves
# little; only very large frames (a 4K camera) are worth a cheap linear resize.
DEFAULT_MAX_WIDTH = 1280


class FrameSampler:
    """Keeps one frame per 1/fps seconds of source time (fps 0 keeps all)."""

    def __init__(self, fps: float) -> None:
        if fps < 0:
            raise ValueError(f"sampling fps must be >= 0, got {fps}")
        self.period = 1.0 / fps if fps > 0 else 0.0
        self.next_t: float | None = None

    def wants(self, t: float) -> bool:
        if self.next_t is not None and t < self.next_t - 1e-6:
            return False
        # Step from the previous slot, not from t, so the rate does not drift.
        base = t if self.next_t is None or t > self.next_t + self.period else self.next_t
        self.next_t = base + self.period
        return True


def quiet_ffmpeg() -> None:
    """Keep FFmpeg's own messages ("moov atom not found") off the user's terminal.

    A damaged file is reported as one clear error instead. OpenCV reads this
    variable when it first opens a video, so call this before any VideoCapture;
    a user's own setting, and --debug, keep FFmpeg's messages.
    """
    if not native_logs_wanted():
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
        # ... and OpenCV's own "[WARN] can't open camera by index" lines.
        silence_opencv()


def silence_opencv() -> None:
    """OpenCV's log level to silent, in whichever form this OpenCV build offers."""
    api = getattr(getattr(cv2, "utils", None), "logging", None)
    if api is not None:  # OpenCV 5; missing from many 4.x wheels
        api.setLogLevel(api.LOG_LEVEL_SILENT)
    elif hasattr(cv2, "setLogLevel"):  # OpenCV 4.x
        cv2.setLogLevel(0)  # LOG_LEVEL_SILENT


def downscale(image, max_width: int):
    height, width = image.shape[:2]
    if max_width <= 0 or width <= max_width:
        return image
    scale = max_width / width
    # INTER_AREA looks better but costs 3-4 ms a frame at odd scales (benchmarks/README.md).
    return cv2.resize(image, (max_width, round(height * scale)), interpolation=cv2.INTER_LINEAR)


def check_readable_file(path: Path) -> None:
    """Clear errors for the usual mistakes, before OpenCV says something vague."""
    if not path.exists():
        raise InputNotFound(f"{path}: no such file")
    if path.is_dir():
        raise InputNotFound(f"{path}: is a directory, expected a video file")
    if not os.access(path, os.R_OK):
        raise InputNotFound(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise BadVideo(f"{path}: the file is empty")


def _info(cap: cv2.VideoCapture, name: str) -> SourceInfo:
    return SourceInfo(
        path=name,
        fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
        frame_count=max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)),
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    )


class VideoFileSource:
    """Frames of a video file between `start` and `end` seconds, sampled at `fps`."""

    def __init__(self, path: str | Path, fps: float = 0.0, start: float = 0.0,
                 end: float | None = None, max_width: int = DEFAULT_MAX_WIDTH) -> None:
        self.path = Path(path)
        check_readable_file(self.path)
        quiet_ffmpeg()
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            raise BadVideo(f"{self.path}: not a video OpenCV can read (damaged or unsupported format)")
        self.info = _info(self.cap, str(self.path))
        if self.info.fps <= 0 or self.info.frame_count <= 0:
            self.close()
            raise BadVideo(f"{self.path}: the video has no readable frames")
        self.fps, self.start, self.end, self.max_width = fps, start, end, max_width

    def _seek(self) -> int:
        first = int(round(self.start * self.info.fps))
        if first > 0:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, first)
        return first

    def __iter__(self) -> Iterator[Frame]:
        sampler = FrameSampler(self.fps)
        index = self._seek()
        last = self.info.frame_count if self.end is None else min(
            self.info.frame_count, int(round(self.end * self.info.fps)))
        while index < last:
            t = index / self.info.fps
            if not self.cap.grab():
                self._check_truncated(index, last)
                return
            if sampler.wants(t):
                ok, image = self.cap.retrieve()
                if not ok:
                    raise BadVideo(f"{self.path}: frame {index} cannot be decoded; the file is damaged")
                yield Frame(downscale(image, self.max_width), t, index)
            index += 1

    def _check_truncated(self, index: int, last: int) -> None:
        # Containers often over-count by a frame or two; more than that is damage.
        if last - index > max(2, 0.01 * self.info.frame_count):
            raise BadVideo(f"{self.path}: the video stops at frame {index} of {self.info.frame_count}"
                           " (at {:.1f} s); the file is truncated or damaged".format(index / self.info.fps))

    def close(self) -> None:
        self.cap.release()


class LiveSource:
    """A camera (index or device path) or a stream URL, stamped by a monotonic clock."""

    def __init__(self, spec: str, fps: float = 0.0, max_width: int = DEFAULT_MAX_WIDTH,
                 clock: Callable[[], float] = time.monotonic, capture=None) -> None:
        self.spec, self.fps, self.max_width, self.clock = spec, fps, max_width, clock
        target = int(spec) if spec.isdigit() else spec
        quiet_ffmpeg()
        self.cap = capture if capture is not None else cv2.VideoCapture(target)
        if not self.cap.isOpened():
            raise CameraError(f"cannot open camera or stream {spec!r}: check that it is connected "
                              "and not used by another program")
        self.info = _info(self.cap, spec)
        self.info = SourceInfo(spec, self.info.fps, 0, self.info.width, self.info.height)

    def __iter__(self) -> Iterator[Frame]:
        sampler = FrameSampler(self.fps)
        index = 0
        while True:
            ok, image = self.cap.read()
            if not ok:
                raise CameraError(f"camera or stream {self.spec!r} stopped delivering frames")
            t = self.clock()
            if sampler.wants(t):
                yield Frame(downscale(image, self.max_width), t, index)
            index += 1

    def close(self) -> None:
        self.cap.release()


def is_live(spec: str) -> bool:
    return spec.isdigit() or spec.startswith("/dev/video") or "://" in spec


def open_source(spec: str, fps: float = 0.0, start: float = 0.0, end: float | None = None,
                max_width: int = DEFAULT_MAX_WIDTH):
    """The frame source for what the user typed: a camera, a URL or a file."""
    if is_live(spec):
        return LiveSource(spec, fps=fps, max_width=max_width)
    return VideoFileSource(spec, fps=fps, start=start, end=end, max_width=max_width)
