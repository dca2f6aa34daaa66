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
