"""The daemon end to end: recordings, the control socket, and the faults it survives."""

from __future__ import annotations

import json
import signal
import socket

import clips
import numpy as np
import pytest
from daemon_support import LONG_CLIP, UPRIGHT_CLIP, spawn_run, status_or_none, wait_for

from posturewatch.adapters import control
from posturewatch.adapters.control import runtime_paths
from posturewatch.adapters.video import LiveSource
from posturewatch.app import cli
from posturewatch.app.daemon.loop import Daemon
from posturewatch.app.daemon.status import DaemonStatus
from posturewatch.core.session import build_session
from posturewatch.core.pose import Landmark, Part, Pose, TimedPose
from posturewatch.core.settings import Settings
from posturewatch.errors import DaemonError
from posturewatch.pipeline import PoseFeed


# --- recordings --------------------------------------------------------------

@pytest.mark.video
def test_run_on_a_video_file_ends_with_exit_0_and_a_summary(capsys, monkeypatch, tmp_path):
    # No notification server can be reached, whatever desktop this runs on: the session bus
    # is a socket nobody listens on (without an address, D-Bus would find the user's own
    # bus in XDG_RUNTIME_DIR and the desktop's server). The console is the last resort.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    for key in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(key, raising=False)
    code = cli.main(["run", "--source", str(clips.video("render_m1_upright_steady")),
                     "--break-after", "0.1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "posturewatch: note: no calibration profile" in out  # break reminders only, and it says so
    assert "no calibration profile" not in err
    assert ("posturewatch: Time for a break: You have been sitting for 1 minute. Stand up and "
            "move. Try: Knee-to-chest stretch") in err  # on the console
    log = (runtime_paths().lock.parent.parent / "state" / "posturewatch.log").read_text()
    assert "daily summary: seated" in log and "breaks taken 0" in log


def test_a_pose_log_replays_through_the_same_monitor(capsys):
    assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP)),
                     "--break-after", "0.5"]) == 0
    assert "Time for a break" in capsys.readouterr().err
    assert not runtime_paths().socket.exists() and not runtime_paths().lock.exists()


# --- control -----------------------------------------------------------------

def test_start_status_pause_resume_snooze_break_stop(capsys):
    log = str(clips.pose_log(LONG_CLIP))
    assert cli.main(["start", "--source", log, "--realtime", "--break-after", "20"]) == 0
    assert "started in the background" in capsys.readouterr().out
    try:
        assert cli.main(["start", "--source", log]) == 10
        assert "already running" in capsys.readouterr().err
        assert cli.main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["camera"] == "ok" and status["source"] == log
        assert status["next_break_min"] <= 20 and status["notifier"]
        assert status["posture_alerts"] is False and "calibrate" in status["profile_note"]
        assert cli.main(["pause", "10m"]) == 0
        assert "paused until" in capsys.readouterr().out
        wait_for(lambda: status_or_none()["camera"] == "released")
        assert status_or_none()["state"] == "paused"
        assert cli.main(["resume"]) == 0
        wait_for(lambda: status_or_none()["camera"] == "ok")
        assert cli.main(["snooze", "90s"]) == 0
        assert status_or_none()["snoozed_until"]
        assert cli.main(["break"]) == 0
        assert status_or_none()["seated_min"] < 0.1
        assert cli.main(["status"]) == 0
        text = capsys.readouterr().out
        assert "time seated:" in text and "notifications:" in text and "profile:" in text
    finally:
        stopped = cli.main(["stop"])
    assert stopped == 0
    wait_for(lambda: not runtime_paths().lock.exists())
    assert not runtime_paths().socket.exists()
    assert cli.main(["status"]) == 10
    assert "not running" in capsys.readouterr().err


def test_socket_and_lock_are_private():
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime")
    try:
        wait_for(status_or_none)
        paths = runtime_paths()
        assert oct(paths.socket.stat().st_mode & 0o777) == "0o600"
        assert oct(paths.lock.stat().st_mode & 0o777) == "0o600"
        assert oct(paths.socket.parent.stat().st_mode & 0o777) == "0o700"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_cleanly_with_exit_0(sig):
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime")
    wait_for(status_or_none)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not runtime_paths().socket.exists() and not runtime_paths().lock.exists()


def test_a_stale_socket_from_a_crash_is_replaced():
    paths = runtime_paths()
    paths.socket.parent.mkdir(mode=0o700, parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(paths.socket))  # bound, never listening: what a crash leaves
    paths.lock.write_text("999999\n")
    assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP))]) == 0
    assert not paths.socket.exists()


def test_a_second_daemon_is_refused_while_one_runs(capsys):
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime")
    try:
        wait_for(status_or_none)
        assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP))]) == 10
        assert f"already running (pid {proc.pid})" in capsys.readouterr().err
        assert status_or_none()  # the live one still answers
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


# --- configuration -------------------------------------------------------------

def config_file():
    from posturewatch.adapters.config import config_path
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_malformed_config_is_an_error_naming_the_line_and_is_left_alone(capsys):
    path = config_file()
    text = "fps = 1\nbreak_after = = 20\n"
    path.write_text(text)
    assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP))]) == 9
    err = capsys.readouterr().err
    assert err.startswith("posturewatch: error: ") and "line 2" in err and str(path) in err
    assert path.read_text() == text


def test_a_bad_value_names_the_key_and_its_line(capsys):
    path = config_file()
    path.write_text("# mine\nbreak_after = \"soon\"\n")
    assert cli.main(["config", "show"]) == 9
    err = capsys.readouterr().err
    assert f"{path}:2: break_after: expected a number" in err


def test_config_show_says_where_each_value_came_from(capsys):
    path = config_file()
    path.write_text("break_after = 45\ncooldown = 600\n")
    assert cli.main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["settings"]
    assert shown["break_after"] == {"value": 45.0, "from": f"{path}:1"}
    assert shown["cooldown"] == {"value": 600.0, "from": f"{path}:2"}
    assert shown["fps"] == {"value": 1.0, "from": "default"}


# --- cameras -------------------------------------------------------------------

def test_a_missing_camera_at_start_is_a_clear_error(capsys):
    assert cli.main(["run", "--source", "/dev/video97"]) == 8
    err = capsys.readouterr().err
    assert "cannot open camera or stream '/dev/video97'" in err
    assert not runtime_paths().socket.exists()


class FakeCapture:
    """A camera that a script of "fail"/"ok" opens and frame counts drives."""

    def __init__(self, script: list) -> None:
        self.script, self.opened, self.released, self.frames_left = script, False, 0, 0

    def __call__(self, spec):
        step = self.script.pop(0)
        self.opened = step != "fail"
        self.frames_left = 0 if step == "fail" else step
        return self

    def isOpened(self):
        return self.opened

    def get(self, prop):
        return 0.0  # nothing known about the camera (frame size, rate)

    def grab(self):
        return self.frames_left > 0

    def read(self):
        if self.frames_left <= 0:
            return False, None
        self.frames_left -= 1
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self):
        self.opened, self.released = False, self.released + 1


# Someone seated facing the camera (the presence rule wants a face of a plausible size).
SEATED = {Part.NOSE: (0.50, 0.40), Part.LEFT_EYE: (0.53, 0.36), Part.RIGHT_EYE: (0.47, 0.36),
          Part.LEFT_EAR: (0.56, 0.39), Part.RIGHT_EAR: (0.44, 0.39),
          Part.MOUTH_LEFT: (0.52, 0.46), Part.MOUTH_RIGHT: (0.48, 0.46),
          Part.LEFT_SHOULDER: (0.66, 0.65), Part.RIGHT_SHOULDER: (0.34, 0.65)}


def person() -> Pose:
    marks = {part: Landmark(*SEATED.get(part, (0.5, 0.9)), 0.0, 1.0 if part in SEATED else 0.1)
             for part in Part}
    return Pose(64, 48, marks)


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


def test_camera_missing_then_lost_then_back_with_backoff(caplog):
    clock, capture = FakeClock(), FakeCapture(["fail", "fail", 3, "fail", 50])
    camera_states = []

    class Estimator:
        calls = 0

        def estimate(self, frame):
            Estimator.calls += 1
            if Estimator.calls == 6:
                daemon.stopping = True
            return person()

    def sleep(seconds):
        camera_states.append(daemon.status(clock()).camera)
        clock.sleep(seconds)

    settings = Settings(source="0", retry_camera=True)
    feed = PoseFeed(LiveSource("0", capture=capture, clock=clock, open_now=False), Estimator())
    daemon = Daemon(settings, feed, build_session(settings),
                    type("N", (), {"notify": lambda self, t, b: True})(), "",
                    clock=clock, sleep=sleep)
    assert daemon.run() == 0
    assert Estimator.calls == 6 and capture.script == []
    assert daemon.health.camera == "ok"
    warnings = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert [w.rsplit("retrying in ", 1)[1] for w in warnings] == ["1 s", "2 s", "1 s", "2 s"]
    assert "stopped delivering frames" in warnings[2]  # lost mid-run, after 3 frames
    assert "retrying in 1 s" in camera_states and "retrying in 2 s" in camera_states  # status
    assert capture.released >= 3


def test_pause_releases_the_camera_and_resume_reopens_it():
    clock, capture = FakeClock(), FakeCapture([100, 100])
    released_during_pause = []

    class Estimator:
        calls = 0

        def estimate(self, frame):
            Estimator.calls += 1
            if Estimator.calls == 2:
                daemon.handle("pause", {"seconds": 60})
            if Estimator.calls == 3:
                released_during_pause.append(capture.released)
                daemon.stopping = True
            return person()

    settings = Settings(source="0")
    feed = PoseFeed(LiveSource("0", capture=capture, clock=clock, open_now=False), Estimator())
    daemon = Daemon(settings, feed, build_session(settings),
                    type("N", (), {"notify": lambda self, t, b: True})(), "",
                    clock=clock, sleep=clock.sleep)
    assert daemon.run() == 0
    assert released_during_pause == [1]  # released while paused, opened again after
    assert clock.t >= 1060.0


STATUS_KEYS = ["running", "state", "paused", "pause_reason", "present", "presence", "score",
               "reasons", "seated_min", "next_break_min", "paused_until", "snoozed_until", "posture_alerts", "profile", "profile_note",
               "camera", "camera_error", "notifier", "last_notification", "source", "stopping",
               "pid", "today", "history", "history_pending_s"]


def test_asking_for_status_changes_nothing_and_answers_the_same_keys():
    settings = Settings(source="x.jsonl")
    feed = type("Feed", (), {"live": False, "release": lambda self: None})()
    daemon = Daemon(settings, feed, build_session(settings),
                    type("N", (), {"notify": lambda self, t, b: True})(), "")
    for t in range(13):  # 12 s seated
        daemon.session.update(TimedPose(float(t), person()))
    daemon.stream_t = 12.0
    daemon.handle("pause", {"seconds": 5})  # until 17 s
    daemon.stream_t = 100.0  # the pause ran out; the loop has not ticked yet
    monitor = daemon.monitor
    before = (monitor.paused_until, dict(vars(monitor.breaks)), monitor.totals)
    answer = daemon.handle("status", {})
    assert (monitor.paused_until, dict(vars(monitor.breaks)), monitor.totals) == before
    assert list(answer) == STATUS_KEYS  # `status --json` and the wire keep their keys
    assert answer["paused_until"] is None and answer["state"] == "watching"
    assert answer["paused"] is False and answer["pause_reason"] is None
    assert answer["today"] == {"seated_min": 0.2, "breaks": 0, "good_share": None,
                               "from": "this run"}
    assert DaemonStatus.from_json(json.loads(json.dumps(answer))).to_json() == answer


def test_a_missing_notification_server_never_stops_monitoring():
    class Broken:
        active = ""

        def notify(self, title, body):
            raise RuntimeError("no server")

    settings = Settings(source="x.jsonl", break_after=0.1)
    feed = type("Feed", (), {"live": False, "release": lambda self: None,
                             "ts": iter(range(0, 30)),
                             "next": lambda self, due: __import__(
                                 "posturewatch.core.pose", fromlist=["TimedPose"]).TimedPose(
                                 max(due, 0.0), person()) if due < 30 else None})()
    daemon = Daemon(settings, feed, build_session(settings), Broken(), "")
    assert daemon.run() == 0
    assert daemon.health.last_notification.startswith("Time for a break")


def test_no_frame_is_written_to_disk(tmp_path):
    before = set(p for p in tmp_path.rglob("*"))
    assert cli.main(["run", "--source", str(clips.video("render_m1_upright_steady"))]) == 0
    new = [p for p in tmp_path.rglob("*") if p not in before and p.is_file()]
    history = ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm")  # numbers only
    assert all(p.suffix in (".log", ".lock", ".sock", "") or p.name.endswith(".log")
               or p.name in history for p in new), new
    assert not [p for p in new if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".mp4", ".avi")]


@pytest.mark.parametrize("argv", [["status"], ["pause", "5m"], ["run", "--source", "x.jsonl"]])
def test_without_unix_sockets_and_locks_the_daemon_commands_say_so(monkeypatch, capsys, argv):
    """On a system without fcntl (Windows) the control socket and the lock cannot work:
    one clear error line, not "not running" or a traceback."""
    monkeypatch.setattr(control, "fcntl", None)
    assert cli.main(argv) == DaemonError.exit_code
    assert capsys.readouterr().err == ("posturewatch: error: the background monitor needs "
                                       "Linux, macOS or another Unix for now\n")
