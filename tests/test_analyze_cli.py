"""`posturewatch analyze`, in-process through `cli.main`: its outputs and its errors.

Output tests replay the session's pose logs of the sample clips (tests/clips.py), so
they check the report against the clips' labels without running the model again;
one test runs a short window of a real video. Error tests build their bad inputs
in a temp dir and check that each gives exactly one `posturewatch: error:` line
(read at the file-descriptor level, so FFmpeg's or MediaPipe's own chatter would
count too), no traceback, and its class's exit code.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import clips
import pytest

from posturewatch import errors
from posturewatch.adapters.pose_log import PoseLogHeader, write_pose_log
from posturewatch.app import cli
from posturewatch.core.features import FEATURE_NAMES
from posturewatch.core.pose import PARTS, Landmark, Pose, TimedPose
from posturewatch.ports import SourceInfo

LEAVE = "warp_intel_man_leave_and_return"
EDGE_S = 1.0  # the slide out of (and into) the frame takes 0.8 s either side of the label change


def analyze(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["analyze", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def small_log(path: Path, frames: int = 20) -> Path:
    """A pose log made by hand (no model): a person for the first half, then nobody."""
    marks = {p: Landmark(0.4 + 0.01 * i, 0.2 + 0.05 * i, 0.0, 0.99) for i, p in enumerate(PARTS)}
    poses = [TimedPose(i / 5, Pose(640, 480, marks) if i < frames // 2 else None) for i in range(frames)]
    header = PoseLogHeader(SourceInfo("made-by-hand.mp4", 5.0, frames, 640, 480), {"variant": None}, 5.0)
    write_pose_log(path, header, poses)
    return path


# --- outputs --------------------------------------------------------------------------


@pytest.mark.video
def test_text_report_lists_the_presence_segments(capsys):
    code, out, err = analyze(capsys, clips.pose_log(LEAVE))
    assert code == 0 and err == ""
    presence = out.split("Presence:")[1].split("\n\n")[0].strip().splitlines()
    assert [line.split()[-1] for line in presence] == ["present", "away", "present"]
    assert "a person was there in" in out
    for name in FEATURE_NAMES:
        assert name in out


@pytest.mark.video
def test_json_has_every_contract_key(capsys):
    code, out, _ = analyze(capsys, clips.pose_log(LEAVE), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"source", "frames_analyzed", "person_ratio", "segments", "features", "model",
                        "elapsed_s", "realtime_factor"}
    assert set(doc["source"]) >= {"path", "duration_s", "fps", "frame_count", "width", "height"}
    assert set(doc["model"]) >= {"variant", "path"}
    assert set(doc["features"]) == set(FEATURE_NAMES)
    for name, stats in doc["features"].items():
        assert set(stats) >= {"median", "p10", "p90", "coverage"}, name
        if stats["median"] is not None:
            assert stats["p10"] <= stats["median"] <= stats["p90"], name
        assert 0.0 <= stats["coverage"] <= 1.0
    for segment in doc["segments"]:
        assert set(segment) >= {"start_s", "end_s", "state"}
    assert isinstance(doc["elapsed_s"], float) and doc["elapsed_s"] >= 0


@pytest.mark.video
def test_json_describes_the_clip_and_its_labelled_absence(capsys):
    labels, entry = clips.labels(LEAVE), clips.entry(LEAVE)
    code, out, _ = analyze(capsys, clips.pose_log(LEAVE), "--json")
    doc = json.loads(out)
    assert doc["source"]["path"] == str(clips.video(LEAVE))
    assert doc["source"]["frame_count"] == len(labels) and doc["source"]["fps"] == entry["fps"]
    assert (doc["source"]["width"], doc["source"]["height"]) == (entry["width"], entry["height"])
    assert doc["source"]["duration_s"] == pytest.approx(entry["duration_s"])
    assert doc["frames_analyzed"] == pytest.approx(entry["duration_s"] * 5, abs=1)
    assert doc["model"] == {"variant": "full", "path": str(clips.model_path("full"))}

    # The segments tile the clip and follow the labels: present, away when labelled, present.
    segments = doc["segments"]
    assert [s["state"] for s in segments] == ["present", "away", "present"]
    assert segments[0]["start_s"] == 0.0
    assert all(a["end_s"] == b["start_s"] for a, b in zip(segments, segments[1:]))
    assert segments[-1]["end_s"] == pytest.approx(entry["duration_s"], abs=0.25)
    (left, back), = labels.spans("away")
    assert segments[1]["start_s"] == pytest.approx(left, abs=EDGE_S)
    assert segments[1]["end_s"] == pytest.approx(back, abs=EDGE_S)
    labelled_away = (back - left) / entry["duration_s"]
    assert doc["person_ratio"] == pytest.approx(1 - labelled_away, abs=0.05)


@pytest.mark.video
def test_csv_has_one_row_per_analysed_frame(capsys, tmp_path):
    out_csv = tmp_path / "frames.csv"
    code, out, _ = analyze(capsys, clips.pose_log(LEAVE), "--json", "--csv", out_csv)
    doc = json.loads(out)
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["time_s", "present", *FEATURE_NAMES]
    assert len(rows) == doc["frames_analyzed"]
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and times[0] == 0.0
    present = [r["present"] == "1" for r in rows]
    assert sum(present) / len(rows) == pytest.approx(doc["person_ratio"], abs=1e-4)
    labels = clips.labels(LEAVE)
    for row, here in zip(rows, present):
        if not here:
            assert all(row[n] == "" for n in FEATURE_NAMES)  # no features without a person
        elif labels.label_at(float(row["time_s"])) == "upright" and row["head_drop_nose"]:
            assert float(row["head_drop_nose"]) > 0  # the nose is above the shoulders


@pytest.mark.video
def test_replay_window_and_rate(capsys):
    log = clips.pose_log("render_f1_leave_and_return")  # 10 fps: samples fall on whole seconds
    code, out, _ = analyze(capsys, log, "--json", "--start", "5", "--end", "15", "--fps", "1")
    doc = json.loads(out)
    assert code == 0 and doc["frames_analyzed"] == 10
    assert doc["segments"][0]["start_s"] == 5.0
    assert doc["segments"][-1]["end_s"] == pytest.approx(15.0)


@pytest.mark.video
def test_a_short_window_of_a_real_video(capfd):
    video = clips.video("render_m1_upright_steady")
    code = cli.main(["analyze", str(video), "--start", "1", "--end", "3", "--json"])
    out, err = capfd.readouterr()
    assert code == 0
    assert err == "", "the model's native start-up chatter must not reach the terminal"
    doc = json.loads(out)
    assert doc["frames_analyzed"] == 10  # 2 s at 5 fps
    assert doc["person_ratio"] == 1.0  # labelled upright throughout
    assert doc["segments"] == [{"start_s": 1.0, "end_s": 3.0, "state": "present"}]
    assert doc["realtime_factor"] > 0


def test_a_hand_made_log_replays_without_the_model(capsys, tmp_path):
    code, out, _ = analyze(capsys, small_log(tmp_path / "s.jsonl"), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["frames_analyzed"] == 20 and doc["person_ratio"] == 0.5
    assert [(s["start_s"], s["end_s"], s["state"]) for s in doc["segments"]] == \
        [(0.0, 2.0, "present"), (2.0, 4.0, "away")]
    assert doc["model"] == {"variant": None, "path": None}


# --- errors -------------------------------------------------------------------------------


def test_every_error_class_has_its_own_exit_code():
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.PostureWatchError)]
    codes = [c.exit_code for c in classes]
    assert len(set(codes)) == len(codes) and 0 not in codes
    assert errors.EXIT_INTERRUPTED not in codes


def half_of(clip: str, tmp: Path) -> Path:
    data = clips.video(clip).read_bytes()
    path = tmp / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def a_zip_without_models(tmp: Path) -> Path:
    path = tmp / "bundle.task"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "no models here")
    return path


def put(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


VIDEO = "render_m1_upright_steady"

# (id, argv after `analyze` built from the temp dir, error class, words the message must hold)
BAD_INPUTS = [
    ("missing path", lambda t: [t / "nope.mp4"], errors.InputNotFound, "no such file"),
    ("a directory", lambda t: [t], errors.InputNotFound, "is a directory"),
    ("zero-byte file", lambda t: [put(t, "empty.mp4", b"")], errors.BadVideo, "empty"),
    ("text named .mp4", lambda t: [put(t, "notes.mp4", b"meeting notes\n" * 50)], errors.BadVideo,
     "not a video"),
    ("truncated, index at the end", lambda t: [half_of("render_m1_upright_steady", t)], errors.BadVideo,
     "not a video"),
    ("truncated, index at the start", lambda t: [half_of("warp_intel_woman_upright_steady", t), "--fps", "1"],
     errors.BadVideo, "truncated"),
    ("model of random bytes", lambda t: [clips.video(VIDEO), "--model", put(t, "m.task", os.urandom(5000))],
     errors.ModelError, "not a pose model bundle"),
    ("model zip without the networks", lambda t: [clips.video(VIDEO), "--model", a_zip_without_models(t)],
     errors.ModelError, "bundle.task"),
    ("unknown model variant", lambda t: [clips.video(VIDEO), "--model", "medium"], errors.ModelError,
     "unknown model 'medium'"),
    ("malformed pose log", lambda t: [put(t, "s.jsonl", b'{"format": "posturewatch-poselog", "version": 1}\n')],
     errors.BadPoseLog, "s.jsonl:1:"),
    ("pose log from the future", lambda t: [put(t, "s.jsonl", b'{"format": "posturewatch-poselog", "version": 7}\n')],
     errors.BadPoseLog, "version 7"),
    ("--csv under a file", lambda t: [small_log(t / "s.jsonl"), "--csv", put(t, "f", b"x") / "out.csv"],
     errors.OutputError, "Not a directory"),
    ("--csv is a directory", lambda t: [small_log(t / "s.jsonl"), "--csv", t], errors.OutputError,
     "is a directory"),
    ("--poses in a missing folder", lambda t: [small_log(t / "s.jsonl"), "--poses", t / "no" / "p.jsonl"],
     errors.OutputError, "No such file"),
    ("--end before --start", lambda t: [small_log(t / "s.jsonl"), "--start", "3", "--end", "2"],
     errors.UsageError, "--end"),
]


@pytest.mark.parametrize("argv,error,words", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gives_one_error_line_and_its_exit_code(tmp_path, capfd, argv, error, words):
    args = [str(a) for a in argv(tmp_path)]
    created = sorted(p.name for p in tmp_path.iterdir())
    code = cli.main(["analyze", *args])
    out, err = capfd.readouterr()
    assert code == error.exit_code
    assert err.splitlines() == [err.strip()], f"more than one line on stderr:\n{err}"
    assert err.startswith("posturewatch: error: ") and words in err
    assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == created  # nothing half-written left behind


def test_output_files_are_unchanged_when_the_analysis_fails(tmp_path, capsys):
    """A damaged log stops analyze half way; --csv and --poses files from before survive."""
    log = small_log(tmp_path / "s.jsonl")
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(log.read_bytes() + b'{"t": 0.1, "lm": null}\n')  # time goes backwards
    old_csv, old_log = put(tmp_path, "old.csv", b"previous,csv\n"), put(tmp_path, "old.jsonl", b"previous\n")
    code, _, err = analyze(capsys, damaged, "--csv", old_csv, "--poses", old_log)
    assert code == errors.BadPoseLog.exit_code and "damaged.jsonl:22:" in err
    assert old_csv.read_bytes() == b"previous,csv\n" and old_log.read_bytes() == b"previous\n"
    assert not list(tmp_path.glob("*.tmp"))


# --- permissions: real denials, also when the tests run as root --------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _drop_file_permission_override() -> None:
    """In the child, before exec: give up root's power to ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_as_an_ordinary_process(*argv) -> subprocess.CompletedProcess:
    """A child process where file permissions apply: root's child first drops
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (chmod 000 does not stop root otherwise)."""
    drop = _drop_file_permission_override if os.geteuid() == 0 else None
    return subprocess.run([sys.executable, *map(str, argv)], preexec_fn=drop,
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())


def analyze_as_an_ordinary_process(capsys, *argv) -> tuple[int, str]:
    """Run `analyze` where file permissions apply: in-process for a normal user; for root in a
    child process (run_as_an_ordinary_process)."""
    if os.geteuid() != 0:
        code, _, err = analyze(capsys, *argv)
        return code, err
    done = run_as_an_ordinary_process("-m", "posturewatch", "analyze", *argv)
    return done.returncode, done.stderr


def test_the_permission_helper_really_denies(tmp_path):
    """Whoever runs the tests (root or not), the process the permission tests use cannot
    read a chmod 000 file, and can read the same file once it is readable."""
    secret = put(tmp_path, "secret", b"x")
    probe = "import sys; print(open(sys.argv[1]).read())"
    secret.chmod(0)
    denied = run_as_an_ordinary_process("-c", probe, secret)
    assert denied.returncode != 0 and "PermissionError" in denied.stderr
    secret.chmod(0o600)
    allowed = run_as_an_ordinary_process("-c", probe, secret)
    assert (allowed.returncode, allowed.stdout) == (0, "x\n"), allowed.stderr


def test_an_unreadable_video(tmp_path, capsys):
    video = put(tmp_path, "private.mp4", clips.video(VIDEO).read_bytes())
    video.chmod(0)
    code, err = analyze_as_an_ordinary_process(capsys, video)
    assert code == errors.InputNotFound.exit_code
    assert err.splitlines() == [f"posturewatch: error: {video}: permission denied"]


def test_an_unreadable_pose_log(tmp_path, capsys):
    log = small_log(tmp_path / "private.jsonl")
    log.chmod(0)
    code, err = analyze_as_an_ordinary_process(capsys, log)
    assert code == errors.InputNotFound.exit_code  # as for a video: the file is there, but not for us
    assert err.splitlines() == [f"posturewatch: error: {log}: permission denied"]


def test_an_unwritable_folder_leaves_the_old_csv_alone(tmp_path, capsys):
    log = small_log(tmp_path / "s.jsonl")
    folder = tmp_path / "reports"
    folder.mkdir()
    old = put(folder, "out.csv", b"previous,csv\n")
    folder.chmod(0o555)
    try:
        code, err = analyze_as_an_ordinary_process(capsys, log, "--csv", old)
    finally:
        folder.chmod(0o755)
    assert code == errors.OutputError.exit_code
    assert err.splitlines() == [f"posturewatch: error: {old}: cannot write the CSV file (Permission denied)"]
    assert old.read_bytes() == b"previous,csv\n"
    assert sorted(p.name for p in folder.iterdir()) == ["out.csv"]
