"""`posturewatch evaluate`: how well the posture timeline matches labelled clips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..adapters import labels as labels_io
from ..adapters import profiles, strict_json
from ..adapters.files import local_path
from ..core.baseline import NotEnoughData, fit_baseline
from ..core.evaluation import ClipScore, Counts, score_clip
from ..core.observation import observe
from ..core.posture_state import PostureConfig
from ..errors import ProfileError, UsageError
from . import flags
from .inputs import open_poses
from .session import new_timeline

F1_TARGET = 0.95
LATENCY_SLACK_S = 2.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="measure accuracy on labelled clips",
        description="Compare the posture timeline with each clip's per-frame labels "
        "(<clip>.labels.csv beside it; format in the sample clips' MANIFEST.md). Each clip is "
        "calibrated from its own labelled upright opening unless --profile is given. Frames "
        "labelled slouch, lean_in or lateral_lean are poor posture; frames within 3 s of a "
        "change into or out of poor posture are not scored.")
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="videos or pose logs")
    parser.add_argument("--labels", metavar="FILE", help="label file (only with one clip)")
    parser.add_argument("--profile", metavar="NAME|FILE",
                        help="use this calibration profile: a NAME from the profiles folder, or "
                        "a profile FILE (a value with a '/' or ending in .json is a file)")
    parser.add_argument("--onset-delay", type=flags.seconds, default=PostureConfig.onset_delay_s,
                        metavar="S", help="seconds poor posture must last (default: %(default)g)")
    parser.add_argument("--fps", type=flags.fps, default=None, metavar="N",
                        help="frames analysed per second of video (default: 5)")
    parser.add_argument("--model", metavar="SPEC", help="lite, full or heavy, or a .task file")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def _labels_for(clip: str, poses, explicit: str | None):
    if explicit:
        return labels_io.read_labels(local_path(explicit, "--labels"))
    if labels_io.labels_path(clip).exists():
        return labels_io.labels_for(clip)
    return labels_io.labels_for(poses.header.source.path)  # a pose log: beside its video


def _baseline(name: str, observations, labels, profile):
    if profile is not None:
        return profile.baseline
    opening = labels_io.upright_opening(labels)
    if opening is None:
        raise ProfileError(f"{name}: the clip does not open upright; give --profile")
    try:
        return fit_baseline([o for o in observations if opening[0] <= o.t < opening[1]])
    except NotEnoughData as exc:
        raise ProfileError(f"{name}: cannot calibrate from its upright opening ({exc})") from None


def evaluate_clip(clip: str, args, profile, config: PostureConfig) -> ClipScore:
    with open_poses(clip, args.fps, model_spec=args.model) as poses:
        observations = [observe(p) for p in poses]
        labels = _labels_for(clip, poses, args.labels)
        end_s = observations[-1].t + poses.frame_step if observations else 0.0
        name = Path(poses.header.source.path).stem  # a pose log is named after its video
    timeline = new_timeline(_baseline(clip, observations, labels, profile), config)
    for obs in observations:
        timeline.update(obs)
    timeline.finish(end_s)
    return score_clip(name, timeline.times, timeline.states, labels,
                      timeline.episodes, timeline.alerts)


def _r(x, digits=3):
    return None if x is None else round(float(x), digits)


def _clip_json(s: ClipScore) -> dict:
    return {"clip": s.name, "precision": _r(s.poor.precision), "recall": _r(s.poor.recall),
            "f1": _r(s.poor.f1), "frames": vars(s.poor), "has_poor_posture": s.has_poor,
            "episodes": s.episodes, "recall_by_kind": {k: _r(h / n) for k, (h, n) in s.kind_hits.items()},
            "alert_latencies_s": [_r(x, 2) for x in s.latencies], "missed_onsets": s.missed_onsets,
            "away_accuracy": _r(s.away_accuracy)}


def overall(scores: list[ClipScore], onset_delay: float) -> dict:
    total, kinds, away = Counts(), {}, [0, 0]
    for s in scores:
        total.merge(s.poor)
        for kind, (hit, n) in s.kind_hits.items():
            tally = kinds.setdefault(kind, [0, 0])
            tally[0] += hit; tally[1] += n
        away[0] += s.away_correct; away[1] += s.away_total
    latencies = [x for s in scores for x in s.latencies]
    clean = [s for s in scores if not s.has_poor]
    return {
        "precision": _r(total.precision), "recall": _r(total.recall), "f1": _r(total.f1),
        "frames": vars(total),
        "recall_by_kind": {k: _r(h / n) for k, (h, n) in sorted(kinds.items())},
        "episodes_on_clean_clips": sum(s.episodes for s in clean), "clean_clips": len(clean),
        "alert_latency_s": {"median": _r(np.median(latencies), 2) if latencies else None,
                            "max": _r(max(latencies), 2) if latencies else None,
                            "count": len(latencies)},
        "missed_onsets": sum(s.missed_onsets for s in scores),
        "away_accuracy": _r(away[0] / away[1]) if away[1] else None,
        "targets": {"f1": F1_TARGET, "episodes_on_clean_clips": 0,
                    "alert_latency_s": onset_delay + LATENCY_SLACK_S},
    }


def _fmt(x) -> str:
    return "   –" if x is None else f"{x:4.2f}"


def _text(scores: list[ClipScore], total: dict) -> str:
    lines = [f"{'clip':<42} {'P':>4} {'R':>4} {'F1':>4} {'ep':>3} {'latency':>8} {'away':>5}"]
    for s in scores:
        lat = ",".join(f"{x:.1f}" for x in s.latencies) or "–"
        lines.append(f"{s.name[:42]:<42} {_fmt(s.poor.precision)} {_fmt(s.poor.recall)} "
                     f"{_fmt(s.poor.f1)} {s.episodes:>3} {lat:>8} {_fmt(s.away_accuracy):>5}")
    t, lat = total, total["alert_latency_s"]
    ok = lambda good: "ok" if good else "MISSED"
    lines += [
        "",
        f"overall: precision {_fmt(t['precision'])}, recall {_fmt(t['recall'])}, "
        f"F1 {_fmt(t['f1'])} (target ≥ {F1_TARGET}: {ok((t['f1'] or 0) >= F1_TARGET)})",
        "recall by kind, with the right reason: " + ", ".join(
            f"{k} {_fmt(v)}" for k, v in t["recall_by_kind"].items()),
        f"episodes on clips without poor posture: {t['episodes_on_clean_clips']} in "
        f"{t['clean_clips']} clips (target 0: {ok(t['episodes_on_clean_clips'] == 0)})",
        f"alert latency after the labelled onset: median {lat['median']} s, max {lat['max']} s "
        f"(target ≤ {t['targets']['alert_latency_s']:g} s: "
        f"{ok(lat['max'] is None or lat['max'] <= t['targets']['alert_latency_s'])}); "
        f"onsets without an alert of their own: {t['missed_onsets']}",
        f"away detection accuracy: {_fmt(t['away_accuracy'])}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.labels and len(args.clips) > 1:
        raise UsageError("--labels goes with a single clip")
    profile = profiles.load_profile(args.profile) if args.profile else None
    config = PostureConfig(onset_delay_s=args.onset_delay)
    scores, skipped = [], []
    for clip in args.clips:
        try:
            scores.append(evaluate_clip(clip, args, profile, config))
        except ProfileError as exc:
            if len(args.clips) == 1:
                raise
            skipped.append({"clip": Path(clip).stem, "why": str(exc)})
            print(f"posturewatch: skipped {exc}", file=sys.stderr)
    if not scores:
        raise ProfileError("no clip could be calibrated from an upright opening; give --profile")
    total = overall(scores, args.onset_delay)
    if args.json:
        print(strict_json.dumps({"clips": [_clip_json(s) for s in scores], "skipped": skipped,
                          "overall": total}, indent=2))
    else:
        print(_text(scores, total))
    return 0
