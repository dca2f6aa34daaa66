"""What `posturewatch run` plugs into the loop: log file, session (profile, model), feed,
notifier, signals."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import signal
import sys
from dataclasses import dataclass, replace
from typing import Iterator, NoReturn

from ...adapters.files import ensure_dir
from ...adapters.models import VARIANTS
from ...adapters.notify import BackgroundNotifier, default_notifier
from ...adapters.paths import user_dirs
from ...adapters.profiles import load_profile
from ...core.session import Session, build_session
from ...core.settings import Settings
from ...errors import OutputError, ProfileError
from ..inputs import PoseStream, open_feed as open_feed_for

log = logging.getLogger(__name__)

LOG_FILE = "posturewatch.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
NO_PROFILE = ("no calibration profile, so posture alerts are off (break reminders still "
              "work): run `posturewatch calibrate` while sitting well to turn them on")


def say(text: str) -> None:
    print(f"posturewatch: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def log_to_file(verbose: int) -> Iterator[logging.Handler]:
    """Adds a rotating log in the user's state dir; the console keeps its own level."""
    state = ensure_dir(user_dirs().state, "state folder (for the log)")
    try:
        handler = logging.handlers.RotatingFileHandler(
            state / LOG_FILE, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{state / LOG_FILE}: cannot write the log ({exc.strerror or exc})") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(root.level)
    level = logging.DEBUG if verbose else logging.INFO
    handler.setLevel(level)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(min(root.level, level))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


@dataclass(frozen=True)
class Setup:
    """What `posturewatch run` runs: the session, the model it feeds, what to tell the user."""

    session: Session
    settings: Settings  # with the model the profile was made with, unless the user chose one
    profile_name: str = ""
    note: str = ""  # posture alerts off, or the model differs from the profile's


def daemon_session(settings: Settings, model_origin: str = "default") -> Setup:
    """The session builder's session for the daemon, from the settings and the profile.

    `model_origin` says where `settings.model` came from ("default", a config file
    line, "command line"): only a model the user chose overrides the profile's.
    """
    try:
        profile = load_profile(settings.profile or None)
    except ProfileError as exc:
        if settings.profile:
            raise  # the user named a profile: not finding it is an error
        log.debug("no default profile: %s", exc)
        return Setup(build_session(settings), settings, "", NO_PROFILE)
    settings, note = _model_for(profile, settings, model_origin)
    return Setup(build_session(settings, profile.baseline), settings, profile.name, note)


def _model_for(profile, settings: Settings, origin: str) -> tuple[Settings, str]:
    """The profile's model variant, unless the user chose another one (then say so)."""
    made_with = profile.model
    if made_with not in VARIANTS or made_with == settings.model:
        return settings, ""
    if origin == "default":
        log.info("pose model %s, as the profile %s was calibrated with", made_with, profile.name)
        return replace(settings, model=made_with), ""
    note = (f"the profile '{profile.name}' was calibrated with the {made_with} pose model but "
            f"{settings.model} is used ({origin}); calibrate again with --model "
            f"{settings.model} for the best accuracy")
    return settings, note


def open_feed(settings: Settings) -> PoseStream:
    """The source for --source, sampled by the loop; without --retry-camera a missing
    camera fails before the model loads."""
    return open_feed_for(settings.source, settings.model or None,
                         camera_now=not settings.retry_camera)


def notifier(on_action=None) -> BackgroundNotifier:
    """The notifier chain on a worker thread: a hung notification server never blocks the loop.
    `on_action(key)` hears the notification buttons ("snooze", "break", "later")."""
    return BackgroundNotifier(default_notifier(on_action=on_action))


class StoppedEarly(BaseException):
    """SIGTERM or SIGINT before the loop ran: unwinds the start-up (BaseException, so that
    no `except Exception` in a library swallows it)."""


class Stopper:
    """What SIGTERM and SIGINT do: before the loop runs, abandon the start-up (which may be
    loading the model); once `daemon` is set, ask its loop to stop, waking it at once."""

    def __init__(self) -> None:
        self.daemon = None
        self.signalled = False

    def handler(self, signum, frame) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        self.signalled = True
        if self.daemon is None:
            raise StoppedEarly()
        self.daemon.stop_soon()


@contextlib.contextmanager
def stop_on_signals(stopper: Stopper) -> Iterator[Stopper]:
    """From here on SIGTERM and SIGINT stop the daemon cleanly; it releases everything and exits 0."""
    previous = {sig: signal.signal(sig, stopper.handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopper
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_now(code: int) -> NoReturn:
    """Ends the process without the interpreter's teardown, once a signal stopped it.

    Everything of ours is closed by then (socket, lock, camera, log file). The
    teardown only frees memory, yet with MediaPipe loaded it takes 0.2-0.7 s of
    CPU, enough on a busy machine to miss the 1 s a service manager is promised.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
