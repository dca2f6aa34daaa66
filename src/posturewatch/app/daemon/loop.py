"""The daemon's loop: the monitor fed from a source, events to the notifier and history.

    source --next(due)--> pose --Session.update--> events --> notifier / history / log

The session (presence rule against the profile, posture tracker, monitor) comes
from the one builder, core.session.build_session, as analyze and evaluate build it.

The loop decides when the next sample is due, by the cadence (core/cadence.py):
every 1/fps seconds while posture drifts, is poor or is not settled, every
1/steady_fps while it is steady and good, every 1/away_fps once nobody has
been in view for brief_absence (10 s). The source is read only then (`feed.next(due)`): frames in between are
never converted or estimated. Between samples the loop serves the control
socket (`poll(timeout)` is also the loop's sleep), so `status`, `pause`,
`snooze` ... answer at once and nothing busy-waits.
A file source without --realtime is read as fast as possible in its own time.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Callable

from ...adapters.clock import boot_clock
from ...adapters.control import ControlServer
from ...core import advice, holds
from ...core.cadence import Cadence, cadence_config, look_at
from ...core.events import (BreakDue, BreakTaken, CalibrationStale, PostureAlert,
                            PostureRecovered, UserAway, UserReturned)
from ...core.session import Session
from ...core.settings import Settings
from ...errors import CameraError, UsageError
from . import history_sink
from .console import StateNow
from .holding import HoldsMixin
from .status import DaemonStatus

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
POLL_SLICE_S = 0.5  # longest sleep between two looks at the stop flag


@dataclass
class Health:
    camera: str = "starting"  # starting, ok, released (paused), retrying: ..., ended
    camera_error: str = ""
    last_notification: str = ""


class Daemon(HoldsMixin):
    """The run loop. Everything outside it (feed, notifier, clock) is passed in."""

    def __init__(self, settings: Settings, feed, session: Session, notifier,
                 profile_note: str, profile_name: str = "",
                 clock: Callable[[], float] = boot_clock,
                 wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, history=None,
                 console=None) -> None:
        self.settings, self.feed, self.notifier = settings, feed, notifier
        self.session, self.monitor = session, session.monitor
        self.profile_note, self.profile_name = profile_note, profile_name
        self.clock, self.wall, self.sleep = clock, wall, sleep
        self.paced = feed.live or settings.realtime
        self.server: ControlServer | None = None
        self.stopping = False
        self.health = Health()
        self.stream_t = 0.0  # the source's time of the newest sample
        self.wall0: float | None = None  # clock() when stream time 0 was, for --realtime
        self.stretch_index = 0
        self.backoff_s = 1.0
        self.day = _dt.date.fromtimestamp(wall())
        self.wall_start = wall()
        self.history = history if history is not None else history_sink.HistorySink()
        self.holds = holds.Holds()  # the desktop's pauses: screen locked, suspend, camera busy
        self.said_busy = False
        self.hold_ended = False  # set by `unhold`: sample now, not at the away rate's next step
        self.console = console  # console.StateLines for `run` in a terminal, or None
        self.cadence = Cadence(cadence_config(settings))

    # --- time -----------------------------------------------------------------
    def now(self) -> float:
        if self.feed.live:
            return self.clock()
        if self.settings.realtime and self.wall0 is not None:
            return self.clock() - self.wall0
        return self.stream_t

    def wall_at(self, t: float) -> float:
        """The wall-clock time of loop time `t`; a file read as fast as possible keeps its own time."""
        return self.wall() if self.paced else self.wall_start + t

    def wait_until(self, due: float) -> float:
        """Serves control requests until `due` (paced) or once (as fast as possible); returns
        when the next sample is due: `due`, or now when the last hold ended meanwhile."""
        while not self.stopping:
            remaining = due - self.now() if self.paced else 0.0
            self._poll(min(max(remaining, 0.0), POLL_SLICE_S))
            if self.hold_ended and self.paced:  # the camera is ours again: look at once
                self.hold_ended = False
                return self.now()
            if remaining <= 0:
                return due
        return due

    def _poll(self, timeout: float) -> None:
        if self.server is not None:
            self.server.poll(timeout)
        elif timeout > 0:
            self.sleep(timeout)

    # --- the loop ---------------------------------------------------------------
    def run(self) -> int:
        if self.settings.realtime and not self.feed.live:
            self.wall0 = self.clock()
        due = self.now()
        self._new_day()
        while not self.stopping:
            due = self.wait_until(due)
            if self.stopping:
                break
            now = self.now()
            self.monitor.tick(now)
            if self.monitor.is_paused(now):
                due = self._paused(now)
                continue
            if (counts_as := self.holds.counts_as(now)) is not None:
                due = self._held(now, counts_as)
                continue
            try:
                timed = self.feed.next(due)
            except CameraError as exc:
                due = self._camera_lost(now, exc)
                continue
            if timed is None:
                self.health.camera = "ended"
                log.info("the source ended; stopping")
                break
            self._sampled(timed)
            self.say_state(timed.t)
            due = timed.t + self._next_look(timed.t)
        self.log_summary()
        return 0

    def say_state(self, now: float) -> None:
        """A line on stdout when the state changes (cheap: no history is read)."""
        if self.console is None:
            return
        s = self.monitor.status(now)
        reason = holds.pause_reason(s.paused_until is not None, self.holds.active(now))
        self.console.update(self.wall_at(now), StateNow(
            "camera busy" if reason == holds.CAMERA_BUSY else s.state, reason is not None,
            reason, s.reasons))

    def _next_look(self, t: float) -> float:
        """Seconds to the next sample: the cadence reads what the newest one showed."""
        return self.cadence.update(look_at(t, self.monitor.presence, self.session.tracker))

    def _sampled(self, timed) -> None:
        if self.health.camera != "ok":
            log.info("camera %s delivers frames", self.settings.source)
        self.health.camera, self.health.camera_error, self.backoff_s = "ok", "", 1.0
        self.stream_t = timed.t
        for event in self.session.update(timed)[1]:
            self.on_event(event)
        self.history.sample(self.wall_at(timed.t), timed.t, self.monitor.status(timed.t))
        self._roll_day()

    def _paused(self, now: float) -> float:
        self.release_camera()
        until = self.monitor.paused_until
        if self.paced:
            return min(until, now + POLL_SLICE_S)
        if math.isinf(until):  # a file, paused for good: wait for `resume`
            self._poll(POLL_SLICE_S)
            return now
        self.stream_t = until
        return until

    def _camera_lost(self, now: float, exc: CameraError) -> float:
        if self.health.camera == "starting" and not self.settings.retry_camera:
            raise exc
        self.feed.release()
        self.health.camera = f"retrying in {self.backoff_s:g} s"
        self.health.camera_error = str(exc)
        log.warning("%s; retrying in %g s", exc, self.backoff_s)
        due = now + self.backoff_s
        self.backoff_s = min(MAX_BACKOFF_S, self.backoff_s * 2)
        if not self.paced:
            self.stream_t = due
        return due

    # --- events -----------------------------------------------------------------
    def on_event(self, event) -> None:
        self.history.event(event, self.wall_at(event.t))
        if isinstance(event, PostureAlert):
            self.notify(advice.posture_message(event), "posture")
        elif isinstance(event, PostureRecovered):
            log.info("posture good again after %.0f s", event.t - event.started_s)
            if self.settings.notify_recovered:
                self.notify(advice.recovered_message(event))
        elif isinstance(event, BreakDue):
            self.notify(advice.break_message(event, self.stretch_index), "break")
            self.stretch_index += 1
        elif isinstance(event, BreakTaken):
            log.info(advice.break_taken_line(event))
        elif isinstance(event, UserAway):
            log.info("away from the desk (or standing) since %.1f s", event.t)
        elif isinstance(event, UserReturned):
            log.info("back after %.0f s away", event.away_s)
        elif isinstance(event, CalibrationStale):
            self.notify(advice.Message(
                "Calibration out of date", "The way you sit no longer matches your calibration "
                "— run `posturewatch calibrate` again when you sit well."))

    def notify(self, message: advice.Message, kind: str = "") -> None:
        """`kind` ("posture", "break", "summary") picks the buttons, urgency and icon."""
        log.info("notify: %s: %s", message.title, message.body)
        try:
            if getattr(self.notifier, "takes_kind", False):
                self.notifier.notify(message.title, message.body, kind=kind)
            else:
                self.notifier.notify(message.title, message.body)
        except Exception:  # a notifier must never stop monitoring
            log.exception("notification failed")
        self.health.last_notification = f"{message.title}: {message.body}"

    def _roll_day(self) -> None:
        today = _dt.date.fromtimestamp(self.wall_at(self.stream_t))
        if today != self.day:
            log.info("%s: %s", self.day.isoformat(), self.monitor.take_totals().line())
            self.day = today
            self._new_day()

    def _new_day(self) -> None:
        for message in self.history.new_day(self.day, self.stretch_index):
            self.notify(message, "summary")

    def log_summary(self) -> None:
        log.info("%s: %s", self.day.isoformat(), self.monitor.totals.line())

    def stop_soon(self) -> None:
        """Asks the loop to stop; safe in a signal handler (wakes a waiting poll)."""
        self.stopping = True
        if self.server is not None:
            self.server.wake()

    # --- control ----------------------------------------------------------------
    def handle(self, cmd: str, args: dict) -> dict:
        now = self.now()
        reason = holds.USER if cmd not in ("pause", "resume") else _reason(args)
        if cmd == "pause" and reason == holds.USER:
            self.monitor.pause(now, _seconds(args, None))
            self.release_camera()
            log.info("paused")
        elif cmd == "pause":
            self.hold(now, reason, _seconds(args, None))
        elif cmd == "resume" and reason == holds.USER:
            self.monitor.resume(now)
            log.info("resumed")
        elif cmd == "resume":
            self.unhold(now, reason)
        elif cmd == "snooze" and args.get("breaks_only") is True:  # "remind me in 10 min"
            self.monitor.breaks.snooze(now, _seconds(args, self.settings.snooze_s))
            log.info("break reminder put off")
        elif cmd == "snooze":
            self.monitor.snooze(now, _seconds(args, self.settings.snooze_s))
            log.info("snoozed")
        elif cmd == "break":
            self.on_event(self.monitor.take_break(now))
        elif cmd == "stop":
            self.stopping = True
            log.info("stop requested")
        held_s = _seconds(args, None) if cmd == "pause" and reason != holds.USER else None
        self.history.control(cmd, self.wall_at(now), now, self.monitor.status(now),
                             "" if reason == holds.USER else reason, held_s)
        self.say_state(now)
        return self.status(now).to_json()  # the control socket's edge: JSON from here on

    def status(self, now: float) -> DaemonStatus:
        """What the monitor, the camera, the notifier and the history say; changes nothing."""
        s = self.monitor.status(now)
        reason = holds.pause_reason(s.paused_until is not None, self.holds.active(now))
        return DaemonStatus(
            running=True, state="camera busy" if reason == holds.CAMERA_BUSY else s.state,
            paused=reason is not None, pause_reason=reason,
            present=s.present, presence=self.monitor.presence,
            score=None if s.score is None else round(s.score, 1), reasons=s.reasons,
            seated_min=round(s.seated_s / 60, 2), next_break_min=round(s.next_break_s / 60, 2),
            paused_until=self._wall_time(now, s.paused_until),
            snoozed_until=self._wall_time(now, s.snoozed_until),
            posture_alerts=s.posture_alerts, profile=self.profile_name or None,
            profile_note=self.profile_note,
            camera=self.health.camera, camera_error=self.health.camera_error,
            notifier=getattr(self.notifier, "active", "") or "not used yet",
            last_notification=self.health.last_notification,
            source=self.settings.source, stopping=self.stopping, pid=os.getpid(),
            today=self.history.today(self.wall_at(now), s.totals),
            history=self.history.describe(), history_pending_s=self.history.pending_s)

    def _wall_time(self, now: float, until: float | None) -> str | None:
        if until is None:
            return None
        if math.isinf(until):
            return "until resumed"
        moment = _dt.datetime.fromtimestamp(self.wall() + (until - now))
        return moment.isoformat(timespec="seconds")


def _reason(args: dict) -> str:
    reason = args.get("reason", holds.USER)
    if reason not in holds.REASONS:
        raise UsageError(f"reason must be one of {', '.join(holds.REASONS)}, got "
                         f"{str(reason)[:40]!r}")
    return reason


def _seconds(args: dict, default: float | None) -> float | None:
    value = args.get("seconds", default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
        raise UsageError(f"seconds must be a positive number, got {value!r}")
    return float(value)


__all__ = ["Daemon", "Health"]
