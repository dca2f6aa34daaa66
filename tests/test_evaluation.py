"""core.evaluation: which labelled onset of poor posture each tracker episode detects.

Table-driven on hand-made label files and timelines. A timeline here is the tracker's
view: episodes (start, end) and the state per 0.2 s frame, "poor" from an episode's
confirmation until its recovery completes (2 s after it ends, as PostureConfig.recovery_s).
"""

from __future__ import annotations

import pytest

from posturewatch.adapters.labels import Labels
from posturewatch.core.evaluation import score_clip
from posturewatch.core.posture_state import Episode

STEP = 0.1  # label frames
FRAME = 0.2  # tracker frames
RECOVERY_S = 2.0


def labels_of(*stretches: tuple[str, float]) -> Labels:
    names = [name for name, seconds in stretches for _ in range(round(seconds / STEP))]
    return Labels(tuple(round(i * STEP, 3) for i in range(len(names))), tuple(names))


def timeline(labels: Labels, *episodes: tuple[float, float, float]):
    """(start, confirmed, end) per episode -> times, states, Episodes."""
    times = [round(i * FRAME, 3) for i in range(int(labels.end_s / FRAME))]
    states = ["poor" if any(c <= t < e + RECOVERY_S for _, c, e in episodes) else "good"
              for t in times]
    return times, states, [Episode(s, e, ("lateral_lean",), 60.0) for s, _, e in episodes]


UP, LEAN = "upright", "lateral_lean"
# render_m2_lateral_lean: a 4.3 s lean, 2.6 s upright, a 2.5 s lean to the other side.
TWO_LEANS = labels_of((UP, 3.9), (LEAN, 4.3), (UP, 2.6), (LEAN, 2.5), (UP, 1.6))

# (name, labels, episodes as (start, confirmed, end), latencies, missed, short, covered)
CASES = [
    ("confirmed 4 s after its onset", labels_of((UP, 10), (LEAN, 10), (UP, 10)),
     [(9.6, 14.0, 20.0)], [4.0], 0, 0, 0),
    ("an episode that began in the ramp, 2 s before the labelled onset, is its",
     labels_of((UP, 10), (LEAN, 10), (UP, 10)), [(8.0, 13.0, 20.0)], [3.0], 0, 0, 0),
    ("no episode for 10 s of poor posture: a miss", labels_of((UP, 10), (LEAN, 10), (UP, 10)),
     [], [], 1, 0, 0),
    # The first lean's episode still shows "poor" (recovering) when the second lean begins:
    # that is not the second lean detected, which lasts less than the onset delay.
    ("a poor state outlasting its episode does not count for the next onset", TWO_LEANS,
     [(2.8, 8.0, 9.0)], [4.1], 0, 1, 0),
    ("... the second lean 6 s long and never confirmed is a miss",
     labels_of((UP, 3.9), (LEAN, 4.3), (UP, 2.6), (LEAN, 6.0), (UP, 1.6)),
     [(2.8, 8.0, 9.0)], [4.1], 1, 0, 0),
    ("... an episode of its own counts for it",
     labels_of((UP, 3.9), (LEAN, 4.3), (UP, 2.6), (LEAN, 6.0), (UP, 1.6)),
     [(2.8, 8.0, 9.0), (10.6, 15.6, 16.8)], [4.1, 4.8], 0, 0, 0),
    ("confirmed just after the labelled lean ended (1 frame/s smoothing) still counts for it",
     TWO_LEANS, [(3.8, 9.0, 10.0)], [5.1], 0, 1, 0),
    ("an episode still open when the next lean begins covers it", TWO_LEANS,
     [(3.8, 9.0, 14.0)], [5.1], 0, 0, 1),
]


@pytest.mark.parametrize("name,labels,episodes,latencies,missed,short,covered", CASES,
                         ids=[c[0] for c in CASES])
def test_onsets_and_the_episodes_that_detect_them(name, labels, episodes, latencies, missed,
                                                   short, covered):
    times, states, eps = timeline(labels, *episodes)
    score = score_clip("clip", times, states, labels, eps, onset_delay_s=5.0)
    assert score.latencies == pytest.approx(latencies, abs=0.05)
    assert (score.missed_onsets, score.short_onsets, score.covered_onsets) == (missed, short, covered)
