"""Nothing leaves the machine: every command that reads a camera or a video runs as a real
process under strace, and not one of its network calls may reach past this machine.

What is checked (docs/privacy.md): with a local model, `analyze`, `calibrate --from-video`,
`evaluate`, `run`, `start` and the calibration wizard (a video file standing in as the
camera) make no connect/sendto/sendmsg/sendmmsg to a non-loopback address, no DNS lookup
(nothing to port 53, no read of /etc/resolv.conf, no call to a name-service daemon) and
start no child process. `model download` talks to the server it is given and nothing else.
The tracer itself is checked on a process that does connect out. MediaPipe is loaded
pose-landmarker only, and a MediaPipe that uploads usage statistics is refused.

strace comes from Debian's package, which ./dev installs; without it these tests fail.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import clips
import pytest

from posturewatch.adapters import mediapipe_pose
from posturewatch.errors import ModelError

NETWORK_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>connect|sendto|sendmsg|sendmmsg)\((?P<args>.*)$")
INET_ADDRESS = re.compile(r'inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)"')
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
# A name lookup shows up as one of these even before a packet goes out.
RESOLVER_FILES = ("/etc/resolv.conf",)
RESOLVER_SOCKETS = ("/var/run/nscd/socket", "/run/nscd/socket", "/run/systemd/resolve/io.systemd.Resolve")
UPRIGHT = "render_m1_upright_steady"  # upright for all of its 15 s


@dataclass(frozen=True)
class Trace:
    """What one traced command did that matters here."""

    returncode: int
    stdout: str
    stderr: str
    outside: tuple[str, ...]  # network calls to an address beyond loopback, or to port 53
    loopback: tuple[str, ...]  # network calls that stayed on this machine
    lookups: tuple[str, ...]  # signs of a DNS lookup
    children: tuple[str, ...]  # programs started (execve after the first)


def strace() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.fail("strace is not installed: ./dev test installs it (apt-get install strace)")
    return path


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def classify(lines: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(outside, loopback, lookups, children) from strace -f output lines."""
    outside, loopback, lookups, children = [], [], [], []
    for line in lines:
        if any(f'"{name}"' in line for name in RESOLVER_FILES + RESOLVER_SOCKETS) and "ENOENT" not in line:
            lookups.append(line)
        if " execve(" in line and line.rstrip().endswith("= 0"):  # not the failed PATH probes
            children.append(line)
        found = NETWORK_CALL.match(line)
        if not found or "sa_family=AF_INET" not in found["args"]:
            continue
        address = INET_ADDRESS.search(found["args"])
        port = PORT.search(found["args"])
        if port and port[1] == "53":
            lookups.append(line)
        if address is None or not _is_loopback(address["v4"] or address["v6"]):
            outside.append(line)
        else:
            loopback.append(line)
    return tuple(outside), tuple(loopback), tuple(lookups), tuple(children[1:])


def traced(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None,
           timeout: float = 300) -> Trace:
    """Run argv under strace -f; every process it starts is traced too."""
    out = tmp_path / "strace.txt"
    calls = "trace=connect,sendto,sendmsg,sendmmsg,?open,openat,execve"  # ?: no open() on arm64
    command = [strace(), "-f", "-qq", "-e", calls, "-e", "signal=none", "-o", str(out), *argv]
    proc = subprocess.run(command, env=env or os.environ.copy(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if not out.exists():
        pytest.fail(f"strace wrote no trace (can it ptrace here?): {proc.stderr[-2000:]}")
    return Trace(proc.returncode, proc.stdout, proc.stderr, *classify(out.read_text().splitlines()))


def posturewatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "posturewatch", *args]


def assert_stays_here(trace: Trace) -> None:
    assert trace.returncode == 0, trace.stderr[-3000:]
    assert trace.outside == (), "network calls beyond this machine:\n" + "\n".join(trace.outside)
    assert trace.lookups == (), "DNS lookups:\n" + "\n".join(trace.lookups)


@pytest.fixture
def no_desktop(monkeypatch) -> None:
    """No display and no session bus: notifications go to the console, as on a server."""
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        monkeypatch.delenv(key, raising=False)


# --- the tracer sees what it must see ------------------------------------------------------


CONNECTS = """
import socket
for address in (("127.0.0.1", 9), ("192.0.2.1", 443), ("192.0.2.1", 53)):
    # A UDP connect() only records the peer: no packet leaves.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
        except OSError:  # no route: the call was still made, and traced
            pass
with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
    try:
        sock.connect(("::1", 9))
    except OSError:
        pass
"""


def test_the_tracer_tells_loopback_from_the_outside_and_sees_dns(tmp_path):
    trace = traced([sys.executable, "-c", CONNECTS], tmp_path)
    assert trace.returncode == 0, trace.stderr
    assert len(trace.loopback) == 2 and all("127.0.0.1" in c or '"::1"' in c for c in trace.loopback)
    assert len(trace.outside) == 2 and all("192.0.2.1" in c for c in trace.outside)
    assert len(trace.lookups) == 1 and "htons(53)" in trace.lookups[0]
    assert trace.children == ()


def test_the_tracer_sees_child_processes_and_resolver_files(tmp_path):
    code = "import subprocess; open('/etc/resolv.conf').close(); subprocess.run(['true'])"
    if not Path("/etc/resolv.conf").exists():
        pytest.fail("/etc/resolv.conf is missing: this test needs a machine set up for DNS")
    trace = traced([sys.executable, "-c", code], tmp_path)
    assert any("/etc/resolv.conf" in line for line in trace.lookups)
    assert len(trace.children) == 1 and "true" in trace.children[0]


# --- every command that looks at frames --------------------------------------------------


@pytest.mark.video
def test_analyze_stays_on_this_machine(tmp_path):
    trace = traced(posturewatch("analyze", str(clips.video(UPRIGHT)), "--end", "4"), tmp_path)
    assert_stays_here(trace)
    assert trace.children == (), "analyze started programs:\n" + "\n".join(trace.children)
    assert trace.stderr == ""  # and a successful command is quiet


@pytest.mark.video
def test_calibrate_from_a_video_stays_on_this_machine(tmp_path):
    profile = tmp_path / "profile.json"
    trace = traced(posturewatch("calibrate", "--from-video", str(clips.video(UPRIGHT)),
                                "--end", "6", "--output", str(profile)), tmp_path)
    assert_stays_here(trace)
    assert trace.children == () and profile.is_file()


@pytest.mark.video
def test_evaluate_stays_on_this_machine(tmp_path):
    trace = traced(posturewatch("evaluate", str(clips.video(UPRIGHT)), "--fps", "2"), tmp_path)
    assert_stays_here(trace)
    assert trace.children == ()


@pytest.mark.video
def test_run_on_a_video_file_stays_on_this_machine(tmp_path, no_desktop):
    trace = traced(posturewatch("run", "--source", str(clips.video(UPRIGHT))), tmp_path)
    assert_stays_here(trace)


@pytest.mark.video
def test_start_in_the_background_stays_on_this_machine(tmp_path, no_desktop):
    # strace -f follows the daemon it forks, and returns once that has finished the clip.
    trace = traced(posturewatch("start", "--source", str(clips.video(UPRIGHT))), tmp_path)
    assert_stays_here(trace)


@pytest.mark.video
def test_the_wizard_with_a_video_as_camera_stays_on_this_machine(tmp_path, no_desktop):
    trace = traced(posturewatch("calibrate", "--camera", str(clips.video(UPRIGHT)), "--yes",
                                "--no-preview", "--fps", "5", "--profile", "desk"), tmp_path)
    assert_stays_here(trace)
    assert "recording: 5 4 3 2 1 done" in trace.stdout and "Saved to" in trace.stdout


@pytest.mark.video
def test_mediapipe_says_nothing_on_a_hard_clip(tmp_path):
    # A covered lens made MediaPipe 0.10.33 print a warning mid-clip, and 0.10.14 a
    # protobuf warning; nothing of MediaPipe's may reach the terminal without --debug.
    trace = traced(posturewatch("analyze", str(clips.video("real_rear_man_lens_covered"))), tmp_path)
    assert trace.returncode == 0 and trace.stderr == ""


# --- the one command that may use the network --------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def model_server():
    """An HTTP server on 127.0.0.1 serving the shared model bundles."""
    handler = functools.partial(_QuietHandler, directory=str(clips.models_dir()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.video
def test_without_a_model_a_command_stops_instead_of_downloading(tmp_path, model_server):
    env = dict(os.environ, POSTUREWATCH_MODEL_URL=model_server,
               POSTUREWATCH_HOME=str(tmp_path / "home"))
    for key in ("POSTUREWATCH_MODEL_DIR", "POSTUREWATCH_MODEL"):
        env.pop(key, None)
    trace = traced(posturewatch("analyze", str(clips.video(UPRIGHT)), "--end", "1"), tmp_path, env)
    assert trace.returncode == ModelError.exit_code, trace.stderr
    assert trace.stderr.startswith("posturewatch: error: no pose model found")
    assert "posturewatch model download full" in trace.stderr and trace.stderr.count("\n") == 1
    assert trace.outside == trace.loopback == trace.lookups == ()


def test_model_download_contacts_only_the_server_it_is_given(tmp_path, model_server):
    env = dict(os.environ, POSTUREWATCH_MODEL_URL=model_server,
               POSTUREWATCH_HOME=str(tmp_path / "home"))
    trace = traced(posturewatch("model", "download", "lite"), tmp_path, env)
    assert_stays_here(trace)
    assert trace.loopback, "the download made no connection the tracer could see"
    assert all("127.0.0.1" in call for call in trace.loopback)


# --- which MediaPipe, loaded how -----------------------------------------------------------


LOAD = """
import sys
from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
with MediaPipePoseEstimator(sys.argv[1]):
    pass
print(" ".join(sorted(m for m in ("matplotlib", "sounddevice", "jax", "mediapipe.tasks.python.audio")
                     if m in sys.modules)))
"""


def test_only_the_pose_landmarker_is_loaded(tmp_path):
    trace = traced([sys.executable, "-c", LOAD, str(clips.model_path("lite"))], tmp_path)
    assert trace.returncode == 0, trace.stderr
    assert trace.children == (), "loading MediaPipe started programs:\n" + "\n".join(trace.children)
    extras = subprocess.run([sys.executable, "-c", LOAD, str(clips.model_path("lite"))],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert extras == ""


@pytest.mark.parametrize("version, refused", [
    ("0.10.14", False), ("0.10.33", False), ("0.10.33.post1", False),
    ("0.10.35", True), ("0.10.35rc1", True), ("1.2.3", True), ("2.0", True),
])
def test_a_mediapipe_that_uploads_usage_statistics_is_refused(version, refused):
    if not refused:
        mediapipe_pose.check_version(version)
        return
    with pytest.raises(ModelError, match=rf"mediapipe {re.escape(version)} sends usage statistics"):
        mediapipe_pose.check_version(version)


def test_the_refused_versions_are_those_pyproject_excludes():
    project = tomllib.loads((clips.REPO / "pyproject.toml").read_text())["project"]
    spec = next(d for d in project["dependencies"] if d.startswith("mediapipe"))
    upper = re.search(r"<\s*([0-9.]+)", spec)
    assert upper, f"pyproject.toml puts no upper bound on mediapipe: {spec!r}"
    assert mediapipe_pose.version_tuple(upper[1]) == mediapipe_pose.FIRST_UPLOADING_VERSION
