"""Issue 18's remaining diaries: group course sessions hold their facilitators' time (a clash is refused
by the same check and database constraint as any booking, nothing written), enrolled patients are
reminded two days before; leave with cover (pages, withdrawal); the cover sees and records the absent
clinician's day; the working pattern page."""

import datetime as dt
import json
import uuid

import pytest
import responses
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import queries, services
from appointments.models import GROUP, Appointment, AppointmentLength, GroupReminder, Leave, WorkingPattern
from common.models import AuditEvent
from referrals.models import CareContact, Patient, Referral
from stepped_care.models import Role
from tests.conftest import login
from tests.factories import ReferralFactory, StaffFactory
from workshops import services as workshops
from workshops.models import GroupCourse

BASE = "https://notify.test"
API_KEY = f"test_key-{uuid.uuid4()}-{uuid.uuid4()}"


def _at(days, hour, minute=0):
    return timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=days), dt.time(hour, minute))
    )


@pytest.fixture
def cofacilitator(team):
    return StaffFactory(username="hit_group", team=team, role=Role.HI_THERAPIST)


def _course(by, facilitators, *, first_in=2, hour=10, count=3, **extra):
    first = timezone.localdate() + dt.timedelta(days=first_in)
    fields = dict(
        by=by,
        title="Stress control, Bootle library",
        topic="stress",
        step=2,
        facilitators=facilitators,
        capacity=12,
        venue="Bootle library",
        sessions=[(first + dt.timedelta(days=7 * n), dt.time(hour)) for n in range(count)],
    )
    fields.update(extra)
    return workshops.create_course(**fields)


# --- group sessions ---------------------------------------------------------------------------------


def test_a_planned_course_holds_each_timed_session_in_every_facilitators_diary(pwp, cofacilitator, team):
    AppointmentLength.objects.create(team=team, appointment_type=GROUP, minutes=120)
    course = _course(pwp, [pwp, cofacilitator], session_minutes=None, count=3)
    assert course.session_minutes == 120  # the team's group length, unless given
    blocks = Appointment.objects.filter(course_session__course=course)
    assert blocks.count() == 6
    assert {b.clinician_id for b in blocks} == {pwp.pk, cofacilitator.pk}
    first = blocks.order_by("starts_at").first()
    assert first.referral_id is None and first.starts_at == _at(2, 10)
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=120)
    # and the free slots leave that time out (a 10:00 to 12:00 session in a 9 to 17 day)
    day = timezone.localdate() + dt.timedelta(days=2)
    WorkingPattern.objects.create(
        clinician=pwp, team=team, weekday=day.isoweekday(), start=dt.time(9), end=dt.time(13), valid_from=day
    )
    slots = dict(queries.free_slots(team.pk, day, 1, 60, clinician=pwp))[pwp][0][1]
    assert slots == [dt.time(9), dt.time(12)]


def test_a_one_to_one_booking_over_a_group_session_is_refused(pwp, cofacilitator, referral):
    _course(pwp, [pwp, cofacilitator])
    with pytest.raises(services.Clash) as refused:
        services.book(referral=referral, clinician=cofacilitator, starts_at=_at(2, 11), appointment_type="02", by=pwp)
    assert "starts_at" in refused.value.message_dict
    assert not Appointment.objects.filter(referral=referral).exists()


def test_a_course_clashing_with_a_booking_is_refused_naming_the_session_and_nothing_is_written(
    pwp, cofacilitator, referral
):
    services.book(referral=referral, clinician=cofacilitator, starts_at=_at(9, 10, 30), appointment_type="02", by=pwp)
    courses, blocks, events = GroupCourse.objects.count(), Appointment.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        _course(pwp, [pwp, cofacilitator])
    message = refused.value.message_dict["sessions"][0]
    assert "session 2" in message and "nothing was booked" in message
    assert (GroupCourse.objects.count(), Appointment.objects.count(), AuditEvent.objects.count()) == (
        courses,
        blocks,
        events,
    )


def test_book_into_diaries_holds_what_is_not_held_yet_and_refuses_a_clash(client, pwp, cofacilitator, referral):
    course = _course(pwp, [pwp])
    course.facilitators.add(cofacilitator)  # a co-facilitator joins after planning
    services.book(referral=referral, clinician=cofacilitator, starts_at=_at(16, 10), appointment_type="02", by=pwp)
    login(client, pwp)
    page = client.post(reverse("workshops:diaries", args=[course.pk]), follow=True)
    assert "session 3" in page.content.decode()  # the clash, named
    assert Appointment.objects.filter(course_session__course=course, clinician=cofacilitator).count() == 0
    Appointment.objects.filter(referral=referral).update(status="cancelled")
    client.post(reverse("workshops:diaries", args=[course.pk]))
    assert Appointment.objects.filter(course_session__course=course, clinician=cofacilitator).count() == 3
    client.post(reverse("workshops:diaries", args=[course.pk]))  # again: nothing twice
    assert Appointment.objects.filter(course_session__course=course).exclude(status="cancelled").count() == 6
    assert client.get(reverse("workshops:course", args=[course.pk])).content.decode().count("2 of 2 facilitators") == 3


def test_the_api_answers_409_naming_sessions_on_a_clash(api, pwp, cofacilitator, referral):
    services.book(referral=referral, clinician=pwp, starts_at=_at(2, 10), appointment_type="02", by=pwp)
    api.force_authenticate(pwp)
    body = {
        "title": "Worry management",
        "topic": "stress",
        "step": 2,
        "facilitators": [pwp.pk],
        "capacity": 10,
        "delivery": "venue",
        "venue": "Library",
        "session_minutes": 90,
        "schedule": [{"date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(), "time": "10:15"}],
    }
    answer = api.post("/api/v1/courses/", body, format="json")
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "appointment_clash"
    assert "sessions" in answer.json()["errors"]
    assert not GroupCourse.objects.filter(title="Worry management").exists()
    # Book into diaries through the API: a course without a clash is held (200), then a clash is 409
    course = _course(pwp, [pwp], first_in=3)
    course.facilitators.add(cofacilitator)
    services.book(referral=referral, clinician=cofacilitator, starts_at=_at(3, 10), appointment_type="02", by=pwp)
    answer = api.post(f"/api/v1/courses/{course.pk}/diaries/")
    assert answer.status_code == 409 and "sessions" in answer.json()["errors"]


def test_cancelling_a_course_frees_its_sessions_to_come(pwp, cofacilitator, referral):
    course = _course(pwp, [pwp, cofacilitator])
    workshops.set_course_status(course=course, status="cancelled", note="Venue closed", by=pwp)
    assert not Appointment.objects.filter(course_session__course=course, status="booked").exists()
    services.book(referral=referral, clinician=pwp, starts_at=_at(2, 10), appointment_type="02", by=pwp)


def test_a_colleague_may_not_hold_a_course_they_do_not_run(pwp, colleague):
    course = _course(pwp, [pwp], count=1, sessions=[(timezone.localdate() + dt.timedelta(days=2), None)])
    with pytest.raises(PermissionDenied):
        services.hold_course_sessions(course=course, by=colleague)


@pytest.fixture
def real_notify(settings):
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_BASE_URL = BASE
    settings.PUBLIC_URL = "https://tt.example"


@responses.activate
def test_each_enrolled_patient_is_reminded_of_a_group_session_once(
    real_notify, pwp, cofacilitator, django_capture_on_commit_callbacks
):
    course = _course(pwp, [pwp, cofacilitator], first_in=2)
    places = []
    for phone in ("07700 900001", "07700 900002", "07700 900003"):
        referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
        Patient.objects.filter(pk=referral.patient_id).update(phone=phone)
        places.append(workshops.enrol(course=course, referral=referral, by=pwp))
    workshops.withdraw(enrolment=places[2], reason="patient_choice", by=pwp)
    sent = responses.post(f"{BASE}/v2/notifications/sms", json={"id": "n-1", "reference": "r"}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders() == 2  # two facilitators' blocks, one reminder per place
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders() == 0
    assert sent.call_count == 2
    phones = sorted(json.loads(c.request.body)["phone_number"] for c in responses.calls)
    assert phones == ["07700 900001", "07700 900002"]
    assert "group session 1 of Stress control" in json.loads(responses.calls[0].request.body)["personalisation"]["how"]
    assert GroupReminder.objects.count() == 2


def test_my_day_shows_the_group_session_with_its_register(client, pwp, cofacilitator):
    course = _course(pwp, [pwp, cofacilitator], first_in=0, hour=23)
    page = login(client, pwp).get(reverse("appointments:my_day")).content.decode()
    assert course.title in page and "Group session 1" in page
    assert reverse("workshops:register", args=[course.sessions.get(number=1).pk]) in page


# --- leave and cover -------------------------------------------------------------------------------


def test_a_clinician_records_their_leave_with_cover_and_withdraws_it(client, pwp, colleague):
    login(client, pwp)
    start = timezone.localdate() + dt.timedelta(days=10)
    answer = client.post(
        reverse("appointments:leave"),
        {"starts_on": start.isoformat(), "ends_on": (start + dt.timedelta(days=4)).isoformat(), "cover": colleague.pk},
    )
    assert answer.status_code == 302
    leave = Leave.objects.get(clinician=pwp)
    assert leave.cover == colleague
    page = client.get(reverse("appointments:leave")).content.decode()
    assert f'id="leave-{leave.pk}"' in page and "Withdraw" in page
    # the colleague sees it as leave they cover, and may not withdraw it
    colleague_page = login(client, colleague).get(reverse("appointments:leave")).content.decode()
    assert "You cover" in colleague_page and "Withdraw" not in colleague_page
    assert client.post(reverse("appointments:withdraw_leave", args=[leave.pk])).status_code == 403
    login(client, pwp)
    client.post(reverse("appointments:withdraw_leave", args=[leave.pk]))
    assert not Leave.objects.filter(pk=leave.pk).exists()
    assert AuditEvent.objects.filter(action="leave.withdraw").count() == 1


def test_leave_that_overlaps_or_has_a_cover_away_is_refused_naming_the_field(client, pwp, colleague):
    start = timezone.localdate() + dt.timedelta(days=10)
    services.record_leave(clinician=colleague, starts_on=start, ends_on=start + dt.timedelta(days=2), by=colleague)
    services.record_leave(
        clinician=pwp, starts_on=start + dt.timedelta(days=5), ends_on=start + dt.timedelta(days=6), by=pwp
    )
    login(client, pwp)
    answer = client.post(
        reverse("appointments:leave"),
        {"starts_on": start.isoformat(), "ends_on": (start + dt.timedelta(days=1)).isoformat(), "cover": colleague.pk},
    )
    assert answer.status_code == 400
    assert "choose someone else to cover" in answer.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.record_leave(
            clinician=pwp, starts_on=start + dt.timedelta(days=6), ends_on=start + dt.timedelta(days=8), by=pwp
        )
    assert "already on leave" in refused.value.message_dict["starts_on"][0]
    assert Leave.objects.count() == 2


def test_leave_under_way_ends_yesterday_and_ended_leave_stays(pwp, manager):
    today = timezone.localdate()
    under_way = services.record_leave(
        clinician=pwp, starts_on=today - dt.timedelta(days=2), ends_on=today + dt.timedelta(days=3), by=manager
    )
    kept = services.withdraw_leave(leave=under_way, by=manager)
    assert kept.ends_on == today - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.withdraw_leave(leave=kept, by=pwp)
    assert "leave" in refused.value.message_dict


def test_a_manager_records_the_teams_leave_and_an_outsider_cannot_see_it(client, manager, pwp, colleague, outsider):
    login(client, manager)
    start = timezone.localdate() + dt.timedelta(days=3)
    client.post(
        reverse("appointments:leave"),
        {"clinician": pwp.pk, "starts_on": start.isoformat(), "ends_on": start.isoformat(), "cover": colleague.pk},
    )
    leave = Leave.objects.get(clinician=pwp)
    assert str(pwp.get_full_name()) in client.get(reverse("appointments:leave")).content.decode()
    login(client, outsider)
    assert f'id="leave-{leave.pk}"' not in client.get(reverse("appointments:leave")).content.decode()
    assert client.post(reverse("appointments:withdraw_leave", args=[leave.pk])).status_code == 404


def test_the_api_withdraws_leave(api, pwp):
    start = timezone.localdate() + dt.timedelta(days=3)
    leave = services.record_leave(clinician=pwp, starts_on=start, ends_on=start, by=pwp)
    api.force_authenticate(pwp)
    assert api.post(f"/api/v1/leave/{leave.pk}/withdraw/").status_code == 204
    assert not Leave.objects.exists()


@pytest.fixture
def on_leave(pwp, colleague, referral):
    """The pwp is away today; the colleague covers. The pwp's appointment today is at 00:10."""
    today = timezone.localdate()
    appointment = services.book(
        referral=referral, clinician=pwp, starts_at=_at(0, 0, 10), appointment_type="02", by=pwp
    )
    services.record_leave(clinician=pwp, starts_on=today, ends_on=today + dt.timedelta(days=1), cover=colleague, by=pwp)
    return appointment


def test_the_cover_sees_the_absent_clinicians_day_labelled_and_records_its_outcome(client, on_leave, colleague, pwp):
    page = login(client, colleague).get(reverse("appointments:my_day")).content.decode()
    assert f'id="appointment-{on_leave.pk}"' in page
    assert f"Covering for {pwp.get_full_name()}" in page
    client.post(reverse("appointments:record_outcome", args=[on_leave.pk]), {"attendance": "3"})
    contact = CareContact.objects.get(appointment=on_leave)
    assert contact.clinician == colleague  # the cover held the appointment
    assert contact.attendance == "3"


def test_cover_lasts_as_long_as_the_leave(on_leave, colleague, referral):
    assert Referral.objects.on_the_case_of(colleague).filter(pk=referral.pk).exists()
    Leave.objects.update(
        starts_on=timezone.localdate() - dt.timedelta(days=5), ends_on=timezone.localdate() - dt.timedelta(days=1)
    )
    assert not Referral.objects.on_the_case_of(colleague).filter(pk=referral.pk).exists()
    with pytest.raises(PermissionDenied):
        services.record_appointment_outcome(appointment=on_leave, attendance="3", by=colleague)


def test_a_colleague_not_covering_is_not_on_the_case(on_leave, team, referral):
    other = StaffFactory(username="pwp_c", team=team, role=Role.PWP)
    assert not Referral.objects.on_the_case_of(other).filter(pk=referral.pk).exists()
    assert "Covering" not in str(list(queries.my_day(other, timezone.localdate())))


QUERIES_MY_DAY = 3  # as tests/appointments/test_my_day.py: cover adds no query


@pytest.mark.parametrize("rows", [1, 6])
@pytest.mark.parametrize("cover", [False, True])
def test_my_day_with_cover_runs_a_fixed_number_of_queries(
    client, pwp, colleague, rows, cover, django_assert_num_queries
):
    today = timezone.localdate()
    for n in range(rows):
        for clinician in (colleague, pwp):
            referral = ReferralFactory(patient__team=pwp.team, care_coordinator=clinician)
            services.book(
                referral=referral,
                clinician=clinician,
                starts_at=_at(0, 0) + dt.timedelta(minutes=35 * n),
                appointment_type="02",
                by=clinician,
            )
    if cover:
        services.record_leave(clinician=pwp, starts_on=today, ends_on=today, cover=colleague, by=pwp)
    login(client, colleague)
    client.get(reverse("appointments:my_day"))
    with django_assert_num_queries(QUERIES_MY_DAY):
        page = client.get(reverse("appointments:my_day")).content.decode()
    assert page.count('id="appointment-') == rows * (2 if cover else 1)
    assert page.count("Covering for") == (rows if cover else 0)


# --- working pattern page ---------------------------------------------------------------------------


def test_a_clinician_adds_their_working_pattern_on_its_page(client, pwp):
    login(client, pwp)
    answer = client.post(
        reverse("appointments:working_patterns"),
        {
            "weekday": 3,
            "start": "13:30",
            "end": "17:00",
            "location": "remote",
            "valid_from": timezone.localdate().isoformat(),
        },
    )
    assert answer.status_code == 302
    pattern = WorkingPattern.objects.get(clinician=pwp)
    assert (pattern.weekday, pattern.location) == (3, "remote")
    assert "Wednesday" in client.get(reverse("appointments:working_patterns")).content.decode()
    bad = client.post(
        reverse("appointments:working_patterns"),
        {
            "weekday": 3,
            "start": "17:00",
            "end": "13:30",
            "location": "room",
            "valid_from": timezone.localdate().isoformat(),
        },
    )
    assert bad.status_code == 400 and "The end must come after the start." in bad.content.decode()
    assert WorkingPattern.objects.count() == 1


def test_a_working_pattern_ends_on_its_page_and_through_the_api(client, api, pwp, colleague, team):
    today = timezone.localdate()
    pattern = services.add_working_pattern(
        clinician=pwp, weekday=today.isoweekday(), start=dt.time(9), end=dt.time(12), valid_from=today, by=pwp
    )
    login(client, colleague)
    assert (
        client.post(reverse("appointments:end_pattern", args=[pattern.pk]), {"valid_until": today}).status_code == 403
    )
    login(client, pwp)
    client.post(reverse("appointments:end_pattern", args=[pattern.pk]), {"valid_until": today + dt.timedelta(days=6)})
    pattern.refresh_from_db()
    assert pattern.valid_until == today + dt.timedelta(days=6)
    next_week = today + dt.timedelta(days=7)
    assert dict(queries.free_slots(team.pk, today, 1, 60, clinician=pwp))[pwp][0][1] == [
        dt.time(9),
        dt.time(10),
        dt.time(11),
    ]
    assert dict(queries.free_slots(team.pk, next_week, 1, 60, clinician=pwp))[pwp][0][1] == []
    api.force_authenticate(pwp)
    answer = api.post(
        f"/api/v1/working-patterns/{pattern.pk}/end/", {"valid_until": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert answer.status_code == 400 and "valid_until" in answer.json()["errors"]
    assert (
        api.post(f"/api/v1/working-patterns/{pattern.pk}/end/", {"valid_until": today.isoformat()}).status_code == 200
    )
    pattern.refresh_from_db()
    assert pattern.valid_until == today


def test_the_dashboard_counts_leave_ahead_and_without_cover(client, manager, pwp, colleague, outsider):
    today = timezone.localdate()
    services.record_leave(clinician=pwp, starts_on=today, ends_on=today + dt.timedelta(days=1), cover=colleague, by=pwp)
    services.record_leave(
        clinician=colleague,
        starts_on=today + dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=12),
        by=colleague,
    )
    services.record_leave(
        clinician=pwp, starts_on=today + dt.timedelta(days=20), ends_on=today + dt.timedelta(days=21), by=pwp
    )  # beyond two weeks
    services.record_leave(clinician=outsider, starts_on=today, ends_on=today, by=outsider)  # another team
    figures = login(client, manager).get("/api/v1/dashboard/").json()["diaries"]
    assert (figures["leave_periods"], figures["leave_without_cover"]) == (2, 1)
    html = client.get("/dashboard/").content.decode()
    assert 'id="diary-leave-uncovered">1<' in html


def test_the_plan_a_course_page_shows_the_clash_and_plans_nothing(client, pwp, referral):
    services.book(referral=referral, clinician=pwp, starts_at=_at(3, 18), appointment_type="02", by=pwp)
    login(client, pwp)
    page = client.get(reverse("workshops:create")).content.decode()
    assert 'name="session_minutes" value="90"' in page  # the default group length (no team length set)
    answer = client.post(
        reverse("workshops:create"),
        {
            "title": "Worry management",
            "topic": "stress",
            "step": 2,
            "facilitators": [pwp.pk],
            "capacity": 10,
            "delivery": "venue",
            "venue": "Library",
            "first_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "time": "18:15",
            "session_count": 2,
            "every_days": 7,
            "session_minutes": 60,
        },
    )
    assert answer.status_code == 200
    assert "already has an appointment on" in answer.content.decode()
    assert not GroupCourse.objects.exists()


# --- list pages: a fixed number of queries --------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_leave_and_working_pattern_pages_run_a_fixed_number_of_queries(client, team, manager, pwp, colleague):
    """A manager's team pages with one row and with many: the same number of queries (no query per row,
    whether the manager may withdraw each leave included)."""
    login(client, manager)
    first = dt.date(2027, 3, 1)
    Leave.objects.create(clinician=pwp, starts_on=first, ends_on=first, cover=colleague)
    WorkingPattern.objects.create(
        clinician=pwp, team=team, weekday=1, start=dt.time(9), end=dt.time(17), valid_from=first
    )
    one = (_queries(client, reverse("appointments:leave")), _queries(client, reverse("appointments:working_patterns")))
    others = [StaffFactory(team=team, role=Role.PWP) for _ in range(5)]
    for n, person in enumerate([colleague, *others]):
        Leave.objects.create(
            clinician=person, starts_on=first + dt.timedelta(days=n), ends_on=first + dt.timedelta(days=n + 2)
        )
        for day in range(1, 6):
            WorkingPattern.objects.create(
                clinician=person, team=team, weekday=day, start=dt.time(9), end=dt.time(17), valid_from=first
            )
    many = (_queries(client, reverse("appointments:leave")), _queries(client, reverse("appointments:working_patterns")))
    assert Leave.objects.count() == 7 and WorkingPattern.objects.count() == 31
    assert many == one
