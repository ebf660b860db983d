"""The audit trail: every clinical write and every view of a patient's record leaves an event (who,
what, which record, when, from where, what changed); managers search it and export it."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from common import audit
from common.models import AuditEvent
from referrals import services
from stepped_care import services as stepped_care_services
from stepped_care.models import ReviewFlag
from stepped_care.services import change_step
from tests.factories import PatientFactory, ReferralFactory, StaffFactory

pytestmark = pytest.mark.django_db

NHS_NUMBER = "9434765919"


def events_since(mark):
    return list(AuditEvent.objects.filter(pk__gt=mark).order_by("pk"))


def last_id():
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_every_clinical_write_leaves_an_event_naming_actor_patient_record_and_change(pwp, colleague, team):
    mark = last_id()
    today = timezone.localdate()
    patient = services.create_patient(
        by=pwp, given_name="Robin", family_name="Example", date_of_birth=dt.date(1990, 1, 1), nhs_number=NHS_NUMBER
    )
    referral = services.create_referral(
        by=pwp, patient=patient, received_on=today - dt.timedelta(days=30), source="gp", presenting_problem="depression"
    )
    services.allocate(referral=referral, clinician=colleague, by=pwp)
    contact = services.log_contact(
        referral=referral, by=colleague, date=today - dt.timedelta(days=7), appointment_type="01", attendance="5"
    )
    change_step(referral=referral, step=2, reason="Assessed: low intensity", by=colleague)
    services.mark_contact_in_error(contact=contact, reason="Logged on the wrong day", by=colleague)
    stepped_care_services.discharge(referral=referral, end_code="50", by=colleague)  # its one contact was in error

    events = events_since(mark)
    actions = [e.action for e in events]
    for expected in (
        "patient.create",
        "referral.create",
        "referral.allocate",
        "contact.create",
        "step.change",
        "contact.entered_in_error",
        "referral.discharge",
    ):
        assert expected in actions, f"{expected} left no audit event ({actions})"
    for event in events:
        assert event.patient_id == patient.pk, event.action
        assert event.actor in (pwp, colleague), event.action
        assert event.object_type and event.object_id, event.action
        assert event.at is not None
    by_action = {e.action: e for e in events}
    assert by_action["referral.allocate"].changes == {"from": None, "to": colleague.pk}
    assert by_action["step.change"].changes["to"] == 2
    assert by_action["referral.discharge"].changes["end_code"] == "50"


def test_writes_through_the_api_record_the_client_address(api, pwp, referral):
    api.force_authenticate(pwp)
    mark = last_id()
    response = api.post(
        "/api/v1/contacts/",
        {
            "referral": str(referral.pk),
            "date": str(timezone.localdate()),
            "appointment_type": "01",
            "attendance": "5",
        },
        format="json",
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 201, response.content
    event = next(e for e in events_since(mark) if e.action == "contact.create")
    assert event.client_address == "192.0.2.44"
    assert event.actor == pwp


def test_the_html_referral_page_records_each_view(client, pwp, referral):
    client.force_login(pwp)
    mark = last_id()
    response = client.get(reverse("referrals:detail", args=[referral.pk]), REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 200
    views = [e for e in events_since(mark) if e.action.endswith(".view")]
    assert views, "viewing a referral page must call common.audit.record_view"
    assert views[0].actor == pwp
    assert views[0].patient_id == referral.patient_id
    assert views[0].client_address == "198.51.100.9"


def test_api_reads_of_a_record_are_audited(api, pwp, referral):
    api.force_authenticate(pwp)
    mark = last_id()
    assert api.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    assert api.get(f"/api/v1/patients/{referral.patient_id}/").status_code == 200
    assert [e.action for e in events_since(mark)] == ["referral.view", "patient.view"]


def test_record_view_finds_the_patient_of_any_record(rf, pwp, referral):
    contact = services.log_contact(
        referral=referral, by=pwp, date=referral.received_on, appointment_type="01", attendance="5"
    )
    flag = ReviewFlag.objects.create(
        referral=referral, rule="long_wait", recommendation="review", severity="amber", explanation="Waiting"
    )
    request = rf.get("/")
    request.user = pwp
    for obj, action in (
        (referral.patient, "patient.view"),
        (referral, "referral.view"),
        (contact, "contact.view"),
        (flag, "flag.view"),
    ):
        fresh = type(obj).objects.get(pk=obj.pk)  # nothing cached: record_view looks the patient up
        event = audit.record_view(request, fresh)
        assert (event.action, event.patient_id, event.actor) == (action, referral.patient_id, pwp)


# --- the managers' audit page -------------------------------------------------------------------


@pytest.fixture
def trail(pwp, colleague, referral, outsider):
    """Views and writes by two clinicians of the team, and one event of another team."""
    referral.patient.nhs_number = NHS_NUMBER
    referral.patient.save(update_fields=["nhs_number"])
    audit.record(pwp, "referral.view", referral, patient_id=referral.patient_id)
    audit.record(colleague, "patient.view", referral.patient, patient_id=referral.patient_id)
    elsewhere = ReferralFactory(patient__team=outsider.team, care_coordinator=outsider)
    audit.record(outsider, "referral.view", elsewhere, patient_id=elsewhere.patient_id)
    return referral


@pytest.mark.parametrize("persona", ["pwp", "colleague", "supervisor", "outsider"])
def test_only_managers_and_administrators_open_the_audit_trail(client, request, persona, trail):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("audit_export")).status_code == 403


def test_a_manager_sees_their_teams_events_only(client, manager, trail, outsider):
    client.force_login(manager)
    response = client.get(reverse("audit"))
    assert response.status_code == 200
    shown = {e.actor_id for e in response.context["page"]}
    assert outsider.pk not in shown
    assert len(response.context["page"].object_list) >= 2


def test_search_by_nhs_number_keeps_it_out_of_the_url(client, manager, trail):
    client.force_login(manager)
    response = client.post(reverse("audit"), {"lookup-query": "943 476 5919"})
    assert response.status_code == 302
    assert NHS_NUMBER not in response["Location"]
    assert str(trail.patient_id) in response["Location"]
    page = client.get(response["Location"])
    assert {e.patient_id for e in page.context["page"]} == {trail.patient_id}
    searched = AuditEvent.objects.filter(actor=manager, action="audit.search").get()
    assert searched.patient_id == trail.patient_id


def test_search_by_name_lists_matches_without_putting_the_name_in_a_url(client, manager, trail, team):
    twin = PatientFactory(team=team, given_name=trail.patient.given_name, family_name=trail.patient.family_name)
    client.force_login(manager)
    response = client.post(reverse("audit"), {"lookup-query": f"{twin.given_name} {twin.family_name}"})
    assert response.status_code == 200
    assert {p.pk for p in response.context["matches"]} == {twin.pk, trail.patient_id}


def test_unknown_patient_is_a_form_error(client, manager, trail):
    client.force_login(manager)
    response = client.post(reverse("audit"), {"lookup-query": "Nobody Atall"})
    assert "No patient of your service matches" in response.content.decode()


def test_another_teams_patient_cannot_be_searched(client, manager, outsider):
    elsewhere = ReferralFactory(patient__team=outsider.team)
    client.force_login(manager)
    assert client.get(reverse("audit"), {"patient": elsewhere.patient_id}).status_code == 404  # not theirs: no such


def test_filter_by_staff_member(client, manager, trail, pwp, colleague):
    client.force_login(manager)
    response = client.get(reverse("audit"), {"actor": colleague.pk})
    assert {e.actor_id for e in response.context["page"]} == {colleague.pk}


def test_export_is_csv_of_the_filtered_events_and_is_itself_audited(client, manager, trail, pwp):
    client.force_login(manager)
    response = client.get(reverse("audit_export"), {"patient": trail.patient_id})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {r["action code"] for r in rows} >= {"referral.view", "patient.view"}
    assert {r["NHS number"] for r in rows} == {NHS_NUMBER}
    assert all(r["patient id"] == str(trail.patient_id) for r in rows)
    assert AuditEvent.objects.filter(actor=manager, action="audit.export", patient_id=trail.patient_id).exists()


def test_export_cells_cannot_carry_spreadsheet_formulas(client, manager, trail, pwp):
    audit.record(
        pwp, "contact.entered_in_error", trail, patient_id=trail.patient_id, changes={"reason": "=HYPERLINK()"}
    )
    client.force_login(manager)
    body = b"".join(client.get(reverse("audit_export")).streaming_content).decode("utf-8-sig")
    assert "reason: =HYPERLINK" in body  # inside the cell text, not at its start
    for row in csv.reader(io.StringIO(body)):
        assert not any(cell[:1] in "=+-@" and cell for cell in row)


@pytest.mark.parametrize("extra", [0, 60])
def test_the_audit_page_runs_a_fixed_number_of_queries(client, manager, trail, pwp, extra, django_assert_num_queries):
    for _ in range(extra):
        audit.record(pwp, "referral.view", trail, patient_id=trail.patient_id)
    client.force_login(manager)
    client.get(reverse("audit"))  # warm the session
    # session, user, chosen staff member, count, page, team (nav), staff choices (the session is not
    # written again within the minute: common.sessions)
    with django_assert_num_queries(6):  # 7 until the team was read with the user (common.sessions)
        response = client.get(reverse("audit"), {"actor": pwp.pk})
    assert response.status_code == 200


def test_administrators_see_the_trail_and_superusers_see_every_team(client, administrator, trail, outsider):
    client.force_login(administrator)
    assert client.get(reverse("audit")).status_code == 200
    root = StaffFactory(username="root", team=None, is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.get(reverse("audit"), {"actor": outsider.pk})
    assert {e.actor_id for e in response.context["page"]} == {outsider.pk}
