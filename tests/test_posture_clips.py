"""The sample clips end to end: calibrate from each clip's upright opening, track the
whole clip, and check the episodes against the labels (not against our own output)."""

import pytest

import clips
from posturewatch.adapters.labels import POOR, upright_opening
from posturewatch.app.evaluate import overall
from posturewatch.app.session import new_timeline
from posturewatch.core.baseline import fit_baseline
from posturewatch.core.evaluation import score_clip

CALIBRATED = [n for n in clips.names() if upright_opening(clips.labels(n)) is not None]
ONSET_SLACK_S = 4.0  # labels flip mid-ramp; a slouch may be seen a little before or after


def track(name):
    observations = clips.observations(name)
    start, end = upright_opening(clips.labels(name))
    timeline = new_timeline(fit_baseline([o for o in observations if start <= o.t < end]))
    for obs in observations:
        timeline.update(obs)
    timeline.finish(observations[-1].t + 0.2)
    return timeline


def poor_onsets(labels):
    """Onsets of labelled poor posture long enough to have scored frames."""
    spans = [(a, b) for kind in POOR for a, b in labels.spans(kind)]
    return sorted(a for a, b in spans if b - a > 6.0)


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in CALIBRATED if not POOR & clips.labels(n).present()])
def test_no_episode_on_clips_without_poor_posture(name):
    assert track(name).episodes == []


# Known miss, kept visible: MediaPipe sees only ~5 degrees of this woman's first lean
# while her calibrated shoulder line sways by ~2.4 degrees as she talks (docs/scoring.md).
KNOWN_MISSES = {"warp_selfie_woman_lateral_lean": "first lean (9-21 s) measures below her sway"}
if clips.mediapipe_c_api_build():  # 0.10.14-0.10.21 and 1.2 see it within the slack
    KNOWN_MISSES["warp_nvinay_side_view_slideshow"] = (
        "MediaPipe 0.10.30-0.10.33 puts the side-view slouch episode ~6 s from its onset")


def _with_known_misses(names):
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[n]))
            if n in KNOWN_MISSES else n for n in names]


@pytest.mark.video
@pytest.mark.parametrize("name", _with_known_misses(
    [n for n in CALIBRATED if poor_onsets(clips.labels(n))]))
def test_every_held_poor_posture_gets_an_episode_starting_near_its_onset(name):
    timeline = track(name)
    for onset in poor_onsets(clips.labels(name)):
        starts = [e.start_s for e in timeline.episodes if e.start_s - ONSET_SLACK_S <= onset < e.end_s]
        assert starts, f"no episode covers the poor posture labelled from {onset:.1f} s"
        assert abs(starts[0] - onset) <= ONSET_SLACK_S


@pytest.mark.video
def test_overall_accuracy_meets_the_targets():
    scores = []
    for name in CALIBRATED:
        timeline = track(name)
        scores.append(score_clip(name, timeline.times, timeline.states, clips.labels(name),
                                 timeline.episodes, timeline.alerts))
    total = overall(scores, onset_delay=5.0)
    assert total["f1"] >= 0.95, total
    assert total["episodes_on_clean_clips"] == 0
    assert total["recall_by_kind"]["slouch"] >= 0.95
    assert total["away_accuracy"] >= 0.95
    assert total["alert_latency_s"]["median"] <= 5.0 + 2.0
