"""Autostart files in a temporary home; systemctl is a fake that behaves like the real one."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys

import pytest

from posturewatch.adapters.autostart import (
    TARGET,
    UNIT,
    Autostart,
    autostart_from_env,
    desktop_exec,
    run_systemctl,
    systemd_exec,
    systemd_unit,
)
from posturewatch.errors import DaemonError, OutputError

COMMAND = ["/opt/pw/bin/python", "-m", "posturewatch", "run"]
UNIT_TEXT = """[Unit]
Description=posturewatch: posture and break reminders from your webcam
PartOf=graphical-session.target
After=graphical-session.target

[Service]
Type=simple
ExecStart=/opt/pw/bin/python -m posturewatch run
Restart=on-failure
RestartSec=10

[Install]
WantedBy=graphical-session.target
"""


class FakeSystemctl:
    """`systemctl --user` for a session whose graphical target is (not) active."""

    def __init__(self, autostart_home, graphical=True, fail=()):
        self.graphical, self.fail, self.calls = graphical, set(fail), []
        self.wants = autostart_home / ".config" / "systemd" / "user" / f"{TARGET}.wants" / UNIT

    def __call__(self, args):
        args = list(args)
        self.calls.append(args)
        code = 1 if args[0] in self.fail else 0
        if args[0] == "is-active":
            code = 0 if self.graphical else 3
        elif args[0] == "enable" and not code:
            self.wants.parent.mkdir(parents=True, exist_ok=True)
            self.wants.symlink_to(self.wants.parents[1] / UNIT)
        elif args[0] == "disable":
            self.wants.unlink(missing_ok=True)
        return subprocess.CompletedProcess(["systemctl", "--user", *args], code, "",
                                           "Failed to enable unit" if code else "")


def read_entry(autostart):
    return autostart.desktop_path.read_text()


def test_xdg_entry_without_systemd(tmp_path):
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=None)
    status = autostart.enable()
    assert (status.mechanism, status.enabled) == ("xdg", True)
    assert status.path == tmp_path / ".config" / "autostart" / "posturewatch.desktop"
    entry = read_entry(autostart)
    assert "Exec=/opt/pw/bin/python -m posturewatch run\n" in entry
    assert "Type=Application\n" in entry and "X-GNOME-Autostart-enabled=true\n" in entry
    assert autostart.status() == status
    off = autostart.disable()
    assert (off.mechanism, off.enabled) == ("none", False)
    assert not autostart.desktop_path.exists()


def test_default_command_is_this_python(tmp_path):
    Autostart(tmp_path, systemctl=None).enable()
    assert f"Exec={sys.executable} -m posturewatch run\n" in read_entry(Autostart(tmp_path))


def test_xdg_when_systemd_has_no_graphical_session(tmp_path):
    fake = FakeSystemctl(tmp_path, graphical=False)
    assert Autostart(tmp_path, command=COMMAND, systemctl=fake).enable().mechanism == "xdg"
    assert fake.calls == [["is-active", "--quiet", TARGET]]


def test_this_machine_without_user_systemd_uses_xdg(tmp_path):
    if run_systemctl(["is-active", "--quiet", TARGET]).returncode == 0:
        pytest.skip("this machine runs a systemd graphical session")
    assert Autostart(tmp_path, command=COMMAND).preferred() == "xdg"


@pytest.mark.parametrize("line, detail", [
    ("Hidden=true", "disabled by the user (Hidden=true)"),
    ("X-GNOME-Autostart-enabled=false", "disabled by the user (X-GNOME-Autostart-enabled=false)"),
])
def test_xdg_entry_turned_off_by_the_user(tmp_path, line, detail):
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=None)
    autostart.enable()
    text = read_entry(autostart).replace("X-GNOME-Autostart-enabled=true\n", "")
    autostart.desktop_path.write_text(text + line + "\n")
    status = autostart.status()
    assert (status.mechanism, status.enabled, status.detail) == ("xdg", False, detail)
    assert autostart.enable().enabled  # asking again explicitly turns it back on


def test_config_home_is_respected(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    autostart = autostart_from_env(env)
    assert autostart.desktop_path == tmp_path / "cfg" / "autostart" / "posturewatch.desktop"
    assert autostart.unit_path == tmp_path / "cfg" / "systemd" / "user" / UNIT


def test_posturewatch_home_sandboxes_autostart(tmp_path):
    autostart = autostart_from_env({"POSTUREWATCH_HOME": str(tmp_path), "HOME": "/nonexistent"})
    assert autostart.systemctl is None
    assert autostart.enable().path.is_relative_to(tmp_path)


def test_systemd_unit_content():
    assert systemd_unit(COMMAND) == UNIT_TEXT


def test_systemd_enable_and_disable(tmp_path):
    fake = FakeSystemctl(tmp_path)
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=fake)
    status = autostart.enable()
    assert (status.mechanism, status.enabled, status.path) == ("systemd", True, autostart.unit_path)
    assert autostart.unit_path.read_text() == UNIT_TEXT
    assert ["daemon-reload"] in fake.calls and ["enable", UNIT] in fake.calls
    off = autostart.disable()
    assert (off.mechanism, off.enabled) == ("none", False)
    assert ["disable", UNIT] in fake.calls
    assert not autostart.unit_path.exists() and not fake.wants.is_symlink()


def test_systemd_failure_leaves_nothing_behind(tmp_path):
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=FakeSystemctl(tmp_path, fail={"enable"}))
    with pytest.raises(DaemonError, match="systemctl --user enable posturewatch.service failed"):
        autostart.enable()
    assert not autostart.unit_path.exists()


def test_masked_unit_is_respected(tmp_path):
    fake = FakeSystemctl(tmp_path)
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=fake)
    autostart.unit_path.parent.mkdir(parents=True)
    autostart.unit_path.symlink_to(os.devnull)
    status = autostart.status()
    assert (status.mechanism, status.enabled) == ("systemd", False)
    assert status.detail.startswith("disabled by the user (masked")
    with pytest.raises(DaemonError, match="masked"):
        autostart.enable()
    autostart.disable()
    assert autostart.unit_path.is_symlink()  # the user's mask stays


def test_switching_mechanism_removes_the_other(tmp_path):
    fake = FakeSystemctl(tmp_path, graphical=False)
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=fake)
    autostart.enable()
    assert autostart.desktop_path.exists()
    assert autostart.enable("systemd").mechanism == "systemd"
    assert not autostart.desktop_path.exists()
    assert autostart.enable("xdg").mechanism == "xdg"
    assert not autostart.unit_path.exists() and not fake.wants.is_symlink()


def test_unknown_mechanism(tmp_path):
    with pytest.raises(ValueError, match="mechanism must be one of"):
        Autostart(tmp_path, systemctl=None).enable("cron")


def test_unwritable_config_dir(tmp_path):
    (tmp_path / "cfg").write_text("a file where a directory should be")
    with pytest.raises(OutputError, match="cannot write"):
        Autostart(tmp_path, config_home=tmp_path / "cfg", systemctl=None).enable()


def test_launch_agent_on_macos(tmp_path):
    autostart = Autostart(tmp_path, command=COMMAND, systemctl=None, platform="darwin")
    status = autostart.enable()
    assert (status.mechanism, status.enabled) == ("launchd", True)
    agent = plistlib.loads(autostart.plist_path.read_bytes())
    assert agent["ProgramArguments"] == COMMAND and agent["RunAtLoad"] is True
    autostart.plist_path.write_bytes(plistlib.dumps({**agent, "Disabled": True}))
    assert autostart.status().detail == "disabled by the user (Disabled=true)"
    assert autostart.disable().mechanism == "none"


def test_windows_is_not_supported_yet(tmp_path):
    autostart = Autostart(tmp_path, systemctl=None, platform="win32")
    with pytest.raises(DaemonError, match="not supported on Windows"):
        autostart.enable()
    assert autostart.status().mechanism == "none"


@pytest.mark.parametrize("argv, expected", [
    (COMMAND, "/opt/pw/bin/python -m posturewatch run"),
    (["/home/a b/py", "run"], '"/home/a b/py" run'),
    (["/x$y/py"], r'"/x\\$y/py"'),
    (["/a%b/py"], "/a%%b/py"),
    ([r"C:\py"], r'"C:\\\\py"'),
    (["say \"hi\""], r'"say \\"hi\\""'),
])
def test_desktop_exec_quoting(argv, expected):
    assert desktop_exec(argv) == expected


@pytest.mark.parametrize("argv, expected", [
    (COMMAND, "/opt/pw/bin/python -m posturewatch run"),
    (["/home/a b/py", "run"], '"/home/a b/py" run'),
    (["/a%b/py", "$HOME"], "/a%%b/py $$HOME"),
    (['/q"uote'], r'"/q\"uote"'),
])
def test_systemd_exec_quoting(argv, expected):
    assert systemd_exec(argv) == expected
