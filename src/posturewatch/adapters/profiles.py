"""Calibration profiles: small versioned JSON files in the user config dir.

A profile holds the user's baseline (per-feature centre and spread), the frame
size and model it was made with, when, from what, and optional slouch and
glance samples. Files are written atomically; a malformed file is never
overwritten silently: it is moved aside to `<name>.json.broken` first.
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
from .paths import user_dirs

log = logging.getLogger(__name__)

FORMAT = "posturewatch-profile"
VERSION = 1
DEFAULT_NAME = "default"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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
    if not NAME_RE.match(name):
        raise ProfileError(f"invalid profile name {name!r}: use letters, digits, '-', '_' or '.'")
    return name


def profile_path(name_or_path: str, env: Mapping[str, str] | None = None) -> Path:
    """A path as given when it looks like one, else the named profile's file."""
    if os.sep in name_or_path or name_or_path.endswith(".json"):
        return Path(name_or_path)
    return profiles_dir(env) / f"{check_name(name_or_path)}.json"


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


def from_json(data: dict, path: Path | None = None) -> Profile:
    where = str(path) if path else "profile"
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f'"format" must be "{FORMAT}"')
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r} is not supported (expected {VERSION})")
        base = data["baseline"]
        features = {n: FeatureBaseline(float(f["center"]), float(f["spread"]), int(f["n"]))
                    for n, f in base["features"].items()}
        if not features:
            raise ValueError("the baseline has no features")
        frame = data.get("frame") or {}
        return Profile(
            name=str(data["name"]), baseline=Baseline(features, int(base["frames"])),
            created=str(data["created"]), frame=(int(frame.get("width", 0)), int(frame.get("height", 0))),
            model=data.get("model"), source=str(data.get("source", "")),
            samples={k: {n: float(x) for n, x in v.items()} for k, v in (data.get("samples") or {}).items()},
            path=path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProfileError(f"{where}: not a valid calibration profile ({exc}); "
                           "run `posturewatch calibrate` to make a new one") from exc


def read_profile(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"no calibration profile at {path}: run `posturewatch calibrate` "
                           "first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the calibration profile ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}:{exc.lineno}: not a valid calibration profile ({exc.msg}); "
                           "run `posturewatch calibrate` to make a new one") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: not a valid calibration profile (not a JSON object)")
    return from_json(data, path)


def active_name(env: Mapping[str, str] | None = None) -> str:
    marker = profiles_dir(env) / "active"
    try:
        name = marker.read_text(encoding="utf-8").strip()
        return name if NAME_RE.match(name) else DEFAULT_NAME
    except OSError:
        return DEFAULT_NAME


def load_profile(name_or_path: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
    """The named profile (or a file path); None means the active one."""
    return read_profile(profile_path(name_or_path or active_name(env), env))


def _atomic_write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def save_profile(profile: Profile, path: Path) -> Path | None:
    """Write atomically; returns where a malformed old file was moved, if any."""
    moved = None
    if path.exists():
        try:
            read_profile(path)
        except ProfileError:
            moved = path.with_name(path.name + ".broken")
            os.replace(path, moved)
            log.warning("moved the malformed profile %s aside to %s", path, moved)
    _atomic_write(path, json.dumps(to_json(profile), indent=2) + "\n")
    return moved


def set_active(name: str, env: Mapping[str, str] | None = None) -> None:
    _atomic_write(profiles_dir(env) / "active", check_name(name) + "\n")


def list_profiles(env: Mapping[str, str] | None = None) -> list[Path]:
    folder = profiles_dir(env)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
