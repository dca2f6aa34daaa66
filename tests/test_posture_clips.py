"""The sample clips end to end: calibrate from each clip's upright opening, track the
whole clip, and check the episodes against the labels (not against our own output)."""

import pytest

import clips
from posturewatch.adapters.labels import POOR, upright_opening
from posturewatch.app.evaluate import PRESENCE_TARGET
from posturewatch.app.session import new_timeline
from posturewatch.core.evaluation import overall, score_clip
from posturewatch.core.observation import observe
from posturewatch.core.session import fit_upright
from posturewatch.core.settings import validate

CALIBRATED = [n for n in clips.names() if upright_opening(clips.labels(n)) is not None]
ONSET_SLACK_S = 4.0  # labels flip mid-ramp; a slouch may be seen a little before or after


def track(name):
    """The session the daemon would build, calibrated on the clip's upright opening."""
    timeline = new_timeline(fit_upright(clips.observations(name), *upright_opening(clips.labels(name))),
                            validate({"fps": clips.DEFAULT_FPS}))
    for timed in clips.poses(name):
        timeline.update(timed)
    timeline.finish(timeline.times[-1] + 1 / clips.DEFAULT_FPS)
    return timeline


def poor_onsets(labels):
    """Onsets of labelled poor posture long enough to have scored frames."""
    spans = [(a, b) for kind in POOR for a, b in labels.spans(kind)]
    return sorted(a for a, b in spans if b - a > 6.0)


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in CALIBRATED if not POOR & clips.labels(n).present()])
def test_no_episode_on_clips_without_poor_posture(name):
    assert track(name).episodes == []


KNOWN_MISSES: dict[str, str] = {}  # clip -> why, kept visible as strict xfails


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
                                 timeline.episodes))
    total = overall(scores)
    assert total.poor.f1 >= 0.95, total
    assert total.episodes_on_clean_clips == 0
    assert total.recall_by_kind["slouch"] >= 0.95
    assert total.presence_agreement >= 0.95
    assert total.latency_median <= 5.0 + 2.0


# --- as the daemon sees them: the lite model at 1 frame/s, calibrated with lite --------------

DAEMON_FPS = 1.0


def daemon_track(name):
    """Calibrated as `calibrate --from-video --model lite` would (5 frames/s), tracked at 1."""
    calibration = [observe(p) for p in clips.poses(name, clips.DEFAULT_FPS, "lite")]
    timeline = new_timeline(fit_upright(calibration, *upright_opening(clips.labels(name))),
                            validate({"fps": DAEMON_FPS}))
    for timed in clips.poses(name, DAEMON_FPS, "lite"):
        timeline.update(timed)
    timeline.finish(timeline.times[-1] + 1 / DAEMON_FPS)
    return timeline


def daemon_score(name):
    timeline = daemon_track(name)
    return score_clip(name, timeline.times, timeline.states, clips.labels(name), timeline.episodes)


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in CALIBRATED if "away" in clips.labels(n).present()])
def test_the_daemon_sees_the_user_leave_and_come_back(name):
    """The lite model at 1 frame/s finds small phantom poses on background lights while the
    chair is empty (warp_selfie_woman_leave_and_return): they are not the user coming back."""
    assert daemon_score(name).away_accuracy >= PRESENCE_TARGET


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in CALIBRATED if "lateral_lean" in clips.labels(n).present()])
def test_the_daemon_confirms_every_lean_long_enough_to_be_an_episode(name):
    """render_m2_lateral_lean leans 4.3 s and 2.5 s: at 1 frame/s the first lean's episode
    (confirmed as its label ends) is still open when the second begins; no onset is missed."""
    score = daemon_score(name)
    assert score.missed_onsets == 0
    assert score.latencies and all(-3.0 <= x <= 8.0 for x in score.latencies), score.latencies
    assert score.poor.f1 is None or score.poor.f1 >= 0.85
