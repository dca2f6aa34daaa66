"""What the daemon's commands print on stderr, exactly, in real processes (OpenCV, FFmpeg and
MediaPipe write to fd 2 from C++, so only a real process shows what a user sees).

A command that succeeds prints nothing there; one that fails prints its one error line;
`-v` adds only posturewatch's own log lines; native logs appear with --debug only.
"""

from __future__ import annotations

import re
import subprocess
import sys

import clips

import pytest
from daemon_support import LONG_CLIP

from posturewatch.adapters import profiles

VIDEO = "render_m1_upright_steady"
NO_CAMERA = ("posturewatch: error: cannot open camera or stream '7': check that it is "
             "connected and not used by another program\n")
OURS = ("DEBUG posturewatch.", "INFO posturewatch.", "WARNING posturewatch.")


def posturewatch(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posturewatch", *argv], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def install_default_profile(clip: str) -> None:
    """The clip's calibration as the user's default profile: no "no profile" note."""
    profile = profiles.read_profile(clips.REPO / "calibration" / f"{clip}.json")
    path = profiles.named_path(profiles.DEFAULT_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    profiles.save_profile(profile, path)


def native_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith(OURS) and not line.startswith("posturewatch:")]


@pytest.mark.parametrize("flags", [[], ["-v"]], ids=["plain", "-v"])
def test_run_without_a_camera_prints_only_its_own_error(flags):
    done = posturewatch(*flags, "run", "--source", "7")  # no such device on this machine
    assert (done.returncode, done.stdout, done.stderr) == (8, "", NO_CAMERA)


def test_run_without_a_camera_with_vv_adds_only_our_own_lines():
    done = posturewatch("-vv", "run", "--source", "7")
    assert done.returncode == 8
    assert done.stderr.endswith(NO_CAMERA) and native_lines(done.stderr) == []


def test_with_debug_the_native_logs_appear():
    done = posturewatch("--debug", "run", "--source", "7")
    assert done.returncode == 8 and done.stderr.endswith(NO_CAMERA)
    assert "can't open camera by index" in done.stderr  # OpenCV's own warning


def test_a_run_that_succeeds_prints_nothing_and_v_only_our_own_lines():
    install_default_profile(VIDEO)
    video = str(clips.video(VIDEO))
    quiet = posturewatch("run", "--source", video)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    # stdout: what it watches, then one line per state change (issue 10), nothing else
    first, *changes = quiet.stdout.splitlines()
    assert first.startswith(f"posturewatch: watching {video} (profile ")
    assert changes and all(re.fullmatch(r"\d\d:\d\d:\d\d [a-z :,]+", c) for c in changes)
    verbose = posturewatch("-v", "run", "--source", video)
    assert verbose.returncode == 0
    assert native_lines(verbose.stderr) == [] and "INFO posturewatch.app.daemon" in verbose.stderr
    debug = posturewatch("--debug", "run", "--source", video)
    assert debug.returncode == 0
    assert len(native_lines(debug.stderr)) >= 3  # MediaPipe's own start-up lines


@pytest.mark.parametrize("clip,words", [
    ("warp_intel_woman_upright_steady", "the video stops at frame"),  # mp4 index at the start
    (VIDEO, "not a video OpenCV can read"),  # index at the end: does not even open
], ids=["stops half way", "does not open"])
def test_run_on_a_truncated_video_fails_with_one_error_line(tmp_path, clip, words):
    install_default_profile(clip)
    data = clips.video(clip).read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    done = posturewatch("run", "--source", str(half))
    assert done.returncode == 4  # BadVideo
    assert done.stderr.startswith(f"posturewatch: error: {half}: ") and words in done.stderr
    assert done.stderr.count("\n") == 1
    # stdout has at most what `run` says while it watches (issue 10): no error there
    assert all(ln.startswith("posturewatch: watching ") or ln[2] == ":"
               for ln in done.stdout.splitlines()) and "error" not in done.stdout


def test_control_commands_that_succeed_print_nothing_on_stderr():
    log = str(clips.pose_log(LONG_CLIP))
    commands = [["start", "--source", log, "--realtime"], ["status"], ["status", "--json"],
                ["pause", "10m"], ["resume"], ["snooze", "90s"], ["break"], ["stop"]]
    results = [(argv[0], *(lambda d: (d.returncode, d.stderr))(posturewatch(*argv)))
               for argv in commands]
    assert results == [(argv[0], 0, "") for argv in commands]
