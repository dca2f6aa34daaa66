"""A one-line progress bar on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`update(done_s)` redraws at most 5 times a second; `close()` clears the line."""

    def __init__(self, total_s: float, label: str, stream: TextIO | None = None,
                 clock=time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() and total_s > 0
        self.total_s, self.label, self.clock = total_s, label, clock
        self.started = self.last = clock()

    def update(self, done_s: float) -> None:
        now = self.clock()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        share = min(1.0, max(0.0, done_s / self.total_s))
        elapsed = now - self.started
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {share:4.0%}  {done_s:6.1f}/{self.total_s:.1f} s"
                          f"  eta {eta:4.0f} s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BatchProgress:
    """One line for a batch: files done of all, and how far the running ones are.

    `started(i)`, `progressed(i, done_s, total_s)`, `finished(i)`; `clear()`
    wipes the line so a message can be printed above the next redraw.
    """

    def __init__(self, total_files: int, stream: TextIO | None = None, clock=time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() and total_files > 0
        self.total, self.done, self.clock = total_files, 0, clock
        self.running: dict[int, float] = {}  # index -> share of it done
        self.started_at, self.last = clock(), float("-inf")

    def started(self, index: int) -> None:
        self.running[index] = 0.0
        self._draw()

    def progressed(self, index: int, done_s: float, total_s: float) -> None:
        self.running[index] = min(1.0, done_s / total_s) if total_s > 0 else 0.0
        self._draw()

    def finished(self, index: int) -> None:
        self.running.pop(index, None)
        self.done += 1
        self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if not self.enabled or (not force and now - self.last < 0.2):
            return
        self.last = now
        share = (self.done + sum(self.running.values())) / self.total
        elapsed = now - self.started_at
        eta = f"eta {elapsed * (1 - share) / share:4.0f} s" if share > 0 else ""
        frames = " ".join(f"{v:3.0%}" for v in self.running.values())
        self.stream.write(f"\rbatch [{'#' * int(share * 30):<30}] {self.done}/{self.total} files"
                          f"{'  running ' + frames if frames else ''}  {eta} \033[K")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.last = float("-inf")

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.clear()
