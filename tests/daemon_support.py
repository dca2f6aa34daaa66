"""Helpers for the daemon tests: calibration profiles fitted from a clip's upright opening,
a daemon in a subprocess, and a notification helper that hangs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import clips

from posturewatch.adapters import profiles
from posturewatch.adapters.control import runtime_paths, send_command
from posturewatch.core.session import fit_upright
from posturewatch.errors import DaemonError

SLOUCH_CLIP = "warp_selfie_woman_slouch_gradual"  # upright 0-12 s, slouched 20-35 s
UPRIGHT_CLIP = "warp_proctor_man_upright_steady"  # upright 45 s
LONG_CLIP = "warp_intel_man_mixed_session"  # 89 s


def make_profile(clip: str, upright_until_s: float, out: Path) -> Path:
    """A profile fitted from the clip's first seconds, as `calibrate` would make it."""
    upright = [o for o in clips.observations(clip) if o.present and o.t < upright_until_s]
    header_size = upright[0].pose.width, upright[0].pose.height
    profile = profiles.Profile("test", fit_upright(upright), "2026-01-01T00:00:00Z",
                               header_size, "full", clip)
    profiles.save_profile(profile, out)
    return out


# --- a daemon in a subprocess --------------------------------------------------------

def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def status_or_none(timeout: float = 2.0):
    try:
        return send_command(runtime_paths().socket, "status", timeout=timeout)
    except DaemonError:
        return None


def spawn_run(*args: str, env: dict | None = None, stderr=subprocess.PIPE) -> subprocess.Popen:
    """`posturewatch run ARGS` as a service manager starts it (its own process)."""
    return subprocess.Popen([sys.executable, "-m", "posturewatch", "run", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                            text=True, env=env)


def seconds_to_exit(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 20.0) -> float:
    """Sends `sig` and returns how long the process took to exit."""
    start = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=timeout)
    return time.monotonic() - start


def stop(proc: subprocess.Popen) -> None:
    """Ends a daemon a test left running (a failed test must not leave it behind)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def log_text() -> str:
    """The daemon's log file in this test's POSTUREWATCH_HOME."""
    path = Path(os.environ["POSTUREWATCH_HOME"]) / "state" / "posturewatch.log"
    return path.read_text() if path.exists() else ""


def alive(pid: int) -> bool:
    """A process that runs (a zombie waiting to be reaped does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def hanging_notify_send(folder: Path) -> tuple[Path, Path]:
    """A notify-send that never returns and starts a child of its own, as a helper stuck on
    a hung notification server would. Returns (its folder for PATH, the file where every
    process it starts writes its pid)."""
    pids = folder / "pids"
    script = folder / "notify-send"
    script.write_text(f"#!/bin/sh\necho $$ >> {pids}\nsleep 300 &\necho $! >> {pids}\nwait\n")
    script.chmod(0o755)
    return folder, pids


def started_pids(pids: Path) -> list[int]:
    return [int(x) for x in pids.read_text().split()] if pids.exists() else []


def still_running(pids: Path, within: float = 2.0) -> list[int]:
    """The started processes still running after `within` seconds (see `still_found`)."""
    return still_found(lambda: [pid for pid in started_pids(pids) if alive(pid)], within)


def still_found(find, within: float = 2.0) -> list[int]:
    """What `find()` still finds after waiting up to `within` seconds for it to find nothing.
    SIGKILL is delivered asynchronously: a killed process has closed its pipes a moment
    before it leaves the process table, so a check right after the kill would race its exit."""
    deadline = time.monotonic() + within
    while True:
        found = find()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)
