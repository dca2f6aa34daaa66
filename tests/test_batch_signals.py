"""Stopping a batch: a real `posturewatch batch` process, interrupted mid-batch.

Ctrl-C at a terminal sends SIGINT to the whole process group (the batch and its
workers); a service manager sends SIGTERM to the main process only. Either way
the workers stop, the results already written stay complete, no temporary file
is left, and running the command again skips what was done.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import clips
import pytest

from posturewatch import errors

from cli_support import as_at_a_terminal
from test_analyze_cli import small_log

CLIPS = ("render_m1_upright_steady", "warp_intel_man_slouch_gradual", "warp_proctor_man_upright_steady",
         "warp_intel_man_mixed_session")  # 15 to 89 s


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(out: Path, *inputs) -> subprocess.Popen:
    argv = [sys.executable, "-m", "posturewatch", "batch", *map(str, inputs), "--out", str(out), "--jobs", "2"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=as_at_a_terminal)


def wait_for_first_result(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 180
    while not list(out.glob("*.json")):
        assert proc.poll() is None, f"the batch ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "no result after 180 s"
        time.sleep(0.1)


def interrupt(tmp_path: Path, send) -> tuple[Path, int, str, set[int]]:
    out = tmp_path / "out"
    proc = start(out, *map(clips.video, CLIPS))
    try:
        wait_for_first_result(proc, out)
        workers = children_of(proc.pid)
        send(proc)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return out, proc.returncode, err, workers


def check_stopped_cleanly(out: Path, code: int, err: str, workers: set[int],
                          expected: tuple[int, str] = (errors.EXIT_INTERRUPTED, "interrupted")) -> None:
    assert code == expected[0]
    assert err.splitlines()[-1] == f"posturewatch: {expected[1]}" and "Traceback" not in err
    assert len(workers) >= 2  # the two workers (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "a worker outlived the batch"
    names = sorted(p.name for p in out.iterdir())
    assert 1 <= len(names) < len(CLIPS), names  # stopped mid-batch
    assert all(n.endswith(".json") and not n.startswith(".") for n in names), "a temporary file was left"
    for name in names:
        assert json.loads((out / name).read_text())["frames_analyzed"] > 0  # complete


@pytest.mark.video
def test_ctrl_c_stops_the_batch_and_its_workers(tmp_path):
    out, code, err, workers = interrupt(tmp_path, lambda proc: os.killpg(proc.pid, signal.SIGINT))
    check_stopped_cleanly(out, code, err, workers)

    # Again, with a pose log added: the finished video is skipped, the log analysed.
    log = small_log(tmp_path / "more.jsonl")
    finished = next(out.glob("*.json")).stem
    done = subprocess.run([sys.executable, "-m", "posturewatch", "batch", str(clips.video(finished)), str(log),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 inputs analysed (1 done before)" in done.stdout
    assert json.loads((out / "summary.json").read_text())["counts"] == {"ok": 2, "failed": 0}


@pytest.mark.video
def test_sigterm_to_the_batch_alone_stops_its_workers_too(tmp_path):
    check_stopped_cleanly(*interrupt(tmp_path, lambda proc: proc.send_signal(signal.SIGTERM)),
                          expected=(errors.EXIT_TERMINATED, "terminated"))
