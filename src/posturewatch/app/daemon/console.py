"""What `posturewatch run` says on stdout: what it watches, then one line per state change.

    posturewatch: watching camera 0 (profile default, model lite, 1 frame/s, 0.2 while away); log: ~/.local/state/posturewatch/posturewatch.log; stop with Ctrl-C or `posturewatch stop`
    09:12:04 good posture
    09:31:40 poor posture: slouch
    09:32:02 good posture
    09:40:13 paused: screen locked

The lines are for a person watching a terminal (or `daemon.out` after `start`);
scripts read `posturewatch status --json`.
"""

from __future__ import annotations

import datetime as _dt
import sys
from dataclasses import dataclass
from typing import TextIO

from ...core.settings import Settings

STATE_WORDS = {"good": "good posture", "poor": "poor posture", "looking_down": "looking down",
               "standing": "standing", "away": "away", "uncertain": "watching",
               "watching": "watching", "camera busy": "camera busy: another app has the camera"}


def watching_line(settings: Settings, profile: str, log_path: str) -> str:
    spec = settings.source
    what = f"camera {spec}" if spec.isdigit() or spec.startswith("/dev/") else spec
    return (f"posturewatch: watching {what} (profile {profile or 'none'}, model "
            f"{settings.model}, {settings.fps:g} frame/s, {_steady(settings)}"
            f"{settings.away_fps:g} while away); "
            f"log: {log_path}; stop with Ctrl-C or `posturewatch stop`")


def _steady(settings: Settings) -> str:
    steady = min(settings.steady_fps or settings.fps, settings.fps)
    return "" if steady == settings.fps else f"{steady:.2g} while steady, "


@dataclass(frozen=True)
class StateNow:
    """What a state line says: the state, whether (and why) paused, what is poor."""

    state: str
    paused: bool = False
    pause_reason: str | None = None
    reasons: tuple[str, ...] = ()


def state_words(status: StateNow) -> str:
    """Also takes a status.DaemonStatus, which has the same fields."""
    if status.paused and status.state != "camera busy":
        return f"paused: {status.pause_reason or 'user'}"
    words = STATE_WORDS.get(status.state, status.state.replace("_", " "))
    if status.state == "poor" and status.reasons:
        words += ": " + ", ".join(r.replace("_", " ") for r in status.reasons)
    return words


class StateLines:
    """Prints a line whenever the words for the state change (never "starting")."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream  # None: sys.stdout at the time of the call
        self.last = ""

    def say(self, line: str) -> None:
        try:
            print(line, file=self.stream or sys.stdout, flush=True)
        except (OSError, ValueError):  # a closed or full stdout must not stop monitoring
            pass

    def update(self, wall: float, status: StateNow) -> None:
        if status.state == "starting":
            return
        words = state_words(status)
        if words != self.last:
            self.last = words
            self.say(f"{_dt.datetime.fromtimestamp(wall):%H:%M:%S} {words}")


__all__ = ["StateLines", "StateNow", "state_words", "watching_line"]
