"""Open what the user named as a source of timed poses: a video, a camera or
stream, or a pose log.

A video or camera goes through the pose model (pipeline.PoseFeed); a pose log
replays the poses recorded from one (adapters/pose_log.PoseLogReplay), so both
give the same report. Every driver opens its input here: analyze, `calibrate
--from-video` and evaluate iterate the stream (`open_poses`), the daemon samples
it on demand (`open_feed`: `next(due)`, `release()` while paused), and the wizard
takes its camera and the estimator from here (it shows the frames themselves).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..adapters import pose_log
from ..adapters.files import local_path
from ..adapters.video import LiveSource, VideoFileSource, is_live, open_source
from ..core.pose import TimedPose
from ..pipeline import PoseFeed
from ..ports import FrameSource, PoseSource

log = logging.getLogger(__name__)

DEFAULT_VIDEO_FPS = 5.0


@dataclass
class PoseStream:
    """A source of timed poses and what is known about it; closes with `with`."""

    source: PoseSource
    header: pose_log.PoseLogHeader
    expected_s: float  # how many seconds of recording lie ahead (for progress)
    frame_step: float  # seconds one sample stands for
    model_file: Path | None = None  # the pose model read to make the poses (None: a replay)

    @property
    def live(self) -> bool:
        return self.source.live

    def __iter__(self) -> Iterator[TimedPose]:
        return iter(self.source)

    def next(self, due: float) -> TimedPose | None:
        return self.source.next(due)

    def release(self) -> None:
        self.source.release()

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> "PoseStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _step(fps: float, source_fps: float) -> float:
    rate = fps if fps > 0 else source_fps
    return 1.0 / rate if rate > 0 else 0.0


def load_estimator(model_spec: str | None):
    """The pose estimator and the model it runs (adapters/models.ResolvedModel)."""
    # Imported here so that replaying a pose log never loads MediaPipe.
    from ..adapters.mediapipe_pose import MediaPipePoseEstimator
    from ..adapters.models import resolve_model

    model = resolve_model(model_spec)  # never downloads (docs/privacy.md)
    log.info("pose model %s", model.path)
    return MediaPipePoseEstimator(model.path), model


def _replay(path: Path, fps: float | None, start: float, end: float | None) -> PoseStream:
    replay = pose_log.PoseLogReplay(path, fps or 0.0, start, end)
    header = replay.header
    rate = fps if fps is not None else header.sample_fps
    stop = end if end is not None else header.source.duration_s
    return PoseStream(replay, header, max(0.0, stop - start), _step(rate, header.source.fps))


def _through_model(frames: FrameSource, model_spec: str | None, fps: float, start: float,
                   end: float | None) -> PoseStream:
    """The frames through the model; the source is open first, so a bad one fails at once."""
    try:
        estimator, model = load_estimator(model_spec)
    except BaseException:
        frames.close()
        raise
    header = pose_log.PoseLogHeader(
        frames.info, {"variant": model.variant, "path": str(model.path)}, fps)
    stop = end if end is not None else frames.info.duration_s
    return PoseStream(PoseFeed(frames, estimator), header, max(0.0, stop - start),
                      _step(fps, frames.info.fps), model.path)


def open_poses(path, fps: float | None, start: float = 0.0, end: float | None = None,
               model_spec: str | None = None) -> PoseStream:
    """A recording on this computer, to iterate; `fps=None` means the input's own default."""
    path = local_path(path, "the recording")
    if pose_log.is_pose_log(path):
        return _replay(path, fps, start, end)
    fps = DEFAULT_VIDEO_FPS if fps is None else fps
    frames = VideoFileSource(path, fps=fps, start=start, end=end)
    return _through_model(frames, model_spec, fps, start, end)


def open_feed(spec: str, model_spec: str | None, camera_now: bool = True) -> PoseStream:
    """What the daemon watches (--source), sampled on demand: a camera or stream, a video
    file or a pose log. A file opens before the model loads, so a damaged one fails at
    once; with `camera_now` a camera too (else it opens on the first sample)."""
    if is_live(spec):
        return _through_model(LiveSource(spec, open_now=camera_now), model_spec, 0.0, 0.0, None)
    if pose_log.is_pose_log(spec):
        return _replay(Path(spec), None, 0.0, None)
    return _through_model(VideoFileSource(spec), model_spec, 0.0, 0.0, None)


def open_camera(spec: str, fps: float) -> FrameSource:
    """The wizard's camera; a video file's path stands in for one (tests, demos)."""
    return open_source(spec, fps=fps, live=not Path(spec).is_file())


__all__ = ["DEFAULT_VIDEO_FPS", "PoseStream", "load_estimator", "open_camera",
           "open_feed", "open_poses"]
