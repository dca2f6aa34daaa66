"""Observations -> Summary: presence segments and per-feature statistics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .features import FEATURE_NAMES
from .observation import Observation


@dataclass(frozen=True)
class FeatureStats:
    median: float | None
    p10: float | None
    p90: float | None
    coverage: float  # share of frames with a person where the feature was measured


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    state: str  # "present" (seated) | "standing" | "away": the presence rule's answer


@dataclass(frozen=True)
class Summary:
    frames_analyzed: int
    person_ratio: float  # share of frames with the user seated in view
    segments: tuple[Segment, ...]
    features: dict[str, FeatureStats]


def _stats(values: list[float], present: int) -> FeatureStats:
    if not values:
        return FeatureStats(None, None, None, 0.0)
    p10, median, p90 = (float(v) for v in np.percentile(values, [10, 50, 90]))
    return FeatureStats(median, p10, p90, len(values) / present)


@dataclass
class SummaryBuilder:
    """Accumulates observations one at a time; `result(end_s)` closes the last segment."""

    frames: int = 0
    present: int = 0
    segments: list[list] = field(default_factory=list)  # [start, end, state], end = next start
    values: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in FEATURE_NAMES})

    def update(self, obs: Observation) -> None:
        self.frames += 1
        state = obs.presence
        if self.segments:
            self.segments[-1][1] = obs.t
        if not self.segments or self.segments[-1][2] != state:
            self.segments.append([obs.t, obs.t, state])
        if obs.features is None:
            return
        self.present += 1
        for name, value in obs.features.as_dict().items():
            if value is not None:
                self.values[name].append(value)

    def result(self, end_s: float | None = None) -> Summary:
        if self.segments and end_s is not None:
            self.segments[-1][1] = max(self.segments[-1][1], end_s)
        return Summary(
            frames_analyzed=self.frames,
            person_ratio=self.present / self.frames if self.frames else 0.0,
            segments=tuple(Segment(round(a, 3), round(b, 3), s) for a, b, s in self.segments),
            features={n: _stats(v, self.present) for n, v in self.values.items()},
        )


def summarize(observations, end_s: float | None = None) -> Summary:
    builder = SummaryBuilder()
    for obs in observations:
        builder.update(obs)
    return builder.result(end_s)
