"""`posturewatch <command>`: the command line.

Each command lives in its own module under `app/` with two functions:
`add_parser(subparsers)` and `run(args) -> int`. `main` turns any
`PostureWatchError` into one `posturewatch: error: ...` line and its exit code;
tracebacks only with `--debug`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import EXIT_INTERRUPTED, PostureWatchError

log = logging.getLogger(__name__)

# Command modules, in the order `--help` lists them.
COMMANDS = ("analyze", "batch", "calibrate", "evaluate", "model_cmd", "daemon", "control_cmd", "config_cmd", "autostart_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posturewatch",
        description="Watches your posture through the webcam, on your own machine, and nudges you "
        "to sit well and take breaks. No frame leaves the program or is written to disk.",
    )
    parser.add_argument("--version", action="version", version=f"posturewatch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug or args.verbose > 1 else (
        logging.INFO if args.verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return int(args.run(args) or 0)
    except PostureWatchError as exc:
        if args.debug:
            log.exception("failed")
        print(f"posturewatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("posturewatch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
