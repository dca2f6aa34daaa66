"""What a batch worker does with one recording: `analyze`'s code path, in a worker process.

A `BatchWorker` is built once per worker (`functools.partial(BatchWorker, settings)`
is what an engine ships to its workers) and called once per recording. Everything
that depends on the user's machine - the calibration profile, the posture
settings from their config - is resolved by the batch command beforehand and
travels in `BatchSettings`, so a cluster worker judges posture exactly as a
local run does.

With --calibrate-first the recording's first seconds are read twice: once as
`calibrate --from-video` reads them to fit the baseline, then in the analysis,
whose observations (presence included) are judged against that baseline.

One MediaPipe runtime and model file per worker, found once, before its first
video. Each recording still gets a fresh landmarker: in VIDEO mode the
landmarker tracks the person and smooths landmarks over time, and a landmarker
reused from the previous recording moved the next recording's landmarks by up to
half the frame width (measured), so its results would depend on which worker
happened to take which file. A fresh one costs ~0.1 s per recording.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass

from pathlib import Path

from ..adapters import pose_log
from ..core.baseline import Baseline
from ..core.observation import observe
from ..core.settings import DEFAULTS, Settings
from ..errors import PostureWatchError, ProfileError
from . import recording_report, report
from .analyze import analyse_recording
from .calibrate import build_profile
from .inputs import open_poses

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # how often a worker tells the batch how far it got


@dataclass(frozen=True)
class BatchSettings:
    """How every recording of a batch is analysed."""

    fps: float | None = None
    model: str | None = None  # a model file path (local engine) or the user's --model (cluster)
    settings: Settings = DEFAULTS  # the user's, read by the batch command, with a profile
    baseline: Baseline | None = None  # from --profile / --calibration
    calibrate_first_s: float | None = None  # or fitted from each recording's first seconds
    html: bool = False  # also render the HTML report

    def __reduce__(self):
        # Sent to the workers; Baseline keeps its features in a mappingproxy, which pickle refuses.
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "baseline"}
        b = self.baseline
        return _settings, (fields, None if b is None else (dict(b.features), b.frames))


def _settings(fields: dict, baseline: tuple | None) -> BatchSettings:
    return BatchSettings(**fields, baseline=None if baseline is None else Baseline(*baseline))


@dataclass(frozen=True)
class Outcome:
    """One recording's result: the analyze --json document, or the error that stopped it."""

    doc: dict | None
    html: str | None = None
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0  # spent in analyze's code path
    setup_s: float = 0.0  # this worker's one-off start (MediaPipe, model), paid before this job
    peak_rss_mb: float = 0.0  # of the worker process so far

    @property
    def ok(self) -> bool:
        return self.doc is not None


def first_seconds_baseline(path: str, fps: float | None, model: str | None, seconds: float) -> Baseline:
    """What `calibrate --from-video PATH --end SECONDS` fits: the recording's own upright start."""
    with open_poses(Path(path), fps, 0.0, seconds, model) as poses:
        upright = [observe(p) for p in poses]
    try:
        return build_profile("batch", upright, frame=(0, 0), model=None, source="").baseline
    except ProfileError as exc:
        raise ProfileError(f"--calibrate-first {seconds:g}: {exc}") from None


class _Reporter:
    """analyse_recording's progress, passed on to the batch at most every PROGRESS_EVERY_S."""

    def __init__(self, send, expected_s: float, label: str) -> None:
        self.send, self.expected_s, self.last = send, expected_s, 0.0

    def update(self, done_s: float) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.send(done_s, self.expected_s)

    def __enter__(self) -> "_Reporter":
        return self

    def __exit__(self, *exc) -> None:
        pass


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class BatchWorker:
    """`worker(path, report) -> Outcome`; never raises for a bad recording."""

    def __init__(self, settings: BatchSettings) -> None:
        self.settings = settings
        self.model: str | None = None  # the model file, found before the first video

    def __call__(self, path: str, send=lambda done, total: None) -> Outcome:
        s = self.settings
        try:
            setup_s = self._load(path)
            started = time.perf_counter()
            baseline = s.baseline
            if s.calibrate_first_s is not None:
                baseline = first_seconds_baseline(path, s.fps, self.model, s.calibrate_first_s)
            analysis = analyse_recording(Path(path), fps=s.fps, model=self.model, baseline=baseline,
                                         settings=s.settings, trace=s.html,
                                         progress=functools.partial(_Reporter, send))
            html = recording_report.recording_page(analysis, analysis.trace) if s.html else None
            return Outcome(report.analysis_json(analysis), html, seconds=time.perf_counter() - started,
                           setup_s=setup_s, peak_rss_mb=peak_rss_mb())
        except PostureWatchError as exc:
            return Outcome(None, error=str(exc), exit_code=exc.exit_code, peak_rss_mb=peak_rss_mb())
        except Exception as exc:  # a bug: recorded, and the batch goes on
            log.debug("analysing %s failed", path, exc_info=True)
            return Outcome(None, error=f"unexpected {type(exc).__name__}: {exc}", exit_code=1)

    def _load(self, path: str) -> float:
        """Once per worker, before its first video: load MediaPipe and find the model file."""
        if self.model is not None or pose_log.is_pose_log(path):
            return 0.0
        started = time.perf_counter()
        from ..adapters import mediapipe_pose  # noqa: F401  (the runtime, imported once)
        from ..adapters.models import resolve_model

        self.model = str(resolve_model(self.settings.model).path)
        return time.perf_counter() - started
