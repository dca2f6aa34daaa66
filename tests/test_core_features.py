"""core.features.extract and core.observation.observe on hand-made poses.

Every expected value is worked out by hand from the pixel positions below, not
read off the code's output. The base pose is a person facing a 640x480 camera:
shoulders 160 px apart at y=300, nose 100 px above them, ears 70 px apart.
Left/right are the person's own (MediaPipe's), so their left is on the image right.
"""

from __future__ import annotations

import math

import pytest

from posturewatch.core.features import FEATURE_NAMES, PostureFeatures, extract
from posturewatch.core.observation import observe
from posturewatch.core.pose import Landmark, Part, Pose, TimedPose

W, H = 640, 480
P = Part

# Pixel positions of the base pose: upright, facing the camera.
FRONT = {
    P.NOSE: (320, 200), P.LEFT_EYE: (335, 185), P.RIGHT_EYE: (305, 185),
    P.LEFT_EAR: (355, 195), P.RIGHT_EAR: (285, 195),
    P.MOUTH_LEFT: (330, 220), P.MOUTH_RIGHT: (310, 220),
    P.LEFT_SHOULDER: (400, 300), P.RIGHT_SHOULDER: (240, 300),
    P.LEFT_ELBOW: (430, 400), P.RIGHT_ELBOW: (210, 400),
    P.LEFT_WRIST: (420, 470), P.RIGHT_WRIST: (220, 470),
    P.LEFT_HIP: (380, 460), P.RIGHT_HIP: (260, 460),
}


def pose(pixels=None, moved=None, hidden=(), visibility=1.0, size=(W, H), world=None) -> Pose:
    """A pose from pixel positions: FRONT (or `pixels`), with `moved` parts replaced
    and `hidden` parts at visibility 0.1."""
    px = dict(FRONT if pixels is None else pixels)
    px.update(moved or {})
    w, h = size
    marks = {part: Landmark(x / w, y / h, 0.0, 0.1 if part in hidden else visibility)
             for part, (x, y) in px.items()}
    return Pose(w, h, marks, world)


def shifted(parts, dx=0.0, dy=0.0, base=FRONT) -> dict:
    return {p: (base[p][0] + dx, base[p][1] + dy) for p in parts}


HEAD = (P.NOSE, P.LEFT_EYE, P.RIGHT_EYE, P.LEFT_EAR, P.RIGHT_EAR, P.MOUTH_LEFT, P.MOUTH_RIGHT)
SHOULDERS_ = (P.LEFT_SHOULDER, P.RIGHT_SHOULDER)


def scaled(factor: float, centre=(320, 300)) -> dict:
    cx, cy = centre
    return {p: (cx + (x - cx) * factor, cy + (y - cy) * factor) for p, (x, y) in FRONT.items()}


# --- head drop, widths, tilt, roll, pitch ---------------------------------------

CASES = [
    # (name, pose, feature, expected)
    ("upright nose drop", pose(), "head_drop_nose", 100 / 160),
    ("upright ear drop", pose(), "head_drop_ear", 105 / 160),
    ("head sunk 40 px: nose", pose(moved=shifted(HEAD, dy=40)), "head_drop_nose", 60 / 160),
    ("head sunk 40 px: ears", pose(moved=shifted(HEAD, dy=40)), "head_drop_ear", 65 / 160),
    ("shoulder width", pose(), "shoulder_width", 160 / 640),
    ("face width", pose(), "face_width", 70 / 640),
    ("leaning in x1.25: shoulders", pose(scaled(1.25)), "shoulder_width", 200 / 640),
    ("leaning in x1.25: face", pose(scaled(1.25)), "face_width", 87.5 / 640),
    ("leaning in keeps the head drop", pose(scaled(1.25)), "head_drop_nose", 100 / 160),
    ("level shoulders", pose(), "shoulder_tilt_deg", 0.0),
    ("left shoulder 40 px lower", pose(moved={P.LEFT_SHOULDER: (400, 340)}),
     "shoulder_tilt_deg", math.degrees(math.atan2(40, 160))),
    ("right shoulder 40 px lower", pose(moved={P.RIGHT_SHOULDER: (240, 340)}),
     "shoulder_tilt_deg", -math.degrees(math.atan2(40, 160))),
    ("level ears", pose(), "head_roll_deg", 0.0),
    ("left ear 10 px lower", pose(moved={P.LEFT_EAR: (355, 205)}),
     "head_roll_deg", math.degrees(math.atan2(10, 70))),
    ("ears unseen: roll from the eyes", pose(moved={P.LEFT_EYE: (335, 195)}, hidden=(P.LEFT_EAR, P.RIGHT_EAR)),
     "head_roll_deg", math.degrees(math.atan2(10, 30))),
    ("nose 5 px below the ear line", pose(), "head_pitch", 5 / 70),
    ("looking down: nose 21 px lower", pose(moved={P.NOSE: (320, 221)}), "head_pitch", 26 / 70),
    ("looking up: nose above the ears", pose(moved={P.NOSE: (320, 181)}), "head_pitch", -14 / 70),
    ("nose across the frame", pose(), "nose_x", 320 / 640),
    ("nose down the frame, in frame widths", pose(), "nose_y", 200 / 640),
    ("shoulders across the frame", pose(moved=shifted(SHOULDERS_, dx=30)), "shoulder_x", 350 / 640),
    ("shoulders down the frame", pose(), "shoulder_y", 300 / 640),
    ("head size facing the camera: the ear distance", pose(), "head_size", 70 / 640),
    # Turned so that cos(a) = 0.6: ears 42 px apart, the nose 0.8 x 46.7 px to the side.
    ("head size turned: about the same", pose(moved={P.LEFT_EAR: (341, 195), P.RIGHT_EAR: (299, 195),
                                                     P.NOSE: (320 + 0.8 * 70 / 1.5, 200)}),
     "head_size", 70 / 640),
    ("face width turned: narrower", pose(moved={P.LEFT_EAR: (341, 195), P.RIGHT_EAR: (299, 195)}),
     "face_width", 42 / 640),
]


@pytest.mark.parametrize("name,the_pose,feature,expected", CASES, ids=[c[0] for c in CASES])
def test_feature_values(name, the_pose, feature, expected):
    assert getattr(extract(the_pose), feature) == pytest.approx(expected, abs=1e-9)


def test_features_do_not_depend_on_the_resolution():
    small = extract(pose())
    large = extract(pose(pixels={p: (x * 3, y * 3) for p, (x, y) in FRONT.items()}, size=(W * 3, H * 3)))
    for name in FEATURE_NAMES:
        assert getattr(large, name) == pytest.approx(getattr(small, name), abs=1e-9), name


def test_slouch_moves_the_head_drop_down_and_lean_in_moves_the_widths_up():
    upright, slouched, leaning = extract(pose()), extract(pose(moved=shifted(HEAD, dy=30))), extract(pose(scaled(1.2)))
    assert slouched.head_drop_nose < upright.head_drop_nose
    assert slouched.head_drop_ear < upright.head_drop_ear
    assert leaning.shoulder_width > upright.shoulder_width
    assert leaning.face_width > upright.face_width


# --- side view -------------------------------------------------------------------

# The person's left side faces the camera; the right side is hidden behind it.
SIDE = {
    P.NOSE: (270, 215), P.LEFT_EYE: (285, 200), P.RIGHT_EYE: (280, 200),
    P.LEFT_EAR: (300, 200), P.RIGHT_EAR: (298, 200),
    P.MOUTH_LEFT: (280, 230), P.MOUTH_RIGHT: (278, 230),
    P.LEFT_SHOULDER: (330, 300), P.RIGHT_SHOULDER: (326, 302),
    P.LEFT_ELBOW: (320, 390), P.RIGHT_ELBOW: (318, 390),
    P.LEFT_WRIST: (270, 420), P.RIGHT_WRIST: (268, 420),
    P.LEFT_HIP: (340, 460), P.RIGHT_HIP: (338, 460),
}
RIGHT_SIDE = (P.RIGHT_EAR, P.RIGHT_SHOULDER, P.RIGHT_EYE, P.RIGHT_HIP)
# Slouched: the ear 60 px further forward and 20 px lower, the hip behind the shoulder.
SIDE_SLOUCHED = {**SIDE, P.LEFT_EAR: (240, 220), P.LEFT_SHOULDER: (320, 305), P.LEFT_HIP: (360, 460)}


def test_side_view_angles_from_vertical():
    f = extract(pose(SIDE, hidden=RIGHT_SIDE))
    assert f.neck_inclination_deg == pytest.approx(math.degrees(math.atan2(30, 100)))
    assert f.torso_inclination_deg == pytest.approx(math.degrees(math.atan2(10, 160)))


def test_side_view_slouch_inclines_neck_and_torso_more():
    upright = extract(pose(SIDE, hidden=RIGHT_SIDE))
    slouched = extract(pose(SIDE_SLOUCHED, hidden=RIGHT_SIDE))
    assert slouched.neck_inclination_deg == pytest.approx(math.degrees(math.atan2(80, 85)))
    assert slouched.torso_inclination_deg == pytest.approx(math.degrees(math.atan2(40, 155)))
    assert slouched.neck_inclination_deg > upright.neck_inclination_deg + 20


def test_side_view_uses_the_side_facing_the_camera():
    # Mirror: the right side faces the camera, the left is hidden.
    mirrored = {P.LEFT_EAR if p == P.RIGHT_EAR else P.RIGHT_EAR if p == P.LEFT_EAR else
                P.LEFT_SHOULDER if p == P.RIGHT_SHOULDER else P.RIGHT_SHOULDER if p == P.LEFT_SHOULDER else
                P.LEFT_HIP if p == P.RIGHT_HIP else P.RIGHT_HIP if p == P.LEFT_HIP else p: xy
                for p, xy in SIDE.items()}
    f = extract(pose(mirrored, hidden=(P.LEFT_EAR, P.LEFT_SHOULDER, P.LEFT_EYE, P.LEFT_HIP)))
    assert f.neck_inclination_deg == pytest.approx(math.degrees(math.atan2(30, 100)))


def test_side_view_angles_are_none_from_the_front():
    f = extract(pose())
    assert f.neck_inclination_deg is None and f.torso_inclination_deg is None


def test_side_view_has_no_shoulder_widths_tilt_or_ratios_to_them():
    """Seen from the side the shoulders overlap: their width, tilt and sideways place,
    and ratios to their width, would measure landmark noise."""
    f = extract(pose(SIDE, hidden=RIGHT_SIDE))
    assert f.neck_inclination_deg is not None
    assert (f.shoulder_width, f.shoulder_tilt_deg, f.shoulder_x, f.face_width,
            f.head_drop_nose, f.head_drop_ear) == (None,) * 6
    assert f.nose_y is not None and f.nose_x is not None


def test_parts_outside_the_frame_are_not_measured():
    """MediaPipe places parts it only guesses outside the frame, often with high visibility."""
    f = extract(pose(moved={P.LEFT_SHOULDER: (400, H * 1.1), P.RIGHT_SHOULDER: (240, H * 1.1)}))
    assert f.shoulder_width is None and f.head_drop_nose is None and f.shoulder_y is None
    assert f.head_size == pytest.approx(70 / 640) and f.nose_y == pytest.approx(200 / 640)


def test_side_view_torso_is_none_without_a_visible_hip():
    f = extract(pose(SIDE, hidden=RIGHT_SIDE + (P.LEFT_HIP,)))
    assert f.neck_inclination_deg is not None and f.torso_inclination_deg is None


# --- unseen landmarks --------------------------------------------------------------

UNSEEN = [
    # (hidden parts, features that must be None, features that must still be measured)
    ((P.NOSE,), {"head_drop_nose", "head_pitch", "forward_head_m"}, {"head_drop_ear", "face_width"}),
    ((P.LEFT_EAR,), {"head_drop_ear", "face_width", "head_pitch"}, {"head_drop_nose", "head_roll_deg"}),
    ((P.LEFT_SHOULDER,), {"head_drop_nose", "head_drop_ear", "shoulder_width", "shoulder_tilt_deg"},
     {"face_width", "head_pitch", "head_roll_deg"}),
    ((P.LEFT_EAR, P.RIGHT_EAR, P.LEFT_EYE), {"head_roll_deg", "face_width"}, {"head_drop_nose"}),
    (tuple(Part), set(FEATURE_NAMES), set()),
]


@pytest.mark.parametrize("hidden,none,measured", UNSEEN,
                         ids=["nose", "left ear", "left shoulder", "ears and an eye", "everything"])
def test_unseen_landmarks_give_none(hidden, none, measured):
    f = extract(pose(hidden=hidden, world=WORLD)).as_dict()
    assert {n for n in none if f[n] is not None} == set()
    assert {n for n in measured if f[n] is None} == set()


def test_visibility_threshold_is_half():
    assert extract(pose(visibility=0.49)).as_dict() == PostureFeatures().as_dict()
    assert extract(pose(visibility=0.5)).head_drop_nose == pytest.approx(100 / 160)


def test_shoulders_on_top_of_each_other_give_no_ratio():
    f = extract(pose(moved={P.LEFT_SHOULDER: (242, 300)}))
    assert f.head_drop_nose is None and f.head_drop_ear is None


# --- world landmarks: forward head ---------------------------------------------------


def world_marks(nose_z: float, shoulder_z: float = -0.1) -> dict:
    marks = {p: Landmark(0.0, 0.0, 0.0) for p in Part}
    marks[P.NOSE] = Landmark(0.0, -0.6, nose_z)
    marks[P.LEFT_SHOULDER] = Landmark(0.18, -0.45, shoulder_z)
    marks[P.RIGHT_SHOULDER] = Landmark(-0.18, -0.45, shoulder_z)
    return marks


WORLD = world_marks(-0.25)


def test_forward_head_is_nose_ahead_of_shoulders_in_metres():
    assert extract(pose(world=world_marks(-0.25))).forward_head_m == pytest.approx(0.15)
    assert extract(pose(world=world_marks(-0.35))).forward_head_m == pytest.approx(0.25)
    assert extract(pose(world=world_marks(-0.05))).forward_head_m == pytest.approx(-0.05)


def test_forward_head_is_none_without_world_landmarks():
    assert extract(pose()).forward_head_m is None


def test_feature_names_follow_the_dataclass():
    assert FEATURE_NAMES == tuple(PostureFeatures().as_dict())
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))


# --- observations (the presence rule itself is table-tested in test_presence.py) ----------


def test_observe_gives_features_only_when_present():
    here = observe(TimedPose(1.5, pose()))
    assert here.t == 1.5 and here.present and here.features == extract(pose())
    gone = observe(TimedPose(2.0, pose(visibility=0.3)))
    assert not gone.present and gone.features is None and gone.pose is not None
    assert gone.presence == "away" and gone.why == "out_of_frame"
    nobody = observe(TimedPose(2.5, None))
    assert not nobody.present and nobody.features is None and nobody.pose is None


# --- the types validate what they are given ----------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"x": math.nan, "y": 0.0}, {"x": 0.0, "y": math.inf}, {"x": 0.0, "y": 0.0, "visibility": 1.5},
    {"x": 0.0, "y": 0.0, "visibility": -0.1}, {"x": "0", "y": 0.0},
])
def test_landmark_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match="Landmark"):
        Landmark(**kwargs)


def test_pose_rejects_bad_sizes_and_keys():
    with pytest.raises(ValueError, match="size"):
        Pose(0, 480, {})
    with pytest.raises(ValueError, match="Part"):
        Pose(640, 480, {"nose": Landmark(0.5, 0.5)})
    with pytest.raises(ValueError, match="TimedPose.t"):
        TimedPose(math.nan)


def test_pose_is_immutable_and_measures_in_pixels():
    p = pose()
    assert p.pixel(P.LEFT_SHOULDER) == pytest.approx((400, 300))
    assert p.visibility(P.NOSE) == 1.0
    with pytest.raises(TypeError):
        p.landmarks[P.NOSE] = Landmark(0, 0)  # type: ignore[index]
    assert Pose(W, H, {}).visibility(P.NOSE) == 0.0
