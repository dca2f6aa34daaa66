"""`posturewatch batch --dask` on a real Dask cluster: a scheduler and two workers on 127.0.0.1.

They are started here as `dask scheduler` / `dask worker` processes (the cluster
extra, `posturewatch[cluster]`, which ./dev installs); the workers find the
model through POSTUREWATCH_MODEL_DIR as a user's would. The results must equal
a local run's, timing fields aside.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import clips
import pytest

from posturewatch import errors
from posturewatch.app import cli

from test_analyze_cli import small_log

TIMING = ("elapsed_s", "realtime_factor")
VIDEO = "render_m1_upright_steady"


def _dask(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_for(what: str, ready, procs, logs, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while not (found := ready()):
        dead = [log for p, log in zip(procs, logs) if p.poll() is not None]
        assert not dead, f"{what}: a dask process ended:\n" + "\n".join(l.read_text()[-2000:] for l in dead)
        assert time.monotonic() < deadline, f"{what} after {timeout} s"
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """tcp://127.0.0.1:PORT of a scheduler with two single-threaded workers."""
    run = tmp_path_factory.mktemp("dask")
    info = run / "scheduler.json"
    logs = [run / "scheduler.log", run / "worker1.log", run / "worker2.log"]
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(info), log=logs[0])]
    try:
        _wait_for("no scheduler file", info.exists, procs, logs)
        address = json.loads(info.read_text())["address"]
        for log in logs[1:]:
            procs.append(_dask("worker", "--scheduler-file", str(info), "--nthreads", "1", "--no-nanny",
                               "--no-dashboard", "--host", "127.0.0.1", log=log))
        _wait_for("two workers not registered",
                  lambda: all("Registered to" in log.read_text() for log in logs[1:]), procs, logs)
        yield address
    finally:
        for proc in procs[::-1]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def batch(capfd, *argv) -> tuple[int, str]:
    code = cli.main(["batch", *map(str, argv)])
    return code, capfd.readouterr().err


def results(out: Path) -> dict[str, dict]:
    return {p.name: {k: v for k, v in json.loads(p.read_text()).items() if k not in TIMING}
            for p in sorted(out.glob("*.json")) if p.name != "summary.json"}


@pytest.mark.video
def test_a_cluster_gives_the_local_results(cluster, tmp_path, capfd):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 100)
    inputs = [clips.pose_log("warp_intel_man_slouch_gradual"), clips.pose_log("warp_intel_man_leave_and_return"),
              small_log(tmp_path / "hand.jsonl"), clips.video(VIDEO), bad]
    code, err = batch(capfd, *inputs, "--out", tmp_path / "local", "--calibrate-first", "8")
    assert code == errors.BatchIncomplete.exit_code, err
    code, err = batch(capfd, *inputs, "--out", tmp_path / "cluster", "--calibrate-first", "8", "--dask", cluster)
    assert code == errors.BatchIncomplete.exit_code, err
    assert "broken.mp4: not a video" in err and "Traceback" not in err

    local, remote = results(tmp_path / "local"), results(tmp_path / "cluster")
    assert len(remote) == 4 and remote == local
    assert remote[f"{VIDEO}.json"]["frames_analyzed"] == 75  # MediaPipe ran on a worker
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("local", "cluster")]
    strip = [[{k: v for k, v in row.items() if k != "elapsed_s"} for row in s["inputs"]] for s in summaries]
    assert strip[0] == strip[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_scheduler_that_is_not_there_is_one_error(tmp_path):
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    done = subprocess.run([sys.executable, "-m", "posturewatch", "batch", str(small_log(tmp_path / "s.jsonl")),
                           "--out", str(tmp_path / "out"), "--dask", f"tcp://127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == errors.ClusterError.exit_code
    assert done.stderr.startswith("posturewatch: error: cannot reach the Dask scheduler at tcp://127.0.0.1:")
    assert len(done.stderr.splitlines()) == 1, done.stderr
