"""Questionnaire scoring: pure, table-driven, no ORM.

The numbers of every measure (items, answer range, sum or mean, total range, caseness and reliable
change with their comparison signs, SNOMED CT codes, the presenting problem an anxiety
disorder-specific measure belongs to, what may be missing) are data: ``outcomes/data/measures.csv``,
a copy of ../shared/reference/measures.csv (DOMAIN.md §2). This module reads that table once and adds
only what a table cannot hold: item wording where its licence allows (PHQ-9, GAD-7, PHQ-15, WSAS;
other measures show numbered items with their answer scale), severity bands, and PSWQ's reverse-scored
items.

Every item answer is required and must lie in the measure's range; a questionnaire with a missing or
out-of-range item has no total (no silent pro-rating). The two published exceptions are data too: the
OCI replaces one or two missing items by the mean of the answered ones, and the Mobility Inventory is
the mean of the answered items, invalid with more than five skipped. Sources: Kroenke et al. 2001
(PHQ-9), Spitzer et al. 2006 (GAD-7), Mundt et al. 2002 (WSAS); NHS Digital, A guide to IAPT data and
publications (2021) §7.4 and App. B.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources

PHQ9 = "PHQ9"
GAD7 = "GAD7"
WSAS = "WSAS"
SPIN = "SPIN"
PDSS = "PDSS"
PCL5 = "PCL5"
OCI = "OCI"
HAI = "HAI"
MI_ALONE = "MI_ALONE"
MI_ACCOMPANIED = "MI_ACCOMPANIED"
BIQ = "BIQ"
IBS_SSS = "IBS_SSS"
PHQ15 = "PHQ15"
PSWQ = "PSWQ"

SUM = "sum"
MEAN = "mean"
NO_MISSING = "none"
MEAN_REPLACED = "mean_replaced"  # OCI: 1-2 missing items take the mean of the answered ones
SKIPPED = "skipped"  # Mobility Inventory: the mean of the answered items, up to 5 skipped

MEASURES_CSV = "data/measures.csv"
RISK_ITEM = 9  # PHQ-9 item 9: thoughts of being better off dead or of self-harm


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Threshold:
    """A published cut-off with its comparison sign, kept as data beside the value (">=" or ">")."""

    value: int | Decimal
    op: str

    def met(self, number) -> bool:
        number = Decimal(str(number))
        return number > self.value if self.op == ">" else number >= self.value

    def __str__(self):
        return f"{'above' if self.op == '>' else 'at or above'} {self.value}"


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str  # what clinicians call it: "PHQ-9", "SPIN", "MI alone"
    title: str  # the full name, as in the reference table
    snomed_ct: str
    stem: str
    items: tuple[str, ...]  # the wording of each item, or "Item n" where the wording is licensed
    worded: bool
    answers: tuple[tuple[int, str], ...]
    item_min: int | None
    item_max: int | None
    scoring: str  # SUM or MEAN
    total_min: int | Decimal
    total_max: int | Decimal
    bands: tuple[Band, ...]
    caseness_threshold: Threshold | None
    reliable_change_threshold: Threshold | None
    presenting_problem: str  # "F40.1", or "F42." for a whole block; "" for measures not tied to one
    ids101_adsm: str
    missing: str  # NO_MISSING, MEAN_REPLACED or SKIPPED
    max_missing: int
    reverse_items: tuple[int, ...]
    source: str

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def has_items(self) -> bool:
        """False for measures whose item structure the reference table does not give (BIQ, IBS-SSS):
        they are recorded as a total."""
        return bool(self.items)

    @property
    def max_total(self):
        return self.total_max

    @property
    def decimals(self) -> int:
        return 2 if self.scoring == MEAN else 0

    @property
    def caseness(self):
        """The cut-off value (its sign is ``caseness_threshold.op``); None where none is published."""
        return self.caseness_threshold.value if self.caseness_threshold else None

    @property
    def reliable_change(self):
        return self.reliable_change_threshold.value if self.reliable_change_threshold else None

    @property
    def decides_outcomes(self) -> bool:
        """Only a measure with both a published caseness and reliable change value can decide an outcome."""
        return self.caseness_threshold is not None and self.reliable_change_threshold is not None

    @property
    def is_adsm(self) -> bool:
        """An anxiety disorder-specific measure: tied to an ICD-10 presenting problem and able to decide."""
        return bool(self.presenting_problem) and bool(self.ids101_adsm) and self.decides_outcomes

    def is_case(self, total) -> bool | None:
        return None if self.caseness_threshold is None else self.caseness_threshold.met(total)

    def change(self, first, last) -> int:
        """+1 reliably worse, -1 reliably better, 0 neither (higher scores are worse on every measure here)."""
        rc = self.reliable_change_threshold
        if rc is None:
            raise ScoringError(self.code, f"{self.name} has no published reliable change value.")
        delta = Decimal(str(last)) - Decimal(str(first))
        if rc.met(delta):
            return 1
        if rc.met(-delta):
            return -1
        return 0

    def format(self, total) -> str:
        """The score as written in the data set: whole numbers, the Mobility Inventory as d.dd."""
        if total is None:
            return ""
        if self.scoring == MEAN:
            return f"{Decimal(str(total)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
        return str(total)

    def check_total(self, total):
        if total is None or isinstance(total, bool):
            raise ScoringError(self.code, f"{self.name} needs a score.")
        try:
            number = Decimal(str(total))
        except (InvalidOperation, ValueError):
            raise ScoringError(self.code, f"{self.name} score must be a number.") from None
        if not number.is_finite():
            raise ScoringError(self.code, f"{self.name} score must be a number.")
        if self.decimals == 0 and number != number.to_integral_value():
            raise ScoringError(self.code, f"{self.name} score must be a whole number.")
        if not self.total_min <= number <= self.total_max:
            raise ScoringError(
                self.code, f"{self.name} score must be between {self.total_min} and {self.total_max} (got {total})."
            )
        return _number(number.quantize(Decimal(1) if self.decimals == 0 else Decimal("0.01"), ROUND_HALF_UP))


def _number(value):
    """Whole values as int (PHQ-9 14, not 14.00); fractions as Decimal (a Mobility Inventory 2.30)."""
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else value


def _threshold(value, op):
    if not (value or "").strip():
        return None
    if op not in (">=", ">"):
        raise ValueError(f"Unknown comparison sign {op!r} in {MEASURES_CSV}")
    return Threshold(_number(value), op)


def _missing_rule(text):
    text = (text or "").lower()
    replaced = re.search(r"(\d+)\s*-\s*(\d+) missing replaced by the mean", text)
    if replaced:
        return MEAN_REPLACED, int(replaced.group(2))
    skipped = re.search(r"more than (\d+) skipped", text)
    if skipped:
        return SKIPPED, int(skipped.group(1))
    if text and not text.startswith("none"):
        raise ValueError(f"Unreadable missing-items rule {text!r} in {MEASURES_CSV}")
    return NO_MISSING, 0


def _problem(text):
    """'ICD-10 F40.1' → 'F40.1'; 'ICD-10 F42.x' → 'F42.' (the whole block); anything else → ''."""
    match = re.fullmatch(r"ICD-10 (F\d\d)\.(\d|x)", (text or "").strip())
    if not match:
        return ""
    return f"{match.group(1)}." + ("" if match.group(2) == "x" else match.group(2))


# --- what the table cannot hold: names, wording, answer scales, bands ------------------------------------

NAMES = {
    PHQ9: "PHQ-9",
    GAD7: "GAD-7",
    PCL5: "PCL-5",
    MI_ALONE: "MI alone",
    MI_ACCOMPANIED: "MI accompanied",
    IBS_SSS: "IBS-SSS",
    PHQ15: "PHQ-15",
}

FREQUENCY_ANSWERS = ((0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day"))

WORDING = {
    PHQ9: (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        (
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
    ),
    GAD7: (
        "Over the last 2 weeks, how often have you been bothered by the following problems?",
        (
            "Feeling nervous, anxious or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid as if something awful might happen",
        ),
    ),
    WSAS: (
        "Rate each statement from 0 (not at all impaired) to 8 (very severely impaired).",
        (
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
    ),
    PHQ15: (
        "During the past 4 weeks, how much have you been bothered by any of the following problems?",
        (
            "Stomach pain",
            "Back pain",
            "Pain in your arms, legs, or joints (knees, hips, etc.)",
            "Menstrual cramps or other problems with your periods",
            "Headaches",
            "Chest pain",
            "Dizziness",
            "Fainting spells",
            "Feeling your heart pound or race",
            "Shortness of breath",
            "Pain or problems during sexual intercourse",
            "Constipation, loose bowels, or diarrhea",
            "Nausea, gas, or indigestion",
            "Feeling tired or having low energy",
            "Trouble sleeping",
        ),
    ),
}

ANSWERS = {
    PHQ9: FREQUENCY_ANSWERS,
    GAD7: FREQUENCY_ANSWERS,
    WSAS: ((0, "Not at all"), (2, "Slightly"), (4, "Definitely"), (6, "Markedly"), (8, "Very severely")),
    PHQ15: ((0, "Not bothered at all"), (1, "Bothered a little"), (2, "Bothered a lot")),
    SPIN: ((0, "Not at all"), (1, "A little bit"), (2, "Somewhat"), (3, "Very much"), (4, "Extremely")),
    PCL5: ((0, "Not at all"), (1, "A little bit"), (2, "Moderately"), (3, "Quite a bit"), (4, "Extremely")),
    OCI: ((0, "Not at all"), (1, "A little"), (2, "Moderately"), (3, "A lot"), (4, "Extremely")),
    PDSS: ((0, "None"), (1, "Mild"), (2, "Moderate"), (3, "Severe"), (4, "Extreme")),
    MI_ALONE: (
        (1, "Never avoid"),
        (2, "Rarely avoid"),
        (3, "Avoid about half the time"),
        (4, "Avoid most of the time"),
        (5, "Always avoid"),
    ),
    PSWQ: (
        (1, "Not at all typical"),
        (2, "Rarely typical"),
        (3, "Somewhat typical"),
        (4, "Often typical"),
        (5, "Very typical"),
    ),
}
ANSWERS[MI_ACCOMPANIED] = ANSWERS[MI_ALONE]

STEMS = {
    HAI: "For each item, enter the number (0 to 3) of the statement the patient chose for the past week.",
    MI_ALONE: "For each situation, how much does the patient avoid it when alone? Up to 5 may be left blank.",
    MI_ACCOMPANIED: "For each situation, how much does the patient avoid it when accompanied by someone they "
    "trust? Up to 5 may be left blank.",
    OCI: "How much has each experience distressed or bothered the patient during the past month? "
    "One or two unanswered items take the mean of the others.",
}

BANDS = {
    PHQ9: (
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    GAD7: (Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
    WSAS: (
        Band(0, 9, "subclinical"),
        Band(10, 20, "significant impairment"),
        Band(21, 40, "moderately severe or worse"),
    ),
}

# PSWQ items worded in the non-worrying direction are scored in reverse (Meyer et al. 1990).
REVERSE_ITEMS = {PSWQ: (1, 3, 8, 10, 11)}


def _instrument(row) -> Instrument:
    code = row["code"]
    count = int(row["items"]) if row["items"] else 0
    item_min = int(row["item_min"]) if row["item_min"] else None
    item_max = int(row["item_max"]) if row["item_max"] else None
    name = NAMES.get(code, code)
    stem, wording = WORDING.get(code, (None, None))
    if wording is not None and len(wording) != count:
        raise ValueError(f"{code}: {len(wording)} item texts for {count} items")
    answers = ANSWERS.get(code) or (
        tuple((v, str(v)) for v in range(item_min, item_max + 1)) if item_min is not None else ()
    )
    missing, max_missing = _missing_rule(row["missing_items"])
    if stem is None:
        stem = STEMS.get(code) or (
            f"Enter each answer the patient gave on the {row['name']} form, item by item (the item wording is on "
            "the licensed form)."
            if count
            else f"Enter the {row['name']} score from the completed form."
        )
    return Instrument(
        code=code,
        name=name,
        title=row["name"],
        snomed_ct=row["snomed_ct"],
        stem=stem,
        items=tuple(wording) if wording else tuple(f"Item {n}" for n in range(1, count + 1)),
        worded=wording is not None,
        answers=answers,
        item_min=item_min,
        item_max=item_max,
        scoring=row["scoring"],
        total_min=_number(row["total_min"]),
        total_max=_number(row["total_max"]),
        bands=BANDS.get(code, ()),
        caseness_threshold=_threshold(row["caseness"], row["caseness_op"]),
        reliable_change_threshold=_threshold(row["reliable_change"], row["reliable_change_op"]),
        presenting_problem=_problem(row["presenting_problem"]),
        ids101_adsm=row["ids101_adsm"],
        missing=missing,
        max_missing=max_missing,
        reverse_items=REVERSE_ITEMS.get(code, ()),
        source=row["source"],
    )


def load_instruments(text: str | None = None) -> dict[str, Instrument]:
    """The instrument table from the measures CSV (the packaged copy unless ``text`` is given)."""
    if text is None:
        text = resources.files("outcomes").joinpath(MEASURES_CSV).read_text(encoding="utf-8")
    return {row["code"]: _instrument(row) for row in csv.DictReader(text.splitlines())}


INSTRUMENTS: dict[str, Instrument] = load_instruments()
MEASURE_CODES = tuple(INSTRUMENTS)
ANXIETY_DEFAULT = GAD7  # the anxiety measure when no ADSM applies (or it has fewer than two scores)
ADSMS = tuple(code for code, inst in INSTRUMENTS.items() if inst.is_adsm)
MAX_ITEMS = max(inst.item_count for inst in INSTRUMENTS.values())


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
    items: tuple[int | None, ...]  # every answer as given, None for an item skipped where that is allowed
    total: int | Decimal  # the stored score: a sum, or the Mobility Inventory's mean to 2 decimals
    severity: str | None
    caseness: bool | None
    risk: bool  # PHQ-9 item 9 above 0: a structured risk assessment is needed

    @property
    def missing(self) -> int:
        return sum(1 for v in self.items if v is None)


def instrument(measure: str) -> Instrument:
    try:
        return INSTRUMENTS[measure]
    except (KeyError, TypeError):
        raise ScoringError(measure, f"Unknown questionnaire {measure!r}.") from None


def adsm_for(icd10: str | None) -> str | None:
    """The anxiety disorder-specific measure a presenting problem (ICD-10 code) calls for, if any."""
    if not icd10:
        return None
    for code in ADSMS:
        problem = INSTRUMENTS[code].presenting_problem
        if icd10 == problem or (problem.endswith(".") and icd10.startswith(problem)):
            return code
    return None


def validate_items(measure: str, answers) -> tuple[int | None, ...]:
    """Check count and range of every answer; raise ScoringError naming the first bad item."""
    inst = instrument(measure)
    if not inst.has_items:
        raise ScoringError(measure, f"{inst.name} is recorded as a score, not item by item.")
    if answers is None or isinstance(answers, (str, bytes, dict)) or not hasattr(answers, "__iter__"):
        raise ScoringError(measure, f"{inst.name} needs a list of {inst.item_count} answers.")
    answers = list(answers)
    if len(answers) > inst.item_count:
        raise ScoringError(measure, f"{inst.name} has {inst.item_count} items; {len(answers)} answers were given.")
    answers += [None] * (inst.item_count - len(answers))
    skipped = []
    for index, value in enumerate(answers):
        number = index + 1
        if value is None or value == "":
            if inst.missing == NO_MISSING:
                raise ScoringError(measure, f"{inst.name} item {number} is missing.", number)
            skipped.append(number)
            answers[index] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScoringError(measure, f"{inst.name} item {number} must be a whole number.", number)
        if not inst.item_min <= value <= inst.item_max:
            raise ScoringError(
                measure,
                f"{inst.name} item {number} must be between {inst.item_min} and {inst.item_max} (got {value}).",
                number,
            )
    if len(skipped) > inst.max_missing:
        verb = "skipped" if inst.missing == SKIPPED else "missing"
        raise ScoringError(
            measure,
            f"{inst.name} has {len(skipped)} items {verb} (items {', '.join(map(str, skipped))}); "
            f"at most {inst.max_missing} may be, so it cannot be scored.",
            skipped[inst.max_missing],
        )
    return tuple(answers)


def _total(inst: Instrument, items) -> int | Decimal:
    low, high = inst.item_min, inst.item_max
    scored = [None if v is None else (low + high - v if n in inst.reverse_items else v) for n, v in enumerate(items, 1)]
    answered = [Decimal(v) for v in scored if v is not None]
    if inst.scoring == MEAN:
        return _number((sum(answered) / len(answered)).quantize(Decimal("0.01"), ROUND_HALF_UP))
    total = sum(answered)
    if len(answered) < len(scored):  # OCI: each missing item counts as the mean of the answered ones
        total += (len(scored) - len(answered)) * sum(answered) / len(answered)
    return _number(total.quantize(Decimal(1), ROUND_HALF_UP))


def severity(measure: str, total) -> str | None:
    """The severity band of a total; None for measures without published bands (out of range raises)."""
    inst = instrument(measure)
    inst.check_total(total)
    for band in inst.bands:
        if band.low <= total <= band.high:
            return band.label
    return None


def is_case(measure: str, total) -> bool | None:
    return instrument(measure).is_case(total)


def score(measure: str, answers=None, *, total=None) -> Score:
    """Score one questionnaire from its item answers (or, for a measure without items, its score)."""
    inst = instrument(measure)
    if inst.has_items:
        if total is not None and answers is None:
            raise ScoringError(measure, f"{inst.name} is recorded item by item: give its {inst.item_count} answers.")
        items = validate_items(measure, answers)
        value = _total(inst, items)
    else:
        if answers not in (None, []):
            raise ScoringError(measure, f"{inst.name} is recorded as a score, not item by item.")
        items = ()
        value = inst.check_total(total)
    return Score(
        measure=measure,
        items=items,
        total=value,
        severity=severity(measure, value),
        caseness=inst.is_case(value),
        risk=measure == PHQ9 and (items[RISK_ITEM - 1] or 0) > 0,
    )
