"""`posturewatch analyze`: a summary of a recorded session (video or pose log)."""

from __future__ import annotations

import argparse
import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..adapters import config, profiles
from ..adapters.csv_out import ObservationCsv
from ..adapters.pose_log import PoseLogWriter
from ..core.settings import DEFAULTS
from ..core.summary import Summary, SummaryBuilder
from ..errors import UsageError
from ..ports import SourceInfo
from . import report
from .inputs import DEFAULT_VIDEO_FPS, open_poses
from .progress import Progress
from .session import Timeline, at_rate, new_timeline


def non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="analyse a recorded session (a video or a pose log)",
        description="Run pose estimation over a recorded video (or replay a pose log made by "
        "--poses) and summarise it: when a person was present, and the posture features "
        "over the session. Nothing is written unless you ask for it.")
    parser.add_argument("input", metavar="VIDEO|POSELOG",
                        help="a video file, or a pose log (.jsonl) written by --poses")
    add_source_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--csv", metavar="PATH", type=Path,
                        help="write one row per analysed frame: time, person present, every feature")
    parser.add_argument("--poses", metavar="PATH", type=Path,
                        help="write a pose log (landmarks and times, no images) that "
                        "`posturewatch analyze PATH` replays without running the model")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--profile", metavar="NAME",
                     help="add the posture timeline (episodes, alerts, states), judged against "
                     "this calibration profile (see `posturewatch profiles`)")
    who.add_argument("--calibration", metavar="FILE", help="like --profile, from a profile file")
    parser.set_defaults(run=run)


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads a recording shares."""
    parser.add_argument("--fps", type=non_negative, default=None, metavar="N",
                        help=f"frames analysed per second of video (default: {DEFAULT_VIDEO_FPS:g}, "
                        "because posture changes over seconds: 5 samples a second time events "
                        "well and run several times faster than every frame; 0 = every frame; "
                        "a pose log replays every pose it holds unless --fps is given)")
    parser.add_argument("--model", metavar="SPEC",
                        help="lite, full or heavy, or a path to a .task file (see `posturewatch model`)")
    parser.add_argument("--start", type=non_negative, default=0.0, metavar="S",
                        help="start at S seconds into the recording")
    parser.add_argument("--end", type=non_negative, default=None, metavar="S",
                        help="stop at S seconds into the recording")


@dataclass(frozen=True)
class Analysis:
    source: SourceInfo
    model: dict
    summary: Summary
    analysed_s: float  # seconds of recording covered
    elapsed_s: float
    timeline: Timeline | None = None  # with a profile: the posture over time


def _profile(args: argparse.Namespace):
    return profiles.load_profile(args.calibration or args.profile) if (
        args.profile or args.calibration) else None


def _timeline(profile, settings, frame_step: float) -> Timeline:
    """The session the daemon would run with the user's settings, at the recording's rate
    (without a profile: presence only)."""
    return new_timeline(profile.baseline if profile else None, at_rate(settings, frame_step))


def _csv_extra(timeline: Timeline) -> tuple:
    if timeline.tracker is None:
        return ()
    score = timeline.tracker.score
    return (timeline.tracker.state, "" if score is None else f"{score.total:.1f}",
            " ".join(score.reasons) if score else "")


def analyse(args: argparse.Namespace) -> Analysis:
    started = time.perf_counter()
    builder, profile = SummaryBuilder(), _profile(args)
    settings = config.load().settings if profile else DEFAULTS  # errors before the long part
    first_t = last_t = None
    extra = ("state", "score", "reasons") if profile else ()
    with ExitStack() as stack:
        poses = stack.enter_context(open_poses(args.input, args.fps, args.start, args.end, args.model))
        timeline = _timeline(profile, settings, poses.frame_step)
        csv_out = stack.enter_context(ObservationCsv(args.csv, extra)) if args.csv else None
        log_out = stack.enter_context(PoseLogWriter(args.poses, poses.header)) if args.poses else None
        progress = stack.enter_context(Progress(poses.expected_s, f"analysing {Path(args.input).name}"))
        for timed in poses:
            obs = timeline.update(timed)
            builder.update(obs)
            if log_out:
                log_out.write(timed)
            if csv_out:
                csv_out.write(obs, _csv_extra(timeline))
            first_t = obs.t if first_t is None else first_t
            last_t = obs.t
            progress.update(obs.t - first_t)
    end_s = None if last_t is None else last_t + poses.frame_step
    if end_s is not None:
        timeline.finish(end_s)
    return Analysis(poses.header.source, poses.header.model, builder.result(end_s),
                    0.0 if last_t is None else end_s - first_t, time.perf_counter() - started,
                    timeline if timeline.tracker else None)


def run(args: argparse.Namespace) -> int:
    if args.end is not None and args.end <= args.start:
        raise UsageError(f"--end ({args.end:g}) must be after --start ({args.start:g})")
    analysis = analyse(args)
    if args.json:
        print(json.dumps(report.analysis_json(analysis), indent=2))
    else:
        print(report.analysis_text(analysis))
    return 0
