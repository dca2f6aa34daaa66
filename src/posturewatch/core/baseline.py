"""A user's own good posture: robust per-feature statistics from calibration.

Median and MAD (scaled to a standard deviation) so that a cough or a glance
during calibration does not move the baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np

from .features import FEATURE_NAMES, PostureFeatures

MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation
MIN_FRAMES = 5
MIN_COVERAGE = 0.5  # a feature seen in fewer calibration frames is left out


@dataclass(frozen=True)
class FeatureBaseline:
    center: float
    spread: float  # robust standard deviation
    n: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center) and math.isfinite(self.spread) and self.spread >= 0):
            raise ValueError(f"FeatureBaseline needs a finite center and spread >= 0, "
                             f"got {self.center!r}, {self.spread!r}")
        if self.n < 1:
            raise ValueError(f"FeatureBaseline.n must be >= 1, got {self.n!r}")


@dataclass(frozen=True)
class Baseline:
    features: Mapping[str, FeatureBaseline]
    frames: int  # calibration frames with a person

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"Baseline has unknown features {sorted(unknown)}; "
                             f"expected names from {FEATURE_NAMES}")
        object.__setattr__(self, "features", MappingProxyType(dict(self.features)))

    def get(self, name: str) -> FeatureBaseline | None:
        return self.features.get(name)


@dataclass(frozen=True)
class PostureSamples:
    """The user's own slouch and glance down, if recorded at calibration: the median of
    each feature over the recording. They show the user what the alerts make of them."""

    slouch: PostureFeatures | None = None
    glance: PostureFeatures | None = None


SAMPLE_KINDS = ("slouch", "glance")


class NotEnoughData(ValueError):
    """Calibration saw too few usable frames."""


def _rolling_median(times: list[float], values: list[float], window_s: float) -> np.ndarray:
    """Each value replaced by the median of the values in the window_s before it."""
    t, v = np.asarray(times), np.asarray(values, dtype=float)
    starts = np.searchsorted(t, t - window_s, side="right")
    return np.array([np.median(v[a:i + 1]) for i, a in enumerate(starts)])


def _robust(times: list[float], values: list[float], window_s: float) -> FeatureBaseline:
    center = float(np.median(values))
    # The tracker compares moving medians with the baseline, so the spread that
    # matters is that of the same moving median: sway, not frame-to-frame jitter.
    smoothed = _rolling_median(times, values, window_s) if window_s > 0 else np.asarray(values)
    spread = float(MAD_TO_SD * np.median(np.abs(smoothed - center)))
    return FeatureBaseline(center, spread, len(values))


def fit_baseline(samples: Iterable[tuple[float, PostureFeatures]],
                 window_s: float = 1.0) -> Baseline:
    """The baseline from (time, features) of frames showing the user seated in view.

    `window_s` is the tracker's smoothing window (PostureConfig.smoothing_s).
    """
    present = list(samples)
    if len(present) < MIN_FRAMES:
        raise NotEnoughData(f"only {len(present)} frames with a person in view; "
                            f"calibration needs at least {MIN_FRAMES}")
    features = {}
    for name in FEATURE_NAMES:
        seen = [(t, v) for t, found in present if (v := getattr(found, name)) is not None]
        if len(seen) >= max(MIN_FRAMES, MIN_COVERAGE * len(present)):
            times, values = zip(*seen)
            features[name] = _robust(list(times), list(values), window_s)
    return Baseline(features, len(present))
