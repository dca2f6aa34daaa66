"""Scoring against a baseline: table-driven, on hand-made features."""

import pytest

from posturewatch.core.baseline import Baseline, FeatureBaseline
from posturewatch.core.features import PostureFeatures
from posturewatch.core.scoring import K_SPREAD, score, tolerance, RULES

CALM = Baseline({
    "head_drop_ear": FeatureBaseline(0.60, 0.005, 50),
    "head_drop_nose": FeatureBaseline(0.55, 0.005, 50),
    "shoulder_width": FeatureBaseline(0.35, 0.002, 50),
    "face_width": FeatureBaseline(0.13, 0.001, 50),
    "shoulder_tilt_deg": FeatureBaseline(1.0, 0.3, 50),
    "head_pitch": FeatureBaseline(0.05, 0.005, 50),
}, 50)

UPRIGHT = dict(head_drop_ear=0.60, head_drop_nose=0.55, shoulder_width=0.35, face_width=0.13,
               shoulder_tilt_deg=1.0, head_pitch=0.05)


def feats(**changes):
    return PostureFeatures(**{**UPRIGHT, **changes})


@pytest.mark.parametrize("changes, reasons, poor", [
    ({}, (), False),
    ({"head_drop_ear": 0.60 - 0.02, "head_drop_nose": 0.55 - 0.02}, (), False),  # a breath
    ({"head_drop_ear": 0.60 - 0.10, "head_drop_nose": 0.55 - 0.10}, ("head_drop",), True),
    ({"head_drop_ear": 0.60 + 0.10}, (), False),  # head higher than calibrated is not a slouch
    ({"shoulder_width": 0.35 * 1.15, "face_width": 0.13 * 1.15}, ("lean_in",), True),
    ({"shoulder_width": 0.35 * 0.85}, (), False),  # further away is not leaning in
    ({"shoulder_tilt_deg": 1.0 + 7}, ("lateral_lean",), True),
    ({"shoulder_tilt_deg": 1.0 - 7}, ("lateral_lean",), True),  # either side
    ({"shoulder_tilt_deg": 1.0 + 2}, (), False),
    ({"head_pitch": 0.05 + 0.15}, ("head_down",), False),  # looking down alone is not poor
])
def test_reasons(changes, reasons, poor):
    result = score(feats(**changes), CALM)
    assert result.reasons == reasons
    assert result.poor is poor


def test_score_is_zero_at_baseline_and_half_at_the_threshold():
    assert score(feats(), CALM).total == 0.0
    at_threshold = score(feats(shoulder_tilt_deg=1.0 + 4.0), CALM)  # min tolerance 4 degrees
    assert at_threshold.total == pytest.approx(50.0, abs=0.5)
    far = score(feats(shoulder_tilt_deg=1.0 + 40.0), CALM)
    assert 85 < far.total < 100


def test_worst_reason_comes_first():
    result = score(feats(head_drop_ear=0.40, head_drop_nose=0.35, shoulder_width=0.35 * 1.10), CALM)
    assert result.reasons == ("head_drop", "lean_in")


def test_a_restless_user_gets_more_room():
    restless = Baseline({**CALM.features, "shoulder_tilt_deg": FeatureBaseline(1.0, 2.5, 50)}, 50)
    rule = next(r for r in RULES if r.feature == "shoulder_tilt_deg")
    assert tolerance(rule, CALM) == pytest.approx(4.0)  # the minimum
    assert tolerance(rule, restless) == pytest.approx(K_SPREAD * 2.5)
    assert score(feats(shoulder_tilt_deg=7.0), CALM).reasons == ("lateral_lean",)
    assert score(feats(shoulder_tilt_deg=7.0), restless).reasons == ()


def test_unmeasured_features_are_left_out():
    result = score(PostureFeatures(shoulder_tilt_deg=1.0), CALM)
    assert set(result.deviations) == {"lateral_lean"}
    assert score(PostureFeatures(), CALM).deviations == {}


# A user calibrated with the head and shoulder placement features as well.
PLACED = Baseline({
    **CALM.features,
    "head_size": FeatureBaseline(0.12, 0.001, 50),
    "nose_y": FeatureBaseline(0.30, 0.002, 50),
    "shoulder_x": FeatureBaseline(0.50, 0.002, 50),
}, 50)
HEAD_ONLY = dict(head_size=0.12, nose_y=0.30, head_pitch=0.05, face_width=0.13)


@pytest.mark.parametrize("changes, reasons", [
    ({}, ()),
    # The nose sinks 0.6 head widths (0.072 of the frame width); tolerance 0.3 head widths.
    ({"nose_y": 0.30 + 0.6 * 0.12}, ("head_drop",)),
    ({"nose_y": 0.30 + 0.2 * 0.12}, ()),  # a breath
    ({"nose_y": 0.30 - 0.6 * 0.12}, ()),  # higher is not a slouch
    ({"head_size": 0.12 * 1.15}, ("lean_in",)),
])
def test_shoulders_out_of_view_the_head_is_scored_alone(changes, reasons):
    result = score(PostureFeatures(**{**HEAD_ONLY, **changes}), PLACED)
    assert result.reasons == reasons
    assert "head_drop" in result.deviations  # the slouch is judged: never `uncertain`


def test_the_head_height_counts_only_when_the_shoulders_are_out_of_view():
    # The nose far down but the shoulder-relative head drop normal: the shoulders decide.
    both = feats(head_size=0.12, nose_y=0.30 + 0.6 * 0.12, shoulder_x=0.50)
    assert score(both, PLACED).reasons == ()


def test_head_only_scoring_needs_a_calibrated_head():
    assert "head_drop" not in score(PostureFeatures(**HEAD_ONLY), CALM).deviations


@pytest.mark.parametrize("tilt, shift, lean", [
    (1.0 + 0.8 * 4.0, 0.50 + 0.8 * 0.35 * 0.12, True),  # both 0.8 tolerances, the same way
    (1.0 - 0.8 * 4.0, 0.50 - 0.8 * 0.35 * 0.12, True),  # ... to the other side
    (1.0 + 0.8 * 4.0, 0.50 - 0.8 * 0.35 * 0.12, False),  # opposite ways: a shrug and a shift
    (1.0 + 0.8 * 4.0, 0.50, False),  # the tilt alone, under its own tolerance
    (1.0, 0.50 + 0.9 * 0.35 * 0.12, False),  # the shoulders moved sideways alone
])
def test_tilt_and_sideways_shift_together_are_a_lateral_lean(tilt, shift, lean):
    result = score(feats(shoulder_tilt_deg=tilt, head_size=0.12, nose_y=0.30, shoulder_x=shift), PLACED)
    assert ("lateral_lean" in result.reasons) is lean
