"""Is the user well framed for calibration? Plain-word problems, most urgent first.

Pure: the caller measures the frame's brightness at the edge (mean grey level,
0..255) and passes it in with the observation; None skips the light check.
"""

from __future__ import annotations

from dataclasses import dataclass

from .observation import FRAME_MARGIN, Observation
from .pose import Part, Pose

# Calibration wants good confidence, stricter than features.VISIBLE (0.5) that
# only decides whether a feature is measured at all: at a desk MediaPipe gives
# 0.93-1.0 for a face and shoulders in view and drops below 0.7 when a part is
# covered, out of frame or lost in the dark.
GOOD_VISIBILITY = 0.7
# Shoulder width / frame width. At a laptop or desk webcam an adult's shoulders
# span 0.3-0.55 of the frame; under 0.15 the head is a few dozen pixels wide and
# the landmarks jitter more than a slouch moves them; over 0.75 leaning in a
# little pushes the shoulders out of the frame.
MIN_SHOULDER_WIDTH = 0.15
MAX_SHOULDER_WIDTH = 0.75
# Mean grey level (0..255). Below ~40 a webcam's picture is mostly noise and
# the pose model's landmarks wander; a lit room gives 90-170.
MIN_BRIGHTNESS = 40.0
# Nose offset from the midpoint between the ears, / ear distance: 0 facing the
# camera, 0.5 with the nose in line with an ear. A head turned to the screen
# while the camera sits on top of it stays under ~0.25.
MAX_YAW = 0.4

NOBODY = "I can't see you — sit in front of the camera"
NO_FACE = "I can't see your face"
SHOULDERS_CUT = "move back a little — your shoulders are cut off"
NO_SHOULDERS = "I can't see both shoulders"
TOO_FAR = "move closer — you are far from the camera"
TOO_CLOSE = "move back — you are very close"
TOO_DARK = "it's too dark — turn on a light or face a window"
TURNED = "face the camera"

SHOULDERS = (Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER)
EARS = (Part.LEFT_EAR, Part.RIGHT_EAR)
EYES = (Part.LEFT_EYE, Part.RIGHT_EYE)


@dataclass(frozen=True)
class FramingReport:
    ok: bool
    problems: tuple[str, ...]  # plain words, most urgent first; empty when ok


def _in_frame(pose: Pose, part: Part) -> bool:
    lm = pose.landmarks.get(part)
    return lm is not None and (-FRAME_MARGIN <= lm.x <= 1 + FRAME_MARGIN
                               and -FRAME_MARGIN <= lm.y <= 1 + FRAME_MARGIN)


def _good(pose: Pose, part: Part) -> bool:
    return pose.visibility(part) >= GOOD_VISIBILITY and _in_frame(pose, part)


def _face_problem(pose: Pose) -> str | None:
    sides = any(_good(pose, p) for p in EARS + EYES)
    return None if _good(pose, Part.NOSE) and sides else NO_FACE


def _shoulder_problem(pose: Pose) -> str | None:
    if all(_good(pose, p) for p in SHOULDERS):
        return None
    if any(p in pose.landmarks and not _in_frame(pose, p) for p in SHOULDERS):
        return SHOULDERS_CUT
    return NO_SHOULDERS


def _distance_problem(pose: Pose) -> str | None:
    (lx, ly), (rx, ry) = pose.pixel(Part.LEFT_SHOULDER), pose.pixel(Part.RIGHT_SHOULDER)
    width = ((lx - rx) ** 2 + (ly - ry) ** 2) ** 0.5 / pose.width
    if width < MIN_SHOULDER_WIDTH:
        return TOO_FAR
    if width > MAX_SHOULDER_WIDTH:
        return TOO_CLOSE
    return None


def _turned(pose: Pose) -> bool:
    if not all(_good(pose, p) for p in EARS):
        return any(_good(pose, p) for p in EARS)  # one ear only: seen in profile
    (lx, _), (rx, _) = pose.pixel(Part.LEFT_EAR), pose.pixel(Part.RIGHT_EAR)
    span = abs(lx - rx)
    if span <= 1e-6:
        return True
    return abs(pose.pixel(Part.NOSE)[0] - (lx + rx) / 2) / span > MAX_YAW


def _pose_problems(pose: Pose | None) -> list[str]:
    if pose is None:
        return [NOBODY]
    problems = [p for p in (_face_problem(pose), _shoulder_problem(pose)) if p]
    if not problems:
        problems += [p for p in (_distance_problem(pose),) if p]
        if _turned(pose):
            problems.append(TURNED)
    return problems


def check_framing(obs: Observation, brightness: float | None = None) -> FramingReport:
    """What, if anything, to fix before calibrating, from one observation."""
    problems = _pose_problems(obs.pose)
    if brightness is not None and brightness < MIN_BRIGHTNESS:
        # In the dark the pose problems are a consequence: say the cause first.
        problems.insert(0, TOO_DARK)
    return FramingReport(not problems, tuple(problems))


# How long the framing must stay right before recording starts: long enough
# that a lucky frame while the user is still settling does not count.
HOLD_S = 2.0
TIMEOUT_S = 45.0  # then the wizard gives up and says what was still wrong


class FramingGate:
    """Framing reports with their times -> "checking", "ok" or "timeout".

    `update(report, t)` says "ok" once the framing has been right for `hold_s`
    without a break, "timeout" when `timeout_s` passed since the first report
    without that. `problems` holds the last problems seen (for the message).
    """

    def __init__(self, hold_s: float = HOLD_S, timeout_s: float = TIMEOUT_S) -> None:
        if hold_s < 0 or timeout_s <= 0:
            raise ValueError(f"FramingGate needs hold_s >= 0 and timeout_s > 0, "
                             f"got {hold_s!r}, {timeout_s!r}")
        self.hold_s, self.timeout_s = hold_s, timeout_s
        self.started: float | None = None
        self.ok_since: float | None = None
        self.problems: tuple[str, ...] = ()

    def update(self, report: FramingReport, t: float) -> str:
        if self.started is None:
            self.started = t
        if report.ok:
            self.ok_since = t if self.ok_since is None else self.ok_since
            if t - self.ok_since >= self.hold_s - 1e-9:
                return "ok"
        else:
            self.ok_since, self.problems = None, report.problems
        return "timeout" if t - self.started >= self.timeout_s else "checking"
