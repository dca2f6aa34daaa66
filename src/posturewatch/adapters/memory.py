"""Give back resident memory the daemon no longer uses (Linux; elsewhere a no-op).

A process's RSS counts every page of its libraries it has ever touched. Most of
what the daemon touched loading MediaPipe, OpenCV and Python is start-up code
(graph construction, model parsing, imports) that it never runs again, yet it
stays resident in the process until the kernel is short of memory. After start
up, `drop_clean_file_pages` unmaps the *clean* file pages of read-only mappings
(code and read-only data): they stay in the page cache, shared and reclaimable,
and a page the daemon does use again faults straight back in (a minor fault).

Only pages that are an exact copy of their file qualify: a mapping with any
private (copy-on-write, relocated) or swapped page, a writable mapping, and
anything that is not a plain file are left alone, so no state is ever lost.
Measured in benchmarks/README.md (daemon_bench.py).
"""

from __future__ import annotations

import ctypes
import logging
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

MADV_DONTNEED = 4
SMAPS = "/proc/self/smaps"


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    perms: str  # e.g. "r-xp"
    path: str
    rss_kb: int = 0
    anonymous_kb: int = 0  # private copies (copy-on-write, relocations): never dropped
    swap_kb: int = 0

    @property
    def droppable(self) -> bool:
        """Resident, read-only, private, a plain file, every page still equal to the file."""
        return (self.rss_kb > 0 and self.anonymous_kb == 0 and self.swap_kb == 0
                and "w" not in self.perms and self.perms.endswith("p")
                and self.path.startswith("/") and not self.path.startswith(("/dev/", "/memfd:"))
                and not self.path.endswith("(deleted)"))


def parse_smaps(text: str) -> list[Mapping]:
    """The mappings of a /proc/PID/smaps text, with the sizes that decide what is dropped."""
    found: list[dict] = []
    sizes = {"Rss:": "rss_kb", "Anonymous:": "anonymous_kb", "Swap:": "swap_kb"}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] in sizes and found:
            found[-1][sizes[parts[0]]] = int(parts[1])
        elif "-" in parts[0] and not parts[0].endswith(":"):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = line.split(None, 5)[5].strip() if len(parts) > 5 else ""
            found.append({"start": start, "end": end, "perms": parts[1], "path": path})
    return [Mapping(**m) for m in found]


def drop_clean_file_pages(smaps_path: str = SMAPS) -> int:
    """Unmaps the clean file pages of read-only mappings; returns the kB dropped (0 when
    the system offers no way to: not Linux, no smaps, no madvise)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        with open(smaps_path) as smaps:
            mappings = parse_smaps(smaps.read())
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own libc (find_library runs gcc)
    except OSError as exc:
        log.debug("cannot read the process's mappings: %s", exc)
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    dropped = 0
    for m in mappings:
        if m.droppable and libc.madvise(m.start, m.end - m.start, MADV_DONTNEED) == 0:
            dropped += m.rss_kb
    log.debug("gave back %d kB of start-up pages", dropped)
    return dropped


__all__ = ["Mapping", "drop_clean_file_pages", "parse_smaps"]
