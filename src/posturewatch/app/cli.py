"""`posturewatch <command>`: the command line.

Each command lives in its own module under `app/` (the daemon's in `app/daemon/`)
with two functions: `add_parser(subparsers)` and `run(args) -> int`. `main` turns any
`PostureWatchError` into one `posturewatch: error: ...` line and its exit code;
tracebacks only with `--debug`. A usage mistake argparse finds is one such
line too (exit 2), and SIGTERM unwinds like Ctrl-C, so every temporary file
is removed before the process exits (143).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import os
import signal
import sys
import threading
from typing import Iterator, NoReturn

from .. import __version__
from ..adapters.native_logs import NATIVE_LOGGER
from ..errors import (EXIT_INTERRUPTED, EXIT_TERMINATED, OutputError, PostureWatchError,
                      Terminated)

log = logging.getLogger(__name__)

# Command modules, in the order `--help` lists them, and the commands each adds. A command
# line naming one imports only its module: the daemon (`run`) then never loads what the
# one-shot commands need (batch's process pool, evaluate, reports), which it would keep all day.
COMMANDS = {"analyze": ("analyze",), "batch": ("batch",), "calibrate": ("calibrate", "profiles"),
            "evaluate": ("evaluate",), "model_cmd": ("model",), "daemon.run_cmd": ("run",),
            "daemon.control_cmd": ("start", "stop", "status", "pause", "resume", "snooze",
                                   "break"),
            "config_cmd": ("config",), "autostart_cmd": ("autostart",), "stats_cmd": ("stats",),
            "report_cmd": ("report",), "history_cmd": ("history",), "tips_cmd": ("tips",)}
GLOBAL_FLAGS = frozenset({"--debug", "-v", "--verbose", "-vv", "-vvv"})
# OSErrors that mean "the disk (or the output) cannot take what we write", wherever they happen.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one `posturewatch: error:` line (exit 2) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("posturewatch").strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"posturewatch: error: {where}{message} (see `{self.prog} --help`)\n")


def command_modules(argv: list[str] | None) -> list[str]:
    """The modules the parser needs for `argv`: the named command's, or all of them (for
    `--help`, a mistyped command, or anything argparse would have to untangle)."""
    for arg in argv if argv is not None else sys.argv[1:]:
        if arg not in GLOBAL_FLAGS:
            found = [m for m, names in COMMANDS.items() if arg in names]
            return found or list(COMMANDS)
    return list(COMMANDS)


def build_parser(argv: list[str] | None = None, everything: bool = True) -> argparse.ArgumentParser:
    """The parser; with `everything` False only the command `argv` names is added."""
    parser = Parser(
        prog="posturewatch",
        description="Watches your posture through the webcam, on your own machine, and nudges you "
        "to sit well and take breaks. No frame leaves the program or is written to disk.",
    )
    parser.add_argument("--version", action="version", version=f"posturewatch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in list(COMMANDS) if everything else command_modules(argv):
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug or args.verbose > 1 else (
        logging.INFO if args.verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # OpenCV, FFmpeg and MediaPipe write to fd 2 themselves: only with --debug.
    logging.getLogger(NATIVE_LOGGER).setLevel(logging.DEBUG if args.debug else logging.WARNING)


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While the command runs, SIGTERM raises Terminated (once), so `with` blocks clean up."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _fail(message: str, code: int) -> int:
    print(f"posturewatch: error: {message}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    """After stdout failed (full disk, closed pipe): send the rest to /dev/null, so Python's
    final flush does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real fd (tests capture stdout)
        pass


def _run(args: argparse.Namespace) -> int:
    code = int(args.run(args) or 0)
    sys.stdout.flush()  # a full disk behind stdout is found here, not after main returns
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv, everything=False)
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        with sigterm_unwinds():
            return _run(args)
    except PostureWatchError as exc:
        if args.debug:
            log.exception("failed")
        return _fail(str(exc), exc.exit_code)
    except Terminated:
        print("posturewatch: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("posturewatch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS:
            raise  # anything else is a bug: show it
        if args.debug:
            log.exception("failed")
        if exc.filename is None:  # stdout itself
            _silence_stdout()
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}cannot write the output ({exc.strerror})", OutputError.exit_code)


if __name__ == "__main__":
    sys.exit(main())
