"""The calibration wizard: `posturewatch calibrate` without --from-video.

Steps: FRAMING (face and both shoulders in view, distance, light) -> UPRIGHT
(a few seconds of the user's good posture, with a countdown) -> optional
SLOUCH and GLANCE (asked yes/no) -> SUMMARY -> "save?".

The steps are driven by the frames' own times, never by a clock, so a video
file can stand in for the camera in tests (`--camera clip.mp4`): its frames
carry their position in the video; a camera's are stamped by LiveSource's
(injectable) clock. Questions (`ask`), the output stream, the preview window,
the frame source and the pose estimator are injected into `Wizard`, so its
logic runs with scripted answers. Frames are only shown, never written anywhere.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence, TextIO

import numpy as np

from ..adapters import profiles, strict_json
from ..core.framing import FramingGate, FramingReport, check_framing
from ..core.observation import Observation, observe
from ..core.pose import Pose, TimedPose
from ..core.scoring import RULES, rule_deviation
from ..errors import CameraError, ProfileError, UsageError
from ..ports import Frame, FrameSource, PoseEstimator
from .calibrate import build_profile, check_target, describe, feature_medians, save, target

log = logging.getLogger(__name__)

DEFAULT_FPS = 10.0  # a smoother preview than analysis's 5; still ~25 % of a core
READY_S = 3.0  # "get ready" before each recording: time to take the pose
RECORD_S = 5.0  # upright posture: enough for the baseline's 1 s moving median to settle
SAMPLE_S = 4.0  # the optional slouch and glance: only their medians are kept
LOST_S = 1.5  # nobody in view this long during a recording: start the step again
MAX_RESTARTS = 2  # ... at most this often, then give up with a clear message
GOOD_SHARE = 0.9  # frames with the user in view, for a "good" calibration
FAIR_SHARE = 0.6
SAY_EVERY_S = 1.0  # framing problems are printed at most this often


@dataclass(frozen=True)
class Step:
    key: str  # "upright", "slouch", "glance"; also the sample's name in the profile
    title: str
    instruction: str
    seconds: float
    question: str | None = None  # None: not optional


UPRIGHT = Step("upright", "Good posture", "Sit the way you want to sit, look at your screen.",
               RECORD_S)
SLOUCH = Step("slouch", "Your usual slouch", "Now slouch the way you usually do, and stay like that.",
              SAMPLE_S, "Record your usual slouch too? It tunes how sensitive the alerts are "
              "for you. [y/N] ")
GLANCE = Step("glance", "A glance down", "Look down at your keyboard, as if you were typing.",
              SAMPLE_S, "Record a glance at your keyboard? It teaches me that looking down is "
              "not slouching. [y/N] ")
OPTIONAL_STEPS = (SLOUCH, GLANCE)


@dataclass(frozen=True)
class Seen:
    """One frame and what the wizard made of it."""

    frame: Frame
    obs: Observation
    framing: FramingReport


class Countdown:
    """Times -> ("ready" | "record" | "done", seconds left in that phase)."""

    def __init__(self, ready_s: float, record_s: float) -> None:
        self.ready_s, self.record_s = ready_s, record_s
        self.start: float | None = None

    def update(self, t: float) -> tuple[str, float]:
        if self.start is None:
            self.start = t
        elapsed = t - self.start + 1e-9  # frame times are sums of 1/fps: round up
        if elapsed < self.ready_s:
            return "ready", self.ready_s - elapsed
        if elapsed < self.ready_s + self.record_s:
            return "record", self.ready_s + self.record_s - elapsed
        return "done", 0.0


class Ticker:
    """A one-line countdown in the terminal: `  recording: 5 4 3 2 1 done`."""

    def __init__(self, out: TextIO, label: str) -> None:
        self.out, self.label, self.shown = out, label, None

    def show(self, remaining: float) -> None:
        n = max(1, math.ceil(remaining - 1e-9))
        if n == self.shown:
            return
        self.out.write(f"  {self.label}:" if self.shown is None else "")
        self.out.write(f" {n}")
        self.out.flush()
        self.shown = n

    def end(self, text: str) -> None:
        if self.shown is not None:
            self.out.write(f" {text}\n")
            self.out.flush()
            self.shown = None


def brightness(image) -> float:
    """Mean grey level (0..255) of a BGR image, from every 4th pixel."""
    small = np.asarray(image)[::4, ::4].astype(np.float32)
    if small.ndim == 2:
        return float(small.mean())
    return float((small[..., :3] @ np.array([0.114, 0.587, 0.299], dtype=np.float32)).mean())


class Wizard:
    def __init__(self, source: FrameSource, estimator: PoseEstimator, *, name: str,
                 model: str | None = None, ask: Callable[[str], str] = input,
                 out: TextIO | None = None, preview=None, assume_yes: bool = False,
                 output: str | None = None, framing_timeout_s: float | None = None,
                 label: str | None = None) -> None:
        self.source, self.estimator = source, estimator
        self.name, self.model, self.ask = name, model, ask
        self.out = out if out is not None else sys.stdout
        self.preview = preview if preview is not None else NoPreview()
        self.assume_yes, self.output = assume_yes, output
        self.gate_args = {} if framing_timeout_s is None else {"timeout_s": framing_timeout_s}
        self.label = label or f"camera {source.info.path}"
        self._frames: Iterator[Seen] | None = None
        self.recorded: dict[str, list[Observation]] = {}  # what each step recorded

    # -- the steps -------------------------------------------------------------

    def run(self) -> profiles.Profile | None:
        """The saved profile, or None when the user chose not to save it."""
        self._say("Let's calibrate posturewatch to the way you sit.")
        self._check_framing()
        upright = self._record(UPRIGHT)
        samples = {}
        for step in OPTIONAL_STEPS:
            if self._yes(step.question, default=False):
                values = feature_medians([o for o in self._record(step) if o.present])
                if values:
                    samples[step.key] = values
        info = self.source.info
        profile = build_profile(self.name, upright, frame=(info.width, info.height),
                                model=self.model, source=self.label, samples=samples)
        self._say("\n" + summary(profile, upright))
        return self._maybe_save(profile)

    def _check_framing(self) -> None:
        self._say("First, let's check that I can see you well.")
        gate, said, said_at = FramingGate(**self.gate_args), None, None
        while True:
            seen = self._next()
            t, problems = seen.obs.t, seen.framing.problems
            state = gate.update(seen.framing, t)
            self._show(seen, "Framing", () if problems else ("Looks good - hold still",), None)
            # Say what changed, but a flickering landmark must not flood the terminal.
            if problems and problems != said and (said_at is None or t - said_at >= SAY_EVERY_S):
                self._say("  " + "; ".join(problems))
                said, said_at = problems, t
            if state == "ok":
                self._say("  framing OK: I can see your face and both shoulders.")
                return
            if state == "timeout":
                raise ProfileError(
                    f"cannot calibrate: after {gate.timeout_s:g} s the framing is still not right "
                    f"({'; '.join(gate.problems) or 'it kept changing'}); fix that and run "
                    "`posturewatch calibrate` again")

    def _record(self, step: Step) -> list[Observation]:
        for attempt in range(MAX_RESTARTS + 1):
            if attempt:
                self._say("  I lost you for a moment - let's do this step again.")
            self._say(f"{step.title}: {step.instruction}")
            recorded = self._record_once(step)
            if recorded is not None:
                self.recorded[step.key] = recorded
                return recorded
        raise ProfileError(f"cannot calibrate: you kept leaving the camera's view during "
                           f"'{step.title}'; make sure your head and shoulders stay in view")

    def _record_once(self, step: Step) -> list[Observation] | None:
        countdown, recorded, lost_since = Countdown(READY_S, step.seconds), [], None
        ticker = Ticker(self.out, "get ready")
        while True:
            seen = self._next()
            t = seen.obs.t
            phase, left = countdown.update(t)
            if phase == "done":
                ticker.end("done")
                return recorded
            if phase == "record" and ticker.label != "recording":
                ticker.end("go!")
                ticker = Ticker(self.out, "recording")
            ticker.show(left)
            lost_since = None if seen.obs.present else (t if lost_since is None else lost_since)
            if lost_since is not None and t - lost_since >= LOST_S:
                ticker.end("stopped")
                return None
            if phase == "record":
                recorded.append(seen.obs)
            self._show(seen, f"{step.title} - {'recording' if phase == 'record' else 'get ready'}",
                       (step.instruction,), f"{max(1, math.ceil(left - 1e-9))}")

    def _maybe_save(self, profile: profiles.Profile) -> profiles.Profile | None:
        path = target(self.name, self.output)
        if not self.assume_yes and not self._yes(f"Save profile '{self.name}' to {path}? [Y/n] ",
                                                 default=True):
            self._say("Not saved.")
            return None
        saved = save(profile, path)
        self._say(f"Saved to {saved.path}")
        return saved

    # -- edges -----------------------------------------------------------------

    def _frames_seen(self) -> Iterator[Seen]:
        for frame in self.source:
            obs = observe(TimedPose(frame.t, self.estimator.estimate(frame)))
            yield Seen(frame, obs, check_framing(obs, brightness(frame.image)))

    def _next(self) -> Seen:
        if self._frames is None:
            self._frames = self._frames_seen()
        try:
            return next(self._frames)
        except StopIteration:
            raise CameraError(f"{self.source.info.path}: the video ended before calibration "
                              "finished") from None

    def _show(self, seen: Seen, title: str, lines: Sequence[str], big: str | None) -> None:
        if not self.preview.show(seen.frame.image, seen.obs.pose, title, lines,
                                 seen.framing.problems, big):
            raise KeyboardInterrupt  # the user closed the preview: stop, save nothing

    def _yes(self, prompt: str, default: bool) -> bool:
        while True:
            answer = self.ask(prompt).strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self._say("  please answer y or n")

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


# -- the summary --------------------------------------------------------------

def quality(upright: Sequence[Observation]) -> str:
    seen = sum(1 for o in upright if o.present)
    share = seen / len(upright) if upright else 0.0
    word = ("good" if share >= GOOD_SHARE else "fair" if share >= FAIR_SHARE
            else "poor - consider running the calibration again")
    return f"Quality: {word} (you were in view in {seen} of {len(upright)} frames)"


def _sample_lines(profile: profiles.Profile) -> list[str]:
    lines = []
    for key, what in (("slouch", "your slouch"), ("glance", "looking down")):
        sample = profile.samples.get(key)
        if not sample:
            continue
        moved = []
        for rule in RULES:
            d = rule_deviation(rule, sample.get(rule.feature), profile.baseline)
            if d is not None and abs(d) >= 0.5:
                moved.append(f"{rule.feature} {d:+.1f}x the alert threshold")
        lines.append(f"  {what}: " + (", ".join(moved) if moved else
                                       "hardly differs from your good posture"))
    return lines


def summary(profile: profiles.Profile, upright: Sequence[Observation]) -> str:
    parts = [describe(profile), quality(upright)]
    lines = _sample_lines(profile)
    if lines:
        parts.append("What your samples look like to the alerts "
                     "(1x = where an alert would start):\n" + "\n".join(lines))
    return "\n".join(parts)


# -- the preview window ----------------------------------------------------------

class PreviewPort(Protocol):
    """A window showing the camera picture; it lives in adapters/ (OpenCV)."""

    def show(self, image, pose: Pose | None, title: str, lines: Sequence[str],
             alerts: Sequence[str], big: str | None) -> bool:
        """Draw one frame; False when the user closed the preview (Esc or q)."""

    def close(self) -> None: ...


class NoPreview:
    def show(self, image, pose, title, lines, alerts, big) -> bool:
        return True

    def close(self) -> None:
        pass


def has_display(env=os.environ, platform: str = sys.platform) -> bool:
    if platform.startswith("linux"):
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return True


def make_preview(no_preview: bool, out: TextIO, env=os.environ) -> PreviewPort:
    """The OpenCV window, unless --no-preview, no display, or no window support."""
    if no_preview or not has_display(env):
        return NoPreview()
    try:
        from ..adapters.preview import PreviewWindow
    except ImportError as exc:
        log.debug("no preview window: %s", exc)
        print("(no preview window in this build: follow along in the terminal)", file=out)
        return NoPreview()
    return PreviewWindow(on_failure=lambda: print(
        "(the preview window cannot open here: follow along in the terminal)", file=out))


# -- run_wizard: the composition root ----------------------------------------

def open_camera(spec: str, fps: float) -> FrameSource:
    """The camera; a video file's path stands in for one (tests, demos)."""
    from ..adapters.video import LiveSource, VideoFileSource, is_live

    if not is_live(spec) and Path(spec).is_file():
        return VideoFileSource(spec, fps=fps)
    return LiveSource(spec, fps=fps)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def run_wizard(args: argparse.Namespace) -> int:
    interactive = _interactive()
    if not interactive and not args.yes:
        raise UsageError("the calibration wizard asks questions, but stdin is not a terminal: "
                         "run it in a terminal, pass --yes to save without asking, or use "
                         "--from-video FILE")
    name = profiles.check_name(args.profile or profiles.active_name())
    camera_file = args.camera if Path(args.camera).is_file() else None
    check_target(args, name, camera_file)  # before the camera and model start
    out = sys.stderr if args.json else sys.stdout  # --json: stdout is the profile only
    fps = DEFAULT_FPS if args.fps is None else args.fps
    source = open_camera(args.camera, fps)
    try:
        saved = _run(args, source, name, out, ask=input if interactive else _no)
    finally:
        source.close()
    if saved is not None and args.json:
        print(strict_json.dumps(profiles.to_json(saved), indent=2))
    return 0


def _run(args, source, name: str, out: TextIO, ask) -> profiles.Profile | None:
    from ..adapters.mediapipe_pose import MediaPipePoseEstimator
    from ..adapters.models import resolve_model

    model = resolve_model(args.model)  # never downloads (docs/privacy.md)
    preview = make_preview(args.no_preview, out)
    try:
        with MediaPipePoseEstimator(model.path) as estimator:
            wizard = Wizard(source, estimator, name=name, model=model.variant, ask=ask, out=out,
                            preview=preview, assume_yes=args.yes, output=args.output)
            return wizard.run()
    finally:
        preview.close()


def _no(prompt: str) -> str:
    """The answer to optional questions when nobody can be asked (no terminal, --yes)."""
    return "n"
