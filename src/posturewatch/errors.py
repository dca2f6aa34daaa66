"""The errors a user can meet, each with its own exit status.

`app.cli.main` turns any of these into one `posturewatch: error: ...` line and
returns `exit_code`; nothing else in the program decides exit statuses.
"""

from __future__ import annotations


class PostureWatchError(Exception):
    """An error the user can act on; the message says what to do."""

    exit_code = 1


class UsageError(PostureWatchError):
    """Options that contradict each other (argparse reports the rest)."""

    exit_code = 2


class InputNotFound(PostureWatchError):
    """A path that does not exist, is a directory, or cannot be read."""

    exit_code = 3


class BadVideo(PostureWatchError):
    """A file that is not a readable video (empty, truncated, not a video)."""

    exit_code = 4


class ModelError(PostureWatchError):
    """No usable pose model: missing, not a model bundle, unknown variant."""

    exit_code = 5


class BadPoseLog(PostureWatchError):
    """A pose log that is not a posturewatch pose log or is damaged."""

    exit_code = 6


class ProfileError(PostureWatchError):
    """A calibration profile that is missing, malformed or unusable."""

    exit_code = 7


class CameraError(PostureWatchError):
    """A camera or stream that cannot be opened or stopped delivering."""

    exit_code = 8


class ConfigError(PostureWatchError):
    """A malformed or invalid configuration file or setting."""

    exit_code = 9


class DaemonError(PostureWatchError):
    """The background monitor is not running, or one is already running."""

    exit_code = 10


class OutputError(PostureWatchError):
    """An output file or directory that cannot be written."""

    exit_code = 11


class NetworkError(PostureWatchError):
    """A download that failed (no network, server error, bad content)."""

    exit_code = 12


class BadLabels(PostureWatchError):
    """A label file (`<clip>.labels.csv`) that is malformed or uses an unknown label."""

    exit_code = 13


class HistoryError(PostureWatchError):
    """A history database that is damaged, not ours, or from a newer posturewatch."""

    exit_code = 14


class BatchIncomplete(PostureWatchError):
    """Some inputs of a batch failed; the others were analysed (see the batch's summary)."""

    exit_code = 15


class ClusterError(PostureWatchError):
    """A Dask cluster that cannot be reached or used (or dask is not installed)."""

    exit_code = 16


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C (temporary files removed), then exit 143.

    A KeyboardInterrupt, so that every place that stops cleanly on Ctrl-C
    stops the same way on SIGTERM.
    """


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM, as shells report a process it stopped (128 + 15)
