"""Hard cases made from the sample clips inside the tests.

    import crafted
    poses = crafted.poses("warp_intel_man_slouch_gradual", darken(0.35))

`transform(image, t) -> image` changes each decoded frame with OpenCV (crop, shift,
darken, add noise, paste a small person into a corner ...); the real pipeline (the
full model, VIDEO mode) then turns the frames into timed poses. Nothing is written
but the pose log: landmarks and times, no images.

The poses are made once per test session, into the session's pose-log folder; with
POSTUREWATCH_TEST_CACHE they are kept between sessions, keyed like the clips' pose
logs plus the transform's source code and parameters, so changing a transform makes
fresh poses.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

import clips
from posturewatch.adapters.pose_log import PoseLogHeader, PoseLogReader, write_pose_log
from posturewatch.core.pose import TimedPose
from posturewatch.ports import Frame

Transform = Callable[[np.ndarray, float], np.ndarray]

_made: dict[str, tuple[TimedPose, ...]] = {}


class Craft:
    """A named transform: `name` and `params` make its cache key with its source code."""

    def __init__(self, name: str, fn: Transform, **params) -> None:
        self.name, self.fn, self.params = name, fn, params

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        return self.fn(image, t, **self.params)

    def key(self) -> str:
        text = f"{self.name}{sorted(self.params.items())}{inspect.getsource(self.fn)}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _make(clip: str, craft: Craft, fps: float, out: Path) -> None:
    # Imported here: only tests that need fresh poses load MediaPipe.
    from posturewatch.adapters.mediapipe_pose import MediaPipePoseEstimator
    from posturewatch.adapters.video import VideoFileSource

    source = VideoFileSource(clips.video(clip), fps=fps)
    model = clips.model_path()
    try:
        with MediaPipePoseEstimator(model) as estimator:
            poses = (TimedPose(f.t, estimator.estimate(Frame(craft(f.image, f.t), f.t, f.index)))
                     for f in source)
            header = PoseLogHeader(source.info, {"variant": clips.VARIANT, "path": str(model)}, fps)
            write_pose_log(out, header, poses)
    finally:
        source.close()


def poses(clip: str, craft: Craft, fps: float = clips.DEFAULT_FPS) -> tuple[TimedPose, ...]:
    """The clip's frames through `craft`, then the real pipeline: its timed poses."""
    cache = clips.cache()
    base = cache.pose_log(clip, fps).name.removesuffix(".jsonl")  # clip, model, pipeline
    key = f"{base}-{craft.name}-{craft.key()}.jsonl"
    if key not in _made:
        path = cache.directory / key
        kept = cache.keep_dir / key if cache.keep_dir else None
        if kept is not None and kept.is_file():
            path.write_bytes(kept.read_bytes())
        elif not path.is_file():
            _make(clip, craft, fps, path)
            if kept is not None:
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(path.read_bytes())
        reader = PoseLogReader(path)
        try:
            _made[key] = tuple(reader)
        finally:
            reader.close()
    return _made[key]


# --- transforms ------------------------------------------------------------------


def _shift_down(image, t, amounts, fps, share):
    """Shift the picture down by share x height x amount(t): the body sinks out of the bottom."""
    i = min(int(round(t * fps)), len(amounts) - 1)
    h, w = image.shape[:2]
    m = np.float32([[1, 0, 0], [0, 1, share * h * amounts[i]]])
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def sinking(clip: str, share: float) -> Craft:
    """As the labelled slouch deepens (its warp's head drop), the picture slides down by up
    to `share` of its height: the shoulders leave the bottom of the frame, the face stays."""
    rows = clips.label_rows(clip)
    amounts = np.array([float(r["head_drop_frac"]) for r in rows])
    amounts = tuple(amounts / amounts.max())
    return Craft("sinking", _shift_down, amounts=amounts, fps=clips.entry(clip)["fps"], share=share)


def _darken(image, t, factor):
    return (image.astype(np.float32) * factor).astype(np.uint8)


def darken(factor: float) -> Craft:
    return Craft("darken", _darken, factor=factor)


def _noise(image, t, sigma, seed):
    rng = np.random.default_rng(seed + int(round(t * 1000)))
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def noise(sigma: float, seed: int = 7) -> Craft:
    """Webcam grain: Gaussian noise of `sigma` grey levels, different in every frame."""
    return Craft("noise", _noise, sigma=sigma, seed=seed)


def _crop_top(image, t, share):
    return np.ascontiguousarray(image[int(round(share * image.shape[0])):])


def crop_top(share: float) -> Craft:
    """The top `share` of the picture cut away: the head close to the top edge."""
    return Craft("crop_top", _crop_top, share=share)


def _passer_by(image, t, other, scale, when, corner):
    if not when[0] <= t < when[1]:
        return image
    frames, fps = _frames(other)
    person = frames[int(t * fps) % len(frames)]
    h, w = image.shape[:2]
    pw = int(w * scale)
    ph = int(person.shape[0] * pw / person.shape[1])
    small = cv2.resize(person, (pw, ph), interpolation=cv2.INTER_AREA)
    x0 = w - pw - 10 if corner == "right" else 10
    out = image.copy()
    out[10:10 + ph, x0:x0 + pw] = small
    return out


def passer_by(other: str, scale: float, when: tuple[float, float], corner: str = "right") -> Craft:
    """During `when` (s), clip `other` shrunk to `scale` of the frame width in a top corner:
    someone far behind the empty chair."""
    return Craft("passer_by", _passer_by, other=other, scale=scale, when=when, corner=corner)


_decoded: dict[str, tuple[tuple[np.ndarray, ...], float]] = {}


def _frames(clip: str) -> tuple[tuple[np.ndarray, ...], float]:
    if clip not in _decoded:
        cap = cv2.VideoCapture(str(clips.video(clip)))
        fps, frames = cap.get(cv2.CAP_PROP_FPS), []
        ok, frame = cap.read()
        while ok:
            frames.append(frame)
            ok, frame = cap.read()
        cap.release()
        _decoded[clip] = tuple(frames), fps
    return _decoded[clip]


def _rise(image, t, when, share):
    """Shift the picture up by `share` of its height during `when`, with 1 s ramps."""
    start, end = when
    amount = min(max(t - start, 0.0), 1.0) * min(max(end - t, 0.0), 1.0)
    h, w = image.shape[:2]
    m = np.float32([[1, 0, 0], [0, 1, -share * h * amount]])
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def standing_up(when: tuple[float, float], share: float = 0.6) -> Craft:
    """The user rises until the head leaves the top of the frame, the torso filling it."""
    return Craft("standing_up", _rise, when=when, share=share)
