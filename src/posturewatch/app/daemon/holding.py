"""The loop's side of the desktop's pauses (core/holds.py): screen locked, suspend, camera busy.

A hold arrives as a control command with a reason (`pause {"reason": "screen
locked"}`, sent by app/daemon/desktop.py through the control socket, as any
client would). The camera is released at once; while the hold lasts, the
monitor is told at the away rate what the time counts as (nobody there, or
seated and unseen), and once more when the hold ends, so a lock of
`break_away` or more is a break the moment the screen is unlocked.
"""

from __future__ import annotations

import logging
import math

from ...core import advice, holds

log = logging.getLogger(__name__)

BUSY_MESSAGE = advice.Message(
    "Camera in use", "camera in use by another app — posture paused, breaks keep counting")


class HoldsMixin:
    """Daemon methods for holds; the Daemon has feed, health, holds, monitor, settings ..."""

    def release_camera(self, why: str = "") -> None:
        label = f"released ({why})" if why else "released"
        if self.health.camera != label:
            self.feed.release()  # the light goes off: nothing watches
            self.health.camera = label
            log.info("camera %s", label)

    def hold(self, now: float, reason: str, seconds: float | None) -> None:
        first = reason not in self.holds.active(now)
        until = math.inf if seconds is None else now + seconds
        self.holds = self.holds.hold(reason, until)
        self.release_camera(holds.pause_reason(False, self.holds.active(now)) or reason)
        if not first:
            return
        log.info("paused: %s", reason)
        if reason == holds.CAMERA_BUSY and not self.said_busy:
            self.said_busy = True  # said once a run; the log, `status` and the tray say it after
            self.notify(BUSY_MESSAGE)
        self._tell_monitor(now)

    def unhold(self, now: float, reason: str) -> None:
        if reason not in self.holds.active(now):
            return
        self._tell_monitor(now)  # the time up to now counts as the hold said
        self.holds = self.holds.release(reason)
        log.info("%s: over", reason)
        remaining = self.holds.active(now)
        if remaining:
            self.release_camera(holds.pause_reason(False, remaining))
        else:  # held steps come at the away rate (5 s): do not wait for the next one
            self.hold_ended = True

    def _held(self, now: float, counts_as: str) -> float:
        """One step of a hold: the monitor hears what the time counts as; the next is due."""
        self.release_camera(holds.pause_reason(False, self.holds.active(now)))
        self._tell_monitor(now, counts_as)
        due = now + 1.0 / self.settings.away_fps
        if not self.paced:
            self.stream_t = due
        return due

    def _tell_monitor(self, now: float, counts_as: str | None = None) -> None:
        counts_as = counts_as or self.holds.counts_as(now)
        if counts_as is None or self.monitor.is_paused(now):
            return
        if self.monitor.last_t is not None and now < self.monitor.last_t:
            return  # a file read ahead of the loop's clock: nothing to add
        obs = holds.assumed_observation(now, counts_as, "held")
        for event in self.monitor.update(obs, now):
            self.on_event(event)
        self.history.sample(self.wall_at(now), now, self.monitor.status(now))
        self.say_state(now)


__all__ = ["BUSY_MESSAGE", "HoldsMixin"]
