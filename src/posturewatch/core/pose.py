"""Pose: the landmarks of one person in one frame, in our own names.

Only `adapters.mediapipe_pose` knows MediaPipe's indices; everything else
speaks `Part`. Image landmarks are normalised to the frame (x right, y down,
0..1); world landmarks are metres around the hips (z towards the camera is
negative), as MediaPipe gives them.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


class Part(enum.Enum):
    """The upper-body landmarks posturewatch uses."""

    NOSE = "nose"
    LEFT_EYE = "left_eye"
    RIGHT_EYE = "right_eye"
    LEFT_EAR = "left_ear"
    RIGHT_EAR = "right_ear"
    MOUTH_LEFT = "mouth_left"
    MOUTH_RIGHT = "mouth_right"
    LEFT_SHOULDER = "left_shoulder"
    RIGHT_SHOULDER = "right_shoulder"
    LEFT_ELBOW = "left_elbow"
    RIGHT_ELBOW = "right_elbow"
    LEFT_WRIST = "left_wrist"
    RIGHT_WRIST = "right_wrist"
    LEFT_HIP = "left_hip"
    RIGHT_HIP = "right_hip"


PARTS: tuple[Part, ...] = tuple(Part)


@dataclass(frozen=True)
class Landmark:
    x: float
    y: float
    z: float = 0.0
    visibility: float = 1.0

    def __post_init__(self) -> None:
        for name in ("x", "y", "z", "visibility"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"Landmark.{name} must be a finite number, got {value!r}")
        if not 0.0 <= self.visibility <= 1.0:
            raise ValueError(f"Landmark.visibility must be in [0, 1], got {self.visibility!r}")


def _frozen(mapping: Mapping[Part, Landmark] | None, what: str) -> Mapping[Part, Landmark] | None:
    if mapping is None:
        return None
    for key, value in mapping.items():
        if not isinstance(key, Part) or not isinstance(value, Landmark):
            raise ValueError(f"Pose.{what} must map Part to Landmark, got {key!r}: {value!r}")
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Pose:
    """One person's landmarks in a frame of `width` x `height` pixels."""

    width: int
    height: int
    landmarks: Mapping[Part, Landmark]
    world: Mapping[Part, Landmark] | None = None

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"Pose size must be positive pixels, got {self.width}x{self.height}")
        object.__setattr__(self, "landmarks", _frozen(self.landmarks, "landmarks"))
        object.__setattr__(self, "world", _frozen(self.world, "world"))

    def visibility(self, part: Part) -> float:
        lm = self.landmarks.get(part)
        return lm.visibility if lm is not None else 0.0

    def pixel(self, part: Part) -> tuple[float, float]:
        """The landmark in pixels, so that x and y distances are comparable."""
        lm = self.landmarks[part]
        return lm.x * self.width, lm.y * self.height


@dataclass(frozen=True)
class TimedPose:
    """What the estimator saw at time `t` (seconds): a pose, or nobody (None)."""

    t: float
    pose: Pose | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.t, (int, float)) or not math.isfinite(self.t):
            raise ValueError(f"TimedPose.t must be finite seconds, got {self.t!r}")
