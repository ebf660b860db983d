"""Writes of questionnaire data and the per-referral outcome summary."""

from django.db import transaction
from django.db.models import F, IntegerField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from common.standards import standards
from referrals.models import CareContact, PresentingProblemRecord

from .metrics import referral_facts
from .models import OutcomeSummary, QuestionnaireResponse, Source
from .problems import ProblemRecord
from .scoring import RISK_ITEM, score


def record_questionnaire(*, contact, measure, answers=None, total=None, by):
    """Store one questionnaire with every item answer (or, for a measure recorded as a score, its score).
    Raises ScoringError on a bad answer."""
    result = score(measure, answers, total=total)
    return QuestionnaireResponse.objects.create(
        contact=contact,
        referral_id=contact.referral_id,
        measure=measure,
        completed_on=contact.date,
        items=list(result.items),
        total=result.total,
        created_by=by,
    )


def record_patient_questionnaire(*, referral, measure, answers, completed_on):
    """Store one questionnaire the patient completed on their own (no contact, no member of staff).
    Raises ScoringError on a bad answer. The caller (a front-door service) refreshes the summary, audits
    and raises the risk flag, in its own transaction."""
    result = score(measure, answers)
    return QuestionnaireResponse.objects.create(
        contact=None,
        referral_id=referral.pk,
        measure=measure,
        completed_on=completed_on,
        items=list(result.items),
        total=result.total,
        source=Source.PATIENT,
        created_by=None,
    )


# Valid scores: not entered in error, and either the patient's own (no contact) or at a valid contact.
VALID_SCORES = Q(entered_in_error=False) & (Q(contact__isnull=True) | Q(contact__entered_in_error=False))
# Within a day, the patient's own scores (completed before the session) come first.
SCORE_ORDER = (
    "completed_on",
    F("contact__time").asc(nulls_first=True),
    F("contact__created_at").asc(nulls_first=True),
    "created_at",
)


def problem_records(referral_ids):
    """{referral id: [ProblemRecord, ...]}: the presenting problems of these referrals (one query)."""
    out = {}
    for rid, code, significance, on, created_at, problem in (
        PresentingProblemRecord.objects.filter(referral_id__in=referral_ids)
        .order_by()
        .values_list("referral_id", "code", "significance", "recorded_on", "created_at", "problem")
    ):
        out.setdefault(rid, []).append(ProblemRecord(code, significance, on, created_at, problem))
    return out


def _rows(referral_ids):
    contacts, scores = {}, {}
    for rid, on, appt, att in (
        CareContact.objects.valid()
        .filter(referral_id__in=referral_ids)
        .order_by("referral_id", "date", "time", "created_at")
        .values_list("referral_id", "date", "appointment_type", "attendance")
    ):
        contacts.setdefault(rid, []).append((on, appt, att))
    for rid, measure, on, total, item9 in (
        QuestionnaireResponse.objects.filter(VALID_SCORES, referral_id__in=referral_ids)
        .order_by("referral_id", *SCORE_ORDER)
        .annotate(item9=Cast(KeyTextTransform(str(RISK_ITEM - 1), "items"), IntegerField()))
        .values_list("referral_id", "measure", "completed_on", "total", "item9")
    ):
        scores.setdefault(rid, []).append((measure, on, total, item9))
    return contacts, scores, problem_records(referral_ids)


def compute_outcome(referral):
    """The paired outcome of one referral from its raw rows (entered-in-error rows ignored)."""
    contacts, scores, problems = _rows([referral.pk])
    policy = standards()
    _, outcome = referral_facts(
        contacts.get(referral.pk, []),
        scores.get(referral.pk, []),
        problems=problems.get(referral.pk, []),
        ended_on=referral.discharged_on,
        mixed_policy=policy["mixed_reliable_change"],
        min_treatment_contacts=policy["finished_treatment_min_contacts"],
    )
    return outcome


@transaction.atomic
def refresh_summaries(referrals):
    """Recompute the outcome summary rows of these referrals from their raw rows."""
    referrals = list(referrals)
    if not referrals:
        return 0
    policy = standards()
    contacts, scores, problems = _rows([r.pk for r in referrals])
    rows = []
    for referral in referrals:
        facts, _ = referral_facts(
            contacts.get(referral.pk, []),
            scores.get(referral.pk, []),
            problems=problems.get(referral.pk, []),
            ended_on=referral.discharged_on,
            mixed_policy=policy["mixed_reliable_change"],
            min_treatment_contacts=policy["finished_treatment_min_contacts"],
        )
        rows.append(OutcomeSummary(referral_id=referral.pk, team_id=referral.team_id, **facts))
    fields = [f.name for f in OutcomeSummary._meta.concrete_fields if f.name not in ("referral", "updated_at")]
    OutcomeSummary.objects.bulk_create(rows, update_conflicts=True, unique_fields=["referral"], update_fields=fields)
    return len(rows)


def refresh_summary(referral):
    refresh_summaries([referral])
