"""Questionnaire scoring: pure, table-driven, no ORM.

Every item answer is required and must lie in the instrument's range; a questionnaire with a missing
or out-of-range item has no total (no pro-rating). Sources: Kroenke et al. 2001 (PHQ-9), Spitzer et
al. 2006 (GAD-7), Mundt et al. 2002 (WSAS); cut-offs as used by NHS Talking Therapies (DOMAIN.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass

PHQ9 = "PHQ9"
GAD7 = "GAD7"
WSAS = "WSAS"


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    stem: str
    items: tuple[str, ...]
    answers: tuple[tuple[int, str], ...]
    item_max: int
    bands: tuple[Band, ...]
    caseness: int | None  # total at or above this is a clinical case
    reliable_change: int | None  # change of at least this much is reliable

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def max_total(self) -> int:
        return self.item_count * self.item_max


FREQUENCY_ANSWERS = ((0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day"))

INSTRUMENTS: dict[str, Instrument] = {
    PHQ9: Instrument(
        code=PHQ9,
        name="PHQ-9",
        stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        items=(
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "Moving or speaking so slowly that other people could have noticed, or the opposite: "
            "being so fidgety or restless that you have been moving around a lot more than usual",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
        ),
        answers=FREQUENCY_ANSWERS,
        item_max=3,
        bands=(
            Band(0, 4, "minimal"),
            Band(5, 9, "mild"),
            Band(10, 14, "moderate"),
            Band(15, 19, "moderately severe"),
            Band(20, 27, "severe"),
        ),
        caseness=10,
        reliable_change=6,
    ),
    GAD7: Instrument(
        code=GAD7,
        name="GAD-7",
        stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
        items=(
            "Feeling nervous, anxious or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid as if something awful might happen",
        ),
        answers=FREQUENCY_ANSWERS,
        item_max=3,
        bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
        caseness=8,
        reliable_change=4,
    ),
    WSAS: Instrument(
        code=WSAS,
        name="WSAS",
        stem="Rate each statement from 0 (not at all impaired) to 8 (very severely impaired).",
        items=(
            "Because of my problem my ability to work is impaired (0 if not working for other reasons)",
            "Because of my problem my home management (cleaning, tidying, shopping, cooking, looking after "
            "home or children, paying bills) is impaired",
            "Because of my problem my social leisure activities (with other people, such as parties, outings, "
            "visits, dating, home entertaining) are impaired",
            "Because of my problem my private leisure activities (done alone, such as reading, gardening, "
            "collecting, sewing, walking alone) are impaired",
            "Because of my problem my ability to form and maintain close relationships with others, "
            "including those I live with, is impaired",
        ),
        answers=((0, "Not at all"), (2, "Slightly"), (4, "Definitely"), (6, "Markedly"), (8, "Very severely")),
        item_max=8,
        bands=(
            Band(0, 9, "subclinical"),
            Band(10, 20, "significant impairment"),
            Band(21, 40, "moderately severe or worse"),
        ),
        caseness=None,
        reliable_change=None,
    ),
}

RISK_ITEM = 9  # PHQ-9 item 9: thoughts of being better off dead or of self-harm


class ScoringError(ValueError):
    """A questionnaire that cannot be scored; ``item`` is 1-based, or None when the count is wrong."""

    def __init__(self, measure: str, message: str, item: int | None = None):
        super().__init__(message)
        self.measure = measure
        self.item = item
        self.message = message


@dataclass(frozen=True)
class Score:
    measure: str
    items: tuple[int, ...]
    total: int
    severity: str
    caseness: bool | None
    risk: bool  # PHQ-9 item 9 above 0: a structured risk assessment is needed


def instrument(measure: str) -> Instrument:
    try:
        return INSTRUMENTS[measure]
    except KeyError:
        raise ScoringError(measure, f"Unknown questionnaire {measure!r}.") from None


def validate_items(measure: str, answers) -> tuple[int, ...]:
    """Check count and range of every answer; raise ScoringError naming the first bad item."""
    inst = instrument(measure)
    if answers is None or isinstance(answers, (str, bytes)) or not hasattr(answers, "__iter__"):
        raise ScoringError(measure, f"{inst.name} needs a list of {inst.item_count} answers.")
    answers = list(answers)
    for index in range(inst.item_count):
        number = index + 1
        if index >= len(answers) or answers[index] is None or answers[index] == "":
            raise ScoringError(measure, f"{inst.name} item {number} is missing.", number)
        value = answers[index]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScoringError(measure, f"{inst.name} item {number} must be a whole number.", number)
        if not 0 <= value <= inst.item_max:
            raise ScoringError(
                measure, f"{inst.name} item {number} must be between 0 and {inst.item_max} (got {value}).", number
            )
    if len(answers) > inst.item_count:
        raise ScoringError(measure, f"{inst.name} has {inst.item_count} items; {len(answers)} answers were given.")
    return tuple(answers)


def severity(measure: str, total: int) -> str:
    for band in instrument(measure).bands:
        if band.low <= total <= band.high:
            return band.label
    raise ScoringError(measure, f"{instrument(measure).name} total {total} is out of range.")


def is_case(measure: str, total: int) -> bool | None:
    cut = instrument(measure).caseness
    return None if cut is None else total >= cut


def score(measure: str, answers) -> Score:
    items = validate_items(measure, answers)
    total = sum(items)
    return Score(
        measure=measure,
        items=items,
        total=total,
        severity=severity(measure, total),
        caseness=is_case(measure, total),
        risk=measure == PHQ9 and items[RISK_ITEM - 1] > 0,
    )
