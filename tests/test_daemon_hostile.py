"""A real daemon (`posturewatch run` in its own process) against hostile local clients:
bursts of `status`, connections held open, file descriptors exhausted, racing `start`s."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clips
import pytest
from daemon_support import LONG_CLIP, log_text, spawn_run, status_or_none, stop, wait_for

from posturewatch.adapters.control import runtime_paths, send_command
from posturewatch.errors import DaemonError


@pytest.fixture
def daemon():
    """A daemon replaying a recording in real time (nothing else for it to do)."""
    proc = spawn_run("--source", str(clips.pose_log(LONG_CLIP)), "--realtime")
    try:
        wait_for(status_or_none)
        yield proc
    finally:
        stop(proc)


def status_in(timeout: float = 2.0) -> dict:
    """What `posturewatch status` does, with its own 2 s timeout."""
    return send_command(runtime_paths().socket, "status", timeout=timeout)


def idle_connections(count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(str(runtime_paths().socket))  # the kernel's backlog takes it
        socks.append(sock)
    return socks


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_200_simultaneous_status_calls_are_all_answered(daemon):
    start = threading.Barrier(200)

    def one(_):
        start.wait()
        try:
            return status_in()["pid"]
        except DaemonError as exc:
            return str(exc)

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(one, range(200)))
    assert answers == [daemon.pid] * 200


def test_a_client_holding_many_idle_connections_locks_nobody_out(daemon):
    hostile = idle_connections(300)
    for sock in hostile[:20]:
        sock.sendall(b'{"cmd": "sta')  # half a request, never finished
    try:
        assert status_in()["pid"] == daemon.pid  # within status's own 2 s
        # Every held connection is closed by the daemon: idle 5 s at most, or sooner
        # to make room for others.
        for sock in hostile[:: 30]:
            sock.settimeout(15)
            assert sock.recv(4096) in (b"", b'{"ok": false, "error": "busy: too many '
                                                b'clients, try again"}\n')
        assert status_in()["pid"] == daemon.pid
    finally:
        for sock in hostile:
            sock.close()
    assert log_text().count("clients connected; new ones wait") == 1  # logged, not flooded


def free_fd_limit(pid: int, spare: int) -> int:
    """The RLIMIT_NOFILE that leaves `pid` exactly `spare` free descriptors."""
    used = sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd"))
    limit = 0
    while limit - sum(fd < limit for fd in used) < spare:
        limit += 1
    return limit


def test_running_out_of_file_descriptors_is_survived_and_logged(daemon):
    soft, hard = resource.prlimit(daemon.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(daemon.pid, resource.RLIMIT_NOFILE, (free_fd_limit(daemon.pid, 2), hard))
    hostile = idle_connections(40)
    try:
        wait_for(lambda: "cannot accept a client: Too many open files" in log_text(), 10)
        cpu_before = cpu_seconds(daemon.pid)
        time.sleep(2.0)
        assert daemon.poll() is None, "the daemon died"
        assert cpu_seconds(daemon.pid) - cpu_before < 0.5  # it waits, it does not spin
        # While the descriptors are exhausted it still serves, one idle client at a time.
        assert status_in(timeout=15)["pid"] == daemon.pid
    finally:
        for sock in hostile:
            sock.close()
    assert status_in()["pid"] == daemon.pid  # and at once when they are gone
    assert log_text().count("cannot accept a client") == 1  # one warning per episode


def test_of_two_simultaneous_starts_exactly_one_starts():
    argv = [sys.executable, "-m", "posturewatch", "start", "--source",
            str(clips.pose_log(LONG_CLIP)), "--realtime"]
    starts = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    try:
        results = sorted((p.wait(timeout=90), *p.communicate()) for p in starts)
        (won, won_out, won_err), (lost, lost_out, lost_err) = results
        assert (won, lost) == (0, 10)
        assert won_out.startswith("posturewatch started in the background (pid ") and won_err == ""
        assert lost_out == ""
        assert lost_err == ("posturewatch: error: posturewatch is already running "
                            "(see `posturewatch status`)\n")
        pid = status_in()["pid"]
        assert f"(pid {pid})" in won_out
    finally:
        with contextlib.suppress(DaemonError):
            send_command(runtime_paths().socket, "stop")
    wait_for(lambda: not runtime_paths().lock.exists())
