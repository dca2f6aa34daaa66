"""Notifications straight over D-Bus (org.freedesktop.Notifications): buttons, urgency,
icon, category, and Do Not Disturb.

    posture alert   "Snooze 30 min"                   -> on_action("snooze")
    break reminder  "Taking a break" / "In 10 min"     -> on_action("break") / on_action("later")

Buttons are offered only where the server lists "actions" in GetCapabilities.
While the server is paused or inhibited (dunst's `paused`, the freedesktop
`Inhibited` property where a server has it), posture alerts are held back
(old posture advice is no use later) and other messages wait; the last break
reminder and the other waiting messages are shown when it ends (checked every
few seconds while something waits). Held messages count as handled, so the
fallback chain never sneaks them past Do Not Disturb through notify-send.

A thread of its own hears the clicks (ActionInvoked); every call has a timeout,
so a hung server costs the caller (BackgroundNotifier's worker) at most that.
No session bus, or no server on it: `notify` returns False with `last_error`,
and the chain in notify.py falls back to the next notifier.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from .dbus import Bus, BusError, Service, variant

log = logging.getLogger(__name__)

NOTIFICATIONS = Service("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                        "org.freedesktop.Notifications")
DUNST = Service(NOTIFICATIONS.name, NOTIFICATIONS.path, "org.dunstproject.cmd0")
APP_NAME = "posturewatch"
EXPIRE_MS = 10_000
RETRY_BUS_S = 60.0
RECHECK_S = 3.0  # how often Do Not Disturb is looked at while a message waits
MAX_WAITING = 4

# kind -> (action keys and labels, urgency (0 low, 1 normal, 2 critical), icon, category)
KINDS = {
    "posture": (("snooze", "Snooze 30 min"), 1, "dialog-warning", "x-posturewatch.posture"),
    "break": (("break", "Taking a break", "later", "In 10 min"), 1, "appointment-soon",
              "x-posturewatch.break"),
    "summary": ((), 0, "dialog-information", "x-posturewatch.summary"),
    "": ((), 1, "dialog-information", "x-posturewatch"),
}


class DBusNotifier:
    name = "d-bus"
    takes_kind = True

    def __init__(self, on_action: Callable[[str], None] | None = None, open_bus=Bus.open,
                 call_timeout: float = 5.0) -> None:
        self.on_action = on_action if on_action is not None else (lambda key: None)
        self.open_bus, self.call_timeout = open_bus, call_timeout
        self.bus: Bus | None = None
        self.last_error = ""
        self.capabilities: frozenset[str] = frozenset()
        self.shown: dict[int, str] = {}  # notification id -> kind, while it may be clicked
        self.waiting: list[tuple[str, str, str]] = []
        self.inbox: queue.Queue = queue.Queue(64)
        self._lock = threading.Lock()
        self._failed_at = -RETRY_BUS_S
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- sending ------------------------------------------------------------------
    def notify(self, title: str, message: str, kind: str = "") -> bool:
        with self._lock:
            if not self._connected():
                return False
            if self.do_not_disturb():
                self._hold(title, message, kind)
                return True
            return self._send(title, message, kind)

    def _send(self, title: str, message: str, kind: str) -> bool:
        actions, urgency, icon, category = KINDS.get(kind, KINDS[""])
        if "actions" not in self.capabilities:
            actions = ()
        hints = {"urgency": variant("y", urgency), "category": variant("s", category),
                 "desktop-entry": variant("s", APP_NAME)}
        try:
            (nid,) = self.bus.call(NOTIFICATIONS, "Notify", "susssasa{sv}i",
                                   (APP_NAME, 0, icon, title, message, list(actions), hints,
                                    EXPIRE_MS), timeout=self.call_timeout)
        except BusError as exc:
            self.last_error = str(exc)
            return False
        if actions:
            self.shown[nid] = kind
            self.shown = dict(list(self.shown.items())[-32:])
        return True

    def _hold(self, title: str, message: str, kind: str) -> None:
        if kind == "posture":
            log.info("do not disturb: posture alert held back (%s)", title)
            return
        if kind == "break":  # only the newest reminder is worth showing
            self.waiting = [w for w in self.waiting if w[2] != "break"]
        self.waiting = (self.waiting + [(title, message, kind)])[-MAX_WAITING:]
        log.info("do not disturb: %r waits until it ends", title)

    def do_not_disturb(self) -> bool:
        """The server is paused (dunst) or inhibited (freedesktop `Inhibited`)."""
        for service, prop in ((DUNST, "paused"), (NOTIFICATIONS, "Inhibited")):
            try:
                if self.bus.get_property(service, prop, timeout=1.0):
                    return True
            except BusError:
                continue  # this server does not have it
        return False

    def _connected(self) -> bool:
        if self.bus is not None and self.bus.alive:
            return True
        if time.monotonic() - self._failed_at < RETRY_BUS_S:
            return False
        try:
            self.bus = self.open_bus("session")
            self.capabilities = frozenset(self.bus.call(NOTIFICATIONS, "GetCapabilities",
                                                        timeout=self.call_timeout)[0])
            for member in ("ActionInvoked", "NotificationClosed"):
                self.bus.subscribe(self.inbox, interface=NOTIFICATIONS.interface, member=member)
        except BusError as exc:
            self.last_error, self._failed_at = str(exc), time.monotonic()
            if self.bus is not None:
                self.bus.close()
                self.bus = None
            return False
        log.info("notifications over D-Bus; the server offers %s",
                 ", ".join(sorted(self.capabilities)) or "nothing")
        self._start_listening()
        return True

    # --- hearing clicks, and the end of Do Not Disturb -----------------------------------
    def _start_listening(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="posturewatch-clicks",
                                            daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.inbox.get(timeout=RECHECK_S)
            except queue.Empty:
                self._deliver_waiting()
                continue
            if msg.member == "ActionInvoked" and len(msg.body) == 2:
                self._clicked(*msg.body)
            elif msg.member == "NotificationClosed" and msg.body:
                self.shown.pop(msg.body[0], None)

    def _clicked(self, nid: int, key: str) -> None:
        if self.shown.pop(nid, None) is None:
            return  # another app's notification, or one already answered
        log.info("notification button: %s", key)
        try:
            self.on_action(key)
        except Exception:  # the receiver's fault must not end the listener
            log.exception("notification action %s failed", key)

    def _deliver_waiting(self) -> None:
        with self._lock:
            if not self.waiting or self.bus is None or self.do_not_disturb():
                return
            waiting, self.waiting = self.waiting, []
            log.info("do not disturb is over: %d waiting notification(s)", len(waiting))
            for title, message, kind in waiting:
                self._send(title, message, kind)

    def cancel(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self.bus is not None:
            self.bus.close()


__all__ = ["DBusNotifier", "KINDS", "NOTIFICATIONS"]
