"""Reads for the FHIR export, scoped like every clinical read (``visible_to``): outsiders find nothing."""

from django.db.models import Q

from outcomes.models import QuestionnaireResponse
from referrals.models import Referral


def referral_for_export(user, pk):
    """The referral with its patient (one query), or None if ``user`` may not see it (or there is none)."""
    return Referral.objects.visible_to(user).select_related("patient").filter(pk=pk).first()


def completed_questionnaires(referral):
    """Every questionnaire of the referral that stands (not entered in error, nor its contact), oldest
    first, in one query whatever their number."""
    return list(
        QuestionnaireResponse.objects.filter(referral=referral, entered_in_error=False)
        .filter(Q(contact__isnull=True) | Q(contact__entered_in_error=False))
        .order_by("completed_on", "created_at", "measure", "id")
    )
