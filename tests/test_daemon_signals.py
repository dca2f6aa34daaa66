"""SIGTERM ends a real `posturewatch run` process within 1 s whatever it is doing, and a
notification helper that hangs never holds up the loop or outlives the daemon.

1 s is the promise to a service manager, a functional bound with a wide margin: the
daemon exits in 0.02-0.15 s here (after a signal it skips the interpreter's teardown,
which alone took 0.2-0.7 s with MediaPipe loaded and broke 1 s on a busy machine).
"""

from __future__ import annotations

import os
import time

import clips
from daemon_support import (
    LONG_CLIP,
    hanging_notify_send,
    log_text,
    seconds_to_exit,
    spawn_run,
    started_pids,
    status_or_none,
    still_running,
    stop,
    wait_for,
)

from posturewatch.adapters.control import runtime_paths, send_command

BOUND_S = 1.0
VIDEO = "render_m1_upright_steady"


def assert_stops_in_time(proc) -> None:
    took = seconds_to_exit(proc)
    assert proc.returncode == 0, proc.stderr.read()
    assert took < BOUND_S, f"took {took:.2f} s to exit after SIGTERM"
    assert not runtime_paths().lock.exists() and not runtime_paths().socket.exists()


def test_sigterm_while_the_model_loads():
    proc = spawn_run("--source", str(clips.video(VIDEO)))
    try:
        wait_for(lambda: "pose model" in log_text())  # logged just before it loads
        assert_stops_in_time(proc)
    finally:
        stop(proc)


def test_sigterm_while_running():
    proc = spawn_run("--source", str(clips.video(VIDEO)), "--realtime")
    try:
        wait_for(lambda: (status_or_none() or {}).get("camera") == "ok")
        assert_stops_in_time(proc)
    finally:
        stop(proc)


def test_sigterm_while_paused():
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime")
    try:
        wait_for(status_or_none)
        send_command(runtime_paths().socket, "pause")
        wait_for(lambda: status_or_none()["camera"] == "released")
        assert_stops_in_time(proc)
    finally:
        stop(proc)


def test_sigterm_while_waiting_to_retry_the_camera():
    proc = spawn_run("--source", "/dev/video97", "--retry-camera")
    try:
        wait_for(lambda: "retrying in 2 s" in (status_or_none() or {}).get("camera", ""))
        assert_stops_in_time(proc)
    finally:
        stop(proc)


def test_a_hung_notification_helper_holds_up_nothing_and_dies_with_the_daemon(tmp_path):
    folder, pids = hanging_notify_send(tmp_path)
    env = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime",
                     "--break-after", "0.02", env=env)  # a break reminder after 1.2 s
    try:
        wait_for(lambda: len(started_pids(pids)) == 2)  # notify-send and its child hang
        assert status_or_none()["last_notification"].startswith("Time for a break")
        for _ in range(10):  # the loop answers as usual meanwhile
            start = time.monotonic()
            assert status_or_none(timeout=2.0)["camera"] == "ok"
            assert time.monotonic() - start < 0.5
            time.sleep(0.1)
        assert_stops_in_time(proc)
    finally:
        stop(proc)
    assert still_running(pids) == []
