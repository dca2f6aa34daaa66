"""The daemon's settings: one frozen dataclass, validated from a plain mapping.

The mapping comes from the config file, the command line, or both merged
(adapters/config.py does the file I/O and remembers where each value came
from). Every key has a documented default; `validate` names the key and the
expected value in its message, so the user can fix the file.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass, fields
from typing import Any, Mapping


class SettingsError(ValueError):
    """A setting with a bad name or value; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Settings:
    """What the monitor does, with the defaults `posturewatch config show` lists."""

    source: str = "0"  # camera index, /dev/videoN, stream URL, video file or pose log
    realtime: bool = False  # pace a video file at its own speed
    profile: str = ""  # calibration profile name or path; "" = the default profile
    model: str = "lite"  # pose model: lite, full, heavy or a .task path
    alert_after: float = 30.0  # s of sustained poor posture before a notification
    cooldown: float = 300.0  # s between two posture notifications
    notify_recovered: bool = False  # say so when posture is good again
    break_after: float = 30.0  # min seated before a break reminder
    break_away: float = 120.0  # s out of view that count as a break
    brief_absence: float = 10.0  # s out of view that still count as seated
    remind_every: float = 10.0  # min between break reminders while ignored
    snooze: float = 30.0  # min `posturewatch snooze` lasts without a DURATION
    fps: float = 1.0  # frames analysed per second while someone is in view (core/cadence.py)
    steady_fps: float = 0.0  # ... while it is steady and good (core/cadence.py); 0: as fps
    poor_fps: float = 0.5  # ... while poor posture is confirmed and holds (core/cadence.py); 0: as fps
    away_fps: float = 0.2  # frames analysed per second while nobody is there
    retry_camera: bool = False  # keep retrying a missing camera (as a service)
    history: bool = True  # keep the per-minute history (docs/history.md)
    history_days: float = 365.0  # days of history kept; older records are deleted
    daily_summary: bool = True  # a notification with the day's totals
    tray: bool = True  # a tray icon (StatusNotifierItem) where the desktop shows them
    pause_on_lock: bool = True  # release the camera while the screen is locked or asleep
    camera_courtesy: bool = True  # give the camera up while another app uses it
    camera_device: str = ""  # the device node other apps open; "" = from source (0: /dev/video0)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))

    @property
    def alert_after_s(self) -> float:
        return self.alert_after

    @property
    def break_after_s(self) -> float:
        return self.break_after * 60.0

    @property
    def remind_every_s(self) -> float:
        return self.remind_every * 60.0

    @property
    def snooze_s(self) -> float:
        return self.snooze * 60.0


HELP = {
    "source": "camera index, /dev/videoN, stream URL, video file or pose log (.jsonl)",
    "realtime": "pace a video file at its own speed (otherwise as fast as possible)",
    "profile": "calibration profile: a name from the profiles folder, or a file (a value with "
               "a '/' or ending in .json) (empty: the active profile)",
    "model": "pose model: lite, full, heavy, or a path to a .task file",
    "alert_after": "seconds poor posture must last before a notification",
    "cooldown": "seconds between two posture notifications",
    "notify_recovered": "notify when posture is good again",
    "break_after": "minutes seated before a break reminder (fractions allowed)",
    "break_away": "seconds out of the camera's view that count as a break",
    "brief_absence": "seconds out of view that still count as seated",
    "remind_every": "minutes between break reminders while one is ignored",
    "snooze": "minutes `posturewatch snooze` lasts without a DURATION",
    "fps": "frames analysed per second while someone is in view (less often per steady_fps "
           "and poor_fps)",
    "steady_fps": "frames analysed per second while posture has been steady and good for 10 s "
                  "(never more than fps; 0: always fps, the default)",
    "poor_fps": "frames analysed per second while confirmed poor posture holds, far past the "
                "threshold (never more than fps; a look still falls when the alert is due; "
                "0: always fps)",
    "away_fps": "frames analysed per second while nobody is in view",
    "retry_camera": "keep retrying (with backoff) when the camera is missing at start",
    "history": "keep a history of your days (per-minute totals and events, never images)",
    "history_days": "days of history kept; older records are deleted",
    "daily_summary": "notify the day's totals at its end (or at the next start)",
    "tray": "show a tray icon with the state and a menu (desktops with StatusNotifierItem)",
    "pause_on_lock": "release the camera while the screen is locked or the system sleeps "
                     "(the time counts as away)",
    "camera_courtesy": "give the camera up while another app (a video call) uses it",
    "camera_device": "the camera's device node to watch for other apps (empty: from source, "
                     "0 is /dev/video0)",
}

# (lowest allowed, highest allowed, lowest is exclusive)
_RANGES = {
    "alert_after": (0.0, 3600.0, False),
    "cooldown": (0.0, 86400.0, False),
    "break_after": (0.0, 1440.0, True),
    "break_away": (1.0, 7200.0, False),
    "brief_absence": (0.0, 600.0, False),
    "remind_every": (0.0, 1440.0, True),
    "snooze": (0.0, 1440.0, True),
    "fps": (0.0, 30.0, True),
    "steady_fps": (0.0, 30.0, False),
    "poor_fps": (0.0, 30.0, False),
    "away_fps": (0.0, 30.0, True),
    "history_days": (1.0, 36500.0, False),
}


def _type_name(key: str) -> type:
    return type(next(f.default for f in fields(Settings) if f.name == key))


def _check(key: str, value: Any) -> None:
    want = _type_name(key)
    if want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(key, f"expected a number, got {reprlib.repr(value)}")
        low, high, exclusive = _RANGES[key]
        # `not low <= value` (not `value < low`): NaN fails every comparison.
        if not (low <= value <= high and math.isfinite(value)) or (exclusive and value == low):
            bound = f"more than {low:g}" if exclusive else f"at least {low:g}"
            raise SettingsError(key, f"expected {bound} and at most {high:g}, got {reprlib.repr(value)}")
    elif not isinstance(value, want):
        raise SettingsError(key, f"expected {'true or false' if want is bool else 'a string'}, "
                            f"got {reprlib.repr(value)}")
    if key == "source" and not value.strip():
        raise SettingsError(key, "expected a camera index, device, URL or file, got an empty string")


DEFAULTS = Settings()


def validate(mapping: Mapping[str, Any], base: Settings = DEFAULTS) -> Settings:
    """`base` with the keys of `mapping` replaced; SettingsError names the first bad key."""
    known = {f.name for f in fields(Settings)}
    values = {name: getattr(base, name) for name in known}
    for key, value in mapping.items():
        if key not in known:
            raise SettingsError(key, f"unknown setting; known settings: {', '.join(sorted(known))}")
        _check(key, value)  # before float(): a huge TOML integer would overflow it
        if _type_name(key) is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[key] = value
    settings = Settings(**values)
    if settings.brief_absence >= settings.break_away:
        raise SettingsError("brief_absence", f"must be shorter than break_away "
                            f"({settings.break_away:g} s), got {settings.brief_absence:g}")
    return settings


def as_dict(settings: Settings) -> dict[str, Any]:
    return {f.name: getattr(settings, f.name) for f in fields(settings)}
