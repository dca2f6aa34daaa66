"""`posturewatch history path|export|forget`: where the history is, take it out, delete it."""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import sys
from pathlib import Path

from ..adapters.history import SCHEMA_VERSION, TABLES, HistoryStore, history_path
from ..adapters.output import write_new
from ..errors import UsageError
from . import flags

# sessions keep an offset per time column; minutes (start_t) and events (t) one utc_offset
TIME_COLUMNS = {"start_t": "start_offset", "end_t": "end_offset"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history", help="where the history is kept; export it; forget it",
        description="The monitor keeps per-minute totals and events (never images) in one file "
        "in your data folder; see docs/history.md.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("path", help="print where the history file is").set_defaults(run=run_path)
    export = sub.add_parser("export", help="write the history as CSV or JSON",
                            description="JSON holds every table; CSV one table (--table).")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--table", choices=TABLES, default=None,
                        help="the table to export (CSV: default minutes; JSON: default all)")
    export.add_argument("--output", type=Path, metavar="FILE",
                        help="write to FILE (default: standard output); an existing FILE is "
                        "kept unless --force")
    export.add_argument("--force", action="store_true", help="overwrite an existing --output")
    export.set_defaults(run=run_export)
    forget = sub.add_parser("forget", help="delete history, before a date or all of it",
                            description="Deletes records for good (the file is kept, its freed "
                            "space overwritten). Asks first unless --yes.")
    which = forget.add_mutually_exclusive_group(required=True)
    which.add_argument("--before", type=flags.iso_date, metavar="DATE",
                       help="delete what was recorded before DATE (YYYY-MM-DD, local time)")
    which.add_argument("--all", action="store_true", help="delete everything")
    forget.add_argument("--yes", action="store_true", help="do not ask")
    forget.set_defaults(run=run_forget)


def run_path(args: argparse.Namespace) -> int:
    print(history_path())
    return 0


# --- export ----------------------------------------------------------------------

def _iso(t: float | None, offset: int | None) -> str | None:
    if t is None:
        return None
    zone = _dt.timezone(_dt.timedelta(seconds=offset or 0))
    return _dt.datetime.fromtimestamp(t, zone).isoformat(timespec="seconds")


def _with_times(row: dict) -> dict:
    """Adds a local ISO time next to every epoch column."""
    out = {}
    for key, value in row.items():
        out[key] = value
        if key in ("t", "start_t", "end_t"):
            own = TIME_COLUMNS.get(key, "utc_offset")
            offset = row[own] if own in row else row.get("utc_offset")
            out[key[:-2] if key.endswith("_t") else "time"] = _iso(value, offset)
    return out


def _rows(store: HistoryStore | None, table: str) -> list[dict]:
    return [] if store is None else [_with_times(r) for r in store.rows(table)]


def export_json(store: HistoryStore | None, tables: tuple[str, ...]) -> str:
    data = {"format": "posturewatch-history", "schema_version": SCHEMA_VERSION,
            **{t: _rows(store, t) for t in tables}}
    return json.dumps(data, indent=2) + "\n"


def export_csv(store: HistoryStore | None, table: str) -> str:
    rows = _rows(store, table)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def run_export(args: argparse.Namespace) -> int:
    if args.force and args.output is None:
        raise UsageError("--force only applies to --output FILE")
    store = HistoryStore.open(history_path(), create=False)
    try:
        if args.format == "json":
            text = export_json(store, (args.table,) if args.table else TABLES)
        else:
            text = export_csv(store, args.table or "minutes")
    finally:
        if store is not None:
            store.close()
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_new(args.output, text, force=args.force, what="export")
        print(f"history exported to {args.output}", file=sys.stderr)
    return 0


# --- forget ----------------------------------------------------------------------

def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_forget(args: argparse.Namespace) -> int:
    store = HistoryStore.open(history_path(), create=False)
    if store is None:
        print("there is no history yet: nothing to forget")
        return 0
    with store:
        found = store.counts() if args.all else store.count_before(args.before)
        what = "all history" if args.all else f"the history before {args.before.isoformat()}"
        if not any(found.values()):
            print(f"nothing to forget: {what} is empty")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"forgetting {what} needs a yes: run it at a terminal to be "
                                 "asked, or add --yes")
            summary = ", ".join(f"{n} {k}" for k, n in found.items())
            if not _confirm(f"Delete {what} ({summary}) for good?"):
                print("nothing was deleted")
                return 0
        done = store.forget_all() if args.all else store.forget_before(args.before)
    print("deleted " + ", ".join(f"{n} {k}" for k, n in done.items()))
    return 0
