"""Frame sources: video files, cameras and stream URLs behind one interface.

Every source is read either way, with the same quieting, errors and release:

- iterated, `for frame in source`: analyze, `calibrate --from-video`, the wizard.
  Frames are kept at `fps` of the source's time (core.sampling.FrameSampler);
  a file's frames the sampler does not need are only grabbed, not decoded.
- sampled on demand, `source.read(due)`: the daemon, which decides when the
  next sample is due. A file gives the frame at `due` in its own time (frames
  before it are only grabbed); a camera its freshest frame, now (the driver
  keeps at most one, and what waited is dropped).

A file's frames are stamped with their position in the video, so analysing a
recording gives the same times however fast it runs; a camera's or stream's
with a monotonic clock at capture. `release()` closes the file or device at any
time (a camera's light goes off); the next read opens it again. No frame is
written anywhere.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterator

import cv2

from ..core.sampling import FrameSampler
from ..errors import BadVideo, CameraError, InputNotFound
from ..ports import Frame, SourceInfo
from .clock import boot_clock
from .native_logs import native_logs_wanted

log = logging.getLogger(__name__)

# The pose model resizes every frame to 256x256 itself, so shrinking first saves
# little; only very large frames (a 4K camera) are worth a cheap linear resize.
DEFAULT_MAX_WIDTH = 1280

Capture = Callable[[str], "cv2.VideoCapture"]


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


def open_capture(spec: str) -> cv2.VideoCapture:
    """A camera or stream, quietly; the driver keeps at most one frame, so reads are fresh."""
    quiet_ffmpeg()  # a missing camera is our one error line, not a dozen OpenCV warnings
    cap = cv2.VideoCapture(int(spec) if spec.isdigit() else spec)
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # honoured by V4L2: no stale frames queue up
    return cap


class VideoFileSource:
    """Frames of a video file between `start` and `end` seconds (iterated at `fps`)."""

    live = False

    def __init__(self, path: str | Path, fps: float = 0.0, start: float = 0.0,
                 end: float | None = None, max_width: int = DEFAULT_MAX_WIDTH) -> None:
        self.path = Path(path)
        check_readable_file(self.path)
        self.fps, self.start, self.end, self.max_width = fps, start, end, max_width
        self.cap: cv2.VideoCapture | None = None
        self.index = 0  # the frame the next grab gives
        self._open(0)

    def _open(self, index: int) -> None:
        quiet_ffmpeg()  # a damaged file is one clear error, not FFmpeg's messages
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise BadVideo(f"{self.path}: not a video OpenCV can read (damaged or unsupported format)")
        info = _info(cap, str(self.path))
        if info.fps <= 0 or info.frame_count <= 0:
            cap.release()
            raise BadVideo(f"{self.path}: the video has no readable frames")
        self.cap, self.info, self.index = cap, info, 0
        self._seek(index)

    def _seek(self, index: int) -> None:
        if self.cap is None:
            self._open(index)
        elif index != self.index:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self.index = index

    def _frame_at(self, t: float) -> int:
        return max(0, int(round(t * self.info.fps)))

    def _last(self) -> int:
        """One past the last frame to read: the end of the window, or of the file."""
        if self.end is None:
            return self.info.frame_count
        return min(self.info.frame_count, self._frame_at(self.end))

    def __iter__(self) -> Iterator[Frame]:
        sampler = FrameSampler(self.fps)
        self._seek(self._frame_at(self.start))
        last = self._last()
        while self.index < last:
            if not self._grab():
                self._ended(last)
                return
            if sampler.wants((self.index - 1) / self.info.fps):
                yield self._retrieve()

    def read(self, due: float) -> Frame | None:
        """The frame at `due` seconds into the file (or the next unread one); None at the end."""
        if self.cap is None:
            self._open(self._frame_at(due))
        target = max(self.index, int(round(due * self.info.fps - 1e-6)))
        last = self._last() if self.end is not None else None
        while self.index <= target:  # the frames before `due` are grabbed, not decoded
            if (last is not None and self.index >= last) or not self._grab():
                return self._ended(self.info.frame_count if last is None else last)
        return self._retrieve()

    def _grab(self) -> bool:
        if not self.cap.grab():
            return False
        self.index += 1
        return True

    def _retrieve(self) -> Frame:
        """The frame grabbed last, decoded."""
        index = self.index - 1
        ok, image = self.cap.retrieve()
        if not ok:
            raise BadVideo(f"{self.path}: frame {index} cannot be decoded; the file is damaged")
        return Frame(downscale(image, self.max_width), index / self.info.fps, index)

    def _ended(self, last: int) -> None:
        """None at the end of the file; BadVideo when frames the header promised are missing."""
        # Containers often over-count by a frame or two; more than that is damage.
        if last - self.index > max(2, 0.01 * self.info.frame_count):
            raise BadVideo(f"{self.path}: the video stops at frame {self.index} of "
                           f"{self.info.frame_count} (at {self.index / self.info.fps:.1f} s); "
                           "the file is truncated or damaged")
        return None

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None

    def close(self) -> None:
        self.release()


class LiveSource:
    """A camera (index or device path) or a stream URL, stamped by a monotonic clock that
    counts a suspend (adapters/clock.py: the daemon's clock, so a night asleep is time).

    `open_now=False` opens the device on the first read (a service that waits
    for its camera); `flush` frames are dropped before each `read(due)`.
    """

    live = True

    def __init__(self, spec: str, fps: float = 0.0, max_width: int = DEFAULT_MAX_WIDTH,
                 clock: Callable[[], float] = boot_clock, capture: Capture = open_capture,
                 flush: int = 1, open_now: bool = True) -> None:
        self.spec, self.fps, self.max_width, self.clock = spec, fps, max_width, clock
        self.capture, self.flush = capture, flush
        self.cap = None
        self.index = 0  # frames read so far
        self.info = SourceInfo(spec, 0.0, 0, 0, 0)
        if open_now:
            self.open()

    def open(self) -> None:
        if self.cap is not None:
            return
        cap = self.capture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open camera or stream {self.spec!r}: check that it is "
                              "connected and not used by another program")
        found = _info(cap, self.spec)
        self.info = SourceInfo(self.spec, found.fps, 0, found.width, found.height)
        self.cap = cap
        log.info("camera %s opened", self.spec)

    def __iter__(self) -> Iterator[Frame]:
        self.open()
        sampler = FrameSampler(self.fps)
        while True:
            image, t = self._read_image(), self.clock()
            if sampler.wants(t):
                yield self._frame(image, t)
            self.index += 1

    def read(self, due: float) -> Frame:
        """The freshest frame, now: a camera is read when asked, whatever `due` says."""
        self.open()
        for _ in range(self.flush):  # drop what waited in the driver's buffer
            self.cap.grab()
        image, t = self._read_image(), self.clock()
        frame = self._frame(image, t)
        self.index += 1
        return frame

    def _read_image(self):
        ok, image = self.cap.read()
        if not ok or image is None:
            self.release()
            raise CameraError(f"camera or stream {self.spec!r} stopped delivering frames")
        return image

    def _frame(self, image, t: float) -> Frame:
        return Frame(downscale(image, self.max_width), t, self.index)

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None
            log.info("camera %s released", self.spec)

    def close(self) -> None:
        self.release()


def is_live(spec: str) -> bool:
    return spec.isdigit() or spec.startswith("/dev/video") or "://" in spec


def open_source(spec: str, fps: float = 0.0, start: float = 0.0, end: float | None = None,
                max_width: int = DEFAULT_MAX_WIDTH, *, live: bool | None = None,
                open_now: bool = True) -> VideoFileSource | LiveSource:
    """The frame source for what the user typed: a camera, a URL or a file.

    `live` None decides by the spec (`is_live`); `open_now` False leaves a camera
    closed until the first read.
    """
    if is_live(spec) if live is None else live:
        return LiveSource(spec, fps=fps, max_width=max_width, open_now=open_now)
    return VideoFileSource(spec, fps=fps, start=start, end=end, max_width=max_width)
