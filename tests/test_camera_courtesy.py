"""Camera courtesy: another process opening our camera makes the daemon let go within 2 s,
and it takes the camera back once that process is done. A temp file stands in for the
device node; the other app is a real process that opens it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import clips
from daemon_support import UPRIGHT_CLIP, log_text, spawn_run, status_or_none, stop, wait_for

from posturewatch.adapters.camera_use import CameraWatcher, device_for, holders

HOLDER = "import sys, time; f = open(sys.argv[1]); print('open', flush=True); time.sleep(600)"


def other_app(path):
    """A process that opens `path` and keeps it open until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "open\n"
    return proc


def end(proc):
    proc.kill()
    proc.wait()
    proc.stdout.close()


class Calls:
    def __init__(self):
        self.seen, self.changed = [], threading.Condition()

    def __call__(self, busy):
        with self.changed:
            self.seen.append((busy, time.monotonic()))
            self.changed.notify_all()

    def wait(self, count, timeout=5.0):
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) >= count, timeout)
        return [busy for busy, _ in self.seen]


def test_the_watcher_sees_another_process_take_and_free_the_device(tmp_path):
    device = tmp_path / "video0"
    device.write_bytes(b"")
    calls = Calls()
    watcher = CameraWatcher(device, calls).start()
    try:
        time.sleep(0.7)
        with open(device):  # our own opens never count
            time.sleep(0.8)
        assert calls.seen == []
        app = other_app(device)
        opened = time.monotonic()  # it has the device open (not: Python is starting)
        assert calls.wait(1) == [True]
        assert calls.seen[0][1] - opened < 2.0
        end(app)
        closed = time.monotonic()
        assert calls.wait(2) == [True, False]
        assert calls.seen[1][1] - closed < 2.0
    finally:
        watcher.close()


def test_a_quick_probe_is_not_a_user_of_the_camera(tmp_path):
    device = tmp_path / "video0"
    device.write_bytes(b"")
    calls = Calls()
    watcher = CameraWatcher(device, calls).start()
    try:
        time.sleep(0.3)
        subprocess.run([sys.executable, "-c", f"open({str(device)!r}).close()"], check=True)
        time.sleep(1.5)
        assert calls.seen == []
    finally:
        watcher.close()


def test_holders_and_device_names(tmp_path):
    device = tmp_path / "video0"
    device.write_bytes(b"")
    app = other_app(device)
    try:
        assert holders(device, exclude=os.getpid()) == [app.pid]
        with open(device):
            assert sorted(holders(device)) == sorted([app.pid, os.getpid()])
    finally:
        end(app)
    assert device_for("0") == device_for("/dev/video0") == device_for("", "/dev/video0")
    assert device_for("clip.mp4") is None and device_for("rtsp://cam/1") is None


def test_the_daemon_lets_go_of_a_busy_camera_and_takes_it_back(tmp_path):
    device = tmp_path / "video0"
    device.write_bytes(b"")
    home = os.environ["POSTUREWATCH_HOME"]
    os.makedirs(f"{home}/config")
    with open(f"{home}/config/config.toml", "w") as f:
        f.write(f'camera_device = "{device}"\n')
    proc = spawn_run("--source", str(clips.pose_log(UPRIGHT_CLIP)), "--realtime")
    try:
        wait_for(lambda: (status_or_none() or {}).get("camera") == "ok", timeout=60)
        seated = status_or_none()["seated_min"]
        app = other_app(device)
        opened = time.monotonic()  # it has the device open (not: Python is starting)
        busy = wait_for(lambda: (s := status_or_none()) and s["pause_reason"] == "camera busy"
                        and s, timeout=5)
        assert time.monotonic() - opened < 2.0  # released within 2 s
        assert busy["state"] == "camera busy" and busy["paused"] is True
        assert busy["camera"] == "released (camera busy)"
        time.sleep(6)
        assert status_or_none()["seated_min"] > seated + 0.05  # a call is seated time
        end(app)
        closed = time.monotonic()
        back = wait_for(lambda: (s := status_or_none()) and s["camera"] == "ok" and s, timeout=5)
        # taken back within 2 s, not at the next 5 s step of the away rate a hold runs at
        assert time.monotonic() - closed < 2.0
        assert back["paused"] is False and back["pause_reason"] is None
        app = other_app(device)
        wait_for(lambda: status_or_none()["pause_reason"] == "camera busy", timeout=5)
        end(app)
        closed = time.monotonic()
        wait_for(lambda: status_or_none()["camera"] == "ok", timeout=5)
        assert time.monotonic() - closed < 2.0
    finally:
        stop(proc)
    log = log_text()
    assert log.count("notify: Camera in use: camera in use by another app — posture paused, "
                     "breaks keep counting") == 1  # said once
