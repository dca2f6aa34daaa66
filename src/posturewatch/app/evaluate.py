"""`posturewatch evaluate`: how well the posture timeline matches labelled clips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

from ..adapters import labels as labels_io
from ..adapters import pose_log, profiles, strict_json
from ..adapters.files import local_path
from ..core.baseline import NotEnoughData
from ..core.evaluation import ClipScore, Overall, Worst, held, overall, score_clip
from ..core.observation import observe
from ..core.session import fit_upright, posture_config
from ..core.settings import DEFAULTS, Settings, validate
from ..errors import ProfileError, UsageError
from . import flags
from .inputs import DEFAULT_VIDEO_FPS, open_poses
from .session import at_rate, new_timeline

F1_TARGET = 0.97
CLIP_F1_TARGET = 0.85  # every clip with poor posture
PRESENCE_TARGET = 0.97  # every clip
LATENCY_SLACK_S = 2.0
CALIBRATION_FPS = DEFAULT_VIDEO_FPS  # as `calibrate --from-video`; the wizard uses 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="measure accuracy on labelled clips",
        description="Compare the posture timeline with each clip's per-frame labels "
        "(<clip>.labels.csv beside it; format in the sample clips' MANIFEST.md). Each clip is "
        "calibrated from its own labelled upright opening (at 5 frames/s with the same model) "
        "unless --profile is given, and tracked by the session the daemon builds with default "
        "settings. Frames labelled slouch, lean_in or lateral_lean are poor posture; frames "
        "within 3 s of a change into or out of poor posture are not scored. Presence agreement: "
        "away or not against the labels (3 s around leaving and returning not scored); standing "
        "agreement: standing or not while in view (1 s around standing up not scored).")
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="videos or pose logs")
    parser.add_argument("--labels", metavar="FILE", help="label file (only with one clip)")
    parser.add_argument("--profile", metavar="NAME|FILE",
                        help="use this calibration profile: a NAME from the profiles folder, or "
                        "a profile FILE (a value with a '/' or ending in .json is a file)")
    parser.add_argument("--alert-after", type=flags.seconds, default=None, metavar="S",
                        help="as `run --alert-after`: a value under the 5 s onset delay "
                        f"shortens it (default: {DEFAULTS.alert_after:g})")
    flags.add_fps(parser, "frames analysed per second of video (default: 5; the daemon: 1)")
    flags.add_model(parser)
    parser.add_argument("--as-daemon", action="store_true",
                        help="read each clip as `posturewatch run --source CLIP` does: through the "
                        "daemon's own loop and sampling cadence (--fps while posture drifts, is "
                        "poor or unsettled, --steady-fps while it is steady and good, --poor-fps "
                        "while confirmed poor posture holds, away_fps while nobody is there; the "
                        "lite model unless --model), each state held until the next sample as "
                        "`status` shows it, scored 5 times a second")
    parser.add_argument("--steady-fps", type=flags.non_negative, default=None, metavar="N",
                        help="with --as-daemon: frames per second while posture is steady "
                        "(default: the daemon's steady_fps, 0: the same as --fps)")
    parser.add_argument("--poor-fps", type=flags.non_negative, default=None, metavar="N",
                        help="with --as-daemon: frames per second while confirmed poor posture "
                        f"holds (default: the daemon's {DEFAULTS.poor_fps:g}; 0: the same as --fps)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def _labels_for(clip: str, poses, explicit: str | None):
    if explicit:
        return labels_io.read_labels(local_path(explicit, "--labels"))
    if labels_io.labels_path(clip).exists():
        return labels_io.labels_for(clip)
    return labels_io.labels_for(poses.header.source.path)  # a pose log: beside its video


def _calibration(clip: str, args, opening, poses) -> list:
    """The opening's observations, sampled as `calibrate --from-video` would."""
    same_rate = args.fps is None or args.fps == CALIBRATION_FPS
    if poses is not None and (same_rate or pose_log.is_pose_log(Path(clip))):
        return [observe(p) for p in poses if opening[0] <= p.t < opening[1]]
    with open_poses(clip, CALIBRATION_FPS, opening[0], opening[1], args.model) as window:
        return [observe(p) for p in window]


def _baseline(clip: str, args, poses, labels, profile):
    if profile is not None:
        return profile.baseline
    opening = labels_io.upright_opening(labels)
    if opening is None:
        raise ProfileError(f"{clip}: the clip does not open upright; give --profile")
    try:
        return fit_upright(_calibration(clip, args, opening, poses))
    except NotEnoughData as exc:
        raise ProfileError(f"{clip}: cannot calibrate from its upright opening ({exc})") from None


def evaluate_clip(clip: str, args, profile, settings: Settings = DEFAULTS) -> ClipScore:
    if getattr(args, "as_daemon", False):
        return evaluate_as_daemon(clip, args, profile, settings)
    with open_poses(clip, args.fps, model_spec=args.model) as stream:
        poses = list(stream)
        labels = _labels_for(clip, stream, args.labels)
        end_s = poses[-1].t + stream.frame_step if poses else 0.0
        name = Path(stream.header.source.path).stem  # a pose log is named after its video
    timeline = new_timeline(_baseline(clip, args, poses, labels, profile),
                            at_rate(settings, stream.frame_step))
    for timed in poses:
        timeline.update(timed)
    timeline.finish(end_s)
    score = score_clip(name, timeline.times, timeline.states, labels, timeline.episodes,
                       posture_config(settings).onset_delay_s)
    score.samples = len(poses)
    return score


def _header(clip: str) -> pose_log.PoseLogHeader | None:
    if not pose_log.is_pose_log(Path(clip)):
        return None
    with open_poses(clip, None) as stream:
        return stream.header


def evaluate_as_daemon(clip: str, args, profile, settings: Settings) -> ClipScore:
    """The clip through the daemon's own loop and cadence (app/daemon/replay.py), its states
    held between samples and scored on the calibration rate's grid."""
    from .daemon.replay import replay  # the daemon's loop: only this mode needs it

    header = _header(clip)
    labels = _labels_for(clip, SimpleNamespace(header=header), args.labels)
    args = argparse.Namespace(**{**vars(args), "model": settings.model})
    timeline = new_timeline(_baseline(clip, args, None, labels, profile), settings)
    end_s = replay(settings, timeline, clip)
    timeline.finish(end_s)
    grid, shown = held(timeline.times, timeline.states, 1.0 / CALIBRATION_FPS, end_s)
    name = Path(header.source.path if header else clip).stem
    score = score_clip(name, grid, shown, labels, timeline.episodes,
                       posture_config(settings).onset_delay_s)
    score.samples = len(timeline.times)
    return score


def _r(x, digits=3):
    return None if x is None else round(float(x), digits)


def _clip_json(s: ClipScore) -> dict:
    return {"clip": s.name, "precision": _r(s.poor.precision), "recall": _r(s.poor.recall),
            "f1": _r(s.poor.f1), "frames": vars(s.poor), "has_poor_posture": s.has_poor,
            "episodes": s.episodes, "recall_by_kind": {k: _r(h / n) for k, (h, n) in s.kind_hits.items()},
            "alert_latencies_s": [_r(x, 2) for x in s.latencies], "missed_onsets": s.missed_onsets,
            "short_onsets": s.short_onsets, "covered_onsets": s.covered_onsets,
            "away_accuracy": _r(s.away_accuracy), "presence_agreement": _r(s.away_accuracy),
            "standing_agreement": _r(s.standing_accuracy), "frames_analysed": s.samples}


def _worst_json(worst: Worst | None, key: str) -> dict | None:
    return None if worst is None else {"clip": worst.clip, key: _r(worst.value)}


def overall_json(total: Overall, onset_delay: float) -> dict:
    """The JSON of `evaluate --json`'s "overall", with the targets it is held to."""
    presence = _r(total.presence_agreement)
    return {
        "precision": _r(total.poor.precision), "recall": _r(total.poor.recall),
        "f1": _r(total.poor.f1), "frames": vars(total.poor),
        "recall_by_kind": {k: _r(v) for k, v in total.recall_by_kind.items()},
        "episodes_on_clean_clips": total.episodes_on_clean_clips, "clean_clips": total.clean_clips,
        "alert_latency_s": {"median": _r(total.latency_median, 2),
                            "max": _r(total.latency_max, 2), "count": len(total.latencies)},
        "missed_onsets": total.missed_onsets,
        "short_onsets": total.short_onsets, "covered_onsets": total.covered_onsets,
        "away_accuracy": presence, "presence_agreement": presence,
        "standing_agreement": _r(total.standing_agreement),
        "worst_clip_f1": _worst_json(total.worst_f1, "f1"),
        "worst_presence_agreement": _worst_json(total.worst_presence, "agreement"),
        "targets": {"f1": F1_TARGET, "clip_f1": CLIP_F1_TARGET, "episodes_on_clean_clips": 0,
                    "presence_agreement": PRESENCE_TARGET,
                    "alert_latency_s": onset_delay + LATENCY_SLACK_S},
    }


def _fmt(x) -> str:
    return "   –" if x is None else f"{x:4.2f}"


def _clip_line(s: ClipScore) -> str:
    lat = ",".join(f"{x:.1f}" for x in s.latencies) or "–"
    return (f"{s.name[:42]:<42} {_fmt(s.poor.precision)} {_fmt(s.poor.recall)} "
            f"{_fmt(s.poor.f1)} {s.episodes:>3} {lat:>9} {_fmt(s.away_accuracy):>8} "
            f"{_fmt(s.standing_accuracy):>8}")


def _ok(good: bool) -> str:
    return "ok" if good else "MISSED"


def _poor_lines(t: Overall) -> list[str]:
    f1, worst = _r(t.poor.f1), t.worst_f1
    return [
        f"overall: precision {_fmt(_r(t.poor.precision))}, recall {_fmt(_r(t.poor.recall))}, "
        f"F1 {_fmt(f1)} (target ≥ {F1_TARGET}: {_ok((f1 or 0) >= F1_TARGET)})",
        "worst clip with poor posture: " + ("–" if worst is None else
        f"{worst.clip} F1 {_fmt(_r(worst.value))} (target ≥ {CLIP_F1_TARGET}: "
        f"{_ok(_r(worst.value) >= CLIP_F1_TARGET)})"),
        "recall by kind, with the right reason: " + ", ".join(
            f"{k} {_fmt(_r(v))}" for k, v in t.recall_by_kind.items()),
        f"episodes on clips without poor posture: {t.episodes_on_clean_clips} in "
        f"{t.clean_clips} clips (target 0: {_ok(t.episodes_on_clean_clips == 0)})",
    ]


def _latency_line(t: Overall, onset_delay: float) -> str:
    median, most, target = _r(t.latency_median, 2), _r(t.latency_max, 2), onset_delay + LATENCY_SLACK_S
    return (f"detection latency after the labelled onset (status turns poor; a notification "
            f"follows after alert_after): median {median} s, max {most} s "
            f"(target ≤ {target:g} s: {_ok(most is None or most <= target)}); "
            f"onsets never detected: {t.missed_onsets}" + _unexpected(t))


def _unexpected(t: Overall) -> str:
    """Onsets without an episode of their own that are not misses."""
    notes = ""
    if t.short_onsets:
        notes += f"; {t.short_onsets} shorter than the onset delay, by design no episode"
    if t.covered_onsets:
        notes += f"; {t.covered_onsets} inside an episode still open"
    return notes


def _presence_lines(t: Overall) -> list[str]:
    worst = t.worst_presence
    return [
        f"presence agreement: {_fmt(_r(t.presence_agreement))} overall, worst " + (
            "–" if worst is None else f"{worst.clip} {_fmt(_r(worst.value))} (target ≥ "
            f"{PRESENCE_TARGET} on every clip: {_ok(_r(worst.value) >= PRESENCE_TARGET)})"),
        f"standing agreement (while in view): {_fmt(_r(t.standing_agreement))}",
    ]


def _text(scores: list[ClipScore], total: Overall, onset_delay: float) -> str:
    lines = [f"{'clip':<42} {'P':>4} {'R':>4} {'F1':>4} {'ep':>3} {'latency':>9} "
             f"{'presence':>8} {'standing':>8}"]
    lines += [_clip_line(s) for s in scores]
    lines += ["", *_poor_lines(total), _latency_line(total, onset_delay), *_presence_lines(total),
              f"frames analysed: {sum(s.samples for s in scores)}"]
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> Settings:
    """The daemon's defaults, with what the command line changes (`fps`: each clip's rate,
    or with --as-daemon the daemon's `fps`)."""
    given = {"alert_after": args.alert_after}
    if args.as_daemon:
        given.update(fps=args.fps, steady_fps=args.steady_fps, poor_fps=args.poor_fps,
                     model=args.model)
    elif args.steady_fps is not None or args.poor_fps is not None:
        raise UsageError("--steady-fps and --poor-fps go with --as-daemon")
    return validate({k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    if args.labels and len(args.clips) > 1:
        raise UsageError("--labels goes with a single clip")
    profile = profiles.load_profile(args.profile) if args.profile else None
    settings = _settings(args)
    scores, skipped = [], []
    for clip in args.clips:
        try:
            scores.append(evaluate_clip(clip, args, profile, settings))
        except ProfileError as exc:
            if len(args.clips) == 1:
                raise
            skipped.append({"clip": Path(clip).stem, "why": str(exc)})
            print(f"posturewatch: skipped {exc}", file=sys.stderr)
    if not scores:
        raise ProfileError("no clip could be calibrated from an upright opening; give --profile")
    total, onset_delay = overall(scores), posture_config(settings).onset_delay_s
    if args.json:
        print(strict_json.dumps({"clips": [_clip_json(s) for s in scores], "skipped": skipped,
                                 "overall": overall_json(total, onset_delay)}, indent=2))
    else:
        print(_text(scores, total, onset_delay))
    return 0
