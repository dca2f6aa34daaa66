"""The single-instance lock and the control socket, with real files, sockets and processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from posturewatch.adapters.control import (
    NOT_RUNNING,
    ControlServer,
    InstanceLock,
    runtime_paths,
    send_command,
)
from posturewatch.errors import DaemonError, PostureWatchError

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def run_dir():
    # Not tmp_path: Unix socket paths must stay under ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="pw-ctl-"))
    yield root / "run"
    shutil.rmtree(root, ignore_errors=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def echo_handler(cmd: str, args: dict) -> dict:
    if cmd == "pause" and args.get("refuse"):
        raise PostureWatchError("already paused")
    if cmd == "break":
        raise RuntimeError("bug in the daemon")
    return {"cmd": cmd, "args": args}


@contextlib.contextmanager
def serving(path: Path, handler=echo_handler):
    """A server polled by a thread, as the daemon's loop would poll it."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            server.poll(0.02)

    with ControlServer(path, handler) as server:
        thread = threading.Thread(target=loop)
        thread.start()
        try:
            yield server
        finally:
            stop.set()
            thread.join()


def raw_exchange(path: Path, *lines: bytes) -> list[dict]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(path))
        reader = sock.makefile("rb")
        replies = []
        for line in lines:
            sock.sendall(line)
            replies.append(json.loads(reader.readline()))
        return replies


def leave_stale_socket(path: Path) -> None:
    """A socket file whose listener is gone, as after a crash."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()


def test_round_trip(run_dir):
    path = run_dir / "control.sock"
    with serving(path):
        assert send_command(path, "snooze", {"minutes": 15}) == {
            "cmd": "snooze", "args": {"minutes": 15}}
        assert send_command(path, "status") == {"cmd": "status", "args": {}}


def test_socket_and_dir_are_private(run_dir):
    run_dir.mkdir(mode=0o755)
    path = run_dir / "control.sock"
    with ControlServer(path, echo_handler):
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert mode(path) == 0o600
        assert mode(run_dir) == 0o700
    assert not path.exists()


def test_refuses_a_shared_directory():
    with pytest.raises(DaemonError, match="not a private directory"):
        ControlServer(Path(tempfile.gettempdir()) / "pw-control.sock", echo_handler).open()


def test_stale_socket_is_replaced(run_dir):
    path = run_dir / "control.sock"
    leave_stale_socket(path)
    with serving(path):
        assert send_command(path, "resume") == {"cmd": "resume", "args": {}}


def test_live_socket_is_not_replaced(run_dir):
    path = run_dir / "control.sock"
    with serving(path):
        with pytest.raises(DaemonError, match="already running"):
            ControlServer(path, echo_handler).open()
        assert send_command(path, "status")["cmd"] == "status"  # the first one still answers


def test_client_when_nothing_runs(run_dir):
    path = run_dir / "control.sock"
    with pytest.raises(DaemonError) as missing:
        send_command(path, "status")
    assert str(missing.value) == NOT_RUNNING
    leave_stale_socket(path)
    with pytest.raises(DaemonError, match="is not running"):
        send_command(path, "status")


def test_malformed_requests_get_errors_and_the_server_survives(run_dir):
    path = run_dir / "control.sock"
    with serving(path):
        replies = raw_exchange(
            path, b"not json\n", b"[1, 2]\n", b'{"cmd": "dance"}\n', b'{"cmd": "pause", "args": [1]}\n',
            b'\xff\xfe\n', b'{"cmd": "status"}\n')
        assert [r["ok"] for r in replies] == [False] * 5 + [True]
        assert "not JSON" in replies[0]["error"]
        assert "unknown command 'dance'" in replies[2]["error"]
        assert replies[5]["result"] == {"cmd": "status", "args": {}}
        assert send_command(path, "status")["cmd"] == "status"


def test_request_split_across_packets(run_dir):
    path = run_dir / "control.sock"
    with serving(path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b'{"cmd": "sto')
            sock.sendall(b'p"}\n{"cmd": "status"}\n')
            lines = sock.makefile("rb")
            assert json.loads(lines.readline())["result"]["cmd"] == "stop"
            assert json.loads(lines.readline())["result"]["cmd"] == "status"


def test_handler_errors_become_error_responses(run_dir):
    path = run_dir / "control.sock"
    with serving(path):
        with pytest.raises(DaemonError, match="posturewatch refused: already paused"):
            send_command(path, "pause", {"refuse": True})
        with pytest.raises(DaemonError, match="internal error: bug in the daemon"):
            send_command(path, "break")
        assert send_command(path, "status")["cmd"] == "status"


def test_poll_without_clients_returns_nothing(run_dir):
    with ControlServer(run_dir / "control.sock", echo_handler) as server:
        assert server.poll(0) == 0


def test_poll_serves_in_the_callers_thread(run_dir):
    path = run_dir / "control.sock"
    seen = []

    def handler(cmd, args):
        seen.append(threading.get_ident())
        return {}

    with ControlServer(path, handler) as server:
        client = threading.Thread(target=send_command, args=(path, "status"))
        client.start()
        served = 0
        while served == 0:
            served += server.poll(1.0)
        client.join()
    assert seen == [threading.get_ident()]


def test_lock_is_private_and_removed_on_close(run_dir):
    lock_path = run_dir / "posturewatch.lock"
    with InstanceLock(lock_path):
        assert lock_path.read_text() == f"{os.getpid()}\n"
        assert mode(lock_path) == 0o600
        assert mode(run_dir) == 0o700
    assert not lock_path.exists()


def test_stale_lock_with_dead_pid_is_replaced(run_dir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dir.mkdir(mode=0o700)
    lock_path = run_dir / "posturewatch.lock"
    lock_path.write_text(f"{dead.pid}\n")
    with InstanceLock(lock_path):
        assert lock_path.read_text() == f"{os.getpid()}\n"


def test_live_lock_is_refused(run_dir):
    lock_path = run_dir / "posturewatch.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path\n"
         "from posturewatch.adapters.control import InstanceLock\n"
         f"with InstanceLock(Path({str(lock_path)!r})):\n"
         "    print('locked', flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DaemonError, match=rf"already running \(pid {holder.pid}\)"):
            InstanceLock(lock_path).acquire()
    finally:
        holder.communicate("", timeout=10)
    with InstanceLock(lock_path):  # released when the holder exits
        pass


def test_runtime_paths_follow_posturewatch_home(tmp_path):
    paths = runtime_paths({"POSTUREWATCH_HOME": str(tmp_path)})
    assert paths.lock == tmp_path / "run" / "posturewatch.lock"
    assert paths.socket == tmp_path / "run" / "control.sock"
