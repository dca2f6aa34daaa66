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
from ..core.baseline import Baseline
from ..core.settings import DEFAULTS, Settings
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
    profile = _profile(args)
    settings = DEFAULTS
    if profile is not None:  # errors before the long part
        effective = config.load()
        read.update({"the calibration profile": profile.path, "the config file": effective.path})
        settings = effective.settings
    return analyse_recording(
        source, fps=args.fps, start=args.start, end=args.end, model=args.model,
        baseline=profile.baseline if profile else None, settings=settings,
        trace=bool(getattr(args, "report", None)), csv=outputs["--csv"], poses=outputs["--poses"],
        check=lambda model: check_distinct({**read, "the pose model file": model}, outputs),
        started=started)


def analyse_recording(source: Path, *, fps: float | None = None, start: float = 0.0,
                      end: float | None = None, model: str | None = None,
                      baseline: Baseline | None = None, settings: Settings = DEFAULTS,
                      trace: bool = False, csv: Path | None = None, poses: Path | None = None,
                      check=lambda model_file: None, progress=Progress,
                      started: float | None = None) -> Analysis:
    """`analyze`'s code path with plain parameters (batch runs it in its workers).

    `check(model_file)` runs once the model file is known; `progress(expected_s, label)`
    makes the context manager told how far the analysis got.
    """
    started = time.perf_counter() if started is None else started
    builder = SummaryBuilder()
    traced = recording_report.Trace() if trace else None
    first_t = last_t = None
    extra = ("state", "score", "reasons") if baseline is not None else ()
    with ExitStack() as stack:
        stream = stack.enter_context(open_poses(source, fps, start, end, model))
        check(stream.model_file)
        timeline = new_timeline(baseline, at_rate(settings, stream.frame_step))
        csv_out = stack.enter_context(ObservationCsv(csv, extra)) if csv else None
        log_out = stack.enter_context(PoseLogWriter(poses, stream.header)) if poses else None
        shown = stack.enter_context(progress(stream.expected_s, f"analysing {source.name}"))
        for timed in stream:
            obs = timeline.update(timed)
            builder.update(obs)
            if traced is not None:
                traced.update(obs, timeline)
            if log_out:
                log_out.write(timed)
            if csv_out:
                csv_out.write(obs, _csv_extra(timeline))
            first_t = obs.t if first_t is None else first_t
            last_t = obs.t
            shown.update(obs.t - first_t)
    end_s = None if last_t is None else last_t + stream.frame_step
    if end_s is not None:
        timeline.finish(end_s)
    return Analysis(stream.header.source, stream.header.model, builder.result(end_s),
                    0.0 if last_t is None else end_s - first_t, time.perf_counter() - started,
                    timeline if timeline.tracker else None, traced)


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
