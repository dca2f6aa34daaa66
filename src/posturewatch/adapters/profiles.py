"""Calibration profiles: small versioned JSON files in the user config dir.

A profile holds the user's baseline (per-feature centre and spread), the frame
size and model it was made with, when, from what, and optional slouch and
glance samples. Files are written atomically; a malformed file is never
overwritten silently: it is moved aside to `<name>.json.broken` (then
`.broken.1`, `.broken.2`, ...) first.

A profile NAME is only ever a name: its file is `<profiles folder>/<NAME>.json`
(NAME_RE: no '/', no leading '.', not ending in .json), so a name can neither reach
outside the folder nor be mistaken for a file. Options that take a file say
FILE or PATH; the few that take either say NAME|PATH (`spec_path`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..core.baseline import Baseline, FeatureBaseline
from ..errors import OutputError, ProfileError
from . import strict_json
from .atomic import AtomicFile
from .files import ensure_dir, numbered_backup
from .paths import user_dirs
from .strict_json import show

log = logging.getLogger(__name__)

FORMAT = "posturewatch-profile"
VERSION = 1
DEFAULT_NAME = "default"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # used with fullmatch
NAME_RULE = ("a profile name is 1 to 64 letters, digits, '-', '_' or '.', starts with a letter "
             "or digit and does not end in .json (a file is given with --calibration FILE "
             "or --output PATH)")
# What a profile may hold: far beyond real values, small enough to stay finite in scoring.
MAX_VALUE = 1e6
MAX_COUNT = 10**9
MAX_PIXELS = 100_000
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Profile:
    name: str
    baseline: Baseline
    created: str  # ISO 8601, UTC
    frame: tuple[int, int] = (0, 0)  # width, height the camera delivered
    model: str | None = None  # model variant
    source: str = ""  # what it was calibrated from
    samples: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # slouch / glance
    path: Path | None = None


def profiles_dir(env: Mapping[str, str] | None = None) -> Path:
    return user_dirs(env).config / "profiles"


def check_name(name: str) -> str:
    """`name` when it is a profile name (NAME_RE, not ending in .json); ProfileError otherwise."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name.lower().endswith(".json"):
        raise ProfileError(f"invalid profile name {show(name)}: {NAME_RULE}")
    return name


def named_path(name: str, env: Mapping[str, str] | None = None) -> Path:
    """The file of the profile called `name`, always inside the profiles folder."""
    return profiles_dir(env) / f"{check_name(name)}.json"


def is_file_spec(spec: str) -> bool:
    """For NAME|PATH options: a value with a '/' or ending in .json names a file."""
    return "/" in spec or os.sep in spec or spec.lower().endswith(".json")


def spec_path(spec: str, env: Mapping[str, str] | None = None) -> Path:
    """A NAME|PATH option's file: the path itself, or the named profile's file."""
    return Path(spec).expanduser() if is_file_spec(spec) else named_path(spec, env)


def _number(value, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, got {show(value)}")
    return float(value)


def _count(value, what: str, low: int, high: int) -> int:
    number = _number(value, what, low, high)
    if number != int(number):
        raise ValueError(f"{what} must be a whole number, got {show(value)}")
    return int(number)


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object, got {show(value)}")
    return value


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {show(value)}")
    return value


def to_json(profile: Profile) -> dict:
    return {
        "format": FORMAT, "version": VERSION, "name": profile.name, "created": profile.created,
        "frame": {"width": profile.frame[0], "height": profile.frame[1]},
        "model": profile.model, "source": profile.source,
        "baseline": {"frames": profile.baseline.frames,
                     "features": {n: {"center": f.center, "spread": f.spread, "n": f.n}
                                  for n, f in profile.baseline.features.items()}},
        "samples": {k: dict(v) for k, v in profile.samples.items()},
    }


def _baseline(base) -> Baseline:
    base = _object(base, "baseline")
    features = {}
    for name, f in _object(base.get("features"), "baseline.features").items():
        f = _object(f, f"baseline.features.{name}")
        features[name] = FeatureBaseline(
            _number(f.get("center"), f"{name}.center", -MAX_VALUE, MAX_VALUE),
            _number(f.get("spread"), f"{name}.spread", 0, MAX_VALUE),
            _count(f.get("n"), f"{name}.n", 1, MAX_COUNT))
    if not features:
        raise ValueError("the baseline has no features")
    return Baseline(features, _count(base.get("frames"), "baseline.frames", 0, MAX_COUNT))


def _samples(samples) -> dict[str, dict[str, float]]:
    return {kind: {name: _number(x, f"samples.{kind}.{name}", -MAX_VALUE, MAX_VALUE)
                   for name, x in _object(values, f"samples.{kind}").items()}
            for kind, values in _object(samples or {}, "samples").items()}


def from_json(data, path: Path | None = None) -> Profile:
    where = str(path) if path else "profile"
    try:
        data = _object(data, "a profile")
        if data.get("format") != FORMAT:
            raise ValueError(f'"format" must be "{FORMAT}"')
        if data.get("version") != VERSION:
            raise ValueError(f"version {show(data.get('version'))} is not supported (expected {VERSION})")
        frame = _object(data.get("frame") or {}, "frame")
        model = data.get("model")
        return Profile(
            name=_text(data.get("name"), "name"), baseline=_baseline(data.get("baseline")),
            created=_text(data.get("created"), "created"),
            frame=(_count(frame.get("width", 0), "frame.width", 0, MAX_PIXELS),
                   _count(frame.get("height", 0), "frame.height", 0, MAX_PIXELS)),
            model=None if model is None else _text(model, "model"),
            source=_text(data.get("source", ""), "source"), samples=_samples(data.get("samples")),
            path=path)
    except ValueError as exc:  # FeatureBaseline and Baseline raise ValueError too
        raise ProfileError(f"{where}: not a valid calibration profile ({exc}); "
                           "run `posturewatch calibrate` to make a new one") from None


def read_profile(path: Path) -> Profile:
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ProfileError(f"no calibration profile at {path}: run `posturewatch calibrate` "
                           "first") from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the calibration profile ({exc.strerror or exc})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ProfileError(f"{path}: not a valid calibration profile (larger than {MAX_FILE_BYTES} bytes)")
    try:
        data = strict_json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}:{exc.lineno}: not a valid calibration profile ({exc.msg}); "
                           "run `posturewatch calibrate` to make a new one") from None
    except ValueError as exc:
        raise ProfileError(f"{path}: not a valid calibration profile ({exc}); "
                           "run `posturewatch calibrate` to make a new one") from None
    return from_json(data, path)


def active_name(env: Mapping[str, str] | None = None) -> str:
    marker = profiles_dir(env) / "active"
    try:
        name = marker.read_text(encoding="utf-8").strip()
        return check_name(name)
    except (OSError, UnicodeDecodeError, ProfileError):
        return DEFAULT_NAME


def load_named(name: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
    """The profile called `name` (never a path); None means the active one."""
    return read_profile(named_path(name or active_name(env), env))


def load_profile(spec: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
    """For NAME|PATH options: the named profile or a profile file (see is_file_spec)."""
    return read_profile(spec_path(spec or active_name(env), env))


def _atomic_write(path: Path, text: str) -> None:
    ensure_dir(path.parent, "folder for the calibration profile")
    with AtomicFile(path, "the calibration profile") as out:
        out.write(text)


def save_profile(profile: Profile, path: Path) -> Path | None:
    """Write atomically; returns where a malformed old file was moved, if any.

    The move goes to a numbered backup (`.broken`, `.broken.1`, ...), so an
    earlier backup is never replaced.
    """
    moved = None
    if path.exists():
        try:
            read_profile(path)
        except ProfileError:
            try:
                moved = numbered_backup(path, "broken")
            except OSError as exc:
                raise OutputError(f"{path}: cannot move the malformed profile aside "
                                  f"({exc.strerror or exc})") from None
            log.warning("moved the malformed profile %s aside to %s", path, moved)
    _atomic_write(path, strict_json.dumps(to_json(profile), indent=2) + "\n")
    return moved


def set_active(name: str, env: Mapping[str, str] | None = None) -> None:
    _atomic_write(profiles_dir(env) / "active", check_name(name) + "\n")


def list_profiles(env: Mapping[str, str] | None = None) -> list[Path]:
    """The profiles in the profiles folder (files whose stem is a valid name)."""
    folder = profiles_dir(env)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if NAME_RE.fullmatch(p.stem) and p.is_file())


def delete_named(name: str, env: Mapping[str, str] | None = None) -> Path:
    """Remove the profile called `name` from the profiles folder; nothing else, ever."""
    path = named_path(name, env)
    if not (path.is_file() or path.is_symlink()):
        raise ProfileError(f"no profile named {name!r} (see `posturewatch profiles list`)")
    try:
        path.unlink()
    except OSError as exc:
        raise OutputError(f"{path}: cannot delete the profile ({exc.strerror or exc})") from None
    return path
