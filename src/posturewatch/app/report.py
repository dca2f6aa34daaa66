"""Analysis results as text for people and JSON for scripts.

The JSON is a contract that scripts and later tools read: keys are only added,
never renamed or removed.
"""

from __future__ import annotations

import math
from dataclasses import asdict

from ..core.advice import posture_message
from ..core.features import FEATURE_NAMES


def _r(value, digits=4):
    """Rounded; None (JSON null) for a missing or non-finite number, which JSON cannot hold."""
    return None if value is None or not math.isfinite(value) else round(value, digits)


def source_json(source) -> dict:
    return {"path": source.path, "duration_s": _r(source.duration_s, 3), "fps": _r(source.fps, 3),
            "frame_count": source.frame_count, "width": source.width, "height": source.height}


def analysis_json(analysis) -> dict:
    summary = analysis.summary
    return {
        "source": source_json(analysis.source),
        "frames_analyzed": summary.frames_analyzed,
        "person_ratio": _r(summary.person_ratio),
        "segments": [asdict(s) for s in summary.segments],
        "features": {name: {k: _r(v) for k, v in asdict(stats).items()}
                     for name, stats in summary.features.items()},
        "model": {"variant": analysis.model.get("variant"), "path": analysis.model.get("path")},
        **(posture_json(analysis.timeline) if analysis.timeline else {}),
        "elapsed_s": _r(analysis.elapsed_s, 3),
        "realtime_factor": _r(analysis.analysed_s / analysis.elapsed_s if analysis.elapsed_s else None, 2),
    }


def posture_json(timeline) -> dict:
    total = sum(timeline.tracker.time_in_state.values())
    return {
        "episodes": [{"start_s": _r(e.start_s, 2), "end_s": _r(e.end_s, 2), "reasons": list(e.reasons),
                      "peak_score": _r(e.peak_score, 1)} for e in timeline.episodes],
        "alerts": [{"time_s": _r(a.t, 2), "kind": "posture", "message": posture_message(a).body}
                   for a in timeline.alerts],
        "states": {s: _r(v / total if total else 0.0) for s, v in timeline.tracker.time_in_state.items()},
    }


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:04.1f}"


def _segments_text(segments) -> list[str]:
    lines = [f"  {_clock(s.start_s):>7} – {_clock(s.end_s):>7}  {s.state}" for s in segments[:20]]
    if len(segments) > 20:
        lines.append(f"  … and {len(segments) - 20} more")
    return lines


def _features_text(features) -> list[str]:
    lines = [f"  {'feature':<24}{'median':>9}{'p10':>9}{'p90':>9}{'seen':>7}"]
    for name in FEATURE_NAMES:
        st = features[name]
        if st.median is None:
            lines.append(f"  {name:<24}{'—':>9}{'':>9}{'':>9}{st.coverage:>7.0%}")
        else:
            lines.append(f"  {name:<24}{st.median:>9.3f}{st.p10:>9.3f}{st.p90:>9.3f}{st.coverage:>7.0%}")
    return lines


def analysis_text(analysis) -> str:
    s, summary = analysis.source, analysis.summary
    speed = analysis.analysed_s / analysis.elapsed_s if analysis.elapsed_s else 0.0
    lines = [
        f"{s.path}",
        f"  {s.width}x{s.height}, {s.fps:.3g} fps, {s.duration_s:.1f} s; model "
        f"{analysis.model.get('variant') or analysis.model.get('path') or 'unknown'}",
        f"  analysed {summary.frames_analyzed} frames in {analysis.elapsed_s:.1f} s "
        f"({speed:.1f}x real time); a person was there in {summary.person_ratio:.0%} of them",
        "",
        "Presence:",
        *_segments_text(summary.segments),
        "",
        "Posture features (while present; see docs/features.md):",
        *_features_text(summary.features),
    ]
    if analysis.timeline:
        lines += ["", *_posture_text(analysis.timeline)]
    return "\n".join(lines)


def _posture_text(timeline) -> list[str]:
    data = posture_json(timeline)
    lines = ["Posture (against the calibration profile):",
             "  time in each state: " + ", ".join(f"{s} {v:.0%}" for s, v in data["states"].items() if v)]
    if not data["episodes"]:
        lines.append("  no episode of poor posture")
    for e in data["episodes"]:
        lines.append(f"  {_clock(e['start_s']):>7} – {_clock(e['end_s']):>7}  "
                     f"{', '.join(e['reasons'])} (peak score {e['peak_score']:.0f})")
    for a in data["alerts"]:
        lines.append(f"  alert at {_clock(a['time_s'])}: {a['message']}")
    return lines
