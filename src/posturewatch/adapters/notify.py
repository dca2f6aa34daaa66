"""Desktop notifications: plyer first, then notify-send, then the console.

The daemon wraps the chain in `BackgroundNotifier`, so a hung notification
server costs its loop nothing; helper processes that do not finish in time
are killed with their whole process group.

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
import queue
import signal
import subprocess
import sys
import threading
import time
import warnings
from typing import Any, Callable, Mapping, Sequence

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
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def command(self, title: str, message: str) -> list[str]:
        # "--" so a title starting with "-" is not read as an option.
        return [self.executable, "-a", APP_NAME, "--", title, message]

    def notify(self, title: str, message: str) -> bool:
        try:
            # Its own process group, so a timeout kills whatever it started too.
            proc = subprocess.Popen(
                self.command(title, message), env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                start_new_session=True)
        except OSError as exc:
            self.last_error = str(exc)
            return False
        with self._lock:
            self._proc = proc
        try:
            return self._finish(proc)
        finally:
            with self._lock:
                self._proc = None

    def _finish(self, proc: subprocess.Popen) -> bool:
        try:
            _, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            self.last_error = f"no answer within {self.timeout:g} s; stopped it"
            return False
        if proc.returncode != 0:
            self.last_error = err.strip() or f"exit status {proc.returncode}"
            return False
        return True

    def cancel(self) -> None:
        """Kills a notify-send still running (from another thread); its call returns False."""
        with self._lock:
            proc = self._proc
        if proc is not None:
            kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """Kills a helper started with start_new_session and everything it started, then reaps it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=1.0)  # the pipes close once the whole group is gone
    except (subprocess.TimeoutExpired, ValueError, OSError):
        proc.kill()  # a grandchild left the group and keeps the pipe: only reap ours
        proc.wait()


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
    takes_kind = True  # "posture", "break", "summary" or "": for notifiers that use it

    def __init__(self, chain: Sequence[Notifier]) -> None:
        if not chain:
            raise ValueError("FallbackNotifier needs at least one notifier, got an empty chain")
        self.chain = list(chain)
        self.active = ""
        self.cancelled = False
        self._failing: set[str] = set()

    def notify(self, title: str, message: str, kind: str = "") -> bool:
        for notifier in self.chain:
            if self.cancelled:
                return False
            if self._try(notifier, title, message, kind):
                self._set_active(notifier.name)
                return True
        log.warning("no notifier could show %r", title)
        return False

    def _try(self, notifier: Notifier, title: str, message: str, kind: str = "") -> bool:
        try:
            delivered = bool(notifier.notify(title, message, kind=kind)
                             if getattr(notifier, "takes_kind", False)
                             else notifier.notify(title, message))
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

    def cancel(self) -> None:
        """Gives up the notification in flight (from another thread) and any after it."""
        self.cancelled = True
        for notifier in self.chain:
            cancel = getattr(notifier, "cancel", None)
            if cancel is not None:
                cancel()


class BackgroundNotifier:
    """Sends through `inner` on a worker thread, so a hung notification server never
    stalls the caller (the daemon's loop).

    `notify` only queues and returns at once (False when `max_pending` already
    wait: that message is dropped and logged). `close(wait_s)` lets the queue
    drain for up to `wait_s`, then cancels what is still in flight, killing its
    helper processes.
    """

    name = "background"
    takes_kind = True

    def __init__(self, inner: Notifier, max_pending: int = 8) -> None:
        self.inner = inner
        self._queue: queue.Queue = queue.Queue(max_pending)
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> str:
        return getattr(self.inner, "active", "")

    def notify(self, title: str, message: str, kind: str = "") -> bool:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="posturewatch-notify",
                                            daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((title, message, kind))
        except queue.Full:
            log.warning("notification %r dropped: %d earlier ones still wait for the "
                        "notification server", title, self._queue.qsize())
            return False
        return True

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if getattr(self.inner, "takes_kind", False):
                    self.inner.notify(*item[:2], kind=item[2])
                else:
                    self.inner.notify(*item[:2])
            except Exception:  # a notifier bug must not end the worker
                log.exception("notification failed")

    def close(self, wait_s: float = 0.25, give_up: Callable[[], bool] = lambda: False) -> None:
        """Waits up to `wait_s` (or until `give_up()`) for queued messages, then cancels."""
        if self._thread is None:
            return
        deadline, ending = time.monotonic() + wait_s, False
        while self._thread.is_alive() and time.monotonic() < deadline and not give_up():
            ending = ending or self._end_worker(block_s=0.0)
            self._thread.join(0.05)
        if self._thread.is_alive():
            log.warning("a notification was still being sent at exit; cancelled it")
            cancel = getattr(self.inner, "cancel", None)
            if cancel is not None:
                cancel()
            if not ending:
                self._end_worker(block_s=0.5)
            self._thread.join(0.5)

    def _end_worker(self, block_s: float) -> bool:
        """Queues the end mark after the waiting messages; False when the queue is full."""
        try:
            self._queue.put(None, block=block_s > 0, timeout=block_s or None)
        except queue.Full:
            return False
        return True


def default_notifier(env: Mapping[str, str] | None = None,
                     on_action: Callable[[str], None] | None = None) -> FallbackNotifier:
    """D-Bus (buttons, Do Not Disturb) -> plyer (where it can report failures) ->
    notify-send (Linux/BSD) -> console.

    `env` is the environment notify-send runs with; plyer and D-Bus always use
    this process's own environment. `on_action(key)` hears the buttons clicked.
    """
    chain: list[Notifier] = []
    if os.name == "posix" and sys.platform != "darwin":
        from .dbus_notify import DBusNotifier
        chain.append(DBusNotifier(on_action))
    plyer = PlyerNotifier()
    if plyer.usable():
        chain.append(plyer)
    else:
        log.debug("plyer skipped (backend %r)", plyer.backend())
    if os.name == "posix" and sys.platform != "darwin":
        chain.append(NotifySendNotifier(env=env))
    chain.append(ConsoleNotifier())
    return FallbackNotifier(chain)
