"""check_framing and FramingGate on hand-made poses: plain-word problems, most urgent first."""

from __future__ import annotations

import pytest

from posturewatch.core import framing as fr
from posturewatch.core.framing import FramingGate, FramingReport, check_framing
from posturewatch.core.observation import observe
from posturewatch.core.pose import Landmark, Part, Pose, TimedPose

W, H = 640, 480
FRONT = {  # a person facing the camera at a normal distance (normalised x, y)
    Part.NOSE: (0.50, 0.40), Part.LEFT_EYE: (0.52, 0.37), Part.RIGHT_EYE: (0.48, 0.37),
    Part.LEFT_EAR: (0.55, 0.38), Part.RIGHT_EAR: (0.45, 0.38),
    Part.MOUTH_LEFT: (0.51, 0.44), Part.MOUTH_RIGHT: (0.49, 0.44),
    Part.LEFT_SHOULDER: (0.65, 0.70), Part.RIGHT_SHOULDER: (0.35, 0.70),
}


def pose(moved: dict | None = None, hidden: tuple = (), **vis) -> Pose:
    """FRONT with some parts moved, some hidden (visibility 0.1); elbows etc. unseen."""
    points = {**FRONT, **(moved or {})}
    marks = {}
    for part in Part:
        x, y = points.get(part, (0.5, 0.9))
        seen = part in points and part not in hidden
        marks[part] = Landmark(x, y, 0.0, vis.get(part.value, 0.99 if seen else 0.1))
    return Pose(W, H, marks)


def report(p: Pose | None, brightness: float | None = 120.0) -> FramingReport:
    return check_framing(observe(TimedPose(0.0, p)), brightness)


SHOULDERS_AT = lambda left, right, y=0.70: {Part.LEFT_SHOULDER: (left, y),  # noqa: E731
                                            Part.RIGHT_SHOULDER: (right, y)}

CASES = [
    ("facing the camera, lit", pose(), 120.0, ()),
    ("no brightness measured", pose(), None, ()),
    ("nobody", None, 120.0, (fr.NOBODY,)),
    ("face covered", pose(hidden=(Part.NOSE, Part.LEFT_EYE, Part.RIGHT_EYE, Part.LEFT_EAR,
                                  Part.RIGHT_EAR)), 120.0, (fr.NO_FACE,)),
    ("nose unsure", pose(nose=0.6), 120.0, (fr.NO_FACE,)),
    ("shoulders below the frame", pose(SHOULDERS_AT(0.7, 0.3, 1.08)), 120.0, (fr.SHOULDERS_CUT,)),
    ("one shoulder off the side", pose(SHOULDERS_AT(1.05, 0.4)), 120.0, (fr.SHOULDERS_CUT,)),
    ("one shoulder hidden", pose(hidden=(Part.RIGHT_SHOULDER,)), 120.0, (fr.NO_SHOULDERS,)),
    ("shoulder unsure", pose(left_shoulder=0.6), 120.0, (fr.NO_SHOULDERS,)),
    ("far away", pose(SHOULDERS_AT(0.56, 0.44)), 120.0, (fr.TOO_FAR,)),
    ("just far enough", pose(SHOULDERS_AT(0.58, 0.42)), 120.0, ()),
    ("very close", pose(SHOULDERS_AT(0.9, 0.1)), 120.0, (fr.TOO_CLOSE,)),
    ("just close enough", pose(SHOULDERS_AT(0.87, 0.13)), 120.0, ()),
    ("dark room", pose(), 25.0, (fr.TOO_DARK,)),
    ("dim but enough", pose(), 45.0, ()),
    ("dark and nobody: the cause first", None, 10.0, (fr.TOO_DARK, fr.NOBODY)),
    ("head turned", pose({Part.NOSE: (0.545, 0.40)}), 120.0, (fr.TURNED,)),
    ("head turned a little", pose({Part.NOSE: (0.52, 0.40)}), 120.0, ()),
    ("in profile: one ear", pose(hidden=(Part.RIGHT_EAR,)), 120.0, (fr.TURNED,)),
    ("far and turned", pose({**SHOULDERS_AT(0.55, 0.45), Part.NOSE: (0.548, 0.4)}), 120.0,
     (fr.TOO_FAR, fr.TURNED)),
]


@pytest.mark.parametrize("what, p, light, expected", CASES, ids=[c[0] for c in CASES])
def test_check_framing(what, p, light, expected):
    got = report(p, light)
    assert got.problems == expected
    assert got.ok == (not expected)


def test_problems_are_plain_sentences():
    for text in (fr.NOBODY, fr.NO_FACE, fr.SHOULDERS_CUT, fr.NO_SHOULDERS, fr.TOO_FAR,
                 fr.TOO_CLOSE, fr.TOO_DARK, fr.TURNED):
        assert text and "_" not in text and not text.endswith(".")


OK, BAD = FramingReport(True, ()), FramingReport(False, (fr.NO_FACE,))


def test_gate_opens_after_holding_good_framing():
    gate = FramingGate(hold_s=2.0, timeout_s=30.0)
    states = [gate.update(OK if t >= 1.0 else BAD, t) for t in (0.0, 0.5, 1.0, 2.0, 2.9, 3.0)]
    assert states == ["checking"] * 5 + ["ok"]


def test_gate_restarts_the_hold_on_a_bad_frame():
    gate = FramingGate(hold_s=2.0, timeout_s=30.0)
    for t, r in ((0.0, OK), (1.5, BAD), (2.0, OK), (3.5, OK)):
        assert gate.update(r, t) == "checking"
    assert gate.update(OK, 4.0) == "ok"


def test_gate_times_out_with_the_last_problems():
    gate = FramingGate(hold_s=2.0, timeout_s=5.0)
    states = [gate.update(BAD, 10.0 + t) for t in range(6)]
    assert states[-1] == "timeout" and "timeout" not in states[:-1]
    assert gate.problems == (fr.NO_FACE,)


@pytest.mark.parametrize("hold, timeout", [(-1.0, 5.0), (1.0, 0.0)])
def test_gate_rejects_bad_settings(hold, timeout):
    with pytest.raises(ValueError, match="FramingGate"):
        FramingGate(hold, timeout)


def test_core_framing_loads_and_judges_frames_without_cv2(monkeypatch):
    """The wizard's framing check is pure: with cv2 and mediapipe unimportable, a fresh
    copy of the module loads and gives every case its expected problems."""
    import importlib
    import sys

    for name in ("cv2", "mediapipe"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "posturewatch.core.framing")
    fresh = importlib.import_module("posturewatch.core.framing")
    assert fresh is not fr and not {"cv2", "mediapipe"} & set(vars(fresh))
    got = [fresh.check_framing(observe(TimedPose(0.0, p)), light).problems
           for _, p, light, _ in CASES]
    assert got == [expected for *_, expected in CASES]
