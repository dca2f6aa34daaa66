"""The tray icon's side in the daemon: what the icon shows and what its menu does.

Every few seconds it asks the daemon for its `status` over the control socket,
as `posturewatch status` does, and updates the icon (the state), the tooltip
(time seated, next break) and which menu entries apply. A menu click sends the
command `posturewatch pause 30m`, `resume`, `snooze`, `break` or `stop` would.
"Calibrate" pauses watching and opens the wizard in a terminal; "Open today's
report" writes `posturewatch report --days 1` and opens it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading

from ...adapters.paths import user_dirs
from ...adapters.tray import MenuItem, TrayIcon
from ...core.advice import format_duration
from .status import DaemonStatus

log = logging.getLogger(__name__)

POLL_S = 3.0
MENU = [
    MenuItem(1, "posturewatch"),  # a line of text: the state
    MenuItem(2, separator=True),
    MenuItem(3, "Pause 30 min", "pause30"), MenuItem(4, "Pause 1 h", "pause60"),
    MenuItem(5, "Pause until resumed", "pause"), MenuItem(6, "Resume", "resume"),
    MenuItem(7, separator=True),
    MenuItem(8, "Snooze notifications 30 min", "snooze"), MenuItem(9, "Take a break now", "break"),
    MenuItem(10, separator=True),
    MenuItem(11, "Calibrate…", "calibrate"), MenuItem(12, "Open today's report", "report"),
    MenuItem(13, separator=True),
    MenuItem(14, "Quit posturewatch", "quit"),
]
COMMANDS = {"pause30": ("pause", {"seconds": 1800}), "pause60": ("pause", {"seconds": 3600}),
            "pause": ("pause", {}), "resume": ("resume", {}),
            "snooze": ("snooze", {"seconds": 1800}), "break": ("break", {}), "quit": ("stop", {})}
STATE_WORDS = {"good": "good posture", "poor": "poor posture", "away": "away",
               "standing": "standing", "paused": "paused", "camera busy": "camera busy"}


def icon_state(status: DaemonStatus) -> str:
    """good / poor / away / standing / paused / camera busy (else "watching")."""
    if status.pause_reason == "camera busy" and status.state == "camera busy":
        return "camera busy"
    if status.paused:
        return "paused"
    state = status.state
    if state == "looking_down":
        return "good"
    return state if state in ("good", "poor", "away", "standing") else "watching"


def tooltip(status: DaemonStatus) -> tuple[str, str]:
    state = icon_state(status)
    words = STATE_WORDS.get(state, "watching")
    if state == "paused":
        words += f" ({status.pause_reason or 'user'})"
    text = (f"seated {format_duration(status.seated_min * 60)}, next break in "
            f"{format_duration(status.next_break_min * 60)}")
    return f"posturewatch: {words}", text


def enabled(status: DaemonStatus) -> dict[str, bool]:
    user_paused = status.paused and status.pause_reason == "user"
    has_history = status.history.startswith("on")
    return {"pause30": not user_paused, "pause60": not user_paused, "pause": not user_paused,
            "resume": bool(user_paused), "report": has_history}


class TrayMenu:
    """Keeps the icon in step with the daemon; runs the menu's commands."""

    def __init__(self, commands, make_icon=TrayIcon) -> None:
        self.commands = commands
        self.icon = make_icon(MENU, self.clicked)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TrayMenu:
        self.icon.start()
        self._thread = threading.Thread(target=self._run, name="posturewatch-tray-poll",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(POLL_S)

    def refresh(self) -> None:
        answer = self.commands.send("status")
        if answer is None:
            return
        try:
            status = DaemonStatus.from_json(answer)
        except (KeyError, TypeError, AttributeError):
            log.warning("tray: the daemon's status is not one this version reads")
            return
        title, text = tooltip(status)
        self.icon.update(icon_state(status), title, text, labels={1: title[14:].capitalize()},
                         enabled=enabled(status))

    def clicked(self, key: str) -> None:
        if key in COMMANDS:
            self.commands.send(*COMMANDS[key])
        elif key == "calibrate":
            self._calibrate()
        elif key == "report":
            threading.Thread(target=self._report, daemon=True).start()
        self.refresh()

    def _calibrate(self) -> None:
        terminal = shutil.which("x-terminal-emulator") or shutil.which("xterm")
        if terminal is None:
            log.warning("tray: no terminal to run the calibration in; run "
                        "`posturewatch calibrate` yourself")
            return
        self.commands.send("pause", {})  # the wizard needs the camera
        subprocess.Popen([terminal, "-e", sys.executable, "-m", "posturewatch", "calibrate"],
                         stdin=subprocess.DEVNULL, start_new_session=True)

    def _report(self) -> None:
        out = user_dirs().state / "today.html"
        done = subprocess.run([sys.executable, "-m", "posturewatch", "report", "--days", "1",
                               "--output", str(out), "--force"], capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            log.warning("tray: report: %s", done.stderr.strip()[-300:])
            return
        opener = shutil.which("xdg-open")
        if opener:
            subprocess.Popen([opener, str(out)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        log.info("tray: today's report is %s", out)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(0.3)
        self.icon.close()


__all__ = ["MENU", "TrayMenu", "enabled", "icon_state", "tooltip"]
