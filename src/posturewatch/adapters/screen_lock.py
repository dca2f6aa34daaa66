"""Screen lock and suspend, from D-Bus signals: `on_change(reason, active)`.

    session bus  org.freedesktop.ScreenSaver.ActiveChanged(b)   KDE, XFCE, Cinnamon, MATE ...
                 org.gnome.ScreenSaver.ActiveChanged(b)         GNOME
    system bus   org.freedesktop.login1.Session.Lock / Unlock   logind, on our session's object
                 org.freedesktop.login1.Manager.PrepareForSleep(b)

Either bus may be missing (a server without a desktop, a container): then
that half is off, said once in the log. One thread waits for the signals;
`on_change` runs there, never on the daemon's loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from typing import Callable

from ..core.holds import LOCKED, SUSPEND
from .dbus import Bus, BusError, Message, Service

log = logging.getLogger(__name__)

SCREENSAVERS = ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver")
LOGIN1 = "org.freedesktop.login1"
MANAGER = Service(LOGIN1, "/org/freedesktop/login1", LOGIN1 + ".Manager")
SESSIONS = "/org/freedesktop/login1/session"

OnChange = Callable[[str, bool], None]


def session_path(name: str) -> str:
    """logind's object path of a session id (sd_bus_path_encode: "2" -> "_32")."""
    encoded = "".join(c if c.isalnum() and c.isascii() and not (i == 0 and c.isdigit())
                      else f"_{ord(c):02x}" for i, c in enumerate(name))
    return f"{SESSIONS}/{encoded or '_'}"


def our_session(bus: Bus, env=None) -> str | None:
    """Our logind session's object path, or None (then Lock/Unlock of any session count)."""
    env = os.environ if env is None else env
    ask = [("GetSession", "s", env["XDG_SESSION_ID"])] if env.get("XDG_SESSION_ID") else []
    ask.append(("GetSessionByPID", "u", os.getpid()))
    for method, signature, arg in ask:
        try:
            return bus.call(MANAGER, method, signature, (arg,), timeout=1.0)[0]
        except BusError as exc:
            log.debug("logind %s: %s", method, exc)
    if env.get("XDG_SESSION_ID"):
        return session_path(env["XDG_SESSION_ID"])
    return None


def signal_change(msg: Message, session: str | None) -> tuple[str, bool] | None:
    """The hold a signal asks for: (reason, active), or None for signals of no concern."""
    if msg.member == "ActiveChanged" and msg.interface in SCREENSAVERS and msg.body:
        return LOCKED, bool(msg.body[0])
    if msg.member == "PrepareForSleep" and msg.interface == MANAGER.interface and msg.body:
        return SUSPEND, bool(msg.body[0])
    if msg.interface == LOGIN1 + ".Session" and msg.member in ("Lock", "Unlock"):
        if session is None or msg.path == session:
            return LOCKED, msg.member == "Lock"
    return None


class ScreenLockWatcher:
    """Listens on both buses from a thread of its own; `close()` ends it."""

    def __init__(self, on_change: OnChange, open_bus=Bus.open) -> None:
        self.on_change, self.open_bus = on_change, open_bus
        self.inbox: queue.Queue = queue.Queue(256)
        self.buses: list[Bus] = []
        self.session: str | None = None
        self.listening: list[str] = []  # what it listens to, for the log and tests
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = False

    def start(self) -> ScreenLockWatcher:
        self._thread = threading.Thread(target=self._run, name="posturewatch-lock", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._connect()
            log.info("screen lock and suspend: listening to %s",
                     ", ".join(self.listening) or "nothing")
        finally:
            self.ready.set()
        while not self._stop:
            try:
                msg = self.inbox.get(timeout=0.25)
            except queue.Empty:
                continue
            change = signal_change(msg, self.session) if msg is not None else None
            if change is not None:
                self._deliver(*change)

    def _deliver(self, reason: str, active: bool) -> None:
        log.info("%s: %s", reason, "on" if active else "off")
        try:
            self.on_change(reason, active)
        except Exception:  # the receiver's fault must not end the watcher
            log.exception("screen lock: handling %s failed", reason)

    def _connect(self) -> None:
        for kind, connect in (("session", self._session_bus), ("system", self._system_bus)):
            try:
                bus = self.open_bus(kind)
            except BusError as exc:
                log.info("screen lock and suspend: %s; not watched there", exc)
                continue
            if self._stop:
                bus.close()
                return
            self.buses.append(bus)
            try:
                connect(bus)
            except BusError as exc:
                log.info("screen lock and suspend on the %s bus: %s", kind, exc)

    def _session_bus(self, bus: Bus) -> None:
        for interface in SCREENSAVERS:
            bus.subscribe(self.inbox, interface=interface, member="ActiveChanged")
        self.listening.append("screensaver")

    def _system_bus(self, bus: Bus) -> None:
        self.session = our_session(bus)
        bus.subscribe(self.inbox, interface=MANAGER.interface, member="PrepareForSleep")
        rule = {"path": self.session} if self.session else {"path_namespace": SESSIONS}
        for member in ("Lock", "Unlock"):
            bus.subscribe(self.inbox, interface=LOGIN1 + ".Session", member=member, **rule)
        self.listening.append(f"logind ({self.session or 'any session'})")

    def close(self) -> None:
        """Stops at once: a thread still waiting for a hung bus is left to end on its own
        (it is a daemon thread; it checks `_stop` before it listens). Joining it would
        spend half of the 1 s a service manager is promised on a bus that never answers."""
        self._stop = True
        if self._thread is not None and self.ready.is_set():
            with contextlib.suppress(queue.Full):
                self.inbox.put_nowait(None)  # wakes its wait for a signal at once
            self._thread.join(0.5)
        for bus in self.buses:
            bus.close()
        self.buses.clear()


__all__ = ["ScreenLockWatcher", "our_session", "session_path", "signal_change"]
