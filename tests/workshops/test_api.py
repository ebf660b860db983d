"""API for courses, enrolments and registers: the same services as the pages, scoped the same way."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referrals.models import CareContact
from tests.factories import ReferralFactory
from workshops import services
from workshops.models import Enrolment, RegisterEntry

TODAY = timezone.localdate
PHQ = [2, 2, 2, 1, 1, 1, 1, 1, 0]
GAD = [2, 2, 1, 1, 1, 1, 1]


@pytest.mark.django_db
def test_plan_a_course(api, pwp, cofacilitator):
    api.force_authenticate(pwp)
    first = TODAY() + dt.timedelta(days=7)
    response = api.post(
        "/api/v1/courses/",
        {
            "title": "Panic and anxiety, online",
            "topic": "panic_anxiety",
            "step": 2,
            "facilitators": [pwp.pk, cofacilitator.pk],
            "capacity": 10,
            "delivery": "online",
            "schedule": [{"date": (first + dt.timedelta(days=7 * n)).isoformat(), "time": "18:30"} for n in range(3)],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.json()
    assert [s["number"] for s in body["sessions"]] == [1, 2, 3]
    assert (body["enrolled"], body["places_left"], body["fill_rate"], body["attendance_rate"]) == (0, 10, 0, None)
    assert body["topic_display"] == "Panic and anxiety"
    assert body["status"] == "planned"


@pytest.mark.django_db
def test_a_course_with_a_stranger_as_facilitator_is_refused(api, pwp, outsider):
    api.force_authenticate(pwp)
    response = api.post(
        "/api/v1/courses/",
        {
            "title": "Stress",
            "topic": "stress",
            "step": 2,
            "facilitators": [pwp.pk, outsider.pk],
            "capacity": 8,
            "venue": "Library",
            "schedule": [{"date": TODAY().isoformat()}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "facilitators" in response.json()["errors"]


@pytest.mark.django_db
def test_courses_are_scoped(api, course, colleague, outsider, manager):
    for user, visible in ((manager, True), (colleague, False), (outsider, False)):
        api.force_authenticate(user)
        assert api.get(f"/api/v1/courses/{course.pk}/").status_code == (200 if visible else 404)
        assert len(api.get("/api/v1/courses/").json()["results"]) == (1 if visible else 0)


@pytest.mark.django_db
def test_enrol_and_withdraw(api, make_course, pwp, outsider):
    course = make_course(capacity=1)
    api.force_authenticate(pwp)
    first = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    response = api.post("/api/v1/enrolments/", {"course": course.pk, "referral": str(first.pk)}, format="json")
    assert response.status_code == 201, response.data
    enrolment_id = response.json()["id"]
    second = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    response = api.post("/api/v1/enrolments/", {"course": course.pk, "referral": str(second.pk)}, format="json")
    assert response.status_code == 400
    assert "full" in response.json()["errors"]["course"][0]
    response = api.post(f"/api/v1/enrolments/{enrolment_id}/withdraw/", {"reason": "other"}, format="json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    response = api.post(
        f"/api/v1/enrolments/{enrolment_id}/withdraw/", {"reason": "cannot_attend", "note": "Shifts"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["withdrawal_reason_display"]) == (
        False,
        "Cannot attend the times or place",
    )
    # An outsider cannot enrol anyone on this course, nor see the enrolment.
    api.force_authenticate(outsider)
    theirs = ReferralFactory(patient__team=outsider.team, care_coordinator=outsider)
    response = api.post("/api/v1/enrolments/", {"course": course.pk, "referral": str(theirs.pk)}, format="json")
    assert response.status_code == 400 and "course" in response.json()["errors"]
    assert api.get(f"/api/v1/enrolments/{enrolment_id}/").status_code == 404


@pytest.mark.django_db
def test_take_a_register_by_api(api, course, members, pwp):
    session = course.sessions.get(number=1)
    api.force_authenticate(pwp)
    register = api.get(f"/api/v1/registers/{session.pk}/").json()
    assert [row["entry"] for row in register["rows"]] == [None, None, None]
    rows = [{"enrolment": row["enrolment"], "attendance": "5", "phq9": PHQ, "gad7": GAD} for row in register["rows"]]
    rows[1]["phq9"] = [2, 2, 2, 1, 1, 1, 1, 1, 5]
    rows[2] = {"enrolment": rows[2]["enrolment"], "attendance": "3", "gad7": GAD}
    body = {"session": session.pk, "rows": rows}
    response = api.post("/api/v1/registers/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["rows"]
    assert errors[0] == {}
    assert errors[1] == {"phq9": ["PHQ-9 item 9 must be between 0 and 3 (got 5)."]}
    assert "attended" in errors[2]["gad7"][0]
    assert not CareContact.objects.exists()

    rows[1]["phq9"] = PHQ
    rows[2].pop("gad7")
    response = api.post("/api/v1/registers/", body, format="json")
    assert response.status_code == 201, response.json()
    recorded = response.json()["rows"]
    assert {r["entry"]["attendance"] for r in recorded} == {"5", "3"}
    assert {(r["entry"]["group_participants"], r["entry"]["group_facilitators"]) for r in recorded} == {(2, 2)}
    assert {r["entry"]["phq9_total"] for r in recorded} == {11, None}
    assert set(CareContact.objects.values_list("therapy_mode", flat=True)) == {"3"}

    # Taking it again is refused; a correction opens the row again.
    assert api.post("/api/v1/registers/", body, format="json").status_code == 400
    entry = RegisterEntry.objects.first()
    response = api.post(
        f"/api/v1/registers/{session.pk}/entered-in-error/", {"entry": entry.pk, "reason": "Wrong row"}, format="json"
    )
    assert response.status_code == 200
    assert sum(1 for r in response.json()["rows"] if r["entry"] is None) == 1


@pytest.mark.django_db
def test_registers_are_scoped(api, course, members, colleague, outsider):
    session = course.sessions.get(number=1)
    for user in (colleague, outsider):
        api.force_authenticate(user)
        assert api.get(f"/api/v1/registers/{session.pk}/").status_code == 404
        response = api.post(
            "/api/v1/registers/",
            {"session": session.pk, "rows": [{"enrolment": m.pk, "attendance": "5"} for m in members]},
            format="json",
        )
        assert response.status_code == 400 and "session" in response.json()["errors"]
    assert not CareContact.objects.exists()


@pytest.mark.django_db
def test_lists_run_a_fixed_number_of_queries(api, make_course, pwp):
    api.force_authenticate(pwp)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx)

    def grow():
        course = make_course()
        for _ in range(3):
            services.enrol(
                course=course, referral=ReferralFactory(patient__team=pwp.team, care_coordinator=pwp), by=pwp
            )

    grow()
    before = [count(url) for url in ("/api/v1/courses/", "/api/v1/enrolments/", "/api/v1/registers/")]
    for _ in range(4):
        grow()
    after = [count(url) for url in ("/api/v1/courses/", "/api/v1/enrolments/", "/api/v1/registers/")]
    assert before == after
    assert Enrolment.objects.count() == 15
