"""`posturewatch start|stop|status|pause|resume|snooze|break`: talk to the daemon.

`start` runs `posturewatch run` as a detached process and returns once it
watches (or says why it could not); the rest send one request over the
control socket (adapters/control.py) and print the answer.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from ...adapters.control import NOT_RUNNING, held, runtime_paths, send_command
from ...adapters.files import ensure_dir
from ...adapters.paths import user_dirs
from ...core.advice import format_duration
from ...errors import DaemonError
from .. import flags
from .run_cmd import add_run_options, option_argv, overrides
from .status import FROM_HISTORY, DaemonStatus, Today

START_TIMEOUT_S = 60.0  # loading the pose model on a slow machine takes a while
STARTUP_LOG = "daemon.out"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    start = subparsers.add_parser("start", help="start the monitor in the background",
                                  description="Start `posturewatch run` in the background "
                                  "and return. Takes the same options as `run`.")
    add_run_options(start)
    start.set_defaults(run=run_start)
    simple = {"stop": "stop the background monitor",
              "resume": "resume watching after `pause`",
              "break": "tell the monitor you are taking a break now (resets the sitting timer)"}
    for name, text in simple.items():
        sub = subparsers.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        sub.set_defaults(run=run_simple, control=name)
    status = subparsers.add_parser("status", help="show what the monitor sees and plans")
    status.add_argument("--json", action="store_true", help="print the daemon's answer as JSON")
    status.set_defaults(run=run_status)
    for name, text in (("pause", "stop watching and release the camera (default: until "
                        "`resume`)"), ("snooze", "silence notifications for a while; time "
                                       "keeps counting (default: the `snooze` setting, 30 min)")):
        sub = subparsers.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        sub.add_argument("duration", nargs="?", type=flags.duration, metavar="DURATION",
                         help="e.g. 20 (minutes), 90s, 15m, 1.5h")
        sub.set_defaults(run=run_simple, control=name)


def _socket():
    return runtime_paths().socket


def ask(socket, cmd: str, request: dict | None = None, timeout: float = 2.0) -> DaemonStatus:
    """The daemon's answer to `cmd`: its status after the command."""
    return _parse(send_command(socket, cmd, request, timeout=timeout))


def _parse(result: dict) -> DaemonStatus:
    try:
        return DaemonStatus.from_json(result)
    except (KeyError, TypeError, AttributeError):
        raise DaemonError("posturewatch sent a malformed answer (a different version?)") from None


def run_simple(args: argparse.Namespace) -> int:
    seconds = getattr(args, "duration", None)
    request = {"seconds": seconds} if seconds is not None else {}
    print(_confirmation(args.control, ask(_socket(), args.control, request)))
    return 0


def _confirmation(cmd: str, status: DaemonStatus) -> str:
    if cmd == "pause":
        return f"paused {_until(status.paused_until)}; the camera is released"
    if cmd == "snooze":
        return f"notifications snoozed {_until(status.snoozed_until)}"
    if cmd == "resume":
        return "watching again"
    if cmd == "break":
        return "enjoy your break: the sitting timer starts again when you are back"
    return "posturewatch is stopping"


def _until(value) -> str:
    return value if value == "until resumed" else f"until {value}"


def run_status(args: argparse.Namespace) -> int:
    try:
        status = ask(_socket(), "status")
    except DaemonError as exc:
        if args.json and str(exc) == NOT_RUNNING:
            print(json.dumps({"running": False}))  # for scripts; the error line and exit 10 stay
        raise
    print(json.dumps(status.to_json(), indent=2) if args.json else status_text(status))
    return 0


def status_text(s: DaemonStatus) -> str:
    score = "n/a" if s.score is None else f"{s.score:.0f}/100"
    reasons = ", ".join(r.replace("_", " ") for r in s.reasons) or "none"
    lines = [
        f"state:          {s.state}",
        f"posture score:  {score} (issues: {reasons})",
        f"time seated:    {format_duration(s.seated_min * 60)}",
        f"next break in:  {format_duration(s.next_break_min * 60)}",
        f"paused:         {_paused_text(s)}",
        f"snoozed until:  {s.snoozed_until or 'no'}",
        f"camera:         {s.camera} ({s.source})"
        + (f" - {s.camera_error}" if s.camera_error else ""),
        f"notifications:  {s.notifier}",
        f"profile:        {s.profile or 'none'}",
        f"today:          {today_text(s.today)}",
        f"history:        {s.history}",
        f"last notice:    {s.last_notification or 'none yet'}",
    ]
    if s.profile_note:
        lines.append(f"note:           {s.profile_note}")
    return "\n".join(lines)


def _paused_text(s: DaemonStatus) -> str:
    if not s.paused:
        return "no"
    reason = s.pause_reason or "user"
    if reason == "user":
        return _until(s.paused_until or "until resumed") + " (by you)"
    return reason + ("; camera released" if reason != "camera busy" else
                     "; another app has the camera, breaks keep counting")


def today_text(today: Today | None) -> str:
    if today is None:
        return "n/a"
    share = today.good_share
    parts = [f"seated {format_duration(today.seated_min * 60)}",
             "good posture " + ("n/a" if share is None else f"{share:.0%}")]
    due = today.breaks_due
    parts.append(f"breaks {today.breaks}" + (f" of {due} due" if due else ""))
    if today.alerts is not None:
        parts.append(f"posture alerts {today.alerts}")
    return ", ".join(parts) + ("" if today.source == FROM_HISTORY else " (this run)")


def run_start(args: argparse.Namespace) -> int:
    paths = runtime_paths()
    # Two `start`s at once: the second waits here, then finds the first one running.
    with held(paths.start_lock, START_TIMEOUT_S + 5):
        try:
            send_command(paths.socket, "status", timeout=2.0)
        except DaemonError:
            pass
        else:
            raise DaemonError("posturewatch is already running (see `posturewatch status`)")
        proc, out_path = _spawn_run(args)
        status = _wait_started(proc, paths.socket, out_path)
    camera = "ended (the source was a file)" if status is None else status.camera
    print(f"posturewatch started in the background (pid {proc.pid}); camera: {camera}")
    if status is not None and status.profile_note:
        print(f"note: {status.profile_note}")
    return 0


def _spawn_run(args: argparse.Namespace):
    state = ensure_dir(user_dirs().state, "state folder (for the log)")
    out_path = state / STARTUP_LOG
    verbosity = ["-v"] * args.verbose + (["--debug"] if args.debug else [])
    argv = [sys.executable, "-m", "posturewatch", *verbosity, "run", *option_argv(overrides(args))]
    with open(out_path, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True, close_fds=True)
    return proc, out_path


def _wait_started(proc: subprocess.Popen, socket, out_path) -> DaemonStatus | None:
    """Our daemon's first status once it watches; None when a file source already ended."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() == 0:  # a file source that already ended
            return None
        if proc.poll() is not None:
            raise DaemonError(f"the monitor did not start: {_last_error(out_path)}")
        try:
            status = ask(socket, "status")
        except DaemonError:
            status = None
        # Only our own daemon counts: another one that answers (a `run` started
        # meanwhile) makes ours exit with "already running", reported above.
        if status is not None and status.pid == proc.pid and status.camera != "starting":
            return status
        time.sleep(0.2)
    raise DaemonError(f"the monitor did not report back within {START_TIMEOUT_S:g} s; "
                      f"see {out_path} and `posturewatch status`")


def _last_error(path) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError:
        lines = []
    errors = [ln.removeprefix("posturewatch: error: ") for ln in lines if "error" in ln]
    return (errors or lines or [f"it exited; see {path}"])[-1]


