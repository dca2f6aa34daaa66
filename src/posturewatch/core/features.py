"""Pose -> PostureFeatures: scale-free ratios and angles, each None when unseen.

Distances are in pixels (so x and y are comparable) divided by a body length
(shoulder width, ear distance) or the frame width, so the numbers do not
depend on the camera's resolution. See docs/features.md for each feature's
meaning and which way it moves when the user slouches.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from .pose import Part, Pose

VISIBLE = 0.5  # MediaPipe visibility above which a landmark counts as seen
FRAME_MARGIN = 0.02  # landmarks this far outside the frame are guesses, not sightings
# In a side view the shoulders overlap: shoulder width shrinks below the
# ear-to-shoulder height, while seen from the front it is about three times it.
SIDE_VIEW_RATIO = 0.8
MIN_SPAN_PX = 4.0  # shorter base lengths make ratios meaningless
# Turning the head by an angle a narrows the ear distance E to E cos a and moves the
# nose sideways from the ears' midpoint by about D sin a, D the nose's depth in front
# of the ears (~2/3 E): so sqrt(ears^2 + (1.5 offset)^2) stays near E.
YAW_FACTOR = 1.5


@dataclass(frozen=True)
class PostureFeatures:
    head_drop_nose: float | None = None  # shoulder line to nose, / shoulder width
    head_drop_ear: float | None = None  # shoulder line to ear line, / shoulder width
    shoulder_width: float | None = None  # / frame width; grows when leaning in
    face_width: float | None = None  # ear distance / frame width; grows when leaning in
    shoulder_tilt_deg: float | None = None  # shoulder line vs horizontal, + = left side lower
    head_roll_deg: float | None = None  # ear (or eye) line vs horizontal, + = left side lower
    head_pitch: float | None = None  # nose below ear line, / ear distance; grows looking down
    neck_inclination_deg: float | None = None  # side view: ear->shoulder vs vertical
    torso_inclination_deg: float | None = None  # side view: shoulder->hip vs vertical
    forward_head_m: float | None = None  # nose ahead of the shoulders, metres (world)
    # Where the head and shoulders are in the frame, and how big the head looks: the
    # presence rule compares them with the calibrated user, and head-only scoring uses
    # them when the shoulders are out of view.
    nose_x: float | None = None  # nose from the frame's left edge, / frame width
    nose_y: float | None = None  # nose below the frame's top edge, / frame width
    shoulder_x: float | None = None  # shoulder midpoint from the left edge, / frame width
    shoulder_y: float | None = None  # shoulder midpoint below the top edge, / frame width
    head_size: float | None = None  # ear distance corrected for head turns, / frame width

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PostureFeatures))


def in_frame(pose: Pose, part: Part) -> bool:
    lm = pose.landmarks.get(part)
    return lm is not None and (-FRAME_MARGIN <= lm.x <= 1 + FRAME_MARGIN
                               and -FRAME_MARGIN <= lm.y <= 1 + FRAME_MARGIN)


def _seen(pose: Pose, *parts: Part) -> bool:
    """Seen, and inside the frame: MediaPipe also places parts it only guesses."""
    return all(pose.visibility(p) >= VISIBLE and in_frame(pose, p) for p in parts)


def _mid(pose: Pose, a: Part, b: Part) -> tuple[float, float]:
    (ax, ay), (bx, by) = pose.pixel(a), pose.pixel(b)
    return (ax + bx) / 2, (ay + by) / 2


def _span(pose: Pose, a: Part, b: Part) -> float:
    (ax, ay), (bx, by) = pose.pixel(a), pose.pixel(b)
    return math.hypot(ax - bx, ay - by)


def _tilt_deg(pose: Pose, left: Part, right: Part) -> float:
    """Angle of the right->left line below horizontal (+ when the left side is lower)."""
    (lx, ly), (rx, ry) = pose.pixel(left), pose.pixel(right)
    return math.degrees(math.atan2(ly - ry, abs(lx - rx)))


def _from_vertical_deg(top: tuple[float, float], bottom: tuple[float, float]) -> float:
    return math.degrees(math.atan2(abs(top[0] - bottom[0]), bottom[1] - top[1]))


SHOULDERS = (Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER)
EARS = (Part.LEFT_EAR, Part.RIGHT_EAR)
EYES = (Part.LEFT_EYE, Part.RIGHT_EYE)


def _head_drop(pose: Pose) -> tuple[float | None, float | None]:
    if not _seen(pose, *SHOULDERS) or _span(pose, *SHOULDERS) < MIN_SPAN_PX:
        return None, None
    width = _span(pose, *SHOULDERS)
    shoulder_y = _mid(pose, *SHOULDERS)[1]
    nose = (shoulder_y - pose.pixel(Part.NOSE)[1]) / width if _seen(pose, Part.NOSE) else None
    ear = (shoulder_y - _mid(pose, *EARS)[1]) / width if _seen(pose, *EARS) else None
    return nose, ear


def _widths(pose: Pose) -> tuple[float | None, float | None]:
    shoulders = _span(pose, *SHOULDERS) / pose.width if _seen(pose, *SHOULDERS) else None
    face = _span(pose, *EARS) / pose.width if _seen(pose, *EARS) else None
    return shoulders, face


def _head_angles(pose: Pose) -> tuple[float | None, float | None]:
    roll = None
    if _seen(pose, *EARS):
        roll = _tilt_deg(pose, *EARS)
    elif _seen(pose, *EYES):
        roll = _tilt_deg(pose, *EYES)
    pitch = None
    if _seen(pose, Part.NOSE, *EARS) and _span(pose, *EARS) >= MIN_SPAN_PX:
        pitch = (pose.pixel(Part.NOSE)[1] - _mid(pose, *EARS)[1]) / _span(pose, *EARS)
    return roll, pitch


def _better_side(pose: Pose) -> tuple[Part, Part, Part]:
    """(ear, shoulder, hip) of the side facing the camera."""
    left = pose.visibility(Part.LEFT_EAR) + pose.visibility(Part.LEFT_SHOULDER)
    right = pose.visibility(Part.RIGHT_EAR) + pose.visibility(Part.RIGHT_SHOULDER)
    if left >= right:
        return Part.LEFT_EAR, Part.LEFT_SHOULDER, Part.LEFT_HIP
    return Part.RIGHT_EAR, Part.RIGHT_SHOULDER, Part.RIGHT_HIP


def _side_view(pose: Pose) -> tuple[float | None, float | None]:
    ear, shoulder, hip = _better_side(pose)
    if not _seen(pose, ear, shoulder):
        return None, None
    neck_px = pose.pixel(shoulder)[1] - pose.pixel(ear)[1]
    shoulders_px = _span(pose, *SHOULDERS)
    if neck_px < MIN_SPAN_PX or shoulders_px >= SIDE_VIEW_RATIO * neck_px:
        return None, None  # seen from the front: these angles mean nothing
    neck = _from_vertical_deg(pose.pixel(ear), pose.pixel(shoulder))
    torso = _from_vertical_deg(pose.pixel(shoulder), pose.pixel(hip)) if _seen(pose, hip) else None
    return neck, torso


def head_size_px(pose: Pose) -> float | None:
    """The head's width in pixels, about the same whichever way it turns."""
    if not _seen(pose, Part.NOSE, *EARS):
        return None
    offset = pose.pixel(Part.NOSE)[0] - _mid(pose, *EARS)[0]
    return math.hypot(_span(pose, *EARS), YAW_FACTOR * offset)


def _placement(pose: Pose) -> tuple[float | None, ...]:
    nose = [v / pose.width for v in pose.pixel(Part.NOSE)] if _seen(pose, Part.NOSE) else [None, None]
    seen = _seen(pose, *SHOULDERS)
    shoulders = [v / pose.width for v in _mid(pose, *SHOULDERS)] if seen else [None, None]
    size = head_size_px(pose)
    return (*nose, *shoulders, None if size is None else size / pose.width)


def _forward_head(pose: Pose) -> float | None:
    world = pose.world
    if world is None or not _seen(pose, Part.NOSE, *SHOULDERS):
        return None
    shoulders_z = (world[Part.LEFT_SHOULDER].z + world[Part.RIGHT_SHOULDER].z) / 2
    return shoulders_z - world[Part.NOSE].z  # z grows away from the camera


def extract(pose: Pose) -> PostureFeatures:
    drop_nose, drop_ear = _head_drop(pose)
    shoulders, face = _widths(pose)
    roll, pitch = _head_angles(pose)
    neck, torso = _side_view(pose)
    tilt = _tilt_deg(pose, *SHOULDERS) if _seen(pose, *SHOULDERS) else None
    place = _placement(pose)
    if neck is not None:  # seen from the side, the shoulders and ears overlap: their
        # widths, tilt and sideways place measure noise, and so do ratios to them
        drop_nose = drop_ear = shoulders = face = tilt = None
        place = (*place[:2], None, *place[3:])
    return PostureFeatures(drop_nose, drop_ear, shoulders, face, tilt, roll, pitch,
                           neck, torso, _forward_head(pose), *place)
