"""The presence rule (core.presence.judge), table-driven on hand-made poses.

The base pose is test_core_features.FRONT: a person facing a 640x480 camera, ears 70 px
apart (head size 0.109 of the frame width), shoulders 160 px apart at y=300, nose at
(320, 200), hips in view at y=460. Expected outcomes follow from those pixels and the
rule's documented constants, not from the rule's own output.
"""

from __future__ import annotations

import pytest

from posturewatch.core.baseline import Baseline, FeatureBaseline
from posturewatch.core.features import extract
from posturewatch.core.presence import (AWAY, PRESENT, STANDING, Presence, PresenceReference,
                                        judge)
from test_core_features import FRONT, HEAD, H, P, W, pose, scaled, shifted

HIPS = (P.LEFT_HIP, P.RIGHT_HIP)
SHOULDERS = (P.LEFT_SHOULDER, P.RIGHT_SHOULDER)
EARS = (P.LEFT_EAR, P.RIGHT_EAR)
ALL = tuple(FRONT)

# The user as calibrated: FRONT itself.
USER = PresenceReference(head_size=70 / W, shoulder_width=160 / W, nose_x=320 / W,
                         nose_y=200 / W, shoulder_y=300 / W)


def moved(parts, dx=0.0, dy=0.0, **kw):
    return pose(moved=shifted(parts, dx, dy), **kw)


def small_at(factor: float, centre) -> dict:
    """FRONT shrunk by `factor` and placed with its nose at `centre`: someone further away."""
    cx, cy = centre
    nx, ny = FRONT[P.NOSE]
    return {p: (cx + (x - nx) * factor, cy + (y - ny) * factor) for p, (x, y) in FRONT.items()}


# (name, pose, reference, state, why)
CASES = [
    ("nobody", None, None, AWAY, "nobody"),
    ("a person facing the camera", pose(), None, PRESENT, "seated"),
    ("... the calibrated user", pose(), USER, PRESENT, "seated"),
    ("everything slid off the right edge", pose({p: (x + 0.8 * W, y) for p, (x, y) in FRONT.items()}),
     None, AWAY, "out_of_frame"),
    ("half out of the frame, face still in view", moved(ALL, dx=0.4 * W), None, PRESENT, "seated"),
    ("faint everywhere (visibility 0.3)", pose(visibility=0.3), None, AWAY, "out_of_frame"),
    ("a phantom: seen at 0.8, no clear face, shoulders not clear", pose(visibility=0.8), None,
     AWAY, "phantom"),
    # A face seen clearly is a person even when the shoulders are not.
    ("a clear face, shoulders unseen", pose(hidden=SHOULDERS), None, PRESENT, "face"),
    ("a clear face, shoulders off the bottom", pose(moved={P.LEFT_SHOULDER: (400, H * 1.1),
                                                          P.RIGHT_SHOULDER: (240, H * 1.1)}),
     USER, PRESENT, "face"),
    ("a faint face without shoulders", pose(hidden=SHOULDERS, visibility=0.8), None, AWAY,
     "out_of_frame"),
    ("shoulders but no head", pose(hidden=HEAD), None, AWAY, "out_of_frame"),
    ("one ear and both shoulders seen clearly", pose(hidden=tuple(set(HEAD) - {P.LEFT_EAR})),
     None, PRESENT, "seated"),
    ("the 'head' below the shoulder line, no hips", moved(HEAD, dy=150, hidden=HIPS), None, AWAY,
     "phantom"),
    # Size: too small to be at the desk, or far smaller than the calibrated user.
    ("a head 3 % of the frame wide", pose(small_at(0.3, (320, 200))), None, AWAY, "too_small"),
    ("a head half the calibrated size, in the user's place (leaning back)",
     pose(small_at(0.5, (320, 200))), USER, PRESENT, "seated"),
    ("... the same, far from the user's place (someone passing behind)",
     pose(small_at(0.5, (560, 100))), USER, AWAY, "someone_else"),
    ("... the same without a profile: plausible at the desk", pose(small_at(0.5, (560, 100))),
     None, PRESENT, "seated"),
    ("a third of the calibrated head (0.35 x a closer calibration)", pose(small_at(0.6, (320, 200))),
     PresenceReference(head_size=0.2, shoulder_width=0.45), AWAY, "someone_else"),
    # Head and shoulders both under 45 % of the calibrated ones: more than twice as far away
    # as the user sat, wherever it is (MediaPipe's phantoms on background lights).
    ("head and shoulders two fifths of the calibrated ones, in the user's place",
     pose(small_at(0.4, (320, 200))), USER, AWAY, "someone_else"),
    ("... the same without a profile: plausible at the desk", pose(small_at(0.4, (320, 200))),
     None, PRESENT, "seated"),
    ("... the head alone that small (shoulders unseen): one size is not enough",
     pose(small_at(0.4, (320, 200)), hidden=SHOULDERS), USER, PRESENT, "face"),
    ("... risen too: not the user standing up but someone standing far behind",
     pose(small_at(0.4, (320, 40))), USER, AWAY, "someone_else"),
    # No head size to go by: the shoulders stand in for it, in both size rules.
    ("ears unseen, shoulders 60 % of the calibrated width, far from the user's place",
     pose(small_at(0.6, (560, 100)), hidden=EARS), USER, AWAY, "someone_else"),
    ("... the same in the user's place", pose(small_at(0.6, (320, 200)), hidden=EARS), USER,
     PRESENT, "seated"),
    # Standing.
    ("risen 150 px: nose and shoulders 2 head widths up", moved(ALL, dy=-150), USER, STANDING,
     "standing"),
    ("sitting up tall: 40 px", moved(ALL, dy=-40), USER, PRESENT, "seated"),
    ("risen, but shoulders faint (a lingering tracker)", moved(ALL, dy=-150, visibility=0.8), USER,
     AWAY, "phantom"),
    ("the head above the frame, torso and hips in view", moved(HEAD, dy=-0.5 * H), None, STANDING,
     "standing"),
    ("the 'head' on the chest, torso and hips in view", moved(HEAD, dy=200), None, STANDING,
     "standing"),
    ("the head above the frame, no hips", moved(HEAD, dy=-0.5 * H, hidden=HIPS), None, AWAY,
     "out_of_frame"),
]


@pytest.mark.parametrize("name,the_pose,reference,state,why", CASES, ids=[c[0] for c in CASES])
def test_presence_rule(name, the_pose, reference, state, why):
    assert judge(the_pose, reference) == Presence(state, why)


def baseline_of(features) -> Baseline:
    values = {n: v for n, v in features.as_dict().items() if v is not None}
    return Baseline({n: FeatureBaseline(v, 0.01, 10) for n, v in values.items()}, 10)


def test_the_reference_comes_from_the_profile_baseline():
    reference = PresenceReference.from_baseline(baseline_of(extract(pose())))
    assert reference.head_size == pytest.approx(USER.head_size)
    assert reference.shoulder_width == pytest.approx(USER.shoulder_width)
    assert (reference.nose_x, reference.nose_y, reference.shoulder_y) == pytest.approx(
        (USER.nose_x, USER.nose_y, USER.shoulder_y))


def test_an_old_profile_without_head_features_gives_a_partial_reference():
    old = Baseline({"shoulder_width": FeatureBaseline(0.25, 0.01, 10),
                    "head_drop_ear": FeatureBaseline(0.6, 0.02, 10)}, 10)
    reference = PresenceReference.from_baseline(old)
    assert reference == PresenceReference(shoulder_width=0.25)
    # Shoulders far narrower than calibrated, no head size to go by: someone else.
    narrow = pose(scaled(0.3), hidden=(P.NOSE,))
    assert judge(narrow, reference) == Presence(AWAY, "someone_else")
    assert judge(pose(), reference) == Presence(PRESENT, "seated")
