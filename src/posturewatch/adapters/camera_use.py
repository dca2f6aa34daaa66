"""Camera courtesy: notice when another process opens our camera, and when it lets go.

A V4L2 camera streams to one process at a time, so while posturewatch holds it
a video call cannot start. The kernel says when anyone opens the device node
(inotify IN_OPEN, no cost while nothing happens); then /proc/*/fd says who has
it open. `on_busy(True)` once another process has held it for `settle_s` (a
quick probe, as browsers and PipeWire do when they list cameras, does not
count), `on_busy(False)` once nobody else has it open any more: on each close,
and every `recheck_s` while busy, as a safety net.

Only processes of the same user can be seen (other users' /proc/PID/fd are
closed to us), which is where a video call runs. Linux only; elsewhere the
watcher says so once and stays off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import select
import struct
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

IN_OPEN, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE = 0x20, 0x08, 0x10
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (+ name)


def device_for(source: str, configured: str = "") -> Path | None:
    """The device node a --source reads: "0" -> /dev/video0; a file or URL: None."""
    if configured:
        return Path(configured)
    if source.isdigit():
        return Path(f"/dev/video{int(source)}")
    if source.startswith("/dev/"):
        return Path(source)
    return None


def holders(device: Path, exclude: int | None = None, proc: Path = Path("/proc")) -> list[int]:
    """Pids of the processes (we can see) that have `device` open, but `exclude`."""
    target = os.path.realpath(device)
    found = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            fds = os.scandir(f"{entry.path}/fd")
        except OSError:  # gone, or another user's
            continue
        with fds:
            if any(_points_to(fd.path, target) for fd in fds):
                found.append(int(entry.name))
    return found


def _points_to(link: str, target: str) -> bool:
    try:
        return os.readlink(link) == target
    except OSError:
        return False


class Inotify:
    """IN_OPEN / IN_CLOSE on one path, through libc (no dependency)."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._add = libc.inotify_add_watch
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.watching = False

    def watch(self, path: Path) -> bool:
        mask = IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE
        self.watching = self._add(self.fd, os.fsencode(path), mask) >= 0
        return self.watching

    def wait(self, timeout: float, wake: int | None = None) -> list[int]:
        """The masks of the events within `timeout` s (empty when none came, or `wake`
        became readable)."""
        ready, _, _ = select.select([self.fd] + ([wake] if wake is not None else []), [], [],
                                    timeout)
        if self.fd not in ready:
            return []
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return []
        masks, offset = [], 0
        while offset + EVENT.size <= len(data):
            _, mask, _, size = EVENT.unpack_from(data, offset)
            masks.append(mask)
            offset += EVENT.size + size
        return masks

    def close(self) -> None:
        os.close(self.fd)


class CameraWatcher:
    """Calls `on_busy(bool)` from a thread of its own as other processes take and free `device`."""

    def __init__(self, device: Path, on_busy: Callable[[bool], None], settle_s: float = 0.5,
                 recheck_s: float = 5.0, pid: int | None = None) -> None:
        self.device, self.on_busy = Path(device), on_busy
        self.settle_s, self.recheck_s = settle_s, recheck_s
        self.pid = os.getpid() if pid is None else pid
        self.busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.inotify = Inotify()
        self._wake_r, self._wake_w = os.pipe()

    def start(self) -> CameraWatcher:
        self._thread = threading.Thread(target=self._run, name="posturewatch-camera", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        self._check()  # someone may have it already
        while not self._stop.is_set():
            if not self.inotify.watching and not self.inotify.watch(self.device):
                self._stop.wait(self.recheck_s)  # no such device yet: plugged in later?
                continue
            events = self.inotify.wait(self.recheck_s if self.busy else 60.0, self._wake_r)
            if events or self.busy:
                self._check()

    def _check(self) -> None:
        if self._stop.wait(self.settle_s):
            return
        try:
            others = holders(self.device, exclude=self.pid)
        except OSError as exc:
            log.debug("camera courtesy: cannot look at /proc: %s", exc)
            return
        if bool(others) != self.busy:
            self.busy = bool(others)
            log.info("camera %s %s", self.device,
                     f"in use by pid {', '.join(map(str, others))}" if others else "free again")
            try:
                self.on_busy(self.busy)
            except Exception:  # the receiver's fault must not end the watcher
                log.exception("camera courtesy: handling failed")

    def close(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(0.5)
        if self._thread is None or not self._thread.is_alive():
            for fd in (self.inotify.fd, self._wake_r, self._wake_w):
                os.close(fd)


__all__ = ["CameraWatcher", "Inotify", "device_for", "holders"]
