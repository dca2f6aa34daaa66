"""MediaPipe Pose Landmarker (Tasks API, VIDEO mode) -> core.Pose.

The only module that imports mediapipe or knows its landmark indices. It loads
only the pose landmarker (not the whole `mediapipe` package: that also loads
matplotlib and the audio tasks, whose sound library lookup runs ldconfig and gcc),
and refuses a MediaPipe that uploads usage statistics (docs/privacy.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import sys
import warnings
from pathlib import Path

import cv2

from ..core.pose import Landmark, Part, Pose
from ..errors import ModelError
from ..ports import Frame
from .native_logs import native_logs_wanted

log = logging.getLogger(__name__)

# MediaPipe's BlazePose topology index for each of our parts.
MP_INDEX = {
    Part.NOSE: 0, Part.LEFT_EYE: 2, Part.RIGHT_EYE: 5, Part.LEFT_EAR: 7, Part.RIGHT_EAR: 8,
    Part.MOUTH_LEFT: 9, Part.MOUTH_RIGHT: 10, Part.LEFT_SHOULDER: 11, Part.RIGHT_SHOULDER: 12,
    Part.LEFT_ELBOW: 13, Part.RIGHT_ELBOW: 14, Part.LEFT_WRIST: 15, Part.RIGHT_WRIST: 16,
    Part.LEFT_HIP: 23, Part.RIGHT_HIP: 24,
}

# Landmarks are rounded at the border so a pose log replays bit for bit;
# 1e-5 of a frame is far below the model's own precision.
DIGITS = 5


# From 0.10.35 on, MediaPipe's wheels send usage statistics to Google when a task
# closes (google-ai-edge/mediapipe#6291; measured in docs/privacy.md). Keep equal
# to pyproject.toml's upper bound, which a test checks.
FIRST_UPLOADING_VERSION = (0, 10, 35)

# Packages whose __init__ imports every task, matplotlib and the audio stack.
HEAVY_PACKAGES = ("mediapipe", "mediapipe.tasks.python", "mediapipe.tasks.python.vision")


def version_tuple(version: str) -> tuple[int, ...]:
    """(0, 10, 33) for "0.10.33", "0.10.33.post1" or "0.10.33rc1"."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def check_version(version: str) -> None:
    """A MediaPipe known to upload usage statistics is refused before it can load a model."""
    if version_tuple(version) >= FIRST_UPLOADING_VERSION:
        bound = ".".join(map(str, FIRST_UPLOADING_VERSION))
        raise ModelError(f"mediapipe {version} sends usage statistics to Google, so posturewatch "
                         f"will not use it: pip install 'mediapipe<{bound}' (see docs/privacy.md)")


@dataclasses.dataclass(frozen=True)
class PoseApi:
    """The few MediaPipe names this adapter uses."""

    BaseOptions: type
    PoseLandmarker: type
    PoseLandmarkerOptions: type
    RunningMode: type
    Image: type
    ImageFormat: type


def _shell_packages() -> list[str]:
    """Put MediaPipe's heavy packages in sys.modules without running their __init__.

    Their submodules import as usual; returns the names it added.
    """
    added = []
    for name in HEAVY_PACKAGES:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"no package {name}")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        added.append(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    return added


def _import_pose_api() -> PoseApi:
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import pose_landmarker as pl
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import VisionTaskRunningMode
    try:  # 0.10.30 and later: ctypes bindings
        from mediapipe.tasks.python.vision.core.image import Image, ImageFormat
    except ImportError:  # up to 0.10.21: pybind11 bindings
        from mediapipe.python._framework_bindings.image import Image
        from mediapipe.python._framework_bindings.image_frame import ImageFormat
    return PoseApi(BaseOptions, pl.PoseLandmarker, pl.PoseLandmarkerOptions,
                   VisionTaskRunningMode, Image, ImageFormat)


def _forget_mediapipe() -> None:
    for name in [n for n in sys.modules if n == "mediapipe" or n.startswith("mediapipe.")]:
        del sys.modules[name]


@functools.lru_cache(maxsize=1)
def pose_api() -> PoseApi:
    """The pose landmarker's API, after checking the installed MediaPipe's version."""
    try:
        check_version(importlib.metadata.version("mediapipe"))
    except importlib.metadata.PackageNotFoundError:
        raise ModelError("mediapipe is not installed: pip install posturewatch again") from None
    added = []
    try:
        added = _shell_packages()
        return _import_pose_api()
    except (ImportError, AttributeError) as exc:
        if not added:
            raise
        # A layout this adapter does not know: import the whole package instead.
        log.debug("loading only the pose landmarker failed (%s); importing all of mediapipe", exc)
        _forget_mediapipe()
        importlib.import_module("mediapipe")
        return _import_pose_api()


def _landmark(lm) -> Landmark:
    visibility = lm.visibility if lm.visibility is not None else 1.0
    return Landmark(round(lm.x, DIGITS), round(lm.y, DIGITS), round(lm.z, DIGITS),
                    round(min(1.0, max(0.0, visibility)), DIGITS))


@contextlib.contextmanager
def native_stderr_quiet(enabled: bool):
    """Hide the C++ start-up chatter (TFLite, glog) that is written straight to fd 2.

    Kept on with --debug, where it may help.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()  # what Python already wrote stays visible
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def mediapipe_quiet(enabled: bool):
    """native_stderr_quiet, and no Python warnings either (0.10.14's protobuf warns per call)."""
    with native_stderr_quiet(enabled), warnings.catch_warnings():
        if enabled:
            warnings.simplefilter("ignore")
        yield


def to_pose(result, width: int, height: int) -> Pose | None:
    """The first person in a PoseLandmarkerResult, or None when nobody was found."""
    if not result.pose_landmarks:
        return None
    image = result.pose_landmarks[0]
    world = result.pose_world_landmarks[0] if result.pose_world_landmarks else None
    return Pose(
        width, height,
        {part: _landmark(image[i]) for part, i in MP_INDEX.items()},
        {part: _landmark(world[i]) for part, i in MP_INDEX.items()} if world else None,
    )


class MediaPipePoseEstimator:
    """One tracked person per frame; frames must come in time order."""

    def __init__(self, model_path: Path, min_confidence: float = 0.5) -> None:
        self.api = api = pose_api()
        options = api.PoseLandmarkerOptions(
            base_options=api.BaseOptions(model_asset_path=str(model_path)),
            running_mode=api.RunningMode.VIDEO,
            num_poses=1,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self.quiet = not native_logs_wanted()
        try:
            with mediapipe_quiet(self.quiet):
                self.landmarker = api.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{model_path}: MediaPipe cannot load this pose model ({exc})") from exc
        self.last_ms = -1

    def estimate(self, frame: Frame) -> Pose | None:
        # VIDEO mode wants strictly increasing integer milliseconds.
        ms = max(int(round(frame.t * 1000)), self.last_ms + 1)
        self.last_ms = ms
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        # MediaPipe may print at any frame: while its graph warms up, and later on some
        # inputs (0.10.33 on a covered lens: "Using NORM_RECT without IMAGE_DIMENSIONS").
        with mediapipe_quiet(self.quiet):
            result = self.landmarker.detect_for_video(
                self.api.Image(image_format=self.api.ImageFormat.SRGB, data=rgb), ms)
        height, width = frame.image.shape[:2]
        return to_pose(result, width, height)

    def close(self) -> None:
        if self.landmarker is not None:
            # Newer MediaPipe prints "DestroyAccelerator" lines on close.
            with mediapipe_quiet(self.quiet):
                self.landmarker.close()
            self.landmarker = None

    def __enter__(self) -> "MediaPipePoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
