"""The daemon's clock for a live camera: monotonic, and counting a suspend.

CLOCK_MONOTONIC stands still while the machine sleeps, so a night of suspend
would look like no time at all and the sitting timer would carry on from the
evening. CLOCK_BOOTTIME (Linux) is monotonic too and keeps counting: the night
is a gap (or, with the suspend signal, time away: a break).
"""

from __future__ import annotations

import time


def boot_clock() -> float:
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # not Linux
        return time.monotonic()


__all__ = ["boot_clock"]
