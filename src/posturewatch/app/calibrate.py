"""`posturewatch calibrate` and `posturewatch profiles`: the user's own good posture.

From a recording (`--from-video`, no questions asked) or interactively from
the camera (the wizard in `app/wizard.py`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..adapters import profiles, strict_json
from ..adapters.files import check_distinct, local_path
from ..core.baseline import NotEnoughData
from ..core.features import FEATURE_NAMES
from ..core.observation import Observation, observe
from ..core.scoring import RULES, tolerance
from ..core.session import fit_upright
from ..errors import OutputError, ProfileError, UsageError
from . import flags
from .analyze import model_file
from .inputs import open_poses


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="record your good posture (camera wizard, or from a video)",
        description="Record how you sit when you sit well, so posturewatch can tell when you "
        "slouch, lean in or lean sideways. Without --from-video, a wizard uses the camera: it "
        "checks the framing, then records a few seconds of upright posture (and, if you like, "
        "your usual slouch and a glance at the keyboard).")
    parser.add_argument("--profile", default=None, metavar="NAME",
                        help="profile name: saved as NAME.json in the profiles folder (default: "
                        "the active profile, normally 'default'); letters, digits, '-', '_', '.'")
    parser.add_argument("--from-video", metavar="FILE",
                        help="calibrate from a recording (video or pose log) without questions")
    parser.add_argument("--start", type=flags.seconds, default=0.0, metavar="S",
                        help="with --from-video: upright posture starts at S seconds")
    parser.add_argument("--end", type=flags.seconds, default=None, metavar="S",
                        help="with --from-video: upright posture ends at S seconds")
    parser.add_argument("--slouch-start", type=flags.seconds, metavar="S",
                        help="with --from-video: your usual slouch starts at S seconds (optional)")
    parser.add_argument("--slouch-end", type=flags.seconds, metavar="S",
                        help="with --from-video: ... and ends at S seconds")
    parser.add_argument("--output", metavar="PATH",
                        help="write the profile to the file PATH instead of the profiles folder "
                        "(an existing file there is replaced only if it is a profile)")
    parser.add_argument("--camera", default="0", metavar="CAMERA",
                        help="wizard: camera index, device or stream URL (default: 0)")
    parser.add_argument("--no-preview", action="store_true",
                        help="wizard: no preview window, terminal only")
    parser.add_argument("--yes", action="store_true", help="wizard: save without asking")
    parser.add_argument("--model", metavar="SPEC", help="lite, full or heavy, or a .task file")
    parser.add_argument("--fps", type=flags.fps, default=None, metavar="N",
                        help="frames analysed per second (default: 5 from a video, 10 in the wizard)")
    parser.add_argument("--json", action="store_true", help="print the saved profile as JSON")
    parser.set_defaults(run=run)
    _add_profiles_parser(subparsers)


# -- building a profile (shared with the wizard) -------------------------------------

def feature_medians(observations: Sequence[Observation]) -> dict[str, float]:
    values: dict[str, float] = {}
    for name in FEATURE_NAMES:
        seen = [v for o in observations if o.features and (v := getattr(o.features, name)) is not None]
        if seen:
            values[name] = round(float(np.median(seen)), 6)
    return values


def build_profile(name: str, upright: Sequence[Observation], *, frame: tuple[int, int],
                  model: str | None, source: str, samples: dict | None = None) -> profiles.Profile:
    try:
        baseline = fit_upright(upright)
    except NotEnoughData as exc:
        raise ProfileError(f"cannot calibrate: {exc}; make sure your head and shoulders are "
                           "in view") from None
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return profiles.Profile(name, baseline, created, frame, model, source, samples or {})


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


# -- from a recording -----------------------------------------------------------------

def _window(args, start: float, end: float | None) -> tuple[list[Observation], object]:
    with open_poses(args.from_video, args.fps, start, end, args.model) as poses:
        return [observe(p) for p in poses], poses.header


def calibrate_from_video(args: argparse.Namespace) -> profiles.Profile:
    if args.end is not None and args.end <= args.start:
        raise UsageError(f"--end ({args.end:g}) must be after --start ({args.start:g})")
    upright, header = _window(args, args.start, args.end)
    samples = {}
    if args.slouch_start is not None or args.slouch_end is not None:
        if args.slouch_start is None or args.slouch_end is None or args.slouch_end <= args.slouch_start:
            raise UsageError("--slouch-start and --slouch-end go together, end after start")
        slouch, _ = _window(args, args.slouch_start, args.slouch_end)
        samples["slouch"] = feature_medians([o for o in slouch if o.present])
    window = f"{args.start:g}-{args.end:g} s" if args.end is not None else f"from {args.start:g} s"
    return build_profile(profiles.check_name(args.profile or profiles.active_name()), upright,
                         frame=(header.source.width, header.source.height),
                         model=header.model.get("variant"),
                         source=f"{header.source.path} ({window})", samples=samples)


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


def run(args: argparse.Namespace) -> int:
    if args.from_video is None:
        from .wizard import run_wizard  # the camera, preview window and questions
        return run_wizard(args)
    path = check_target(args, args.profile or profiles.active_name(), args.from_video)
    saved = save(calibrate_from_video(args), path)
    if args.json:
        print(strict_json.dumps(profiles.to_json(saved), indent=2))
    else:
        print(describe(saved))
        print(f"saved to {saved.path}")
    return 0


# -- posturewatch profiles --------------------------------------------------------------

def _add_profiles_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profiles", help="list, show, choose or delete calibration profiles",
                                   description="Calibration profiles live in the profiles folder "
                                   "of the config folder, one NAME.json each; the active one is "
                                   "used unless --profile says otherwise. These actions take a "
                                   "profile NAME, never a path: `delete` removes only a profile "
                                   "from that folder.")
    sub = parser.add_subparsers(dest="profiles_action", metavar="ACTION")
    sub.add_parser("list", help="list profiles (the default action)")
    for action, text in (("show", "show a profile (default: the active one)"),
                         ("use", "make a profile the active one"),
                         ("delete", "delete a profile from the profiles folder")):
        p = sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("name", nargs="?" if action == "show" else None, metavar="NAME")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run_profiles, profiles_action="list")


def run_profiles(args: argparse.Namespace) -> int:
    action = args.profiles_action or "list"
    if action == "list":
        active = profiles.active_name()
        names = [p.stem for p in profiles.list_profiles()]
        if args.json:
            print(strict_json.dumps({"active": active, "profiles": names}))
        elif not names:
            print("no calibration profiles yet: run `posturewatch calibrate`")
        for name in [] if args.json else names:
            print(f"{'*' if name == active else ' '} {name}")
        return 0
    if action == "show":
        profile = profiles.load_named(args.name)
        print(strict_json.dumps(profiles.to_json(profile), indent=2) if args.json
              else describe(profile))
        return 0
    if action == "use":
        profiles.load_named(args.name)  # refuse to activate a missing or broken profile
        profiles.set_active(args.name)
        print(f"active profile: {args.name}")
    else:
        profiles.delete_named(args.name)
        print(f"deleted profile {args.name}")
    return 0
