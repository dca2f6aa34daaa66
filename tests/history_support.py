"""Helpers for the history tests: labelled seconds of a clip, synthetic long pose logs, midnight."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

import clips
import pytest

from posturewatch.adapters.history import history_path
from posturewatch.adapters.pose_log import PoseLogReader, PoseLogWriter
from posturewatch.app import cli
from posturewatch.app.daemon import history_sink, setup as daemon_setup
from posturewatch.app.daemon.loop import Daemon
from posturewatch.core.session import build_session
from posturewatch.core.pose import TimedPose
from posturewatch.core.settings import Settings

NOT_SEATED = ("away", "standing")


def labelled_seconds(name: str) -> dict[str, float]:
    """Seconds of the clip under each label (each frame lasts until the next)."""
    labels = clips.labels(name)
    ends = list(labels.times[1:]) + [clips.entry(name)["duration_s"]]
    out: dict[str, float] = {}
    for start, end, label in zip(labels.times, ends, labels.labels):
        out[label] = out.get(label, 0.0) + end - start
    return out


def labelled_seated_s(name: str) -> float:
    return sum(s for label, s in labelled_seconds(name).items() if label not in NOT_SEATED)


def stats_json(capsys, days: int = 2) -> dict:
    capsys.readouterr()
    assert cli.main(["stats", "--json", "--days", str(days)]) == 0
    return json.loads(capsys.readouterr().out)


def clear_of_midnight(seconds: float) -> None:
    """Wait until a run of `seconds` starting now stays within one local day (rarely waits)."""
    now = dt.datetime.now()
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time())
    if (midnight - now).total_seconds() < seconds + 5:
        time.sleep((midnight - now).total_seconds() + 1)


def today() -> dt.date:
    """Taken from the clock when a test needs it: a suite that starts before midnight runs
    these after it (a date taken at import time was yesterday by then)."""
    return dt.date.today()


@pytest.fixture(autouse=True)
def within_one_day():
    """For tests that take "today" from the clock more than once (import it into the module): none may straddle midnight."""
    clear_of_midnight(60)


def long_pose_log(out: Path, hours: float, clip: str) -> Path:
    """`hours` of the clip's first present poses repeated at 1 pose a second."""
    reader = PoseLogReader(clips.pose_log(clip))
    poses = [p.pose for p in reader if p.pose is not None][:25]
    header = reader.header
    reader.close()
    with PoseLogWriter(out, header) as writer:
        for i in range(int(hours * 3600)):
            writer.write(TimedPose(float(i), poses[i % len(poses)]))
    return out


def raw(sql: str, params=()) -> list[tuple]:
    """A query on the history file with plain sqlite3, as another program would read it."""
    conn = sqlite3.connect(history_path(), timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def recorded_s() -> float:
    return raw("SELECT coalesce(sum(good_s + poor_s + looking_down_s + standing_s + away_s "
               "+ uncertain_s), 0) FROM minutes")[0][0]


class Notes:
    active = "test"

    def __init__(self):
        self.sent = []

    def notify(self, title, body):
        self.sent.append((title, body))
        return True  # delivered, as a notifier says


def run_in_process(source, wall=time.time, settings=None, notes=None):
    settings = settings or Settings(source=str(source))
    session = build_session(settings)
    feed = daemon_setup.open_feed(settings)
    try:
        with history_sink.open_sink(settings, "", session.monitor.breaks.config.max_step_s) as sink:
            daemon = Daemon(settings, feed, session, notes or Notes(), "", wall=wall,
                            history=sink)
            assert daemon.run() == 0
    finally:
        feed.close()
    return daemon
