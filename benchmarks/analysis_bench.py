"""Analysis performance benchmark: where the time of `posturewatch analyze` goes.

    .venv/bin/python benchmarks/analysis_bench.py [--clips N] [--runs R] [--json]

For each sample clip and each run it makes three passes, in the same process:

  plain    the real `posturewatch analyze CLIP` path (`app.analyze.analyse` with the
           CLI's defaults: 5 fps, the default model), untouched except that model
           resolution and loading are timed, so they can be left out.
  bound    decoding plus inference alone: the same frames grabbed/retrieved at the
           same sampling and fed to `PoseLandmarker.detect_for_video`, nothing else.
           The model is given exactly the pixels analysis gives it (the frame is
           downscaled and converted to RGB as analysis does, so tracking behaves the
           same), but that preparation is timed and subtracted from the bound.
  traced   the real `analyse` path again, with timing wrappers patched around the
           calls it makes (decode, downscale, cvtColor, mp.Image, detect_for_video,
           to_pose, observe, SummaryBuilder.update): the per-frame breakdown.

Model resolution + loading (`resolve_model`, the landmarker's creation) is excluded
from both analysis and bound times; opening/closing the video and closing the
landmarker are included in both. No product module is modified: timing is done by
wrapping from the outside (subclasses and patched module attributes, restored after
each pass).

Only this script's numbers are printed to stdout; MediaPipe's native chatter on fd 2
is silenced during the passes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cv2  # noqa: E402
import mediapipe as mp  # noqa: E402

import posturewatch  # noqa: E402
from posturewatch.adapters import mediapipe_pose, models, video  # noqa: E402
from posturewatch.app import analyze, cli, inputs  # noqa: E402
from posturewatch.core import session  # noqa: E402
from posturewatch.core.sampling import FrameSampler  # noqa: E402
from posturewatch.core.summary import SummaryBuilder  # noqa: E402

DEFAULT_VIDEOS = Path(os.environ.get("POSTUREWATCH_SAMPLE_VIDEOS", ROOT.parent / "shared" / "sample_videos"))
DEFAULT_MODELS = Path(os.environ.get("POSTUREWATCH_MODEL_DIR", ROOT.parent / "shared" / "models"))
# Different sizes and frame rates; the first --clips of these are used.
PREFERRED_CLIPS = (
    "render_m1_upright_steady",         # 640x480, 10 fps, 15 s (rendered)
    "warp_intel_man_slouch_gradual",    # 480x270, 12.5 fps, 44 s
    "warp_proctor_man_upright_steady",  # 296x224, 10 fps, 45 s
    "real_side_man_seated_stands",      # 950x810, 30 fps, 58 s (downscaled to 640 wide)
    "warp_selfie_woman_slouch_gradual",  # 640x360, 12.5 fps
    "real_selfie_woman_upright",        # 640x360, 25 fps
    "warp_astronaut_still_slouch_and_glance",  # 512x512, 12.5 fps
    "warp_nvinay_side_view_slideshow",  # 480x640 portrait, 10 fps
)
OVERHEAD_TARGET = 0.05  # our per-frame overhead / inference
SPEED_TARGET = 0.80  # analysis speed / bound speed
# What counts as "our overhead" for the 5 % target (decode is the bound's, reported apart).
OURS = ("downscale", "cvtColor", "mp_image", "to_pose", "observe", "summary")


# --- timing helpers ------------------------------------------------------------------


@dataclass
class Clock:
    """Accumulated seconds per label (and call counts)."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, dt: float) -> None:
        self.seconds[label] = self.seconds.get(label, 0.0) + dt
        self.calls[label] = self.calls.get(label, 0) + 1

    def wrap(self, label: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - t0)
        return timed

    def get(self, label: str) -> float:
        return self.seconds.get(label, 0.0)


class _Forward:
    """Forwards every attribute to `target`, except the ones set on the instance."""

    def __init__(self, target, **overrides) -> None:
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._target, name)


class _TimedCapture:
    """A cv2.VideoCapture whose grab/retrieve are timed; a retrieved frame's grab counts as kept."""

    def __init__(self, cap, clock: Clock) -> None:
        self.cap, self.clock, self.last_grab = cap, clock, 0.0

    def grab(self):
        t0 = time.perf_counter()
        ok = self.cap.grab()
        self.last_grab = time.perf_counter() - t0
        self.clock.add("decode_skipped", self.last_grab)
        return ok

    def retrieve(self, *args):
        t0 = time.perf_counter()
        result = self.cap.retrieve(*args)
        dt = time.perf_counter() - t0
        # This frame was wanted after all: move its grab from "skipped" to "kept".
        self.clock.seconds["decode_skipped"] -= self.last_grab
        self.clock.calls["decode_skipped"] -= 1
        self.clock.add("decode_kept", self.last_grab + dt)
        return result

    def __getattr__(self, name):
        return getattr(self.cap, name)


def fd2_silenced():
    """MediaPipe/TFLite/glog write straight to fd 2; keep the benchmark's output readable."""
    return mediapipe_pose.native_stderr_quiet(True)


# --- the three passes ----------------------------------------------------------------


def _setup_patches(clock: Clock):
    """Time model resolution and loading (excluded) and the landmarker's close (included)."""
    original_estimator = mediapipe_pose.MediaPipePoseEstimator

    class SetupTimedEstimator(original_estimator):
        def __init__(self, *args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            super().__init__(*args, **kwargs)
            clock.add("setup", time.perf_counter() - t0)
            clock.add("setup_cpu", time.process_time() - c0)

        def close(self):
            t0 = time.perf_counter()
            super().close()
            clock.add("open_close", time.perf_counter() - t0)

    original_resolve = models.resolve_model

    def resolve(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return original_resolve(*args, **kwargs)
        finally:
            clock.add("setup", time.perf_counter() - t0)
            clock.add("setup_cpu", time.process_time() - c0)

    return [
        mock.patch.object(models, "resolve_model", resolve),
        mock.patch.object(mediapipe_pose, "MediaPipePoseEstimator", SetupTimedEstimator),
    ]


def _trace_patches(clock: Clock):
    """Timing wrappers around every call the analysis path makes per frame."""
    original_estimator = mediapipe_pose.MediaPipePoseEstimator  # the real one (not yet patched)
    original_source = inputs.VideoFileSource

    class TracedEstimator(original_estimator):
        def __init__(self, *args, **kwargs):
            t0 = time.perf_counter()
            super().__init__(*args, **kwargs)
            clock.add("setup", time.perf_counter() - t0)
            lm = self.landmarker
            self.landmarker = _Forward(lm, detect_for_video=clock.wrap("inference", lm.detect_for_video))
            self.api = _Forward(self.api, Image=clock.wrap("mp_image", self.api.Image))

        def close(self):
            t0 = time.perf_counter()
            if isinstance(self.landmarker, _Forward):
                self.landmarker = self.landmarker._target
            super().close()
            clock.add("open_close", time.perf_counter() - t0)

    class TracedSource(original_source):
        def __init__(self, *args, **kwargs):
            t0 = time.perf_counter()
            super().__init__(*args, **kwargs)
            self.cap = _TimedCapture(self.cap, clock)
            clock.add("open_close", time.perf_counter() - t0)

        def close(self):
            t0 = time.perf_counter()
            super().close()
            clock.add("open_close", time.perf_counter() - t0)

    class TracedSummaryBuilder(SummaryBuilder):
        def update(self, obs):
            t0 = time.perf_counter()
            super().update(obs)
            clock.add("summary", time.perf_counter() - t0)

    cv2_proxy = _Forward(cv2, cvtColor=clock.wrap("cvtColor", cv2.cvtColor))
    return [
        mock.patch.object(models, "resolve_model", clock.wrap("setup", models.resolve_model)),
        mock.patch.object(mediapipe_pose, "MediaPipePoseEstimator", TracedEstimator),
        mock.patch.object(inputs, "VideoFileSource", TracedSource),
        mock.patch.object(video, "downscale", clock.wrap("downscale", video.downscale)),
        mock.patch.object(mediapipe_pose, "cv2", cv2_proxy),
        mock.patch.object(mediapipe_pose, "to_pose", clock.wrap("to_pose", mediapipe_pose.to_pose)),
        # The session observes each pose (the presence rule and the features).
        mock.patch.object(session, "observe", clock.wrap("observe", session.observe)),
        mock.patch.object(analyze, "SummaryBuilder", TracedSummaryBuilder),
    ]


def run_analysis(args: argparse.Namespace, traced: bool) -> dict:
    """The real analyse(); returns seconds without setup, frames and the clock."""
    clock = Clock()
    patches = _trace_patches(clock) if traced else _setup_patches(clock)
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyze.analyse(args)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": wall - clock.get("setup"), "setup_s": clock.get("setup"),
            "cpu_s": cpu - clock.get("setup_cpu"),
            "frames": result.summary.frames_analyzed, "person_ratio": result.summary.person_ratio,
            "model": result.model, "clock": clock}


def kept_indices(frame_count: int, source_fps: float, fps: float) -> set[int]:
    """The frames VideoFileSource keeps (start 0, no end), decided before timing starts."""
    sampler = FrameSampler(fps)
    return {i for i in range(frame_count) if sampler.wants(i / source_fps)}


def run_bound(path: Path, model_path: Path, fps: float) -> dict:
    """Decode + detect_for_video alone, on the same frames and pixels as analysis."""
    probe = cv2.VideoCapture(str(path))
    frame_count, source_fps = int(probe.get(cv2.CAP_PROP_FRAME_COUNT)), probe.get(cv2.CAP_PROP_FPS)
    probe.release()
    keep = kept_indices(frame_count, source_fps, fps)
    estimator = mediapipe_pose.MediaPipePoseEstimator(model_path)  # same options; setup, untimed
    detect, fmt = estimator.landmarker.detect_for_video, mp.ImageFormat.SRGB
    decode = prep = prep_cpu = infer = 0.0
    frames = found = 0
    last_ms = -1
    perf, cpu = time.perf_counter, time.process_time
    t_start, c_start = perf(), cpu()
    cap = cv2.VideoCapture(str(path))
    for index in range(frame_count):
        t0 = perf()
        if not cap.grab():
            decode += perf() - t0
            break
        if index not in keep:
            decode += perf() - t0
            continue
        ok, image = cap.retrieve()
        t1, c1 = perf(), cpu()
        # Not part of the bound: give the model the very pixels analysis gives it.
        rgb = mp.Image(image_format=fmt,
                       data=cv2.cvtColor(video.downscale(image, video.DEFAULT_MAX_WIDTH), cv2.COLOR_BGR2RGB))
        t2 = perf()
        prep_cpu += cpu() - c1
        ms = max(int(round(index / source_fps * 1000)), last_ms + 1)
        last_ms = ms
        result = detect(rgb, ms)
        t3 = perf()
        decode += t1 - t0
        prep += t2 - t1
        infer += t3 - t2
        frames += 1
        found += bool(result.pose_landmarks)
    cap.release()
    estimator.close()
    wall, cpu_s = perf() - t_start, cpu() - c_start
    return {"seconds": wall - prep, "seconds_with_prep": wall, "prep_s": prep, "decode_s": decode,
            "cpu_s": cpu_s - prep_cpu,
            "inference_s": infer, "frames": frames, "person_frames": found,
            "duration_s": frame_count / source_fps}


# --- --downscale: a what-if experiment, patched in from outside -----------------------


def _resize_linear(image, max_width: int):
    height, width = image.shape[:2]
    if max_width <= 0 or width <= max_width:
        return image
    return cv2.resize(image, (max_width, round(height * max_width / width)), interpolation=cv2.INTER_LINEAR)


DOWNSCALE_VARIANTS = {
    "product": None,  # the product's own video.downscale (cv2.INTER_AREA)
    "linear": _resize_linear,  # the same size with cv2.INTER_LINEAR
    "none": lambda image, max_width: image,  # hand MediaPipe the frame as decoded
}


def downscale_variant(name: str):
    replacement = DOWNSCALE_VARIANTS[name]
    return contextlib.nullcontext() if replacement is None else mock.patch.object(video, "downscale", replacement)


# --- one clip, one run ---------------------------------------------------------------


def clip_run(path: Path, model_path: Path, fps_arg: list[str], order: int, variant: str = "product") -> dict:
    args = cli.build_parser().parse_args(["analyze", str(path), *fps_arg])
    fps = inputs.DEFAULT_VIDEO_FPS if args.fps is None else args.fps
    passes: dict[str, dict] = {}
    # Alternate which of the two compared passes goes first, so drift hits both alike.
    sequence = ("plain", "bound") if order % 2 == 0 else ("bound", "plain")
    with fd2_silenced(), downscale_variant(variant):
        for name in (*sequence, "traced"):
            if name == "bound":
                passes[name] = run_bound(path, model_path, fps)
            else:
                passes[name] = run_analysis(args, traced=(name == "traced"))
    return summarise_run(passes)


def summarise_run(p: dict) -> dict:
    plain, bound, traced = p["plain"], p["bound"], p["traced"]
    clock: Clock = traced["clock"]
    n = traced["frames"]
    per = {k: clock.get(k) / n * 1e3 for k in
           ("decode_kept", "decode_skipped", "downscale", "cvtColor", "mp_image", "inference",
            "to_pose", "observe", "summary", "open_close")}
    measured = sum(per.values())
    per["plumbing"] = traced["seconds"] / n * 1e3 - measured  # generators, Frame/TimedPose, progress...
    per["decode"] = per["decode_kept"] + per["decode_skipped"]
    per["ours"] = sum(per[k] for k in OURS)
    per["ours_all"] = per["ours"] + per["plumbing"]
    duration = bound["duration_s"]
    frames_agree = plain["frames"] == bound["frames"] == traced["frames"]
    return {
        "frames": n, "frames_agree": frames_agree, "duration_s": duration,
        "model": plain["model"], "setup_s": plain["setup_s"],
        "person_ratio": plain["person_ratio"], "bound_person_ratio": bound["person_frames"] / max(1, bound["frames"]),
        "ms_per_frame": per,
        "overhead_ratio": per["ours"] / per["inference"],
        "overhead_ratio_all": per["ours_all"] / per["inference"],
        "analysis_s": plain["seconds"], "bound_s": bound["seconds"],
        "bound_with_prep_s": bound["seconds_with_prep"],
        "bound_inference_ms": bound["inference_s"] / bound["frames"] * 1e3,
        "bound_decode_ms": bound["decode_s"] / bound["frames"] * 1e3,
        "analysis_x_realtime": duration / plain["seconds"],
        "bound_x_realtime": duration / bound["seconds"],
        "speed_ratio": bound["seconds"] / plain["seconds"],  # = analysis speed / bound speed
        "speed_ratio_vs_prep_bound": bound["seconds_with_prep"] / plain["seconds"],
        "analysis_cpu_s": plain["cpu_s"], "bound_cpu_s": bound["cpu_s"],
        "cpu_ratio": bound["cpu_s"] / plain["cpu_s"],  # the same ratio in CPU time of this process
        "traced_s": traced["seconds"],
    }


# --- --investigate: what the conversion costs, and what alternatives would cost -------


def _median_ms(fn, items, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - t0)
    return median(times) * 1e3


def _kept_frames(path: Path, fps: float, limit: int) -> tuple[list, float]:
    cap = cv2.VideoCapture(str(path))
    count, source_fps = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS)
    keep, frames = kept_indices(count, source_fps, fps), []
    for index in range(count):
        if len(frames) >= limit or not cap.grab():
            break
        if index in keep:
            frames.append((index / source_fps, cap.retrieve()[1]))
    cap.release()
    return frames, source_fps


def _inference_by_size(frames: list, model_path: Path) -> dict:
    """detect_for_video on full-size vs downscaled frames, alternating frame by frame."""
    full_est = mediapipe_pose.MediaPipePoseEstimator(model_path)
    small_est = mediapipe_pose.MediaPipePoseEstimator(model_path)
    times: dict[str, list[float]] = {"full": [], "downscaled": []}
    for i, (t, image) in enumerate(frames):
        inputs_ = {"full": (full_est, image),
                   "downscaled": (small_est, video.downscale(image, video.DEFAULT_MAX_WIDTH))}
        for name in (("full", "downscaled") if i % 2 == 0 else ("downscaled", "full")):
            est, img = inputs_[name]
            mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            t0 = time.perf_counter()
            est.landmarker.detect_for_video(mp_image, int(round(t * 1000)))
            times[name].append(time.perf_counter() - t0)
    full_est.close()
    small_est.close()
    return {k: median(v[3:]) * 1e3 for k, v in times.items()}  # skip the warm-up frames


def investigate(path: Path, model_path: Path, fps: float, limit: int = 60) -> dict:
    frames, _ = _kept_frames(path, fps, limit)
    images = [image for _, image in frames]
    h, w = images[0].shape[:2]
    small = [video.downscale(im, video.DEFAULT_MAX_WIDTH) for im in images]
    size = (small[0].shape[1], small[0].shape[0])
    rgb = [cv2.cvtColor(im, cv2.COLOR_BGR2RGB) for im in small]
    dst = rgb[0].copy()
    out = {
        "size": f"{w}x{h}", "model_input": f"{size[0]}x{size[1]}",
        "downscale_area": _median_ms(lambda im: video.downscale(im, video.DEFAULT_MAX_WIDTH), images),
        "resize_linear": _median_ms(lambda im: cv2.resize(im, size, interpolation=cv2.INTER_LINEAR), images),
        "cvtColor": _median_ms(lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2RGB), small),
        "cvtColor_into_dst": _median_ms(lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2RGB, dst=dst), small),
        "mp_image": _median_ms(lambda im: mp.Image(image_format=mp.ImageFormat.SRGB, data=im), rgb),
        "cvt_mp_image_full_size": _median_ms(
            lambda im: mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(im, cv2.COLOR_BGR2RGB)), images),
    }
    # Common webcam sizes, made by upscaling these frames: what downscale would cost there.
    for width, height in ((1280, 720), (1920, 1080)):
        big = [cv2.resize(im, (width, height)) for im in images[:20]]
        out[f"downscale_area_{width}x{height}"] = _median_ms(
            lambda im: video.downscale(im, video.DEFAULT_MAX_WIDTH), big)
        out[f"resize_linear_{width}x{height}"] = _median_ms(
            lambda im: cv2.resize(im, (640, 360), interpolation=cv2.INTER_LINEAR), big)
    if w > video.DEFAULT_MAX_WIDTH:
        out["inference"] = _inference_by_size(frames, model_path)
    return out


def print_investigation(found: dict[str, dict]) -> None:
    print()
    print("Investigation (median ms per analysed frame, isolated micro-benchmarks on the sampled frames):")
    cols = ("downscale_area", "resize_linear", "cvtColor", "cvtColor_into_dst", "mp_image", "cvt_mp_image_full_size")
    print(f"{'clip':<40}{'size':>9}{'model in':>9}" + "".join(f"{c:>24}" for c in cols))
    for name, f in found.items():
        print(f"{name:<40}{f['size']:>9}{f['model_input']:>9}" + "".join(f"{f[c]:>24.3f}" for c in cols))
        print(f"  {name}: upscaled to 1280x720 downscale_area {f['downscale_area_1280x720']:.3f} / resize_linear "
              f"{f['resize_linear_1280x720']:.3f}; 1920x1080 {f['downscale_area_1920x1080']:.3f} / "
              f"{f['resize_linear_1920x1080']:.3f}")
        if "inference" in f:
            inf = f["inference"]
            print(f"  {name}: inference on the full {f['size']} frame {inf['full']:.2f} ms vs "
                  f"downscaled {f['model_input']} {inf['downscaled']:.2f} ms (alternating frame by frame)")
    print("  downscale_area = the product's downscale (cv2.INTER_AREA, a no-op at <= 640 px wide);"
          " resize_linear = cv2.INTER_LINEAR to the same size;")
    print("  cvt_mp_image_full_size = cvtColor + mp.Image on the frame as decoded (no downscale)")


# --- reporting -----------------------------------------------------------------------


def median(values) -> float:
    return statistics.median(values)


def aggregate(runs: list[dict]) -> dict:
    """Medians over runs of every number of one clip."""
    out = {k: median([r[k] for r in runs]) for k in runs[0]
           if isinstance(runs[0][k], (int, float)) and not isinstance(runs[0][k], bool)}
    out["ms_per_frame"] = {k: median([r["ms_per_frame"][k] for r in runs]) for k in runs[0]["ms_per_frame"]}
    out["frames_agree"] = all(r["frames_agree"] for r in runs)
    out["model"] = runs[0]["model"]
    out["speed_ratio_runs"] = [r["speed_ratio"] for r in runs]
    out["cpu_ratio_runs"] = [r["cpu_ratio"] for r in runs]
    out["overhead_ratio_runs"] = [r["overhead_ratio"] for r in runs]
    return out


def overall(per_clip: dict[str, list[dict]]) -> dict:
    """All clips together, per run (sums of times within one run), then medians over runs."""
    n_runs = len(next(iter(per_clip.values())))
    speed, cpu, overhead, overhead_all = [], [], [], []
    for i in range(n_runs):
        runs = [clip_runs[i] for clip_runs in per_clip.values()]
        speed.append(sum(r["bound_s"] for r in runs) / sum(r["analysis_s"] for r in runs))
        cpu.append(sum(r["bound_cpu_s"] for r in runs) / sum(r["analysis_cpu_s"] for r in runs))
        infer = sum(r["ms_per_frame"]["inference"] * r["frames"] for r in runs)
        overhead.append(sum(r["ms_per_frame"]["ours"] * r["frames"] for r in runs) / infer)
        overhead_all.append(sum(r["ms_per_frame"]["ours_all"] * r["frames"] for r in runs) / infer)
    return {"speed_ratio": median(speed), "speed_ratio_runs": speed,
            "cpu_ratio": median(cpu), "cpu_ratio_runs": cpu,
            "overhead_ratio": median(overhead), "overhead_ratio_runs": overhead,
            "overhead_ratio_all": median(overhead_all)}


def machine_info() -> dict:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    commit = None
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"), "nproc": os.cpu_count(), "cpu": cpu,
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg_at_start": load, "platform": platform.platform(), "python": platform.python_version(),
        "posturewatch": posturewatch.__version__, "commit": commit, "mediapipe": mp.__version__,
        "opencv": cv2.__version__, "numpy": __import__("numpy").__version__,
    }


def verdicts(total: dict, clips: dict[str, dict]) -> list[tuple[str, bool, str]]:
    """A target passes when every clip's median and the all-clips figure meet it."""
    o, s, c = total["overhead_ratio"], total["speed_ratio"], total["cpu_ratio"]
    worst_o = max(clips, key=lambda n: clips[n]["overhead_ratio"])
    worst_s = min(clips, key=lambda n: clips[n]["speed_ratio"])
    worst_c = min(clips, key=lambda n: clips[n]["cpu_ratio"])
    ok_o = o <= OVERHEAD_TARGET and clips[worst_o]["overhead_ratio"] <= OVERHEAD_TARGET
    ok_s = s >= SPEED_TARGET and clips[worst_s]["speed_ratio"] >= SPEED_TARGET
    ok_c = c >= SPEED_TARGET and clips[worst_c]["cpu_ratio"] >= SPEED_TARGET
    agree = "agrees" if ok_c == ok_s else "DISAGREES: the machine is noisy, rerun with more --runs"
    return [
        ("overhead", ok_o,
         f"our overhead (conversion + to_pose + features + summary; decode not counted) = "
         f"{o:.2%} of inference over all clips, worst clip {worst_o} "
         f"{clips[worst_o]['overhead_ratio']:.2%} (target <= {OVERHEAD_TARGET:.0%})"),
        ("speed", ok_s,
         f"analysis speed = {s:.1%} of the decode+inference bound over all clips, worst clip {worst_s} "
         f"{clips[worst_s]['speed_ratio']:.1%} (target >= {SPEED_TARGET:.0%}); in CPU time {c:.1%}, "
         f"worst {worst_c} {clips[worst_c]['cpu_ratio']:.1%} ({agree})"),
    ]


def print_text(machine: dict, settings: dict, clips: dict[str, dict], total: dict) -> None:
    m = machine
    print(f"posturewatch analysis benchmark  {m['date']}  (commit {m['commit']})")
    print(f"machine: {m['nproc']} CPUs ({m['affinity']} usable), {m['cpu']}, load at start "
          f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'] or [])}; {m['platform']}")
    print(f"versions: python {m['python']}, mediapipe {m['mediapipe']}, opencv {m['opencv']}, "
          f"numpy {m['numpy']}, posturewatch {m['posturewatch']}")
    print(f"settings: analyze defaults (fps {settings['fps']:g}, model {settings['model']}), "
          f"{settings['runs']} runs per clip, medians over runs; model load excluded from both "
          "analysis and bound")
    if settings["downscale"] != "product":
        print(f"WHAT-IF: frame downscale replaced by {settings['downscale']!r} - not the product's numbers")
    print()
    print("Per analysed frame, ms (traced pass of the real analyse path):")
    cols = ("inference", "decode", "downscale", "cvtColor", "mp_image", "to_pose", "observe",
            "summary", "ours", "plumbing")
    head = f"{'clip':<40}{'size':>9}{'fps':>6}{'frames':>7}" + "".join(f"{c:>10}" for c in cols) + f"{'ours/inf':>10}"
    print(head)
    for name, c in clips.items():
        ms = c["ms_per_frame"]
        print(f"{name:<40}{c['size']:>9}{c['source_fps']:>6.3g}{c['frames']:>7.0f}"
              + "".join(f"{ms[k]:>10.3f}" for k in cols) + f"{c['overhead_ratio']:>10.2%}")
    print("  decode = grab+retrieve of analysed frames + grab() of skipped ones (the bound's, not ours);")
    print("  ours = downscale + cvtColor + mp.Image + to_pose + observe + summary;"
          " plumbing = the rest of the loop (generators, Frame/TimedPose, progress, timers)")
    print()
    print("Speed (x real time, model load excluded from both):")
    print(f"{'clip':<40}{'video s':>8}{'analysis s':>11}{'bound s':>9}{'analysis':>10}{'bound':>8}"
          f"{'ratio':>8}{'cpu ratio':>10}{'load s':>8}{'bound inf':>10}  ratio per run")
    for name, c in clips.items():
        runs = " ".join(f"{r:.3f}" for r in c["speed_ratio_runs"])
        print(f"{name:<40}{c['duration_s']:>8.1f}{c['analysis_s']:>11.2f}{c['bound_s']:>9.2f}"
              f"{c['analysis_x_realtime']:>9.1f}x{c['bound_x_realtime']:>7.1f}x{c['speed_ratio']:>8.3f}"
              f"{c['cpu_ratio']:>10.3f}"
              f"{c['setup_s']:>8.2f}{c['bound_inference_ms']:>10.3f}  {runs}")
    print("  ratio = analysis speed / bound speed, measured within each run (median shown);"
          " bound = decode + detect_for_video only;")
    print("  cpu ratio = the same ratio in CPU seconds of this process (less sensitive to other load);")
    print("  load s = model resolution + loading, left out of both; bound inf = inference ms/frame"
          " in the bound pass (should match the traced pass)")
    print()
    print(f"all clips: overhead/inference {total['overhead_ratio']:.2%} (incl. plumbing "
          f"{total['overhead_ratio_all']:.2%}), speed ratio {total['speed_ratio']:.3f} "
          f"(runs: {' '.join(f'{r:.3f}' for r in total['speed_ratio_runs'])}), "
          f"CPU-time ratio {total['cpu_ratio']:.3f} (runs: {' '.join(f'{r:.3f}' for r in total['cpu_ratio_runs'])})")
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in m['loadavg_at_end'] or [])}")
    for v in total["verdicts"]:
        print(f"VERDICT {v['target']}: {'PASS' if v['pass'] else 'FAIL'} - {v['text']}")
    for name, c in clips.items():
        if not c["frames_agree"]:
            print(f"WARNING {name}: the passes analysed different numbers of frames")


def jsonable(obj):
    if isinstance(obj, Clock):
        return obj.seconds
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj


# --- main ----------------------------------------------------------------------------


def pick_clips(videos: Path, count: int, names: list[str] | None) -> list[Path]:
    if names:
        paths = [videos / (n if n.endswith(".mp4") else n + ".mp4") for n in names]
    else:
        available = sorted(p.stem for p in videos.glob("*.mp4"))
        ordered = [c for c in PREFERRED_CLIPS if c in available] + [c for c in available if c not in PREFERRED_CLIPS]
        paths = [videos / f"{c}.mp4" for c in ordered[:count]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        raise SystemExit(f"analysis_bench: no such clip(s): {', '.join(missing) or videos}")
    return paths


def clip_meta(path: Path) -> dict:
    cap = cv2.VideoCapture(str(path))
    meta = {"size": f"{int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}",
            "source_fps": cap.get(cv2.CAP_PROP_FPS), "source_frames": int(cap.get(cv2.CAP_PROP_FRAME_COUNT))}
    cap.release()
    return meta


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=4, help="how many sample clips (default 4)")
    parser.add_argument("--clip", action="append", metavar="NAME", help="a named clip (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs per clip; medians are reported (default 3)")
    parser.add_argument("--fps", metavar="N", help="analysis fps (default: the analyze command's default)")
    parser.add_argument("--videos", type=Path, default=DEFAULT_VIDEOS, help="folder of sample clips")
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="folder of pose_landmarker_*.task")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--downscale", choices=tuple(DOWNSCALE_VARIANTS), default="product",
                        help="what-if experiment: replace the product's frame downscale (INTER_AREA) with "
                        "INTER_LINEAR or with none, patched in from outside (default: product)")
    parser.add_argument("--investigate", action="store_true",
                        help="also micro-benchmark the conversion steps and their alternatives")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON document to FILE")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    # The analyze path resolves the default model through the environment, as a user's would.
    os.environ["POSTUREWATCH_MODEL_DIR"] = str(opts.models)
    os.environ.pop("POSTUREWATCH_MODEL", None)
    model = models.resolve_model(None, allow_download=False)
    fps_arg = ["--fps", opts.fps] if opts.fps is not None else []
    machine = machine_info()
    paths = pick_clips(opts.videos, opts.clips, opts.clip)
    per_clip: dict[str, list[dict]] = {p.stem: [] for p in paths}
    for run in range(opts.runs):
        for i, path in enumerate(paths):
            if not opts.json:
                print(f"run {run + 1}/{opts.runs}: {path.stem} ...", file=sys.stderr, flush=True)
            per_clip[path.stem].append(clip_run(path, model.path, fps_arg, run + i, opts.downscale))
    clips = {name: {**clip_meta(opts.videos / f"{name}.mp4"), **aggregate(runs)}
             for name, runs in per_clip.items()}
    total = overall(per_clip)
    total["verdicts"] = [{"target": name, "pass": ok, "text": text} for name, ok, text in verdicts(total, clips)]
    found = {}
    if opts.investigate:
        fps = float(opts.fps) if opts.fps else inputs.DEFAULT_VIDEO_FPS
        with fd2_silenced():
            found = {p.stem: investigate(p, model.path, fps) for p in paths}
    machine["loadavg_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    settings = {"fps": float(opts.fps) if opts.fps else inputs.DEFAULT_VIDEO_FPS,
                "model": f"{model.variant} ({model.path.name})", "runs": opts.runs,
                "model_load": "excluded from analysis and bound", "downscale": opts.downscale}
    document = json.dumps(jsonable({"machine": machine, "settings": settings, "clips": clips,
                                    "all_clips": total, "runs": per_clip, "investigation": found}), indent=2)
    if opts.out:
        opts.out.write_text(document + "\n")
    if opts.json:
        print(document)
    else:
        print_text(machine, settings, clips, total)
        if found:
            print_investigation(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
