"""Review rules: a referral's history in, explainable findings out. Pure: no ORM, no clock.

Stepped care's second principle (seed 001) is scheduled review that detects non-improvement and acts
on it. Each rule below looks at one referral's valid history (entered-in-error rows already left out)
on the day ``today`` it is given, and returns at most one finding: which rule, what it recommends, how
urgent, the evidence (scores and dates) and an *episode* key. The episode names the occurrence of the
condition (e.g. "the PHQ-9 of 3 Mar 2026"), so that a flag a clinician has dismissed is not raised
again for the same occurrence, while a new occurrence is. Evidence holds dates, never "days ago", so
that re-running the review on a later day changes nothing unless the data or the severity changed.

Rule parameters (defaults below; a team overrides any of them in ``Team.review_parameters``):

=============================  =======================================  ==========================================
parameter                      default                                  meaning in plain words
=============================  =======================================  ==========================================
``rules``                      all seven rules                          which rules this team runs
``risk_item9_above``           0                                        PHQ-9 item 9 (thoughts of being better off
                                                                        dead or of self-harm) above this at the
                                                                        latest PHQ-9 raises an urgent risk review
``not_improving_contacts``     {"2": 4, "3": 8}                         attended treatment contacts at the current
                                                                        step (counted from the day the step began)
                                                                        after which a referral without reliable
                                                                        improvement from its first scores is
                                                                        flagged "not improving"; steps not listed
                                                                        are not checked. The flag is reviewed
                                                                        again at every further multiple (8, 12...)
``recovered_scores``           2                                        how many latest scored sessions must all
                                                                        have PHQ-9 and GAD-7 below caseness
                                                                        (PHQ-9 < 10, GAD-7 < 8) to suggest
                                                                        stepping down or out
``disengaging_dnas``           2                                        did-not-attend in a row (cancellations do
                                                                        not break the run, an attended contact
                                                                        does) that flag disengagement
``disengaging_days``           28                                       days in treatment without an attended
                                                                        contact that flag disengagement
``review_overdue_days``        28                                       days with no contact of any kind and no
                                                                        supervision discussion before a review is
                                                                        overdue
``review_overdue_statuses``    awaiting assessment, awaiting            referral statuses the review-overdue rule
                               treatment, in treatment                  applies to
``long_wait_amber_days``       42                                       days from referral, still waiting for
                                                                        treatment, after which the wait is amber
                                                                        (6-week standard)
``long_wait_red_days``         126                                      ... and red (18-week standard)
=============================  =======================================  ==========================================

Reliable change and caseness come from the questionnaire table in ``outcomes.scoring`` (PHQ-9: 6 and
10; GAD-7: 4 and 8); how a mixed change (one measure reliably better, the other reliably worse) counts
is the service-wide policy ``mixed_reliable_change`` in ``stepped_care.standards``.

The rules, in the order they are shown:

- **risk** (red, urgent risk review): the latest PHQ-9 has item 9 above ``risk_item9_above``.
- **deterioration** (red, consider step up): reliable deterioration from the first to the latest
  scores: at least one of PHQ-9 / GAD-7 rose by its reliable change value and neither fell by it.
- **not_improving** (amber, consider step up): at step 2 after 4 attended treatment contacts (step 3:
  8) without reliable improvement from the first scores (no measure fell reliably, or one rose).
- **recovered** (green, consider step down at step 3 and above, step out below): the latest two
  scored sessions both had PHQ-9 and GAD-7 below caseness.
- **disengaging** (amber, review, consider step out): 2 did-not-attend in a row, or in treatment with
  no attended contact for 28 days.
- **review_overdue** (amber, review): an active referral with no contact or supervision discussion for
  28 days (counted from the referral date when there has been neither).
- **long_wait** (amber after 42 days, red after 126): still waiting for treatment (awaiting assessment
  or awaiting treatment) that many days after the referral was received.
"""

from __future__ import annotations

import datetime as dt
from copy import deepcopy
from dataclasses import dataclass, field

from outcomes.scoring import GAD7, PHQ9, instrument

# Rule, recommendation and severity codes: the same strings as the choices on ReviewFlag.
RISK = "risk"
DETERIORATION = "deterioration"
NOT_IMPROVING = "not_improving"
RECOVERED = "recovered"
DISENGAGING = "disengaging"
REVIEW_OVERDUE = "review_overdue"
LONG_WAIT = "long_wait"
RULES = (RISK, DETERIORATION, NOT_IMPROVING, RECOVERED, DISENGAGING, REVIEW_OVERDUE, LONG_WAIT)

STEP_UP, STEP_DOWN, STEP_OUT, REVIEW = "step_up", "step_down", "step_out", "review"
RED, AMBER, GREEN = "red", "amber", "green"

AWAITING_ASSESSMENT, AWAITING_TREATMENT = "awaiting_assessment", "awaiting_treatment"
IN_TREATMENT, DISCHARGED = "in_treatment", "discharged"
ACTIVE_STATUSES = (AWAITING_ASSESSMENT, AWAITING_TREATMENT, IN_TREATMENT)
WAITING_STATUSES = (AWAITING_ASSESSMENT, AWAITING_TREATMENT)

ATTENDED = frozenset(("5", "6"))
DNA = "3"
TREATMENT = frozenset(("02", "03", "05"))
NO_RELIABLE_CHANGE = "no_reliable_change"

DEFAULT_PARAMETERS = {
    "rules": list(RULES),
    "risk_item9_above": 0,
    "not_improving_contacts": {"2": 4, "3": 8},
    "recovered_scores": 2,
    "disengaging_dnas": 2,
    "disengaging_days": 28,
    "review_overdue_days": 28,
    "review_overdue_statuses": list(ACTIVE_STATUSES),
    "long_wait_amber_days": 42,
    "long_wait_red_days": 126,
}

# Contact tuple layout, in date order: (date, appointment_type, attendance, phq9_total, phq9_item9,
# gad7_total); the scores are None when that questionnaire was not completed at the contact.
DATE, TYPE, ATTENDANCE, PHQ, ITEM9, GAD = range(6)


@dataclass(frozen=True, slots=True)
class History:
    """What the rules may know about one referral."""

    status: str
    received_on: dt.date
    step: int | None = None
    step_started_on: dt.date | None = None
    contacts: tuple | list = ()
    last_supervision_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    recommendation: str
    severity: str
    explanation: str
    evidence: dict = field(default_factory=dict)
    episode: str = ""


class ParameterError(ValueError):
    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Parameters


def _whole(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def validate_parameters(overrides) -> dict:
    """Problems with a team's overrides, by parameter name, in words (empty when all is well)."""
    errors = {}
    if overrides in (None, ""):
        return errors
    if not isinstance(overrides, dict):
        return {"review_parameters": "Give the review parameters as an object of name: value."}
    for key, value in overrides.items():
        if key not in DEFAULT_PARAMETERS:
            errors[key] = f"Unknown review parameter; known ones are {', '.join(DEFAULT_PARAMETERS)}."
        elif key == "rules":
            if not isinstance(value, list) or any(v not in RULES for v in value):
                errors[key] = f"Give a list of rules from: {', '.join(RULES)}."
        elif key == "review_overdue_statuses":
            if not isinstance(value, list) or any(v not in ACTIVE_STATUSES for v in value):
                errors[key] = f"Give a list of statuses from: {', '.join(ACTIVE_STATUSES)}."
        elif key == "not_improving_contacts":
            if not isinstance(value, dict) or any(
                str(k) not in ("1", "2", "3", "4", "5") or not _whole(v, 1) for k, v in value.items()
            ):
                errors[key] = 'Give contacts per step, e.g. {"2": 4, "3": 8} (steps 1-5, at least 1 contact).'
        elif key in ("risk_item9_above",):
            if not _whole(value, 0) or value > 2:
                errors[key] = "Give a whole number from 0 to 2 (item 9 is answered 0-3)."
        elif not _whole(value, 1):
            errors[key] = "Give a whole number of at least 1."
    if not errors:
        amber = overrides.get("long_wait_amber_days", DEFAULT_PARAMETERS["long_wait_amber_days"])
        red = overrides.get("long_wait_red_days", DEFAULT_PARAMETERS["long_wait_red_days"])
        if red <= amber:
            errors["long_wait_red_days"] = "The red wait must be longer than the amber wait."
    return errors


def parameters(overrides=None, *, strict=True) -> dict:
    """The defaults with a team's overrides applied. ``strict=False`` skips invalid overrides (the
    nightly scan must not stop for one team's typo); ``strict=True`` raises ParameterError."""
    params = deepcopy(DEFAULT_PARAMETERS)
    if not overrides:
        return params
    errors = validate_parameters(overrides)
    if errors and strict:
        raise ParameterError(errors)
    for key, value in overrides.items() if isinstance(overrides, dict) else ():
        if key in errors or key not in params:
            continue
        params[key] = {str(k): v for k, v in value.items()} if key == "not_improving_contacts" else value
    if "long_wait_red_days" in errors:  # keep the pair consistent
        params["long_wait_amber_days"] = DEFAULT_PARAMETERS["long_wait_amber_days"]
        params["long_wait_red_days"] = DEFAULT_PARAMETERS["long_wait_red_days"]
    return params


# ---------------------------------------------------------------------------------------------
# Helpers


def day(value: dt.date | None) -> str:
    """A date as clinicians read it: 3 Mar 2026."""
    return "" if value is None else f"{value.day} {value:%b %Y}"


def iso(value: dt.date | None):
    return None if value is None else value.isoformat()


PHQ_RC, GAD_RC = instrument(PHQ9).reliable_change, instrument(GAD7).reliable_change
PHQ_CUT, GAD_CUT = instrument(PHQ9).caseness, instrument(GAD7).caseness
NAMES = {PHQ9: "PHQ-9", GAD7: "GAD-7"}


@dataclass(slots=True)
class _Facts:
    """Everything the rules need, gathered in one pass over the contacts."""

    phq_first: tuple | None = None  # (date, total)
    phq_last: tuple | None = None
    gad_first: tuple | None = None
    gad_last: tuple | None = None
    last_item9: tuple | None = None  # (date, item 9, total) of the latest PHQ-9
    treatment_since_step: int = 0
    last_attended_on: dt.date | None = None
    last_contact_on: dt.date | None = None


def _gather(history: History) -> _Facts:
    facts = _Facts()
    since = history.step_started_on
    treatment = 0
    for c in history.contacts:
        phq = c[PHQ]
        if phq is not None:
            if facts.phq_first is None:
                facts.phq_first = (c[DATE], phq)
            facts.phq_last = (c[DATE], phq)
            facts.last_item9 = (c[DATE], c[ITEM9], phq)
        gad = c[GAD]
        if gad is not None:
            if facts.gad_first is None:
                facts.gad_first = (c[DATE], gad)
            facts.gad_last = (c[DATE], gad)
        if c[ATTENDANCE] in ATTENDED:
            facts.last_attended_on = c[DATE]
            if c[TYPE] in TREATMENT and (since is None or c[DATE] >= since):
                treatment += 1
    facts.treatment_since_step = treatment
    if history.contacts:
        facts.last_contact_on = history.contacts[-1][DATE]
    return facts


def _changes(facts: _Facts) -> dict:
    """Per measure scored at two sessions or more: first, latest, change and its direction."""
    out = {}
    for measure, first, last, rc in (
        (PHQ9, facts.phq_first, facts.phq_last, PHQ_RC),
        (GAD7, facts.gad_first, facts.gad_last, GAD_RC),
    ):
        if first is None or first[0] == last[0]:
            continue
        change = last[1] - first[1]
        out[measure] = {
            "first": first[1],
            "first_on": iso(first[0]),
            "latest": last[1],
            "latest_on": iso(last[0]),
            "change": change,
            "reliable_change": rc,
            "direction": "worse" if change >= rc else "better" if change <= -rc else "no reliable change",
        }
    return out


def _describe(measures: dict) -> str:
    parts = []
    for measure, m in measures.items():
        first = f"{m['first']} ({day(dt.date.fromisoformat(m['first_on']))})"
        latest = f"{m['latest']} ({day(dt.date.fromisoformat(m['latest_on']))})"
        if m["change"]:
            verb = "rose" if m["change"] > 0 else "fell"
            parts.append(f"{NAMES[measure]} {verb} by {abs(m['change'])}, from {first} to {latest}")
        else:
            parts.append(f"{NAMES[measure]} unchanged, {first} and {latest}")
    return "; ".join(parts)


def _deteriorated(measures: dict, mixed_policy: str) -> bool:
    directions = {m["direction"] for m in measures.values()}
    if "worse" not in directions:
        return False
    return "better" not in directions or mixed_policy != NO_RELIABLE_CHANGE


def _improved(measures: dict) -> bool:
    directions = {m["direction"] for m in measures.values()}
    return "better" in directions and "worse" not in directions


# ---------------------------------------------------------------------------------------------
# The rules


def risk(history, facts, today, params, mixed_policy):
    if facts.last_item9 is None:
        return None
    on, item9, total = facts.last_item9
    if item9 is None or item9 <= params["risk_item9_above"]:
        return None
    return Finding(
        RISK,
        "risk",
        RED,
        f"PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was {item9} on {day(on)}: "
        "carry out a structured risk review.",
        {"phq9_item9": item9, "phq9_total": total, "scored_on": iso(on), "threshold": params["risk_item9_above"]},
        iso(on),
    )


def deterioration(history, facts, today, params, mixed_policy):
    if facts.phq_first is None and facts.gad_first is None:
        return None
    measures = _changes(facts)
    if not measures or not _deteriorated(measures, mixed_policy):
        return None
    latest = max(m["latest_on"] for m in measures.values())
    return Finding(
        DETERIORATION,
        STEP_UP,
        RED,
        f"Reliable deterioration from the first scores: {_describe(measures)}. Urgent review; consider stepping up.",
        {"measures": measures, "mixed_policy": mixed_policy},
        latest,
    )


def not_improving(history, facts, today, params, mixed_policy):
    threshold = params["not_improving_contacts"].get(str(history.step)) if history.step else None
    if not threshold or facts.treatment_since_step < threshold:
        return None
    measures = _changes(facts)
    if _improved(measures):
        return None
    since = history.step_started_on
    where = f"since step {history.step} began on {day(since)}" if since else f"at step {history.step}"
    if measures:
        scores = f"{_describe(measures)}: no reliable improvement"
    else:
        scores = "no PHQ-9 or GAD-7 scored twice to show improvement"
    return Finding(
        NOT_IMPROVING,
        STEP_UP,
        AMBER,
        f"{facts.treatment_since_step} attended treatment contacts {where} (review point: {threshold}) and "
        f"{scores}. Consider stepping up.",
        {
            "step": history.step,
            "step_started_on": iso(since),
            "attended_treatment_contacts": facts.treatment_since_step,
            "review_point": threshold,
            "measures": measures,
        },
        f"step {history.step} from {iso(since)}, review {facts.treatment_since_step // threshold}",
    )


def recovered(history, facts, today, params, mixed_policy):
    wanted = params["recovered_scores"]
    sessions = [(c[DATE], c[PHQ], c[GAD]) for c in history.contacts if c[PHQ] is not None and c[GAD] is not None]
    if len(sessions) < wanted:
        return None
    latest = sessions[-wanted:]
    if any(p >= PHQ_CUT or g >= GAD_CUT for _, p, g in latest):
        return None
    start = len(sessions) - wanted  # the episode starts at the first session of the run below caseness
    while start > 0 and sessions[start - 1][1] < PHQ_CUT and sessions[start - 1][2] < GAD_CUT:
        start -= 1
    step_down = bool(history.step and history.step >= 3)
    listed = "; ".join(f"PHQ-9 {p} and GAD-7 {g} on {day(on)}" for on, p, g in latest)
    return Finding(
        RECOVERED,
        STEP_DOWN if step_down else STEP_OUT,
        GREEN,
        f"The last {wanted} scored sessions were {'both' if wanted == 2 else 'all'} below caseness "
        f"(PHQ-9 under {PHQ_CUT}, GAD-7 under {GAD_CUT}): {listed}. "
        f"Consider stepping {'down or out' if step_down else 'out (discharge) or down'}.",
        {
            "sessions": [{"on": iso(on), "phq9": p, "gad7": g} for on, p, g in latest],
            "phq9_caseness": PHQ_CUT,
            "gad7_caseness": GAD_CUT,
            "step": history.step,
        },
        f"below caseness from {iso(sessions[start][0])}",
    )


def _dna_run(contacts):
    """Dates of the did-not-attend at the end of the history, skipping cancellations."""
    run = []
    for c in reversed(contacts):
        if c[ATTENDANCE] == DNA:
            run.append(c[DATE])
        elif c[ATTENDANCE] in ATTENDED:
            break
    run.reverse()
    return run


def disengaging(history, facts, today, params, mixed_policy):
    reasons, evidence = [], {}
    dnas = _dna_run(history.contacts) if history.contacts else []
    if len(dnas) >= params["disengaging_dnas"]:
        reasons.append(f"did not attend {len(dnas)} appointments in a row ({', '.join(day(d) for d in dnas)})")
        evidence["did_not_attend"] = [iso(d) for d in dnas]
    limit = params["disengaging_days"]
    last = facts.last_attended_on
    if history.status == IN_TREATMENT and last is not None and (today - last).days >= limit:
        due = last + dt.timedelta(days=limit)
        reasons.append(f"no attended contact since {day(last)} ({limit} days passed on {day(due)})")
        evidence["days_without_attended_contact"] = limit
        evidence["no_attended_contact_since"] = iso(last)
    if not reasons:
        return None
    evidence["last_attended_on"] = iso(last)
    text = "; ".join(reasons)
    return Finding(
        DISENGAGING,
        STEP_OUT,
        AMBER,
        f"{text[0].upper()}{text[1:]}. Review engagement; consider stepping out.",
        evidence,
        f"not attended since {iso(last or history.received_on)}",
    )


def review_overdue(history, facts, today, params, mixed_policy):
    if history.status not in params["review_overdue_statuses"]:
        return None
    limit = params["review_overdue_days"]
    candidates = [d for d in (facts.last_contact_on, history.last_supervision_on) if d is not None]
    since = max(candidates) if candidates else history.received_on
    if (today - since).days < limit:
        return None
    due = since + dt.timedelta(days=limit)
    if candidates:
        what = []
        if facts.last_contact_on:
            what.append(f"last contact {day(facts.last_contact_on)}")
        if history.last_supervision_on:
            what.append(f"last supervision discussion {day(history.last_supervision_on)}")
        basis = ", ".join(what)
    else:
        basis = f"no contact or supervision discussion since the referral was received on {day(history.received_on)}"
    return Finding(
        REVIEW_OVERDUE,
        REVIEW,
        AMBER,
        f"Review overdue: {basis}; a review was due by {day(due)} ({limit} days).",
        {
            "last_contact_on": iso(facts.last_contact_on),
            "last_supervision_on": iso(history.last_supervision_on),
            "since": iso(since),
            "due_on": iso(due),
            "days": limit,
        },
        f"since {iso(since)}",
    )


def long_wait(history, facts, today, params, mixed_policy):
    if history.status not in WAITING_STATUSES:
        return None
    amber, red = params["long_wait_amber_days"], params["long_wait_red_days"]
    waited = (today - history.received_on).days
    if waited <= amber:
        return None
    severity, limit = (RED, red) if waited > red else (AMBER, amber)
    passed = history.received_on + dt.timedelta(days=limit + 1)
    stage = "assessment" if history.status == AWAITING_ASSESSMENT else "treatment"
    return Finding(
        LONG_WAIT,
        REVIEW,
        severity,
        f"Referral received on {day(history.received_on)} and still waiting for {stage}: the wait passed "
        f"{limit} days on {day(passed)} (standards: first treatment within {amber} and {red} days).",
        {
            "received_on": iso(history.received_on),
            "status": history.status,
            "more_than_days": limit,
            "exceeded_on": iso(passed),
            "amber_days": amber,
            "red_days": red,
        },
        f"{severity} wait from {iso(history.received_on)}",
    )


RULE_FUNCTIONS = {
    RISK: risk,
    DETERIORATION: deterioration,
    NOT_IMPROVING: not_improving,
    RECOVERED: recovered,
    DISENGAGING: disengaging,
    REVIEW_OVERDUE: review_overdue,
    LONG_WAIT: long_wait,
}


def evaluate(
    history: History, today: dt.date, params: dict | None = None, *, mixed_policy: str = NO_RELIABLE_CHANGE
) -> list[Finding]:
    """The findings of the enabled rules for one referral on ``today`` (none once discharged)."""
    if history.status == DISCHARGED:
        return []
    params = params or DEFAULT_PARAMETERS
    facts = _gather(history)
    findings = []
    for rule in params["rules"]:
        found = RULE_FUNCTIONS[rule](history, facts, today, params, mixed_policy)
        if found is not None:
            findings.append(found)
    return findings


def clear_reason(rule: str, history: History, today: dt.date, params: dict | None = None) -> str:
    """Why a flag of ``rule`` no longer holds, in words, for the flag's resolution note."""
    params = params or DEFAULT_PARAMETERS
    if history.status == DISCHARGED:
        return "The referral was discharged."
    if rule not in params["rules"]:
        return "This rule is turned off for the team."
    facts = _gather(history)
    if rule == RISK:
        if facts.last_item9 is None:
            return "No PHQ-9 remains on record (entered in error)."
        on, item9, _ = facts.last_item9
        return f"The latest PHQ-9 ({day(on)}) has item 9 at {item9}."
    if rule in (DETERIORATION, NOT_IMPROVING):
        measures = _changes(facts)
        if rule == NOT_IMPROVING and _improved(measures):
            return f"Reliable improvement from the first scores: {_describe(measures)}."
        if rule == NOT_IMPROVING:
            return f"Now at step {history.step or '-'}; its review point is not reached yet."
        return f"No reliable deterioration from the first scores: {_describe(measures) or 'too few scores'}."
    if rule == RECOVERED:
        return "The latest scores are no longer all below caseness."
    if rule == DISENGAGING:
        return f"Attended on {day(facts.last_attended_on)}." if facts.last_attended_on else "No longer disengaging."
    if rule == REVIEW_OVERDUE:
        latest = max(d for d in (facts.last_contact_on, history.last_supervision_on, history.received_on) if d)
        return f"Reviewed: latest contact or supervision discussion on {day(latest)}."
    if rule == LONG_WAIT:
        return "Treatment has started." if history.status == IN_TREATMENT else "The wait is within the standard."
    return "The condition no longer holds."


EVIDENCE_LABELS = {
    "phq9_item9": "PHQ-9 item 9",
    "phq9_total": "PHQ-9 total",
    "scored_on": "Scored on",
    "step": "Step",
    "step_started_on": "Step began",
    "attended_treatment_contacts": "Attended treatment contacts at this step",
    "review_point": "Review point (contacts)",
    "did_not_attend": "Did not attend",
    "last_attended_on": "Last attended",
    "no_attended_contact_since": "No attended contact since",
    "last_contact_on": "Last contact",
    "last_supervision_on": "Last supervision discussion",
    "due_on": "Review due by",
    "received_on": "Referral received",
    "more_than_days": "Waiting more than (days)",
    "exceeded_on": "Exceeded on",
}


def evidence_lines(rule: str, evidence: dict) -> list[tuple[str, str]]:
    """The evidence as (label, value) lines for people: scores with their dates."""
    lines = []
    for measure, m in (evidence.get("measures") or {}).items():
        lines.append(
            (
                NAMES.get(measure, measure),
                f"{m['first']} on {day(dt.date.fromisoformat(m['first_on']))} → {m['latest']} on "
                f"{day(dt.date.fromisoformat(m['latest_on']))} ({m['change']:+d}; "
                f"reliable change {m['reliable_change']})",
            )
        )
    for s in evidence.get("sessions") or []:
        lines.append((f"Scores on {day(dt.date.fromisoformat(s['on']))}", f"PHQ-9 {s['phq9']}, GAD-7 {s['gad7']}"))
    for key, label in EVIDENCE_LABELS.items():
        value = evidence.get(key)
        if value in (None, "", []):
            continue
        value = ", ".join(_as_day(v) for v in value) if isinstance(value, list) else _as_day(value)
        lines.append((label, value))
    return lines


def _as_day(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return day(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)
