"""Every bad input is one `posturewatch: error:` line, its exit code, no traceback, nothing lost.

The families from issue 7: NaN, inf, negative and huge numbers in flags, config.toml,
profiles and pose logs; deep nesting; URLs where a file is expected; unusable
config/state/cache/runtime folders; a full disk behind stdout. In-process through
cli.main where that is possible; in a child process where the environment itself
(a hidden /run, dropped root privileges, stdout on /dev/full) is the input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import clips
import pytest
from cli_support import assert_one_error, files_in, run, run_as_ordinary_process, small_log
from mounts import posturewatch, without_run_dir

from posturewatch import errors
from posturewatch.adapters import control, profiles

EXAMPLE = clips.REPO / "calibration" / "warp_intel_man_mixed_session.json"
DEEP = 100_000  # far past Python's recursion limit


def strict(text: str):
    """json.loads that fails on NaN/Infinity, as a strict JSON reader would."""
    def refuse(name):
        raise ValueError(f"{name} in the output")
    return json.loads(text, parse_constant=refuse)


# --- numbers in flags ------------------------------------------------------------------------

FLAGS = [
    ("analyze", "--start", "nan"), ("analyze", "--start", "-1"), ("analyze", "--start", "inf"),
    ("analyze", "--start", "1e300"), ("analyze", "--end", "1e400"), ("analyze", "--end", "-inf"),
    ("analyze", "--fps", "nan"), ("analyze", "--fps", "inf"), ("analyze", "--fps", "-5"),
    ("analyze", "--fps", "1e9"), ("analyze", "--start", "ten"),
    ("calibrate", "--start", "nan"), ("calibrate", "--slouch-end", "inf"), ("calibrate", "--fps", "nan"),
    ("evaluate", "--alert-after", "nan"), ("evaluate", "--fps", "inf"),
    ("run", "--alert-after", "nan"), ("run", "--alert-after", "-1"), ("run", "--cooldown", "inf"),
    ("run", "--break-after", "nan"), ("run", "--break-after", "0"), ("run", "--fps", "nan"),
    ("start", "--fps", "-inf"),
]


@pytest.mark.parametrize("command,flag,value", FLAGS, ids=[" ".join(f) for f in FLAGS])
def test_a_bad_number_in_a_flag(tmp_path, capfd, command, flag, value):
    log = small_log(tmp_path / "s.jsonl")
    first = {"analyze": [log], "calibrate": ["--from-video", log], "evaluate": [log]}.get(command, [])
    before = files_in(tmp_path)
    code, out, err = run(capfd, command, *first, f"{flag}={value}")  # "=": "-inf" is not an option
    assert code == errors.UsageError.exit_code
    assert_one_error(err, f"argument {flag}", value)
    assert out == "" and files_in(tmp_path) == before


@pytest.mark.parametrize("command", ["pause", "snooze"])
@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "0m", "1e9", "9" * 400, "169h", "10 years"])
def test_a_bad_duration(capfd, command, value):
    code, out, err = run(capfd, command, value)
    assert code == errors.UsageError.exit_code
    assert_one_error(err, "argument DURATION")
    assert out == ""


def test_a_huge_flag_within_argparse_is_refused_by_the_settings(capfd):
    code, _, err = run(capfd, "run", "--alert-after", "1e9", "--source", "nowhere.mp4")
    assert code == errors.ConfigError.exit_code
    assert_one_error(err, "command line: alert_after", "at most 3600")


# --- numbers and nesting in config.toml ---------------------------------------------------------

CONFIGS = [
    ("alert_after = nan", "alert_after"), ("fps = nan", "fps"), ("fps = inf", "fps"),
    ("cooldown = -inf", "cooldown"), ("break_after = -5", "break_after"),
    ("alert_after = 1e400", "alert_after"), ("fps = " + "9" * 300, "fps"),
    ("fps = " + "9" * 5000, "not valid TOML"), ("source = " + "[" * DEEP + "]" * DEEP, "nested too deeply"),
    ("snooze = " + "{a = " * 5000 + "1" + "}" * 5000, "nested too deeply"),
]


@pytest.mark.parametrize("text,words", CONFIGS, ids=[c[0][:30] for c in CONFIGS])
def test_a_bad_value_in_config_toml(private_home, capfd, text, words):
    path = Path(private_home) / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text + "\n")
    for argv in (["config", "show", "--json"], ["run", "--source", "nowhere.mp4"]):
        code, out, err = run(capfd, *argv)
        assert code == errors.ConfigError.exit_code
        assert_one_error(err, str(path), words)
        assert out == ""
    assert path.read_text() == text + "\n"


# --- numbers and nesting in profiles ----------------------------------------------------------------


def _profile_text(change) -> str:
    data = json.loads(EXAMPLE.read_text())
    change(data)
    return json.dumps(data)


def _feature(key, value):
    return lambda d: d["baseline"]["features"]["head_drop_ear"].__setitem__(key, value)


PROFILES = [
    ("center NaN", _profile_text(_feature("center", float("nan"))), "NaN"),
    ("center Infinity", _profile_text(_feature("center", float("inf"))), "Infinity"),
    ("center 1e999", _profile_text(_feature("center", 1.0)).replace('"center": 1.0', '"center": 1e999'),
     "out of range"),
    ("center huge", _profile_text(_feature("center", 10**30)), "center"),
    ("spread negative", _profile_text(_feature("spread", -1.0)), "spread"),
    ("n a 5000-digit integer", _profile_text(_feature("n", 7)).replace('"n": 7', '"n": ' + "7" * 5000), "digits"),
    ("n zero", _profile_text(_feature("n", 0)), ".n"),
    ("frames negative", _profile_text(lambda d: d["baseline"].__setitem__("frames", -1)), "frames"),
    ("name a number", _profile_text(lambda d: d.__setitem__("name", 5)), "name"),
    ("samples NaN", _profile_text(lambda d: d.__setitem__("samples", {"slouch": {"x": float("nan")}})), "NaN"),
    ("a sample of an unknown kind", _profile_text(lambda d: d.__setitem__(
        "samples", {"stretch": {"head_pitch": 0.1}})), "unknown kinds ['stretch']"),
    ("a sample with an unknown feature", _profile_text(lambda d: d.__setitem__(
        "samples", {"slouch": {"head_pitch": 0.1, "x": 1.0}})), "samples.slouch has unknown features ['x']"),
    ("a sample feature not a number", _profile_text(lambda d: d.__setitem__(
        "samples", {"glance": {"head_pitch": "low"}})), "samples.glance.head_pitch"),
    ("deeply nested", '{"format": ' + "[" * DEEP + "]" * DEEP + "}", "nested too deeply"),
    ("deeply nested value", _profile_text(lambda d: d.__setitem__("source", "S"))
     .replace('"S"', "[" * DEEP + "]" * DEEP), "nested too deeply"),
    ("a list", "[1, 2]", "must be an object"),
]


@pytest.mark.parametrize("text,words", [p[1:] for p in PROFILES], ids=[p[0] for p in PROFILES])
def test_a_bad_value_in_a_profile(tmp_path, capfd, text, words):
    named = profiles.named_path("default")
    named.parent.mkdir(parents=True)
    named.write_text(text)
    loose = tmp_path / "loose.json"
    loose.write_text(text)
    log = small_log(tmp_path / "s.jsonl")
    for argv in (["profiles", "--json", "show"], ["analyze", log, "--calibration", loose, "--json"],
                 ["analyze", log, "--profile", "default"], ["profiles", "use", "default"]):
        code, out, err = run(capfd, *argv)
        assert code == errors.ProfileError.exit_code, argv
        assert_one_error(err, "not a valid calibration profile", words)
        assert out == ""
    assert named.read_text() == text and loose.read_text() == text


# --- numbers and nesting in pose logs -----------------------------------------------------------


def _log_lines(tmp: Path) -> list[str]:
    return small_log(tmp / "good.jsonl").read_text().splitlines()


def _header(change):
    def make(lines):
        head = json.loads(lines[0])
        change(head)
        return [json.dumps(head)] + lines[1:]
    return make


def _text_header(old, new):
    return lambda lines: [lines[0].replace(old, new)] + lines[1:]


def _line(n, text):
    return lambda lines: lines[:n] + [text] + lines[n + 1:]


POSE_LOGS = [
    ("header fps NaN", _text_header('"fps": 5.0', '"fps": NaN'), 1, "NaN"),
    ("header fps Infinity", _text_header('"fps": 5.0', '"fps": Infinity'), 1, "Infinity"),
    ("header fps 1e999", _text_header('"fps": 5.0', '"fps": 1e999'), 1, "out of range"),
    ("header fps negative", _header(lambda h: h["source"].__setitem__("fps", -5)), 1, "source.fps"),
    ("header frame count huge", _header(lambda h: h["source"].__setitem__("frame_count", 10**40)), 1,
     "frame_count"),
    ("header width a string", _header(lambda h: h["source"].__setitem__("width", "640")), 1, "width"),
    ("header sample_fps NaN", _text_header('"sample_fps": 5.0', '"sample_fps": NaN'), 1, "NaN"),
    ("header deeply nested", lambda lines: ['{"format": ' + "[" * DEEP + "]" * DEEP + "}"] + lines[1:],
     1, "nested too deeply"),
    ("time NaN", _line(2, '{"t": NaN, "lm": null}'), 3, "NaN"),
    ("time huge", _line(2, '{"t": 1e300, "lm": null}'), 3, "t must be"),
    ("visibility 1e999", lambda lines: lines[:2] + [lines[2].replace("0.99", "1e999", 1)] + lines[3:], 3,
     "visibility must be a finite number"),
    ("coordinate 1e999", lambda lines: lines[:2] + [lines[2].replace("[0.4,", "[1e999,", 1)] + lines[3:], 3,
     "coordinates within"),
    ("coordinate a bool", lambda lines: lines[:2] + [lines[2].replace("[0.4,", "[true,", 1)] + lines[3:], 3,
     "coordinates within"),
    ("visibility NaN", lambda lines: lines[:2] + [lines[2].replace("0.99", "NaN", 1)] + lines[3:], 3, "NaN"),
    ("line deeply nested", _line(2, '{"t": 0.4, "lm": ' + "[" * DEEP + "]" * DEEP + "}"), 3,
     "nested too deeply"),
    ("frame size zero", lambda lines: lines[:2] + [lines[2].replace('"size":[640,480]', '"size":[0,480]')]
     + lines[3:], 3, "size"),
    ("a line of 2 MB", _line(2, '{"t": 0.4, "lm": null, "x": "' + "x" * 2_000_000 + '"}'), 3, "longer than"),
]


@pytest.mark.parametrize("change,line,words", [p[1:] for p in POSE_LOGS], ids=[p[0] for p in POSE_LOGS])
def test_a_bad_value_in_a_pose_log(tmp_path, capfd, change, line, words):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(change(_log_lines(tmp_path))) + "\n")
    before = files_in(tmp_path)
    code, out, err = run(capfd, "analyze", path, "--json", "--csv", tmp_path / "o.csv")
    assert code == errors.BadPoseLog.exit_code
    assert_one_error(err, f"bad.jsonl:{line}: not a valid posturewatch pose log", words)
    assert out == "" and files_in(tmp_path) == before


@pytest.mark.parametrize("source", [{"fps": 0, "frame_count": 0}, {"fps": 1000, "frame_count": 10**10},
                                    {"width": 0, "height": 0}])
def test_an_odd_but_valid_header_still_gives_valid_json(tmp_path, capfd, source):
    lines = _log_lines(tmp_path)
    head = json.loads(lines[0])
    head["source"].update(source)
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join([json.dumps(head)] + lines[1:]) + "\n")
    code, out, err = run(capfd, "analyze", path, "--json", "--calibration", EXAMPLE)
    assert code == 0 and err == ""
    doc = strict(out)
    assert doc["frames_analyzed"] == 20


# --- URLs where a file is expected --------------------------------------------------------------

URLS = [
    ["analyze", "http://example.com/session.mp4"],
    ["analyze", "{log}", "--csv", "https://example.com/out.csv"],
    ["analyze", "{log}", "--poses", "ftp://example.com/out.jsonl"],
    ["analyze", "{log}", "--calibration", "https://example.com/p.json"],
    ["calibrate", "--from-video", "rtsp://camera.local/stream"],
    ["calibrate", "--from-video", "{log}", "--output", "s3://bucket/p.json"],
    ["evaluate", "http://example.com/clip.mp4"],
    ["evaluate", "{log}", "--labels", "https://example.com/clip.labels.csv"],
    ["model", "install", "https://example.com/pose_landmarker_lite.task"],
]


@pytest.mark.parametrize("argv", URLS, ids=[" ".join(a) for a in URLS])
def test_a_url_where_a_file_is_expected(tmp_path, capfd, argv):
    log = small_log(tmp_path / "s.jsonl")
    argv = [a.format(log=log) for a in argv]
    url = next(a for a in argv if "://" in a)
    code, out, err = run(capfd, *argv)
    assert code == errors.UsageError.exit_code
    assert_one_error(err, f"{url} is a URL")  # the URL as typed, not mangled into a path
    assert out == "" and sorted(files_in(tmp_path)) == ["s.jsonl"]


# --- folders that cannot be used ------------------------------------------------------------------


@pytest.fixture
def home(private_home) -> Path:
    return Path(private_home)


def _a_file_at(home: Path, name: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_text("a file where a folder should be\n")


@pytest.mark.parametrize("folder,argv,error,words", [
    ("config", ["config", "show"], errors.ConfigError, "cannot read the config file (Not a directory)"),
    ("config", ["calibrate", "--from-video", "{log}"], errors.OutputError, "cannot use"),
    ("config", ["profiles", "use", "default"], errors.ProfileError, "Not a directory"),
    ("state", ["run", "--source", "{log}"], errors.OutputError, "it is a file, not a folder"),
    ("cache", ["model", "download", "lite"], errors.OutputError, "cannot write to the model folder"),
    ("run", ["run", "--source", "{log}"], errors.DaemonError, "for the control socket"),
    ("run", ["status"], errors.DaemonError, "Not a directory"),
], ids=["config: config show", "config: calibrate", "config: profiles use", "state: run",
        "cache: model download", "run: run", "run: status"])
def test_a_file_where_a_folder_should_be(tmp_path, home, capfd, monkeypatch, folder, argv, error, words):
    monkeypatch.setenv("POSTUREWATCH_MODEL_URL", "http://127.0.0.1:9")  # never the real network
    log = small_log(tmp_path / "s.jsonl", frames=40)
    _a_file_at(home, folder)
    before = files_in(tmp_path)
    code, _, err = run(capfd, *[a.format(log=log) for a in argv])
    assert code == error.exit_code
    assert_one_error(err, words)
    after = files_in(tmp_path)  # `run` may have started its log; nothing that was there changed
    assert {name: after.get(name) for name in before} == before


def test_a_folder_without_write_permission(tmp_path, home):
    log = small_log(tmp_path / "s.jsonl", frames=40)
    folder = home / "config" / "profiles"
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    try:
        code, out, err = run_as_ordinary_process("calibrate", "--from-video", log)
    finally:
        folder.chmod(0o755)
    assert code == errors.OutputError.exit_code
    assert_one_error(err, "as the folder for the calibration profile: permission denied")
    assert list(folder.iterdir()) == []


def _runtime_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("XDG_") and k not in ("POSTUREWATCH_HOME", "TMP", "TEMP")}
    env.update(HOME=str(tmp_path / "user"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    unsafe = tmp_path / "tmp" / "runtime-0"  # uid 0 inside the namespace, whoever runs the tests
    unsafe.mkdir(mode=0o777)
    unsafe.chmod(0o777)
    return env


def test_no_xdg_runtime_dir_and_an_unsafe_fallback(tmp_path):
    env = _runtime_env(tmp_path)
    for argv, code in ((["status"], errors.DaemonError.exit_code), (["stop"], errors.DaemonError.exit_code),
                       (["profiles", "list"], 0), (["config", "path"], 0)):
        done = without_run_dir(posturewatch(*argv), env)
        assert done.returncode == code, done.stderr
        if code:
            assert_one_error(done.stderr, "no safe folder for the control socket", "has writable mode 0777",
                             "XDG_RUNTIME_DIR")
        else:
            assert done.stderr == ""


@pytest.mark.parametrize("mode, owner, safe", [
    (0o755, "me", True), (0o1777, "root", True),  # our own folder; /tmp with its sticky bit
    (0o777, "me", False), (0o775, "me", False),  # others may rename our folder away
    (0o755, "nobody", False),  # made by someone else first (the fallback's race)
])
def test_the_socket_folder_is_refused_where_others_could_replace_it(tmp_path, mode, owner, safe):
    parent = tmp_path / "runtime"
    parent.mkdir()
    if owner == "nobody":
        os.chown(parent, 65534, 65534)
    parent.chmod(mode)
    if safe:
        assert control.private_dir(parent / "posturewatch") == parent / "posturewatch"
    else:
        with pytest.raises(errors.DaemonError, match="others could replace"):
            control.private_dir(parent / "posturewatch")


# --- a full disk behind stdout --------------------------------------------------------------------


def test_stdout_on_a_full_disk(tmp_path):
    log = small_log(tmp_path / "s.jsonl")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "posturewatch", "analyze", str(log), "--json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == errors.OutputError.exit_code
    assert_one_error(done.stderr, "cannot write the output (No space left on device)")
