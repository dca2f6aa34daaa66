"""`posturewatch stats [--days N] [--json]`: your days from the history, totals and the trend."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from dataclasses import dataclass

from ..adapters.history import HistoryStore, history_path, local_wall
from ..core import daystats
from ..core.daystats import Counts, Period
from ..core.history import EventRecord, MinuteRecord
from . import flags



def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats", help="your days from the history: time seated, posture, breaks, trend",
        description="Per day: time seated, good-posture share, posture alerts, breaks due and "
        "taken, the longest time seated without a break; then the totals and the trend against "
        "the period before. Read from the history the monitor keeps (`posturewatch history`).")
    parser.add_argument("--days", type=flags.days, default=7, metavar="N",
                        help="how many days, ending today (default: 7)")
    parser.add_argument("--json", action="store_true", help="one JSON document for scripts")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Loaded:
    period: Period
    minutes: tuple[MinuteRecord, ...]
    events: tuple[EventRecord, ...]
    found: bool  # a history file exists


def today() -> _dt.date:
    return local_wall(time.time()).local_date


def load(days: int, last: _dt.date | None = None) -> Loaded:
    """The period of `days` days up to `last` (today), and the period before, from the history."""
    last = today() if last is None else last
    first, _ = daystats.span(last, days)
    store = HistoryStore.open(history_path(), create=False)
    if store is None:
        return Loaded(daystats.period((), (), last, days), (), (), False)
    with store:
        minutes, events = store.minutes(first, last), store.events(first, last)
    return Loaded(daystats.period(minutes, events, last, days), tuple(minutes), tuple(events),
                  True)


def run(args: argparse.Namespace) -> int:
    loaded = load(args.days)
    if args.json:
        print(json.dumps({**daystats.period_json(loaded.period),
                          "history": str(history_path()), "found": loaded.found}, indent=2))
    else:
        print(stats_text(loaded))
    return 0


# --- text --------------------------------------------------------------------------

def hours(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


COLUMNS = f"{'day':<11}{'seated':>13}{'good':>7}{'alerts':>8}{'breaks':>10}{'longest':>13}{'away':>13}"


def row(label: str, c: Counts) -> str:
    breaks = f"{c.breaks_taken}/{c.breaks_due}"
    return (f"{label:<11}{hours(c.seated_s):>13}{share(c.good_share):>7}{c.alerts:>8}"
            f"{breaks:>10}{hours(c.longest_seated_s):>13}{hours(c.away_s):>13}")


def span_words(days: int) -> str:
    """"today" or "the last N days": the period a report covers."""
    return "today" if days == 1 else f"the last {days} days"


def before_words(days: int) -> str:
    return "the day before" if days == 1 else f"the {days} days before"


def trend_text(p: Period) -> str:
    t, n = p.trend, p.totals.days
    if not t.previous.days_with_data or not p.totals.days_with_data:
        return f"trend: nothing to compare with in {before_words(n)}"
    parts = []
    if t.good_share is not None:
        parts.append(f"good posture {t.good_share * 100:+.0f} points")
    if t.seated_per_day_s is not None:
        more = "more" if t.seated_per_day_s >= 0 else "less"
        parts.append(f"seated {hours(abs(t.seated_per_day_s))} {more} a day")
    if t.break_share is not None:
        parts.append(f"share of due breaks taken {t.break_share * 100:+.0f} points")
    if t.alerts_per_hour is not None:
        fewer = "fewer" if t.alerts_per_hour <= 0 else "more"
        parts.append(f"{abs(t.alerts_per_hour):.1f} {fewer} posture alerts an hour seated")
    return f"trend against {before_words(n)}: " + ("; ".join(parts) or "no change to show")


def stats_text(loaded: Loaded) -> str:
    p = loaded.period
    first, last = p.days[0].date, p.days[-1].date
    span = span_words(len(p.days))
    lines = [f"{span[0].upper()}{span[1:]} ({first:%a %d %b} – {last:%a %d %b %Y}); breaks are "
             "taken/due, good is the good-posture share of judged time", "", COLUMNS]
    for day in p.days:
        label = f"{day.date:%a %d %b}"
        lines.append(row(label, day.counts) if day.has_data else f"{label:<11}{'—':>13}")
    lines += [row("total", p.totals.counts), "", trend_text(p)]
    if not loaded.found:
        lines += ["", "No history yet: the monitor records it while it runs "
                  "(`posturewatch start`)."]
    return "\n".join(lines)
