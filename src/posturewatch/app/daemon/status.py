"""What `posturewatch status` shows: the daemon's answer, as a typed value.

The loop builds a `DaemonStatus` (loop.Daemon.status); it becomes JSON once, where
it leaves through the control socket (`to_json`, in Daemon.handle), and the client
reads it back (`from_json`) to print it. The JSON keys are the `status --json`
format (docs/daemon.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from ...core.monitor import DailyTotals

FROM_HISTORY, FROM_RUN = "history", "this run"


@dataclass(frozen=True)
class Today:
    """Today's totals: from the history (every run today), else from this run alone."""

    seated_min: float
    breaks: int
    good_share: float | None
    source: str = FROM_RUN  # FROM_HISTORY or FROM_RUN; "from" in JSON
    breaks_due: int | None = None  # these three only from the history
    alerts: int | None = None
    longest_seated_min: float | None = None

    @classmethod
    def of_run(cls, totals: DailyTotals) -> "Today":
        return cls(round(totals.seated_s / 60, 1), totals.breaks, totals.good_share)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seated_min": self.seated_min, "breaks": self.breaks,
                               "good_share": self.good_share}
        if self.source == FROM_HISTORY:
            out.update(breaks_due=self.breaks_due, alerts=self.alerts,
                       longest_seated_min=self.longest_seated_min)
        return {**out, "from": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Today":
        return cls(data["seated_min"], data["breaks"], data["good_share"],
                   data.get("from", FROM_RUN), data.get("breaks_due"), data.get("alerts"),
                   data.get("longest_seated_min"))


@dataclass(frozen=True)
class DaemonStatus:
    running: bool  # True from a daemon; `status --json` prints {"running": false} without one
    state: str  # the monitor's (paused, starting, away, standing, good, poor, ...) or camera busy
    paused: bool  # by the user or by the desktop (screen locked, suspend, camera busy)
    pause_reason: str | None  # core/holds.py's reasons; None when not paused
    present: bool
    presence: str  # the presence rule's last answer: present, standing, away
    score: float | None
    reasons: tuple[str, ...]
    seated_min: float
    next_break_min: float
    paused_until: str | None  # local ISO time, "until resumed", or None
    snoozed_until: str | None
    posture_alerts: bool  # False without a calibration profile
    profile: str | None
    profile_note: str
    camera: str  # starting, ok, released, retrying in N s, ended
    camera_error: str
    notifier: str
    last_notification: str
    source: str
    stopping: bool
    pid: int
    today: Today | None
    history: str  # "on (<file>)" or "off: why"
    history_pending_s: float

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reasons"] = list(self.reasons)
        out["today"] = None if self.today is None else self.today.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "DaemonStatus":
        """KeyError, TypeError or AttributeError when `data` is not a status."""
        values = {f.name: data[f.name] for f in fields(cls)}
        today = values["today"]
        values.update(reasons=tuple(values["reasons"]),
                      today=None if today is None else Today.from_json(today))
        return cls(**values)
