"""Back-care guidance in plain words: `posturewatch tips`, the reports, the daily summary.

Within well-established guidance for desk work and low back care (NHS "back
pain" and "sitting" advice, HSE display-screen guidance, NICE NG59 on low back
pain): sit back with the lower back supported, feet flat, screen at eye level;
stand up and move about every 30 minutes; gentle stretches; drink water; and
see a doctor when pain is severe, gets worse or lasts, or comes with the
warning signs listed in WHEN_TO_SEE_A_DOCTOR. It never says what a pain means
or names a condition. The stretches are core.advice.STRETCHES (one source).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from .advice import POSTURE, STRETCHES, Message, format_duration
from .daystats import DayStats, Totals


@dataclass(frozen=True)
class Tip:
    title: str
    text: str


SITTING_WELL = (
    "Sit back in the chair so your lower back is supported; a small cushion or rolled towel "
    "in the small of your back helps if the chair does not.",
    "Keep both feet flat on the floor (or on a footrest), knees at about hip height.",
    "Put the top of the screen at about eye level, an arm's length away, so your head stays "
    "over your shoulders.",
    "Keep the keyboard and mouse close, with your elbows by your sides and your shoulders relaxed.",
)
MOVING = (
    "Stand up and move at least every 30 minutes: a short walk, fetching water, or a phone "
    "call on your feet all count.",
    "Change position often; no posture is good for hours, not even a good one.",
)
WATER = "Drink water through the day: it is good for you, and refilling the glass is a break."
WHEN_TO_SEE_A_DOCTOR = (
    "the pain is severe, gets worse, or has not improved after about a week",
    "the pain started after a fall or an accident",
    "you have numbness, tingling or weakness in your legs",
    "you have new problems controlling your bladder or bowels",
    "you also have a fever, or are losing weight without trying",
)
NOT_A_DIAGNOSIS = ("posturewatch watches how you sit; it cannot tell what causes a pain, "
                   "and these tips are not a diagnosis or a treatment.")


def guide() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The whole guidance as (heading, paragraphs)."""
    stretches = tuple(f"{name}: {how}." for name, how in STRETCHES)
    doctor = tuple(f"If {why}." for why in WHEN_TO_SEE_A_DOCTOR)
    return (
        ("Sitting well", SITTING_WELL),
        ("Stand up and move", MOVING),
        ("Gentle stretches (stop if one hurts)", stretches),
        ("Water", (WATER,)),
        ("When to see a doctor (or call your health service) about back pain", doctor),
    )


def guide_text() -> str:
    lines = ["Back care at the desk", ""]
    for heading, paragraphs in guide():
        lines.append(heading)
        lines += [textwrap.fill(p, 88, initial_indent="  - ", subsequent_indent="    ")
                  for p in paragraphs]
        lines.append("")
    note = "Note: " + NOT_A_DIAGNOSIS
    return "\n".join(lines + [textwrap.fill(note, 90)]) + "\n"


# --- tips that fit what the history shows ---------------------------------------

POOR_SHARE = 0.2  # poor posture in more than this share of judged time
LOOKING_DOWN_SHARE = 0.1
LONG_STRETCH_S = 45 * 60.0
LONG_DAY_S = 6 * 3600.0


def _posture_tips(totals: Totals) -> list[Tip]:
    c = totals.counts
    tips = []
    share = c.good_share
    if share is not None and 1 - share > POOR_SHARE:
        worst = [r for r, _ in totals.reasons if r in POSTURE and r != "head_down"][:2]
        for reason in worst:
            what, todo = POSTURE[reason]
            tips.append(Tip("Posture", f"{what} quite often: {todo}."))
        tips.append(Tip("Sitting well", " ".join(SITTING_WELL[:3])))
    if c.seated_s and c.looking_down_s / c.seated_s > LOOKING_DOWN_SHARE:
        tips.append(Tip("Screen height", SITTING_WELL[2]))
    return tips


def _break_tips(totals: Totals) -> list[Tip]:
    c, tips = totals.counts, []
    missed = c.breaks_due - c.breaks_taken
    if missed > 0 or c.longest_seated_s > LONG_STRETCH_S:
        longest = format_duration(c.longest_seated_s)
        tips.append(Tip("Breaks", f"Your longest stretch without a break was {longest}. "
                        + MOVING[0]))
    per_day = totals.seated_per_day_s
    if per_day is not None and per_day > LONG_DAY_S:
        tips.append(Tip("Long days", f"You sat about {format_duration(per_day)} a day. "
                        "Take some calls or reading standing up, and walk at lunchtime."))
    return tips


def tips_for(totals: Totals, stretch_index: int = 0) -> tuple[Tip, ...]:
    """The tips that fit a period, then a stretch to try, water, and when to see a doctor."""
    name, how = STRETCHES[stretch_index % len(STRETCHES)]
    tips = _posture_tips(totals) + _break_tips(totals)
    if not totals.days_with_data:
        tips = [Tip("Sitting well", " ".join(SITTING_WELL[:3])), Tip("Moving", MOVING[0])]
    tips += [Tip(f"Stretch: {name}", f"{how[0].upper()}{how[1:]}."), Tip("Water", WATER),
             Tip("When to see a doctor", "If " + "; or if ".join(WHEN_TO_SEE_A_DOCTOR) + ".")]
    return tuple(tips)


# --- the daily summary notification ----------------------------------------------

def summary_message(day: DayStats, stretch_index: int = 0) -> Message:
    """What the day added up to, and one tip that fits it."""
    c = day.counts
    share = c.good_share
    parts = [f"seated {format_duration(c.seated_s)}"]
    if share is not None:
        parts.append(f"good posture {share:.0%}")
    parts.append(f"breaks taken {c.breaks_taken} of {c.breaks_due} due" if c.breaks_due
                 else f"breaks taken {c.breaks_taken}")
    parts.append(f"{c.alerts} posture alert{'s' if c.alerts != 1 else ''}")
    single = Totals(c, 1, int(day.has_data), day.reasons)
    tip = tips_for(single, stretch_index)[0]
    title = f"Your day, {day.date.strftime('%a %d %b')}"
    text = ", ".join(parts)
    return Message(title, f"{text[0].upper()}{text[1:]}. Tip: {tip.text}")
