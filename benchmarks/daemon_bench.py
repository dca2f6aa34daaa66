"""Cost of the daemon: CPU (% of one core) and peak RSS, against a naive every-frame loop.

    POSTUREWATCH_MODEL_DIR=../shared/models .venv/bin/python benchmarks/daemon_bench.py \
        [--clip PATH] [--seconds 120] [--warmup 20] [--runs 3] [--model lite] [--json]

Both run on the same sample clip, paced in real time (a stand-in for a webcam),
in the same run, one after the other (the order alternates between runs):

- daemon: `posturewatch run --source CLIP --realtime` at default settings, with a
  calibration profile fitted from the clip's labelled upright opening (as a user
  who ran `posturewatch calibrate` has one; `--no-profile` for break reminders only).
  Frames between samples are only grabbed, never converted or estimated.
- naive: read every frame at the clip's own rate and run pose estimation on each,
  as a first attempt at a posture monitor would.

Each runs in its own process for --seconds (the clip loops) and is then stopped
with SIGTERM. Measured per process:

- CPU in steady state: user + system time of all its threads (and reaped children)
  from /proc/PID/stat between --warmup seconds after start and the end, over that
  wall time. This is what an all-day daemon costs.
- CPU including start-up: the child's rusage from wait4 over the whole wall time
  (the imports and the model load amortised over --seconds).
- peak RSS: the kernel's VmHWM of the process, read every second and at the end.

The daemon / naive ratio is taken within each run; the medians over runs are shown.
The machine's load average is printed, because on a shared machine other work
slows both (the ratio less than the percentages).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CLIP = HERE.parents[1] / "shared" / "sample_videos" / "warp_intel_man_mixed_session.mp4"
TICKS = os.sysconf("SC_CLK_TCK")

NAIVE = r"""
import sys, time, cv2
from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
from posturewatch.adapters.models import resolve_model
from posturewatch.ports import Frame
clip, model = sys.argv[1], sys.argv[2]
est = MediaPipePoseEstimator(resolve_model(model).path)
start = time.monotonic(); n = 0
while True:  # until SIGTERM
    cap = cv2.VideoCapture(clip); fps = cap.get(cv2.CAP_PROP_FPS); t0 = time.monotonic(); k = 0
    while True:
        ok, img = cap.read()
        if not ok: break
        est.estimate(Frame(img, time.monotonic() - start, n)); n += 1; k += 1
        delay = t0 + k / fps - time.monotonic()
        if delay > 0: time.sleep(delay)
    cap.release()
"""


@dataclass(frozen=True)
class Usage:
    steady_cpu: float  # % of one core after the warm-up
    total_cpu: float  # % of one core over the whole run, start-up included
    peak_rss_mb: float


def cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of `pid`, in clock ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])


def vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def measure(argv: list[str], seconds: float, warmup: float, env: dict) -> Usage:
    """Runs `argv` for `seconds`, then SIGTERM; a process that ends early is an error."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors, text=True)
        peak, warm = 0.0, None
        while proc.poll() is None and time.monotonic() - started < seconds:
            peak = max(peak, vm_hwm_mb(proc.pid))
            if warm is None and time.monotonic() - started >= warmup:
                warm = (time.monotonic(), cpu_ticks(proc.pid))
            time.sleep(min(1.0, max(0.01, seconds - (time.monotonic() - started))))
        if proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid))
            end = (time.monotonic(), cpu_ticks(proc.pid))
            proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage; no race with Popen
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        errors.seek(0)
        err = errors.read()
    if proc.returncode not in (0, -signal.SIGTERM) or warm is None:
        sys.exit(f"benchmark run failed ({proc.returncode}): {err.strip()[-500:]}")
    steady = (end[1] - warm[1]) / TICKS / (end[0] - warm[0])
    total = (usage.ru_utime + usage.ru_stime) / wall
    return Usage(100.0 * steady, 100.0 * total, peak)


def looped_clip(clip: Path, seconds: float, tmp: Path) -> Path:
    """The clip played forward enough times to outlast `seconds` (MJPG, as many webcams send)."""
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
    for i in range(int(seconds * fps) + int(30 * fps)):  # outlasts the run: SIGTERM ends it
        writer.write(frames[i % len(frames)])
    writer.release()
    return out


def calibrate(clip: Path, model: str, env: dict) -> str:
    """A profile from the clip's labelled upright opening, as `calibrate --from-video` makes it."""
    from posturewatch.adapters.labels import labels_for, upright_opening
    opening = upright_opening(labels_for(clip))
    if opening is None:
        sys.exit(f"{clip.name} does not open upright: give --no-profile or another --clip")
    subprocess.run([sys.executable, "-m", "posturewatch", "calibrate", "--from-video", str(clip),
                    "--start", f"{opening[0]:g}", "--end", f"{opening[1]:g}", "--model", model],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"profile from the upright opening {opening[0]:g}-{opening[1]:g} s"


def one_run(i: int, daemon_argv: list[str], naive_argv: list[str], args, env: dict) -> dict:
    jobs = [("daemon", daemon_argv), ("naive", naive_argv)]
    result = {}
    for name, argv in (jobs if i % 2 == 0 else jobs[::-1]):
        result[name] = measure(argv, args.seconds, args.warmup, env)
    return result


def median(values) -> float:
    return statistics.median(list(values))


def summary(runs: list[dict]) -> dict:
    out = {}
    for name in ("daemon", "naive"):
        out[name] = {k: median(asdict(r[name])[k] for r in runs) for k in asdict(runs[0][name])}
    out["ratio_steady"] = median(r["daemon"].steady_cpu / r["naive"].steady_cpu for r in runs)
    out["ratio_total"] = median(r["daemon"].total_cpu / r["naive"].total_cpu for r in runs)
    return out


def report(args, runs: list[dict], s: dict, note: str, load: tuple) -> str:
    lines = [f"clip: {args.clip.name}, looped, {args.seconds:g} s per process paced in real "
             f"time (steady state after {args.warmup:g} s), model {args.model}, {note}; "
             f"{len(runs)} runs, medians",
             f"{'':24}{'CPU % steady':>14}{'CPU % with start':>18}{'peak RSS MB':>13}"]
    for name, label in (("daemon", "daemon (defaults)"), ("naive", "naive (every frame)")):
        d = s[name]
        lines.append(f"{label:24}{d['steady_cpu']:>14.2f}{d['total_cpu']:>18.2f}"
                     f"{d['peak_rss_mb']:>13.0f}")
    lines.append(f"{'daemon / naive':24}{s['ratio_steady']:>14.3f}{s['ratio_total']:>18.3f}")
    for i, r in enumerate(runs, 1):
        d, n = r["daemon"], r["naive"]
        lines.append(f"  run {i}: daemon {d.steady_cpu:.2f} % ({d.total_cpu:.2f}), "
                     f"{d.peak_rss_mb:.0f} MB; naive {n.steady_cpu:.2f} % ({n.total_cpu:.2f}), "
                     f"{n.peak_rss_mb:.0f} MB; ratio {d.steady_cpu / n.steady_cpu:.3f}")
    lines.append(f"load average (1 min) before {load[0]:.2f}, after {load[1]:.2f} "
                 f"on {os.cpu_count()} CPUs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--no-profile", action="store_true", help="run the daemon uncalibrated")
    parser.add_argument("--daemon-arg", action="append", default=[], metavar="ARG",
                        help="one more argument for `posturewatch run` (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.warmup < args.seconds:
        parser.error("--warmup must be shorter than --seconds")
    if not args.clip.is_file():
        parser.error(f"no clip {args.clip}: give --clip")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        clip = looped_clip(args.clip, args.seconds, Path(tmp))
        env = dict(os.environ, POSTUREWATCH_HOME=str(Path(tmp) / "home"))
        env.pop("DISPLAY", None)
        note = "no profile" if args.no_profile else calibrate(args.clip, args.model, env)
        daemon_argv = [sys.executable, "-m", "posturewatch", "run", "--source", str(clip),
                       "--realtime", "--model", args.model, *args.daemon_arg]
        naive_argv = [sys.executable, "-c", NAIVE, str(clip), args.model]
        runs = [one_run(i, daemon_argv, naive_argv, args, env) for i in range(args.runs)]
    s = summary(runs)
    load = (load_before, os.getloadavg()[0])
    if args.json:
        print(json.dumps({"clip": args.clip.name, "seconds": args.seconds, "warmup": args.warmup,
                          "model": args.model, "profile": note, "load": load, "summary": s,
                          "runs": [{k: asdict(v) for k, v in r.items()} for r in runs]}, indent=2))
    else:
        print(report(args, runs, s, note, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
