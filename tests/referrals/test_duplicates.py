"""No accidental duplicates (issue 20.3) and typed work never lost (issue 20.2).

A form that creates carries a one-time token: the same token twice makes one record and redirects to
the first result. A second contact of the same type on the same date is asked about (web) or answered
409 (API) unless confirmed. A refused save keeps what was typed; the session form's server-side draft
is kept, restored with a notice, discarded, deleted with the save, reachable only by its author."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent, IdempotencyKey
from referrals import services
from referrals.models import CareContact, Patient, Referral, SessionDraft
from stepped_care import services as stepped_care_services

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)


def session_body(once="tok-1", **changes):
    body = {
        "form_token": once,
        "date": YESTERDAY.isoformat(),
        "appointment_type": "02",
        "attendance": "5",
        "mechanism": "01",
        "therapy_mode": "1",
        "notes": "Worked on the activity diary",
    }
    return body | changes


def log_url(referral):
    return reverse("referrals:log_session", kwargs={"pk": referral.pk})


@pytest.mark.django_db
def test_save_back_save_with_the_same_token_makes_one_contact(client, pwp, referral):
    client.force_login(pwp)
    first = client.post(log_url(referral), session_body())
    assert first.status_code == 302
    again = client.post(log_url(referral), session_body())
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert CareContact.objects.filter(referral=referral).count() == 1
    assert IdempotencyKey.objects.filter(user=pwp, key="form:tok-1").count() == 1


@pytest.mark.django_db
def test_a_refused_save_keeps_nothing_of_the_token(client, pwp, referral):
    client.force_login(pwp)
    refused = client.post(log_url(referral), session_body(date=""))
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert 'value="tok-1"' in refused.content.decode()  # the corrected form is still the first
    assert client.post(log_url(referral), session_body()).status_code == 302
    assert CareContact.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_registering_a_patient_and_a_referral_twice_with_one_token_makes_one_each(client, pwp):
    client.force_login(pwp)
    patient_form = {
        "form_token": "p-1",
        "given_name": "Robin",
        "family_name": "Newcomer",
        "date_of_birth": "1990-02-03",
    }
    first = client.post(reverse("referrals:new_patient"), patient_form)
    assert client.post(reverse("referrals:new_patient"), patient_form)["Location"] == first["Location"]
    assert Patient.objects.count() == 1
    referral_form = {
        "form_token": "r-1",
        "received_on": TODAY.isoformat(),
        "source": "gp",
        "presenting_problem": "depression",
    }
    made = client.post(first["Location"], referral_form)
    assert client.post(first["Location"], referral_form)["Location"] == made["Location"]
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_a_second_contact_on_the_same_date_and_type_is_asked_about(client, pwp, referral):
    client.force_login(pwp)
    client.post(log_url(referral), session_body())
    asked = client.post(log_url(referral), session_body(once="tok-2", notes="Second"))
    assert asked.status_code == 400
    body = asked.content.decode()
    assert f"A treatment contact on {YESTERDAY:%-d %b %Y} already exists" in body
    assert 'name="confirm_duplicate"' in body and "Second" in body  # asked, with what was typed
    assert CareContact.objects.filter(referral=referral).count() == 1
    confirmed = client.post(log_url(referral), session_body(once="tok-2", notes="Second", confirm_duplicate="on"))
    assert confirmed.status_code == 302
    assert CareContact.objects.filter(referral=referral).count() == 2
    other_type = client.post(log_url(referral), session_body(once="tok-3", appointment_type="01"))
    assert other_type.status_code == 302  # another type on that date is not a duplicate


@pytest.mark.django_db
def test_the_api_answers_409_naming_the_existing_contact(api, pwp, referral):
    api.force_authenticate(pwp)
    body = {"referral": str(referral.pk), "date": YESTERDAY.isoformat(), "appointment_type": "02", "attendance": "5"}
    first = api.post("/api/v1/contacts/", body, format="json").json()
    refused = api.post("/api/v1/contacts/", body, format="json")
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "duplicate_contact"
    assert problem["existing_contact"]["id"] == first["id"]
    assert problem["confirm_with"] == "confirm_duplicate"
    assert api.post("/api/v1/contacts/", body | {"confirm_duplicate": True}, format="json").status_code == 201


@pytest.mark.django_db
def test_a_contact_entered_in_error_is_no_duplicate(pwp, referral):
    first = services.log_contact(referral=referral, by=pwp, date=YESTERDAY, appointment_type="02", attendance="5")
    services.mark_contact_in_error(contact=first, reason="Wrong patient", by=pwp)
    services.log_contact(referral=referral, by=pwp, date=YESTERDAY, appointment_type="02", attendance="5")
    with pytest.raises(services.DuplicateContact):
        services.log_contact(referral=referral, by=pwp, date=YESTERDAY, appointment_type="02", attendance="5")


# --- typed work is never lost (20.2) --------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_typed_while_discharged_in_another_tab_comes_back_with_everything_and_the_reason(
    client, pwp, referral
):
    client.force_login(pwp)
    assert client.get(log_url(referral)).status_code == 200  # the form is open in this tab
    stepped_care_services.discharge(referral=referral, end_code="50", by=pwp, discharged_on=TODAY)  # the other tab
    response = client.post(log_url(referral), session_body(notes="Forty minutes of careful notes"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This referral has been discharged" in body
    assert "Forty minutes of careful notes" in body
    assert not CareContact.objects.filter(referral=referral).exists()


def draft_url(referral):
    return reverse("referrals:session_draft", kwargs={"pk": referral.pk})


@pytest.mark.django_db
def test_a_draft_is_kept_restored_with_a_notice_and_deleted_by_the_save(client, pwp, referral):
    client.force_login(pwp)
    kept = client.post(draft_url(referral), session_body(notes="Half a note"))
    assert kept.status_code == 200 and kept.json()["saved"]
    draft = SessionDraft.objects.get(author=pwp, referral=referral)
    assert "form_token" not in draft.fields and draft.fields["notes"] == ["Half a note"]
    assert draft.expires_at > timezone.now() + dt.timedelta(days=13)
    page = client.get(log_url(referral)).content.decode()
    assert "Restored your unsaved draft from" in page and "Half a note" in page and "Discard the draft" in page
    assert AuditEvent.objects.filter(action="draft.restore", actor=pwp).exists()
    assert client.post(log_url(referral), session_body()).status_code == 302
    assert not SessionDraft.objects.exists()


@pytest.mark.django_db
def test_a_draft_is_discarded_without_javascript(client, pwp, referral):
    client.force_login(pwp)
    client.post(draft_url(referral), session_body())
    response = client.post(draft_url(referral), {"discard": "1"})
    assert response.status_code == 302 and response["Location"] == log_url(referral)
    assert not SessionDraft.objects.exists()
    assert "Restored your unsaved draft" not in client.get(log_url(referral)).content.decode()


@pytest.mark.django_db
def test_a_draft_is_its_authors_only(client, pwp, colleague, outsider, supervisor, manager, referral):
    client.force_login(pwp)
    client.post(draft_url(referral), session_body(notes="Mine alone"))
    for other, status in ((outsider, 404), (colleague, 404), (supervisor, 403), (manager, 403)):
        client.force_login(other)
        assert client.post(draft_url(referral), session_body()).status_code == status
    services.log_contact(
        referral=referral, by=pwp, date=TODAY - dt.timedelta(days=3), appointment_type="02", attendance="5"
    )
    assert SessionDraft.objects.get().author == pwp and SessionDraft.objects.count() == 1


@pytest.mark.django_db
def test_expired_drafts_are_not_restored_and_are_purged(client, pwp, referral):
    client.force_login(pwp)
    client.post(draft_url(referral), session_body(notes="Old words"))
    SessionDraft.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert "Old words" not in client.get(log_url(referral)).content.decode()
    from referrals.tasks import purge_expired_session_drafts

    assert purge_expired_session_drafts() == 1
    assert not SessionDraft.objects.exists()


@pytest.mark.django_db
def test_a_draft_of_something_else_is_refused(client, pwp, referral):
    client.force_login(pwp)
    response = client.post(draft_url(referral), {"Not A Field!": "x"})
    assert response.status_code == 400 and not SessionDraft.objects.exists()
