"""`posturewatch batch`: analyse many recordings on every core, or on a Dask cluster.

Another driver of analyze's pipeline: the inputs (`batch_inputs`) go to an engine
(`adapters.processes` here, `adapters.dask_engine` on a cluster) whose workers run
`batch_worker.BatchWorker`, i.e. `analyze`'s code path; the results come back here
and are written to --out (`adapters.batch_out`): one `analyze --json` document per
input, then summary.csv and summary.json. See docs/batch.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..adapters import config, pose_log, profiles
from ..adapters.files import local_path
from ..adapters.batch_out import BatchOut
from ..adapters.engine import Crashed, Finished, Progressed, Started
from ..adapters.processes import ProcessPool, available_cores
from ..core.posture_state import STATES
from ..core.settings import DEFAULTS
from ..errors import BatchIncomplete, UsageError
from . import flags
from .batch_inputs import Input, expand
from .batch_worker import BatchSettings, BatchWorker, Outcome
from .inputs import DEFAULT_VIDEO_FPS
from .progress import BatchProgress

log = logging.getLogger(__name__)

COLUMNS = ("name", "input", "output", "status", "error", "resumed", "duration_s", "frames_analyzed",
           "presence", *(f"share_{s}" for s in STATES), "episodes", "alerts", "elapsed_s")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch", help="analyse many recordings (every core, or a Dask cluster)",
        description="Analyse many videos and pose logs as `analyze --json` would, each in a "
        "worker process (one per core by default), and write one NAME.json per input plus "
        "summary.csv and summary.json to --out. A failed input is recorded and the batch goes "
        "on; inputs analysed by an earlier run are skipped unless --force. See docs/batch.md.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video files, pose logs, folders (searched recursively) or glob patterns")
    parser.add_argument("--out", required=True, metavar="DIR", type=Path, help="where the results go")
    flags.add_fps(parser, f"frames analysed per second of video (default {DEFAULT_VIDEO_FPS:g}; "
                  "0 = every frame; pose logs replay every pose unless given)")
    flags.add_model(parser)
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--profile", metavar="NAME", help="judge posture against this calibration profile")
    who.add_argument("--calibration", metavar="FILE", help="like --profile, from a profile file")
    who.add_argument("--calibrate-first", type=flags.positive_seconds, metavar="SECONDS", dest="calibrate_first",
                     help="judge each recording against its own first SECONDS (sitting upright), "
                     "as `calibrate --from-video REC --end SECONDS` would")
    parser.add_argument("--jobs", type=flags.count, default=None, metavar="N",
                        help=f"worker processes (default: the cores this process may use, {available_cores()})")
    parser.add_argument("--report", action="store_true", help="also write an HTML report per input (NAME.html)")
    parser.add_argument("--force", action="store_true", help="analyse inputs again even if done before")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on an existing Dask cluster (tcp://HOST:PORT) instead of local "
                        "processes; needs posturewatch[cluster]")
    parser.set_defaults(run=run)


@dataclass
class Plan:
    rows: dict[int, dict]  # input index -> its summary row, once known
    todo: list[tuple[int, Input]]  # inputs to analyse now


def _options(args: argparse.Namespace) -> dict:
    """What changes the results; a folder of results made otherwise is not silently mixed."""
    return {"fps": args.fps, "model": args.model, "profile": args.profile,
            "calibration": str(Path(args.calibration).resolve()) if args.calibration else None,
            "calibrate_first_s": args.calibrate_first, "report": args.report}


def _check(args: argparse.Namespace, out: BatchOut) -> None:
    previous, options = out.previous_options(), _options(args)
    if previous is not None and previous != options and not args.force:
        changed = sorted(k for k in set(previous) | set(options) if previous.get(k) != options.get(k))
        raise UsageError(f"{out.directory} holds results made with other options ({', '.join(changed)}): "
                         "use --force to analyse everything again, or another --out")


def _refuse_overwriting_inputs(inputs: list[Input], out: BatchOut, html: bool) -> None:
    """No output may be an input (a pose log called x.json, or summary.json, inside --out)."""
    named = [i for i in inputs if i.path is not None]
    outputs = [out.directory / "summary.csv", out.directory / "summary.json",
               *(out.json_path(i.name) for i in named), *(out.html_path(i.name) for i in named if html)]
    sources = {i.path.resolve() for i in named}
    for path in outputs:
        if path.resolve() in sources:
            raise UsageError(f"{path} would be both an input and an output: choose another --out")


def _row(item: Input, doc: dict | None = None, error: str = "", resumed: bool = False) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(name=item.name, input=str(item.path or item.arg), status="ok" if doc else "failed",
               error=error, resumed=int(resumed), output=f"{item.name}.json" if doc else "")
    if doc:
        states = doc.get("states") or {}
        row.update(duration_s=doc["source"]["duration_s"], frames_analyzed=doc["frames_analyzed"],
                   presence=doc["person_ratio"], elapsed_s=doc.get("elapsed_s"),
                   episodes=len(doc["episodes"]) if "episodes" in doc else None,
                   alerts=len(doc["alerts"]) if "alerts" in doc else None,
                   **{f"share_{s}": states.get(s) for s in STATES} if states else {})
    return row


def _plan(inputs: list[Input], out: BatchOut, args: argparse.Namespace) -> Plan:
    plan = Plan({}, [])
    for index, item in enumerate(inputs):
        if item.path is None:
            print(f"posturewatch: failed: {item.problem}", file=sys.stderr)
            plan.rows[index] = _row(item, error=item.problem or "")
            continue
        done = None if args.force else out.finished(item.name, item.path, args.report)
        if done is not None:
            plan.rows[index] = _row(item, done, resumed=True)
        else:
            plan.todo.append((index, item))
    return plan


def _settings(args: argparse.Namespace, todo: list[tuple[int, Input]]) -> BatchSettings:
    baseline = None
    if args.calibration is not None:
        baseline = profiles.read_profile(local_path(args.calibration, "--calibration")).baseline
    elif args.profile is not None:
        baseline = profiles.load_named(args.profile).baseline
    judged = baseline is not None or args.calibrate_first is not None
    model = args.model
    videos = any(not pose_log.is_pose_log(item.path) for _, item in todo)
    if videos and not args.dask:  # found (or downloaded) once, here, for every worker
        from ..adapters.models import resolve_model
        from .model_cmd import DownloadProgress
        model = str(resolve_model(args.model, progress=DownloadProgress()).path)
    return BatchSettings(fps=args.fps, model=model, settings=config.load().settings if judged else DEFAULTS,
                         baseline=baseline, calibrate_first_s=args.calibrate_first, html=args.report)


def _engine(args: argparse.Namespace):
    if args.dask:
        from ..adapters.dask_engine import DaskEngine  # dask only when asked for
        return DaskEngine(args.dask)
    return ProcessPool(args.jobs or available_cores())


def _finish(item: Input, outcome: Outcome, out: BatchOut, bar: BatchProgress) -> dict:
    if outcome.ok:
        out.write(item.name, outcome.doc, outcome.html)
        return _row(item, outcome.doc)
    return _failed(item, outcome.error or "failed", bar)


def _failed(item: Input, message: str, bar: BatchProgress) -> dict:
    bar.clear()
    print(f"posturewatch: failed: {message}", file=sys.stderr)
    return _row(item, error=message)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _analyse(plan: Plan, settings: BatchSettings, out: BatchOut, args: argparse.Namespace) -> None:
    if not plan.todo:
        return
    plan.todo.sort(key=lambda todo: -_size(todo[1].path))  # longest first: no lone straggler at the end
    engine = _engine(args)
    paths = [os.path.abspath(i.path) if args.dask else str(i.path) for _, i in plan.todo]
    with BatchProgress(len(plan.todo)) as bar, \
            contextlib.closing(engine.run(functools.partial(BatchWorker, settings), paths)) as events:
        for event in events:
            index, item = plan.todo[event.index]
            if isinstance(event, Started):
                bar.started(event.index)
            elif isinstance(event, Progressed):
                bar.progressed(event.index, event.done_s, event.total_s)
            elif isinstance(event, Finished):
                plan.rows[index] = _finish(item, event.result, out, bar)
                bar.finished(event.index)
            elif isinstance(event, Crashed):
                plan.rows[index] = _failed(item, f"{item.path}: {event.message}", bar)
                bar.finished(event.index)


def run(args: argparse.Namespace) -> int:
    out = BatchOut(args.out)
    _check(args, out)
    inputs = expand(args.inputs, out.directory)
    _refuse_overwriting_inputs(inputs, out, args.report)
    plan = _plan(inputs, out, args)
    settings = _settings(args, plan.todo)
    _analyse(plan, settings, out, args)
    rows = [plan.rows[i] for i in range(len(inputs))]
    out.write_summary(_options(args), COLUMNS, rows)
    failed = sum(r["status"] == "failed" for r in rows)
    resumed = sum(r["resumed"] for r in rows)
    print(f"{len(rows) - failed} of {len(rows)} inputs analysed ({resumed} done before), "
          f"{failed} failed; summary in {out.directory / 'summary.csv'}")
    if failed:
        raise BatchIncomplete(f"{failed} of {len(rows)} inputs failed (see {out.directory / 'summary.csv'})")
    return 0
