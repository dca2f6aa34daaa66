"""Cost of the daemon: average CPU (% of one core) and peak RSS, versus a naive loop.

    POSTUREWATCH_MODEL_DIR=../shared/models .venv/bin/python benchmarks/daemon_bench.py \
        [--clip PATH] [--seconds 180] [--model lite]

Both run on the same sample clip, paced in real time (a stand-in for a webcam):

- daemon: `posturewatch run --source CLIP --realtime` at default settings
  (1 analysed frame a second while someone is there, 0.2 while nobody is;
  frames in between are only grabbed, never decoded to images);
- naive: read every frame at the clip's own rate and run pose estimation on
  each, as a first attempt at a posture monitor would.

Each runs in its own process for --seconds (the clip loops); CPU time comes from
the child's rusage after it exits, peak RSS from its ru_maxrss. A model load at
start is included in both (amortised over the run).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CLIP = HERE.parents[1] / "shared" / "sample_videos" / "warp_intel_man_mixed_session.mp4"

NAIVE = r"""
import sys, time, cv2
from pathlib import Path
from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
from posturewatch.adapters.models import resolve_model
from posturewatch.ports import Frame
clip, seconds, model = sys.argv[1], float(sys.argv[2]), sys.argv[3]
est = MediaPipePoseEstimator(resolve_model(model).path)
start = time.monotonic(); n = 0
while time.monotonic() - start < seconds:
    cap = cv2.VideoCapture(clip); fps = cap.get(cv2.CAP_PROP_FPS); t0 = time.monotonic()
    while time.monotonic() - start < seconds:
        ok, img = cap.read()
        if not ok: break
        est.estimate(Frame(img, time.monotonic() - start, n)); n += 1
        delay = t0 + (n and cap.get(cv2.CAP_PROP_POS_FRAMES)) / fps - time.monotonic()
        if delay > 0: time.sleep(delay)
    cap.release()
print(n, "frames estimated", file=sys.stderr)
"""


def measure(argv: list[str], seconds: float, env: dict, stop_with_signal: bool) -> tuple[float, float]:
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors, text=True)
        peak = 0.0  # VmHWM of the exec'd child: ru_maxrss would count the parent at fork
        deadline = time.monotonic() + seconds
        while proc.poll() is None and time.monotonic() < deadline:
            peak = max(peak, vm_hwm_mb(proc.pid))
            time.sleep(1.0)
        if stop_with_signal and proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid))
            proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage; no race with Popen
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        errors.seek(0)
        err = errors.read()
    if proc.returncode != 0:
        sys.exit(f"benchmark run failed ({proc.returncode}): {err.strip()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return 100.0 * cpu / wall, peak


def vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def looped_clip(clip: Path, seconds: float, tmp: Path) -> Path:
    """The clip played forward enough times to last `seconds` (no re-encode: concat of copies)."""
    import cv2
    cap = cv2.VideoCapture(str(clip))
    fps, w, h = cap.get(cv2.CAP_PROP_FPS), int(cap.get(3)), int(cap.get(4))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    out = tmp / "looped.avi"  # in a temp dir outside the repo, removed at the end
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    total = int(seconds * fps) + int(10 * fps)  # outlasts the run: SIGTERM ends it
    for i in range(total):
        writer.write(frames[i % len(frames)])
    writer.release()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--model", default="lite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        clip = looped_clip(args.clip, args.seconds, Path(tmp))
        env = dict(os.environ, POSTUREWATCH_HOME=str(Path(tmp) / "home"))
        env.pop("DISPLAY", None)
        daemon = measure([sys.executable, "-m", "posturewatch", "run", "--source", str(clip),
                          "--realtime", "--model", args.model], args.seconds, env, True)
        naive = measure([sys.executable, "-c", NAIVE, str(clip), str(args.seconds), args.model],
                        args.seconds, env, False)
    print(f"clip: {args.clip.name}, {args.seconds:g} s paced in real time, model {args.model}")
    print(f"{'':28}{'CPU % of one core':>18}{'peak RSS MB':>14}")
    print(f"{'daemon (default settings)':28}{daemon[0]:>18.1f}{daemon[1]:>14.0f}")
    print(f"{'naive (every frame)':28}{naive[0]:>18.1f}{naive[1]:>14.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
