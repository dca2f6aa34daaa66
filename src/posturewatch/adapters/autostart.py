"""Start the monitor at login: `posturewatch autostart enable|disable|status`.

Linux: a systemd user unit when the desktop runs its session under systemd
(graphical-session.target is active: GNOME, KDE Plasma), otherwise an XDG
autostart entry, which every other desktop (Cinnamon, MATE, XFCE, LXQt ...)
honours. The unit is wanted by graphical-session.target, not default.target,
so logging in over SSH does not switch the camera on.

macOS: a LaunchAgent plist (written, not tested on a Mac). Windows: not yet.

We never turn autostart back on by ourselves: a unit the user masked, or an
entry the desktop's settings marked Hidden / X-GNOME-Autostart-enabled=false,
is reported as "disabled by the user"; `enable` refuses a masked unit.
"""

from __future__ import annotations

import configparser
import contextlib
import logging
import os
import plistlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import DaemonError, OutputError

log = logging.getLogger(__name__)

UNIT = "posturewatch.service"
TARGET = "graphical-session.target"
DESKTOP_FILE = "posturewatch.desktop"
LAUNCHD_LABEL = "io.github.posturewatch"
MECHANISMS = ("systemd", "xdg", "launchd")

Systemctl = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class AutostartStatus:
    mechanism: str  # "systemd", "xdg", "launchd", or "none"
    enabled: bool
    path: Path | None  # the unit, entry or plist file
    detail: str  # one line for people

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.mechanism}: {self.detail}{where}"


def run_systemctl(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """`systemctl --user ARGS`; a missing systemctl is just a failed call."""
    argv = ["systemctl", "--user", *args]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


def default_command() -> list[str]:
    return [sys.executable, "-m", "posturewatch", "run"]


class Autostart:
    """Autostart files under `home` (and `config_home`, XDG_CONFIG_HOME).

    `systemctl=None` never uses systemd (tests, sandboxes); `platform` is
    sys.platform, injectable so tests can write the macOS plist on Linux.
    """

    def __init__(self, home: Path, config_home: Path | None = None,
                 command: Sequence[str] | None = None,
                 systemctl: Systemctl | None = run_systemctl,
                 platform: str = sys.platform) -> None:
        self.home = Path(home)
        self.config_home = Path(config_home) if config_home else self.home / ".config"
        self.command = list(command or default_command())
        self.systemctl = systemctl
        self.platform = platform

    @property
    def unit_path(self) -> Path:
        return self.config_home / "systemd" / "user" / UNIT

    @property
    def wants_link(self) -> Path:
        return self.config_home / "systemd" / "user" / f"{TARGET}.wants" / UNIT

    @property
    def desktop_path(self) -> Path:
        return self.config_home / "autostart" / DESKTOP_FILE

    @property
    def plist_path(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"

    def preferred(self) -> str:
        """The mechanism `enable` uses when not told: launchd, systemd or xdg."""
        if self.platform == "darwin":
            return "launchd"
        if self.platform.startswith("win"):
            raise DaemonError("autostart is not supported on Windows yet; "
                              "add posturewatch to your Startup folder by hand")
        return "systemd" if self._graphical_systemd() else "xdg"

    def enable(self, mechanism: str | None = None) -> AutostartStatus:
        chosen = mechanism or self.preferred()
        if chosen not in MECHANISMS:
            raise ValueError(f"mechanism must be one of {', '.join(MECHANISMS)}, got {chosen!r}")
        if chosen == "systemd" and self._masked():
            raise DaemonError(f"{UNIT} is masked, so autostart was turned off on purpose; "
                              f"run `systemctl --user unmask {UNIT}` first to allow it")
        self.disable()  # one mechanism at a time, or the monitor starts twice
        {"systemd": self._enable_systemd, "xdg": self._enable_xdg,
         "launchd": self._enable_launchd}[chosen]()
        return self.status()

    def disable(self) -> AutostartStatus:
        if self.unit_path.is_file() and not self._masked():
            self._disable_systemd()
        for path in (self.desktop_path, self.plist_path):
            _remove(path)
        return self.status()

    def status(self) -> AutostartStatus:
        if self.unit_path.exists() or self.unit_path.is_symlink():
            return self._systemd_status()
        if self.desktop_path.exists():
            return xdg_status(self.desktop_path)
        if self.plist_path.exists():
            return launchd_status(self.plist_path)
        return AutostartStatus("none", False, None, "not set up")

    # systemd

    def _graphical_systemd(self) -> bool:
        if self.systemctl is None:
            return False
        return self.systemctl(["is-active", "--quiet", TARGET]).returncode == 0

    def _masked(self) -> bool:
        path = self.unit_path
        return path.is_symlink() and os.path.realpath(path) == os.devnull

    def _enable_systemd(self) -> None:
        if self.systemctl is None:
            raise DaemonError("systemd is not available here; use the XDG autostart entry")
        _write(self.unit_path, systemd_unit(self.command))
        try:
            self._systemctl_checked("daemon-reload")
            self._systemctl_checked("enable", UNIT)
        except DaemonError:
            _remove(self.unit_path)  # leave nothing half set up
            raise

    def _disable_systemd(self) -> None:
        if self.systemctl is not None:
            self.systemctl(["disable", UNIT])  # best effort: we remove its link below anyway
        _remove(self.wants_link)
        _remove(self.unit_path)
        if self.systemctl is not None:
            self.systemctl(["daemon-reload"])

    def _systemctl_checked(self, *args: str) -> None:
        done = self.systemctl(list(args))
        if done.returncode != 0:
            raise DaemonError(f"systemctl --user {' '.join(args)} failed: "
                              f"{(done.stderr or done.stdout).strip() or done.returncode}")

    def _systemd_status(self) -> AutostartStatus:
        if self._masked():
            return AutostartStatus("systemd", False, self.unit_path,
                                   f"disabled by the user (masked; `systemctl --user unmask {UNIT}`)")
        if self.wants_link.exists():
            return AutostartStatus("systemd", True, self.unit_path, f"enabled, starts with {TARGET}")
        return AutostartStatus("systemd", False, self.unit_path, "installed but disabled")

    # XDG and launchd

    def _enable_xdg(self) -> None:
        _write(self.desktop_path, desktop_entry(self.command))

    def _enable_launchd(self) -> None:
        _write(self.plist_path, launch_agent(self.command).decode())


def xdg_status(path: Path) -> AutostartStatus:
    entry = _read_desktop_entry(path)
    if entry.get("Hidden", "").lower() == "true":
        return AutostartStatus("xdg", False, path, "disabled by the user (Hidden=true)")
    if entry.get("X-GNOME-Autostart-enabled", "").lower() == "false":
        return AutostartStatus("xdg", False, path,
                               "disabled by the user (X-GNOME-Autostart-enabled=false)")
    return AutostartStatus("xdg", True, path, "enabled, starts when you log in to the desktop")


def launchd_status(path: Path) -> AutostartStatus:
    try:
        agent = plistlib.loads(path.read_bytes())
    except (OSError, plistlib.InvalidFileException, ValueError) as exc:
        return AutostartStatus("launchd", False, path, f"unreadable: {exc}")
    if agent.get("Disabled"):
        return AutostartStatus("launchd", False, path, "disabled by the user (Disabled=true)")
    return AutostartStatus("launchd", True, path, "enabled, starts when you log in")


def _read_desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return {}
    return dict(parser["Desktop Entry"]) if parser.has_section("Desktop Entry") else {}


# File contents


def systemd_unit(command: Sequence[str]) -> str:
    return f"""[Unit]
Description=posturewatch: posture and break reminders from your webcam
PartOf={TARGET}
After={TARGET}

[Service]
Type=simple
ExecStart={systemd_exec(command)}
Restart=on-failure
RestartSec=10

[Install]
WantedBy={TARGET}
"""


def desktop_entry(command: Sequence[str]) -> str:
    return f"""[Desktop Entry]
Type=Application
Name=posturewatch
Comment=Posture and break reminders from your webcam
Exec={desktop_exec(command)}
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""


def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps({
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restart after a crash, like Restart=on-failure
        "ProcessType": "Interactive",
    })


def systemd_exec(argv: Sequence[str]) -> str:
    """A command line for ExecStart=: quoted words, literal % and $."""
    words = []
    for arg in argv:
        if not arg or any(c in arg for c in " \t\n\"'\\"):
            arg = '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        words.append(arg.replace("%", "%%").replace("$", "$$"))
    return " ".join(words)


_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec(argv: Sequence[str]) -> str:
    """A command line for Exec= per the Desktop Entry spec (quoting, then string escapes)."""
    words = []
    for arg in argv:
        if not arg or _DESKTOP_RESERVED & set(arg):
            arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
        words.append(arg.replace("%", "%%"))
    # Exec is also a string value, whose own escaping doubles every backslash.
    return " ".join(words).replace("\\", "\\\\")


def _write(path: Path, text: str) -> None:
    """Writes atomically, so a crash never leaves half a unit file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    log.info("wrote %s", path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
        log.info("removed %s", path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # nothing to remove
    except OSError as exc:
        raise OutputError(f"cannot remove {path}: {exc.strerror or exc}") from exc


def autostart_from_env(env: Mapping[str, str] | None = None) -> Autostart:
    """The user's autostart, or a sandbox under POSTUREWATCH_HOME (no systemctl).

    POSTUREWATCH_HOME keeps every file of a test or portable install in one
    folder; autostart follows it rather than touch the real login setup.
    """
    env = os.environ if env is None else env
    sandbox = env.get("POSTUREWATCH_HOME")
    if sandbox:
        return Autostart(Path(sandbox) / "home", systemctl=None)
    home = Path(env.get("HOME") or Path.home())
    config_home = env.get("XDG_CONFIG_HOME") or None
    return Autostart(home, Path(config_home) if config_home else None)
