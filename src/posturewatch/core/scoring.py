"""Features + baseline -> PostureScore: how far from the user's own good posture.

Each rule measures one feature's deviation from the baseline in the direction
poor posture moves it, in units of a tolerance: K_SPREAD times the baseline's
own spread (people who move more get more room), but never less than a
documented minimum (a calibration of someone sitting very still must not make
every breath an alert). A reason is active when its worst rule reaches 1.
The constants are explained in docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from .baseline import Baseline
from .features import PostureFeatures

REASONS = ("head_drop", "lean_in", "lateral_lean", "head_down")
POOR_REASONS = ("head_drop", "lean_in", "lateral_lean")  # head_down alone is a glance
K_SPREAD = 3.0


@dataclass(frozen=True)
class Rule:
    feature: str
    reason: str
    direction: int  # -1: poor posture lowers it, +1: raises it, 0: either way
    relative: bool  # deviation as a share of the baseline value (sizes) or absolute
    min_tolerance: float


RULES: tuple[Rule, ...] = (
    # Head sinks towards the shoulders: ~0.05-0.25 shoulder widths when slouching.
    Rule("head_drop_ear", "head_drop", -1, False, 0.04),
    Rule("head_drop_nose", "head_drop", -1, False, 0.05),
    # Seen from the side, the neck tips forward: 15 degrees upright, 40+ slouched.
    Rule("neck_inclination_deg", "head_drop", +1, False, 10.0),
    # Closer to the screen, everything looks bigger: 12-20 % when leaning in.
    Rule("shoulder_width", "lean_in", +1, True, 0.08),
    Rule("face_width", "lean_in", +1, True, 0.10),
    # Leaning sideways tilts the shoulder line: 5-12 degrees.
    Rule("shoulder_tilt_deg", "lateral_lean", 0, False, 4.0),
    # Looking down puts the nose below the ears.
    Rule("head_pitch", "head_down", +1, False, 0.06),
)


@dataclass(frozen=True)
class PostureScore:
    total: float  # 0 = the baseline itself, 50 = at the alert threshold, -> 100 far beyond
    reasons: tuple[str, ...]  # active reasons, worst first
    deviations: Mapping[str, float]  # per reason, in tolerances (1.0 = threshold)

    @property
    def poor(self) -> bool:
        return any(r in POOR_REASONS for r in self.reasons)


def tolerance(rule: Rule, baseline: Baseline) -> float | None:
    base = baseline.get(rule.feature)
    if base is None:
        return None
    spread = base.spread / abs(base.center) if rule.relative and base.center else base.spread
    return max(K_SPREAD * spread, rule.min_tolerance)


def rule_deviation(rule: Rule, value: float | None, baseline: Baseline) -> float | None:
    """Signed so that positive means "towards poor posture", in tolerances."""
    base, tol = baseline.get(rule.feature), tolerance(rule, baseline)
    if value is None or base is None or tol is None:
        return None
    delta = value - base.center
    if rule.relative and base.center:
        delta /= abs(base.center)
    return (abs(delta) if rule.direction == 0 else rule.direction * delta) / tol


def deviations(features: PostureFeatures, baseline: Baseline) -> dict[str, float]:
    """The worst rule per reason; reasons with nothing measurable are left out."""
    worst: dict[str, float] = {}
    for rule in RULES:
        d = rule_deviation(rule, getattr(features, rule.feature), baseline)
        if d is not None:
            worst[rule.reason] = max(worst.get(rule.reason, d), d)
    return worst


def score_from(devs: Mapping[str, float]) -> PostureScore:
    active = sorted((r for r, d in devs.items() if d >= 1.0), key=lambda r: -devs[r])
    peak = max([0.0, *devs.values()])
    return PostureScore(round(100 * peak / (1 + peak), 1), tuple(active),
                        MappingProxyType({r: round(d, 3) for r, d in devs.items()}))


def score(features: PostureFeatures, baseline: Baseline) -> PostureScore:
    return score_from(deviations(features, baseline))
