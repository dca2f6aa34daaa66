"""The desktop around the daemon: screen lock, camera courtesy, the tray, notification clicks.

Each adapter runs on a thread of its own and turns what happens on the desktop
into the commands the control socket takes, with a reason where it matters:

    screen locks / system sleeps   -> pause  {"reason": "screen locked" | "suspend"}
    unlocked / woke up             -> resume {"reason": ...}
    another app opens the camera   -> pause  {"reason": "camera busy"}, resume when it is free
    tray menu, notification click  -> pause / resume / snooze / break / stop, as `posturewatch` would

They send them through the control socket like any client (adapters/control.py),
so the loop handles them on its own thread between samples and the monitor never
knows where a pause came from. Every adapter is best effort: one that cannot start
(no session bus, no tray host, no camera device) is logged once and left off.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from ...adapters.control import send_command
from ...core.holds import CAMERA_BUSY
from ...core.settings import Settings
from ...errors import DaemonError

log = logging.getLogger(__name__)


class Commands:
    """A control-socket client for the adapters' threads; never raises."""

    def __init__(self, socket_path: Path, timeout: float = 5.0) -> None:
        self.socket_path, self.timeout = Path(socket_path), timeout

    def send(self, cmd: str, args: dict | None = None) -> dict | None:
        try:
            return send_command(self.socket_path, cmd, args or {}, timeout=self.timeout)
        except DaemonError as exc:  # stopping, or refused: the adapter goes on
            log.info("desktop: %s %s: %s", cmd, args or "", exc)
            return None

    def hold(self, reason: str, active: bool) -> None:
        self.send("pause" if active else "resume", {"reason": reason})

    def button(self, key: str) -> None:
        """A notification button: "snooze" (posture alert), "break" or "later" (break reminder)."""
        request = BUTTONS.get(key)
        if request is not None:
            self.send(*request)


BUTTONS = {"snooze": ("snooze", {"seconds": 1800}), "break": ("break", {}),
           "later": ("snooze", {"seconds": 600, "breaks_only": True})}


class Desktop:
    """Starts the adapters the settings ask for; `close()` stops them (each within ~2 s)."""

    def __init__(self, settings: Settings, commands: Commands) -> None:
        self.settings = settings
        self.commands = commands
        self.parts: list = []

    def start(self) -> Desktop:
        starters = ((self.settings.pause_on_lock, self._lock),
                    (self.settings.camera_courtesy, self._camera),
                    (self.settings.tray, self._tray))
        for wanted, starter in starters:
            if not wanted:
                continue
            try:
                part = starter()
            except Exception as exc:  # best effort: the daemon watches on without it
                log.info("desktop: %s is off: %s", starter.__name__.strip("_"), exc)
                log.debug("desktop: %s", starter.__name__, exc_info=True)
                continue
            if part is not None:
                self.parts.append(part)
        return self

    def _lock(self):
        from ...adapters.screen_lock import ScreenLockWatcher
        return ScreenLockWatcher(self.commands.hold).start()

    def _camera(self):
        from ...adapters.camera_use import CameraWatcher, device_for
        device = device_for(self.settings.source, self.settings.camera_device)
        if device is None:
            return None  # a file or a stream: nobody else to make room for
        return CameraWatcher(device, lambda busy: self.commands.hold(CAMERA_BUSY, busy)).start()

    def _tray(self):
        from .tray_menu import TrayMenu
        return TrayMenu(self.commands).start()

    def close(self) -> None:
        for part in reversed(self.parts):
            with contextlib.suppress(Exception):
                part.close()
        self.parts.clear()

    def __enter__(self) -> Desktop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Commands", "Desktop"]
