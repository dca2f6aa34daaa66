"""`posturewatch stats`, `history path|export|forget` on a real history file."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import pty
import subprocess
import sys
import time

import pytest
from history_support import clear_of_midnight, raw, today, within_one_day  # noqa: F401 (autouse)

from posturewatch.adapters.history import HistoryStore, history_path, local_wall
from posturewatch.adapters.paths import user_dirs
from posturewatch.app import cli
from posturewatch.core.history import EventRecord, MinuteRecord, SessionRecord


def fill(days_back=(0, 1, 3), minutes_per_day=90, source="0") -> None:
    """Sessions on the given days before today, 09:00 on: good, then poor, an alert, a break."""
    with HistoryStore.open(history_path()) as store:
        for back in days_back:
            nine = time.mktime(dt.datetime.combine(today() - dt.timedelta(days=back),
                                                   dt.time(9)).timetuple())
            sid = store.start_session(SessionRecord(local_wall(nine), source, "default", "lite"),
                                      "test")
            ms = [MinuteRecord(nine + 60 * i, local_wall(nine).utc_offset_s,
                               **{"good_s" if i < minutes_per_day * 2 // 3 else "poor_s": 60.0},
                               seated_run_s=60.0 * (i + 1)) for i in range(minutes_per_day)]
            es = [EventRecord(local_wall(nine + 1800), "break_due", 1800.0),
                  EventRecord(local_wall(nine + 4000), "posture_alert", 30.0, 70.0, 0, "lean_in"),
                  EventRecord(local_wall(nine + 5000), "break_taken", 5000.0, detail="command")]
            store.add(sid, ms, es)
            store.end_session(sid, local_wall(nine + 60 * minutes_per_day))


def out_err(capsys):
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_history_path_is_in_the_user_data_folder(capsys):
    assert cli.main(["history", "path"]) == 0
    assert out_err(capsys)[0].strip() == str(user_dirs().data / "history.sqlite3")


# --- stats ---------------------------------------------------------------------------------

def test_stats_without_a_history_lists_empty_days_and_creates_nothing(capsys):
    assert cli.main(["stats", "--json"]) == 0
    data = json.loads(out_err(capsys)[0])
    assert len(data["days"]) == 7 and data["found"] is False
    assert data["days"][-1]["date"] == today().isoformat()
    assert all(d["seated_s"] == 0 and not d["has_data"] for d in data["days"])
    assert cli.main(["stats"]) == 0
    assert "No history yet" in out_err(capsys)[0]
    assert not history_path().exists()


def test_stats_per_day_totals_and_trend(capsys):
    fill(days_back=(0, 1, 3, 8))  # day 8 is in the period before the last 7 days
    assert cli.main(["stats", "--json"]) == 0
    data = json.loads(out_err(capsys)[0])
    by_date = {d["date"]: d for d in data["days"]}
    day = by_date[today().isoformat()]
    assert (day["seated_s"], day["good_s"], day["poor_s"]) == (5400, 3600, 1800)
    assert (day["alerts"], day["breaks_due"], day["breaks_taken"]) == (1, 1, 1)
    assert day["breaks_command"] == 1 and day["longest_seated_s"] == 5000 + 400
    assert not by_date[(today() - dt.timedelta(days=2)).isoformat()]["has_data"]
    assert data["totals"]["seated_s"] == 3 * 5400 and data["totals"]["days_with_data"] == 3
    assert data["trend"]["previous"]["seated_s"] == 5400
    assert data["trend"]["seated_per_day_change_s"] == 0.0
    assert cli.main(["stats", "--days", "3"]) == 0
    text = out_err(capsys)[0]
    assert "1 h 30 min" in text and "67%" in text and "—" in text and "trend against" in text


@pytest.mark.parametrize("days", ["0", "-3", "x", "99999"])
def test_stats_days_must_be_a_sensible_number(capsys, days):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stats", "--days", days])
    assert exit_.value.code == 2


# --- export ----------------------------------------------------------------------------------

def test_export_json_holds_every_table_with_local_times(capsys):
    fill(days_back=(0,))
    assert cli.main(["history", "export"]) == 0
    data = json.loads(out_err(capsys)[0])
    assert data["format"] == "posturewatch-history" and data["schema_version"] == 1
    assert len(data["sessions"]) == 1 and len(data["minutes"]) == 90 and len(data["events"]) == 3
    minute = data["minutes"][0]
    assert minute["start"].startswith(f"{today().isoformat()}T09:00:00")
    assert minute["good_s"] == 60.0 and minute["session_id"] == 1
    assert data["events"][1]["kind"] == "posture_alert" and data["events"][1]["detail"] == "lean_in"


@pytest.fixture
def zone():
    """`zone(name)`: this process's local time zone for the test (restored after it)."""
    before = os.environ.get("TZ")

    def use(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()
        clear_of_midnight(60)  # midnight there, not here

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize("name, offset", [("America/Adak", "-10:00"),
                                          ("Pacific/Kiritimati", "+14:00")])
def test_exported_times_carry_the_local_offset_they_were_recorded_with(capsys, zone, name,
                                                                        offset):
    zone(name)
    fill(days_back=(0,))
    assert cli.main(["history", "export"]) == 0
    data = json.loads(out_err(capsys)[0])
    nine = f"{today().isoformat()}T09:00:00{offset}"
    assert data["sessions"][0]["start"] == nine and data["minutes"][0]["start"] == nine
    assert data["events"][0]["time"] == f"{today().isoformat()}T09:30:00{offset}"


def test_export_csv_to_a_file_never_overwrites_without_force(capsys, tmp_path):
    fill(days_back=(0,))
    out = tmp_path / "minutes.csv"
    assert cli.main(["history", "export", "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 90 and rows[0]["good_s"] == "60.0"
    mine = tmp_path / "mine.csv"
    mine.write_text("my own numbers\n")
    out_err(capsys)
    assert cli.main(["history", "export", "--format", "csv", "--output", str(mine)]) == 11
    err = out_err(capsys)[1]
    assert err == f"posturewatch: error: {mine}: already exists; choose another name or add " \
                  "--force to overwrite it\n"
    assert mine.read_text() == "my own numbers\n"
    assert cli.main(["history", "export", "--format", "csv", "--table", "events",
                     "--output", str(mine), "--force"]) == 0
    assert [r["kind"] for r in csv.DictReader(io.StringIO(mine.read_text()))] == [
        "break_due", "posture_alert", "break_taken"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "mine.csv", "minutes.csv"]


def test_export_without_a_history_is_empty(capsys):
    assert cli.main(["history", "export"]) == 0
    data = json.loads(out_err(capsys)[0])
    assert data["minutes"] == [] and data["sessions"] == []


# --- forget ------------------------------------------------------------------------------------

def counts():
    return {t: raw(f"SELECT count(*) FROM {t}")[0][0] for t in ("sessions", "minutes", "events")}


def test_forget_refuses_without_a_terminal_and_without_yes(capsys):
    fill()
    before = counts()
    assert cli.main(["history", "forget", "--all"]) == 2  # stdin is not a terminal here
    err = out_err(capsys)[1]
    assert err.startswith("posturewatch: error: ") and "--yes" in err and err.count("\n") == 1
    assert counts() == before


def test_forget_before_a_date_with_yes(capsys):
    fill(days_back=(0, 1, 3))
    assert cli.main(["history", "forget", "--before", today().isoformat(), "--yes"]) == 0
    assert "deleted 180 minutes, 6 events, 2 sessions" in out_err(capsys)[0]
    assert counts() == {"sessions": 1, "minutes": 90, "events": 3}


def test_forget_all_with_yes(capsys):
    fill()
    assert cli.main(["history", "forget", "--all", "--yes"]) == 0
    assert counts() == {"sessions": 0, "minutes": 0, "events": 0}
    assert cli.main(["history", "forget", "--all", "--yes"]) == 0
    assert "nothing to forget" in out_err(capsys)[0]


def test_forget_a_bad_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["history", "forget", "--before", "last tuesday"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("answer, left", [(b"y\n", 0), (b"n\n", 270), (b"\n", 270)])
def test_forget_asks_at_a_terminal(answer, left):
    fill()
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "posturewatch", "history", "forget", "--all"],
                            stdin=child, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(child)
    os.write(main, answer)
    out, err = proc.communicate(timeout=30)
    os.close(main)
    assert proc.returncode == 0, err
    assert b"Delete all history (3 sessions, 270 minutes, 9 events) for good? [y/N]" in err
    assert counts()["minutes"] == left
    assert out.startswith(b"deleted 270 minutes") if left == 0 else out == b"nothing was deleted\n"


@pytest.mark.parametrize("argv", [["stats"], ["history", "export"],
                                  ["history", "forget", "--all", "--yes"],
                                  ["report", "--output", "r.html"]])
def test_a_damaged_history_is_one_error_line_and_never_touched(capsys, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = history_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage" * 1000)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert cli.main(argv) == 14
    err = out_err(capsys)[1]
    assert err.startswith(f"posturewatch: error: {path}: the history database is damaged")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "r.html").exists()


def test_a_one_day_period_is_called_today(capsys):
    assert cli.main(["stats", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Today (")
    assert "nothing to compare with in the day before" in out
