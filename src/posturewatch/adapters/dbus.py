"""D-Bus for the desktop adapters: the one module that imports jeepney.

jeepney is a pure-Python D-Bus library (no compiled parts, no other
dependencies). Its threading router runs a receiver thread per connection:
calls from any thread wait for their own reply with a timeout, signals and
incoming method calls are sorted into queues. So nothing here ever blocks
the daemon's loop, and a hung bus or service costs a thread a timeout.

    bus = Bus.open("session")                  # BusError: no bus, or it does not answer
    bus.call(NOTIFICATIONS, "GetCapabilities")  # -> ("actions", "body", ...)
    bus.subscribe(q, interface="org.freedesktop.ScreenSaver", member="ActiveChanged")
    msg = q.get()                               # a Message (frozen)
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass, field
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType
from jeepney import new_error, new_method_call, new_method_return, new_signal
from jeepney.bus import get_bus
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import prep_socket
from jeepney.io.threading import DBusConnection, DBusRouter
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 2.0


class BusError(Exception):
    """No bus, a bus or service that does not answer in time, or an error reply."""


@dataclass(frozen=True)
class Service:
    """Where a method lives: bus name, object path, interface."""

    name: str
    path: str
    interface: str


@dataclass(frozen=True)
class Message:
    """An incoming signal or method call."""

    kind: str  # "signal" or "method_call"
    sender: str
    path: str
    interface: str
    member: str
    body: tuple
    raw: Any = field(default=None, repr=False, compare=False)  # to reply to a call


def variant(signature: str, value: Any) -> tuple[str, Any]:
    """A D-Bus variant ("v") as jeepney writes it."""
    return (signature, value)


def _message(raw) -> Message:
    fields = raw.header.fields
    kind = "signal" if raw.header.message_type is MessageType.signal else "method_call"
    return Message(kind, fields.get(HeaderFields.sender, ""), fields.get(HeaderFields.path, ""),
                   fields.get(HeaderFields.interface, ""), fields.get(HeaderFields.member, ""),
                   tuple(raw.body), raw)


class _Into:
    """What jeepney's filter puts messages into: converts them, drops them when full."""

    def __init__(self, target: queue.Queue) -> None:
        self.target = target

    def put_nowait(self, raw) -> None:
        try:
            self.target.put_nowait(_message(raw))
        except queue.Full:
            log.debug("D-Bus message dropped: its queue is full")


class _Router(DBusRouter):
    """jeepney's router, quiet when the bus goes away (a logout, a bus restart): the
    waiting callers get an error, and `Bus.alive` turns False; no traceback on stderr."""

    def _receiver(self) -> None:
        try:
            super()._receiver()
        except Exception as exc:
            log.debug("D-Bus connection ended: %s", exc)


class Bus:
    """One connection to the session or system bus, safe to use from several threads."""

    def __init__(self, router: DBusRouter, kind: str) -> None:
        self.router, self.kind = router, kind
        self._filters: list = []

    @classmethod
    def open(cls, kind: str = "session", timeout: float = CALL_TIMEOUT_S) -> Bus:
        """`kind`: "session" or "system" (DBUS_SESSION_BUS_ADDRESS / DBUS_SYSTEM_BUS_ADDRESS)."""
        try:
            sock = prep_socket(get_bus(kind.upper()), False, timeout=timeout)
        except Exception as exc:  # no address, no socket, auth refused or timed out
            raise BusError(f"no {kind} bus: {exc or type(exc).__name__}") from None
        conn = DBusConnection(sock)
        router = _Router(conn)
        bus = cls(router, kind)
        try:
            conn.unique_name = bus._send(new_method_call(message_bus, "Hello"), timeout)[0]
        except BusError:
            bus.close()
            raise
        return bus

    @property
    def unique_name(self) -> str:
        return self.router.unique_name

    def _send(self, msg, timeout: float) -> tuple:
        try:
            return tuple(unwrap_msg(self.router.send_and_get_reply(msg, timeout=timeout)))
        except DBusErrorResponse as exc:
            raise BusError(f"{exc.name}: {exc.data[0] if exc.data else ''}") from None
        except TimeoutError:
            raise BusError(f"no answer on the {self.kind} bus within {timeout:g} s") from None
        except Exception as exc:  # connection lost, router stopped
            raise BusError(f"{self.kind} bus: {exc or type(exc).__name__}") from None

    def call(self, service: Service, member: str, signature: str | None = None, body=(),
             timeout: float = CALL_TIMEOUT_S) -> tuple:
        address = DBusAddress(service.path, service.name, service.interface)
        return self._send(new_method_call(address, member, signature, tuple(body)), timeout)

    def get_property(self, service: Service, name: str, timeout: float = CALL_TIMEOUT_S):
        props = Service(service.name, service.path, "org.freedesktop.DBus.Properties")
        return self.call(props, "Get", "ss", (service.interface, name), timeout)[0][1]

    def name_has_owner(self, name: str, timeout: float = CALL_TIMEOUT_S) -> bool:
        return bool(self._send(new_method_call(message_bus, "NameHasOwner", "s", (name,)),
                               timeout)[0])

    def request_name(self, name: str, timeout: float = CALL_TIMEOUT_S) -> bool:
        """True when this connection now owns `name` (1: primary owner, 4: already ours)."""
        msg = new_method_call(message_bus, "RequestName", "su", (name, 4))  # DO_NOT_QUEUE
        return self._send(msg, timeout)[0] in (1, 4)

    def subscribe(self, into: queue.Queue, timeout: float = CALL_TIMEOUT_S, **rule: str) -> None:
        """Signals matching `rule` (interface=, member=, path=, path_namespace=, sender=)
        go to `into` as Message values."""
        match = MatchRule(type="signal", **rule)
        self._filters.append(self.router.filter(match, queue=_Into(into)))
        self._send(new_method_call(message_bus, "AddMatch", "s", (match.serialise(),)), timeout)

    def serve(self, into: queue.Queue, path: str) -> None:
        """Method calls to object paths under `path` go to `into`; answer with reply/error."""
        match = MatchRule(type="method_call", path_namespace=path)
        self._filters.append(self.router.filter(match, queue=_Into(into)))

    def reply(self, msg: Message, signature: str | None = None, body=()) -> None:
        self._quietly(new_method_return(msg.raw, signature, tuple(body)))

    def error(self, msg: Message, name: str, text: str) -> None:
        self._quietly(new_error(msg.raw, name, "s", (text,)))

    def emit(self, path: str, interface: str, member: str, signature: str | None = None,
             body=()) -> None:
        self._quietly(new_signal(DBusAddress(path, interface=interface), member, signature,
                                 tuple(body)))

    def _quietly(self, msg) -> None:
        try:
            self.router.send(msg)
        except Exception as exc:  # the bus went away: the caller's loop notices soon enough
            log.debug("D-Bus send failed: %s", exc)

    @property
    def alive(self) -> bool:
        return self.router._rcv_thread.is_alive()

    def close(self) -> None:
        for handle in self._filters:
            handle.close()
        self._filters.clear()
        try:
            self.router.close()
        finally:
            self.router.conn.close()


__all__ = ["Bus", "BusError", "Message", "Service", "variant"]
