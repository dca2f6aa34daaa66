"""Batch benchmark: does `posturewatch batch` use every core, and what does its machinery cost?

    .venv/bin/python benchmarks/batch_bench.py [--clips N] [--runs R] [--logs K] [--dask ADDRESS] [--json]

1. Throughput: the real `posturewatch batch` command (in this process, through
   `cli.main`; its workers are real spawned processes) over the sample clips
   with `--jobs 1` and `--jobs 2`, `--force` into a fresh temp folder each run,
   R runs each, alternating which goes first. Throughput = seconds of video
   analysed per second of wall time; reported: the median of the runs, and the
   speed-up jobs 2 / jobs 1 (target >= 1.7 on 2 cores).
2. Machinery overhead, from the `--jobs 1` runs: wall time minus the time the
   worker spent inside analyze's code path (`analyse_recording`, which includes
   each recording's fresh landmarker), as a share of the time inside
   `PoseLandmarker.detect_for_video` (inference). This includes starting the
   worker process, loading MediaPipe once, resolving the model, handing out
   jobs, sending results back, writing the JSON files and the summary. Split
   into the one-off start (the worker process's age when its worker object
   exists, plus loading MediaPipe) and the rest. Target: <= 2 % of inference.
   Also shown: how many cores the workers used on average (their CPU time from
   getrusage(RUSAGE_CHILDREN) / wall): near 1.0 for --jobs 1 on an idle machine,
   less when other processes take CPU; and seconds of video per worker CPU-second,
   which does not depend on how busy the machine is.
3. Per-input overhead with pose logs: batches of K and 2K copies of a pose log,
   `--jobs 1`; (wall - time in analyze's code path) grows by K inputs' machinery
   from one to the other. Shown next to a sample clip's inference time.
4. Memory: the workers' peak RSS (VmHWM), as each worker reports it with its results.

Timing inside the workers is added from outside: `batch.BatchWorker` is replaced
(for the run) by `TimedWorker`, a subclass that wraps detect_for_video and the
estimator's creation with timers in the worker process and returns the sums.
With --dask ADDRESS, one extra batch on that cluster reports the Dask workers'
peak RSS (for docs/batch.md).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from posturewatch.app import batch, cli  # noqa: E402
from posturewatch.app.batch_worker import BatchWorker, Outcome  # noqa: E402

DEFAULT_VIDEOS = Path(os.environ.get("POSTUREWATCH_SAMPLES", ROOT.parent / "shared" / "sample_videos"))
SPEEDUP_TARGET = 1.7
OVERHEAD_TARGET = 0.02


@dataclasses.dataclass(frozen=True)
class TimedOutcome(Outcome):
    inference_s: float = 0.0
    create_s: float = 0.0  # making each recording's landmarker
    start_s: float = 0.0  # on a worker's first job: from its process's start to its worker object


def _process_age_s() -> float:
    """Seconds since this process started (Linux /proc, 10 ms resolution)."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    return time.time() - (boot + ticks / os.sysconf("SC_CLK_TCK"))


class TimedWorker(BatchWorker):
    """BatchWorker with timers around inference and landmarker creation (in the worker process)."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.start_s = _process_age_s()  # spawn, interpreter, imports: until the worker exists

    def __call__(self, path, send=lambda done, total: None):
        from mediapipe.tasks.python import vision

        from posturewatch.adapters import mediapipe_pose

        clock = {"inference": 0.0, "create": 0.0}

        def timed(label, fn):
            def wrapper(*args, **kwargs):
                t0 = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    clock[label] += time.perf_counter() - t0
            return wrapper

        estimator = mediapipe_pose.MediaPipePoseEstimator
        with mock.patch.object(vision.PoseLandmarker, "detect_for_video",
                               timed("inference", vision.PoseLandmarker.detect_for_video)), \
                mock.patch.object(estimator, "__init__", timed("create", estimator.__init__)):
            outcome = super().__call__(path, send)
        start_s, self.start_s = self.start_s, 0.0  # counted once per worker
        return TimedOutcome(**dataclasses.asdict(outcome), inference_s=clock["inference"],
                            create_s=clock["create"], start_s=start_s)


def run_batch(inputs: list[Path], jobs: int | None, dask: str | None = None) -> dict:
    """One real `posturewatch batch` run; returns wall time and what the workers measured."""
    outcomes: list[TimedOutcome] = []
    original_finish = batch._finish

    def finish(item, outcome, out, bar):
        outcomes.append(outcome)
        return original_finish(item, outcome, out, bar)

    out = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    argv = ["batch", *map(str, inputs), "--out", str(out), "--force"]
    argv += ["--dask", dask] if dask else ["--jobs", str(jobs)]
    try:
        with mock.patch.object(batch, "BatchWorker", TimedWorker), \
                mock.patch.object(batch, "_finish", finish):
            cpu0 = _children_cpu()
            t0 = time.perf_counter()
            code = cli.main(argv)
            wall = time.perf_counter() - t0
            cpu = _children_cpu() - cpu0
        rows = json.loads((out / "summary.json").read_text())["inputs"]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"code": code, "wall_s": wall, "workers_cpu_s": cpu, "outcomes": outcomes, "rows": rows}


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the batch's workers, once joined)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sums(result: dict) -> dict:
    o = result["outcomes"]
    return {"analysis_s": sum(x.seconds for x in o), "inference_s": sum(x.inference_s for x in o),
            "create_s": sum(x.create_s for x in o), "setup_s": sum(x.setup_s for x in o),
            "start_s": sum(x.start_s for x in o),
            "video_s": sum(r["duration_s"] or 0 for r in result["rows"]),
            "peak_rss_mb": max((x.peak_rss_mb for x in o), default=0.0), "inputs": len(o),
            "failed": sum(r["status"] != "ok" for r in result["rows"])}


def throughput(videos: list[Path], runs: int) -> dict:
    per_jobs: dict[int, list[dict]] = {1: [], 2: []}
    for run in range(runs):
        for jobs in ((1, 2) if run % 2 == 0 else (2, 1)):
            result = run_batch(videos, jobs)
            s = sums(result)
            record = {**s, "wall_s": result["wall_s"], "throughput": s["video_s"] / result["wall_s"],
                      "cores_used": result["workers_cpu_s"] / result["wall_s"],
                      "per_cpu": s["video_s"] / result["workers_cpu_s"]}
            per_jobs[jobs].append(record)
            print(f"  run {run + 1} jobs {jobs}: {result['wall_s']:.1f} s wall, "
                  f"{record['throughput']:.2f} s of video per s, workers used {record['cores_used']:.2f} "
                  f"cores, load {os.getloadavg()[0]:.1f}, failed {s['failed']}", file=sys.stderr)
    return per_jobs


def machinery(records: list[dict]) -> dict:
    """From --jobs 1 runs: wall minus time inside analyze's code path, against inference."""
    out = []
    for r in records:
        total = r["wall_s"] - r["analysis_s"]
        startup = r["start_s"] + r["setup_s"]  # worker process and imports, MediaPipe: once
        out.append({"machinery_s": total, "share": total / r["inference_s"],
                    "startup_s": startup, "rest_s": total - startup,
                    "rest_share": (total - startup) / r["inference_s"],
                    "create_share": r["create_s"] / r["inference_s"],
                    "create_ms_per_input": r["create_s"] / r["inputs"] * 1e3,
                    "cores_used": r["cores_used"]})
    return {k: statistics.median(o[k] for o in out) for k in out[0]}


def per_input_with_logs(log: Path, copies: int, runs: int) -> dict:
    """Batches of K and 2K pose logs: the difference is K inputs' worth of machinery."""
    folder = Path(tempfile.mkdtemp(prefix="batch-bench-logs-"))
    try:
        inputs = [Path(shutil.copyfile(log, folder / f"log{i:04d}.jsonl")) for i in range(2 * copies)]
        per = []
        for _ in range(runs):
            small, large = (run_batch(inputs[:copies], 1), run_batch(inputs, 1))
            rest_k = small["wall_s"] - sums(small)["analysis_s"]
            rest_2k = large["wall_s"] - sums(large)["analysis_s"]
            per.append((rest_2k - rest_k) / copies)
        return {"copies": copies, "overhead_ms_per_input": statistics.median(per) * 1e3}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_log(video: Path, folder: Path) -> Path:
    """A pose log of one sample clip, made by `posturewatch analyze --poses`."""
    path = folder / f"{video.stem}.jsonl"
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        assert cli.main(["analyze", str(video), "--poses", str(path)]) == 0
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=Path, default=DEFAULT_VIDEOS)
    parser.add_argument("--clips", type=int, default=0, help="first N clips by name (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--logs", type=int, default=200, help="pose-log copies for the per-input overhead")
    parser.add_argument("--dask", metavar="ADDRESS", help="also measure the Dask workers' memory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    videos = sorted(args.videos.glob("*.mp4"))[: args.clips or None]
    print(f"{len(videos)} clips, {args.runs} runs, {platform.processor() or platform.machine()}, "
          f"cores available: {len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        logs = per_input_with_logs(make_log(videos[0], Path(tmp)), args.logs, args.runs)
    per_jobs = throughput(videos, args.runs)
    t1 = statistics.median(r["throughput"] for r in per_jobs[1])
    t2 = statistics.median(r["throughput"] for r in per_jobs[2])
    over = machinery(per_jobs[1])
    inference_per_clip = statistics.median(r["inference_s"] for r in per_jobs[1]) / len(videos)
    report = {
        "clips": len(videos), "runs": args.runs, "load_at_start": os.getloadavg()[0],
        "throughput_jobs1": t1, "throughput_jobs2": t2, "speedup": t2 / t1,
        "walls_jobs1": [r["wall_s"] for r in per_jobs[1]], "walls_jobs2": [r["wall_s"] for r in per_jobs[2]],
        "cores_used_jobs2": statistics.median(r["cores_used"] for r in per_jobs[2]),
        "per_cpu_jobs1": statistics.median(r["per_cpu"] for r in per_jobs[1]),
        "per_cpu_jobs2": statistics.median(r["per_cpu"] for r in per_jobs[2]),
        "machinery": over, "per_input_logs": logs,
        "inference_s_per_clip": inference_per_clip,
        "per_input_share": logs["overhead_ms_per_input"] / 1e3 / inference_per_clip,
        "worker_peak_rss_mb": max(r["peak_rss_mb"] for r in per_jobs[1] + per_jobs[2]),
    }
    if args.dask:
        report["dask_worker_peak_rss_mb"] = sums(run_batch(videos, None, args.dask))["peak_rss_mb"]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def print_report(r: dict) -> None:
    m = r["machinery"]
    print(f"clips: {r['clips']}, runs: {r['runs']} (medians)")
    print(f"throughput, s of video per s: jobs 1 {r['throughput_jobs1']:.2f}, jobs 2 {r['throughput_jobs2']:.2f}"
          f" -> speed-up {r['speedup']:.2f}x (target >= {SPEEDUP_TARGET})")
    print(f"  walls jobs 1: {', '.join(f'{w:.1f}' for w in r['walls_jobs1'])} s; "
          f"jobs 2: {', '.join(f'{w:.1f}' for w in r['walls_jobs2'])} s")
    print(f"  cores the workers used: jobs 1 {m['cores_used']:.2f}, jobs 2 {r['cores_used_jobs2']:.2f}; "
          f"s of video per worker CPU-second: jobs 1 {r['per_cpu_jobs1']:.2f}, jobs 2 {r['per_cpu_jobs2']:.2f} "
          "(where these are equal, two workers cost no more CPU per recording than one, and the "
          "speed-up is the ratio of the cores the workers got)")
    print(f"machinery (jobs 1): {m['machinery_s']:.2f} s = {m['share']:.2%} of inference "
          f"(target <= {OVERHEAD_TARGET:.0%})")
    print(f"  one-off start (worker process and imports, MediaPipe): {m['startup_s']:.2f} s; "
          f"the rest: {m['rest_s']:.2f} s = {m['rest_share']:.2%} of inference")
    print(f"  fresh landmarker per recording (inside analyze's path, not counted above): "
          f"{m['create_ms_per_input']:.0f} ms each = {m['create_share']:.2%} of inference")
    logs = r["per_input_logs"]
    print(f"per-input overhead with {logs['copies']} pose logs: {logs['overhead_ms_per_input']:.1f} ms per input "
          f"= {r['per_input_share']:.2%} of a sample clip's inference ({r['inference_s_per_clip']:.2f} s)")
    print(f"worker peak RSS: {r['worker_peak_rss_mb']:.0f} MB")
    if "dask_worker_peak_rss_mb" in r:
        print(f"Dask worker peak RSS: {r['dask_worker_peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
