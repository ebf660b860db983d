"""Paired outcomes and service rates: pure functions over first/last scores (DOMAIN.md §3). No ORM.

The first and last scores of a referral are compared. Reliable change values and caseness cut-offs
come from the instrument table in ``scoring``; targets and the mixed-change policy from ``standards``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .scoring import GAD7, PHQ9, instrument, severity

NO_RELIABLE_CHANGE = "no_reliable_change"
RELIABLE_DETERIORATION = "reliable_deterioration"


@dataclass(frozen=True)
class PairedOutcome:
    phq9_first: int | None
    phq9_last: int | None
    gad7_first: int | None
    gad7_last: int | None
    phq9_last_severity: str | None
    gad7_last_severity: str | None
    computable: bool
    reason: str  # why not computable, or "" when it is
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
    def summary(self) -> str:
        """The classification in words, as shown to clinicians."""
        if not self.computable:
            return f"Not computable: {self.reason}"
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


def _reliable(measure: str, first: int, last: int) -> int:
    """+1 reliably worse, -1 reliably better, 0 neither."""
    change = last - first
    rc = instrument(measure).reliable_change
    if change >= rc:
        return 1
    if change <= -rc:
        return -1
    return 0


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
    """Classify one referral from its first and last PHQ-9 and anxiety scores."""
    finished = bool(ended) and attended_treatment_contacts >= min_treatment_contacts
    missing = [
        name
        for name, value in (
            ("first PHQ-9", phq9_first),
            ("first GAD-7", gad7_first),
            ("last PHQ-9", phq9_last),
            ("last GAD-7", gad7_last),
        )
        if value is None
    ]
    base = dict(
        phq9_first=phq9_first,
        phq9_last=phq9_last,
        gad7_first=gad7_first,
        gad7_last=gad7_last,
        phq9_last_severity=severity(PHQ9, phq9_last) if phq9_last is not None else None,
        gad7_last_severity=severity(GAD7, gad7_last) if gad7_last is not None else None,
        finished_treatment=finished,
        attended_treatment_contacts=attended_treatment_contacts,
        ended=bool(ended),
    )
    if missing:
        return PairedOutcome(
            **base,
            computable=False,
            reason="no " + ", ".join(missing) + " score",
            caseness_at_start=None,
            recovered=None,
            reliable_improvement=None,
            reliable_deterioration=None,
            no_reliable_change=None,
            reliable_recovery=None,
        )
    phq_cut, gad_cut = instrument(PHQ9).caseness, instrument(GAD7).caseness
    caseness = phq9_first >= phq_cut or gad7_first >= gad_cut
    changes = (_reliable(PHQ9, phq9_first, phq9_last), _reliable(GAD7, gad7_first, gad7_last))
    better, worse = -1 in changes, 1 in changes
    improvement = better and not worse
    deterioration = worse and not better
    if better and worse and mixed_policy == RELIABLE_DETERIORATION:
        deterioration = True
    recovered = (phq9_last < phq_cut and gad7_last < gad_cut) if caseness else None
    return PairedOutcome(
        **base,
        computable=True,
        reason="",
        caseness_at_start=caseness,
        recovered=recovered,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        no_reliable_change=not improvement and not deterioration,
        reliable_recovery=(recovered and improvement) if caseness else None,
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


def referral_facts(contacts, scores, *, ended_on=None, mixed_policy=NO_RELIABLE_CHANGE, min_treatment_contacts=2):
    """Everything the service metrics need about one referral, from its valid rows.

    ``contacts``: (date, appointment_type, attendance) in date order; ``scores``: (measure, date, total,
    item_9) in completion order, entered-in-error rows already left out.
    """
    attended = [c for c in contacts if c[2] in ATTENDED]
    treatment_dates = [c[0] for c in attended if c[1] in TREATMENT]
    firsts, lasts, last_item9 = {}, {}, None
    first_on = last_on = None
    for measure, on, total, item9 in scores:
        if measure not in (PHQ9, GAD7):
            continue
        firsts.setdefault(measure, total)
        lasts[measure] = total
        first_on = first_on or on
        last_on = on
        if measure == PHQ9:
            last_item9 = item9
    outcome = paired_outcome(
        firsts.get(PHQ9),
        firsts.get(GAD7),
        lasts.get(PHQ9),
        lasts.get(GAD7),
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
