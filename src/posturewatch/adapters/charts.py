"""Charts as inline SVG text: timelines, stacked and grouped bars, line charts with bands.

Why hand-written SVG rather than matplotlib (which MediaPipe happens to
install): the charts are rectangles and polylines; SVG text is a few KB per
chart where matplotlib's SVG embeds every glyph as a path (tens of KB, and a
year of day timelines would be megabytes); it needs no font cache written to
the user's home on first use and no import of a large library we would have to
declare; the output is deterministic, stays crisp at any zoom, keeps its text
selectable, and carries a <title> tooltip per bar. Everything is escaped; no
chart refers to anything outside itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

PALETTE = {
    "good": "#2a9d5c", "poor": "#d1495b", "looking_down": "#edae49", "standing": "#00798c",
    "away": "#c5c9d0", "uncertain": "#9b8ec4", "present": "#3b7dd8",
    "due": "#5b6abf", "taken": "#2a9d5c", "score": "#30638e", "threshold": "#d1495b",
    "band": "#d8eedd", "alert": "#8c1c2c", "grid": "#e4e6ea", "text": "#333333",
}
FONT = 'font-family="sans-serif" font-size="11" fill="#333333"'
LABEL_W = 90  # room for row labels on the left
MAX_POINTS = 2000  # a longer trace is thinned to about this many points


@dataclass(frozen=True)
class Band:
    """A coloured stretch of a time axis."""

    start: float
    end: float
    key: str  # a PALETTE key
    title: str = ""  # tooltip


@dataclass(frozen=True)
class Series:
    name: str
    key: str  # a PALETTE key
    values: tuple[float, ...]


@dataclass(frozen=True)
class Row:
    label: str
    bands: tuple[Band, ...]


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(label)}" width="{_f(width)}" '
            f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}">' + "".join(body)
            + "</svg>")


def _rect(x: float, y: float, w: float, h: float, key: str, title: str = "",
          opacity: float = 1.0) -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    fade = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
    return (f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.5))}" height="{_f(h)}" '
            f'fill="{PALETTE[key]}"{fade}>{tip}</rect>')


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" {FONT}>{escape(text)}</text>'


def _axis(ticks: Sequence[tuple[float, str]], scale, top: float, bottom: float) -> list[str]:
    out = []
    for value, text in ticks:
        x = scale(value)
        out.append(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(bottom)}" '
                   f'stroke="{PALETTE["grid"]}"/>')
        out.append(_text(x, bottom + 12, text, "middle"))
    return out


def timelines(rows: Sequence[Row], x0: float, x1: float, ticks: Sequence[tuple[float, str]],
              width: float = 900, row_h: float = 22, label: str = "timeline") -> str:
    """One strip per row over [x0, x1], the bands coloured by state; ticks below."""
    plot_w, gap = width - LABEL_W - 24, 6  # room for the last tick's label
    scale = _scale(x0, x1, LABEL_W, LABEL_W + plot_w)
    height = len(rows) * (row_h + gap) + 18
    body = _axis(ticks, scale, 0, height - 18)
    for i, row in enumerate(rows):
        y = i * (row_h + gap)
        body.append(_text(0, y + row_h * 0.7, row.label))
        body += [_rect(scale(b.start), y, scale(b.end) - scale(b.start), row_h, b.key, b.title)
                 for b in row.bands if b.end > x0 and b.start < x1]
    return _svg(width, height, body, label)


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (min(max(v, lo), hi) - lo) / span * (b - a)


def stacked_bars(labels: Sequence[str], series: Sequence[Series], width: float = 900,
                 bar_h: float = 18, label: str = "shares") -> str:
    """Horizontal 100 % bars, one per label: each series' share of the row's total."""
    plot_w, gap = width - LABEL_W - 50, 5
    height = len(labels) * (bar_h + gap)
    body = []
    for i, name in enumerate(labels):
        y, total = i * (bar_h + gap), sum(s.values[i] for s in series)
        body.append(_text(0, y + bar_h * 0.75, name))
        if total <= 0:
            body.append(_text(LABEL_W, y + bar_h * 0.75, "no data"))
            continue
        x = LABEL_W
        for s in series:
            w = s.values[i] / total * plot_w
            if w > 0:
                body.append(_rect(x, y, w, bar_h, s.key, f"{name}: {s.name} {s.values[i] / total:.0%}"))
            x += w
    return _svg(width, max(height, 1), body, label)


def grouped_bars(labels: Sequence[str], series: Sequence[Series], width: float = 900,
                 height: float = 180, label: str = "counts") -> str:
    """Vertical bars, one group per label, one bar per series; counts on top."""
    top = max([1.0, *(v for s in series for v in s.values)])
    plot_h, base = height - 34, height - 20
    group_w = (width - 40) / max(1, len(labels))
    bar_w = min(22.0, group_w * 0.8 / max(1, len(series)))
    body = [f'<line x1="30" y1="{_f(base)}" x2="{_f(width)}" y2="{_f(base)}" '
            f'stroke="{PALETTE["grid"]}"/>']
    for i, name in enumerate(labels):
        gx = 40 + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            h = s.values[i] / top * plot_h
            x = gx + j * bar_w
            body.append(_rect(x, base - h, bar_w - 2, h, s.key, f"{name}: {s.name} {s.values[i]:g}"))
            if s.values[i]:
                body.append(_text(x + bar_w / 2 - 1, base - h - 3, f"{s.values[i]:g}", "middle"))
        body.append(_text(40 + (i + 0.5) * group_w, height - 6, name, "middle"))
    return _svg(width, height, body, label)


def _thin(xs: Sequence[float], ys: Sequence[float | None]) -> list[tuple[float, float | None]]:
    step = max(1, math.ceil(len(xs) / MAX_POINTS))
    return list(zip(xs[::step], ys[::step]))


def _polylines(points, sx, sy, key: str) -> list[str]:
    """A line through the points; a None value breaks it (nobody there)."""
    out, run = [], []
    for x, y in points + [(None, None)]:
        if y is None or (isinstance(y, float) and math.isnan(y)):
            if len(run) > 1:
                out.append(f'<polyline fill="none" stroke="{PALETTE[key]}" stroke-width="1.5" '
                           f'points="{" ".join(run)}"/>')
            run = []
        else:
            run.append(f"{_f(sx(x))},{_f(sy(y))}")
    return out


@dataclass(frozen=True)
class LineChart:
    xs: tuple[float, ...]
    ys: tuple[float | None, ...]
    y_range: tuple[float, float]
    title: str
    key: str = "score"
    threshold: float | None = None  # a dashed line at this value
    band: tuple[float, float] | None = None  # the tolerated range, shaded
    shade: tuple[Band, ...] = ()  # stretches of the x axis shaded (episodes)
    markers: tuple[float, ...] = ()  # x positions marked (alerts)


def line_chart(c: LineChart, x0: float, x1: float, ticks: Sequence[tuple[float, str]],
               width: float = 900, height: float = 120) -> str:
    top, bottom = 22.0, height - 18  # the title sits above the plot
    sx = _scale(x0, x1, LABEL_W, width - 24)
    sy = _scale(c.y_range[0], c.y_range[1], bottom, top)
    body = _axis(ticks, sx, top, bottom)
    body += [_rect(sx(b.start), top, sx(b.end) - sx(b.start), bottom - top, b.key, b.title, 0.3)
             for b in c.shade]
    if c.band is not None:
        body.append(_rect(LABEL_W, sy(c.band[1]), width - 24 - LABEL_W,
                          sy(c.band[0]) - sy(c.band[1]), "band", "calibrated tolerance"))
    if c.threshold is not None:
        y = sy(c.threshold)
        body.append(f'<line x1="{LABEL_W}" y1="{_f(y)}" x2="{_f(width - 24)}" y2="{_f(y)}" '
                    f'stroke="{PALETTE["threshold"]}" stroke-dasharray="5,3"/>')
    body += _polylines(_thin(c.xs, c.ys), sx, sy, c.key)
    for x in c.markers:
        body.append(f'<path d="M{_f(sx(x))},{_f(top)} l-5,-9 h10 z" fill="{PALETTE["alert"]}">'
                    f"<title>alert at {x:.0f} s</title></path>")
    body.append(_text(0, 11, c.title))
    lo, hi = c.y_range  # the low label sits above the axis labels
    body += [_text(LABEL_W - 4, sy(hi) + 4, f"{hi:.3g}", "end"),
             _text(LABEL_W - 4, sy(lo) - 2, f"{lo:.3g}", "end")]
    return _svg(width, height, body, c.title)


def legend(keys: Sequence[tuple[str, str]]) -> str:
    """HTML: a swatch and a name for each (PALETTE key, name)."""
    items = "".join(f'<span class="key"><span class="swatch" style="background:{PALETTE[k]}">'
                    f"</span>{escape(name)}</span>" for k, name in keys)
    return f'<p class="legend">{items}</p>'
