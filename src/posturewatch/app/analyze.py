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
from ..core.observation import observe
from ..core.posture_state import PostureConfig
from ..core.summary import Summary, SummaryBuilder
from ..errors import UsageError
from ..ports import SourceInfo
from . import report
from .inputs import DEFAULT_VIDEO_FPS, open_poses
from .progress import Progress
from .session import Timeline, new_timeline


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


def posture_config() -> PostureConfig:
    """The posture tracker's settings, as the daemon uses them with the user's config."""
    settings = config.load().settings
    onset = min(PostureConfig.onset_delay_s, settings.alert_after_s)
    return PostureConfig(onset_delay_s=onset, alert_after_s=settings.alert_after_s,
                         cooldown_s=settings.cooldown)


def _timeline(args: argparse.Namespace) -> Timeline | None:
    if not (args.profile or args.calibration):
        return None
    profile = profiles.load_profile(args.calibration or args.profile)
    return new_timeline(profile.baseline, posture_config())


def _csv_extra(timeline: Timeline | None) -> tuple:
    if timeline is None:
        return ()
    score = timeline.tracker.score
    return (timeline.tracker.state, "" if score is None else f"{score.total:.1f}",
            " ".join(score.reasons) if score else "")


def analyse(args: argparse.Namespace) -> Analysis:
    return analyse_recording(args.input, fps=args.fps, start=args.start, end=args.end,
                             model=args.model, timeline=_timeline(args), csv=args.csv,
                             poses=args.poses)


def analyse_recording(path, *, fps: float | None = None, start: float = 0.0,
                      end: float | None = None, model: str | None = None,
                      timeline: Timeline | None = None, csv: Path | None = None,
                      poses: Path | None = None, progress=Progress) -> Analysis:
    """`analyze`'s code path with plain parameters (batch runs it in its workers).

    `progress(expected_s, label)` makes the context manager told how far the analysis got.
    """
    started = time.perf_counter()
    builder = SummaryBuilder()
    first_t = last_t = None
    extra = ("state", "score", "reasons") if timeline else ()
    with ExitStack() as stack:
        stream = stack.enter_context(open_poses(path, fps, start, end, model))
        csv_out = stack.enter_context(ObservationCsv(csv, extra)) if csv else None
        log_out = stack.enter_context(PoseLogWriter(poses, stream.header)) if poses else None
        shown = stack.enter_context(progress(stream.expected_s, f"analysing {Path(path).name}"))
        for timed in stream:
            obs = observe(timed)
            builder.update(obs)
            if timeline:
                timeline.update(obs)
            if log_out:
                log_out.write(timed)
            if csv_out:
                csv_out.write(obs, _csv_extra(timeline))
            first_t = obs.t if first_t is None else first_t
            last_t = obs.t
            shown.update(obs.t - first_t)
    end_s = None if last_t is None else last_t + stream.frame_step
    if timeline and end_s is not None:
        timeline.finish(end_s)
    return Analysis(stream.header.source, stream.header.model, builder.result(end_s),
                    0.0 if last_t is None else end_s - first_t, time.perf_counter() - started,
                    timeline)


def run(args: argparse.Namespace) -> int:
    if args.end is not None and args.end <= args.start:
        raise UsageError(f"--end ({args.end:g}) must be after --start ({args.start:g})")
    analysis = analyse(args)
    if args.json:
        print(json.dumps(report.analysis_json(analysis), indent=2))
    else:
        print(report.analysis_text(analysis))
    return 0
