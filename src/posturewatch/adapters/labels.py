"""Ground truth for a recorded clip: `<clip>.labels.csv`, one row per video frame.

The first three columns are always `frame,time_s,label` (further columns depend on
how the clip was made and are ignored here); see sample_videos/README.md. A label
holds from its frame until the next frame's, so `label_at(t)` answers for any
time, and `scored(t)` applies the scoring convention of the accuracy figures:

- `slouch`, `lean_in`, `lateral_lean` are poor posture; `upright`, `head_down`
  and `away` are not; `standing` and `unknown` are not scored;
- within CHANGE_MARGIN_S of a change into or out of poor posture nothing is
  scored, because the ramps between postures are gradual.
"""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import BadLabels, InputNotFound

POOR = frozenset({"slouch", "lean_in", "lateral_lean"})
NOT_POOR = frozenset({"upright", "head_down", "away"})
UNSCORED = frozenset({"standing", "unknown"})
LABELS = POOR | NOT_POOR | UNSCORED
# A seated person in view whose posture is labelled (not standing, away or unknown).
SEATED = frozenset({"upright", "slouch", "lean_in", "lateral_lean", "head_down"})

HEADER = ("frame", "time_s", "label")
SUFFIX = ".labels.csv"
CHANGE_MARGIN_S = 3.0
# An upright opening used for calibration ends CHANGE_MARGIN_S before poor posture
# begins (as scoring does: in the sample clips a ramp into poor posture has barely
# started 3 s before its label changes) and OPENING_MARGIN_S before anything else
# (a glance, leaving or standing up starts less than 1 s before its label).
OPENING_MARGIN_S = 1.0
OPENING_MIN_S = 0.5


@dataclass(frozen=True)
class Change:
    """The label changes from `before` to `after` at `t` (the first frame with `after`)."""

    t: float
    before: str
    after: str

    @property
    def poor_changes(self) -> bool:
        """Into or out of poor posture (an unscored label counts as not poor here)."""
        return (self.before in POOR) != (self.after in POOR)


@dataclass(frozen=True)
class Labels:
    """The label of each frame of a clip; `times` strictly increase, in seconds."""

    times: tuple[float, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", tuple(float(t) for t in self.times))
        object.__setattr__(self, "labels", tuple(self.labels))
        if not self.times or len(self.times) != len(self.labels):
            raise ValueError(f"Labels needs one label per time and at least one frame, got "
                             f"{len(self.times)} times and {len(self.labels)} labels")
        if any(not math.isfinite(t) for t in self.times):
            raise ValueError("Labels.times must be finite seconds")
        if any(b <= a for a, b in zip(self.times, self.times[1:])):
            raise ValueError("Labels.times must strictly increase")
        unknown = sorted(set(self.labels) - LABELS)
        if unknown:
            raise ValueError(f"Labels.labels: unknown label(s) {unknown}; expected one of {sorted(LABELS)}")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def frame_step(self) -> float:
        """Seconds between frames (the median spacing; 0 for a single frame)."""
        gaps = sorted(b - a for a, b in zip(self.times, self.times[1:]))
        return gaps[len(gaps) // 2] if gaps else 0.0

    @property
    def end_s(self) -> float:
        """When the last frame stops showing."""
        return self.times[-1] + self.frame_step

    def label_at(self, t: float) -> str:
        """The label of the frame at or just before `t` (the first or last frame outside the clip)."""
        index = bisect.bisect_right(self.times, t + 1e-6) - 1
        return self.labels[max(0, index)]

    @cached_property
    def _changes(self) -> tuple[Change, ...]:
        return tuple(Change(t, a, b) for t, a, b in zip(self.times[1:], self.labels, self.labels[1:])
                     if a != b)

    def changes(self) -> tuple[Change, ...]:
        """Every change of label, in time order."""
        return self._changes

    def near_change(self, t: float, margin_s: float, poor_only: bool = False) -> bool:
        """Whether a label change (or only one into/out of poor posture) lies within `margin_s` of `t`."""
        return any(abs(c.t - t) <= margin_s for c in self.changes()
                   if c.poor_changes or not poor_only)

    def scored(self, t: float) -> bool | None:
        """True for poor posture, False for not poor, None when `t` is not scored."""
        label = self.label_at(t)
        if label in UNSCORED or self.near_change(t, CHANGE_MARGIN_S, poor_only=True):
            return None
        return label in POOR

    def spans(self, label: str) -> tuple[tuple[float, float], ...]:
        """The (start, end) stretches labelled `label`; `end` is when the next label starts."""
        ends = [c.t for c in self.changes()] + [self.end_s]
        starts = [self.times[0]] + [c.t for c in self.changes()]
        return tuple((a, b) for a, b in zip(starts, ends) if self.label_at(a) == label)

    def present(self) -> frozenset[str]:
        """The labels that occur in the clip."""
        return frozenset(self.labels)


def upright_opening(labels: Labels) -> tuple[float, float] | None:
    """The upright stretch the clip starts with, as (start, end) seconds, or None.

    It stops a margin before the first change (CHANGE_MARGIN_S before poor
    posture, OPENING_MARGIN_S before anything else) so that it holds no ramp, and
    is None when the clip does not start upright or the stretch is shorter than
    OPENING_MIN_S.
    """
    if labels.labels[0] != "upright":
        return None
    start = labels.times[0]
    changes = labels.changes()
    if not changes:
        end = labels.end_s
    else:
        first = changes[0]
        end = first.t - (CHANGE_MARGIN_S if first.after in POOR else OPENING_MARGIN_S)
    if end - start < OPENING_MIN_S:
        return None
    return round(start, 3), round(end, 3)


# --- reading -----------------------------------------------------------------


def _bad(path: Path, line: int, why: str) -> BadLabels:
    return BadLabels(f"{path}:{line}: not a valid label file ({why})")


def _check_header(path: Path, row: list[str] | None) -> None:
    if row is None:
        raise _bad(path, 1, "the file is empty")
    if tuple(cell.strip() for cell in row[:3]) != HEADER:
        raise _bad(path, 1, f"the header must start with {','.join(HEADER)}, got {','.join(row[:3])!r}")


def _parse_row(path: Path, line: int, row: list[str], expected_frame: int) -> tuple[float, str]:
    if len(row) < 3:
        raise _bad(path, line, f"{len(row)} column(s), expected at least 3")
    try:
        frame, t = int(row[0]), float(row[1])
    except ValueError as exc:
        raise _bad(path, line, f"frame and time_s must be numbers ({exc})") from exc
    if frame != expected_frame:
        raise _bad(path, line, f"frame {frame}, expected {expected_frame} (one row per frame, in order)")
    if not math.isfinite(t):
        raise _bad(path, line, f"time_s must be finite, got {row[1]!r}")
    label = row[2].strip()
    if label not in LABELS:
        raise _bad(path, line, f"unknown label {label!r}; expected one of {', '.join(sorted(LABELS))}")
    return t, label


def _open(path: Path):
    if not path.exists():
        raise InputNotFound(f"{path}: no such file")
    if path.is_dir():
        raise InputNotFound(f"{path}: is a directory, expected a label file")
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputNotFound(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def read_labels(path: str | Path) -> Labels:
    """The labels in `path`; BadLabels naming the line when the file is malformed."""
    path = Path(path)
    times: list[float] = []
    names: list[str] = []
    try:
        with _open(path) as file:
            rows = csv.reader(file)
            _check_header(path, next(rows, None))
            for row in rows:
                if not any(cell.strip() for cell in row):
                    continue
                t, label = _parse_row(path, rows.line_num, row, len(times))
                if times and t <= times[-1]:
                    raise _bad(path, rows.line_num, f"time_s {t:g} does not come after {times[-1]:g}")
                times.append(t)
                names.append(label)
    except UnicodeDecodeError as exc:
        raise BadLabels(f"{path}: not a valid label file (not UTF-8 text: {exc.reason})") from exc
    except csv.Error as exc:
        raise BadLabels(f"{path}: not a valid label file ({exc})") from exc
    if not times:
        raise _bad(path, 2, "no frames after the header")
    return Labels(tuple(times), tuple(names))


def labels_path(clip_path: str | Path) -> Path:
    """`<clip>.labels.csv` beside `<clip>.mp4`."""
    clip = Path(clip_path)
    return clip.with_name(clip.stem + SUFFIX)


def labels_for(clip_path: str | Path) -> Labels:
    """The labels of a clip, from the label file beside it."""
    path = labels_path(clip_path)
    if not path.exists():
        raise InputNotFound(f"{clip_path}: no label file {path.name} beside it")
    return read_labels(path)
