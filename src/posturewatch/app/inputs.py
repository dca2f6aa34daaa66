"""Open what the user named as a stream of timed poses: a video or a pose log.

A video goes through the pose model; a pose log replays the poses recorded
from one, so both give the same report.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..adapters import pose_log
from ..adapters.files import local_path
from ..adapters.video import FrameSampler, VideoFileSource
from ..core.pose import TimedPose
from ..pipeline import estimate_poses

DEFAULT_VIDEO_FPS = 5.0


@dataclass
class PoseStream:
    header: pose_log.PoseLogHeader
    poses: Iterable[TimedPose]
    expected_s: float  # how many seconds of recording lie ahead (for progress)
    frame_step: float  # seconds one sample stands for
    model_file: Path | None = None  # the pose model read to make the poses (None: a replay)

    def __iter__(self) -> Iterator[TimedPose]:
        return iter(self.poses)


def _window(poses: Iterable[TimedPose], fps: float, start: float, end: float | None):
    sampler = FrameSampler(fps)
    for timed in poses:
        if timed.t < start - 1e-9:
            continue
        if end is not None and timed.t >= end - 1e-9:
            return
        if sampler.wants(timed.t):
            yield timed


def _step(fps: float, source_fps: float) -> float:
    rate = fps if fps > 0 else source_fps
    return 1.0 / rate if rate > 0 else 0.0


@contextmanager
def _replay(path: Path, fps: float | None, start: float, end: float | None):
    reader = pose_log.PoseLogReader(path)
    try:
        header = reader.header
        rate = fps if fps is not None else header.sample_fps
        stop = end if end is not None else header.source.duration_s
        yield PoseStream(header, _window(reader, fps or 0.0, start, end),
                         max(0.0, stop - start), _step(rate, header.source.fps))
    finally:
        reader.close()


@contextmanager
def _video(path: Path, fps: float | None, start: float, end: float | None, model_spec):
    # Imported here so that replaying a pose log never loads MediaPipe.
    from ..adapters.mediapipe_pose import MediaPipePoseEstimator
    from ..adapters.models import resolve_model

    fps = DEFAULT_VIDEO_FPS if fps is None else fps
    source = VideoFileSource(path, fps=fps, start=start, end=end)
    try:
        model = resolve_model(model_spec)  # never downloads (docs/privacy.md)
        with MediaPipePoseEstimator(model.path) as estimator:
            header = pose_log.PoseLogHeader(
                source.info, {"variant": model.variant, "path": str(model.path)}, fps)
            stop = end if end is not None else source.info.duration_s
            yield PoseStream(header, estimate_poses(source, estimator),
                             max(0.0, stop - start), _step(fps, source.info.fps), model.path)
    finally:
        source.close()


def open_poses(path, fps: float | None, start: float = 0.0, end: float | None = None,
               model_spec: str | None = None):
    """A context manager yielding a PoseStream; `fps=None` means the input's own default."""
    path = local_path(path, "the recording")
    if pose_log.is_pose_log(path):
        return _replay(path, fps, start, end)
    return _video(path, fps, start, end, model_spec)
