"""What the history costs: the daemon's per-sample and per-minute work, and reading a year.

    .venv/bin/python benchmarks/history_bench.py            # 3 runs, medians
    .venv/bin/python benchmarks/history_bench.py --runs 5 --days 365

Everything runs in a temporary POSTUREWATCH_HOME; nothing touches your history.

- sink: one hour of 1 fps samples through app.history_sink.HistorySink into a real SQLite
  file (60 minute commits), per sample (the daemon's added work per sample) and per commit.
- year: a history of `--days` days of 8 h each (per-minute rows and events), then the time of
  `stats --days 7`, `stats --days 365` and `report --days 30 / 365` (reading, aggregating,
  drawing; the process start-up is not included), and the sizes of the file and the page.

Times are CPU seconds of this process (time.process_time): the development machine is
shared, and wall-clock times there swing by several times with the other load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _setup_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="pw-history-bench-"))
    os.environ["POSTUREWATCH_HOME"] = str(home)
    return home


def bench_sink(runs: int) -> dict:
    from posturewatch.adapters.history import HistoryStore, history_path
    from posturewatch.app.history_sink import HistorySink
    from posturewatch.core.monitor import DailyTotals, MonitorStatus

    per_sample, per_commit = [], []
    for run in range(runs):
        path = history_path().with_name(f"sink-{run}.sqlite3")
        store = HistoryStore.open(path)
        sink = HistorySink(store, 1)
        start = time.time() // 60 * 60
        states = ("good", "good", "poor", "looking_down", "away")
        t0 = time.process_time()
        for i in range(3600):
            status = MonitorStatus(states[(i // 90) % 5], True, 30.0, ("head_drop",), float(i),
                                   0.0, None, None, True, DailyTotals())
            sink.sample(start + i, float(i), status)
        elapsed = time.process_time() - t0
        commits = _time_commits(store)
        sink.close()
        per_sample.append(elapsed / 3600 * 1e6)
        per_commit.append(commits)
    return {"sink_us_per_sample": statistics.median(per_sample),
            "commit_ms_per_minute": statistics.median(per_commit)}


def _time_commits(store) -> float:
    from posturewatch.core.history import MinuteRecord
    t0 = time.process_time()
    for i in range(100):
        store.add(1, [MinuteRecord(1e9 + 60 * i, 0, good_s=60.0)])
    return (time.process_time() - t0) / 100 * 1e3


def fill_year(days: int) -> None:
    from posturewatch.adapters.history import HistoryStore, history_path, local_wall
    from posturewatch.core.history import EventRecord, MinuteRecord, SessionRecord

    today = dt.date.today()
    with HistoryStore.open(history_path()) as store:
        for back in range(days):
            nine = time.mktime(dt.datetime.combine(today - dt.timedelta(days=back),
                                                   dt.time(9)).timetuple())
            off = local_wall(nine).utc_offset_s
            sid = store.start_session(SessionRecord(local_wall(nine), "0", "p", "lite"), "b")
            ms = [MinuteRecord(nine + 60 * i, off, good_s=40.0, poor_s=15.0, away_s=5.0,
                               score_mean=30.0, score_n=60, reasons=("head_drop",),
                               seated_run_s=60.0 * (i % 40)) for i in range(480)]
            es = [EventRecord(local_wall(nine + 60 * i), k, 60.0) for i in range(0, 480, 40)
                  for k in ("break_due", "break_taken", "posture_alert")]
            store.add(sid, ms, es)
            store.end_session(sid, local_wall(nine + 480 * 60))


def bench_reading(runs: int, home: Path) -> dict:
    from posturewatch.adapters.history import history_path
    from posturewatch.app import report_cmd, stats_cmd

    out = {}
    for label, days, page in (("stats_7d", 7, False), ("stats_365d", 365, False),
                              ("report_30d", 30, True), ("report_365d", 365, True)):
        times, size = [], 0
        for _ in range(runs):
            t0 = time.process_time()
            loaded = stats_cmd.load(days)
            text = report_cmd.history_page(loaded) if page else stats_cmd.stats_text(loaded)
            times.append(time.process_time() - t0)
            size = len(text.encode())
        out[f"{label}_s"] = statistics.median(times)
        if page:
            out[f"{label}_page_kb"] = size / 1024
    out["history_file_mb"] = history_path().stat().st_size / 2**20
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=365, help="days of history to read")
    args = parser.parse_args(argv)
    home = _setup_home()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, home {home}")
    for key, value in bench_sink(args.runs).items():
        print(f"{key:<28}{value:10.2f}")
    t0 = time.process_time()
    fill_year(args.days)
    print(f"{'fill_' + str(args.days) + 'd_s':<28}{time.process_time() - t0:10.2f}")
    for key, value in bench_reading(args.runs, home).items():
        print(f"{key:<28}{value:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
