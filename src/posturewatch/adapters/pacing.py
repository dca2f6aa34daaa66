"""Sources the daemon samples on demand: `next(due)` -> the pose at or after `due`.

The daemon, not the source, decides when the next sample is due (often while
someone is there, rarely while nobody is), so these are pulled one sample at
a time rather than iterated:

- `VideoFeed`: a video file in its own time. Frames before `due` are only
  grabbed (not decoded to images); the one at `due` is decoded and estimated.
- `CameraFeed`: a camera or stream. Its clock is the monotonic clock; the
  driver buffers at most one frame, and frames read while waiting are
  dropped, so each sample is fresh. `release()` closes the device (its light
  goes off); the next `next()` opens it again.
- `PoseLogFeed`: a recorded pose log, replayed without the model.

`release()` is allowed at any time; `next()` reopens. No frame is written anywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import cv2

from ..core.pose import TimedPose
from ..errors import BadVideo, CameraError
from ..ports import Frame, PoseEstimator
from . import pose_log
from .clock import boot_clock
from .video import DEFAULT_MAX_WIDTH, check_readable_file, downscale, is_live, quiet_ffmpeg

log = logging.getLogger(__name__)

Capture = Callable[[str], "cv2.VideoCapture"]


def open_capture(spec: str) -> cv2.VideoCapture:
    quiet_ffmpeg()  # a missing camera is our one error line, not a dozen OpenCV warnings
    cap = cv2.VideoCapture(int(spec) if spec.isdigit() else spec)
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # honoured by V4L2: no stale frames queue up
    return cap


class VideoFeed:
    live = False

    def __init__(self, path: str | Path, estimator: PoseEstimator | None,
                 max_width: int = DEFAULT_MAX_WIDTH) -> None:
        self.path = Path(path)
        check_readable_file(self.path)
        self.estimator, self.max_width = estimator, max_width
        self.cap: cv2.VideoCapture | None = None
        self.fps = 0.0
        self.index = 0
        self._open(0.0)
        self.duration_s = self.frame_count / self.fps

    def _open(self, t: float) -> None:
        quiet_ffmpeg()  # a damaged file is one clear error, not FFmpeg's messages
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise BadVideo(f"{self.path}: not a video OpenCV can read")
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if self.fps <= 0 or self.frame_count <= 0:
            cap.release()
            raise BadVideo(f"{self.path}: the video has no readable frames")
        self.index = max(0, int(round(t * self.fps)))
        if self.index:
            cap.set(cv2.CAP_PROP_POS_FRAMES, self.index)
        self.cap = cap

    def next(self, due: float) -> TimedPose | None:
        if self.cap is None:
            self._open(due)
        target = max(self.index, int(round(due * self.fps - 1e-6)))
        while self.index < target:  # skip: grab only, no image conversion
            if not self.cap.grab():
                return self._ended()
            self.index += 1
        ok, image = self.cap.read()
        if not ok:
            return self._ended()
        t = self.index / self.fps
        self.index += 1
        frame = Frame(downscale(image, self.max_width), t, self.index - 1)
        return TimedPose(t, self.estimator.estimate(frame))

    def _ended(self) -> None:
        """None at the end of the file; BadVideo when frames the header promised are missing."""
        missing = self.frame_count - self.index
        # Containers often over-count by a frame or two; more than that is damage.
        if missing > max(2, 0.01 * self.frame_count):
            raise BadVideo(f"{self.path}: the video stops at frame {self.index} of "
                           f"{self.frame_count} (at {self.index / self.fps:.1f} s); the file is "
                           "truncated or damaged")
        return None

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None

    def close(self) -> None:
        # Close the landmarker here: left to the garbage collector, MediaPipe's
        # own __del__ can deadlock the process.
        self.release()
        self.estimator.close()


class CameraFeed:
    live = True

    def __init__(self, spec: str, estimator: PoseEstimator | None, capture: Capture = open_capture,
                 clock: Callable[[], float] = boot_clock,
                 max_width: int = DEFAULT_MAX_WIDTH, flush: int = 1) -> None:
        self.spec, self.estimator, self.capture = spec, estimator, capture
        self.clock, self.max_width, self.flush = clock, max_width, flush
        self.cap = None
        self.index = 0

    def open(self) -> None:
        if self.cap is not None:
            return
        cap = self.capture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open camera or stream {self.spec!r}: check that it is "
                              "connected and not used by another program")
        self.cap = cap
        log.info("camera %s opened", self.spec)

    def next(self, due: float) -> TimedPose | None:
        self.open()
        for _ in range(self.flush):  # drop what waited in the driver's buffer
            self.cap.grab()
        ok, image = self.cap.read()
        if not ok or image is None:
            self.release()
            raise CameraError(f"camera or stream {self.spec!r} stopped delivering frames")
        t = self.clock()
        self.index += 1
        frame = Frame(downscale(image, self.max_width), t, self.index)
        return TimedPose(t, self.estimator.estimate(frame))

    def release(self) -> None:
        if self.cap is not None:
            self.cap.release()
            self.cap = None
            log.info("camera %s released", self.spec)

    def close(self) -> None:
        self.release()
        self.estimator.close()  # see VideoFeed.close


class PoseLogFeed:
    live = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reader = pose_log.PoseLogReader(self.path)
        self.duration_s = self.reader.header.source.duration_s
        self._poses = iter(self.reader)

    def next(self, due: float) -> TimedPose | None:
        for timed in self._poses:
            if timed.t >= due - 1e-6:
                return timed
        return None

    def release(self) -> None:
        pass  # nothing to release: a file of numbers, not a device

    def close(self) -> None:
        self.reader.close()


def open_feed(spec: str, make_estimator: Callable[[], PoseEstimator],
              camera_now: bool = False):
    """The feed for what the user typed as --source.

    A file is opened before the model loads, so a damaged one fails at once;
    with `camera_now` a camera too (else it is opened on the first sample).
    """
    if is_live(spec):
        feed = CameraFeed(spec, None)
        if camera_now:
            feed.open()
    elif pose_log.is_pose_log(spec):
        return PoseLogFeed(spec)
    else:
        feed = VideoFeed(spec, None)
    try:
        feed.estimator = make_estimator()
    except BaseException:
        feed.release()
        raise
    return feed
