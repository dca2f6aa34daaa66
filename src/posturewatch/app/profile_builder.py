"""Making a calibration profile and saving it: shared by `calibrate --from-video` and the wizard.

    observations of good posture --fit_upright--> Baseline --> Profile --> the profile file

`check_target` runs before any work (camera, model): the name must be a name, and
the output neither an input nor a file that is not a profile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..adapters import profiles
from ..adapters.files import check_distinct, local_path
from ..core.baseline import NotEnoughData, PostureSamples
from ..core.features import FEATURE_NAMES, PostureFeatures
from ..core.observation import Observation
from ..core.scoring import RULES, tolerance
from ..core.session import fit_upright
from ..errors import OutputError, ProfileError
from .flags import model_file


def feature_medians(observations: Sequence[Observation]) -> PostureFeatures | None:
    """Each feature's median over the observations; None when none was measured."""
    values: dict[str, float] = {}
    for name in FEATURE_NAMES:
        seen = [v for o in observations if o.features and (v := getattr(o.features, name)) is not None]
        if seen:
            values[name] = round(float(np.median(seen)), 6)
    return PostureFeatures(**values) if values else None


def build_profile(name: str, upright: Sequence[Observation], *, frame: tuple[int, int],
                  model: str | None, source: str,
                  samples: PostureSamples = PostureSamples()) -> profiles.Profile:
    try:
        baseline = fit_upright(upright)
    except NotEnoughData as exc:
        raise ProfileError(f"cannot calibrate: {exc}; make sure your head and shoulders are "
                           "in view") from None
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return profiles.Profile(name, baseline, created, frame, model, source, samples)


def describe(profile: profiles.Profile) -> str:
    """What the profile says and what alerts will react to, in plain words."""
    b = profile.baseline
    lines = [f"Profile '{profile.name}': {b.frames} frames of good posture, "
             f"camera {profile.frame[0]}x{profile.frame[1]}, model {profile.model or '?'}"]
    for rule in RULES:
        base, tol = b.get(rule.feature), tolerance(rule, b)
        if base is None:
            continue
        unit = "%" if rule.relative else ""
        shown = tol * 100 if rule.relative else tol
        lines.append(f"  {rule.feature:<22} {base.center:8.3f} ± {base.spread:.3f}   "
                     f"alerts past {shown:.3g}{unit} ({rule.reason})")
    missing = [r.feature for r in RULES if b.get(r.feature) is None]
    if missing:
        lines.append(f"  not measurable from this view: {', '.join(missing)}")
    return "\n".join(lines)


def target(name: str, output: str | None) -> Path:
    """Where the profile goes: the file --output names, else NAME.json in the profiles folder."""
    if output is None:
        return profiles.named_path(name)
    return local_path(output, "--output")


def check_target(args: argparse.Namespace, name: str, source: str | None) -> Path:
    """Before any work: the name is a name, and the output neither an input nor a stranger's file."""
    path = target(profiles.check_name(name), args.output)
    check_distinct({"--from-video": source and local_path(source, "--from-video"),
                    "the pose model": model_file(args.model)}, {"the profile": path})
    if args.output is not None and path.exists():
        if path.is_dir():
            raise OutputError(f"{path}: is a directory; give a file name for --output")
        try:
            profiles.read_profile(path)
        except ProfileError:
            raise OutputError(f"{path} exists and is not a calibration profile: choose another "
                              "--output (nothing was written)") from None
    return path


def save(profile: profiles.Profile, path: Path) -> profiles.Profile:
    moved = profiles.save_profile(profile, path)
    if moved:
        print(f"posturewatch: the old profile was malformed; kept it as {moved}", file=sys.stderr)
    return profiles.read_profile(path)
