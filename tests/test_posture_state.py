"""The posture state machine, driven by explicit timestamps (no clock)."""

import pytest

from posturewatch.core.events import CalibrationStale, PostureAlert, PostureRecovered
from posturewatch.core.features import PostureFeatures
from posturewatch.core.observation import Observation
from posturewatch.core.posture_state import PostureConfig, PostureTracker
from test_scoring import CALM

BASE = CALM  # the same calm user the scoring tests use

GOOD = PostureFeatures(head_drop_ear=0.60, head_drop_nose=0.55, shoulder_width=0.35,
                       face_width=0.13, shoulder_tilt_deg=1.0, head_pitch=0.05)
SLOUCH = PostureFeatures(head_drop_ear=0.48, head_drop_nose=0.42, shoulder_width=0.35,
                         face_width=0.13, shoulder_tilt_deg=1.0, head_pitch=0.12)
GLANCE = PostureFeatures(head_drop_ear=0.55, head_drop_nose=0.40, shoulder_width=0.35,
                         face_width=0.13, shoulder_tilt_deg=1.0, head_pitch=0.30)
CAMERA_MOVED = PostureFeatures(head_drop_ear=0.80, head_drop_nose=0.75, shoulder_width=0.35,
                               face_width=0.13, shoulder_tilt_deg=1.0, head_pitch=0.05)
BLIND = PostureFeatures(face_width=0.13)  # only the face: nothing to judge posture by
NOBODY = None
FPS = 5


def run(script, config=PostureConfig(), fps=FPS):
    """script: [(seconds, features or None)]; returns (tracker, events, states by time)."""
    tracker, events, states, t = PostureTracker(BASE, config), [], [], 0.0
    for duration, features in script:
        for _ in range(round(duration * fps)):
            obs = Observation(t, None, features is not None, features)
            events += tracker.update(obs)
            states.append((round(t, 2), tracker.state))
            t += 1 / fps
    return tracker, events, dict(states)


def alerts(events):
    return [e for e in events if isinstance(e, PostureAlert)]


def test_sitting_well_says_nothing():
    tracker, events, states = run([(60, GOOD)])
    assert events == [] and tracker.episodes == []
    assert set(states.values()) == {"good"}
    assert tracker.score.total < 10


def test_after_coming_back_posture_is_judged_once_the_user_has_settled():
    tracker, events, states = run([(10, GOOD), (5, NOBODY), (20, SLOUCH)])
    settle = PostureConfig().settle_s
    assert states[15.0] == "uncertain" and states[round(15.0 + settle - 0.2, 1)] == "uncertain"
    (alert,) = alerts(events)
    assert alert.started_s >= 15.0 + settle - 1e-6  # the slouch counts from then
    assert alert.t == pytest.approx(15.0 + settle + 5.0, abs=0.5)


def test_a_held_slouch_alerts_after_the_onset_delay_and_episode_starts_when_it_began():
    tracker, events, states = run([(10, GOOD), (20, SLOUCH), (10, GOOD)])
    (alert,) = alerts(events)
    assert alert.reasons[0] == "head_drop"
    # 10 s + 5 s onset delay: the moving median's half-window delay is made good
    assert 14.5 <= alert.t <= 15.5
    assert 9.5 <= alert.started_s <= 10.5
    (episode,) = tracker.episodes
    assert 9.5 <= episode.start_s <= 10.5 and 30.0 <= episode.end_s <= 31.5
    assert states[20.0] == "poor" and states[39.8] == "good"
    assert any(isinstance(e, PostureRecovered) for e in events)


def test_a_glance_is_not_a_slouch():
    tracker, events, states = run([(10, GOOD), (2.5, GLANCE), (10, GOOD)])
    assert events == [] and tracker.episodes == []
    assert states[11.6] == "looking_down"


def test_glances_in_a_row_do_not_add_up_past_the_onset_delay():
    script = [(5, GOOD)] + [(1.4, GLANCE), (1.0, GOOD)] * 3 + [(10, GOOD)]
    tracker, events, _ = run(script)
    assert tracker.episodes == [] and alerts(events) == []


def test_a_short_good_moment_does_not_end_an_episode_but_a_longer_one_does():
    brief = [(10, GOOD), (10, SLOUCH), (1.0, GOOD), (10, SLOUCH), (10, GOOD)]
    tracker, _, _ = run(brief)
    assert len(tracker.episodes) == 1
    longer = [(10, GOOD), (10, SLOUCH), (4.0, GOOD), (10, SLOUCH), (10, GOOD)]
    tracker, _, _ = run(longer)
    assert len(tracker.episodes) == 2


@pytest.mark.parametrize("config, expected", [
    (PostureConfig(cooldown_s=300), [15.0, 315.0, 615.0]),
    (PostureConfig(cooldown_s=600), [15.0, 615.0]),
])
def test_cooldown_spaces_alerts_and_they_escalate(config, expected):
    _, events, _ = run([(10, GOOD), (700, SLOUCH)], config, fps=1)
    got = alerts(events)
    assert [round(a.t) for a in got] == [round(x) for x in expected]
    assert [a.repeat for a in got] == list(range(len(expected)))


def test_alert_after_can_be_longer_than_the_onset_delay():
    config = PostureConfig(onset_delay_s=5, alert_after_s=30)
    tracker, events, states = run([(10, GOOD), (40, SLOUCH)], config)
    assert states[20.0] == "poor"  # the episode counts from the onset delay ...
    (alert,) = alerts(events)
    assert 40.0 <= alert.t <= 41.5  # ... the notification waits for alert_after


def test_hysteresis_keeps_a_wavering_slouch_as_one_episode():
    wavering = PostureFeatures(head_drop_ear=0.60 - 0.8 * 0.04, head_drop_nose=0.55 - 0.8 * 0.05,
                               shoulder_width=0.35, face_width=0.13, shoulder_tilt_deg=1.0,
                               head_pitch=0.05)  # 0.8 tolerances: below enter, above exit
    tracker, _, _ = run([(10, GOOD), (10, SLOUCH), (20, wavering), (10, GOOD)])
    (episode,) = tracker.episodes
    assert episode.end_s >= 39.5
    tracker, _, _ = run([(10, GOOD), (30, wavering), (10, GOOD)])
    assert tracker.episodes == []  # never crossed `enter`


def test_leaving_ends_the_episode_at_the_last_sighting_and_brief_misses_are_held():
    tracker, events, states = run([(10, GOOD), (10, SLOUCH), (1.0, NOBODY), (5, SLOUCH), (10, NOBODY)])
    assert states[20.4] == "poor"  # one second unseen is held
    assert states[30.0] == "away"
    (episode,) = tracker.episodes
    assert 25.5 <= episode.end_s <= 26.0


def test_too_little_seen_is_uncertain_and_never_alerts():
    tracker, events, states = run([(10, GOOD), (60, BLIND)])
    assert events == [] and states[30.0] == "uncertain"


def observed(t, presence, features=None):
    return Observation(t, None, presence == "present", features, presence)


def test_the_tracker_takes_the_presence_rule_s_answer():
    """A phantom, a passer-by or a standing user has no seated features: the rule says so
    (core.presence, table-tested in test_presence.py) and the tracker follows it."""
    tracker, t = PostureTracker(BASE), 0.0
    for presence, seconds, expected in (("present", 10, "good"), ("standing", 5, "standing"),
                                        ("present", 8, "good"), ("away", 5, "away")):
        for _ in range(seconds * FPS):
            tracker.update(observed(t, presence, GOOD if presence == "present" else None))
            t += 1 / FPS
        assert tracker.state == expected, (presence, t)


def test_standing_up_ends_an_episode_at_the_last_seated_moment():
    tracker, t, events = PostureTracker(BASE), 0.0, []
    for presence, seconds, features in (("present", 10, GOOD), ("present", 12, SLOUCH),
                                        ("standing", 10, None)):
        for _ in range(seconds * FPS):
            events += tracker.update(observed(t, presence, features))
            t += 1 / FPS
    (episode,) = tracker.episodes
    assert 21.5 <= episode.end_s <= 22.0 and tracker.state == "standing"
    assert any(isinstance(e, PostureRecovered) for e in events)


def test_a_brief_wobble_back_over_exit_does_not_restart_the_recovery():
    wobble = PostureFeatures(head_drop_ear=0.60 - 0.75 * 0.04, head_drop_nose=0.55 - 0.75 * 0.05,
                             shoulder_width=0.35, face_width=0.13, shoulder_tilt_deg=1.0,
                             head_pitch=0.05)  # 0.75 tolerances: over exit, under enter
    script = [(10, GOOD), (10, SLOUCH), (1.0, GOOD), (1.0, wobble), (1.6, GOOD), (10, GOOD)]
    tracker, _, _ = run(script)
    (episode,) = tracker.episodes
    assert 20.0 <= episode.end_s <= 21.2  # ended where good posture began, 2 s of it later


def test_a_moved_camera_suggests_recalibrating_instead_of_alerting():
    tracker, events, _ = run([(10, GOOD), (90, CAMERA_MOVED)], PostureConfig(stale_after_s=60))
    (stale,) = [e for e in events if isinstance(e, CalibrationStale)]
    assert 70.0 <= stale.t <= 71.0 and alerts(events) == []
    assert tracker.stale


def test_config_is_validated():
    with pytest.raises(ValueError, match="onset_delay_s"):
        PostureConfig(onset_delay_s=-1)
    with pytest.raises(ValueError, match="exit"):
        PostureConfig(enter=1.0, exit=1.5)


def test_alert_in_counts_down_to_the_alert_then_the_cooldown():
    """What the daemon's cadence reads to look again right when an alert is due."""
    config = PostureConfig(onset_delay_s=5, alert_after_s=30, cooldown_s=300)
    tracker = PostureTracker(BASE, config)
    seen = {}
    for i in range(80):
        t = float(i)
        features = GOOD if t < 10 else SLOUCH
        events = tracker.update(Observation(t, None, True, features))
        seen[t] = (tracker.alert_in(t), bool(alerts(events)))
    assert seen[9.0][0] is None  # nothing confirmed yet
    confirmed = min(t for t, (left, _) in seen.items() if left is not None)
    alert_t = next(t for t, (_, alerted) in seen.items() if alerted)
    # Counting down one second a second; the alert comes with the first look after it is due.
    assert alert_t - confirmed - 1 < seen[confirmed][0] <= alert_t - confirmed
    assert seen[confirmed + 1][0] == pytest.approx(seen[confirmed][0] - 1)
    assert 0 < seen[alert_t - 1][0] <= 1
    # ... then the cooldown: the next alert is 300 s after this one.
    assert seen[alert_t][0] == pytest.approx(300.0)
    assert seen[79.0][0] == pytest.approx(300.0 - (79.0 - alert_t))
