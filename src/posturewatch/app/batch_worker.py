"""What a batch worker does with one recording: `analyze`'s code path, in a worker process.

A `BatchWorker` is built once per worker (`functools.partial(BatchWorker, settings)`
is what an engine ships to its workers) and called once per recording. Everything
that depends on the user's machine - the calibration profile, the posture
settings from their config - is resolved by the batch command beforehand and
travels in `BatchSettings`, so a cluster worker judges posture exactly as a
local run does.

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

from ..adapters import pose_log
from ..core.baseline import Baseline
from ..core.observation import Observation
from ..core.posture_state import PostureConfig
from ..errors import PostureWatchError, ProfileError
from . import report
from .analyze import analyse_recording
from .calibrate import build_profile
from .session import Timeline, new_timeline

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # how often a worker tells the batch how far it got


@dataclass(frozen=True)
class BatchSettings:
    """How every recording of a batch is analysed."""

    fps: float | None = None
    model: str | None = None  # a model file path (local engine) or the user's --model (cluster)
    posture: PostureConfig | None = None  # with baseline or calibrate_first_s
    baseline: Baseline | None = None  # from --profile / --calibration
    calibrate_first_s: float | None = None  # or fitted from each recording's first seconds
    html: bool = False  # also render the HTML report

    def __post_init__(self) -> None:
        if (self.baseline is not None or self.calibrate_first_s is not None) and self.posture is None:
            raise ValueError("BatchSettings: a baseline or calibrate_first_s needs a PostureConfig")

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


class FirstSecondsTimeline:
    """A posture timeline judged against the recording's own first `fit_s` seconds.

    The same baseline `calibrate --from-video REC --end S` fits: the observations
    before S are held, fitted once S is reached (or the recording ends), then
    replayed into the timeline, so the whole recording is judged in one pass.
    """

    def __init__(self, fit_s: float, config: PostureConfig) -> None:
        self.fit_s, self.config = fit_s, config
        self.held: list[Observation] = []
        self.inner: Timeline | None = None

    def update(self, obs: Observation) -> None:
        if self.inner is None:
            if obs.t < self.fit_s - 1e-9:  # calibrate's window: start <= t < end
                self.held.append(obs)
                return
            self._fit()
        self.inner.update(obs)

    def finish(self, end_s: float) -> None:
        if self.inner is None:
            self._fit()
        self.inner.finish(end_s)

    def _fit(self) -> None:
        try:
            profile = build_profile("batch", self.held, frame=(0, 0), model=None, source="")
        except ProfileError as exc:
            raise ProfileError(f"--calibrate-first {self.fit_s:g}: {exc}") from None
        self.inner = new_timeline(profile.baseline, self.config)
        for obs in self.held:
            self.inner.update(obs)
        self.held = []

    @property
    def tracker(self):
        return self.inner.tracker

    @property
    def episodes(self):
        return self.inner.episodes

    @property
    def alerts(self):
        return self.inner.alerts


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


def html_available() -> bool:
    """Whether app/report can render an HTML report (it comes with `analyze --report`)."""
    return hasattr(report, "analysis_html")


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
        try:
            setup_s = self._load(path)
            started = time.perf_counter()
            analysis = analyse_recording(path, fps=self.settings.fps, model=self.model,
                                         timeline=self._timeline(),
                                         progress=functools.partial(_Reporter, send))
            html = report.analysis_html(analysis) if self.settings.html else None
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

    def _timeline(self):
        s = self.settings
        if s.baseline is not None:
            return new_timeline(s.baseline, s.posture)
        if s.calibrate_first_s is not None:
            return FirstSecondsTimeline(s.calibrate_first_s, s.posture)
        return None
