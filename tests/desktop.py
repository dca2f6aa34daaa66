"""A real notification server for tests: Xvfb + a private session D-Bus + dunst.

    with desktop_session() as desk:
        run_something(env=desk.env)
        assert desk.history()[-1]["summary"] == "Sit up"

The tools are required, not optional: a missing one fails the test with the
command that installs it (`./dev test` and CI install them). Nothing touches
the real desktop: the bus only knows the services started here, so D-Bus
cannot auto-start a second, unconfigured notification daemon.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TOOLS = {"Xvfb": "xvfb", "dbus-daemon": "dbus-x11", "dbus-send": "dbus-bin", "dunst": "dunst",
         "dunstctl": "dunst", "notify-send": "libnotify-bin"}
START_TIMEOUT_S = 10.0

# No <servicedir>: only processes we start can own names on this bus.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Notifications never expire and none wait in a queue, so history() sees all.
DUNSTRC = """[global]
    dmenu = {pick}
    notification_limit = 0
    history_length = 1000
    font = Monospace 8
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
"""


@dataclass
class Desktop:
    env: dict[str, str]  # os.environ plus DISPLAY and DBUS_SESSION_BUS_ADDRESS
    tmp: Path

    def history(self) -> list[dict]:
        """Every notification dunst received, oldest first: {"summary", "body", "appname", ...}."""
        self._dunstctl("close-all")  # dunst's history holds closed notifications only
        raw = json.loads(self._dunstctl("history"))
        entries = raw["data"][0]  # D-Bus "aa{sv}": one array of {key: {"type", "data"}}
        return [{key: value["data"] for key, value in entry.items()} for entry in reversed(entries)]

    def click(self, label: str) -> None:
        """Clicks the button `label` of a shown notification, through dunst's own context
        menu (`dunstctl context`): dunst asks its "dmenu", a script that picks `label`."""
        (self.tmp / "pick.txt").write_text(label)
        self._dunstctl("context")

    def displayed(self) -> int:
        """How many notifications are on screen (they stay until closed: no timeout here)."""
        return int(self._dunstctl("count", "displayed").strip())

    def set_paused(self, paused: bool) -> None:
        """Do Not Disturb on or off (`dunstctl set-paused`)."""
        self._dunstctl("set-paused", "true" if paused else "false")

    def _dunstctl(self, *args: str) -> str:
        done = subprocess.run(["dunstctl", *args], env=self.env, capture_output=True,
                              text=True, timeout=5, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dunstctl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


def require_tools() -> None:
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise RuntimeError(
            f"the desktop tests need {' '.join(missing)}: run ./dev test, "
            f"or apt-get install -y {' '.join(missing)}")


@contextlib.contextmanager
def desktop_session() -> Iterator[Desktop]:
    """Starts Xvfb, a session bus and dunst; stops them and cleans up on exit."""
    require_tools()
    # A short path of our own: Unix socket paths are limited to ~100 bytes.
    tmp = Path(tempfile.mkdtemp(prefix="pw-desk-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env["DISPLAY"] = _start_xvfb(stack, tmp)
        env["DBUS_SESSION_BUS_ADDRESS"] = _start_bus(stack, tmp)
        desk = Desktop(env=env, tmp=tmp)
        _start_dunst(stack, desk)
        yield desk


def _spawn(stack: contextlib.ExitStack, argv: list[str], **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kwargs)
    stack.callback(_stop, proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def _log_file(stack: contextlib.ExitStack, path: Path):
    # A file, not a pipe: a chatty child could fill a pipe nobody reads and hang.
    return stack.enter_context(path.open("w"))


def _started(proc: subprocess.Popen, line: str, what: str, log: Path) -> str:
    if not line.strip():
        proc.wait(timeout=5)
        raise RuntimeError(f"{what} did not start: {log.read_text().strip()}")
    return line.strip()


def _start_xvfb(stack: contextlib.ExitStack, tmp: Path) -> str:
    # -displayfd: Xvfb picks a free display and writes its number once it is ready.
    read_fd, write_fd = os.pipe()
    try:
        proc = _spawn(stack, ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp",
                              "-screen", "0", "640x480x24"], pass_fds=(write_fd,),
                      stdout=subprocess.DEVNULL, stderr=_log_file(stack, tmp / "xvfb.log"))
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline()
    return ":" + _started(proc, number, "Xvfb", tmp / "xvfb.log")


def _start_bus(stack: contextlib.ExitStack, tmp: Path, kind: str = "session") -> str:
    name = "bus" if kind == "session" else kind
    config = tmp / f"{name}.conf"
    config.write_text(BUS_CONFIG.format(socket=tmp / name, kind=kind))
    proc = _spawn(stack, ["dbus-daemon", f"--config-file={config}", "--nofork",
                          "--print-address=1", "--nosyslog"], stdout=subprocess.PIPE,
                  stderr=_log_file(stack, tmp / f"{name}-dbus.log"), text=True)
    address = _started(proc, proc.stdout.readline(), "dbus-daemon", tmp / f"{name}-dbus.log")
    BUS_PIDS[address] = proc.pid
    return address


BUS_PIDS: dict[str, int] = {}  # address -> dbus-daemon pid (to stop one with SIGSTOP)


@contextlib.contextmanager
def private_buses() -> Iterator[dict[str, str]]:
    """A private session bus and a private stand-in for the system bus (no X, no dunst):
    the environment to run with (DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS)."""
    require_tools()
    tmp = Path(tempfile.mkdtemp(prefix="pw-bus-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["DBUS_SESSION_BUS_ADDRESS"] = _start_bus(stack, tmp)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = _start_bus(stack, tmp, "system")
        yield env


def send_signal(env: dict[str, str], bus: str, path: str, member: str, *args: str) -> None:
    """`dbus-send --type=signal` on the bus ("session" or "system") that env names.
    `member` is interface.Member; args as dbus-send writes them ("boolean:true")."""
    address = env["DBUS_SESSION_BUS_ADDRESS" if bus == "session" else "DBUS_SYSTEM_BUS_ADDRESS"]
    subprocess.run(["dbus-send", f"--bus={address}", "--type=signal", path, member, *args],
                   env=env, check=True, timeout=10, capture_output=True)


def _start_dunst(stack: contextlib.ExitStack, desk: Desktop) -> None:
    config = desk.tmp / "dunstrc"
    pick = desk.tmp / "pick.sh"  # dunst's menu program: answers with the line naming the label
    pick.write_text(f"#!/bin/sh\ngrep -m1 -F -- \"$(cat {desk.tmp / 'pick.txt'})\"\n")
    pick.chmod(0o755)
    config.write_text(DUNSTRC.format(pick=pick))
    proc = _spawn(stack, ["dunst", "-config", str(config)], env=desk.env,
                  stdout=_log_file(stack, desk.tmp / "dunst.log"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # ready once it answers on the bus
        with contextlib.suppress(RuntimeError):
            desk._dunstctl("is-paused")
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dunst did not start: {(desk.tmp / 'dunst.log').read_text()}")
        time.sleep(0.05)
