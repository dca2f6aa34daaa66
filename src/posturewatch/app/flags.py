"""Argument types and the options several commands share: one definition each.

Numbers are checked where argparse reads them: finite, and within sane bounds.
`float()` accepts "nan", "inf" and "1e999"; none is a time or a rate, and each
used to fail much later as a traceback (or to be printed as NaN by --json).
A type's error is argparse's one-line usage error (exit 2).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import re
from pathlib import Path
from typing import Callable

from ..errors import UsageError

MAX_SECONDS = 1e7  # about 115 days: longer than any recording
MAX_FPS = 1000.0
MAX_DAYS = 3660
DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600}
MAX_DURATION_S = 7 * 86400.0  # a week; `pause` without a duration lasts until `resume`
MODEL_HELP = "lite, full or heavy, or a path to a .task file (see `posturewatch model`)"


# --- types -------------------------------------------------------------------------------

def number(text: str) -> float:
    """A finite number; ArgumentTypeError (argparse's one-line usage error) otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def bounded(low: float, high: float, unit: str) -> Callable[[str], float]:
    """A parser for numbers from `low` to `high`, named in its errors with `unit`."""
    def parse(text: str) -> float:
        value = number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} {unit}, got {text}")
        return value
    parse.__name__ = unit.replace(" ", "_")
    return parse


seconds = bounded(0.0, MAX_SECONDS, "seconds")
fps = bounded(0.0, MAX_FPS, "frames per second")


def positive(text: str) -> float:
    """A finite number above 0 (a setting's own upper bound is checked with the settings)."""
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """Seconds, more than 0 (and at most MAX_SECONDS)."""
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def count(text: str) -> int:
    """A whole number, 1 or more (how many workers ...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def non_negative(text: str) -> float:
    """A finite number, 0 or more (upper bound: as `positive`)."""
    value = number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def duration(text: str) -> float:
    """"90", "90s", "15m", "1.5h" -> seconds (a bare number is minutes), up to a week."""
    match = re.fullmatch(r"\s*(\d{1,12}(?:\.\d{1,12})?)\s*(s|m|min|h)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 15 (minutes), 90s, 15m or 1.5h, got {text[:40]!r}")
    value = float(match.group(1)) * DURATION_UNITS[match.group(2) or "m"]
    if value > MAX_DURATION_S:
        raise argparse.ArgumentTypeError(f"a duration of at most a week (168h), got {text!r}")
    return value


def days(text: str) -> int:
    """A whole number of days, 1 to MAX_DAYS."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a whole number of days from 1 to {MAX_DAYS}, "
                                         f"got {text!r}")
    return value


def iso_date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


# --- options -----------------------------------------------------------------------------

def add_model(parser: argparse.ArgumentParser, help: str = MODEL_HELP) -> None:
    parser.add_argument("--model", metavar="SPEC", help=help)


def model_file(spec: str | None) -> Path | None:
    """The file --model names, when it names an existing one (not a variant)."""
    path = Path(spec).expanduser() if spec else None
    return path if path is not None and path.is_file() else None


def add_fps(parser: argparse.ArgumentParser, help: str) -> None:
    """--fps N, frames analysed per second; None when not given (each command's default)."""
    parser.add_argument("--fps", type=fps, default=None, metavar="N", help=help)


def add_window(parser: argparse.ArgumentParser, start_help: str, end_help: str) -> None:
    """--start S (default 0) and --end S (default: the end), seconds into a recording."""
    parser.add_argument("--start", type=seconds, default=0.0, metavar="S", help=start_help)
    parser.add_argument("--end", type=seconds, default=None, metavar="S", help=end_help)


def check_window(start: float, end: float | None) -> None:
    """--end after --start, or a usage error naming both."""
    if end is not None and end <= start:
        raise UsageError(f"--end ({end:g}) must be after --start ({start:g})")
