"""`posturewatch report [--days N] --output FILE.html`: your days as one self-contained page.

The page holds the stats table and trend, a posture timeline per day, the
daily shares of good / poor / away time, breaks taken against due, and the
back-care tips that fit the period. Charts are inline SVG (adapters/charts.py);
nothing refers to the network. An existing FILE is replaced only when it is a
previous posturewatch report; anything else needs --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters import charts, html_report
from ..adapters.charts import Band, Row, Series
from ..adapters.html_report import Section, bullets, paragraph, table
from ..adapters.history import history_path
from ..core import daystats, tips
from ..core.history import STATES
from . import flags, stats_cmd

STATE_NAMES = {"good": "good posture", "poor": "poor posture", "looking_down": "looking down",
               "standing": "standing", "away": "away", "uncertain": "at the desk, not judged"}
SHARE_ORDER = ("good", "looking_down", "uncertain", "poor", "standing", "away")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write your days from the history as one HTML page with charts",
        description="One self-contained HTML file (charts inline, nothing loaded from the "
        "network): per-day posture timelines, good/poor/away shares, breaks taken against due, "
        "and the back-care tips that fit. An existing FILE is replaced only if it is an earlier "
        "posturewatch report; otherwise add --force.")
    parser.add_argument("--days", type=flags.days, default=7, metavar="N",
                        help="how many days, ending today (default: 7)")
    parser.add_argument("--output", type=Path, required=True, metavar="FILE.html")
    parser.add_argument("--force", action="store_true", help="overwrite any existing FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = stats_cmd.load(args.days)
    html_report.write_report(args.output, history_page(loaded), force=args.force)
    print(f"report written to {args.output}")
    return 0


def history_page(loaded: stats_cmd.Loaded) -> str:
    p = loaded.period
    first, last = p.days[0].date, p.days[-1].date
    subtitle = (f"{first:%a %d %b} – {last:%a %d %b %Y}, from {history_path()}. Only per-minute "
                "totals are kept; never an image.")
    if not loaded.found or not p.totals.days_with_data:
        subtitle += " There is no history for these days yet."
    sections = [summary_section(p), timeline_section(p, loaded.minutes),
                shares_section(p), breaks_section(p), tips_section(p)]
    return html_report.page(f"Your posture, {stats_cmd.span_words(len(p.days))}", subtitle, sections)


def summary_section(p: daystats.Period) -> Section:
    headers = ["day", "seated", "good posture", "alerts", "breaks taken/due", "longest seated",
               "away"]
    rows = [_cells(f"{d.date:%a %d %b}", d.counts) if d.has_data else
            [f"{d.date:%a %d %b}", "no data", "", "", "", "", ""] for d in p.days]
    rows.append(_cells("total", p.totals.counts))
    return Section("Summary", table(headers, rows) + paragraph(stats_cmd.trend_text(p)))


def _cells(label: str, c: daystats.Counts) -> list[str]:
    return [label, stats_cmd.hours(c.seated_s), stats_cmd.share(c.good_share), str(c.alerts),
            f"{c.breaks_taken}/{c.breaks_due}", stats_cmd.hours(c.longest_seated_s),
            stats_cmd.hours(c.away_s)]


def _bands(slots: tuple[daystats.Slot, ...]) -> tuple[Band, ...]:
    """Adjacent minutes in the same state become one band."""
    bands: list[list] = []
    for s in slots:
        if bands and bands[-1][2] == s.state and bands[-1][1] == s.minute:
            bands[-1][1] = s.minute + 1
        else:
            bands.append([s.minute, s.minute + 1, s.state])
    return tuple(Band(a, b, key, f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d} "
                      f"{STATE_NAMES[key]}") for a, b, key in bands)


def _hour_range(rows: list[Row]) -> tuple[int, int]:
    starts = [b.start for r in rows for b in r.bands]
    ends = [b.end for r in rows for b in r.bands]
    if not starts:
        return 8 * 60, 18 * 60
    lo, hi = int(min(starts)) // 60 * 60, -(-int(max(ends)) // 60) * 60
    return lo, max(hi, lo + 60)


def timeline_section(p: daystats.Period, minutes) -> Section:
    slots = daystats.slots_by_date(minutes, p.days[0].date, p.days[-1].date)
    rows = [Row(f"{d.date:%a %d %b}", _bands(slots[d.date])) for d in p.days]
    lo, hi = _hour_range(rows)
    every = 60 if hi - lo <= 12 * 60 else 120
    ticks = [(m, f"{m // 60:02d}:00") for m in range(lo, hi + 1, every)]
    chart = charts.timelines(rows, lo, hi, ticks, label="posture timeline per day")
    keys = [(s, STATE_NAMES[s]) for s in SHARE_ORDER]
    return Section("Posture through each day", charts.legend(keys) + chart + paragraph(
        "Each minute is coloured by the state it was mostly in; gaps: posturewatch was not "
        "running or was paused.", "note"))


def shares_section(p: daystats.Period) -> Section:
    labels = [f"{d.date:%a %d %b}" for d in p.days]
    series = [Series(STATE_NAMES[s], s, tuple(getattr(d.counts, f"{s}_s") for d in p.days))
              for s in SHARE_ORDER if s in STATES]
    chart = charts.stacked_bars(labels, series, label="daily shares of good, poor and away time")
    keys = [(s, STATE_NAMES[s]) for s in SHARE_ORDER]
    return Section("Good, poor and away: shares of each day", charts.legend(keys) + chart)


def breaks_section(p: daystats.Period) -> Section:
    labels = [f"{d.date:%d %b}" for d in p.days]
    series = [Series("breaks due", "due", tuple(float(d.counts.breaks_due) for d in p.days)),
              Series("breaks taken", "taken", tuple(float(d.counts.breaks_taken) for d in p.days))]
    c = p.totals.counts
    how = (f"Taken: {c.breaks_away} away from the desk, {c.breaks_standing} standing, "
           f"{c.breaks_command} with `posturewatch break`.")
    chart = charts.grouped_bars(labels, series, label="breaks due and taken per day")
    return Section("Breaks taken and due", charts.legend([("due", "due"), ("taken", "taken")])
                   + chart + paragraph(how, "note"))


def tips_section(p: daystats.Period) -> Section:
    found = tips.tips_for(p.totals, stretch_index=p.days[-1].date.toordinal())
    return Section("Tips for the days ahead", bullets([(t.title + ":", t.text) for t in found])
                   + paragraph(tips.NOT_A_DIAGNOSIS, "note"))


__all__ = ["history_page", "run"]
