"""Is the user at the desk? The one presence rule every consumer asks.

`judge(pose, reference)` says, for one frame, whether the user is seated in
view ("present"), standing up ("standing") or not there ("away"), and why.
The break timer, the posture tracker, analyze's segments, evaluate and the
daemon's sampling rate all use this one answer, so they cannot disagree.

What it rejects, with reasons that hold for any person and camera:

- nobody, or only landmarks outside the frame (a tracker that lingers after
  the user left);
- a phantom: MediaPipe finds faint "people" in background lights when the chair
  is empty; their faces are tiny, or the "head" sits below the shoulders;
- someone else: a person far smaller than the calibrated user (a colleague
  walking past far behind), or, without a calibration, too small to be at the
  desk at all.

A face seen clearly is the user even when the shoulders are out of the frame
(a deep slump in a small laptop frame pushes them off the bottom). Standing
is the head far above where it was calibrated with the shoulders risen too,
or a torso in view whose head is not (it left the top of the frame).
The constants are explained in docs/features.md ("Presence").
"""

from __future__ import annotations

from dataclasses import dataclass

from .baseline import Baseline
from .features import FRAME_MARGIN, VISIBLE, head_size_px, in_frame
from .pose import Part, Pose

PRESENT, STANDING, AWAY = "present", "standing", "away"
STATES = (PRESENT, STANDING, AWAY)

# A face (or a standing torso) seen clearly: MediaPipe gives 0.93-1.0 for parts in
# view and 0.7-0.9 for faint phantoms in background lights or a lingering tracker.
CLEAR_FACE = 0.9
# A head under 4 % of the frame width (ears and turn) is more than ~2.5 m from a
# desk webcam (78 deg field of view): nobody sitting at that desk.
MIN_HEAD_SIZE = 0.04
# Against the calibration: under 35 % of the calibrated head (or shoulder) width is
# someone nearly three times further away than the user sat, i.e. someone else ...
SOMEONE_ELSE = 0.35
# ... and so is a smaller person (under 75 %) whose head is more than 2.5 calibrated
# head widths from where the user's was: people sit where they sat (leaning
# sideways moves the head about one head width; leaning in makes it larger).
SMALLER = 0.75
ELSEWHERE = 2.5
# ... and so is a person whose head and shoulders both look under 45 % of the
# calibrated user's: two independent sizes agree that they are more than twice as
# far from the camera as the user sat (leaning back in the chair shrinks a user to
# about 0.65). MediaPipe's phantoms on background lights are frontal "people" at a
# third of the user's size, sometimes with a clear face and shoulders.
FAR_BEHIND = 0.45
# The nose is never below the shoulder line of a seated person facing the camera
# (0.5-0.7 shoulder widths above it upright, 0.2 in the deepest sample slouch).
HEAD_BELOW_SHOULDERS = -0.1
# Standing up lifts the nose several head widths and the shoulders with it;
# sitting up straight or leaning in moves the nose under 0.8 head widths.
STAND_NOSE_RISE = 1.5  # head widths (calibrated)
STAND_SHOULDER_RISE = 1.0
# A standing person at the desk is close: shoulders under a tenth of the frame
# width (or under SOMEONE_ELSE of the calibrated ones) are further away than that.
MIN_STANDING_SHOULDERS = 0.1

HEAD = (Part.NOSE, Part.LEFT_EYE, Part.RIGHT_EYE, Part.LEFT_EAR, Part.RIGHT_EAR)
EYES = (Part.LEFT_EYE, Part.RIGHT_EYE)
EARS = (Part.LEFT_EAR, Part.RIGHT_EAR)
SHOULDERS = (Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER)
HIPS = (Part.LEFT_HIP, Part.RIGHT_HIP)


@dataclass(frozen=True)
class PresenceReference:
    """The calibrated user, from the profile's baseline (each None when not calibrated).

    Sizes and heights are divided by the frame width, as the features are.
    """

    head_size: float | None = None
    shoulder_width: float | None = None
    nose_x: float | None = None
    nose_y: float | None = None
    shoulder_y: float | None = None

    @classmethod
    def from_baseline(cls, baseline: Baseline) -> "PresenceReference":
        def center(name: str) -> float | None:
            base = baseline.get(name)
            return base.center if base is not None and base.center > 0 else None
        return cls(center("head_size"), center("shoulder_width"), center("nose_x"),
                   center("nose_y"), center("shoulder_y"))


@dataclass(frozen=True)
class Presence:
    state: str  # PRESENT, STANDING or AWAY
    why: str  # seated, face, standing, nobody, out_of_frame, phantom, too_small, someone_else

    @property
    def present(self) -> bool:
        return self.state == PRESENT


NOBODY = Presence(AWAY, "nobody")


def _sighted(pose: Pose, part: Part, visibility: float = VISIBLE) -> bool:
    return pose.visibility(part) >= visibility and in_frame(pose, part)


def _seen(pose: Pose, *parts: Part) -> bool:
    """Seen, in the frame or not: a standing user's shoulders may be above it."""
    return all(pose.visibility(p) >= VISIBLE for p in parts)


def _y(pose: Pose, *parts: Part) -> float:
    """Mean height of `parts` below the frame's top edge, / frame width."""
    return sum(pose.pixel(p)[1] for p in parts) / len(parts) / pose.width


def clear_face(pose: Pose) -> bool:
    """Nose, an eye and an ear seen well inside the frame."""
    return (_sighted(pose, Part.NOSE, CLEAR_FACE)
            and any(_sighted(pose, p, CLEAR_FACE) for p in EYES)
            and any(_sighted(pose, p, CLEAR_FACE) for p in EARS))


def _head_below_shoulders(pose: Pose) -> bool:
    if not _seen(pose, Part.NOSE, *SHOULDERS):
        return False
    (lx, ly), (rx, ry) = pose.pixel(Part.LEFT_SHOULDER), pose.pixel(Part.RIGHT_SHOULDER)
    width = max(((lx - rx) ** 2 + (ly - ry) ** 2) ** 0.5, 1.0)
    return ((ly + ry) / 2 - pose.pixel(Part.NOSE)[1]) / width < HEAD_BELOW_SHOULDERS


def _head_above_frame(pose: Pose) -> bool:
    """MediaPipe still places the head when it has left the top of the frame."""
    return _seen(pose, Part.NOSE) and pose.landmarks[Part.NOSE].y < -FRAME_MARGIN


def _ratios(pose: Pose, ref: PresenceReference) -> tuple[float | None, float | None]:
    """Head size and shoulder width against the calibrated user's (None: not measured)."""
    head, width = head_size_px(pose), _shoulder_width(pose)
    head = head / pose.width / ref.head_size if head is not None and ref.head_size else None
    width = width / ref.shoulder_width if width is not None and ref.shoulder_width else None
    return head, width


def _elsewhere(pose: Pose, ref: PresenceReference) -> bool:
    """The nose far from where the calibrated user's was (in calibrated head widths)."""
    if ref.nose_x is None or ref.nose_y is None or not ref.head_size:
        return False
    if not _sighted(pose, Part.NOSE):
        return False
    x, y = (v / pose.width for v in pose.pixel(Part.NOSE))
    return ((x - ref.nose_x) ** 2 + (y - ref.nose_y) ** 2) ** 0.5 > ELSEWHERE * ref.head_size


def _far_behind(pose: Pose, ref: PresenceReference) -> bool:
    head, shoulders = _ratios(pose, ref)
    return head is not None and shoulders is not None and max(head, shoulders) < FAR_BEHIND


def _someone_else(pose: Pose, ref: PresenceReference) -> bool:
    if _far_behind(pose, ref):
        return True
    head, shoulders = _ratios(pose, ref)
    ratio = head if head is not None else shoulders  # shoulders when the head is not measured
    if ratio is None:
        return False
    return ratio < SOMEONE_ELSE or (ratio < SMALLER and _elsewhere(pose, ref))


def _size_problem(pose: Pose, ref: PresenceReference | None) -> str | None:
    size = head_size_px(pose)
    if size is not None and size / pose.width < MIN_HEAD_SIZE:
        return "too_small"
    if ref is not None and _someone_else(pose, ref):
        return "someone_else"
    return None


def _stood_up(pose: Pose, ref: PresenceReference | None) -> bool:
    """Against the calibration: the head far above its place, the shoulders risen too."""
    if ref is None or not (ref.head_size and ref.nose_y is not None):
        return False
    if not _seen(pose, Part.NOSE):
        return False
    nose_rise = (ref.nose_y - _y(pose, Part.NOSE)) / ref.head_size
    if nose_rise < STAND_NOSE_RISE:
        return False
    if ref.shoulder_y is None or not _seen(pose, *SHOULDERS):
        return True
    return (ref.shoulder_y - _y(pose, *SHOULDERS)) / ref.head_size >= STAND_SHOULDER_RISE


def _shoulder_width(pose: Pose) -> float | None:
    if not _seen(pose, *SHOULDERS):
        return None
    (lx, ly), (rx, ry) = pose.pixel(Part.LEFT_SHOULDER), pose.pixel(Part.RIGHT_SHOULDER)
    return ((lx - rx) ** 2 + (ly - ry) ** 2) ** 0.5 / pose.width


def _torso_to_stand(pose: Pose, ref: PresenceReference | None) -> bool:
    """A user standing at the desk is close and in plain view: shoulders seen clearly
    (a tracker lingering in an empty room reports them at 0.7-0.85) and not small."""
    if not all(pose.visibility(p) >= CLEAR_FACE for p in SHOULDERS):
        return False
    width = _shoulder_width(pose)
    if width is None:
        return False
    if ref is not None and ref.shoulder_width:
        return width >= SOMEONE_ELSE * ref.shoulder_width and not _far_behind(pose, ref)
    return width >= MIN_STANDING_SHOULDERS


def _torso_without_head(pose: Pose) -> bool:
    """Shoulders over hips in view while the head is above the frame or not a head."""
    if not (_seen(pose, *SHOULDERS) and all(_sighted(pose, p) for p in HIPS)):
        return False
    if _y(pose, *SHOULDERS) >= _y(pose, *HIPS):
        return False
    return _head_above_frame(pose) or _head_below_shoulders(pose)


def judge(pose: Pose | None, reference: PresenceReference | None = None) -> Presence:
    """Seated user, standing user, or away (and why) for one frame."""
    if pose is None:
        return NOBODY
    if ((_stood_up(pose, reference) or _torso_without_head(pose))
            and _torso_to_stand(pose, reference)):
        return Presence(STANDING, "standing")
    head = any(_sighted(pose, p) for p in HEAD)
    shoulder = any(_sighted(pose, p) for p in SHOULDERS)
    face = clear_face(pose) and head_size_px(pose) is not None
    if not (face or (head and shoulder)):
        return Presence(AWAY, "out_of_frame")
    if not face and not any(_sighted(pose, p, CLEAR_FACE) for p in SHOULDERS):
        # No clear face: presence rests on the shoulders, so they must be seen clearly
        # (a tracker lingering after the user left reports them at 0.5-0.85).
        return Presence(AWAY, "phantom")
    if _head_below_shoulders(pose):
        return Presence(AWAY, "phantom")
    problem = _size_problem(pose, reference)
    if problem is not None:
        return Presence(AWAY, problem)
    return Presence(PRESENT, "seated" if shoulder else "face")
