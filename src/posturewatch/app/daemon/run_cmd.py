"""`posturewatch run`: the monitor in the foreground (what a service starts).

Reads the settings (config file + command line), then puts together what the
loop (loop.py) runs: the log file, the single-instance lock, the session and the
source (setup.py), the history sink, the notifier and the control socket.
"""

from __future__ import annotations

import argparse
import logging
from contextlib import ExitStack

from ...adapters import config as config_file
from ...adapters.control import ControlServer, InstanceLock, runtime_paths
from ...adapters.memory import drop_clean_file_pages
from ...core.settings import Settings
from .. import flags
from . import console, history_sink, setup as daemon_setup
from .desktop import Commands, Desktop
from .loop import Daemon

log = logging.getLogger(__name__)

NOTIFY_DRAIN_S = 6.0  # a file ended: time left for queued notifications (notify-send's 5 s + 1)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the posture and break monitor in the foreground",
        description="Watch posture and time seated, and notify. Runs until stopped "
        "(Ctrl-C, SIGTERM, `posturewatch stop`) or until a file source ends. "
        "`posturewatch start` runs the same in the background.")
    add_run_options(parser)
    parser.set_defaults(run=run)


# (flag, settings key, type, metavar, help); every one is also a config key.
RUN_OPTIONS = (
    ("--source", "source", str, "SPEC", "camera index or /dev/videoN, stream URL, video file, "
     "or pose log (.jsonl) (default: 0, the first camera)"),
    ("--profile", "profile", str, "NAME|PATH", "calibration profile: a NAME from the profiles "
     "folder, or a profile file (a value with a '/' or ending in .json is a file) (default: the "
     "one `posturewatch calibrate` saved)"),
    ("--model", "model", str, "SPEC", "pose model: lite (default), full, heavy or a .task file"),
    ("--alert-after", "alert_after", flags.non_negative, "SECONDS",
     "how long poor posture must last before a notification (default: 30)"),
    ("--cooldown", "cooldown", flags.non_negative, "SECONDS",
     "at most one posture notification per this many seconds (default: 300)"),
    ("--break-after", "break_after", flags.positive, "MINUTES",
     "minutes seated before a break reminder; fractions allowed (default: 30)"),
    ("--fps", "fps", flags.positive, "N", "frames analysed per second while you are there "
     "(less often per --steady-fps and --poor-fps) (default: 1)"),
    ("--steady-fps", "steady_fps", flags.non_negative, "N", "frames analysed per second while your "
     "posture has been steady and good for 10 s (default: 0, the same as --fps; see docs/daemon.md)"),
    ("--poor-fps", "poor_fps", flags.non_negative, "N", "frames analysed per second while "
     "confirmed poor posture holds; a look still falls when the alert is due (default: 0.5; "
     "0: the same as --fps)"),
)
RUN_FLAGS = (
    ("--realtime", "realtime", "pace a video file at its own speed (default: as fast as possible)"),
    ("--retry-camera", "retry_camera", "keep retrying, with backoff, while the camera is missing "
     "(for a service) instead of failing"),
)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    for flag, key, kind, metavar, text in RUN_OPTIONS:
        parser.add_argument(flag, dest=key, type=kind, metavar=metavar, default=None, help=text)
    for flag, key, text in RUN_FLAGS:
        parser.add_argument(flag, dest=key, action=argparse.BooleanOptionalAction,
                            default=None, help=text)


def overrides(args: argparse.Namespace) -> dict:
    keys = [o[1] for o in RUN_OPTIONS] + [f[1] for f in RUN_FLAGS]
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def option_argv(values: dict) -> list[str]:
    """The command line that gives `values` again (for `start`)."""
    argv: list[str] = []
    for flag, key, *_ in RUN_OPTIONS:
        if key in values:
            argv += [flag, str(values[key])]
    for flag, key, _ in RUN_FLAGS:
        if key in values:
            argv.append(flag if values[key] else "--no-" + flag[2:])
    return argv



def run(args: argparse.Namespace) -> int:
    effective = config_file.load(overrides(args), path=getattr(args, "config", None))
    stopper = daemon_setup.Stopper()
    try:
        code = _run(effective.settings, effective.origins.get("model", "default"),
                    args.verbose or args.debug, stopper)
    except daemon_setup.StoppedEarly:
        log.info("stopped before monitoring began")
        code = 0
    if stopper.signalled:  # the process is going away: no need to tidy the heap
        daemon_setup.exit_now(code)
    return code


def _run(settings: Settings, model_origin: str, verbose: int,
         stopper: daemon_setup.Stopper) -> int:
    with ExitStack() as stack:
        stack.enter_context(daemon_setup.stop_on_signals(stopper))
        log_file = stack.enter_context(daemon_setup.log_to_file(verbose))
        paths = runtime_paths()
        stack.enter_context(InstanceLock(paths.lock))
        setup = daemon_setup.daemon_session(settings, model_origin)
        settings, note = setup.settings, setup.note
        # The imports' and the model load's start-up pages, given back before and after
        # the load, which is the daemon's peak (adapters/memory.py).
        drop_clean_file_pages()
        feed = daemon_setup.open_feed(settings)  # a missing camera fails here, before the note
        drop_clean_file_pages()
        stack.callback(feed.close)
        if note:
            log.info(note)
        history = stack.enter_context(history_sink.open_sink(
            settings, setup.profile_name, setup.session.monitor.breaks.config.max_step_s))
        commands = Commands(paths.socket)  # the desktop's way in: the control socket
        notifier = daemon_setup.notifier(on_action=commands.button)
        lines = console.StateLines()
        daemon = Daemon(settings, feed, setup.session, notifier, note, setup.profile_name,
                        history=history, console=lines)
        # Queued notifications go out when a file ends; on a stop only briefly.
        stack.callback(lambda: notifier.close(0.25 if daemon.stopping else NOTIFY_DRAIN_S,
                                              give_up=lambda: daemon.stopping))
        daemon.server = stack.enter_context(ControlServer(paths.socket, daemon.handle))
        stack.enter_context(Desktop(settings, commands))
        stopper.daemon = daemon
        log.info("monitoring %s (pid file %s)", settings.source, paths.lock)
        lines.say(console.watching_line(settings, setup.profile_name, log_file.baseFilename))
        if note:  # information, not an error: stdout, beside the watching line
            lines.say(f"posturewatch: note: {note}")
        return daemon.run()


__all__ = ["add_parser", "add_run_options", "option_argv", "overrides", "run"]
