"""The daemon's sampling cadence (core/cadence.py), table-driven: time is data."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from posturewatch.core.cadence import Cadence, CadenceConfig, Look, cadence_config, look_at
from posturewatch.core.scoring import Deviations, score_from
from posturewatch.core.settings import Settings

FAST, STEADY, AWAY = 1.0, 3.0, 5.0  # the defaults' intervals: 1/fps, 1/steady_fps, 1/away_fps


def good(t, drift=0.2):
    return Look(t, "present", "good", drift)


SLOWER = CadenceConfig(steady_fps=1 / 3)  # the settings' default is a fixed rate


def run(looks, config=SLOWER):
    """Feeds `looks` in order; the interval asked for after each."""
    cadence = Cadence(config)
    return [round(cadence.update(look), 6) for look in looks]


def calm_then(after, start=0.0, seconds=10):
    """`seconds` + 1 looks of steady good posture one second apart, then `after(t)` looks."""
    looks = [good(start + i) for i in range(seconds + 1)]
    return looks + after(start + seconds)


CASES = [
    # name, looks, intervals asked for
    ("nobody there: each second for 10 s (a brief absence), then the away rate",
     [Look(t, "away") for t in range(11)] + [Look(15, "away")], [FAST] * 10 + [AWAY, AWAY]),
    ("good posture is watched closely until it has been calm 10 s",
     [good(t) for t in range(11)], [FAST] * 10 + [STEADY]),
    ("then it stays slow while calm", calm_then(lambda t: [good(t + 3), good(t + 6)]),
     [FAST] * 10 + [STEADY] * 3),
    ("a drift past half the threshold brings the next look at once",
     calm_then(lambda t: [good(t + 3, drift=0.6), good(t + 4)]), [FAST] * 10 + [STEADY, FAST, FAST]),
    ("... and calm starts over: 10 s again before slowing down",
     calm_then(lambda t: [good(t + 3, drift=0.6)] + [good(t + 4 + i) for i in range(11)]),
     [FAST] * 10 + [STEADY, FAST] + [FAST] * 10 + [STEADY]),
    ("poor posture is watched closely",
     calm_then(lambda t: [Look(t + 3, "present", "poor", 1.4)]), [FAST] * 10 + [STEADY, FAST]),
    ("so is looking down", calm_then(lambda t: [Look(t + 3, "present", "looking_down", 0.1)]),
     [FAST] * 10 + [STEADY, FAST]),
    ("and an unsettled user (just sat down: uncertain)",
     [Look(t, "present", "uncertain") for t in range(12)], [FAST] * 12),
    ("good posture with nothing measured is not calm", [Look(t, "present", "good") for t in range(12)],
     [FAST] * 12),
    ("leaving: watched closely first", calm_then(lambda t: [Look(t + 3, "away"), Look(t + 4, "away")]),
     [FAST] * 10 + [STEADY, FAST, FAST]),
    ("back within 10 s: seen within a second, and the absence starts over next time",
     [Look(0, "away"), Look(1, "away"), Look(2, "present", "uncertain")]
     + [Look(3 + t, "away") for t in range(11)],
     [FAST] * 3 + [FAST] * 10 + [AWAY]),
    ("coming back after a long absence: watched closely first",
     [Look(t, "away") for t in range(11)] + [Look(15, "present", "uncertain"),
                                             Look(16, "present", "uncertain")],
     [FAST] * 10 + [AWAY, FAST, FAST]),
    ("without a profile, the presence held 10 s is steady",
     [Look(t, "present") for t in range(11)] + [Look(13, "present")], [FAST] * 10 + [STEADY] * 2),
    ("standing still is steady too; sitting down again is watched closely",
     [Look(t, "standing", "standing") for t in range(11)] + [Look(13, "present", "uncertain")],
     [FAST] * 10 + [STEADY, FAST]),
    ("a gap longer than asked for (a pause, a lost camera) starts calm over",
     calm_then(lambda t: [good(t + 3), good(t + 60), good(t + 61)]),
     [FAST] * 10 + [STEADY, STEADY, FAST, FAST]),
    ("a look a frame late is no gap", [good(t * 1.05) for t in range(11)] + [good(10.5 + 3.2)],
     [FAST] * 10 + [STEADY, STEADY]),
]


@pytest.mark.parametrize("name, looks, expected", CASES, ids=[c[0] for c in CASES])
def test_the_cadence(name, looks, expected):
    assert run(looks) == expected


def test_steady_is_never_faster_than_fps():
    config = CadenceConfig(fps=0.25, steady_fps=0.5)
    assert run([good(4 * i) for i in range(4)], config)[-1] == 4.0


@pytest.mark.parametrize("steady_after_s, expected", [(0, [STEADY, STEADY]), (2, [FAST, FAST, STEADY])])
def test_steady_after_is_a_setting(steady_after_s, expected):
    looks = [good(t) for t in range(len(expected))]
    assert run(looks, CadenceConfig(steady_fps=1 / 3, steady_after_s=steady_after_s)) == expected


def test_by_default_the_rate_is_fixed():
    assert run([good(t) for t in range(15)], cadence_config(Settings())) == [FAST] * 15


def test_the_settings_set_the_rates():
    config = cadence_config(Settings(fps=2.0, steady_fps=0.25, away_fps=0.1, brief_absence=0.0))
    assert (config.fps, config.steady_fps, config.away_fps, config.away_after_s) == \
        (2.0, 0.25, 0.1, 0.0)
    assert run([Look(0, "away"), good(10), good(10.5)], config) == [10.0, 0.5, 0.5]
    assert cadence_config(Settings()).away_after_s == Settings().brief_absence


@pytest.mark.parametrize("field, value", [("fps", 0), ("steady_fps", -1), ("away_fps", math.nan),
                                          ("drift", math.inf), ("steady_after_s", -1.0),
                                          ("away_after_s", math.nan),
                                          ("fps", "1")])
def test_a_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"CadenceConfig.{field}"):
        CadenceConfig(**{field: value})


def test_look_at_reads_the_worst_poor_posture_deviation_not_a_glance():
    tracker = SimpleNamespace(state="good", alert_in=lambda t: None, score=score_from(
        Deviations(head_drop=0.3, lean_in=0.45, lateral_lean=0.1, head_down=0.9)))
    assert look_at(7.0, "present", tracker) == Look(7.0, "present", "good", 0.45)


def test_look_at_without_a_score_or_a_tracker():
    assert look_at(1.0, "present", SimpleNamespace(state="uncertain", score=None,
                                                   alert_in=lambda t: None)) == \
        Look(1.0, "present", "uncertain", None)
    assert look_at(2.0, "away") == Look(2.0, "away", "", None)


HOLD = 2.0  # 1/poor_fps of the settings' default (0.5)
POOR = CadenceConfig(poor_fps=0.5)


def poor(t, drift=3.0, alert_in=None):
    return Look(t, "present", "poor", drift, alert_in)


POOR_CASES = [
    ("a slouch that holds, far past the threshold: every 2 s", [poor(0), poor(2)], [HOLD, HOLD]),
    ("near the threshold: every second", [poor(0, drift=1.5)], [FAST]),
    ("straightening up (under twice the threshold): every second at once",
     [poor(0), poor(2, drift=1.2)], [HOLD, FAST]),
    ("the look after the alert is due is the fixed rate's", [poor(0, alert_in=0.4)], [FAST]),
    ("... a whole step of 1/fps", [poor(0, alert_in=1.0)], [FAST]),
    ("... or two", [poor(0, alert_in=1.5)], [2.0]),
    ("... never sooner than 1/fps", [poor(0, alert_in=0.0)], [FAST]),
    ("an alert far ahead leaves the hold pace", [poor(0, alert_in=25.0)], [HOLD]),
    ("standing is not holding a slouch", [Look(0, "standing", "poor", 3.0)], [FAST]),
]


@pytest.mark.parametrize("name, looks, expected", POOR_CASES, ids=[c[0] for c in POOR_CASES])
def test_holding_poor_posture(name, looks, expected):
    assert run(looks, POOR) == expected


@pytest.mark.parametrize("fps, poor_fps, alert_in, expected", [
    (1.0, 0.25, 2.5, 3.0), (1.0, 0.25, None, 4.0), (2.0, 0.3, None, 3.5), (2.0, 0.5, 0.7, 1.0),
    (1.0, 0.4, None, 2.0),  # 2.5 s rounds to the grid's 2 s
])
def test_holding_stays_on_the_fixed_rates_grid(fps, poor_fps, alert_in, expected):
    assert run([poor(0, alert_in=alert_in)], CadenceConfig(fps=fps, poor_fps=poor_fps)) == \
        [expected]


def test_poor_fps_from_the_settings_and_zero_is_fps():
    assert cadence_config(Settings()).poor_fps == 0.5
    assert cadence_config(Settings(poor_fps=0.0)).poor_fps == 1.0
    assert run([poor(0)], cadence_config(Settings(poor_fps=0.0))) == [FAST]
