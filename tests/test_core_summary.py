"""core.summary: presence segments, person ratio and per-feature statistics."""

from __future__ import annotations

import pytest

from posturewatch.core.features import FEATURE_NAMES, PostureFeatures
from posturewatch.core.observation import Observation
from posturewatch.core.summary import FeatureStats, Segment, SummaryBuilder, summarize


def here(t: float, **features) -> Observation:
    return Observation(t, None, True, PostureFeatures(**features))


def away(t: float) -> Observation:
    return Observation(t, None, False, None)


def timeline(pattern: str, step: float = 0.5) -> list[Observation]:
    """'PPA.' -> present, present, away ... one observation every `step` seconds."""
    return [here(i * step) if c == "P" else away(i * step) for i, c in enumerate(pattern)]


def segments(summary) -> list[tuple[float, float, str]]:
    return [(s.start_s, s.end_s, s.state) for s in summary.segments]


@pytest.mark.parametrize("pattern,end_s,expected", [
    ("PPPP", 2.0, [(0.0, 2.0, "present")]),
    ("AAAA", 2.0, [(0.0, 2.0, "away")]),
    ("PPAAP", 2.5, [(0.0, 1.0, "present"), (1.0, 2.0, "away"), (2.0, 2.5, "present")]),
    ("APAPA", 2.5, [(0.0, 0.5, "away"), (0.5, 1.0, "present"), (1.0, 1.5, "away"),
                    (1.5, 2.0, "present"), (2.0, 2.5, "away")]),
    # Without an end time the last segment stops at the last observation.
    ("PPAA", None, [(0.0, 1.0, "present"), (1.0, 1.5, "away")]),
    # An end before the last observation does not shorten the segment.
    ("PP", 0.2, [(0.0, 0.5, "present")]),
])
def test_segments_follow_presence_and_meet_end_to_end(pattern, end_s, expected):
    assert segments(summarize(timeline(pattern), end_s)) == expected


def test_segments_start_at_the_first_observation_not_at_zero():
    obs = [here(10.0), here(10.2), away(10.4)]
    assert segments(summarize(obs, 10.6)) == [(10.0, 10.4, "present"), (10.4, 10.6, "away")]


def test_segment_times_are_rounded_to_milliseconds():
    obs = [here(0.1 + 0.2), away(1 / 3)]
    summary = summarize(obs, 2 / 3)
    assert summary.segments == (Segment(0.3, 0.333, "present"), Segment(0.333, 0.667, "away"))


@pytest.mark.parametrize("pattern,ratio", [("PPPP", 1.0), ("AAAA", 0.0), ("PAPA", 0.5), ("PPPA", 0.75),
                                           ("P", 1.0)])
def test_person_ratio_is_the_share_of_frames_with_a_person(pattern, ratio):
    summary = summarize(timeline(pattern))
    assert summary.frames_analyzed == len(pattern)
    assert summary.person_ratio == pytest.approx(ratio)


def test_feature_stats_are_percentiles_over_present_frames():
    # head_drop_nose 1..10 while present; numpy's linear percentiles: p10 = 1.9, p90 = 9.1.
    obs = [here(i, head_drop_nose=float(v)) for i, v in enumerate([7, 3, 10, 1, 5, 2, 9, 4, 8, 6])]
    obs.insert(4, away(4.5))  # absent frames add nothing
    stats = summarize(obs).features["head_drop_nose"]
    assert stats == FeatureStats(median=5.5, p10=pytest.approx(1.9), p90=pytest.approx(9.1), coverage=1.0)


def test_coverage_is_the_share_of_present_frames_where_a_feature_was_measured():
    obs = [here(0, face_width=0.1, shoulder_width=0.3), here(1, face_width=0.2),
           here(2, face_width=0.3), here(3), away(4), away(5)]
    features = summarize(obs).features
    assert features["face_width"].coverage == pytest.approx(3 / 4)
    assert features["face_width"].median == pytest.approx(0.2)
    assert features["shoulder_width"].coverage == pytest.approx(1 / 4)
    assert features["shoulder_width"].median == features["shoulder_width"].p10 == pytest.approx(0.3)


def test_a_feature_never_measured_has_no_stats():
    stats = summarize(timeline("PPA")).features["neck_inclination_deg"]
    assert stats == FeatureStats(None, None, None, 0.0)


def test_every_feature_has_stats():
    assert set(summarize(timeline("PA")).features) == set(FEATURE_NAMES)


def test_nothing_observed():
    summary = summarize([], end_s=5.0)
    assert summary.frames_analyzed == 0
    assert summary.person_ratio == 0.0
    assert summary.segments == ()
    assert all(s == FeatureStats(None, None, None, 0.0) for s in summary.features.values())


def test_builder_one_at_a_time_equals_summarize():
    obs = [here(i * 0.2, head_drop_nose=0.5 + 0.01 * i) if i % 3 else away(i * 0.2) for i in range(30)]
    builder = SummaryBuilder()
    for o in obs:
        builder.update(o)
    assert builder.result(6.0) == summarize(obs, 6.0)


def test_negative_values_are_kept():
    obs = [here(0, shoulder_tilt_deg=-4.0), here(1, shoulder_tilt_deg=-6.0), here(2, shoulder_tilt_deg=-5.0)]
    assert summarize(obs).features["shoulder_tilt_deg"].median == pytest.approx(-5.0)
