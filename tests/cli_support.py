"""Running the CLI in-process and checking the one-line error contract."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from posturewatch.adapters.pose_log import PoseLogHeader, write_pose_log
from posturewatch.app import cli
from posturewatch.core.pose import PARTS, Landmark, Pose, TimedPose
from posturewatch.ports import SourceInfo


def run(capfd, *argv) -> tuple[int, str, str]:
    """`posturewatch ARGV` in this process: (exit status, stdout, stderr), read at the fd level
    so that native chatter would count too. argparse's exit comes back as its status."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capfd.readouterr()
    return code, out, err


def as_at_a_terminal() -> None:
    """Popen's preexec_fn: SIGINT as a shell gives a foreground command. A test run started in
    the background (`./dev test &`, some CI runners) ignores SIGINT, and a program started so
    rightly keeps ignoring it: a test that sends SIGINT would wait for nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_error(err: str, *words: str) -> None:
    """Exactly one `posturewatch: error:` line, no traceback, holding every one of `words`."""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("posturewatch: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> content), hidden temp files included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def small_log(path: Path, frames: int = 20, fps: float = 5.0) -> Path:
    """A pose log made by hand (no model): a person for the first half, then nobody."""
    marks = {p: Landmark(0.4 + 0.01 * i, 0.2 + 0.05 * i, 0.0, 0.99) for i, p in enumerate(PARTS)}
    poses = [TimedPose(i / fps, Pose(640, 480, marks) if i < frames // 2 else None)
             for i in range(frames)]
    header = PoseLogHeader(SourceInfo("made-by-hand.mp4", fps, frames, 640, 480), {"variant": None}, fps)
    write_pose_log(path, header, poses)
    return path


# --- permissions: real denials, also when the tests run as root ---------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def drop_file_permission_override() -> None:
    """In a child, before exec: give up root's power to ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_as_ordinary_process(*argv, env: dict | None = None) -> tuple[int, str, str]:
    """`posturewatch ARGV` in a child process where file permissions apply (for root too)."""
    done = subprocess.run([sys.executable, "-m", "posturewatch", *map(str, argv)],
                          preexec_fn=drop_file_permission_override if os.geteuid() == 0 else None,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ.copy() if env is None else env)
    return done.returncode, done.stdout, done.stderr
