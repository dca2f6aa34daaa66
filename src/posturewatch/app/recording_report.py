"""`analyze ... --report FILE.html`: one recording as a self-contained page with charts.

The state timeline and presence, the posture score over time with the alert
threshold, episodes shaded and alerts marked, and each posture feature against
its calibrated tolerance band. `Trace` collects the per-frame values while
`analyze` runs; the page is drawn by adapters/charts.py like the history report.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters import charts, html_report
from ..adapters.charts import Band, LineChart, Row
from ..adapters.html_report import Section, paragraph, table
from ..core.advice import posture_message
from ..core.baseline import Baseline
from ..core.observation import Observation
from ..core.scoring import RULES, Rule, tolerance
from ..errors import OutputError
from .report_cmd import STATE_NAMES

JUDGED = ("good", "poor", "looking_down")
THRESHOLD = 50.0  # the score at a deviation of one tolerance, where poor posture starts
TRACED = tuple(dict.fromkeys(r.feature for r in RULES))


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", metavar="FILE.html",
                        help="also write a self-contained HTML page with charts: states, score "
                        "and threshold, episodes and alerts, features against their tolerance "
                        "(needs --profile or --calibration for the posture parts)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite --report FILE even if it is not an earlier report")


def check_output(path: Path, force: bool) -> None:
    """Refuse before a long analysis, not after it."""
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name for the report")
    if path.exists() and not force and not html_report.is_report(path):
        raise OutputError(f"{path}: already exists and is not a posturewatch report; choose "
                          "another name or add --force to overwrite it")


@dataclass
class Trace:
    """What the charts need of every analysed frame."""

    times: list[float] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)  # None: nobody judged
    features: dict[str, list[float | None]] = field(
        default_factory=lambda: {name: [] for name in TRACED})

    def update(self, obs: Observation, timeline=None) -> None:
        self.times.append(obs.t)
        tracker = timeline.tracker if timeline is not None else None
        judged = tracker is not None and obs.present and tracker.state in JUDGED
        self.scores.append(float(tracker.score.total) if judged and tracker.score else None)
        for name in TRACED:
            value = getattr(obs.features, name) if obs.features is not None else None
            self.features[name].append(value)


# --- the page ------------------------------------------------------------------------

def _ticks(x0: float, x1: float) -> list[tuple[float, str]]:
    span = max(x1 - x0, 1.0)
    step = next(s for s in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 1e9)
                if span / s <= 12)
    first = math.ceil(x0 / step) * step
    return [(t, _clock(t)) for t in _frange(first, x1, step)]


def _frange(start: float, stop: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((stop - start) // step) + 1)]


def _clock(t: float) -> str:
    minutes, seconds = divmod(int(round(t)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else \
        f"{minutes}:{seconds:02d}"


def _state_bands(times: list[float], states: list[str], end: float) -> tuple[Band, ...]:
    bands: list[list] = []
    for i, (t, state) in enumerate(zip(times, states)):
        stop = times[i + 1] if i + 1 < len(times) else end
        if bands and bands[-1][2] == state:
            bands[-1][1] = stop
        else:
            bands.append([t, stop, state])
    return tuple(Band(a, b, s, f"{_clock(a)}–{_clock(b)} {STATE_NAMES.get(s, s)}")
                 for a, b, s in bands)


def timeline_section(analysis, x0: float, x1: float) -> Section:
    rows = []
    if analysis.timeline is not None:
        tl = analysis.timeline
        rows.append(Row("posture", _state_bands(tl.times, tl.states, x1)))
    rows.append(Row("presence", tuple(Band(s.start_s, s.end_s, "present" if s.state == "present"
                                           else "away", f"{_clock(s.start_s)}–{_clock(s.end_s)} "
                                           f"{s.state}") for s in analysis.summary.segments)))
    keys = [(s, STATE_NAMES[s]) for s in ("good", "looking_down", "uncertain", "poor", "away")]
    keys.append(("present", "someone in view"))
    chart = charts.timelines(rows, x0, x1, _ticks(x0, x1), label="state timeline")
    return Section("States over time", charts.legend(keys) + chart)


def score_section(analysis, trace: Trace, x0: float, x1: float) -> Section:
    tl = analysis.timeline
    shade = tuple(Band(e.start_s, e.end_s, "poor", f"poor posture {_clock(e.start_s)}–"
                       f"{_clock(e.end_s)}: {', '.join(e.reasons)}") for e in tl.episodes)
    chart = LineChart(tuple(trace.times), tuple(trace.scores), (0.0, 100.0), "score",
                      threshold=THRESHOLD, shade=shade, markers=tuple(a.t for a in tl.alerts))
    note = ("0 is your calibrated posture; the dashed line (50) is one tolerance away, where poor "
            "posture starts. Shaded: episodes of poor posture; triangles: alerts.")
    return Section("Posture score", charts.line_chart(chart, x0, x1, _ticks(x0, x1), height=160)
                   + paragraph(note, "note"))


def _band(rule: Rule, baseline: Baseline | None) -> tuple[float, float] | None:
    base = baseline.get(rule.feature) if baseline is not None else None
    tol = tolerance(rule, baseline) if base is not None else None
    if base is None or tol is None:
        return None
    half = tol * abs(base.center) if rule.relative and base.center else tol
    return base.center - half, base.center + half


def _y_range(values: list[float], band: tuple[float, float] | None) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if band is not None:
        lo, hi = min(lo, band[0]), max(hi, band[1])
    pad = (hi - lo) * 0.08 or 0.01
    return lo - pad, hi + pad


def features_section(trace: Trace, baseline: Baseline | None, x0: float, x1: float) -> Section:
    parts = []
    for rule in {r.feature: r for r in RULES}.values():
        values = trace.features[rule.feature]
        seen = [v for v in values if v is not None]
        if not seen:
            continue
        band = _band(rule, baseline)
        chart = LineChart(tuple(trace.times), tuple(values), _y_range(seen, band),
                          rule.feature, key="present", band=band)
        parts.append(charts.line_chart(chart, x0, x1, _ticks(x0, x1), height=110))
    note = ("Shaded: the tolerance calibrated for you around your good posture; a feature "
            "outside it pushes the score towards the threshold. See docs/features.md.")
    if baseline is None:
        note = "Without a calibration profile there is no tolerance to show."
    return Section("Posture features", "".join(parts) + paragraph(note, "note"))


def summary_section(analysis) -> Section:
    s, summary = analysis.source, analysis.summary
    rows = [["recording", s.path], ["length", _clock(analysis.analysed_s)],
            ["frames analysed", str(summary.frames_analyzed)],
            ["someone in view", f"{summary.person_ratio:.0%} of frames"]]
    body = table([], rows)
    tl = analysis.timeline
    if tl is not None:
        total = sum(tl.tracker.time_in_state.values()) or 1.0
        body += table(["state", "share of time"], [[STATE_NAMES.get(k, k), f"{v / total:.0%}"]
                                                   for k, v in tl.tracker.time_in_state.items() if v])
        episodes = [[f"{_clock(e.start_s)}–{_clock(e.end_s)}", ", ".join(e.reasons),
                     f"{e.peak_score:.0f}"] for e in tl.episodes]
        body += table(["poor posture", "reasons", "peak score"], episodes) if episodes else \
            paragraph("No episode of poor posture.")
        alerts = [[_clock(a.t), posture_message(a).body] for a in tl.alerts]
        body += table(["alert at", "what it said"], alerts) if alerts else ""
    return Section("Summary", body)


def recording_page(analysis, trace: Trace) -> str:
    x0 = trace.times[0] if trace.times else 0.0
    x1 = max(x0 + 1.0, x0 + analysis.analysed_s)
    sections = [summary_section(analysis), timeline_section(analysis, x0, x1)]
    baseline = analysis.timeline.tracker.baseline if analysis.timeline is not None else None
    if analysis.timeline is not None:
        sections.append(score_section(analysis, trace, x0, x1))
    sections.append(features_section(trace, baseline, x0, x1))
    subtitle = "Analysed by posturewatch; frames were not kept, only the numbers drawn here."
    if analysis.timeline is None:
        subtitle += " Add --profile to see the posture states, score and alerts."
    return html_report.page(f"Recording: {Path(analysis.source.path).name}", subtitle, sections)


def write(path: Path, analysis, trace: Trace, force: bool) -> Path:
    return html_report.write_report(path, recording_page(analysis, trace), force=force)
