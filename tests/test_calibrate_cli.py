"""calibrate --from-video, profiles and evaluate, in-process through the CLI."""

import json

import pytest

import clips
from posturewatch.adapters import profiles
from posturewatch.app.cli import main

CLIP = "warp_intel_man_mixed_session"


def calibrate(capsys, *extra):
    code = main(["calibrate", "--from-video", str(clips.pose_log(CLIP)), "--end", "7", *extra])
    return code, capsys.readouterr()


@pytest.mark.video
def test_calibrate_from_a_recording_saves_a_profile(capsys):
    code, out = calibrate(capsys)
    assert code == 0, out.err
    assert "saved to" in out.out and "head_drop_ear" in out.out
    profile = profiles.load_profile("default")
    assert profile.baseline.frames >= 30
    assert 0.55 < profile.baseline.get("head_drop_ear").center < 0.8
    assert profile.frame == (480, 270)


@pytest.mark.video
def test_slouch_sample_and_named_profiles(capsys):
    code, out = calibrate(capsys, "--profile", "desk", "--slouch-start", "30", "--slouch-end", "45")
    assert code == 0, out.err
    desk = profiles.load_profile("desk")
    upright, slouch = desk.baseline.get("head_drop_ear").center, desk.samples["slouch"]["head_drop_ear"]
    assert slouch < upright - 0.1  # the labelled slouch (20-47 s) drops the head
    assert main(["profiles", "use", "desk"]) == 0
    assert main(["profiles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert listed == {"active": "desk", "profiles": ["desk"]}
    assert main(["profiles", "delete", "desk"]) == 0
    assert main(["profiles", "show", "desk"]) == 7


def test_a_malformed_profile_is_a_clear_error_and_is_kept_aside(capsys):
    path = profiles.named_path("default")
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "posturewatch-profile", "version": 1,\n "baseline": ')
    assert main(["profiles", "show"]) == 7
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("posturewatch: error:") and ":2:" in err[0]
    code, out = calibrate(capsys)
    assert code == 0
    assert path.with_name("default.json.broken").read_text().endswith('"baseline": ')
    assert "kept it as" in out.err


def test_analyze_with_a_profile_adds_the_posture_timeline(capsys):
    assert calibrate(capsys)[0] == 0
    assert main(["analyze", str(clips.pose_log(CLIP)), "--profile", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    labelled = clips.labels(CLIP)
    slouch_start = labelled.spans("slouch")[0][0]
    starts = [e["start_s"] for e in report["episodes"] if "head_drop" in e["reasons"]]
    assert starts and abs(starts[0] - slouch_start) <= 4.0
    assert set(report["states"]) >= {"good", "poor", "away"}
    assert abs(sum(report["states"].values()) - 1.0) < 0.01
    assert report["states"]["away"] > 0.05  # the clip leaves the desk from 71.8 s


def test_evaluate_reports_per_clip_and_overall(capsys):
    logs = [str(clips.pose_log(n)) for n in ("warp_intel_man_slouch_gradual",
                                             "warp_proctor_man_upright_steady")]
    assert main(["evaluate", *logs, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["clip"] for c in report["clips"]] == ["warp_intel_man_slouch_gradual",
                                                    "warp_proctor_man_upright_steady"]
    assert report["overall"]["episodes_on_clean_clips"] == 0
    assert report["overall"]["f1"] >= 0.9
    assert main(["evaluate", *logs]) == 0
    assert "overall:" in capsys.readouterr().out


def test_evaluate_needs_a_profile_for_a_clip_that_does_not_open_upright(capsys):
    assert main(["evaluate", str(clips.pose_log("real_rear_man_lens_covered"))]) == 7
    assert "give --profile" in capsys.readouterr().err


def test_the_example_profiles_in_calibration_are_valid_and_catch_the_slouch(capsys):
    examples = sorted((clips.REPO / "calibration").glob("*.json"))
    assert len(examples) >= 20
    for path in examples:
        baseline = profiles.read_profile(path).baseline
        # A head drop to judge slouches by (seen from the side: the neck's inclination),
        # and the head's size and place that the presence rule compares with.
        assert baseline.get("head_drop_ear") or baseline.get("neck_inclination_deg"), path
        assert baseline.get("head_size") and baseline.get("nose_y"), path
    mixed = str(clips.REPO / "calibration" / f"{CLIP}.json")
    assert main(["analyze", str(clips.pose_log(CLIP)), "--calibration", mixed, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any("head_drop" in e["reasons"] for e in report["episodes"])


def test_a_profile_from_before_the_head_features_still_works(capsys, tmp_path):
    """Profiles saved before head_size, nose_x/y and shoulder_x/y existed load as they are:
    the presence rule uses what they have, and the shoulder-based rules catch the slouch."""
    mixed = json.loads((clips.REPO / "calibration" / f"{CLIP}.json").read_text())
    new = {"head_size", "nose_x", "nose_y", "shoulder_x", "shoulder_y"}
    mixed["baseline"]["features"] = {n: f for n, f in mixed["baseline"]["features"].items()
                                     if n not in new}
    mixed.pop("model")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(mixed))
    assert profiles.read_profile(old).model is None
    assert main(["analyze", str(clips.pose_log(CLIP)), "--calibration", str(old), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["reasons"][0] for e in report["episodes"]][:1] == ["head_drop"]
    assert report["states"]["away"] > 0.05  # left 72-83 s; then 5 s of settling in (uncertain)
    assert report["states"]["uncertain"] < 0.1
