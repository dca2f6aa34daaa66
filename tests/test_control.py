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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from posturewatch.adapters.control import (
    NOT_RUNNING,
    ControlServer,
    InstanceLock,
    runtime_paths,
    send_command,
)
from posturewatch.adapters.control_conn import Limits
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
def serving(path: Path, handler=echo_handler, limits: Limits | None = None):
    """A server polled by a thread, as the daemon's loop would poll it."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            server.poll(0.02)

    with ControlServer(path, handler, limits) as server:
        thread = threading.Thread(target=loop)
        thread.start()
        try:
            yield server
        finally:
            stop.set()
            thread.join()


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


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


# --- clients that misbehave ----------------------------------------------------------------

QUICK = Limits(max_clients=4, idle_timeout_s=0.3, make_room_after_s=0.2)


def connected(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(path))
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("sends", [b"", b'{"cmd": "sta'], ids=["silent", "half a line"])
def test_an_idle_client_is_dropped(run_dir, sends):
    path = run_dir / "control.sock"
    with serving(path, limits=QUICK) as server:
        with connected(path) as sock:
            sock.sendall(sends)
            start = time.monotonic()
            assert read_until_closed(sock) == b""  # closed by the server, nothing said
            assert 0.25 < time.monotonic() - start < 2.0
        wait_until(lambda: server.client_count == 0)


def test_a_client_that_never_reads_cannot_stall_the_server(run_dir):
    path = run_dir / "control.sock"
    with serving(path, limits=QUICK) as server:
        flood = connected(path)
        flood.setblocking(False)
        sent = 0
        with contextlib.suppress(BlockingIOError):  # until its own buffers are full
            while sent < 50_000_000:
                sent += flood.send(b'{"cmd": "status"}\n' * 1000)
        start = time.monotonic()
        assert send_command(path, "status")["cmd"] == "status"
        assert time.monotonic() - start < 0.5  # answered at once, not after the flood
        wait_until(lambda: server.client_count == 0)  # the non-reader timed out
        flood.close()


def test_clients_are_capped_and_idle_ones_make_room(run_dir):
    path = run_dir / "control.sock"
    counts = []

    def handler(cmd, args):
        counts.append(server.client_count)
        return {}

    with serving(path, handler, limits=QUICK) as server:
        idle = [connected(path) for _ in range(10)]
        try:
            for _ in range(3):
                assert send_command(path, "status") == {}
            assert max(counts) <= QUICK.max_clients
        finally:
            for sock in idle:
                sock.close()


def test_a_burst_of_clients_waits_in_the_backlog_and_is_all_answered(run_dir):
    path = run_dir / "control.sock"
    with serving(path, limits=Limits(max_clients=8)):
        with ThreadPoolExecutor(100) as pool:
            answers = list(pool.map(lambda _: send_command(path, "status"), range(300)))
    assert answers == [{"cmd": "status", "args": {}}] * 300


def test_wake_ends_a_waiting_poll_at_once(run_dir):
    with ControlServer(run_dir / "control.sock", echo_handler) as server:
        threading.Timer(0.1, server.wake).start()
        start = time.monotonic()
        server.poll(5.0)
        assert time.monotonic() - start < 1.0
