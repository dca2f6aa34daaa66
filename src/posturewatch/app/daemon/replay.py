"""A recording through the daemon's own loop, as fast as possible, keeping what it saw.

`posturewatch evaluate --as-daemon` uses it to check the daemon's sampling
(core/cadence.py) on the labelled sample clips: the loop is loop.Daemon itself,
fed as `posturewatch run --source CLIP` feeds it (setup.open_feed: a video through
the pose model, frame by frame as due; a pose log replayed), without a control
socket, history or notifier. So the samples it takes, and the model's tracking
between them, are the daemon's.
"""

from __future__ import annotations

from dataclasses import replace

from ...core.pose import TimedPose
from ...core.settings import Settings
from ..session import Timeline
from . import setup
from .loop import Daemon


class _Recorded:
    """The session as the loop uses it; every update also goes into the timeline."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.monitor, self.tracker = timeline.session.monitor, timeline.session.tracker

    def update(self, timed: TimedPose):
        before = len(self.timeline.events)
        obs = self.timeline.update(timed)
        return obs, self.timeline.events[before:]


class _Kept:
    """Notifications are kept, not shown."""

    active = "kept"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, body: str) -> None:
        self.sent.append((title, body))


def replay(settings: Settings, timeline: Timeline, source: str) -> float:
    """Runs the daemon over `source` (a file, in its own time) into `timeline`; returns the
    recording's length in seconds. The timeline's session must be built from `settings`."""
    settings = replace(settings, source=source, realtime=False)
    feed = setup.open_feed(settings)
    try:
        Daemon(settings, feed, _Recorded(timeline), _Kept(), "").run()
        return feed.header.source.duration_s
    finally:
        feed.close()


__all__ = ["replay"]
