"""The calibration wizard's preview window (OpenCV): picture, skeleton, step, countdown.

Only shows frames; nothing is written anywhere. A build of OpenCV without
window support (opencv-python-headless) or a display that cannot be opened
turns the window off once, after calling `on_failure`.
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence

import cv2

from ..core.features import VISIBLE
from ..core.pose import Part, Pose

log = logging.getLogger(__name__)

WINDOW = "posturewatch calibration"
QUIT_KEYS = (27, ord("q"))  # Esc, q
BONES = (
    (Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER), (Part.LEFT_SHOULDER, Part.LEFT_ELBOW),
    (Part.LEFT_ELBOW, Part.LEFT_WRIST), (Part.RIGHT_SHOULDER, Part.RIGHT_ELBOW),
    (Part.RIGHT_ELBOW, Part.RIGHT_WRIST), (Part.LEFT_SHOULDER, Part.LEFT_HIP),
    (Part.RIGHT_SHOULDER, Part.RIGHT_HIP), (Part.LEFT_HIP, Part.RIGHT_HIP),
    (Part.LEFT_EAR, Part.LEFT_EYE), (Part.LEFT_EYE, Part.NOSE), (Part.NOSE, Part.RIGHT_EYE),
    (Part.RIGHT_EYE, Part.RIGHT_EAR), (Part.MOUTH_LEFT, Part.MOUTH_RIGHT),
)
WHITE, YELLOW, RED, GREEN = (255, 255, 255), (0, 255, 255), (0, 0, 255), (0, 200, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw(image, pose: Pose | None, title: str, lines: Sequence[str], alerts: Sequence[str],
         big: str | None):
    """A copy of `image` with the skeleton, the title, lines (yellow), alerts (red), `big`."""
    canvas = image.copy()
    if pose is not None:
        _skeleton(canvas, pose)
    cv2.putText(canvas, title, (10, 24), FONT, 0.6, WHITE, 2)
    rows = [(line, YELLOW) for line in lines] + [(line, RED) for line in alerts]
    for i, (line, color) in enumerate(rows):
        cv2.putText(canvas, line, (10, 50 + 22 * i), FONT, 0.5, color, 1)
    if big:
        h, w = canvas.shape[:2]
        cv2.putText(canvas, big, (w - 60, h - 20), FONT, 1.6, GREEN, 3)
    return canvas


def _skeleton(canvas, pose: Pose) -> None:
    def point(part: Part) -> tuple[int, int]:
        x, y = pose.pixel(part)
        return int(round(x)), int(round(y))

    seen = {p for p in Part if pose.visibility(p) >= VISIBLE}
    for a, b in BONES:
        if a in seen and b in seen:
            cv2.line(canvas, point(a), point(b), GREEN, 2)
    for part in seen:
        cv2.circle(canvas, point(part), 3, YELLOW, -1)


class PreviewWindow:
    def __init__(self, on_failure: Callable[[], None] = lambda: None) -> None:
        self.on_failure, self.failed, self.opened = on_failure, False, False

    def show(self, image, pose: Pose | None, title: str, lines: Sequence[str],
             alerts: Sequence[str], big: str | None) -> bool:
        """Draw one frame; False when the user closed the window (Esc or q)."""
        if self.failed:
            return True
        try:
            cv2.imshow(WINDOW, draw(image, pose, title, lines, alerts, big))
            self.opened = True
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as exc:
            log.debug("preview window failed: %s", exc)
            self.failed = True
            self.on_failure()
            return True
        return key not in QUIT_KEYS

    def close(self) -> None:
        if not self.opened:
            return
        try:
            cv2.destroyWindow(WINDOW)
            cv2.waitKey(1)
        except cv2.error:
            pass
