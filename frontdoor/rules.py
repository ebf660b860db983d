"""The front door's rules, pure (no ORM, no clock: ``today`` is passed in): who the form is for, what a
person's words for their difficulty mean clinically, and which questionnaires follow from them."""

import datetime as dt

from outcomes.problems import UNSPECIFIED
from outcomes.scoring import GAD7, INSTRUMENTS, MI_ACCOMPANIED, MI_ALONE, PHQ9, RISK_ITEM, adsm_for

# What the person wants help with, in their words, and the problem descriptor it stands for (DOMAIN §2):
# the descriptor decides the disorder-specific measure (ADSM) asked next. (key, words, descriptor)
HELP_WITH = (
    ("low_mood", "Feeling low, down or hopeless", "depression"),
    ("worry", "Worrying a lot about lots of different things", "gad"),
    ("low_and_worry", "Feeling both low and anxious", "mixed"),
    ("social", "Fear of social situations, or of being judged by others", "social_anxiety"),
    ("trauma", "Upsetting memories or nightmares of a frightening event", "ptsd"),
    ("agoraphobia", "Fear of leaving home, crowds, or places that are hard to leave", "agoraphobia"),
    ("ocd", "Unwanted thoughts, or urges to check, clean or repeat things", "ocd"),
    ("panic", "Sudden attacks of panic or intense fear", "panic"),
    ("health", "Worry about having or getting a serious illness", "health_anxiety"),
    ("phobia", "Fear of one particular thing, such as spiders, flying or needles", "specific_phobia"),
    ("stress", "Stress, or another kind of anxiety", "other_anxiety"),
    ("other", "Something else", "other"),
)
HELP_WITH_WORDS = {key: words for key, words, _ in HELP_WITH}
HELP_WITH_PROBLEM = {key: descriptor for key, _, descriptor in HELP_WITH}


def adsm_measures(help_with):
    """The disorder-specific measures the person's difficulty calls for, asked item by item ([] if none)."""
    descriptor = HELP_WITH_PROBLEM.get(help_with)
    adsm = adsm_for(UNSPECIFIED.get(descriptor, "")) if descriptor else None
    if adsm is None or not INSTRUMENTS[adsm].has_items:
        return []
    return [MI_ALONE, MI_ACCOMPANIED] if adsm == MI_ALONE else [adsm]


def measures_for(help_with):
    """PHQ-9 and GAD-7 for everyone, then the ADSM the difficulty calls for."""
    return [PHQ9, GAD7, *adsm_measures(help_with)]


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def eligibility_problem(*, date_of_birth, practice_listed, min_age, max_age, today):
    """Why this team's form is not for the person (words for them), or None when it is."""
    age = age_on(date_of_birth, today)
    if age < min_age:
        return f"This service is for people aged {min_age} or over."
    if max_age is not None and age > max_age:
        return f"This service is for people aged {min_age} to {max_age}."
    if not practice_listed:
        return "This service is for people registered with a GP practice in its area."
    return None


def at_risk(phq9_answers) -> bool:
    """PHQ-9 item 9 (thoughts of being better off dead, or of self-harm) answered above 0."""
    answers = list(phq9_answers or [])
    return len(answers) >= RISK_ITEM and (answers[RISK_ITEM - 1] or 0) > 0
