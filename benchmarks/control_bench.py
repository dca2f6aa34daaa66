"""How fast the daemon answers its control socket and SIGTERM, alone and under a crowd.

    POSTUREWATCH_MODEL_DIR=../shared/models .venv/bin/python benchmarks/control_bench.py \
        [--clip PATH] [--runs 5]

A real `posturewatch run --source CLIP --realtime` (model loaded, as with a webcam) in a
private POSTUREWATCH_HOME. Prints:

- `status` latency, one client at a time (median and max of 50);
- 200 simultaneous `status` clients (threads): how many were answered, slowest answer;
- `status` latency while another client holds 300 idle connections;
- SIGTERM to exit, in the running state, over --runs daemons (median and max).

The tests assert the functional bounds (all answered, < 1 s to exit); this shows the margins.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CLIP = HERE.parents[1] / "shared" / "sample_videos" / "warp_intel_man_mixed_session.mp4"


def start_daemon(clip: Path, home: str) -> tuple[subprocess.Popen, Path]:
    from posturewatch.adapters.control import runtime_paths, send_command
    env = {**os.environ, "POSTUREWATCH_HOME": home}
    proc = subprocess.Popen([sys.executable, "-m", "posturewatch", "run", "--source", str(clip),
                             "--realtime"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = runtime_paths({"POSTUREWATCH_HOME": home}).socket
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if send_command(sock, "status")["camera"] == "ok":
                return proc, sock
        except Exception:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the daemon did not start")


def timed_status(sock: Path) -> float:
    from posturewatch.adapters.control import send_command
    start = time.monotonic()
    send_command(sock, "status", timeout=10)
    return time.monotonic() - start


def crowd(sock: Path, clients: int = 200) -> tuple[int, float]:
    barrier = threading.Barrier(clients)

    def one(_):
        barrier.wait()
        try:
            return timed_status(sock)
        except Exception:
            return None

    with ThreadPoolExecutor(clients) as pool:
        times = list(pool.map(one, range(clients)))
    answered = [t for t in times if t is not None]
    return len(answered), max(answered, default=float("nan"))


def with_idle_holder(sock: Path, held: int = 300) -> float:
    holders = []
    for _ in range(held):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(sock))
        holders.append(s)
    try:
        return timed_status(sock)
    finally:
        for s in holders:
            s.close()


def sigterm_exit(proc: subprocess.Popen) -> float:
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exits = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="pw-bench-") as home:
            proc, sock = start_daemon(args.clip, home)
            if run == 0:
                single = [timed_status(sock) for _ in range(50)]
                print(f"status, one client:        median {statistics.median(single) * 1000:.1f} ms, "
                      f"max {max(single) * 1000:.1f} ms")
                answered, slowest = crowd(sock)
                print(f"200 simultaneous status:   {answered}/200 answered, slowest {slowest * 1000:.0f} ms")
                print(f"status beside 300 idle:    {with_idle_holder(sock) * 1000:.0f} ms")
            exits.append(sigterm_exit(proc))
    print(f"SIGTERM to exit (running): median {statistics.median(exits) * 1000:.0f} ms, "
          f"max {max(exits) * 1000:.0f} ms over {len(exits)} runs")


if __name__ == "__main__":
    main()
