"""Writes of questionnaire data and the per-referral outcome summary."""

from django.db import transaction

from common.standards import standards
from referrals.models import CareContact

from .metrics import referral_facts
from .models import ITEM_FIELDS, OutcomeSummary, QuestionnaireResponse
from .scoring import score


def record_questionnaire(*, contact, measure, answers, by):
    """Store one questionnaire with every item answer. Raises ScoringError on a bad answer."""
    result = score(measure, answers)
    values = dict(zip(ITEM_FIELDS, result.items, strict=False))
    return QuestionnaireResponse.objects.create(
        contact=contact,
        referral_id=contact.referral_id,
        measure=measure,
        completed_on=contact.date,
        total=result.total,
        created_by=by,
        **values,
    )


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
        QuestionnaireResponse.objects.filter(
            referral_id__in=referral_ids, entered_in_error=False, contact__entered_in_error=False
        )
        .order_by("referral_id", "completed_on", "contact__time", "contact__created_at", "created_at")
        .values_list("referral_id", "measure", "completed_on", "total", "item_9")
    ):
        scores.setdefault(rid, []).append((measure, on, total, item9))
    return contacts, scores


def compute_outcome(referral):
    """The paired outcome of one referral from its raw rows (entered-in-error rows ignored)."""
    contacts, scores = _rows([referral.pk])
    policy = standards()
    _, outcome = referral_facts(
        contacts.get(referral.pk, []),
        scores.get(referral.pk, []),
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
    contacts, scores = _rows([r.pk for r in referrals])
    rows = []
    for referral in referrals:
        facts, _ = referral_facts(
            contacts.get(referral.pk, []),
            scores.get(referral.pk, []),
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
