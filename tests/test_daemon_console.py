"""What `run` says on stdout (what it watches, then state changes) and what `status` says."""

from __future__ import annotations

import json
import re

import clips
from daemon_support import LONG_CLIP, SLOUCH_CLIP, make_profile, spawn_run, status_or_none, stop, \
    wait_for

from posturewatch.adapters.control import runtime_paths, send_command
from posturewatch.app import cli
from posturewatch.app.daemon.console import StateLines, StateNow, state_words


def test_run_names_what_it_watches_then_prints_one_line_per_state_change(tmp_path, capsys):
    profile = make_profile(SLOUCH_CLIP, 12.0, tmp_path / "p.json")
    assert cli.main(["run", "--source", str(clips.pose_log(SLOUCH_CLIP)), "--profile",
                     str(profile), "--model", "lite", "--fps", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines[0]
    assert first.startswith(f"posturewatch: watching {clips.pose_log(SLOUCH_CLIP)} (profile test, "
                            "model lite, 2 frame/s, 0.2 while away); log: ")
    log_path = re.search(r"log: (\S+);", first).group(1)
    assert log_path.endswith("state/posturewatch.log") and "stop with Ctrl-C" in first
    # The profile was made with the full model: a note says so, on stdout (it is no error).
    assert lines[1].startswith("posturewatch: note: the profile 'test' was calibrated with the "
                               "full pose model but lite is used (command line)")
    changes = [ln.split(" ", 1)[1] for ln in lines[2:]]
    assert all(re.match(r"\d\d:\d\d:\d\d ", ln) for ln in lines[2:])
    assert "good posture" in changes and any(c.startswith("poor posture: ") for c in changes)
    assert all(a != b for a, b in zip(changes, changes[1:]))  # only changes


def test_state_words_name_the_pause_reason():
    assert state_words(StateNow("paused", True, "user")) == "paused: user"
    assert state_words(StateNow("away", True, "screen locked")) == "paused: screen locked"
    assert state_words(StateNow("camera busy", True, "camera busy")) == \
        "camera busy: another app has the camera"
    assert state_words(StateNow("poor", reasons=("head_drop", "lean_in"))) == \
        "poor posture: head drop, lean in"
    lines = StateLines(stream=open("/dev/full", "w"))
    lines.update(0.0, StateNow("good"))  # a full stdout is not our problem to die of
    assert lines.last == "good posture"


def test_status_json_says_not_running_and_keeps_the_exit_code(capsys):
    assert cli.main(["status", "--json"]) == 10
    out, err = capsys.readouterr()
    assert json.loads(out) == {"running": False}
    assert err.startswith("posturewatch: error: posturewatch is not running")
    assert cli.main(["status"]) == 10
    assert capsys.readouterr().out == ""


def test_status_text_shows_today_and_the_last_notice_and_why_it_is_paused(capsys):
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime",
                     "--break-after", "0.05")
    try:
        wait_for(lambda: (status_or_none() or {}).get("last_notification"), timeout=60)
        send_command(runtime_paths().socket, "pause", {"reason": "screen locked"})
        assert cli.main(["status"]) == 0
        text = capsys.readouterr().out
        assert re.search(r"^last notice: +Time for a break: ", text, re.M), text
        assert re.search(r"^today: +seated ", text, re.M)
        assert re.search(r"^paused: +screen locked; camera released$", text, re.M)
        assert cli.main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["running"] is True and status["paused"] is True
        assert status["pause_reason"] == "screen locked"
    finally:
        stop(proc)
