"""The session history: one SQLite file in the user data dir (the only sqlite3 user).

- WAL journal and a busy timeout: `stats` reads while the daemon writes, and a
  commit survives a crash of the process (synchronous=NORMAL).
- The schema is versioned with `PRAGMA user_version` and migrated step by step
  in a transaction; `PRAGMA application_id` marks the file as ours.
- A file that is not a database, not ours, damaged, or from a newer
  posturewatch is a HistoryError and is never written, replaced or deleted:
  every check runs before the first write.
- Deleting (retention, `history forget`) uses secure_delete and truncates the
  WAL, so forgotten rows do not linger in the file.

What is stored: per-minute seconds per state, the mean score and reasons,
events, sessions. Never an image, never landmarks.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator, Sequence

from ..core.history import (EVENT_KINDS, STATES, EventRecord, MinuteRecord, SessionRecord, WallTime,
                            local_day_start)
from ..errors import HistoryError
from .paths import user_dirs

log = logging.getLogger(__name__)

FILE_NAME = "history.sqlite3"
APPLICATION_ID = 0x50575448  # "PWTH"
BUSY_TIMEOUT_S = 5.0
MARGIN_S = 14 * 3600  # local offsets reach +-14 h: widen UTC ranges by that much

MINUTE_COLUMNS = tuple(f"{s}_s" for s in STATES)
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: sessions, minutes, events
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY, start_t REAL NOT NULL, start_offset INTEGER NOT NULL,
            end_t REAL, end_offset INTEGER, source TEXT NOT NULL, profile TEXT NOT NULL,
            model TEXT NOT NULL, version TEXT NOT NULL)""",
        f"""CREATE TABLE minutes (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, start_t REAL NOT NULL,
            utc_offset INTEGER NOT NULL, {', '.join(f'{c} REAL NOT NULL' for c in MINUTE_COLUMNS)},
            score_mean REAL, score_n INTEGER NOT NULL, reasons TEXT NOT NULL,
            seated_run_s REAL NOT NULL)""",
        "CREATE INDEX minutes_by_time ON minutes (start_t)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, t REAL NOT NULL,
            utc_offset INTEGER NOT NULL, kind TEXT NOT NULL, seconds REAL, score REAL,
            repeat INTEGER NOT NULL, detail TEXT NOT NULL)""",
        "CREATE INDEX events_by_time ON events (t)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
TABLES = ("sessions", "minutes", "events")


def history_path() -> Path:
    return user_dirs().data / FILE_NAME


def local_wall(t: float) -> WallTime:
    """`t` (seconds since the epoch) with this machine's UTC offset at that moment."""
    return WallTime(t, time.localtime(t).tm_gmtoff)


def _damaged(path: Path, why: object) -> HistoryError:
    return HistoryError(f"{path}: the history database is damaged ({why}); it was left as it "
                        "is: move it away (posturewatch then starts a new history) or restore a "
                        "backup")


# --- opening -------------------------------------------------------------------

def _connect(path: Path, create: bool) -> sqlite3.Connection:
    if create:
        _create_private(path)
        target, uri = str(path), False
    else:
        target, uri = path.resolve().as_uri() + "?mode=rw", True
    try:
        return sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the history ({exc})") from exc


def _create_private(path: Path) -> None:
    """A new history is readable by its owner only (SQLite gives its -wal and -shm the same)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise HistoryError(f"{path}: cannot create the history ({exc.strerror})") from exc
    os.close(fd)


def _check(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version; HistoryError for a file that is not ours, newer, or damaged."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and (objects or version):
        raise HistoryError(f"{path}: is an SQLite database but not a posturewatch history; "
                           "it was left as it is: move it away to start a new history")
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: the history was written by a newer posturewatch (schema "
                           f"version {version}, this one knows up to {SCHEMA_VERSION}); it was "
                           "left as it is: update posturewatch to read it")
    if objects:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _damaged(path, "; ".join(problems[:3]))
    return version


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> None:
    """Apply the steps after the file's version, each in its own transaction."""
    while conn.execute("PRAGMA user_version").fetchone()[0] < len(migrations):
        conn.execute("BEGIN IMMEDIATE")  # a write lock only when there is something to do
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have
            if version < len(migrations):
                for statement in migrations[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("history schema at version %d", version + 1)


class HistoryStore:
    """An open history file. `open(path, create=False)` is None when there is none yet."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn, self.path = conn, path

    @classmethod
    def open(cls, path: Path | None = None, create: bool = True,
             migrations: Sequence[Sequence[str]] = MIGRATIONS) -> "HistoryStore | None":
        path = history_path() if path is None else Path(path)
        if not create and not path.exists():
            return None
        if path.is_dir():
            raise HistoryError(f"{path}: is a folder, not a history file")
        conn = _connect(path, create)
        try:
            _check(conn, path)
            conn.execute("PRAGMA journal_mode = WAL")  # the first write: only after the checks
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn, migrations)
        except sqlite3.OperationalError as exc:  # busy, read-only, disk full: not damage
            conn.close()
            raise HistoryError(f"{path}: cannot use the history ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _damaged(path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except (sqlite3.OperationalError, sqlite3.ProgrammingError) as exc:
            # busy, disk full, read-only, I/O error, closed: the file is not (known to be) damaged
            raise HistoryError(f"{self.path}: cannot use the history ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc

    def _transaction(self, statements: Sequence[tuple[str, Sequence]]) -> list[sqlite3.Cursor]:
        self._run("BEGIN IMMEDIATE")
        try:
            done = [self._run(sql, params) for sql, params in statements]
            self._run("COMMIT")
            return done
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    # --- writing -----------------------------------------------------------------
    def start_session(self, session: SessionRecord, version: str) -> int:
        cur = self._transaction([(
            "INSERT INTO sessions (start_t, start_offset, source, profile, model, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session.start.t, session.start.utc_offset_s, session.source, session.profile,
             session.model, version))])[0]
        return int(cur.lastrowid)

    def end_session(self, session_id: int, end: WallTime) -> None:
        self._transaction([("UPDATE sessions SET end_t = ?, end_offset = ? WHERE id = ?",
                            (end.t, end.utc_offset_s, session_id))])

    def add(self, session_id: int, minutes: Sequence[MinuteRecord] = (),
            events: Sequence[EventRecord] = ()) -> None:
        """Minutes and events in one committed transaction."""
        columns = ", ".join(MINUTE_COLUMNS)
        marks = ", ".join("?" * len(MINUTE_COLUMNS))
        rows = [(f"INSERT INTO minutes (session_id, start_t, utc_offset, {columns}, score_mean, "
                 f"score_n, reasons, seated_run_s) VALUES (?, ?, ?, {marks}, ?, ?, ?, ?)",
                 (session_id, m.start, m.utc_offset_s, *(m.seconds(s) for s in STATES),
                  m.score_mean, m.score_n, " ".join(m.reasons), m.seated_run_s))
                for m in minutes]
        rows += [("INSERT INTO events (session_id, t, utc_offset, kind, seconds, score, repeat, "
                  "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (session_id, e.wall.t, e.wall.utc_offset_s, e.kind, e.seconds, e.score,
                   e.repeat, e.detail)) for e in events]
        if rows:
            self._transaction(rows)

    # --- reading -------------------------------------------------------------------
    def minutes(self, first: _dt.date, last: _dt.date) -> list[MinuteRecord]:
        """The minutes filed under the local dates `first` to `last`, in write order."""
        lo, hi = local_day_start(first), local_day_start(last) + 86400
        cur = self._run(
            f"SELECT id, session_id, start_t, utc_offset, {', '.join(MINUTE_COLUMNS)}, "
            "score_mean, score_n, reasons, seated_run_s FROM minutes "
            "WHERE start_t BETWEEN ? AND ? AND start_t + utc_offset >= ? "
            "AND start_t + utc_offset < ? ORDER BY id", (lo - MARGIN_S, hi + MARGIN_S, lo, hi))
        return [_minute(row) for row in cur]

    def events(self, first: _dt.date, last: _dt.date) -> list[EventRecord]:
        lo, hi = local_day_start(first), local_day_start(last) + 86400
        cur = self._run(
            "SELECT id, session_id, t, utc_offset, kind, seconds, score, repeat, detail "
            "FROM events WHERE t BETWEEN ? AND ? AND t + utc_offset >= ? AND t + utc_offset < ? "
            "ORDER BY id", (lo - MARGIN_S, hi + MARGIN_S, lo, hi))
        # a kind this version does not know (written by a newer one) is skipped, not an error
        return [_event(row) for row in cur if row[4] in EVENT_KINDS]

    def sessions(self) -> list[SessionRecord]:
        cur = self._run("SELECT id, start_t, start_offset, end_t, end_offset, source, profile, "
                        "model FROM sessions ORDER BY id")
        return [SessionRecord(WallTime(r[1], r[2]), r[5], r[6], r[7],
                              None if r[3] is None else WallTime(r[3], r[4]), r[0]) for r in cur]

    def last_day_with_data(self, before: _dt.date) -> _dt.date | None:
        lo = local_day_start(before)
        row = self._run("SELECT max(start_t + utc_offset) FROM minutes WHERE start_t < ? "
                        "AND start_t + utc_offset < ?", (lo + MARGIN_S, lo)).fetchone()
        return None if row[0] is None else (_dt.datetime(1970, 1, 1)
                                            + _dt.timedelta(seconds=row[0])).date()

    def rows(self, table: str) -> Iterator[dict]:
        """Every row of `table` as stored (for export)."""
        if table not in TABLES:
            raise ValueError(f"table must be one of {TABLES}, got {table!r}")
        cur = self._run(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row))

    def counts(self) -> dict[str, int]:
        return {t: self._run(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    # --- forgetting ------------------------------------------------------------------
    def count_before(self, day: _dt.date) -> dict[str, int]:
        cut = local_day_start(day)
        return {"minutes": self._run("SELECT count(*) FROM minutes WHERE start_t + utc_offset "
                                     "< ?", (cut,)).fetchone()[0],
                "events": self._run("SELECT count(*) FROM events WHERE t + utc_offset < ?",
                                    (cut,)).fetchone()[0]}

    def forget_before(self, day: _dt.date) -> dict[str, int]:
        """Delete what was recorded before local `day`; sessions left empty go too."""
        cut = local_day_start(day)
        done = self._forget([
            ("DELETE FROM minutes WHERE start_t + utc_offset < ?", (cut,)),
            ("DELETE FROM events WHERE t + utc_offset < ?", (cut,)),
            ("DELETE FROM sessions WHERE start_t + start_offset < ? AND end_t IS NOT NULL AND "
             "id NOT IN (SELECT session_id FROM minutes UNION SELECT session_id FROM events)",
             (cut,))])
        return dict(zip(("minutes", "events", "sessions"), done))

    def forget_all(self) -> dict[str, int]:
        done = self._forget([(f"DELETE FROM {t}", ()) for t in ("minutes", "events", "sessions")])
        return dict(zip(("minutes", "events", "sessions"), done))

    def _forget(self, statements: list[tuple[str, Sequence]]) -> list[int]:
        self._run("PRAGMA secure_delete = ON")  # overwrite the deleted rows' bytes
        counts = [c.rowcount for c in self._transaction(statements)]
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and their copies in the WAL
        except sqlite3.OperationalError as exc:  # a reader is busy: the next checkpoint will do
            log.info("history checkpoint postponed: %s", exc)
        return counts

    def integrity(self) -> list[str]:
        return [row[0] for row in self._run("PRAGMA integrity_check")]


def _minute(row: tuple) -> MinuteRecord:
    n = len(STATES)
    mean, count, reasons, run = row[4 + n:8 + n]
    return MinuteRecord(row[2], row[3], *row[4:4 + n], score_mean=mean, score_n=count,
                        reasons=tuple(reasons.split()), seated_run_s=run, session=row[1],
                        seq=row[0])


def _event(row: tuple) -> EventRecord:
    return EventRecord(WallTime(row[2], row[3]), row[4], row[5], row[6], row[7], row[8],
                       session=row[1], seq=row[0])
