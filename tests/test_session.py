"""The one session builder, and a whole session (Monitor with the real PostureTracker)
over sample clips: presence, seated time, breaks and posture states against the labels
and against each other."""

from __future__ import annotations

import json

import pytest

import clips
from daemon_support import make_profile
from posturewatch.adapters import profiles
from posturewatch.adapters.labels import SEATED, upright_opening
from posturewatch.app import daemon_setup
from posturewatch.app.cli import main
from posturewatch.core.evaluation import presence_of
from posturewatch.core.events import BreakDue, BreakTaken, PostureAlert, UserAway, UserReturned
from posturewatch.core.session import build_session, fit_upright, posture_config
from posturewatch.core.settings import DEFAULTS, validate


# --- the builder -----------------------------------------------------------------------


@pytest.mark.parametrize("alert_after, onset, alert", [(30.0, 5.0, 30.0), (3.0, 3.0, 3.0), (0.0, 0.0, 0.0)])
def test_episodes_count_from_the_onset_delay_and_alerts_wait_for_alert_after(alert_after, onset, alert):
    config = posture_config(validate({"alert_after": alert_after}))
    assert (config.onset_delay_s, config.alert_after_s) == (onset, alert)


@pytest.mark.parametrize("fps, smoothing", [(5.0, 1.0), (10.0, 1.0), (1.0, 2.5), (0.5, 5.0)])
def test_the_moving_median_spans_three_frames_at_the_poses_rate(fps, smoothing):
    assert posture_config(validate({"fps": fps})).smoothing_s == pytest.approx(smoothing)


def test_the_builder_wires_the_settings_and_the_calibration_into_one_session():
    upright = clips.observations("warp_proctor_man_upright_steady")
    baseline = fit_upright(upright, 0.0, 10.0)
    settings = validate({"break_after": 45.0, "break_away": 90.0, "cooldown": 120.0})
    session = build_session(settings, baseline)
    assert session.monitor.tracker is session.tracker and session.tracker.baseline is baseline
    assert session.tracker.config.cooldown_s == 120.0
    breaks = session.monitor.breaks.config
    assert (breaks.break_after_s, breaks.break_away_s) == (45 * 60.0, 90.0)
    assert session.reference.head_size == pytest.approx(baseline.get("head_size").center)
    bare = build_session(settings)
    assert bare.tracker is None and bare.reference is None and bare.monitor.tracker is None


def test_fit_upright_takes_the_window_and_needs_a_person():
    observations = clips.observations("warp_intel_man_leave_and_return")
    fitted = fit_upright(observations, 0.0, 8.0)
    assert fitted.frames == sum(1 for o in observations if o.present and o.t < 8.0)
    with pytest.raises(ValueError, match="frames with a person"):
        fit_upright(observations, 14.0, 24.0)  # the empty room


# --- the daemon's session: the profile's model --------------------------------------------


def saved_profile(model: str | None):
    path = profiles.named_path("default")
    make_profile("warp_proctor_man_upright_steady", 10.0, path)
    profile = profiles.read_profile(path)
    profiles.save_profile(profiles.Profile(profile.name, profile.baseline, profile.created,
                                           profile.frame, model, profile.source), path)


def test_the_daemon_uses_the_model_the_profile_was_made_with():
    saved_profile("full")
    setup = daemon_setup.daemon_session(DEFAULTS, "default")
    assert DEFAULTS.model == "lite" and setup.settings.model == "full"
    assert setup.note == "" and setup.session.tracker is not None and setup.profile_name == "test"


def test_a_model_the_user_chose_wins_and_the_note_says_why():
    saved_profile("full")
    setup = daemon_setup.daemon_session(validate({"model": "lite"}), "command line")
    assert setup.settings.model == "lite"
    assert "calibrated with the full pose model" in setup.note and "--model lite" in setup.note


def test_an_old_profile_without_a_model_keeps_the_setting():
    saved_profile(None)
    setup = daemon_setup.daemon_session(DEFAULTS, "default")
    assert setup.settings.model == "lite" and setup.note == ""


def test_without_a_profile_only_breaks_and_presence_are_watched():
    setup = daemon_setup.daemon_session(DEFAULTS, "default")
    assert setup.session.tracker is None and "calibrate" in setup.note


# --- a whole session over a sample clip ------------------------------------------------------

MIXED = "warp_intel_man_mixed_session"  # glance, slouch 20-47 s, lean in 55-66 s, away 72-83 s


def run_mixed():
    settings = validate({"fps": clips.DEFAULT_FPS, "break_after": 1.0, "break_away": 10.0,
                         "brief_absence": 5.0, "alert_after": 10.0, "cooldown": 20.0})
    labels = clips.labels(MIXED)
    session = build_session(settings, fit_upright(clips.observations(MIXED), *upright_opening(labels)))
    frames, events = [], []
    for timed in clips.poses(MIXED):
        obs, new = session.update(timed)
        events += new
        frames.append((timed.t, labels.label_at(timed.t), obs.presence, session.state))
    return session, frames, events


@pytest.mark.video
def test_a_whole_session_agrees_with_the_labels_and_with_itself():
    session, frames, events = run_mixed()
    labels = clips.labels(MIXED)
    (leave, back), = labels.spans("away")

    # Presence: the rule agrees with the labels away from the moments of leaving/returning.
    scored = [f for f in frames if not any(abs(c.t - f[0]) <= 3.0 for c in labels.changes()
                                           if "away" in (c.before, c.after))]
    agree = sum((p == "away") == (presence_of(lab) == "away") for _, lab, p, _ in scored)
    assert agree / len(scored) >= 0.97

    # Seated time: the labelled seated time, the absence not counted.
    seated = sum(b - a for label in SEATED for a, b in labels.spans(label))
    assert session.monitor.totals.seated_s == pytest.approx(seated, abs=2.0)
    end = frames[-1][0] + 1 / clips.DEFAULT_FPS
    assert session.monitor.breaks.seated_s == pytest.approx(end - back, abs=1.5)  # since the break

    # Breaks: reminded once a minute seated, the absence counted as a break, once.
    due = [e for e in events if isinstance(e, BreakDue)]
    assert due and 59.0 <= due[0].seated_s <= 62.0 and due[0].t < leave
    (taken,) = [e for e in events if isinstance(e, BreakTaken)]
    assert leave + 9.0 <= taken.t <= leave + 12.0 and session.monitor.totals.breaks == 1
    (away,) = [e for e in events if isinstance(e, UserAway)]
    (returned,) = [e for e in events if isinstance(e, UserReturned)]
    assert abs(away.t - leave) <= 1.5 and abs(returned.t - back) <= 1.5

    # Posture: poor during the held slouch and lean, never while the labels say otherwise.
    for kind in ("slouch", "lean_in"):
        (a, b), = labels.spans(kind)
        held = [s for t, _, _, s in frames if a + 8.0 <= t < b]
        assert held.count("poor") >= 0.95 * len(held), kind
    poor_outside = [t for t, lab, _, s in frames if s == "poor" and lab not in ("slouch", "lean_in")
                    and not labels.near_change(t, 3.0)]
    assert poor_outside == []
    alerts = [e for e in events if isinstance(e, PostureAlert)]  # alert_after 10 s, cooldown 20 s
    assert len(alerts) == 2 and alerts[0].reasons[0] == "head_drop" and "lean_in" in alerts[1].reasons
    assert [labels.label_at(a.started_s + 3.0) for a in alerts] == ["slouch", "lean_in"]

    # The parts agree with each other: away in the tracker only when the rule says away,
    # good and poor time within the seated time.
    for t, _, presence, state in frames:
        if state == "away":
            assert presence == "away", t
    totals = session.monitor.totals
    assert totals.good_s + totals.poor_s <= totals.seated_s + 1e-6
    poor = sum(b - a for kind in ("slouch", "lean_in") for a, b in labels.spans(kind))
    assert totals.good_share == pytest.approx((seated - poor) / seated, abs=0.1)


# --- standing on the sample clips ------------------------------------------------------------


@pytest.mark.video
def test_the_man_who_stands_up_is_standing_without_a_profile(capsys):
    """real_side_man_seated_stands: seated far from the camera (head often at the top edge),
    stands 7-10.8 s close to it (his head out of the frame: MediaPipe puts one on his chest)."""
    name = "real_side_man_seated_stands"
    labels = clips.labels(name)
    observations = [o for o in clips.observations(name)
                    if not labels.near_change(o.t, 1.0)]
    standing = [o.presence for o in observations if labels.label_at(o.t) == "standing"]
    seated = [o.presence for o in observations if labels.label_at(o.t) == "unknown"]
    assert len(standing) >= 8 and standing.count("standing") >= 0.9 * len(standing)
    assert seated.count("standing") == 0
    assert main(["analyze", str(clips.pose_log(name)), "--json"]) == 0
    segments = json.loads(capsys.readouterr().out)["segments"]
    stood = [s for s in segments if s["state"] == "standing"]
    assert len(stood) == 1 and 6.5 <= stood[0]["start_s"] <= 8.0 and 9.8 <= stood[0]["end_s"] <= 11.3


@pytest.mark.video
def test_standing_up_from_the_desk_is_standing_in_analyze_json(capsys, tmp_path):
    """render_f1_leave_and_return: she stands up (2.6 s), walks out, comes back standing
    and sits down (23 s): the posture timeline says standing, not poor and not seated."""
    name = "render_f1_leave_and_return"
    profile = tmp_path / "f1.json"
    make_profile(name, upright_opening(clips.labels(name))[1], profile)
    assert main(["analyze", str(clips.pose_log(name)), "--calibration", str(profile), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["states"]["standing"] > 0.0 and report["episodes"] == []
    states = [s["state"] for s in report["segments"]]
    assert "standing" in states
    first = next(s for s in report["segments"] if s["state"] == "standing")
    assert 2.4 <= first["start_s"] <= 3.4
