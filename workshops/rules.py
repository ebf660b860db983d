"""Pure rules of group registers and course figures: no ORM, no clock.

A register row is checked here before anything is written, so that a register with one bad row
writes nothing and every row's mistakes are reported together.
"""

from __future__ import annotations

import datetime as dt
import re

from outcomes.scoring import GAD7, PHQ9, RISK_ITEM, ScoringError, instrument, score

ATTENDED = ("5", "6")
ATTENDANCE_CODES = ("5", "6", "7", "2", "4", "3")
SEPARATORS = re.compile(r"[\s,;/\-]+")


def parse_answers(measure: str, text: str | None) -> list[int] | None:
    """Questionnaire answers typed as digits ("210110100" or "2 1 0 1 …") → a list; blank → None.

    Raises ScoringError naming the measure (and the item, where it can tell)."""
    inst = instrument(measure)
    if text is None or not str(text).strip():
        return None
    raw = SEPARATORS.sub("", str(text).strip())
    answers = []
    for position, char in enumerate(raw, start=1):
        if not (char.isascii() and char.isdigit()):  # not '²': isdigit() alone accepts it
            raise ScoringError(
                measure,
                f"{inst.name} item {position}: type each answer as a digit from 0 to {inst.item_max} (got {char!r}).",
                position,
            )
        answers.append(int(char))
    if len(answers) != inst.item_count:
        raise ScoringError(
            measure, f"{inst.name} needs {inst.item_count} answers, one per item; {len(answers)} were given."
        )
    return answers


def check_row(*, attendance, phq9=None, gad7=None, risk_note="") -> dict[str, str]:
    """The mistakes in one register row, by field (empty when the row can be saved)."""
    errors = {}
    if attendance not in ATTENDANCE_CODES:
        errors["attendance"] = "Choose an attendance outcome."
    attended = attendance in ATTENDED
    scores = {}
    for field, measure, answers in (("phq9", PHQ9, phq9), ("gad7", GAD7, gad7)):
        if answers in (None, []):
            continue
        if not attended:
            errors[field] = "Questionnaires can only be recorded when the patient attended."
            continue
        try:
            scores[field] = score(measure, answers)
        except ScoringError as exc:
            errors[field] = exc.message
    phq = scores.get("phq9")
    if phq is not None and phq.risk and not (risk_note or "").strip():
        errors["risk_note"] = f"PHQ-9 item {RISK_ITEM} is above 0: record the risk assessment before saving."
    return errors


def rate(part: int | None, whole: int | None) -> float | None:
    """A share between 0 and 1, or None when there is nothing to divide by (shown as "–", never 0%)."""
    if not whole:
        return None
    return (part or 0) / whole


def fill_rate(enrolled: int, capacity: int) -> float | None:
    return rate(enrolled, capacity)


def attendance_rate(attended: int, offered: int) -> float | None:
    """Attended places over places offered at sessions held (provider cancellations excluded)."""
    return rate(attended, offered)


def schedule(first_date, count: int, every_days: int = 7):
    """The dates of ``count`` sessions from ``first_date``, ``every_days`` apart (weekly by default)."""
    return [first_date + dt.timedelta(days=every_days * n) for n in range(count)]
