"""adapters/history.py on a real SQLite file: schema, WAL, migrations, damage, forgetting."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest

from posturewatch.adapters import history
from posturewatch.adapters.history import APPLICATION_ID, SCHEMA_VERSION, HistoryStore
from posturewatch.core.history import EventRecord, MinuteRecord, SessionRecord, WallTime
from posturewatch.errors import HistoryError

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
D1 = dt.date(2026, 1, 1)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def session(source: str = "0") -> SessionRecord:
    return SessionRecord(WallTime(T0 + 9 * 3600), source, "default", "lite")


def filled(path: Path, days: int = 3, source: str = "0") -> HistoryStore:
    store = HistoryStore.open(path)
    sid = store.start_session(session(source), "test")
    for d in range(days):
        base = T0 + d * 86400 + 9 * 3600
        store.add(sid, [MinuteRecord(base + 60 * i, 0, good_s=50.0, poor_s=10.0,
                                     seated_run_s=60.0 * (i + 1)) for i in range(30)],
                  [EventRecord(WallTime(base + 600), "posture_alert", 30.0, 70.0, 0, "head_drop")])
    return store


def test_a_new_history_is_a_versioned_wal_database_marked_as_ours(tmp_path):
    path = tmp_path / "data" / "history.sqlite3"
    with filled(path) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        minutes = store.minutes(D1, D1 + dt.timedelta(days=2))
        assert len(minutes) == 90 and minutes[0].good_s == 50.0 and minutes[0].session == 1
        assert [m.seq for m in minutes] == sorted(m.seq for m in minutes)
        assert len(store.events(D1, D1)) == 1 and store.sessions()[0].source == "0"
        for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
            mode = (path.parent / name).stat().st_mode & 0o777
            assert mode == 0o600, (name, oct(mode))  # private: it is about your body
        assert path.parent.stat().st_mode & 0o777 == 0o700
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reading_a_missing_history_creates_nothing(tmp_path):
    path = tmp_path / "history.sqlite3"
    assert HistoryStore.open(path, create=False) is None
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_a_reader_is_not_blocked_by_a_writer_in_the_middle_of_a_transaction(tmp_path):
    path = tmp_path / "h.sqlite3"
    filled(path, days=1).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO minutes (session_id, start_t, utc_offset, good_s, poor_s, "
                   "looking_down_s, standing_s, away_s, uncertain_s, score_n, reasons, "
                   "seated_run_s) VALUES (1, ?, 0, 60, 0, 0, 0, 0, 0, 0, '', 0)", (T0 + 4 * 3600,))
    with HistoryStore.open(path, create=False) as reader:
        assert len(reader.minutes(D1, D1)) == 30  # the committed rows, at once
    writer.execute("COMMIT")
    with HistoryStore.open(path, create=False) as reader:
        assert len(reader.minutes(D1, D1)) == 31


def test_minutes_and_events_are_filed_under_their_local_date(tmp_path):
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        sid = store.start_session(session(), "test")
        late = MinuteRecord(T0 - 1800, 3600)  # 23:30 UTC on Dec 31 is 00:30 on Jan 1 at UTC+1
        store.add(sid, [late], [EventRecord(WallTime(T0 - 1800, 3600), "pause")])
        assert len(store.minutes(D1, D1)) == 1 and len(store.events(D1, D1)) == 1
        assert store.minutes(D1 - dt.timedelta(days=1), D1 - dt.timedelta(days=1)) == []
        assert store.last_day_with_data(before=D1 + dt.timedelta(days=1)) == D1
        assert store.last_day_with_data(before=D1) is None


# --- files that are not ours, newer, or damaged: an error, and never touched -------------

def garbage(path: Path) -> None:
    path.write_bytes(b"these are my notes, not a database\n" * 200)


def other_app(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()


def newer(path: Path) -> None:
    filled(path, days=1).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def damaged(path: Path) -> None:
    filled(path, days=30).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page:5 * page] = b"\xa5" * (2 * page)  # two pages of the minutes table
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make, message", [
    (garbage, "damaged (file is not a database)"),
    (other_app, "not a posturewatch history"),
    (newer, f"newer posturewatch (schema version {SCHEMA_VERSION + 1}"),
    (damaged, "the history database is damaged"),
])
def test_a_file_that_is_not_a_usable_history_is_an_error_and_left_untouched(tmp_path, make, message):
    path = tmp_path / "history.sqlite3"
    make(path)
    before = digest(path)
    for create in (True, False):
        with pytest.raises(HistoryError, match="left as it is") as caught:
            HistoryStore.open(path, create=create)
        assert message in str(caught.value) and str(path) in str(caught.value)
        assert caught.value.exit_code == 14
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.sqlite3"]  # no -wal, no -shm


# --- migrations ---------------------------------------------------------------------------

def test_an_older_schema_is_migrated_in_place_and_keeps_its_rows(tmp_path):
    path = tmp_path / "h.sqlite3"
    filled(path, days=1).close()
    v2 = history.MIGRATIONS + (("ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT ''",),)
    with HistoryStore.open(path, migrations=v2) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert [r["host"] for r in store.rows("sessions")] == [""]
        assert len(store.minutes(D1, D1)) == 30


def test_a_failing_migration_step_is_rolled_back(tmp_path):
    path = tmp_path / "h.sqlite3"
    filled(path, days=1).close()
    broken = history.MIGRATIONS + (("ALTER TABLE sessions ADD COLUMN x TEXT",
                                    "ALTER TABLE nowhere ADD COLUMN y TEXT"),)
    with pytest.raises(HistoryError):
        HistoryStore.open(path, migrations=broken)
    with HistoryStore.open(path) as store:  # still version 1, untouched
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "x" not in next(store.rows("sessions"))


# --- forgetting -----------------------------------------------------------------------------

def test_forget_before_a_date_deletes_only_the_older_records(tmp_path):
    with filled(tmp_path / "h.sqlite3", days=3) as store:
        assert store.count_before(D1 + dt.timedelta(days=1)) == {"minutes": 30, "events": 1}
        done = store.forget_before(D1 + dt.timedelta(days=1))
        assert done == {"minutes": 30, "events": 1, "sessions": 0}  # the session goes on
        assert store.minutes(D1, D1) == []
        assert len(store.minutes(D1, D1 + dt.timedelta(days=2))) == 60


def test_forgotten_records_are_gone_from_the_file_not_only_from_the_tables(tmp_path):
    path = tmp_path / "h.sqlite3"
    secret = "/home/me/Videos/SECRET-INTERVIEW.mp4"
    with filled(path, days=2, source=secret) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert secret.encode() in path.read_bytes()
        store.forget_all()
        assert store.counts() == {"sessions": 0, "minutes": 0, "events": 0}
    files = [p for p in tmp_path.iterdir()]
    assert not any(secret.encode() in p.read_bytes() for p in files)


def test_a_locked_history_is_busy_not_damaged(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite3"
    filled(path, days=1).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")  # another program holds it for good
    other.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(history, "BUSY_TIMEOUT_S", 0.2)
    before = digest(path)
    try:
        with pytest.raises(HistoryError) as caught:
            HistoryStore.open(path, create=False)
    finally:
        other.close()
    assert "cannot use the history (database is locked)" in str(caught.value)
    assert "damaged" not in str(caught.value) and digest(path) == before
