"""The daemon's history sink: samples, events and controls into the history file.

The daemon calls `sample` after every sample, `event` for every monitor event,
`control` for pause / resume / snooze, and `new_day` at start and when the
date changes (retention, and the daily summary of the last day with data).
Minutes are committed as each one ends, and before a pause, so a crash loses
at most the minute in progress.

A history problem never stops monitoring. A file that is damaged, not ours or
from a newer posturewatch is reported once at start (stderr, log, `status`),
left untouched, and history is off for that run. A write that fails later is
logged; its records are kept in memory (up to MAX_UNSAVED) and tried again
with the next write.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import time
from dataclasses import dataclass, replace
from typing import Iterator

from ... import __version__
from ...adapters.history import HistoryStore, history_path, local_wall
from ...core import daystats, tips
from ...core.advice import Message
from ...core.events import Event
from ...core.history import (EventRecord, MinuteBuilder, MinuteRecord, Sample, SessionRecord,
                            event_record)
from ...core.monitor import DailyTotals, MonitorStatus
from ...core.settings import Settings
from ...errors import HistoryError
from .setup import say
from .status import FROM_HISTORY, Today

log = logging.getLogger(__name__)

MAX_UNSAVED = 240  # records kept for a retry while writes fail (about four hours of minutes)
SUMMARY_WITHIN_DAYS = 7  # at start, summarise the last day with data if it is this recent


@dataclass(frozen=True)
class HistoryConfig:
    max_step_s: float = 60.0  # a longer gap between samples is not counted (as the monitor)
    keep_days: float = 365.0
    daily_summary: bool = True


class HistorySink:
    """`store` None: history is off (`note` says why); every method is then a no-op."""

    def __init__(self, store: HistoryStore | None = None, session_id: int = 0,
                 config: HistoryConfig = HistoryConfig(), note: str = "") -> None:
        self.store, self.session_id, self.config, self.note = store, session_id, config, note
        self.builder = MinuteBuilder()
        self.unsaved: list[MinuteRecord | EventRecord] = []
        self.last_t: float | None = None
        self.last_wall: float | None = None
        self.failing = False

    @property
    def on(self) -> bool:
        return self.store is not None

    # --- what the daemon feeds ------------------------------------------------------
    def sample(self, wall: float, t: float, status: MonitorStatus) -> None:
        if not self.on:
            return
        step = 0.0 if self.last_t is None else t - self.last_t
        step = step if 0 <= step <= self.config.max_step_s else 0.0
        self.last_t, self.last_wall = t, wall
        self._save(self.builder.update(Sample(local_wall(wall), step, status.state, status.score,
                                              status.reasons, status.seated_s)))

    def event(self, event: Event, wall: float) -> None:
        record = event_record(event, local_wall(wall)) if self.on else None
        if record is not None:
            self._save([record])

    def control(self, cmd: str, wall: float, now: float, status: MonitorStatus,
                reason: str = "", hold_s: float | None = None) -> None:
        """`hold_s`: how long a desktop's pause lasts (core/holds.py; the monitor does not
        know it)."""
        if not self.on or cmd not in ("pause", "resume", "snooze"):
            return
        until = {"pause": status.paused_until, "snooze": status.snoozed_until}.get(cmd)
        seconds = None if until is None or until == float("inf") else until - now
        seconds = hold_s if hold_s is not None else seconds
        records = self.builder.flush() if cmd == "pause" else []
        self.last_t = None  # a pause is a gap: not counted (as the monitor's restart_clock)
        detail = (reason or "command") if cmd == "pause" else ""
        self._save([*records, EventRecord(local_wall(wall), cmd, seconds, detail=detail)])

    def new_day(self, today: _dt.date, stretch_index: int = 0) -> list[Message]:
        """Apply retention; the summary of the last day with data, once (if turned on)."""
        if not self.on:
            return []
        self._save(self.builder.flush())
        try:
            self.store.forget_before(today - _dt.timedelta(days=self.config.keep_days))
            return self._summary(today, stretch_index) if self.config.daily_summary else []
        except Exception as exc:  # reading the history must never stop monitoring
            log.warning("history: %s", exc)
            return []

    def _summary(self, today: _dt.date, stretch_index: int) -> list[Message]:
        day = self.store.last_day_with_data(before=today)
        if day is None or (today - day).days > SUMMARY_WITHIN_DAYS:
            return []
        events = self.store.events(day, today)  # the marker is filed when it was shown
        if any(e.kind == "summary" and e.detail == day.isoformat() for e in events):
            return []
        stats = daystats.day_stats(self.store.minutes(day, day), events, day, day)[0]
        self._save([EventRecord(local_wall(time.time()), "summary", detail=day.isoformat())])
        return [tips.summary_message(stats, stretch_index)]

    def close(self) -> None:
        if not self.on:
            return
        self._save(self.builder.flush())
        end = self.last_wall if self.last_wall is not None else time.time()
        try:
            self.store.end_session(self.session_id, local_wall(end))
        except Exception as exc:  # reading the history must never stop monitoring
            log.warning("history: could not close the session: %s", exc)
        if self.unsaved:
            log.warning("history: %d records could not be written", len(self.unsaved))
        try:
            self.store.close()
        except Exception as exc:
            log.warning("history: %s", exc)
        self.store = None

    # --- writing, never raising ----------------------------------------------------------
    def _save(self, records: list) -> None:
        if not records and not self.unsaved:
            return
        pending = self.unsaved + list(records)
        try:
            self.store.add(self.session_id, [r for r in pending if isinstance(r, MinuteRecord)],
                           [r for r in pending if isinstance(r, EventRecord)])
        except Exception as exc:  # a history write must never stop monitoring
            if not self.failing:
                log.error("history: cannot write to %s (%s); monitoring goes on",
                          self.store.path, exc)
            self.failing = True
            self.unsaved = pending[-MAX_UNSAVED:]
            return
        if self.failing:
            log.info("history: writing again")
        self.failing, self.unsaved = False, []

    # --- reading -------------------------------------------------------------------------
    def today(self, wall: float, totals: DailyTotals) -> Today:
        """Today's totals for `status`: from the history (every run today), else this run."""
        if not self.on:
            return Today.of_run(totals)
        day = local_wall(wall).local_date
        try:
            open_minute = [replace(m, session=self.session_id, seq=1 << 62)  # after the stored ones
                           for m in self.builder.peek()]
            minutes = self.store.minutes(day, day) + open_minute
            events = self.store.events(day, day)
        except Exception as exc:  # reading the history must never stop monitoring
            log.warning("history: %s", exc)
            return Today.of_run(totals)
        c = daystats.day_stats(minutes, events, day, day)[0].counts
        return Today(round(c.seated_s / 60, 1), c.breaks_taken,
                     None if c.good_share is None else round(c.good_share, 3), FROM_HISTORY,
                     c.breaks_due, c.alerts, round(c.longest_seated_s / 60, 1))

    def describe(self) -> str:
        """For `status`: on (and where), or off and why."""
        return f"on ({self.store.path})" if self.on else f"off{self.note and ': '}{self.note}"

    @property
    def pending_s(self) -> float:
        """Seconds of samples not yet written (the minute in progress)."""
        return round(self.builder.pending_s, 1)


def config_from(settings: Settings, max_step_s: float) -> HistoryConfig:
    return HistoryConfig(max_step_s=max_step_s, keep_days=settings.history_days,
                         daily_summary=settings.daily_summary)


@contextlib.contextmanager
def open_sink(settings: Settings, profile: str, max_step_s: float) -> Iterator[HistorySink]:
    """The run's sink: a session row from start to stop. History off says why, once."""
    config = config_from(settings, max_step_s)
    if not settings.history:
        sink = HistorySink(config=config, note="turned off (the `history` setting)")
    else:
        sink = _open(settings, profile, config)
    try:
        yield sink
    finally:
        sink.close()


def _open(settings: Settings, profile: str, config: HistoryConfig) -> HistorySink:
    session = SessionRecord(local_wall(time.time()), settings.source, profile, settings.model)
    store = None
    try:
        store = HistoryStore.open(history_path())
        session_id = store.start_session(session, __version__)
    except HistoryError as exc:
        if store is not None:
            store.close()
        note = f"history is off for this run: {exc}"
        log.error(note)
        say(note)
        return HistorySink(config=config, note=str(exc))
    return HistorySink(store, session_id, config)


__all__ = ["HistoryConfig", "HistorySink", "open_sink"]
