"""What the notifications say: plain words, what is wrong, one thing to do.

The advice stays within well-established guidance for desk work (NHS, HSE and
OSHA material on posture, display-screen work and back care): sit back with
the back supported, screen at eye level, move often, stretch gently, drink
water, and see a doctor or physiotherapist for pain that persists. It never
says what a pain means or names a condition.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import BreakDue, BreakTaken, PostureAlert, PostureRecovered


@dataclass(frozen=True)
class Message:
    title: str
    body: str

    def __post_init__(self) -> None:
        if not self.title or not self.body:
            raise ValueError("a notification needs a title and a body")


# reason -> (what is wrong, one thing to do). Reasons come from core.scoring.REASONS.
POSTURE = {
    "head_drop": ("Your head has dropped towards your chest", "sit back and lift your chest"),
    "lean_in": ("You are leaning in towards the screen",
                "sit back against the chair and bring the screen closer if you need to"),
    "lateral_lean": ("You are leaning to one side",
                     "rest both feet flat and sit evenly on both hips"),
    "head_down": ("Your head has been bent down for a while",
                  "raise your screen so its top is at eye level"),
}
FALLBACK = ("Your posture has slipped", "sit back, let your shoulders drop and lift your chest")

# Gentle escalation: the second and later notices of one episode add a nudge.
ESCALATION = (
    "",
    " If sitting well is hard to keep up, stand up and move for a minute.",
    " You have been sitting like this for a while: a short walk will help more than forcing it.",
)

STRETCHES = (
    ("Knee-to-chest stretch",
     "lying down or seated, pull one knee gently towards your chest, hold 10 seconds, swap"),
    ("Hump and sag (cat-cow)",
     "on hands and knees, round your back up slowly, then let it sag gently; repeat 5 times"),
    ("Pelvic tilt",
     "standing against a wall, flatten your lower back into it by tightening your stomach; "
     "hold 5 seconds, repeat 5 times"),
    ("Bird-dog",
     "on hands and knees, stretch one arm forward and the opposite leg back, hold 5 seconds, swap"),
    ("Bridge",
     "lying on your back with knees bent, lift your hips until your body is straight, "
     "hold 5 seconds, lower slowly"),
    ("Knee rolls",
     "lying on your back with knees bent, roll both knees slowly to one side, then the other"),
    ("A short walk",
     "walk for two or three minutes, and fetch a glass of water on the way"),
)

DOCTOR = "If pain keeps coming back or spreads, talk to a doctor or physiotherapist."


def posture_message(alert: PostureAlert) -> Message:
    what, todo = POSTURE.get(alert.reasons[0], FALLBACK) if alert.reasons else FALLBACK
    extra = ESCALATION[min(alert.repeat, len(ESCALATION) - 1)]
    return Message("Check your posture", f"{what} — {todo}.{extra}")


def recovered_message(event: PostureRecovered) -> Message:
    return Message("Posture looks good", "Nicely done — you are sitting well again.")


def stretch(index: int) -> tuple[str, str]:
    """The stretch to suggest for the `index`-th break reminder (rotates)."""
    return STRETCHES[index % len(STRETCHES)]


def break_message(event: BreakDue, index: int) -> Message:
    minutes = max(1, round(event.seated_s / 60))
    span = f"{minutes} minute{'s' if minutes != 1 else ''}"
    name, how = stretch(index)
    lead = (f"You have been sitting for {span}" if event.repeat == 0
            else f"Still sitting after {span}")
    return Message("Time for a break",
                   f"{lead}. Stand up and move. Try: {name} — {how}.")


def break_taken_line(event: BreakTaken) -> str:
    return (f"break taken after {event.seated_s / 60:.1f} min seated "
            f"({event.away_s:.0f} s away)")


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
