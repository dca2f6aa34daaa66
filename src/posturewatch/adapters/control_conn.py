"""The control socket's connections: bounded, non-blocking, with idle timeouts.

A local client, buggy or hostile, must not stall or kill the daemon's loop:

- At most `max_clients` connections are open. When full, the client idle
  longest makes room for a newcomer once it has been idle `make_room_after_s`;
  until then newcomers wait in the kernel's listen backlog (SOMAXCONN), so a
  burst of `status` calls is queued, not refused.
- A client that sends nothing, or half a line, for `idle_timeout_s` is dropped.
- Sockets are non-blocking. Replies wait in a per-client buffer; while one is
  unsent no further request of that client is read, so a client that never
  reads holds one reply and is dropped at its idle timeout.
- Running out of file descriptors (EMFILE/ENFILE) on accept is logged and
  survived: an idle client is closed to make room, else a reserve descriptor
  is given up to accept the newcomer, answer it "busy" and close it; either
  way accepting pauses briefly instead of spinning.
- `wake()` (e.g. from a signal handler) makes a waiting `poll` return at once.

Repeated trouble is logged once per episode, so a client cannot flood the log.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)

OUT_OF_FDS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_WAKE = "wake"
_LISTENER = "listener"
EPISODE_QUIET_S = 30.0


def _error_line(text: str) -> bytes:
    return json.dumps({"ok": False, "error": text}).encode() + b"\n"


BUSY = _error_line("busy: too many clients, try again")
TOO_LONG = _error_line("request too long")


@dataclass(frozen=True)
class Limits:
    max_clients: int = 128
    idle_timeout_s: float = 5.0
    make_room_after_s: float = 0.5
    max_request_bytes: int = 64 * 1024
    max_unsent_bytes: int = 64 * 1024  # no new request is served while more waits
    accept_pause_s: float = 0.5

    def __post_init__(self) -> None:
        if self.max_clients < 1 or not self.idle_timeout_s > 0:
            raise ValueError(f"limits must be positive, got {self}")


@dataclass(eq=False)
class _Client:
    sock: socket.socket
    last_active: float
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)
    closing: bool = False  # close once the outbox is sent
    closed: bool = False


class _Episodes:
    """Logs a kind of trouble once per episode, and how often it happened once it is over.

    An episode is over after `EPISODE_QUIET_S` without that trouble.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.active: dict[str, list] = {}  # kind -> [count, last time]

    def note(self, kind: str, level: int, message: str, *args: object) -> None:
        entry = self.active.get(kind)
        if entry is None:
            log.log(level, message, *args)
            entry = self.active[kind] = [0, 0.0]
        entry[0] += 1
        entry[1] = self.clock()

    def settle(self) -> None:
        now = self.clock()
        for kind, (count, last) in list(self.active.items()):
            if now - last >= EPISODE_QUIET_S:
                del self.active[kind]
                log.info("control socket: %s: %d time(s), now over", kind, count)


class Connections:
    """Accepts, reads, answers and expires the clients of one listening socket."""

    def __init__(self, listener: socket.socket, respond: Callable[[bytes], bytes],
                 limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.listener, self.respond, self.limits, self.clock = listener, respond, limits, clock
        listener.setblocking(False)
        self.clients: list[_Client] = []
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        for end in (self._wake_r, self._wake_w):
            end.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        self._listening = False
        self._resume_at = 0.0  # accept again from then (after running out of fds)
        self._reserve = _reserve_fd()
        self.episodes = _Episodes(clock)
        self._listen(True)

    # --- the loop's entry points ------------------------------------------------
    def poll(self, timeout: float) -> int:
        """Serves what is pending, waiting at most `timeout` s; returns requests answered."""
        self._update_listening()
        served = 0
        # Not listening (full): look again soon, when an idle client may make room.
        wait = timeout if self._listening else min(timeout, self.limits.make_room_after_s)
        for _ in range(100):  # bounded, so a chatty client cannot starve the daemon
            events = self._selector.select(wait)
            if not events:
                break
            for key, mask in events:
                served += self._on_ready(key, mask)
            wait = 0.0
        self._expire()
        self._update_listening()
        self.episodes.settle()
        return served

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # already woken (buffer full) or closed: nothing to do
            pass

    def close(self) -> None:
        for client in list(self.clients):
            try:
                _send_some(client)  # a last reply (to `stop`) goes out if it can
            except OSError:
                pass
            self._drop(client)
        self._selector.close()
        for sock in (self.listener, self._wake_r, self._wake_w):
            sock.close()
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None

    # --- readiness ------------------------------------------------------------------
    def _on_ready(self, key: selectors.SelectorKey, mask: int) -> int:
        if key.data == _LISTENER:
            self._accept_some()
            return 0
        if key.data == _WAKE:
            _drain(self._wake_r)
            return 0
        client = key.data
        if client.closed:  # dropped earlier in this round
            return 0
        try:
            if mask & selectors.EVENT_WRITE:
                return self._flush(client)
            return self._read(client)
        except OSError as exc:
            log.debug("control client dropped: %s", exc)
            self._drop(client)
            return 0

    def _read(self, client: _Client) -> int:
        chunk = client.sock.recv(65536)
        if not chunk:  # the client is done sending; answer what it sent, then close
            client.closing = True
        client.inbox += chunk
        served = self._serve_lines(client)
        self._flush(client)
        return served

    def _serve_lines(self, client: _Client) -> int:
        served = 0
        while b"\n" in client.inbox and len(client.outbox) < self.limits.max_unsent_bytes:
            line, _, rest = client.inbox.partition(b"\n")
            client.inbox = rest
            client.outbox += self.respond(bytes(line))
            client.last_active = self.clock()
            served += 1
        if b"\n" not in client.inbox and len(client.inbox) > self.limits.max_request_bytes:
            client.inbox.clear()
            client.outbox += TOO_LONG
            client.closing = True
        return served

    def _flush(self, client: _Client) -> int:
        """Sends what it can; once all is sent, serves any request that was held back."""
        served = 0
        if _send_some(client):
            client.last_active = self.clock()
        if not client.outbox:
            served = self._serve_lines(client)
            if served:
                _send_some(client)
        if client.closed:
            return served
        if client.closing and not client.outbox:
            self._drop(client)
        else:
            events = selectors.EVENT_WRITE if client.outbox else selectors.EVENT_READ
            self._selector.modify(client.sock, events, client)
        return served

    # --- accepting ------------------------------------------------------------------
    def _accept_some(self) -> None:
        for _ in range(self.limits.max_clients):
            if len(self.clients) >= self.limits.max_clients and not self._make_room():
                self.episodes.note("full", logging.WARNING, "control socket: %d clients "
                                   "connected; new ones wait", len(self.clients))
                self._listen(False)  # until someone leaves or is idle long enough
                return
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._accept_failed(exc)
                return
            self._add(sock)

    def _add(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        client = _Client(sock, self.clock())
        self.clients.append(client)
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _accept_failed(self, exc: OSError) -> None:
        if exc.errno not in OUT_OF_FDS:
            log.warning("control socket: accept failed: %s", exc)
        else:
            self.episodes.note("out of file descriptors", logging.WARNING,
                               "control socket: cannot accept a client: %s (%d clients "
                               "connected); refusing new ones for now", exc.strerror,
                               len(self.clients))
            if self._make_room():
                return  # the next round accepts into the freed descriptor
            self._refuse_one()
        self._resume_at = self.clock() + self.limits.accept_pause_s
        self._listen(False)

    def _refuse_one(self) -> None:
        """Gives up the reserve descriptor to accept one waiting client and say "busy"."""
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None
        try:
            sock, _ = self.listener.accept()
        except OSError:
            pass
        else:
            with sock:
                sock.setblocking(False)
                try:
                    sock.send(BUSY)
                except OSError:
                    pass
        self._reserve = _reserve_fd()

    def _make_room(self) -> bool:
        """Closes the client idle longest if it has been idle long enough."""
        idle = [c for c in self.clients if not c.outbox]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.last_active)
        if self.clock() - oldest.last_active < self.limits.make_room_after_s:
            return False
        log.debug("control socket: closing an idle client to make room")
        try:
            oldest.sock.send(BUSY)
        except OSError:
            pass
        self._drop(oldest)
        return True

    def _update_listening(self) -> None:
        if self._listening or self.clock() < self._resume_at:
            return
        if len(self.clients) < self.limits.max_clients or self._room_soon():
            self._listen(True)

    def _room_soon(self) -> bool:
        oldest = min((c.last_active for c in self.clients if not c.outbox), default=None)
        return oldest is not None and (
            self.clock() - oldest >= self.limits.make_room_after_s)

    def _listen(self, on: bool) -> None:
        if on and not self._listening:
            self._selector.register(self.listener, selectors.EVENT_READ, _LISTENER)
        elif not on and self._listening:
            self._selector.unregister(self.listener)
        self._listening = on

    # --- leaving ----------------------------------------------------------------------
    def _expire(self) -> None:
        now = self.clock()
        for client in [c for c in self.clients if now - c.last_active > self.limits.idle_timeout_s]:
            self.episodes.note("idle clients dropped", logging.INFO, "control socket: "
                               "dropped a client idle for %g s", self.limits.idle_timeout_s)
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        if client.closed:
            return
        client.closed = True
        self.clients.remove(client)
        self._selector.unregister(client.sock)
        client.sock.close()


def _send_some(client: _Client) -> bool:
    """Sends what the socket takes now; True when something went out."""
    if not client.outbox or client.closed:
        return False
    try:
        sent = client.sock.send(client.outbox)
    except (BlockingIOError, InterruptedError):
        return False
    del client.outbox[:sent]
    return sent > 0


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def _reserve_fd() -> int | None:
    try:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
