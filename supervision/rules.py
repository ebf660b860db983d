"""Supervision rules: pure functions, no ORM, no clock (``today`` is passed in).

Which cases go on a case-management supervision (CMS) list and why (DOMAIN.md §5), the order they are
walked in, what a supervision decision does to a case's open review flags, which decisions are
well-formed, and whether a supervisee got the supervision seed 003 asks for. The numbers come from
``standards()["supervision"]`` (overridable per team); nothing here holds a threshold of its own.

Reason kinds, in the default priority order (``case_list.priority``):

========================  =====================================================================
kind                      a case is listed when
========================  =====================================================================
``risk``                  it has an open risk flag, or PHQ-9 item 9 was above 0 at scores taken
                          since it was last discussed
``deterioration``         it has an open reliable-deterioration flag, or its first and latest
                          scores show reliable deterioration taken since it was last discussed
``not_improving``         it has an open not-improving or not-on-track flag (the review engine's
                          review points, or scores above the expected curve)
``proposed``              an open flag proposes a step up, step down or step out (discharge)
``flag``                  any other open flag (disengaging, review overdue, long wait …)
``new_assessment``        it was assessed since the supervisee's last CMS session (or within
                          ``not_discussed_days`` when there was none) and not discussed since
``dna``                   ``dnas_since_discussed`` or more DNAs since it was last discussed
``not_discussed``         not discussed for ``not_discussed_days`` (never discussed: counted
                          from the day the referral was received)
========================  =====================================================================
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from outcomes.scoring import GAD7, PHQ9, instrument, severity

ASSESSMENT_TYPES = ("01", "03")
DNA = "3"
SEVERITY_ORDER = {"red": 0, "amber": 1, "green": 2, "": 3}
FLAG_KIND = {
    "risk": "risk",
    "deterioration": "deterioration",
    "not_improving": "not_improving",
    "not_on_track": "not_improving",  # above the expected curve: the evidence-based "not improving"
}
STEP_RECOMMENDATIONS = ("step_up", "step_down", "step_out")
NOT_LISTED_RANK = 99
REASON_LABELS = {
    "risk": "Risk",
    "deterioration": "Deteriorating",
    "not_improving": "Not improving",
    "proposed": "Proposed change",
    "flag": "Flag",
    "new_assessment": "New assessment",
    "dna": "DNA",
    "not_discussed": "Not discussed",
}


@dataclass(frozen=True)
class Contact:
    date: dt.date
    appointment_type: str
    attendance: str


@dataclass(frozen=True)
class OpenFlag:
    id: str
    rule: str
    rule_label: str
    recommendation: str
    recommendation_label: str
    severity: str
    explanation: str = ""


@dataclass(frozen=True)
class Case:
    """What the list rules need to know about one referral."""

    received_on: dt.date
    contacts: tuple[Contact, ...] = ()
    flags: tuple[OpenFlag, ...] = ()
    last_discussed_on: dt.date | None = None
    phq9_latest_item9: int | None = None
    last_scored_on: dt.date | None = None
    reliable_deterioration: bool | None = None
    phq9_first: int | None = None
    phq9_last: int | None = None
    gad7_first: int | None = None
    gad7_last: int | None = None


@dataclass(frozen=True)
class Reason:
    kind: str
    text: str
    rank: int
    severity: str = ""
    flag_id: str | None = None

    @property
    def label(self):
        return REASON_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Trend:
    first: int | None
    latest: int | None
    first_severity: str | None
    latest_severity: str | None
    direction: str  # "improved", "deteriorated", "no_reliable_change", "single", "none"
    label: str


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` laid over it, dict by dict (a team overrides only what it names)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _rank(kind, priority):
    return priority.index(kind) + 1 if kind in priority else len(priority) + 1


def _since(day, last_discussed_on):
    return last_discussed_on is None or day > last_discussed_on


def case_reasons(case: Case, *, today: dt.date, last_session_on: dt.date | None, params: dict) -> list[Reason]:
    """Why this case belongs on the next CMS list, most urgent first ([] when it does not)."""
    rules = params["case_list"]
    priority = list(rules["priority"])
    reasons = []
    flag_kinds = set()
    for flag in case.flags:
        kind = FLAG_KIND.get(flag.rule)
        if kind is None:
            kind = "proposed" if flag.recommendation in STEP_RECOMMENDATIONS else "flag"
        flag_kinds.add(kind)
        text = f"Open flag: {flag.rule_label} ({flag.recommendation_label.lower()})"
        if flag.explanation:
            text += f". {flag.explanation}"
        reasons.append(Reason(kind, text, _rank(kind, priority), flag.severity or "", flag.id))
    scored_since = case.last_scored_on is not None and _since(case.last_scored_on, case.last_discussed_on)
    if "risk" not in flag_kinds and scored_since and (case.phq9_latest_item9 or 0) > 0:
        reasons.append(
            Reason(
                "risk",
                f"PHQ-9 item 9 (thoughts of self-harm) scored {case.phq9_latest_item9} on "
                f"{case.last_scored_on:%d %b %Y}: review risk",
                _rank("risk", priority),
                "red",
            )
        )
    if "deterioration" not in flag_kinds and scored_since and case.reliable_deterioration:
        reasons.append(
            Reason(
                "deterioration",
                f"Reliable deterioration since the first scores ({_score_change(case)})",
                _rank("deterioration", priority),
                "red",
            )
        )
    since = last_session_on or today - dt.timedelta(days=rules["not_discussed_days"])
    assessed = [
        c.date
        for c in case.contacts
        if c.appointment_type in ASSESSMENT_TYPES
        and c.attendance in ("5", "6")
        and c.date >= since
        and _since(c.date, case.last_discussed_on)
    ]
    if assessed:
        reasons.append(
            Reason("new_assessment", f"New assessment on {max(assessed):%d %b %Y}", _rank("new_assessment", priority))
        )
    dnas = [c.date for c in case.contacts if c.attendance == DNA and _since(c.date, case.last_discussed_on)]
    if dnas and len(dnas) >= rules["dnas_since_discussed"]:
        when = "since last discussed" if case.last_discussed_on else "so far"
        noun = "DNA" if len(dnas) == 1 else "DNAs"
        reasons.append(
            Reason("dna", f"{len(dnas)} {noun} {when} (latest {max(dnas):%d %b %Y})", _rank("dna", priority), "amber")
        )
    reference = case.last_discussed_on or case.received_on
    days = (today - reference).days
    if days >= rules["not_discussed_days"]:
        text = (
            f"Not discussed for {days} days (last {case.last_discussed_on:%d %b %Y})"
            if case.last_discussed_on
            else f"Never discussed in supervision; received {days} days ago"
        )
        reasons.append(Reason("not_discussed", text, _rank("not_discussed", priority)))
    return sorted(reasons, key=lambda r: (r.rank, SEVERITY_ORDER.get(r.severity, 3)))


def _score_change(case):
    parts = []
    for name, first, last in (("PHQ-9", case.phq9_first, case.phq9_last), ("GAD-7", case.gad7_first, case.gad7_last)):
        if first is not None and last is not None:
            parts.append(f"{name} {first} → {last}")
    return ", ".join(parts) or "scores"


def priority_key(reasons: list[Reason], *, days_since_discussed: int, name: str = ""):
    """Sort key of a row: its most urgent reason, then its flag severity, then the longest undiscussed."""
    if not reasons:
        return (NOT_LISTED_RANK, 3, -days_since_discussed, name)
    top = reasons[0]
    return (top.rank, SEVERITY_ORDER.get(top.severity, 3), -days_since_discussed, name)


def trend(measure: str, first: int | None, latest: int | None, *, single: bool = False) -> Trend:
    """First and latest score of one measure, with severity words and a reliable-change direction."""
    if first is None or latest is None:
        return Trend(first, latest, None, None, "none", "No scores")
    first_sev, latest_sev = severity(measure, first), severity(measure, latest)
    if single:
        return Trend(first, latest, first_sev, latest_sev, "single", "One score so far")
    rc = instrument(measure).reliable_change
    change = latest - first
    if change <= -rc:
        return Trend(first, latest, first_sev, latest_sev, "improved", "Reliably improved")
    if change >= rc:
        return Trend(first, latest, first_sev, latest_sev, "deteriorated", "Reliably worse")
    return Trend(first, latest, first_sev, latest_sev, "no_reliable_change", "No reliable change")


def trends(case: Case, *, single: bool) -> dict[str, Trend]:
    return {
        "phq9": trend(PHQ9, case.phq9_first, case.phq9_last, single=single),
        "gad7": trend(GAD7, case.gad7_first, case.gad7_last, single=single),
    }


# ---- Decisions ----------------------------------------------------------------------------------

STEP_DECISIONS = ("step_up", "step_down")
ENDING_DECISIONS = ("discharge", "refer_on")
REFERRED_ON_END_CODE = "13"

# What a decision does to an open flag, by the flag's recommendation: "accept" (the decision follows
# it), "dismiss" (supervision considered it and decided otherwise) or None (left open). Flags still
# open when a referral is discharged are closed by the discharge itself.
FLAG_EFFECTS = {
    "step_up": {"step_up": "accept", "step_down": "dismiss", "step_out": "dismiss", "review": "accept"},
    "step_down": {"step_down": "accept", "step_up": "dismiss", "step_out": "dismiss", "review": "accept"},
    "continue": {"step_up": "dismiss", "step_down": "dismiss", "step_out": "dismiss", "review": "accept"},
    "discharge": {"step_out": "accept", "review": "accept"},
    "refer_on": {"step_out": "accept", "review": "accept"},
    "risk_plan": {"risk": "accept", "review": "accept"},
    "other": {"review": "accept"},
}


def flag_effect(decision: str, recommendation: str) -> str | None:
    return FLAG_EFFECTS.get(decision, {}).get(recommendation)


def default_step(decision: str, current_step: int | None) -> int | None:
    """The step a step-up or step-down moves to when none is chosen."""
    if current_step is None:
        return None
    if decision == "step_up" and current_step < 5:
        return current_step + 1
    if decision == "step_down" and current_step > 1:
        return current_step - 1
    return None


def decision_errors(
    decision: str, *, current_step: int | None, to_step: int | None, end_code: str, end_codes
) -> dict[str, str]:
    """Field → message for a decision that cannot be carried out as given (empty when it can)."""
    errors = {}
    from_step = f"step {current_step}" if current_step else "no step yet"
    if decision == "step_up":
        if to_step is None:
            errors["to_step"] = "Choose the step to move up to."
        elif current_step is not None and to_step <= current_step:
            errors["to_step"] = f"A step up must move above the current step ({from_step})."
    elif decision == "step_down":
        if to_step is None:
            errors["to_step"] = "Choose the step to move down to."
        elif current_step is None or to_step >= current_step:
            errors["to_step"] = f"A step down must move below the current step ({from_step})."
    elif to_step is not None:
        errors["to_step"] = "Only a step up or step down changes the step."
    if decision in ENDING_DECISIONS:
        if not end_code:
            errors["end_code"] = "Choose the referral end code for the discharge."
        elif end_code not in end_codes:
            errors["end_code"] = f"{end_code!r} is not a referral end code."
    elif end_code:
        errors["end_code"] = "Only a discharge or a referral on takes an end code."
    return errors


def group_size_error(kind: str, count: int, params: dict, label: str = "") -> str | None:
    """Whether a session of this kind may have this many supervisees (clinical skills: up to 12)."""
    limit = params["kinds"].get(kind, {}).get("max_supervisees")
    if count < 1:
        return "Choose at least one supervisee."
    if limit is not None and count > limit:
        what = label or kind.replace("_", " ")
        return f"{what} holds at most {limit} supervisee{'s' if limit != 1 else ''}; {count} were chosen."
    return None


# ---- Compliance ---------------------------------------------------------------------------------


class Period(NamedTuple):
    """One period of a requirement (a named tuple: a team's dashboard builds thousands)."""

    start: dt.date
    end: dt.date
    sessions: int = 0
    minutes: int = 0
    applicable: bool = True
    met: bool = False


@dataclass
class RequirementResult:
    kind: str
    every_days: int
    min_minutes: int
    supervisor_assigned: bool
    periods: list[Period] = field(default_factory=list)

    @property
    def due(self):
        return [p for p in self.periods if p.applicable]

    @property
    def periods_met(self):
        return sum(1 for p in self.due if p.met)

    @property
    def met(self):
        return self.supervisor_assigned and all(p.met for p in self.due)


@functools.lru_cache(maxsize=64)
def periods(today: dt.date, *, weeks: int, every_days: int) -> tuple[tuple[dt.date, dt.date], ...]:
    """Back-to-back periods of ``every_days`` ending today and covering ``weeks``, oldest first.

    Cached: every supervisee of a team shares the same few sets of periods on a given day.
    """
    count = max(1, math.ceil(weeks * 7 / every_days))
    out = []
    for n in range(count):
        end = today - dt.timedelta(days=n * every_days)
        out.append((end - dt.timedelta(days=every_days - 1), end))
    return tuple(out[::-1])


def requirement(
    sessions: list[tuple[dt.date, int]],
    *,
    kind: str,
    today: dt.date,
    weeks: int,
    every_days: int,
    min_minutes: int,
    applies_from: dt.date | None,
) -> RequirementResult:
    """Was there a session of at least ``min_minutes`` (summed) in every period since ``applies_from``?

    ``applies_from`` is when the supervisee's relationship of this kind began (None: none assigned,
    so every period counts and none can be met). A period is due when it ends on or after that day.
    """
    result = RequirementResult(kind, every_days, min_minutes, applies_from is not None)
    for start, end in periods(today, weeks=weeks, every_days=every_days):
        inside = [minutes for day, minutes in sessions if start <= day <= end]
        applicable = applies_from is None or end >= applies_from
        total = sum(inside)
        met = bool(inside) and total >= (min_minutes or 0) and applies_from is not None
        result.periods.append(Period(start, end, len(inside), total, applicable, met))
    return result


def hi_case_overdue(
    *, active_since: dt.date, last_discussed_on: dt.date | None, today: dt.date, days: int
) -> int | None:
    """Days since a high-intensity case was last reviewed when past ``days`` (None when in time)."""
    reference = last_discussed_on or active_since
    gap = (today - reference).days
    return gap if gap > days else None
