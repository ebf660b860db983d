"""Workshop services: courses, enrolment under capacity, withdrawal, and the register that turns
attendance into group care contacts through log_contact, all rows or none."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.models import AuditEvent
from outcomes.models import OutcomeSummary, QuestionnaireResponse
from referrals.models import CareContact
from referrals.services import mark_contact_in_error
from stepped_care.models import Role
from stepped_care.services import discharge
from tests.factories import ReferralFactory, StaffFactory
from workshops import services
from workshops.models import Enrolment, GroupCourse, RegisterEntry
from workshops.queries import course_waits

PHQ = [2, 2, 2, 1, 1, 1, 1, 1, 0]  # 11
GAD = [2, 2, 1, 1, 1, 1, 1]  # 9
TODAY = timezone.localdate


def counts():
    return CareContact.objects.count(), QuestionnaireResponse.objects.count(), RegisterEntry.objects.count()


def referral_of(team, coordinator=None, **kw):
    return ReferralFactory(patient__team=team, care_coordinator=coordinator, **kw)


# Courses -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_course_is_planned_with_its_schedule_in_date_order(make_course, pwp, cofacilitator):
    first = TODAY() + dt.timedelta(days=14)
    course = make_course(first=first, count=4)
    assert list(course.sessions.values_list("number", "date")) == [
        (n + 1, first + dt.timedelta(days=7 * n)) for n in range(4)
    ]
    assert set(course.facilitators.all()) == {pwp, cofacilitator}
    assert course.status == "planned"
    assert AuditEvent.objects.filter(action="course.create", object_id=str(course.pk)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"step": 4}, "step"),
        ({"topic": "yoga"}, "topic"),
        ({"capacity": 0}, "capacity"),
        ({"venue": ""}, "venue"),
        ({"sessions": []}, "sessions"),
        ({"session_minutes": 0}, "session_minutes"),
        ({"facilitators": "outsider"}, "facilitators"),
        ({"facilitators": "manager"}, "facilitators"),
        ({"facilitators": "colleague_only"}, "facilitators"),
    ],
)
def test_a_course_needs_its_facts(make_course, outsider, manager, colleague, change, field):
    people = {"outsider": [outsider], "manager": [manager], "colleague_only": [colleague]}
    if "facilitators" in change:
        change["facilitators"] = people[change["facilitators"]]
    if change.get("sessions") == []:
        change["count"] = 0
        change.pop("sessions")
    with pytest.raises(ValidationError) as err:
        make_course(**change)
    assert field in err.value.message_dict
    assert not GroupCourse.objects.exists()


@pytest.mark.django_db
def test_a_manager_plans_a_course_for_clinicians(make_course, manager, colleague):
    course = make_course(by=manager, facilitators=[colleague], delivery="online", venue="")
    assert course.place == "Online (video)"


@pytest.mark.django_db
def test_the_database_refuses_a_course_at_step_4_or_a_venue_course_without_a_venue(course):
    for change in ({"step": 4}, {"venue": ""}, {"capacity": 0}):
        with pytest.raises(IntegrityError), transaction.atomic():
            GroupCourse.objects.filter(pk=course.pk).update(**change)


# Enrolment ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_capacity_is_enforced(make_course, pwp):
    course = make_course(capacity=2)
    for _ in range(2):
        services.enrol(course=course, referral=referral_of(pwp.team, pwp), by=pwp)
    with pytest.raises(ValidationError) as err:
        services.enrol(course=course, referral=referral_of(pwp.team, pwp), by=pwp)
    assert "full (2 of 2 places taken)" in err.value.message_dict["course"][0]
    # A withdrawal frees the place.
    services.withdraw(enrolment=course.enrolments.first(), reason="cannot_attend", by=pwp)
    services.enrol(course=course, referral=referral_of(pwp.team, pwp), by=pwp)
    assert Enrolment.objects.active().filter(course=course).count() == 2


@pytest.mark.django_db
def test_a_discharged_referral_frees_its_place_and_cannot_be_enrolled(make_course, pwp):
    course = make_course(capacity=1)
    first = referral_of(pwp.team, pwp)
    services.enrol(course=course, referral=first, by=pwp)
    discharge(referral=first, end_code="50", by=pwp)  # never seen
    services.enrol(course=course, referral=referral_of(pwp.team, pwp), by=pwp)
    first.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        services.enrol(course=make_course(), referral=first, by=pwp)
    assert "discharged" in err.value.message_dict["referral"][0]


@pytest.mark.django_db
def test_one_active_enrolment_per_course_and_referral(course, referral, pwp):
    enrolment = services.enrol(course=course, referral=referral, by=pwp)
    with pytest.raises(ValidationError) as err:
        services.enrol(course=course, referral=referral, by=pwp)
    assert "already enrolled" in err.value.message_dict["referral"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(course=course, referral=referral, enrolled_on=TODAY(), enrolled_by=pwp)
    # After withdrawal the referral may enrol again; the old row stays.
    services.withdraw(enrolment=enrolment, reason="patient_choice", by=pwp)
    services.enrol(course=course, referral=referral, by=pwp)
    assert Enrolment.objects.filter(course=course, referral=referral).count() == 2


@pytest.mark.django_db
def test_only_the_courses_team_can_enrol(course, make_course, outsider, pwp):
    theirs = referral_of(outsider.team, outsider)
    with pytest.raises(PermissionDenied):  # another team's referral: not one the pwp may book
        services.enrol(course=course, referral=theirs, by=pwp)
    their_course = make_course(by=outsider, facilitators=[outsider], team=outsider.team)
    with pytest.raises(ValidationError) as err:  # the pwp's own referral, on another team's course
        services.enrol(course=their_course, referral=referral_of(pwp.team, pwp), by=pwp)
    assert "course's team" in err.value.message_dict["referral"][0]


@pytest.mark.django_db
def test_withdrawal_needs_a_reason_and_other_needs_a_note(members, pwp):
    enrolment = members[0]
    for kwargs, field in (
        ({"reason": ""}, "reason"),
        ({"reason": "other"}, "note"),
        ({"reason": "patient_choice", "on": TODAY() - dt.timedelta(days=100)}, "withdrawn_on"),
        ({"reason": "patient_choice", "on": TODAY() + dt.timedelta(days=1)}, "withdrawn_on"),
    ):
        with pytest.raises(ValidationError) as err:
            services.withdraw(enrolment=enrolment, by=pwp, **kwargs)
        assert field in err.value.message_dict
    services.withdraw(enrolment=enrolment, reason="other", note="Moved away", by=pwp)
    enrolment.refresh_from_db()
    assert (enrolment.withdrawal_reason, enrolment.withdrawal_note, enrolment.withdrawn_by) == (
        "other",
        "Moved away",
        pwp,
    )
    with pytest.raises(ValidationError):
        services.withdraw(enrolment=enrolment, reason="other", note="again", by=pwp)


@pytest.mark.django_db
def test_cancelling_a_course_withdraws_everyone(course, members, pwp):
    services.set_course_status(course=course, status="cancelled", note="Venue closed", by=pwp)
    assert set(Enrolment.objects.filter(course=course).values_list("withdrawal_reason", flat=True)) == {
        "course_cancelled"
    }
    with pytest.raises(ValidationError):
        services.set_course_status(course=course, status="running", by=pwp)


# The register ------------------------------------------------------------------------------------


def rows_for(members, **overrides):
    rows = [{"enrolment": m, "attendance": "5", "phq9": PHQ, "gad7": GAD, "risk_note": ""} for m in members]
    for index, change in overrides.items():
        rows[int(index.lstrip("r"))].update(change)
    return rows


@pytest.mark.django_db
def test_the_register_makes_one_group_contact_per_patient(course, members, pwp, cofacilitator):
    session = course.sessions.get(number=1)
    rows = rows_for(members, r2={"attendance": "3", "phq9": None, "gad7": None})
    entries = services.take_register(session=session, rows=rows, by=pwp)
    assert len(entries) == 3
    contacts = CareContact.objects.filter(register_entry__session=session).order_by("referral__patient__family_name")
    assert [c.attendance for c in contacts] == ["5", "5", "3"]
    for contact in contacts:
        assert contact.therapy_mode == "3"
        assert contact.appointment_type == "02"
        assert contact.group_participants == 2  # two attended
        assert contact.group_facilitators == 2
        assert contact.clinician == pwp
        assert contact.mechanism == "01"
        assert contact.date == session.date
        assert contact.time == session.time
        assert contact.duration_minutes == course.session_minutes
    attended = contacts[0]
    assert sorted(attended.questionnaires.values_list("measure", "total")) == [("GAD7", 9), ("PHQ9", 11)]
    referral = attended.referral
    referral.refresh_from_db()
    assert referral.status == "in_treatment"
    summary = OutcomeSummary.objects.get(referral=referral)
    assert (summary.phq9_first, summary.attended_treatment_contacts) == (11, 1)
    course.refresh_from_db()
    assert course.status == "running"
    assert AuditEvent.objects.filter(action="register.take", object_id=str(session.pk)).count() == 1
    assert AuditEvent.objects.filter(action="contact.create").count() == 3


@pytest.mark.django_db
def test_one_bad_row_saves_nothing_and_every_bad_row_is_named(course, members, pwp):
    session = course.sessions.get(number=1)
    before = counts()
    rows = rows_for(
        members,
        r0={"phq9": [2, 2, 2, 4, 1, 1, 1, 1, 0]},
        r2={"phq9": [0] * 8 + [2]},  # item 9 above 0 with no risk note
    )
    with pytest.raises(services.RegisterError) as err:
        services.take_register(session=session, rows=rows, by=pwp)
    assert err.value.rows[0] == {"phq9": ["PHQ-9 item 4 must be between 0 and 3 (got 4)."]}
    assert err.value.rows[1] == {}
    assert "risk_note" in err.value.rows[2]
    assert counts() == before
    course.refresh_from_db()
    assert course.status == "planned"


@pytest.mark.django_db
def test_a_refusal_from_log_contact_is_reported_on_its_row_and_saves_nothing(course, members, pwp):
    """log_contact's own checks (here: a session before the referral was received) roll back every row."""
    session = course.sessions.get(number=1)
    late = members[1].referral
    type(late).objects.filter(pk=late.pk).update(received_on=session.date + dt.timedelta(days=1))
    type(members[1]).objects.filter(pk=members[1].pk).update(enrolled_on=session.date - dt.timedelta(days=1))
    before = counts()
    with pytest.raises(services.RegisterError) as err:
        services.take_register(session=session, rows=rows_for(members), by=pwp)
    assert err.value.rows[0] == {} and err.value.rows[2] == {}
    assert "before the referral was received" in err.value.rows[1]["date"][0]
    assert counts() == before


@pytest.mark.django_db
def test_every_enrolled_patient_must_be_on_the_register(course, members, pwp):
    session = course.sessions.get(number=1)
    with pytest.raises(services.RegisterError) as err:
        services.take_register(session=session, rows=rows_for(members[:2]), by=pwp)
    assert "1 missing" in err.value.errors[0]
    with pytest.raises(services.RegisterError) as err:
        services.take_register(session=session, rows=rows_for(members + members[:1]), by=pwp)
    assert "twice" in err.value.rows[3]["enrolment"][0]


@pytest.mark.django_db
def test_a_future_session_register_cannot_be_taken(course, members, pwp):
    with pytest.raises(services.RegisterError) as err:
        services.take_register(session=course.sessions.get(number=3), rows=rows_for(members), by=pwp)
    assert "take its register on or after that day" in err.value.errors[0]


@pytest.mark.django_db
def test_register_rows_follow_enrolment_and_withdrawal_dates(course, members, pwp):
    session = course.sessions.get(number=1)
    late = services.enrol(course=course, referral=referral_of(pwp.team, pwp), by=pwp)  # enrolled today
    services.withdraw(enrolment=members[0], reason="patient_choice", by=pwp, on=session.date)
    due = list(services.register_rows(session))
    assert members[0] not in due and late not in due
    assert set(due) == {members[1], members[2]}
    assert late in services.register_rows(course.sessions.get(number=2))


@pytest.mark.django_db
def test_the_register_cannot_be_taken_twice_but_a_corrected_row_opens_again(course, members, pwp):
    session = course.sessions.get(number=1)
    entries = services.take_register(session=session, rows=rows_for(members), by=pwp)
    with pytest.raises(services.RegisterError):
        services.take_register(session=session, rows=rows_for(members), by=pwp)
    with pytest.raises(ValidationError):
        services.correct_entry(entry=entries[0], reason=" ", by=pwp)
    services.correct_entry(entry=entries[0], reason="Wrong patient ticked", by=pwp)
    contact = CareContact.objects.get(pk=entries[0].contact_id)
    assert contact.entered_in_error
    assert not contact.questionnaires.filter(entered_in_error=False).exists()
    assert list(services.register_rows(session)) == [entries[0].enrolment]
    services.take_register(
        session=session,
        rows=rows_for([entries[0].enrolment], r0={"attendance": "3", "phq9": None, "gad7": None}),
        by=pwp,
    )
    assert RegisterEntry.objects.valid().filter(session=session).count() == 3


@pytest.mark.django_db
def test_a_contact_corrected_on_the_referral_page_also_opens_its_row(course, members, pwp):
    session = course.sessions.get(number=1)
    entries = services.take_register(session=session, rows=rows_for(members), by=pwp)
    mark_contact_in_error(contact=entries[1].contact, reason="Duplicate", by=pwp)
    assert list(services.register_rows(session)) == [entries[1].enrolment]
    services.take_register(session=session, rows=rows_for([entries[1].enrolment]), by=pwp)
    assert RegisterEntry.objects.filter(session=session, entered_in_error=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["administrator", "manager", "colleague"])
def test_only_the_facilitators_take_the_register(course, members, request, who):
    """A register records attendance and scores as care contacts: recording care is the facilitators'
    (clinicians on the case), not an administrator's or a manager's, nor another clinician's."""
    before = counts()
    with pytest.raises(PermissionDenied):
        services.take_register(
            session=course.sessions.get(number=1), rows=rows_for(members), by=request.getfixturevalue(who)
        )
    assert counts() == before


@pytest.mark.django_db
def test_the_cofacilitator_taking_the_register_is_the_contacts_clinician(course, members, cofacilitator):
    entries = services.take_register(session=course.sessions.get(number=1), rows=rows_for(members), by=cofacilitator)
    assert {e.contact.clinician for e in entries} == {cofacilitator}
    assert {e.contact.created_by for e in entries} == {cofacilitator}


@pytest.mark.django_db
def test_online_courses_record_video_contacts(make_course, pwp):
    course = make_course(delivery="online", venue="")
    enrolment = services.enrol(
        course=course, referral=referral_of(pwp.team, pwp), by=pwp, on=TODAY() - dt.timedelta(days=10)
    )
    entries = services.take_register(
        session=course.sessions.get(number=1), rows=[{"enrolment": enrolment, "attendance": "6"}], by=pwp
    )
    assert entries[0].contact.mechanism == "11"
    assert entries[0].contact.group_participants == 1


# Figures and waits -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_course_figures(course, members, pwp):
    services.take_register(
        session=course.sessions.get(number=1),
        rows=rows_for(members, r2={"attendance": "3", "phq9": None, "gad7": None}),
        by=pwp,
    )
    services.take_register(
        session=course.sessions.get(number=2),
        rows=rows_for(members, r1={"attendance": "4", "phq9": None, "gad7": None}),
        by=pwp,
    )
    row = GroupCourse.objects.with_stats(TODAY()).get(pk=course.pk)
    assert (row.enrolled, row.session_count, row.sessions_held, row.registers_taken) == (3, 4, 2, 2)
    # 4 attended of 5 places offered (the provider-cancelled place is left out).
    assert (row.attended_entries, row.offered_entries) == (4, 5)
    assert row.next_session_on == TODAY()
    assert row.starts_on == TODAY() - dt.timedelta(days=7)


@pytest.mark.django_db
def test_waiting_for_a_course_that_has_not_started(make_course, pwp):
    later = make_course(first=TODAY() + dt.timedelta(days=10))
    started = make_course()
    waiting = referral_of(pwp.team, pwp)
    going = referral_of(pwp.team, pwp)
    services.enrol(course=later, referral=waiting, by=pwp)
    services.enrol(course=started, referral=going, by=pwp)
    assert list(Enrolment.objects.waiting(TODAY()).values_list("referral_id", flat=True)) == [waiting.pk]
    assert course_waits([waiting.pk, going.pk], TODAY()) == {waiting.pk: (TODAY(), TODAY() + dt.timedelta(days=10))}
    # On the first session's day the wait is over.
    assert course_waits([waiting.pk], TODAY() + dt.timedelta(days=10)) == {}


@pytest.mark.django_db
def test_course_visibility(course, pwp, cofacilitator, colleague, manager, outsider, team):
    other_manager = StaffFactory(username="mgr_x", team=outsider.team, role=Role.MANAGER)
    assert set(GroupCourse.objects.visible_to(pwp)) == {course}
    assert set(GroupCourse.objects.visible_to(cofacilitator)) == {course}
    assert set(GroupCourse.objects.visible_to(manager)) == {course}
    assert not GroupCourse.objects.visible_to(colleague).exists()
    assert not GroupCourse.objects.visible_to(outsider).exists()
    assert not GroupCourse.objects.visible_to(other_manager).exists()
    # A colleague may still offer the team's open courses to their own patients.
    assert set(GroupCourse.objects.offerable_to(colleague)) == {course}
    assert not GroupCourse.objects.offerable_to(outsider).exists()
