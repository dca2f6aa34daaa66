"""One daemon per user, and a local socket to talk to it.

`InstanceLock` is an flock on a pidfile: the kernel drops the lock when its
holder dies, so a crashed daemon never blocks the next start, and the pid in
the file is only there to name the running one in the error message.

`ControlServer` speaks newline-delimited JSON on a Unix socket:

    -> {"cmd": "snooze", "args": {"minutes": 15}}
    <- {"ok": true, "result": {...}}    or    {"ok": false, "error": "..."}

It has no thread: the daemon's loop calls `poll(timeout)`, which serves what
is pending and returns. The handler therefore runs on the daemon's own thread
and can touch the monitor's state without locks. Sockets and lock live in a
private (0700) directory; the files themselves are 0600. How connections are
bounded, timed out and kept from blocking the loop: control_conn.py.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..errors import DaemonError, PostureWatchError
from . import strict_json
from .control_conn import Connections, Limits
from .paths import user_dirs

try:
    import fcntl
except ImportError:  # Windows: neither flock nor Unix sockets
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

COMMANDS = frozenset({"status", "pause", "resume", "snooze", "break", "stop"})
NOT_RUNNING = "posturewatch is not running (start it with `posturewatch start`)"

Handler = Callable[[str, dict], dict]


@dataclass(frozen=True)
class RuntimePaths:
    lock: Path
    socket: Path
    start_lock: Path  # held by `posturewatch start` while it starts the daemon


def runtime_paths(env: Mapping[str, str] | None = None) -> RuntimePaths:
    """Where the daemon's lock and control socket live for this user."""
    runtime = user_dirs(env).runtime
    return RuntimePaths(runtime / "posturewatch.lock", runtime / "control.sock",
                        runtime / "start.lock")


def private_dir(path: Path) -> Path:
    """Creates `path` as a 0700 directory, or makes an existing one of ours 0700."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
        # A shared directory such as /tmp must not be chmod-ed: refuse instead.
        if info.st_uid != os.getuid() or info.st_mode & stat.S_ISVTX:
            raise DaemonError(f"{path}: not a private directory of this user; "
                              "set XDG_RUNTIME_DIR or POSTUREWATCH_HOME")
        if stat.S_IMODE(info.st_mode) != 0o700:
            path.chmod(0o700)
        _check_parent(path.parent)
    except OSError as exc:
        raise DaemonError(f"cannot use {path} for the control socket: {exc.strerror}") from exc
    return path


def _check_parent(parent: Path) -> None:
    """Whoever may rename entries in the parent could swap our folder for theirs: only this
    user or root may own it, and others may write to it only with the sticky bit (/tmp).
    Checked after our folder exists, so a parent made by someone else meanwhile is caught."""
    info = parent.stat()
    shared = info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX
    if info.st_uid not in (os.getuid(), 0) or shared:
        raise DaemonError(f"{parent}: others could replace the control socket's folder there; "
                          "set XDG_RUNTIME_DIR or POSTUREWATCH_HOME")


def _require_unix() -> None:
    if fcntl is None or not hasattr(socket, "AF_UNIX"):
        raise DaemonError("the background monitor needs Linux, macOS or another Unix for now")


class InstanceLock:
    """Held while this process is the daemon; `DaemonError` if another one is."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        _require_unix()
        private_dir(self.path.parent)
        fd = self._lock_file()
        # The lock was free: any pid left in the file is from a crashed daemon.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fchmod(fd, 0o600)
        self._fd = fd
        return self

    def _lock_file(self) -> int:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                raise DaemonError(
                    f"posturewatch is already running (pid {pid or 'unknown'})") from None
            # A daemon exiting right now unlinks the file we opened: lock the new one.
            if _inode(self.path) == os.fstat(fd).st_ino:
                return fd
            os.close(fd)
        raise DaemonError(f"cannot take the lock {self.path}: it keeps being replaced")

    def close(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock, so no one can lock a file we then delete.
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def held(path: Path, timeout_s: float) -> Iterator[None]:
    """An exclusive flock on `path` for a short job; waits up to `timeout_s` for its holder.

    Two `posturewatch start` at once: the second waits for the first to finish
    starting, then finds the daemon running. The descriptor is close-on-exec,
    so the daemon that `start` spawns does not keep holding it.
    """
    _require_unix()
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DaemonError(f"another `posturewatch start` is still busy "
                                      f"(it holds {path})") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


class ControlServer:
    """Serves control requests whenever the daemon calls `poll` (see control_conn.py)."""

    def __init__(self, socket_path: Path, handler: Handler, limits: Limits | None = None) -> None:
        self.path = Path(socket_path)
        self.handler = handler
        self.limits = limits or Limits()
        self._conns: Connections | None = None
        self._inode: int | None = None

    def open(self) -> ControlServer:
        _require_unix()
        private_dir(self.path.parent)
        _remove_stale_socket(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.path))
            # chmod after bind (not umask, which is process-wide); the 0700
            # directory already keeps others out in between.
            os.chmod(self.path, 0o600)
            # The kernel caps the backlog (net.core.somaxconn); a burst of
            # `status` calls waits there instead of being refused.
            listener.listen(socket.SOMAXCONN)
        except OSError as exc:
            listener.close()
            raise DaemonError(f"cannot open the control socket {self.path}: {exc}") from exc
        self._inode = self.path.stat().st_ino
        self._conns = Connections(listener, self._respond, self.limits)
        return self

    def poll(self, timeout: float = 0.0) -> int:
        """Serves pending connections and requests; waits at most `timeout` s for the first.

        Returns how many requests were answered. Never raises for a bad client.
        """
        return self._conns.poll(timeout)

    @property
    def client_count(self) -> int:
        return len(self._conns.clients) if self._conns is not None else 0

    def wake(self) -> None:
        """Makes a `poll` that is waiting return now (safe in a signal handler)."""
        if self._conns is not None:
            self._conns.wake()

    def close(self) -> None:
        if self._conns is None:
            return
        self._conns.close()
        if _inode(self.path) == self._inode:
            self.path.unlink()  # only our own socket, never a successor's
        self._conns = None

    def __enter__(self) -> ControlServer:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _respond(self, line: bytes) -> bytes:
        try:
            cmd, args = parse_request(line)
            result = self.handler(cmd, args)
            if not isinstance(result, dict):
                raise TypeError(f"handler returned {type(result).__name__}, expected dict")
            return _encode({"ok": True, "result": result})
        except PostureWatchError as exc:  # a request the daemon refuses, with a reason
            return _encode({"ok": False, "error": str(exc)})
        except Exception as exc:  # a daemon bug must not kill the control socket
            log.exception("control command failed")
            return _encode({"ok": False, "error": f"internal error: {exc}"})


class BadRequest(PostureWatchError):
    """A control request that is not valid JSON or not a known command."""


def parse_request(line: bytes) -> tuple[str, dict]:
    try:
        request = strict_json.loads(line)  # no NaN, no overflowing numbers, no RecursionError
    except ValueError as exc:
        raise BadRequest(f"request is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequest("request must be a JSON object with \"cmd\" and \"args\"")
    cmd, args = request.get("cmd"), request.get("args", {})
    if not isinstance(cmd, str) or cmd not in COMMANDS:  # a list is not even hashable
        raise BadRequest(f"unknown command {strict_json.show(cmd)}; "
                         f"expected one of {', '.join(sorted(COMMANDS))}")
    if not isinstance(args, dict):
        raise BadRequest(f"\"args\" must be a JSON object, got {type(args).__name__}")
    return cmd, args


def _encode(message: dict) -> bytes:
    # default=str: a handler's Path or datetime should not turn into an error.
    return json.dumps(message, default=str).encode() + b"\n"


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _remove_stale_socket(path: Path) -> None:
    """Removes a socket file left by a crashed daemon; refuses a live one."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise DaemonError(f"{path} exists and is not a socket; remove it if it is not needed")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError as exc:
            if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                raise DaemonError(f"cannot check the control socket {path}: {exc}") from exc
            log.info("removing stale control socket %s", path)
            path.unlink(missing_ok=True)
            return
    raise DaemonError(f"posturewatch is already running (its control socket {path} answers)")


def send_command(socket_path: Path, cmd: str, args: dict | None = None,
                 timeout: float = 2.0) -> dict:
    """Sends one command to the running daemon and returns its `result`.

    `DaemonError` when no daemon runs, it does not answer in time, or it
    refuses the command (the message is the daemon's reason).
    """
    _require_unix()
    request = _encode({"cmd": cmd, "args": args or {}})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonError(NOT_RUNNING) from None
        except OSError as exc:
            raise DaemonError(f"cannot reach posturewatch at {socket_path}: {exc}") from exc
        reply = _exchange(sock, request, timeout)
    return _result(reply)


def _exchange(sock: socket.socket, request: bytes, timeout: float) -> bytes:
    try:
        sock.sendall(request)
        reply = bytearray()
        while not reply.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise DaemonError("posturewatch closed the connection without answering")
            reply += chunk
    except TimeoutError:
        raise DaemonError(f"posturewatch did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise DaemonError(f"lost the connection to posturewatch: {exc}") from exc
    return bytes(reply)


def _result(reply: bytes) -> dict:
    try:
        message = json.loads(reply)
        if not message["ok"]:
            raise DaemonError(f"posturewatch refused: {message['error']}")
        result = message["result"]
    except (ValueError, KeyError, TypeError):
        raise DaemonError("posturewatch sent a malformed answer") from None
    return result if isinstance(result, dict) else {}
