"""Accuracy of a posture timeline against per-frame labels (pure).

`labels` is anything with `label_at(t)`, `scored(t)` and `changes()` (see
adapters.labels.Labels): the scoring convention of the sample clips' MANIFEST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from .posture_state import Episode, PostureConfig

POOR = ("slouch", "lean_in", "lateral_lean")
RIGHT_REASON = {"slouch": "head_drop", "lean_in": "lean_in", "lateral_lean": "lateral_lean"}
AWAY_MARGIN_S = 3.0  # leaving and returning take a few seconds (and away needs 2 s): not scored
STAND_MARGIN_S = 1.0  # standing up or sitting down takes about a second: not scored
ONSET_EARLY_S = 3.0  # an episode beginning this much before the labelled onset is its (ramps)
ONSET_DELAY_S = PostureConfig.onset_delay_s


def presence_of(label: str) -> str:
    """What the presence rule should say for a label: seated ("present"), standing or away."""
    return label if label in ("away", "standing") else "present"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth:
            self.tp += predicted
            self.fn += not predicted
        else:
            self.fp += predicted
            self.tn += not predicted

    def merge(self, other: "Counts") -> None:
        self.tp += other.tp; self.fp += other.fp; self.fn += other.fn; self.tn += other.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class ClipScore:
    name: str
    poor: Counts = field(default_factory=Counts)
    kind_hits: dict[str, list[int]] = field(default_factory=dict)  # kind -> [hit, total]
    episodes: int = 0
    has_poor: bool = False
    latencies: list[float] = field(default_factory=list)
    missed_onsets: int = 0  # poor posture at least the onset delay long, never confirmed
    covered_onsets: int = 0  # poor posture that began while an episode was still open
    short_onsets: int = 0  # poor posture shorter than the onset delay, not confirmed
    away_correct: int = 0  # frames where "away or not" agrees with the label
    away_total: int = 0
    standing_correct: int = 0  # frames with the user in view where "standing or not" agrees
    standing_total: int = 0
    samples: int = 0  # frames the pose model looked at

    @property
    def away_accuracy(self) -> float | None:
        """Presence agreement: away when labelled away, in view (seated or standing) otherwise."""
        return self.away_correct / self.away_total if self.away_total else None

    @property
    def standing_accuracy(self) -> float | None:
        return self.standing_correct / self.standing_total if self.standing_total else None


def _episode_at(t: float, episodes: Sequence[Episode]) -> Episode | None:
    return next((e for e in episodes if e.start_s <= t < e.end_s), None)


def _score_frame(score: ClipScore, t: float, state: str, labels, episodes) -> None:
    truth = labels.scored(t)
    episode = _episode_at(t, episodes)
    if truth is not None:
        score.poor.add(truth, episode is not None)
    label = labels.label_at(t)
    if truth and label in RIGHT_REASON:
        hit = episode is not None and RIGHT_REASON[label] in episode.reasons
        tally = score.kind_hits.setdefault(label, [0, 0])
        tally[0] += hit
        tally[1] += 1
    _score_presence(score, t, state, labels, label)


def _near_presence_change(t: float, labels) -> bool:
    for c in labels.changes():
        before, after = presence_of(c.before), presence_of(c.after)
        if before != after:
            margin = AWAY_MARGIN_S if "away" in (before, after) else STAND_MARGIN_S
            if abs(c.t - t) <= margin:
                return True
    return False


def _score_presence(score: ClipScore, t: float, state: str, labels, label: str) -> None:
    if _near_presence_change(t, labels):
        return
    truth = presence_of(label)
    score.away_total += 1
    score.away_correct += (state == "away") == (truth == "away")
    if truth != "away":
        score.standing_total += 1
        score.standing_correct += (state == "standing") == (truth == "standing")


def _poor_spans(labels) -> list[tuple[float, float]]:
    """(onset, end) of each stretch of labelled poor posture (kinds may follow each other)."""
    changes, spans = labels.changes(), []
    for i, change in enumerate(changes):
        if change.after in POOR and change.before not in POOR:
            end = next((c.t for c in changes[i + 1:] if c.after not in POOR), labels.end_s)
            spans.append((change.t, end))
    return spans


def _confirmed(episode: Episode, times: Sequence[float], states: Sequence[str]) -> float | None:
    """When the tracker confirmed the episode: the state turned "poor" (the start is dated
    back, maybe into the previous episode's last "poor" frames)."""
    return next((t for i, (t, s) in enumerate(zip(times, states))
                 if s == "poor" and t >= episode.start_s and (i == 0 or states[i - 1] != "poor")),
                None)


def _latencies(score: ClipScore, labels, times: Sequence[float], states: Sequence[str],
               episodes: Sequence[Episode], onset_delay_s: float) -> None:
    """From each labelled onset of poor posture to the tracker confirming the episode that
    began with it (state "poor"). An episode counts for the onset it began near, never for
    a later one (its "poor" state may outlast the posture by the recovery time). An episode
    still open from an earlier onset covers the next one. Poor posture shorter than the
    onset delay is by design not an episode: not finding one then is not a miss."""
    credited: set[int] = set()
    for onset, end in _poor_spans(labels):
        began = next((i for i, e in enumerate(episodes)
                      if i not in credited and onset - ONSET_EARLY_S <= e.start_s < end), None)
        confirmed = _confirmed(episodes[began], times, states) if began is not None else None
        if confirmed is not None:
            credited.add(began)
            score.latencies.append(confirmed - onset)
        elif any(e.start_s < onset - ONSET_EARLY_S and e.end_s > onset for e in episodes):
            score.covered_onsets += 1
        elif end - onset >= onset_delay_s:
            score.missed_onsets += 1
        else:
            score.short_onsets += 1


def held(times: Sequence[float], states: Sequence[str], step: float,
         end_s: float) -> tuple[list[float], list[str]]:
    """A timeline sampled unevenly (the daemon's cadence) as `status` shows it, on a regular
    grid of `step` seconds up to `end_s`: at each grid time the newest sample's state.
    Grid times before the first sample are left out."""
    if not step > 0:
        raise ValueError(f"held: step must be > 0 seconds, got {step!r}")
    grid, shown, i = [], [], -1
    for k in range(int(end_s / step + 1e-9) + 1):
        t = k * step
        while i + 1 < len(times) and times[i + 1] <= t + 1e-9:
            i += 1
        if i >= 0:
            grid.append(t)
            shown.append(states[i])
    return grid, shown


def score_clip(name: str, times: Sequence[float], states: Sequence[str], labels,
               episodes: Sequence[Episode], onset_delay_s: float = ONSET_DELAY_S) -> ClipScore:
    """`states` are the tracker's per frame (what `status` shows); `onset_delay_s` the
    tracker's (PostureConfig.onset_delay_s)."""
    score = ClipScore(name, has_poor=any(c in POOR for c in set(labels.labels)),
                      episodes=len(episodes))
    for t, state in zip(times, states):
        _score_frame(score, t, state, labels, episodes)
    _latencies(score, labels, times, states, episodes, onset_delay_s)
    return score


@dataclass(frozen=True)
class Worst:
    clip: str
    value: float  # its F1, or its presence agreement


@dataclass(frozen=True)
class Overall:
    """Every clip's scores added up."""

    poor: Counts  # poor posture, frame by frame, over every clip
    recall_by_kind: Mapping[str, float]  # label kind -> share found with the right reason
    episodes_on_clean_clips: int
    clean_clips: int  # clips without poor posture
    latencies: tuple[float, ...]  # seconds from each labelled onset to its detection
    missed_onsets: int
    short_onsets: int  # shorter than the onset delay: by design no episode
    covered_onsets: int  # began while an episode was still open
    presence_agreement: float | None  # away or not, against the labels
    standing_agreement: float | None  # standing or not, while in view
    worst_f1: Worst | None  # among the clips with poor posture
    worst_presence: Worst | None

    @property
    def latency_median(self) -> float | None:
        return float(np.median(self.latencies)) if self.latencies else None

    @property
    def latency_max(self) -> float | None:
        return max(self.latencies) if self.latencies else None


def _share(hit: int, total: int) -> float | None:
    return hit / total if total else None


def _worst(scores: Sequence[ClipScore]) -> tuple[Worst | None, Worst | None]:
    poor = [s for s in scores if s.has_poor and s.poor.f1 is not None]
    f1 = min(poor, key=lambda s: s.poor.f1, default=None)
    seen = [s for s in scores if s.away_accuracy is not None]
    presence = min(seen, key=lambda s: s.away_accuracy, default=None)
    return (None if f1 is None else Worst(f1.name, f1.poor.f1),
            None if presence is None else Worst(presence.name, presence.away_accuracy))


def overall(scores: Sequence[ClipScore]) -> Overall:
    total, kinds = Counts(), {}
    for s in scores:
        total.merge(s.poor)
        for kind, (hit, n) in s.kind_hits.items():
            tally = kinds.setdefault(kind, [0, 0])
            tally[0] += hit
            tally[1] += n
    clean = [s for s in scores if not s.has_poor]
    worst_f1, worst_presence = _worst(scores)
    return Overall(
        total, MappingProxyType({k: h / n for k, (h, n) in sorted(kinds.items())}),
        sum(s.episodes for s in clean), len(clean),
        tuple(x for s in scores for x in s.latencies), sum(s.missed_onsets for s in scores),
        sum(s.short_onsets for s in scores), sum(s.covered_onsets for s in scores),
        _share(sum(s.away_correct for s in scores), sum(s.away_total for s in scores)),
        _share(sum(s.standing_correct for s in scores), sum(s.standing_total for s in scores)),
        worst_f1, worst_presence)
