"""Corrections, not edits: a session entered wrongly is marked entered in error with a reason and kept;
the outcome summary, the paired outcome and the review flags are then worked out without it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.models import AuditEvent
from outcomes.models import OutcomeSummary, QuestionnaireResponse
from outcomes.services import compute_outcome
from referrals import services
from referrals.models import CareContact
from stepped_care.models import FlagStatus, ReviewFlag

pytestmark = pytest.mark.django_db(transaction=False)


def session(referral, pwp, days_ago, phq9, gad7, appointment_type="02", risk_note=""):
    return services.log_contact(
        referral=referral,
        by=pwp,
        date=timezone.localdate() - dt.timedelta(days=days_ago),
        appointment_type=appointment_type,
        attendance="5",
        phq9=phq9,
        gad7=gad7,
        risk_note=risk_note,
    )


@pytest.fixture
def course(referral, pwp):
    """Assessment at caseness, a treatment session well below caseness, then a wrongly entered session
    (another patient's scores, with a PHQ-9 item 9 risk answer) typed into this record."""
    session(referral, pwp, 60, [2] * 8 + [0], [2] * 7, appointment_type="01")
    session(referral, pwp, 30, [1] * 3 + [0] * 6, [1] * 2 + [0] * 5)
    wrong = session(referral, pwp, 10, [3] * 9, [3] * 7, risk_note="Risk assessed")
    return wrong


def test_before_the_correction_the_wrong_session_drives_outcome_and_risk(referral, course):
    summary = OutcomeSummary.objects.get(referral=referral)
    assert summary.phq9_last == 27
    assert summary.recovered is False
    assert ReviewFlag.objects.filter(referral=referral, rule="risk", status=FlagStatus.OPEN).exists()


def test_marking_it_in_error_keeps_the_rows_and_corrects_outcome_and_flags(
    referral, pwp, course, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the review queued after commit runs (eagerly)
        services.mark_contact_in_error(contact=course, reason="Another patient's questionnaire", by=pwp)

    kept = CareContact.objects.get(pk=course.pk)
    assert kept.entered_in_error and kept.error_reason == "Another patient's questionnaire"
    assert QuestionnaireResponse.objects.filter(contact=course).count() == 2
    assert all(q.entered_in_error for q in QuestionnaireResponse.objects.filter(contact=course))

    summary = OutcomeSummary.objects.get(referral=referral)
    assert (summary.phq9_first, summary.phq9_last) == (16, 3)
    assert (summary.gad7_first, summary.gad7_last) == (14, 2)
    assert summary.recovered is True
    assert summary.attended_treatment_contacts == 1

    outcome = compute_outcome(referral)
    assert outcome.as_dict()["recovered"] is True

    # The risk flag is not closed by the software: it says the PHQ-9 behind it was entered in error
    # and waits for a clinician's recorded risk review.
    risk = ReviewFlag.objects.get(referral=referral, rule="risk")
    assert risk.status == FlagStatus.OPEN
    assert "entered in error" in risk.explanation and risk.evidence["review_recorded"] is False

    event = AuditEvent.objects.get(action="contact.entered_in_error", object_id=str(course.pk))
    assert event.actor == pwp and event.patient_id == referral.patient_id
    assert event.changes == {"reason": "Another patient's questionnaire"}


def test_a_correction_needs_a_reason_and_happens_once(referral, pwp, course):
    with pytest.raises(ValidationError) as error:
        services.mark_contact_in_error(contact=course, reason="  ", by=pwp)
    assert "reason" in error.value.message_dict
    services.mark_contact_in_error(contact=course, reason="Wrong patient", by=pwp)
    with pytest.raises(ValidationError):
        services.mark_contact_in_error(contact=course, reason="Again", by=pwp)
    assert CareContact.objects.get(pk=course.pk).error_reason == "Wrong patient"


def test_clinical_rows_cannot_be_deleted_through_the_api(api, pwp, referral, course):
    """No DELETE route exists for contacts, referrals or patients (the access matrix lists every route)."""
    api.force_authenticate(pwp)
    for url in (f"/api/v1/contacts/{course.pk}/", f"/api/v1/referrals/{referral.pk}/"):
        assert api.delete(url).status_code == 405
    assert CareContact.objects.filter(pk=course.pk).exists()
