"""MediaPipe Pose Landmarker (Tasks API, VIDEO mode) -> core.Pose.

The only module that imports mediapipe or knows its landmark indices.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import cv2
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

from ..core.pose import Landmark, Part, Pose
from ..errors import ModelError
from ..ports import Frame

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
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self.quiet = not log.isEnabledFor(logging.DEBUG)
        try:
            with native_stderr_quiet(self.quiet):
                self.landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{model_path}: MediaPipe cannot load this pose model ({exc})") from exc
        self.last_ms = -1
        self.calls = 0
        self.found = 0  # frames with a person so far

    def estimate(self, frame: Frame) -> Pose | None:
        # VIDEO mode wants strictly increasing integer milliseconds.
        ms = max(int(round(frame.t * 1000)), self.last_ms + 1)
        self.last_ms = ms
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        self.calls += 1
        # The first detections still print warnings while the graph warms up, and the
        # landmark stage warns on its first run, which waits for the first person seen.
        with native_stderr_quiet(self.quiet and (self.calls <= 3 or self.found < 2)):
            result = self.landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ms)
        height, width = frame.image.shape[:2]
        pose = to_pose(result, width, height)
        self.found += pose is not None
        return pose

    def close(self) -> None:
        if self.landmarker is not None:
            with native_stderr_quiet(self.quiet):  # "DestroyAccelerator" lines (mediapipe 1.2)
                self.landmarker.close()
            self.landmarker = None

    def __enter__(self) -> "MediaPipePoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
