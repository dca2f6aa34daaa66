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
    unit: str | None = None  # measure the deviation in this feature's calibrated value
    fallback: bool = False  # only when no other rule of the reason can be measured


RULES: tuple[Rule, ...] = (
    # Head sinks towards the shoulders: ~0.05-0.25 shoulder widths when slouching.
    Rule("head_drop_ear", "head_drop", -1, False, 0.04),
    Rule("head_drop_nose", "head_drop", -1, False, 0.05),
    # Seen from the side, the neck tips forward: 15 degrees upright, 40+ slouched.
    Rule("neck_inclination_deg", "head_drop", +1, False, 10.0),
    # Shoulders out of view (a deep slump in a small frame): the nose sinks in the
    # frame, measured in calibrated head widths, as Dorso scores nose height.
    Rule("nose_y", "head_drop", +1, False, 0.3, unit="head_size", fallback=True),
    # Closer to the screen, everything looks bigger: 12-20 % when leaning in.
    Rule("shoulder_width", "lean_in", +1, True, 0.08),
    Rule("face_width", "lean_in", +1, True, 0.10),
    # The head's size corrected for turns: a head turn does not interrupt a lean.
    Rule("head_size", "lean_in", +1, True, 0.10),
    # Leaning sideways tilts the shoulder line: 5-12 degrees.
    Rule("shoulder_tilt_deg", "lateral_lean", 0, False, 4.0),
    # Looking down puts the nose below the ears.
    Rule("head_pitch", "head_down", +1, False, 0.06),
)

# Leaning sideways tilts the shoulder line and carries the shoulders towards the
# lower side; a shrug, a talking sway or shifting in the chair does one of the two.
# Both at AGREEING of their own tolerance, the same way, count as a lean. In a front
# view (the only one with shoulder features) MediaPipe's left shoulder is on the
# image's right, mirrored or not: a positive tilt and a positive shift agree.
LEAN_TOGETHER = (Rule("shoulder_tilt_deg", "lateral_lean", +1, False, 4.0),
                 Rule("shoulder_x", "lateral_lean", +1, False, 0.35, unit="head_size"))
AGREEING = 0.7


@dataclass(frozen=True)
class PostureScore:
    total: float  # 0 = the baseline itself, 50 = at the alert threshold, -> 100 far beyond
    reasons: tuple[str, ...]  # active reasons, worst first
    deviations: Mapping[str, float]  # per reason, in tolerances (1.0 = threshold)

    @property
    def poor(self) -> bool:
        return any(r in POOR_REASONS for r in self.reasons)


def _scale(rule: Rule, baseline: Baseline) -> float | None:
    """What one unit of deviation is: 1, the baseline value, or another feature's."""
    base = baseline.get(rule.unit or rule.feature)
    if rule.unit is not None:
        return abs(base.center) if base is not None and base.center else None
    return abs(base.center) if rule.relative and base is not None and base.center else 1.0


def tolerance(rule: Rule, baseline: Baseline) -> float | None:
    base, scale = baseline.get(rule.feature), _scale(rule, baseline)
    if base is None or scale is None:
        return None
    return max(K_SPREAD * base.spread / scale, rule.min_tolerance)


def _change(rule: Rule, value: float | None, baseline: Baseline) -> float | None:
    """value - baseline, in tolerances (signed as the feature moves)."""
    base, tol, scale = baseline.get(rule.feature), tolerance(rule, baseline), _scale(rule, baseline)
    if value is None or base is None or tol is None or scale is None:
        return None
    return (value - base.center) / scale / tol


def rule_deviation(rule: Rule, value: float | None, baseline: Baseline) -> float | None:
    """Signed so that positive means "towards poor posture", in tolerances."""
    change = _change(rule, value, baseline)
    if change is None:
        return None
    return abs(change) if rule.direction == 0 else rule.direction * change


def _lean_together(features: PostureFeatures, baseline: Baseline) -> float | None:
    tilt, shift = (_change(r, getattr(features, r.feature), baseline) for r in LEAN_TOGETHER)
    if tilt is None or shift is None:
        return None
    return abs(tilt + shift) / (2 * AGREEING)


def deviations(features: PostureFeatures, baseline: Baseline) -> dict[str, float]:
    """The worst rule per reason; reasons with nothing measurable are left out.

    A fallback rule counts only when no other rule of its reason could be measured.
    """
    worst: dict[str, float] = {}
    for fallback in (False, True):
        measured = set(worst)
        for rule in RULES:
            if rule.fallback != fallback or rule.reason in measured:
                continue
            d = rule_deviation(rule, getattr(features, rule.feature), baseline)
            if d is not None:
                worst[rule.reason] = max(worst.get(rule.reason, d), d)
    lean = _lean_together(features, baseline)
    if lean is not None:
        worst["lateral_lean"] = max(worst.get("lateral_lean", lean), lean)
    return worst


def score_from(devs: Mapping[str, float]) -> PostureScore:
    active = sorted((r for r, d in devs.items() if d >= 1.0), key=lambda r: -devs[r])
    peak = max([0.0, *devs.values()])
    return PostureScore(round(100 * peak / (1 + peak), 1), tuple(active),
                        MappingProxyType({r: round(d, 3) for r, d in devs.items()}))


def score(features: PostureFeatures, baseline: Baseline) -> PostureScore:
    return score_from(deviations(features, baseline))
