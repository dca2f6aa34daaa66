"""The daily summary reaches a real notification server (dunst on Xvfb) at the day's first start."""

from __future__ import annotations

import datetime as dt
import time

import clips
import pytest
from daemon_support import UPRIGHT_CLIP
from desktop import desktop_session
from history_support import run_in_process

from posturewatch.app import cli

pytestmark = pytest.mark.desktop


def test_the_first_start_of_a_day_notifies_the_summary_of_the_day_before(monkeypatch):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    noon = time.mktime(dt.datetime.combine(yesterday, dt.time(12)).timetuple())
    run_in_process(clips.pose_log(UPRIGHT_CLIP), wall=lambda: noon)  # yesterday's history
    with desktop_session() as desk:
        for key in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
            monkeypatch.setenv(key, desk.env[key])
        assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP))]) == 0
        assert cli.main(["run", "--source", str(clips.pose_log(UPRIGHT_CLIP))]) == 0  # not again
        summaries = [n for n in desk.history() if n.get("appname") == "posturewatch"
                     and n["summary"].startswith("Your day")]
    assert [n["summary"] for n in summaries] == [f"Your day, {yesterday:%a %d %b}"]
    assert summaries[0]["body"].startswith("Seated 4")  # the 45 s clip
    assert "Tip: " in summaries[0]["body"]
