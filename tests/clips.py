"""The sample clips for tests: where they are, their labels, and their poses.

    import clips

    clips.names()                          # every clip in sample_videos/clips.toml
    clips.names(containing="slouch")       # ... whose labels include slouch
    clips.names(kind="warp", poor=True)    # filters combine
    clips.entry(name)                      # its clips.toml entry (a dict)
    clips.video(name)                      # Path of <samples>/<name>.mp4
    clips.labels(name)                     # adapters.labels.Labels from <name>.labels.csv
    clips.label_rows(name)                 # every column of the label file, one dict per frame
    clips.truth_poses(name)                # [(t, core Pose | None)] from the labelled landmark pixels
    clips.held(name, t)                    # the label file says no posture change is under way at t
    clips.pose_log(name, fps=5.0)          # Path of a pose log made by the real pipeline
    clips.poses(name, fps=5.0)             # [core TimedPose] replayed from that pose log
    clips.poses(name, 1.0, variant="lite") # ... made with another pose model (the daemon's)
    clips.observations(name, fps=5.0)      # [core Observation] of them, without a profile
    clips.samples_dir(), clips.models_dir(), clips.model_path("full")

Pose logs are made by the real pipeline (VideoFileSource -> MediaPipePoseEstimator
with the full model, or the one asked for -> adapters.pose_log.write_pose_log) once per clip, fps and model per
test session, into a session temp dir that conftest.py installs; a test that asks
for a clip the session already ran costs nothing. With POSTUREWATCH_TEST_CACHE=<dir>
the logs are also kept between sessions, keyed by the clip, the model file, the
source of the pipeline modules and the MediaPipe, OpenCV and numpy releases, so a change
to any of them makes fresh logs.

Where things are: POSTUREWATCH_SAMPLES (else <repo>/../shared/sample_videos) and
POSTUREWATCH_MODEL_DIR (else <repo>/../shared/models). A missing folder is an
error, never a skip: these tests are the project's evidence that it works.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from posturewatch.adapters import labels as labels_mod
from posturewatch.adapters.pose_log import PoseLogHeader, PoseLogReader, write_pose_log
from posturewatch.core.observation import Observation, observe
from posturewatch.core.pose import Landmark, Part, Pose, TimedPose

REPO = Path(__file__).resolve().parents[1]
INDEX = REPO / "sample_videos" / "clips.toml"
SAMPLES_ENV = "POSTUREWATCH_SAMPLES"
MODEL_DIR_ENV = "POSTUREWATCH_MODEL_DIR"
CACHE_ENV = "POSTUREWATCH_TEST_CACHE"
DEFAULT_FPS = 5.0
VARIANT = "full"


class MissingTestData(AssertionError):
    """The sample clips or model bundles are not where the tests look for them."""


# --- where things are --------------------------------------------------------


def samples_dir() -> Path:
    found = os.environ.get(SAMPLES_ENV)
    path = Path(found) if found else REPO.parent / "shared" / "sample_videos"
    if not (path / "MANIFEST.md").is_file():
        raise MissingTestData(
            f"no sample clips in {path} (no MANIFEST.md): set {SAMPLES_ENV} to the folder "
            "holding the clips and their .labels.csv files (see sample_videos/README.md)")
    return path


def models_dir() -> Path:
    found = os.environ.get(MODEL_DIR_ENV)
    path = Path(found) if found else REPO.parent / "shared" / "models"
    if not (path / f"pose_landmarker_{VARIANT}.task").is_file():
        raise MissingTestData(f"no pose_landmarker_{VARIANT}.task in {path}: set {MODEL_DIR_ENV} "
                              "to a folder of pose_landmarker_<variant>.task bundles")
    return path


def model_path(variant: str = VARIANT) -> Path:
    path = models_dir() / f"pose_landmarker_{variant}.task"
    if not path.is_file():
        raise MissingTestData(f"no pose_landmarker_{variant}.task in {path.parent}")
    return path


# --- the index and the labels ------------------------------------------------


@lru_cache(maxsize=1)
def index() -> dict[str, dict]:
    """sample_videos/clips.toml: {clip name: entry}."""
    with open(INDEX, "rb") as f:
        return tomllib.load(f)["clips"]


def names(kind: str | None = None, containing: str | None = None,
          poor: bool | None = None) -> list[str]:
    """Clip names from the index, filtered by kind, by a label they contain, by poor posture."""
    return sorted(name for name, e in index().items()
                  if (kind is None or e["kind"] == kind)
                  and (containing is None or containing in e["labels"])
                  and (poor is None or e["poor"] == poor))


def entry(name: str) -> dict:
    return index()[name]


def video(name: str) -> Path:
    path = samples_dir() / f"{name}.mp4"
    if not path.is_file():
        raise MissingTestData(f"sample clip {path} is missing")
    return path


@lru_cache(maxsize=None)
def labels(name: str) -> labels_mod.Labels:
    return labels_mod.labels_for(video(name))


@lru_cache(maxsize=None)
def label_rows(name: str) -> tuple[dict[str, str], ...]:
    with open(labels_mod.labels_path(video(name)), newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


_RENDER_AMOUNTS = ("stand", "slouch_amt", "lean_amt", "glance_amt")


def _held_render(rows, i: int) -> bool:
    row = rows[i]
    if any(1e-3 < float(row[k]) < 1 - 1e-3 for k in _RENDER_AMOUNTS):
        return False
    tilt = [float(rows[j]["lateral_tilt_deg"]) for j in (i - 1, i, i + 1) if 0 <= j < len(rows)]
    return max(tilt) - min(tilt) < 1e-3


@lru_cache(maxsize=None)
def _held(name: str) -> tuple[bool, ...]:
    rows = label_rows(name)
    if "transition" in rows[0]:  # warp_*: 1 while a change is under way
        return tuple(r["transition"] == "0" for r in rows)
    if "slouch_amt" in rows[0]:  # render_*: amounts 0..1 and the lateral tilt in degrees
        return tuple(_held_render(rows, i) for i in range(len(rows)))
    return tuple(True for _ in rows)  # real_*: no finer information than the labels


def held(name: str, t: float) -> bool:
    """Whether the label file says the posture at `t` is held, not changing.

    warp_*: the `transition` column is 0; render_*: each posture amount is 0 or 1
    and the lateral tilt is not moving; real_*: always (they have no ramps).
    """
    times = labels(name).times
    index = max(0, bisect.bisect_right(times, t + 1e-6) - 1)
    return _held(name)[index]


# Landmark pixel columns in the label files: render_* name them <part>_px/_py,
# warp_* gt_<short>_x/_y (the side-view slideshow has one ear, shoulder and hip).
_RENDER = {p: p.value for p in (Part.NOSE, Part.LEFT_EYE, Part.RIGHT_EYE, Part.LEFT_EAR,
                                Part.RIGHT_EAR, Part.LEFT_SHOULDER, Part.RIGHT_SHOULDER,
                                Part.LEFT_HIP, Part.RIGHT_HIP)}
_WARP = {Part.NOSE: "nose", Part.LEFT_EYE: "leye", Part.RIGHT_EYE: "reye", Part.LEFT_EAR: "lear",
         Part.RIGHT_EAR: "rear", Part.LEFT_SHOULDER: "lsh", Part.RIGHT_SHOULDER: "rsh"}
_SIDE = {Part.NOSE: "nose", Part.LEFT_EAR: "ear", Part.LEFT_SHOULDER: "shoulder", Part.LEFT_HIP: "hip"}


def _columns(row: dict[str, str]) -> dict[Part, tuple[str, str]] | None:
    if "nose_px" in row:
        return {p: (f"{n}_px", f"{n}_py") for p, n in _RENDER.items()}
    if "gt_lsh_x" in row:
        return {p: (f"gt_{n}_x", f"gt_{n}_y") for p, n in _WARP.items()}
    if "gt_shoulder_x" in row:
        return {p: (f"gt_{n}_x", f"gt_{n}_y") for p, n in _SIDE.items()}
    return None


def _truth_pose(row: dict[str, str], columns, width: int, height: int) -> Pose | None:
    if row.get("gt_in_frame", "1") == "0" or row["label"] == "away":
        return None
    marks = {p: Landmark(float(row[x]) / width, float(row[y]) / height)
             for p, (x, y) in columns.items()}
    for part in Part:  # parts the file does not give are unseen
        marks.setdefault(part, Landmark(0.5, 0.5, visibility=0.0))
    return Pose(width, height, marks)


@lru_cache(maxsize=None)
def truth_poses(name: str) -> tuple[tuple[float, Pose | None], ...]:
    """The labelled landmarks of each frame as a core Pose (None when out of frame).

    Only render_* and warp_* clips have them; real_* clips give an empty tuple.
    Parts the label file does not name have visibility 0.
    """
    rows = label_rows(name)
    columns = _columns(rows[0])
    if columns is None:
        return ()
    e = entry(name)
    return tuple((float(r["time_s"]), _truth_pose(r, columns, e["width"], e["height"])) for r in rows)


# --- pose logs, made once per session ----------------------------------------


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def _pipeline_sources() -> list[Path]:
    src = REPO / "src" / "posturewatch"
    return [src / "pipeline.py", src / "core" / "pose.py", src / "core" / "sampling.py",
            src / "adapters" / "video.py",
            src / "adapters" / "mediapipe_pose.py", src / "adapters" / "pose_log.py"]


def mediapipe_c_api_build() -> bool:
    """MediaPipe 0.10.30-0.10.33: the C-API builds, whose landmarks differ a little from
    0.10.14-0.10.21 (pybind11) and 1.x, enough to miss two accuracy tests (docs/privacy.md)."""
    from importlib.metadata import version

    release = tuple(int(p) for p in re.findall(r"\d+", version("mediapipe"))[:3])
    return (0, 10, 30) <= release < (0, 10, 35)


@lru_cache(maxsize=1)
def _decoder_versions() -> str:
    """MediaPipe, OpenCV and numpy releases: poses from another release are not reused."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for dist in ("mediapipe", "opencv-contrib-python", "numpy"):
        try:
            found.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            found.append(f"{dist} missing")
    return ";".join(found)


def make_pose_log(clip: Path, out: Path, fps: float = DEFAULT_FPS, variant: str = VARIANT) -> Path:
    """Run the real pipeline over `clip` with the `variant` pose model; write its pose log to `out`."""
    # Imported here: only tests that need fresh poses load MediaPipe.
    from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
    from posturewatch.adapters.video import VideoFileSource
    from posturewatch.pipeline import estimate_poses

    model = model_path(variant)
    source = VideoFileSource(clip, fps=fps)
    try:
        with MediaPipePoseEstimator(model) as estimator:
            header = PoseLogHeader(source.info, {"variant": variant, "path": str(model)}, fps)
            write_pose_log(out, header, estimate_poses(source, estimator))
    finally:
        source.close()
    return out


class PoseCache:
    """Pose logs of the sample clips in `directory`, made on first use."""

    def __init__(self, directory: Path, keep_dir: Path | None = None) -> None:
        self.directory = Path(directory)
        self.keep_dir = Path(keep_dir) if keep_dir else None
        self._poses: dict[tuple[str, float, str], tuple[TimedPose, ...]] = {}
        self._observations: dict[tuple[str, float], tuple[Observation, ...]] = {}

    def _key(self, name: str, fps: float, variant: str) -> str:
        clip = video(name)
        digest = _digest(clip, model_path(variant), *_pipeline_sources()) + _decoder_versions()
        digest = hashlib.sha256(digest.encode()).hexdigest()
        model = "" if variant == VARIANT else f"-{variant}"
        return f"{name}@{fps:g}fps{model}-{digest[:12]}.jsonl"

    def pose_log(self, name: str, fps: float = DEFAULT_FPS, variant: str = VARIANT) -> Path:
        key = self._key(name, fps, variant)
        path = self.directory / key
        if path.is_file():
            return path
        kept = self.keep_dir / key if self.keep_dir else None
        if kept is not None and kept.is_file():
            path.write_bytes(kept.read_bytes())
            return path
        make_pose_log(video(name), path, fps, variant)
        if kept is not None:
            self.keep_dir.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(path.read_bytes())
        return path

    def poses(self, name: str, fps: float = DEFAULT_FPS,
              variant: str = VARIANT) -> tuple[TimedPose, ...]:
        key = (name, float(fps), variant)
        if key not in self._poses:
            reader = PoseLogReader(self.pose_log(name, fps, variant))
            try:
                self._poses[key] = tuple(reader)
            finally:
                reader.close()
        return self._poses[key]

    def observations(self, name: str, fps: float = DEFAULT_FPS) -> tuple[Observation, ...]:
        key = (name, float(fps))
        if key not in self._observations:
            self._observations[key] = tuple(observe(timed) for timed in self.poses(name, fps))
        return self._observations[key]


_cache: list[PoseCache] = []  # the session's cache, installed by conftest.py


def install(cache: PoseCache | None) -> None:
    _cache.clear()
    if cache is not None:
        _cache.append(cache)


def cache() -> PoseCache:
    if not _cache:
        raise RuntimeError("no pose cache installed: clips.pose_log needs tests/conftest.py")
    return _cache[0]


def pose_log(name: str, fps: float = DEFAULT_FPS, variant: str = VARIANT) -> Path:
    """A pose log of the whole clip at `fps`, made by the real pipeline (do not modify it)."""
    return cache().pose_log(name, fps, variant)


def poses(name: str, fps: float = DEFAULT_FPS, variant: str = VARIANT) -> tuple[TimedPose, ...]:
    """The clip's timed poses, replayed from its pose log (made with the `variant` model)."""
    return cache().poses(name, fps, variant)


def observations(name: str, fps: float = DEFAULT_FPS) -> tuple[Observation, ...]:
    """The clip's observations (presence + features) by the presence rule without a profile."""
    return cache().observations(name, fps)
