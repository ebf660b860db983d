"""The log-a-session service: all or nothing, clear errors, status lifecycle, summary kept current."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from common.exceptions import Conflict
from common.models import AuditEvent
from outcomes.models import OutcomeSummary, QuestionnaireResponse
from referrals.models import CareContact
from referrals.services import log_contact, mark_contact_in_error
from stepped_care.services import change_step, discharge

PHQ = [2, 2, 2, 1, 1, 1, 1, 1, 0]  # 11
GAD = [2, 2, 1, 1, 1, 1, 1]  # 9


def counts():
    return CareContact.objects.count(), QuestionnaireResponse.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"phq9": [1] * 8}, "phq9", "item 9 is missing"),
        ({"phq9": [1, 1, 1, 1, 7, 1, 1, 1, 0]}, "phq9", "item 5 must be between 0 and 3"),
        ({"gad7": [1, 1, 1, None, 1, 1, 1]}, "gad7", "item 4 is missing"),
        ({"wsas": [1, 1, 1, 1, 9]}, "wsas", "item 5 must be between 0 and 8"),
        ({"date_offset": -1}, "date", "before the referral was received"),
        ({"date_offset": 10_000}, "date", "future"),
        ({"phq9": [1, 1, 1, 1, 1, 1, 1, 1, 2]}, "risk_note", "item 9 is above 0"),
        ({"attendance": "3"}, "phq9", "attended"),
        ({"attendance": "9"}, "attendance", "attendance"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(referral, pwp, change, field, fragment):
    before = counts()
    events = AuditEvent.objects.count()
    kwargs = dict(
        referral=referral,
        by=pwp,
        date=referral.received_on + dt.timedelta(days=1),
        appointment_type="01",
        attendance="5",
        phq9=PHQ,
        gad7=GAD,
    )
    offset = change.pop("date_offset", None)
    if offset is not None:
        kwargs["date"] = referral.received_on + dt.timedelta(days=offset)
    kwargs.update(change)
    with pytest.raises(ValidationError) as err:
        log_contact(**kwargs)
    assert field in err.value.message_dict
    assert fragment in " ".join(err.value.message_dict[field])
    assert counts() == before
    assert AuditEvent.objects.count() == events
    referral.refresh_from_db()
    assert referral.status == "awaiting_assessment"


@pytest.mark.django_db
def test_status_moves_through_the_lifecycle(referral, pwp):
    day = referral.received_on + dt.timedelta(days=1)
    log_contact(referral=referral, by=pwp, date=day, appointment_type="01", attendance="5", phq9=PHQ, gad7=GAD)
    referral.refresh_from_db()
    assert referral.status == "awaiting_treatment"
    change_step(referral=referral, step=2, reason="Suitable for guided self-help", by=pwp, on=day)
    log_contact(referral=referral, by=pwp, date=day + dt.timedelta(days=7), appointment_type="02", attendance="3")
    referral.refresh_from_db()
    assert referral.status == "awaiting_treatment"  # a DNA is not the start of treatment
    log_contact(
        referral=referral,
        by=pwp,
        date=day + dt.timedelta(days=14),
        appointment_type="02",
        attendance="6",
        phq9=PHQ,
        gad7=GAD,
    )
    referral.refresh_from_db()
    assert referral.status == "in_treatment"
    summary = OutcomeSummary.objects.get(referral=referral)
    assert (summary.attended_treatment_contacts, summary.dna_count, summary.contact_count) == (1, 1, 3)
    assert summary.first_treatment_on == day + dt.timedelta(days=14)
    discharge(referral=referral, end_code="46", by=pwp, discharged_on=day + dt.timedelta(days=20))
    referral.refresh_from_db()
    assert referral.status == "discharged" and not referral.steps.filter(ended_on__isnull=True).exists()
    assert list(referral.events.values_list("kind", flat=True)).count("status") == 3
    with pytest.raises(ValidationError, match="discharged"):
        log_contact(referral=referral, by=pwp, date=day + dt.timedelta(days=21), appointment_type="02", attendance="5")


@pytest.mark.django_db
def test_a_stale_version_is_a_conflict(referral, pwp):
    version = referral.version
    log_contact(referral=referral, by=pwp, date=referral.received_on, appointment_type="01", attendance="5")
    with pytest.raises(Conflict):
        change_step(referral=referral, step=2, reason="x", by=pwp, expected_version=version)


@pytest.mark.django_db
def test_entered_in_error_is_kept_and_ignored_by_outcomes(referral, pwp):
    day = referral.received_on
    log_contact(
        referral=referral, by=pwp, date=day, appointment_type="01", attendance="5", phq9=[3] * 8 + [0], gad7=[3] * 7
    )
    wrong = log_contact(
        referral=referral,
        by=pwp,
        date=day + dt.timedelta(days=7),
        appointment_type="02",
        attendance="5",
        phq9=[0] * 9,
        gad7=[0] * 7,
    )
    assert OutcomeSummary.objects.get(referral=referral).phq9_last == 0
    with pytest.raises(ValidationError):
        mark_contact_in_error(contact=wrong, reason="  ", by=pwp)
    mark_contact_in_error(contact=wrong, reason="Scores belonged to another patient", by=pwp)
    summary = OutcomeSummary.objects.get(referral=referral)
    assert summary.phq9_last == 24 and summary.attended_treatment_contacts == 0
    assert CareContact.objects.filter(pk=wrong.pk, entered_in_error=True).exists()
    assert QuestionnaireResponse.objects.filter(contact=wrong, entered_in_error=True).count() == 2


@pytest.mark.django_db
def test_step_changes_are_append_only_history(referral, pwp):
    today = timezone.localdate()
    change_step(referral=referral, step=2, reason="Assessment", by=pwp, on=today - dt.timedelta(days=30))
    change_step(referral=referral, step=3, reason="Not improving at step 2", by=pwp, on=today)
    steps = list(referral.steps.order_by("started_on"))
    assert [(s.step, s.ended_on) for s in steps] == [(2, today), (3, None)]
    with pytest.raises(ValidationError, match="already on step 3"):
        change_step(referral=referral, step=3, reason="again", by=pwp)
    with pytest.raises(ValidationError) as err:
        change_step(referral=referral, step=2, reason="", by=pwp)
    assert "reason" in err.value.message_dict
