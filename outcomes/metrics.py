"""Paired outcomes and service rates: pure functions over a referral's scores (DOMAIN.md §2-3). No ORM.

Outcomes compare the first and last scores of PHQ-9 and of the anxiety measure in use. Which anxiety
measure is in use follows the guide (§7.7): the anxiety disorder-specific measure (ADSM) the deciding
presenting problem calls for when it has two or more scores, else GAD-7 when it has two or more, else the
referral is "not assessed". A pair is two or more scores of each measure: one score is never compared
with itself. Caseness and reliable change values, with their comparison signs, come from the instrument
table in ``scoring`` (the measures CSV); targets and the mixed-change policy from ``standards``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .problems import ProblemRecord, deciding
from .scoring import ANXIETY_DEFAULT, GAD7, INSTRUMENTS, PHQ9, adsm_for, severity

NO_RELIABLE_CHANGE = "no_reliable_change"
RELIABLE_DETERIORATION = "reliable_deterioration"
MIN_SCORES = 2  # a pair: two or more scores of each measure


@dataclass(frozen=True)
class PairedOutcome:
    phq9_first: int | None
    phq9_last: int | None
    gad7_first: int | None
    gad7_last: int | None
    phq9_last_severity: str | None
    gad7_last_severity: str | None
    assessed: bool  # paired scores exist (two or more PHQ-9 and two or more of the anxiety measure)
    computable: bool  # the same as ``assessed`` (the name the summary table and older clients use)
    reason: str  # why not assessed, in plain words, or "" when it is
    anxiety_measure: str | None  # the anxiety measure in use (an ADSM code or GAD7), None without two scores
    anxiety_first: object  # int, or Decimal for the Mobility Inventory's mean
    anxiety_last: object
    anxiety_basis: str  # which anxiety measure decides and why: "SPIN, for social phobia F40.1: 3 scores"
    adsm: str | None  # the ADSM the presenting problem calls for (used or not)
    problem_code: str | None  # the ICD-10 code of the deciding presenting problem
    phq9_scores: int
    anxiety_scores: int
    caseness_at_start: bool | None
    recovered: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    no_reliable_change: bool | None
    reliable_recovery: bool | None
    finished_treatment: bool
    attended_treatment_contacts: int
    ended: bool

    def as_dict(self):
        return asdict(self)

    @property
    def anxiety_name(self) -> str | None:
        return INSTRUMENTS[self.anxiety_measure].name if self.anxiety_measure else None

    @property
    def anxiety_first_display(self) -> str:
        """As the data set writes it (the Mobility Inventory as d.dd)."""
        return INSTRUMENTS[self.anxiety_measure].format(self.anxiety_first) if self.anxiety_measure else ""

    @property
    def anxiety_last_display(self) -> str:
        return INSTRUMENTS[self.anxiety_measure].format(self.anxiety_last) if self.anxiety_measure else ""

    @property
    def summary(self) -> str:
        """The classification in words, as shown to clinicians."""
        if not self.assessed:
            return f"Not assessed: {self.reason}"
        parts = []
        if self.caseness_at_start:
            parts.append("recovered" if self.recovered else "not recovered")
        else:
            parts.append("not at caseness at start (recovery does not apply)")
        if self.reliable_improvement:
            parts.append("reliable improvement")
        elif self.reliable_deterioration:
            parts.append("reliable deterioration")
        else:
            parts.append("no reliable change")
        if self.reliable_recovery:
            parts.append("reliable recovery")
        return "; ".join(parts).capitalize()


def _count_words(name: str, n: int) -> str:
    return f"no {name} score" if n == 0 else f"only one {name} score"


def _scores_words(n: int) -> str:
    return "1 score" if n == 1 else f"{n} scores"


def _basis(anxiety, adsm, problem, counts) -> str:
    """Which anxiety measure decides the outcome and why, in the clinician's words."""
    gad = INSTRUMENTS[GAD7].name
    where = f"{problem.words}" if problem else None
    if anxiety is not None and anxiety == adsm:
        return f"{INSTRUMENTS[adsm].name}, for {where}: {_scores_words(counts[adsm])}"
    if anxiety == GAD7:
        n = _scores_words(counts[GAD7])
        if adsm:
            short = "only one score" if counts.get(adsm, 0) == 1 else "no scores"
            return f"{gad}, because {INSTRUMENTS[adsm].name} (for {where}) has {short}: {n}"
        if problem:
            return f"{gad}, for {where}: {n}"
        return f"{gad} (no presenting problem recorded): {n}"
    if adsm:
        return (
            f"{INSTRUMENTS[adsm].name}, for {where}, once it has {MIN_SCORES} scores (it has "
            f"{counts.get(adsm, 0)}; {gad} has {counts.get(GAD7, 0)})"
        )
    reason = f"for {where}" if problem else "(no presenting problem recorded)"
    return f"{gad}, {reason}, once it has {MIN_SCORES} scores (it has {counts.get(GAD7, 0)})"


def outcome_of(
    series: dict,
    problem: ProblemRecord | None,
    attended_treatment_contacts: int,
    ended: bool,
    *,
    mixed_policy: str = NO_RELIABLE_CHANGE,
    min_treatment_contacts: int = 2,
) -> PairedOutcome:
    """Classify one referral from the scores of each measure in completion order (``{measure: [total, ...]}``)
    and the presenting problem that decides its anxiety measure."""
    finished = bool(ended) and attended_treatment_contacts >= min_treatment_contacts
    counts = {code: len(values) for code, values in series.items()}
    phq, gad = list(series.get(PHQ9, ())), list(series.get(GAD7, ()))
    adsm = adsm_for(problem.code) if problem else None
    if adsm and counts.get(adsm, 0) >= MIN_SCORES:
        anxiety = adsm
    elif len(gad) >= MIN_SCORES:
        anxiety = ANXIETY_DEFAULT
    else:
        anxiety = None
    anx = list(series.get(anxiety, ())) if anxiety else []
    assessed = len(phq) >= MIN_SCORES and anxiety is not None
    reasons = []
    if len(phq) < MIN_SCORES:
        reasons.append(_count_words(INSTRUMENTS[PHQ9].name, len(phq)))
    if anxiety is None:
        if adsm:
            reasons.append(
                f"{_count_words(INSTRUMENTS[adsm].name, counts.get(adsm, 0))} and "
                f"{_count_words(INSTRUMENTS[GAD7].name, len(gad))}"
            )
        else:
            reasons.append(_count_words(INSTRUMENTS[GAD7].name, len(gad)))
    base = dict(
        phq9_first=phq[0] if phq else None,
        phq9_last=phq[-1] if phq else None,
        gad7_first=gad[0] if gad else None,
        gad7_last=gad[-1] if gad else None,
        phq9_last_severity=severity(PHQ9, phq[-1]) if phq else None,
        gad7_last_severity=severity(GAD7, gad[-1]) if gad else None,
        assessed=assessed,
        computable=assessed,
        reason="; ".join(reasons),
        anxiety_measure=anxiety,
        anxiety_first=anx[0] if anx else None,
        anxiety_last=anx[-1] if anx else None,
        anxiety_basis=_basis(anxiety, adsm, problem, counts | {GAD7: len(gad)}),
        adsm=adsm,
        problem_code=(problem.code or None) if problem else None,
        phq9_scores=len(phq),
        anxiety_scores=len(anx),
        finished_treatment=finished,
        attended_treatment_contacts=attended_treatment_contacts,
        ended=bool(ended),
    )
    if not assessed:
        return PairedOutcome(
            **base,
            caseness_at_start=None,
            recovered=None,
            reliable_improvement=None,
            reliable_deterioration=None,
            no_reliable_change=None,
            reliable_recovery=None,
        )
    depression, anxiety_inst = INSTRUMENTS[PHQ9], INSTRUMENTS[anxiety]
    caseness = bool(depression.is_case(phq[0]) or anxiety_inst.is_case(anx[0]))
    changes = (depression.change(phq[0], phq[-1]), anxiety_inst.change(anx[0], anx[-1]))
    better, worse = -1 in changes, 1 in changes
    improvement = better and not worse
    deterioration = worse and not better
    if better and worse and mixed_policy == RELIABLE_DETERIORATION:
        deterioration = True
    recovered = (not depression.is_case(phq[-1]) and not anxiety_inst.is_case(anx[-1])) if caseness else None
    return PairedOutcome(
        **base,
        caseness_at_start=caseness,
        recovered=recovered,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        no_reliable_change=not improvement and not deterioration,
        reliable_recovery=(recovered and improvement) if caseness else None,
    )


def paired_outcome(
    phq9_first: int | None,
    gad7_first: int | None,
    phq9_last: int | None,
    gad7_last: int | None,
    attended_treatment_contacts: int,
    ended: bool,
    *,
    mixed_policy: str = NO_RELIABLE_CHANGE,
    min_treatment_contacts: int = 2,
) -> PairedOutcome:
    """Classify from a first and a last PHQ-9 and GAD-7 score (two separate scores of each when both are
    given; a missing one leaves fewer than two)."""
    series = {
        PHQ9: [v for v in (phq9_first, phq9_last) if v is not None],
        GAD7: [v for v in (gad7_first, gad7_last) if v is not None],
    }
    return outcome_of(
        series,
        None,
        attended_treatment_contacts,
        ended,
        mixed_policy=mixed_policy,
        min_treatment_contacts=min_treatment_contacts,
    )


def rate(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


def service_rates(counts: dict, targets: dict) -> dict:
    """National rates from aggregate counts (DOMAIN.md §3): which denominators, and against which target.

    ``counts`` holds finished, not_caseness, recovered, reliable_improvement, reliable_deterioration,
    reliable_recovery, waits_measured, within_6_weeks, within_18_weeks, second_contact_measured, hidden_waits.
    """
    finished = counts.get("finished", 0)
    at_caseness = finished - counts.get("not_caseness", 0)
    out = {
        "recovery_rate": rate(counts.get("recovered", 0), at_caseness),
        "reliable_improvement_rate": rate(counts.get("reliable_improvement", 0), finished),
        "reliable_recovery_rate": rate(counts.get("reliable_recovery", 0), at_caseness),
        "reliable_deterioration_rate": rate(counts.get("reliable_deterioration", 0), finished),
        "wait_6_weeks_share": rate(counts.get("within_6_weeks", 0), counts.get("waits_measured", 0)),
        "wait_18_weeks_share": rate(counts.get("within_18_weeks", 0), counts.get("waits_measured", 0)),
        "hidden_wait_share": rate(counts.get("hidden_waits", 0), counts.get("second_contact_measured", 0)),
    }
    met = {name: (None if out.get(name) is None else out[name] >= target) for name, target in targets.items()}
    return {"rates": out, "targets": dict(targets), "met": met, "at_caseness": at_caseness}


ATTENDED = ("5", "6")
TREATMENT = ("02", "03", "05")
DNA = "3"
# "Sessions attended" means one thing on every page (caseload, referral page, supervision list, group
# registers' courses): attended treatment contacts, ``attended_treatment_contacts`` below.
SESSIONS_ATTENDED = "Treatment sessions attended"
SESSIONS_ATTENDED_MEANS = (
    "Treatment sessions attended: contacts attended (on time or late but seen) that were treatment, "
    "assessment and treatment, or review and treatment. An assessment on its own is not counted."
)


def referral_facts(
    contacts,
    scores,
    *,
    problems=(),
    ended_on=None,
    mixed_policy=NO_RELIABLE_CHANGE,
    min_treatment_contacts=2,
):
    """Everything the service metrics need about one referral, from its valid rows.

    ``contacts``: (date, appointment_type, attendance) in date order; ``scores``: (measure, date, total,
    item_9) in completion order, entered-in-error rows already left out; ``problems``: its presenting
    problems (``ProblemRecord``), any order.
    """
    attended = [c for c in contacts if c[2] in ATTENDED]
    treatment_dates = [c[0] for c in attended if c[1] in TREATMENT]
    series, last_item9 = {}, None
    first_on = last_on = None
    for measure, on, total, item9 in scores:
        series.setdefault(measure, []).append(total)
        if measure not in (PHQ9, GAD7):
            continue
        first_on = first_on or on
        last_on = on
        if measure == PHQ9:
            last_item9 = item9
    problem = deciding(problems)
    outcome = outcome_of(
        series,
        problem,
        len(treatment_dates),
        ended_on is not None,
        mixed_policy=mixed_policy,
        min_treatment_contacts=min_treatment_contacts,
    )
    return {
        "phq9_first": outcome.phq9_first,
        "phq9_last": outcome.phq9_last,
        "gad7_first": outcome.gad7_first,
        "gad7_last": outcome.gad7_last,
        "anxiety_measure": outcome.anxiety_measure or "",
        "anxiety_first": outcome.anxiety_first,
        "anxiety_last": outcome.anxiety_last,
        "adsm": outcome.adsm or "",
        "first_scored_on": first_on,
        "last_scored_on": last_on,
        "phq9_latest_item9": last_item9,
        "attended_contacts": len(attended),
        "attended_treatment_contacts": len(treatment_dates),
        "dna_count": sum(1 for c in contacts if c[2] == DNA),
        "contact_count": len(contacts),
        "first_treatment_on": treatment_dates[0] if treatment_dates else None,
        "second_treatment_on": treatment_dates[1] if len(treatment_dates) > 1 else None,
        "last_contact_on": contacts[-1][0] if contacts else None,
        "last_attended_on": attended[-1][0] if attended else None,
        "ended_on": ended_on,
        "computable": outcome.computable,
        "caseness_at_start": outcome.caseness_at_start,
        "recovered": outcome.recovered,
        "reliable_improvement": outcome.reliable_improvement,
        "reliable_deterioration": outcome.reliable_deterioration,
        "reliable_recovery": outcome.reliable_recovery,
        "finished_treatment": outcome.finished_treatment,
    }, outcome
