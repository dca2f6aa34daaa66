"""Atomic writes: a file appears complete or not at all, and no temporary file is left behind.

`AtomicFile` writes to a uniquely named temporary file beside the target
(mkstemp, so two runs never share one) and renames it into place on `commit`.
Any failure - a full disk, a signal (cli.main turns SIGTERM into an exception
like Ctrl-C), a bug - ends in `abort`, which removes the temporary file, so
an older file of that name is left exactly as it was.

A target that exists and is not a regular file (a FIFO, /dev/stdout) is
written directly: renaming over a device would replace it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import IO

from ..errors import OutputError
from .files import real


def _umask_mode() -> int:
    """0666 less the process umask, read without changing it (os.umask would, process-wide)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


class AtomicFile:
    """`with AtomicFile(path, "the CSV file") as f: f.write(...)`: committed only on success."""

    def __init__(self, path: str | os.PathLike, what: str, newline: str | None = None) -> None:
        self.path, self.what = Path(path), what
        self.target = real(self.path)  # through a symlink: the link stays, its target is written
        self.tmp: Path | None = None
        self.file: IO[str] | None = None
        mode = self._check_target()
        try:
            if mode is not None and not stat.S_ISREG(mode):
                self.file = open(self.target, "w", encoding="utf-8", newline=newline)
                return
            fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp",
                                        dir=self.target.parent)
            self.tmp = Path(name)
            self.file = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
            os.chmod(self.tmp, stat.S_IMODE(mode) if mode is not None else _umask_mode())
        except BaseException as exc:  # a signal here too: nobody would call abort()
            self.abort()
            if isinstance(exc, OSError):
                raise self.error(exc) from None
            raise

    def _check_target(self) -> int | None:
        """The existing target's mode, or None; OutputError for a directory."""
        try:
            mode = os.stat(self.target).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.error(exc) from None
        if stat.S_ISDIR(mode):
            raise OutputError(f"{self.path}: is a directory; give a file name for {self.what}")
        return mode

    def error(self, exc: OSError) -> OutputError:
        return OutputError(f"{self.path}: cannot write {self.what} ({exc.strerror or exc})")

    def write(self, text: str) -> None:
        try:
            self.file.write(text)  # type: ignore[union-attr]
        except OSError as exc:
            raise self.error(exc) from None

    def commit(self) -> None:
        try:
            self.file.close()  # type: ignore[union-attr]
            if self.tmp is not None:
                os.replace(self.tmp, self.target)
                self.tmp = None
        except OSError as exc:
            self.abort()
            raise self.error(exc) from None

    def abort(self) -> None:
        try:
            if self.file is not None:
                self.file.close()  # a full disk fails the final flush again; the fd closes anyway
        except OSError:
            pass
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
