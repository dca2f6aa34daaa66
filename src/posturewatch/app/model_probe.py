"""`python -m posturewatch.app.model_probe FILE`: does this pose model load and run?

`model install` and `model download` run this in a child process before a
bundle replaces the cached model: a zip that merely looks like a bundle may
fail to load, fail on its first frame, or crash MediaPipe's native code, and
none of that may cost the user a working model (or the parent process).
Exit 0 when the model loaded and ran on a blank frame; otherwise 1, and the
last line on stdout says why (MediaPipe's own chatter goes to stderr).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import ModelError

TIMEOUT_S = 120.0
BLANK = (192, 256, 3)  # a small black BGR frame: nobody in it, which is fine


def probe(path: Path) -> None:
    """Load the model and run it once; ModelError when either fails."""
    import numpy as np

    from ..adapters.mediapipe_pose import MediaPipePoseEstimator
    from ..ports import Frame

    estimator = MediaPipePoseEstimator(path)  # ModelError when it does not load
    try:
        estimator.estimate(Frame(np.zeros(BLANK, np.uint8), 0.0, 0))
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"MediaPipe loads it but cannot run it ({_last_line(exc)})") from None
    finally:
        try:
            estimator.close()
        except (RuntimeError, ValueError):
            pass  # after a failed run, closing fails too


def _last_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


HELD = (signal.SIGTERM, signal.SIGINT)  # cli.main turns these into exceptions


@contextlib.contextmanager
def _signals_held():
    """SIGTERM and SIGINT wait until the block ends. A signal's exception raised inside
    Popen, after the fork, would lose the child: nobody would be left to stop it."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def check_in_child(path: Path) -> None:
    """Run `probe` in a child process; ModelError with its reason unless it succeeded.
    The child never outlives this call, whatever ends it (a timeout, SIGTERM, Ctrl-C)."""
    argv = [sys.executable, "-m", __name__, str(path)]
    proc = None
    try:
        with _signals_held():  # a signal waiting here is raised as the block ends, with proc set
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ModelError(f"it did not load and run within {TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise ModelError(f"cannot start the model check ({exc.strerror or exc})") from None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == 0:
        return
    lines = out.strip().splitlines()
    if proc.returncode < 0 or not lines:
        raise ModelError(f"MediaPipe crashed on it (exit status {proc.returncode})")
    raise ModelError(lines[-1])


def main(argv: list[str]) -> int:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)  # held by the parent while it started us
    try:
        probe(Path(argv[0]))
    except ModelError as exc:
        print(exc, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
