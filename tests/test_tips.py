"""core/tips.py and `posturewatch tips`: the guidance, the tips that fit, the daily summary."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from posturewatch.app import cli
from posturewatch.core import advice, tips
from posturewatch.core.daystats import Counts, DayStats, Totals


def test_tips_prints_the_whole_guidance(capsys):
    assert cli.main(["tips"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # as read, not as wrapped
    for needed in ("Sit back", "lower back", "feet flat", "eye level", "every 30 minutes",
                   "Drink water", "When to see a doctor"):
        assert needed in text, needed
    for name, how in advice.STRETCHES:  # one source of truth for the stretches
        assert f"{name}: {how}." in text
    for warning in ("severe", "gets worse", "about a week", "a fall or an accident",
                    "numbness, tingling or weakness in your legs", "bladder or bowels",
                    "fever", "losing weight without trying"):
        assert warning in text, warning
    assert "not a diagnosis" in text


def test_the_stretches_asked_for_are_all_there():
    names = " ".join(name.lower() for name, _ in advice.STRETCHES)
    for stretch in ("knee-to-chest", "hump and sag", "pelvic tilt", "bird-dog", "bridge",
                    "knee rolls", "walk"):
        assert stretch in names


def test_the_guidance_never_names_a_condition():
    text = tips.guide_text().lower()
    for word in ("sciatica", "hernia", "disc", "arthritis", "cauda", "diagnos" + "e "):
        assert word not in text


def week(**counts) -> Totals:
    return Totals(Counts(**counts), 7, 5, (("head_drop", 900.0), ("lean_in", 300.0)))


HOURS = 3600.0


@pytest.mark.parametrize("totals, expected, not_expected", [
    (week(seated_s=20 * HOURS, good_s=10 * HOURS, poor_s=8 * HOURS),  # poor 44 %
     ["Your head has dropped", "leaning in", "Sit back in the chair"], ["Breaks"]),
    (week(seated_s=20 * HOURS, good_s=19 * HOURS, poor_s=1 * HOURS, breaks_due=10,
          breaks_taken=4, longest_seated_s=80 * 60.0),
     ["longest stretch without a break was 1 h 20 min", "every 30 minutes"], ["Your head"]),
    (week(seated_s=40 * HOURS, good_s=39 * HOURS, poor_s=HOURS),  # 8 h a day
     ["You sat about 8 h 00 min a day"], ["Breaks:"]),
    (week(seated_s=10 * HOURS, good_s=7 * HOURS, looking_down_s=2 * HOURS),
     ["top of the screen at about eye level"], ["Your head"]),
])
def test_the_tips_fit_what_the_period_shows(totals, expected, not_expected):
    text = " ".join(f"{t.title}: {t.text}" for t in tips.tips_for(totals))
    for phrase in expected:
        assert phrase in text
    for phrase in not_expected:
        assert phrase not in text
    assert "When to see a doctor" in text and "Water" in text


def test_without_data_the_tips_are_the_general_ones():
    found = tips.tips_for(Totals(Counts(), 7, 0))
    assert [t.title for t in found][:2] == ["Sitting well", "Moving"]


def test_the_daily_summary_says_what_the_day_added_up_to():
    day = DayStats(dt.date(2026, 1, 5), Counts(seated_s=5 * HOURS + 600, good_s=3 * HOURS,
                                               poor_s=HOURS, alerts=3, breaks_due=8,
                                               breaks_taken=6, longest_seated_s=3000))
    message = tips.summary_message(day)
    assert message.title == "Your day, Mon 05 Jan"
    assert re.match(r"Seated 5 h 10 min, good posture 75%, breaks taken 6 of 8 due, "
                    r"3 posture alerts\. Tip: ", message.body), message.body
