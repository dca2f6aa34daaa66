"""The HTML reports: self-contained, drawn by a real browser, never clobbering a file."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import clips
import pytest
from browser import ink_rows, pixels_of, screenshot
from daemon_support import LONG_CLIP, make_profile
from history_support import today, within_one_day  # noqa: F401 (an autouse fixture)

from posturewatch.adapters.charts import PALETTE
from posturewatch.adapters.history import HistoryStore, history_path, local_wall
from posturewatch.app import cli
from posturewatch.core.history import EventRecord, MinuteRecord, SessionRecord

pytestmark = pytest.mark.browser


STATES = ("good", "poor", "looking_down", "away", "standing")


def at(day: dt.date, hh: int, mm: int = 0) -> float:
    return time.mktime(dt.datetime.combine(day, dt.time(hh, mm)).timetuple())


def session_minutes(store, start: float, count: int, pattern=STATES, run0=0.0):
    """A session of `count` minutes from `start`, the states cycling every 7 minutes."""
    sid = store.start_session(SessionRecord(local_wall(start), "0", "default", "lite"), "test")
    ms = [MinuteRecord(start + 60 * i, local_wall(start + 60 * i).utc_offset_s,
                       **{f"{pattern[(i // 7) % len(pattern)]}_s": 60.0},
                       seated_run_s=run0 + 60.0 * (i + 1)) for i in range(count)]
    es = [EventRecord(local_wall(start + 60 * i), "break_due", 1800.0) for i in range(30, count, 45)]
    es += [EventRecord(local_wall(start + 60 * i + 5), "break_taken", 1800.0, detail="away")
           for i in range(40, count, 90)]
    store.add(sid, ms, es)
    store.end_session(sid, local_wall(start + 60 * count))


def week() -> None:
    """Five days of data, two without (days 2 and 5 ago)."""
    with HistoryStore.open(history_path()) as store:
        for back in (0, 1, 3, 4, 6):
            session_minutes(store, at(today() - dt.timedelta(days=back), 9), 240)


def no_remote_urls(html: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "url(" not in html.lower()


def assert_drawn(image, keys, at_least=400):
    counts = {k: pixels_of(image, PALETTE[k]) for k in keys}
    assert all(n >= at_least for n in counts.values()), counts


# --- the history report ----------------------------------------------------------------------

def test_the_week_report_is_self_contained_and_its_charts_are_drawn(tmp_path, capsys):
    week()
    out = tmp_path / "week.html"
    assert cli.main(["report", "--output", str(out)]) == 0
    html = out.read_text()
    no_remote_urls(html)
    assert html.count("<svg") == 3 and "Tips for the days ahead" in html
    assert "When to see a doctor" in html and "no data" in html
    image = screenshot(out)
    # the state palette in the timelines and daily shares, the break bars
    assert_drawn(image, ("good", "poor", "looking_down", "away", "standing", "due", "taken"))
    rows = ink_rows(image)
    assert (rows > 300).sum() > 150  # many rows of the page carry a wide chart, not blank


def test_a_report_of_an_empty_history_still_renders(tmp_path):
    out = tmp_path / "empty.html"
    assert cli.main(["report", "--days", "3", "--output", str(out)]) == 0
    html = out.read_text()
    assert "There is no history for these days yet" in html and html.count("no data") >= 3
    image = screenshot(out, (1000, 1400))
    assert pixels_of(image, PALETTE["good"]) > 0  # the legend swatches at least
    assert pixels_of(image, PALETTE["poor"]) < 400  # but no bars or timelines


def test_midnight_a_clock_jump_and_a_day_without_data_in_the_report(tmp_path, capsys):
    with HistoryStore.open(history_path()) as store:
        # two days ago 23:30 -> yesterday 00:30 in one session; nothing three days ago;
        # today the clock goes back 20 minutes at 10:30
        session_minutes(store, at(today() - dt.timedelta(days=2), 23, 30), 60, ("good",))
        session_minutes(store, at(today(), 10), 30, ("good",))
        session_minutes(store, at(today(), 10, 10), 30, ("poor",), run0=1800.0)
    assert cli.main(["stats", "--json", "--days", "4"]) == 0
    days = json.loads(capsys.readouterr().out)["days"]
    assert [d["seated_s"] for d in days] == [0.0, 1800.0, 1800.0, 3600.0]
    assert days[-1]["poor_s"] == 1800.0
    out = tmp_path / "r.html"
    assert cli.main(["report", "--days", "4", "--output", str(out)]) == 0
    html = out.read_text()
    assert "23:30–24:00 good posture" in html and "00:00–00:30 good posture" in html
    assert html.count(">no data<") >= 1
    image = screenshot(out)
    assert_drawn(image, ("good", "poor"))


# --- overwriting -------------------------------------------------------------------------------

def test_an_existing_file_is_kept_unless_it_is_an_earlier_report_or_force(tmp_path, capsys):
    out = tmp_path / "notes.html"
    out.write_text("<p>my notes</p>")
    assert cli.main(["report", "--output", str(out)]) == 11
    assert "already exists" in capsys.readouterr().err and out.read_text() == "<p>my notes</p>"
    assert cli.main(["report", "--output", str(out), "--force"]) == 0
    first = out.read_text()
    week()
    assert cli.main(["report", "--output", str(out)]) == 0  # an earlier report: replaced
    assert out.read_text() != first and "posturewatch report" in out.read_text()


def test_a_report_into_a_missing_folder_is_an_output_error(tmp_path, capsys):
    assert cli.main(["report", "--output", str(tmp_path / "nowhere" / "r.html")]) == 11
    err = capsys.readouterr().err
    assert err.startswith("posturewatch: error: ") and err.count("\n") == 1


# --- one recording ---------------------------------------------------------------------------

def test_a_recording_report_draws_states_score_alerts_and_feature_bands(tmp_path, capsys):
    config = history_path().parent.parent / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("alert_after = 5\n")  # so the slouch in the clip raises an alert
    profile = make_profile(LONG_CLIP, 7.0, tmp_path / "profile.json")
    out = tmp_path / "clip.html"
    assert cli.main(["analyze", str(clips.pose_log(LONG_CLIP)), "--calibration", str(profile),
                     "--report", str(out)]) == 0
    assert "Posture (against the calibration profile)" in capsys.readouterr().out
    html = out.read_text()
    no_remote_urls(html)
    assert "States over time" in html and "Posture score" in html and "Posture features" in html
    assert html.count("<title>alert at") >= 1 and "head_drop" in html and "lean_in" in html
    assert html.count("calibrated tolerance") >= 5  # a band per measured feature
    image = screenshot(out, (1000, 2600))
    assert_drawn(image, ("good", "poor", "away", "present", "band"))
    assert pixels_of(image, PALETTE["score"]) >= 200  # the score line


def test_a_recording_report_without_a_profile_shows_presence_and_features(tmp_path, capsys):
    out = tmp_path / "clip.html"
    assert cli.main(["analyze", str(clips.pose_log(LONG_CLIP)), "--report", str(out)]) == 0
    html = out.read_text()
    assert "Add --profile" in html and "Posture score" not in html
    assert_drawn(screenshot(out, (1000, 1800)), ("present", "away"))


def test_analyze_refuses_an_existing_report_path_before_analysing(tmp_path, capsys):
    out = tmp_path / "mine.html"
    out.write_text("mine")
    assert cli.main(["analyze", str(clips.pose_log(LONG_CLIP)), "--report", str(out)]) == 11
    captured = capsys.readouterr()
    assert captured.out == "" and "not a posturewatch report" in captured.err
    assert out.read_text() == "mine"
