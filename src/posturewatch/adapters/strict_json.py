"""JSON as posturewatch reads it: finite numbers only, and every failure a ValueError.

Python's `json` accepts NaN, Infinity and -Infinity, turns 1e999 into inf, and
raises RecursionError on deeply nested input. None of these belong in a pose
log, a profile or a control request: a NaN read today is a `NaN` printed by
`--json` tomorrow, which is not JSON, and a RecursionError is a traceback.
Each reader turns the ValueError into its own error, naming the file and line.
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:24]} is out of range")
    return value


def loads(data: str | bytes, *, check_floats: bool = True) -> Any:
    """`json.loads` without NaN/Infinity and, with `check_floats`, without overflowing floats.

    `check_floats=False` is for pose-log lines, whose numbers are checked for
    finiteness where they become landmarks (it halves the parse time).
    """
    try:
        if check_floats:
            return json.loads(data, parse_constant=_no_constant, parse_float=_finite_float)
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    # json.JSONDecodeError, UnicodeDecodeError and "int too long" are ValueErrors already.


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps` that refuses NaN and infinities instead of writing them."""
    return json.dumps(value, allow_nan=False, **options)


def show(value: Any) -> str:
    """A short repr for error messages, safe for huge or deeply nested values."""
    return reprlib.repr(value)
