"""Number options, checked where argparse reads them: finite, and within sane bounds.

`float()` accepts "nan", "inf" and "1e999"; none is a time or a rate, and each
used to fail much later as a traceback (or to be printed as NaN by --json).
"""

from __future__ import annotations

import argparse
import math
from typing import Callable

MAX_SECONDS = 1e7  # about 115 days: longer than any recording
MAX_FPS = 1000.0


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
