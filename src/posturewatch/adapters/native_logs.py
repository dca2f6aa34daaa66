"""Whether native libraries (OpenCV, FFmpeg, MediaPipe/TFLite) may write to the terminal.

They log from C/C++ straight to fd 2, around Python's logging, so the places
that start them quiet them unless the user asked for `--debug`: `app.cli`
sets the level of the `posturewatch.native` logger (DEBUG with --debug,
WARNING otherwise), and each of those places asks `native_logs_wanted()`.
`-v` and `-vv` only add posturewatch's own log lines.
"""

from __future__ import annotations

import logging

NATIVE_LOGGER = "posturewatch.native"


def native_logs_wanted() -> bool:
    return logging.getLogger(NATIVE_LOGGER).isEnabledFor(logging.DEBUG)
