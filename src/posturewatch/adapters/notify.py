"""Desktop notifications: plyer first, then notify-send, then the console.

Every notifier answers one question honestly: did the message reach a
notification server? `FallbackNotifier` walks the chain until one says yes,
remembers which one did (`active`, shown by `posturewatch status`) and never
raises, because a lost notification must never stop monitoring.

Why plyer is sometimes skipped: on Linux plyer talks D-Bus only when the
compiled `dbus-python` package is importable (it rarely is inside a venv or
pipx install). Otherwise it runs `notify-send` and throws away the exit
status, so a missing notification server looks like success. In that case
our own `NotifySendNotifier`, which checks the exit status, does the same job.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import warnings
from typing import Any, Mapping, Sequence

from ..ports import Notifier

log = logging.getLogger(__name__)

APP_NAME = "posturewatch"
TIMEOUT_S = 10  # how long the server shows a notification (where it honours it)

# plyer backends we do not use: two run a subprocess and ignore whether it
# worked; "Notification" is plyer's empty stand-in when no backend loaded.
_UNUSABLE_PLYER_BACKENDS = frozenset(
    {"NotifySendNotification", "NotifyDesktopPortals", "Notification"})


class PlyerNotifier:
    """plyer.notification, used only where plyer can report a failure."""

    name = "plyer"

    def __init__(self, notification: Any = None) -> None:
        self._notification = notification  # plyer's facade; imported lazily
        self.last_error = ""

    def backend(self) -> str:
        """The class plyer chose for this platform, e.g. "NotifyDbus"."""
        try:
            return type(self._facade().notify.__self__).__name__
        except Exception as exc:  # plyer missing or broken: not usable
            log.debug("plyer is not usable: %s", exc)
            return ""

    def usable(self) -> bool:
        backend = self.backend()
        return bool(backend) and backend not in _UNUSABLE_PLYER_BACKENDS

    def notify(self, title: str, message: str) -> bool:
        if not self.usable():
            self.last_error = f"plyer backend {self.backend()!r} is not used"
            return False
        try:
            self._facade().notify(
                title=title, message=message, app_name=APP_NAME, timeout=TIMEOUT_S)
        except Exception as exc:  # D-Bus errors, NotImplementedError, ...
            self.last_error = str(exc) or type(exc).__name__
            return False
        return True

    def _facade(self) -> Any:
        if self._notification is None:
            self._notification = _load_plyer_notification()
        return self._notification


def _load_plyer_notification() -> Any:
    """plyer's notification facade, resolved without its warnings and tracebacks.

    plyer picks its backend on first use and reports problems by printing a
    traceback or warning to stderr; we keep that out of the user's terminal
    and in the debug log.
    """
    from plyer import notification

    captured = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(captured):
        warnings.simplefilter("ignore")
        notification.notify  # noqa: B018 - attribute access makes plyer choose a backend
    if captured.getvalue().strip():
        log.debug("plyer said: %s", captured.getvalue().strip())
    return notification


class NotifySendNotifier:
    """`notify-send` (libnotify); its exit status says whether a server took it."""

    name = "notify-send"

    def __init__(self, env: Mapping[str, str] | None = None, timeout: float = 5.0,
                 executable: str = "notify-send") -> None:
        self.env = dict(env) if env is not None else None  # None: this process's env
        self.timeout = timeout
        self.executable = executable
        self.last_error = ""

    def command(self, title: str, message: str) -> list[str]:
        # "--" so a title starting with "-" is not read as an option.
        return [self.executable, "-a", APP_NAME, "--", title, message]

    def notify(self, title: str, message: str) -> bool:
        try:
            done = subprocess.run(
                self.command(title, message), env=self.env, timeout=self.timeout,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.last_error = str(exc)
            return False
        if done.returncode != 0:
            self.last_error = done.stderr.strip() or f"exit status {done.returncode}"
            return False
        return True


class ConsoleNotifier:
    """The last resort: a line on stderr (and in the log). Always succeeds."""

    name = "console"

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream  # None: sys.stderr at the time of the call

    def notify(self, title: str, message: str) -> bool:
        log.info("notification: %s: %s", title, message)
        print(f"{APP_NAME}: {title}: {message}", file=self.stream or sys.stderr, flush=True)
        return True


class FallbackNotifier:
    """Tries each notifier in order; the first that delivers wins.

    `active` is the name of the notifier that delivered last ("" before the
    first notification). A notifier's failure is logged once as a warning
    until it works again, so a missing server does not flood the log.
    """

    name = "fallback"

    def __init__(self, chain: Sequence[Notifier]) -> None:
        if not chain:
            raise ValueError("FallbackNotifier needs at least one notifier, got an empty chain")
        self.chain = list(chain)
        self.active = ""
        self._failing: set[str] = set()

    def notify(self, title: str, message: str) -> bool:
        for notifier in self.chain:
            if self._try(notifier, title, message):
                self._set_active(notifier.name)
                return True
        log.warning("no notifier could show %r", title)
        return False

    def _try(self, notifier: Notifier, title: str, message: str) -> bool:
        try:
            delivered = bool(notifier.notify(title, message))
            reason = getattr(notifier, "last_error", "") if not delivered else ""
        except Exception as exc:  # a notifier bug must not stop monitoring
            log.debug("notifier %s raised", notifier.name, exc_info=True)
            delivered, reason = False, repr(exc)
        self._record(notifier.name, delivered, reason)
        return delivered

    def _record(self, name: str, delivered: bool, reason: str) -> None:
        if delivered and name in self._failing:
            log.info("notifications through %s work again", name)
            self._failing.discard(name)
        elif not delivered and name not in self._failing:
            log.warning("notifications through %s failed (%s); trying the next way",
                        name, reason or "no reason given")
            self._failing.add(name)

    def _set_active(self, name: str) -> None:
        if name != self.active:
            log.info("notifications now go through %s", name)
            self.active = name


def default_notifier(env: Mapping[str, str] | None = None) -> FallbackNotifier:
    """plyer (where it can report failures) -> notify-send (Linux/BSD) -> console.

    `env` is the environment notify-send runs with; plyer always uses this
    process's own environment.
    """
    chain: list[Notifier] = []
    plyer = PlyerNotifier()
    if plyer.usable():
        chain.append(plyer)
    else:
        log.debug("plyer skipped (backend %r)", plyer.backend())
    if os.name == "posix" and sys.platform != "darwin":
        chain.append(NotifySendNotifier(env=env))
    chain.append(ConsoleNotifier())
    return FallbackNotifier(chain)
