"""What `posturewatch run` plugs into the loop: log file, session (profile, model), feed,
notifier, signals."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import signal
import sys
from dataclasses import dataclass, replace
from typing import Iterator

from ..adapters.models import VARIANTS
from ..adapters.notify import default_notifier
from ..adapters.paths import user_dirs
from ..adapters.profiles import load_profile
from ..core.session import Session, build_session
from ..core.settings import Settings
from ..errors import ProfileError

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
    state = user_dirs().state
    state.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        state / LOG_FILE, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
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


def open_feed(settings: Settings):
    from ..adapters.pacing import open_feed as _open

    def estimator():
        from ..adapters.mediapipe_pose import MediaPipePoseEstimator
        from ..adapters.models import resolve_model
        model = resolve_model(settings.model or None)
        log.info("pose model %s", model.path)
        return MediaPipePoseEstimator(model.path)

    return _open(settings.source, estimator)


def notifier():
    return default_notifier()


@contextlib.contextmanager
def stop_on_signals(daemon) -> Iterator[None]:
    """SIGTERM and SIGINT ask the loop to stop; it then releases everything and exits 0."""
    def handler(signum, frame):
        log.info("signal %s: stopping", signal.Signals(signum).name)
        daemon.stopping = True

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
