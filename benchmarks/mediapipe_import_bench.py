"""What loading MediaPipe costs: the whole package versus only the pose landmarker.

    POSTUREWATCH_MODEL_DIR=../shared/models .venv/bin/python benchmarks/mediapipe_import_bench.py \
        [--runs 5] [--model lite] [--frames 30]

Each run is a fresh interpreter (after `import cv2, numpy`, which both ways need) that loads
MediaPipe one of two ways:

- whole: `import mediapipe` and `from mediapipe.tasks.python import BaseOptions, vision`,
  as this adapter did before;
- pose only: `adapters.mediapipe_pose.pose_api()`, which loads just the pose landmarker's modules.

It prints, as medians over the runs: the import time, RSS after the import and after loading
the model and estimating --frames frames of a blank image, and which heavy extras ended up
loaded (matplotlib, sounddevice, jax) and how many child processes a run started (ldconfig
or gcc, from the audio tasks' sound library lookup; counted in one extra run under strace,
when it is installed, so that tracing does not slow the timed runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
import json, sys, time
import cv2, numpy as np

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

how, model, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = rss_mb()
t0 = time.perf_counter()
if how == "whole":
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision
else:
    from posturewatch.adapters.mediapipe_pose import pose_api
    pose_api()
import_s = time.perf_counter() - t0
after_import = rss_mb()
extras = sorted(m for m in ("matplotlib", "sounddevice", "jax") if m in sys.modules)
from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
from posturewatch.ports import Frame
with MediaPipePoseEstimator(model) as estimator:
    image = np.zeros((480, 640, 3), np.uint8)
    for i in range(frames):
        estimator.estimate(Frame(image, i / 5, i))
    after_frames = rss_mb()
print(json.dumps({"import_s": import_s, "base_mb": base, "import_mb": after_import - base,
                  "rss_import_mb": after_import, "rss_frames_mb": after_frames, "extras": extras}))
"""


def children(trace: Path) -> int:
    """Processes started during the run (the interpreter itself excluded)."""
    text = trace.read_text() if trace.exists() else ""
    return max(0, text.count("execve(") - 1)


def run_once(how: str, model: str, frames: int) -> dict:
    argv = [sys.executable, "-c", PROBE, how, model, str(frames)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def count_children(how: str, model: str) -> int | None:
    """Processes started by one run, under strace (which would slow the timed runs)."""
    if not shutil.which("strace"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-o", str(trace),
                        sys.executable, "-c", PROBE, how, model, "1"], check=True,
                       capture_output=True)
        return children(trace)


def model_path(variant: str) -> str:
    from posturewatch.adapters.models import resolve_model
    return str(resolve_model(variant, allow_download=False).path)


def summarise(runs: list[dict]) -> dict:
    keys = ("import_s", "import_mb", "rss_import_mb", "rss_frames_mb")
    summary = {k: statistics.median(r[k] for r in runs) for k in keys}
    summary["extras"] = runs[0]["extras"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="lite", help="variant (default lite)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from importlib.metadata import version
    model = model_path(args.model)
    results = {}
    for _ in range(args.runs):  # interleaved, so both ways see the same machine load
        for how in ("whole", "pose-only"):
            results.setdefault(how, []).append(run_once(how, model, args.frames))
    table = {how: summarise(runs) for how, runs in results.items()}
    for how, summary in table.items():
        summary["children"] = count_children(how, model)
    if args.json:
        print(json.dumps({"mediapipe": version("mediapipe"), "runs": args.runs, **table}, indent=2))
        return
    print(f"mediapipe {version('mediapipe')}, Python {sys.version.split()[0]}, "
          f"medians of {args.runs} runs, {args.model} model, {args.frames} frames")
    print(f"{'':10} {'import s':>9} {'import MB':>10} {'RSS after import':>17} "
          f"{'RSS after frames':>17}  children  extras loaded")
    for how, s in table.items():
        print(f"{how:10} {s['import_s']:9.2f} {s['import_mb']:10.0f} {s['rss_import_mb']:14.0f} MB"
              f" {s['rss_frames_mb']:14.0f} MB  {s['children']!s:>8}  {', '.join(s['extras']) or '-'}")


if __name__ == "__main__":
    os.environ.setdefault("POSTUREWATCH_MODEL_DIR", str(Path(__file__).resolve().parents[2]
                                                         / "shared" / "models"))
    main()
