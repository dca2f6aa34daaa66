"""`posturewatch analyze`: a summary of a recorded session (video or pose log)."""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..adapters import config, profiles, strict_json
from ..adapters.csv_out import ObservationCsv
from ..adapters.files import check_distinct, local_path
from ..adapters.pose_log import PoseLogWriter
from ..core.settings import DEFAULTS
from ..core.summary import Summary, SummaryBuilder
from ..ports import SourceInfo
from . import flags, recording_report, report
from .inputs import DEFAULT_VIDEO_FPS, open_poses
from .progress import Progress
from .session import Timeline, at_rate, new_timeline


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="analyse a recorded session (a video or a pose log)",
        description="Run pose estimation over a recorded video (or replay a pose log made by "
        "--poses) and summarise it: when a person was present, and the posture features "
        "over the session. Nothing is written unless you ask for it.")
    parser.add_argument("input", metavar="VIDEO|POSELOG",
                        help="a video file, or a pose log (.jsonl) written by --poses "
                        "(a file on this computer, not a URL)")
    add_source_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--csv", metavar="PATH",
                        help="write one row per analysed frame: time, person present, every "
                        "feature (never one of the inputs; replaced only once complete)")
    parser.add_argument("--poses", metavar="PATH",
                        help="write a pose log (landmarks and times, no images) that "
                        "`posturewatch analyze PATH` replays without running the model")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--profile", metavar="NAME",
                     help="add the posture timeline (episodes, alerts, states), judged against "
                     "the calibration profile of this name in the profiles folder (see "
                     "`posturewatch profiles`)")
    who.add_argument("--calibration", metavar="FILE",
                     help="like --profile, from a profile file anywhere (e.g. made with "
                     "`calibrate --output`)")
    recording_report.add_options(parser)
    parser.set_defaults(run=run)


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Which frames of the recording, through which model."""
    flags.add_fps(parser, f"frames analysed per second of video (default: {DEFAULT_VIDEO_FPS:g}, "
                  "because posture changes over seconds: 5 samples a second time events "
                  "well and run several times faster than every frame; 0 = every frame; "
                  "a pose log replays every pose it holds unless --fps is given)")
    flags.add_model(parser)
    flags.add_window(parser, "start at S seconds into the recording",
                     "stop at S seconds into the recording")


@dataclass(frozen=True)
class Analysis:
    source: SourceInfo
    model: dict
    summary: Summary
    analysed_s: float  # seconds of recording covered
    elapsed_s: float
    timeline: Timeline | None = None  # with a profile: the posture over time
    trace: recording_report.Trace | None = None  # with --report: per-frame values to draw


def _profile(args: argparse.Namespace):
    if args.calibration is not None:
        return profiles.read_profile(local_path(args.calibration, "--calibration"))
    if args.profile is not None:
        return profiles.load_named(args.profile)
    return None


def _timeline(profile, settings, frame_step: float) -> Timeline:
    """The session the daemon would run with the user's settings, at the recording's rate
    (without a profile: presence only)."""
    return new_timeline(profile.baseline if profile else None, at_rate(settings, frame_step))


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    return {"--csv": None if args.csv is None else local_path(args.csv, "--csv"),
            "--poses": None if args.poses is None else local_path(args.poses, "--poses"),
            "--report": None if getattr(args, "report", None) is None
            else local_path(args.report, "--report")}


def _csv_extra(timeline: Timeline) -> tuple:
    if timeline.tracker is None:
        return ()
    score = timeline.tracker.score
    return (timeline.tracker.state, "" if score is None else f"{score.total:.1f}",
            " ".join(score.reasons) if score else "")


def analyse(args: argparse.Namespace) -> Analysis:
    started = time.perf_counter()
    source = local_path(args.input, "the input")
    outputs = _outputs(args)
    read: dict[str, Path | None] = {"the input": source, "the pose model": flags.model_file(args.model)}
    check_distinct(read, outputs)  # before the slow model load, and again below
    builder, profile = SummaryBuilder(), _profile(args)
    settings = DEFAULTS
    if profile is not None:  # errors before the long part
        effective = config.load()
        read.update({"the calibration profile": profile.path, "the config file": effective.path})
        settings = effective.settings
    trace = recording_report.Trace() if getattr(args, "report", None) else None
    first_t = last_t = None
    extra = ("state", "score", "reasons") if profile else ()
    with ExitStack() as stack:
        poses = stack.enter_context(open_poses(source, args.fps, args.start, args.end, args.model))
        check_distinct({**read, "the pose model file": poses.model_file}, outputs)
        timeline = _timeline(profile, settings, poses.frame_step)
        csv_path, log_path = outputs["--csv"], outputs["--poses"]
        csv_out = stack.enter_context(ObservationCsv(csv_path, extra)) if csv_path else None
        log_out = stack.enter_context(PoseLogWriter(log_path, poses.header)) if log_path else None
        progress = stack.enter_context(Progress(poses.expected_s, f"analysing {source.name}"))
        for timed in poses:
            obs = timeline.update(timed)
            builder.update(obs)
            if trace is not None:
                trace.update(obs, timeline)
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
                    timeline if timeline.tracker else None, trace)


def run(args: argparse.Namespace) -> int:
    flags.check_window(args.start, args.end)
    report_path = None if args.report is None else local_path(args.report, "--report")
    if report_path:
        recording_report.check_output(report_path, args.force)
    analysis = analyse(args)
    if report_path:
        recording_report.write(report_path, analysis, analysis.trace, args.force)
    if args.json:
        print(strict_json.dumps(report.analysis_json(analysis), indent=2))
    else:
        print(report.analysis_text(analysis))
    return 0
