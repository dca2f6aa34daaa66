"""The tray icon: a StatusNotifierItem with a com.canonical.dbusmenu menu, over D-Bus.

Why not pystray: its X backend (XEmbed, needs python-xlib and Pillow) has no
menu at all (`HAS_MENU = False` in pystray/_xorg.py), and its AppIndicator and
GTK backends need PyGObject, which a venv or pipx install rarely has. KDE
Plasma, GNOME (with the AppIndicator extension, as Ubuntu ships it), XFCE,
Cinnamon, MATE, LXQt, waybar and others show StatusNotifierItems; the item is
a few D-Bus properties and methods, served here with jeepney (adapters/dbus.py),
which the daemon already uses, so the tray costs no extra dependency.

    tray = TrayIcon(menu, on_click).start()      # a thread of its own
    tray.update("good", "posturewatch: good posture", "seated 12 min, break in 18 min",
                enabled={"resume": False})

The icon is drawn here (a coloured disc per state, see COLORS) and sent as
pixels, so no icon theme is needed. With no StatusNotifierWatcher on the bus
the icon waits for one (a panel that starts later) and registers then.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass

import numpy as np

from .dbus import Bus, BusError, Message, Service, variant

log = logging.getLogger(__name__)

ITEM_PATH, MENU_PATH = "/StatusNotifierItem", "/MenuBar"
ITEM_IFACE, MENU_IFACE = "org.kde.StatusNotifierItem", "com.canonical.dbusmenu"
WATCHER = Service("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
                  "org.kde.StatusNotifierWatcher")
PROPS = "org.freedesktop.DBus.Properties"
COLORS = {"good": (46, 160, 67), "poor": (232, 106, 0), "away": (140, 140, 140),
          "standing": (33, 110, 230), "paused": (70, 70, 70), "camera busy": (150, 50, 200),
          "watching": (120, 170, 200)}
SIZES = (16, 22, 32, 48)


@dataclass(frozen=True)
class MenuItem:
    id: int  # > 0; 0 is the menu itself
    label: str = ""
    key: str = ""  # what on_click hears; "" for a separator or a line of text
    separator: bool = False


def icon_pixels(state: str, size: int) -> bytes:
    """ARGB32 in network byte order, as StatusNotifierItem wants: a disc in the state's
    colour; paused shows two bars, camera busy a hollow centre."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    r = np.hypot(xx - size / 2, yy - size / 2)
    argb = np.zeros((size, size, 4), np.uint8)
    disc = r <= size / 2 - 0.5
    argb[disc] = (255, *COLORS.get(state, COLORS["watching"]))
    if state == "paused":
        bars = (abs(yy - size / 2) < size * 0.25) & (
            (abs(xx - size * 0.38) < size * 0.07) | (abs(xx - size * 0.62) < size * 0.07))
        argb[bars] = (255, 255, 255, 255)
    elif state == "camera busy":
        argb[r < size * 0.18] = (255, 255, 255, 255)
    return argb.tobytes()


def _pixmaps(state: str) -> list:
    return [(s, s, icon_pixels(state, s)) for s in SIZES]


class TrayIcon:
    """Serves the item and its menu from one thread; `update` may be called from any."""

    def __init__(self, menu: list[MenuItem], on_click, open_bus=Bus.open) -> None:
        self.menu, self.on_click, self.open_bus = list(menu), on_click, open_bus
        self.state, self.title, self.text = "watching", "posturewatch", ""
        self.labels: dict[int, str] = {}
        self.enabled: dict[str, bool] = {}
        self.revision = 1
        self.bus: Bus | None = None
        self.name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        self.registered = threading.Event()
        self.inbox: queue.Queue = queue.Queue(256)
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._clicked: list[str] = []

    def start(self) -> TrayIcon:
        self.bus = self.open_bus("session")  # BusError: no tray without a session bus
        self.bus.serve(self.inbox, "/")
        if not self.bus.request_name(self.name):
            raise BusError(f"cannot own {self.name}")
        self.bus.subscribe(self.inbox, interface="org.freedesktop.DBus", member="NameOwnerChanged",
                           path="/org/freedesktop/DBus")
        self._thread = threading.Thread(target=self._run, name="posturewatch-tray", daemon=True)
        self._thread.start()
        return self

    # --- what the daemon side calls -------------------------------------------------
    def update(self, state: str, title: str, text: str, labels: dict[int, str] | None = None,
               enabled: dict[str, bool] | None = None) -> None:
        with self._lock:
            self.state, self.title, self.text = state, title, text
            self.labels = dict(labels or {})
            self.enabled = dict(enabled or {})
        self._changed.set()

    # --- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        self._register()
        while not self._stop.is_set():
            try:
                msg = self.inbox.get(timeout=0.25)
            except queue.Empty:
                msg = None
            if msg is not None and msg.kind == "method_call":
                self._answer(msg)
            elif msg is not None and msg.member == "NameOwnerChanged":
                if msg.body and msg.body[0] == WATCHER.name and msg.body[2]:
                    self._register()  # a panel (re)started
            if self._changed.is_set():
                self._changed.clear()
                self._emit_changes()

    def _register(self) -> None:
        try:
            self.bus.call(WATCHER, "RegisterStatusNotifierItem", "s", (self.name,))
        except BusError as exc:
            log.info("tray: no tray to show the icon in yet (%s)", exc)
            return
        log.info("tray icon registered as %s", self.name)
        self.registered.set()

    def _emit_changes(self) -> None:
        for member in ("NewIcon", "NewToolTip", "NewTitle"):
            self.bus.emit(ITEM_PATH, ITEM_IFACE, member)
        self.revision += 1
        self.bus.emit(MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", (self.revision, 0))

    def _answer(self, msg: Message) -> None:
        try:
            handled = self._dispatch(msg)
        except Exception as exc:  # a bad request must not end the tray
            log.debug("tray: %s.%s failed: %s", msg.interface, msg.member, exc)
            self.bus.error(msg, "org.freedesktop.DBus.Error.Failed", str(exc))
            return
        if handled is None:
            self.bus.error(msg, "org.freedesktop.DBus.Error.UnknownMethod",
                           f"no {msg.interface}.{msg.member} at {msg.path}")
        else:
            self.bus.reply(msg, *handled)
        while self._clicked:  # after the reply: "quit" ends the daemon, and this bus with it
            self._run_click(self._clicked.pop(0))

    def _dispatch(self, msg: Message):
        if msg.interface == PROPS and msg.member in ("Get", "GetAll"):
            props = self._item_props() if msg.path == ITEM_PATH else self._menu_props()
            if msg.member == "GetAll":
                return "a{sv}", (props,)
            return "v", (props[msg.body[1]],)
        if msg.interface == "org.freedesktop.DBus.Introspectable":
            return "s", (INTROSPECTION,)
        if msg.interface == ITEM_IFACE and msg.member in ("Activate", "SecondaryActivate",
                                                          "ContextMenu", "Scroll"):
            return "", ()
        if msg.interface == MENU_IFACE:
            return self._menu_call(msg)
        return None

    # --- the item ------------------------------------------------------------------------
    def _item_props(self) -> dict:
        with self._lock:
            state, title, text = self.state, self.title, self.text
        return {
            "Category": variant("s", "ApplicationStatus"), "Id": variant("s", "posturewatch"),
            "Title": variant("s", title), "Status": variant("s", "Active"),
            "WindowId": variant("i", 0), "IconName": variant("s", ""),
            "IconPixmap": variant("a(iiay)", _pixmaps(state)),
            "OverlayIconName": variant("s", ""), "OverlayIconPixmap": variant("a(iiay)", []),
            "AttentionIconName": variant("s", ""), "AttentionIconPixmap": variant("a(iiay)", []),
            "AttentionMovieName": variant("s", ""), "IconThemePath": variant("s", ""),
            "ToolTip": variant("(sa(iiay)ss)", ("", [], title, text)),
            "ItemIsMenu": variant("b", True), "Menu": variant("o", MENU_PATH)}

    # --- the menu ---------------------------------------------------------------------------
    def _menu_props(self) -> dict:
        return {"Version": variant("u", 3), "TextDirection": variant("s", "ltr"),
                "Status": variant("s", "normal"), "IconThemePath": variant("as", [])}

    def _entry_props(self, item: MenuItem) -> dict:
        if item.separator:
            return {"type": variant("s", "separator")}
        with self._lock:
            label = self.labels.get(item.id, item.label)
            enabled = bool(item.key) and self.enabled.get(item.key, True)
        return {"label": variant("s", label), "enabled": variant("b", enabled),
                "visible": variant("b", True)}

    def _layout(self) -> tuple:
        children = [variant("(ia{sv}av)", (i.id, self._entry_props(i), [])) for i in self.menu]
        return (0, {"children-display": variant("s", "submenu")}, children)

    def _menu_call(self, msg: Message):
        member, body = msg.member, msg.body
        if member == "GetLayout":
            return "u(ia{sv}av)", (self.revision, self._layout())
        if member == "GetGroupProperties":
            wanted = set(body[0])
            found = [(i.id, self._entry_props(i)) for i in self.menu if i.id in wanted or not wanted]
            return "a(ia{sv})", (found,)
        if member == "GetProperty":
            item = next(i for i in self.menu if i.id == body[0])
            return "v", (self._entry_props(item)[body[1]],)
        if member == "Event":
            self._event(body[0], body[1])
            return "", ()
        if member == "EventGroup":
            for item_id, event_id, *_ in body[0]:
                self._event(item_id, event_id)
            return "ai", ([],)
        if member == "AboutToShow":
            return "b", (False,)
        if member == "AboutToShowGroup":
            return "aiai", ([], [])
        return None

    def _event(self, item_id: int, event_id: str) -> None:
        item = next((i for i in self.menu if i.id == item_id), None)
        if event_id != "clicked" or item is None or not item.key:
            return
        self._clicked.append(item.key)

    def _run_click(self, key: str) -> None:
        log.info("tray menu: %s", key)
        try:
            self.on_click(key)
        except Exception:  # the receiver's fault must not end the tray
            log.exception("tray: %s failed", key)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(0.5)
        if self.bus is not None:
            self.bus.close()


INTROSPECTION = """<node>
 <interface name="org.kde.StatusNotifierItem">
  <method name="ContextMenu"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Activate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="SecondaryActivate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Scroll"><arg name="delta" type="i" direction="in"/><arg name="orientation" type="s" direction="in"/></method>
  <signal name="NewIcon"/><signal name="NewToolTip"/><signal name="NewTitle"/>
  <property name="Category" type="s" access="read"/><property name="Id" type="s" access="read"/>
  <property name="Title" type="s" access="read"/><property name="Status" type="s" access="read"/>
  <property name="WindowId" type="i" access="read"/><property name="IconName" type="s" access="read"/>
  <property name="IconPixmap" type="a(iiay)" access="read"/>
  <property name="ToolTip" type="(sa(iiay)ss)" access="read"/>
  <property name="ItemIsMenu" type="b" access="read"/><property name="Menu" type="o" access="read"/>
 </interface>
</node>"""


__all__ = ["COLORS", "MenuItem", "TrayIcon", "icon_pixels"]
