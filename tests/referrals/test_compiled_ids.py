"""The clinician's id sets (what they see, what they are on the case of, their caseload) are compiled by
the ORM once per process (common.scoping.user_ids_sql) and given each user's id and team: they must
find exactly what the querysets they were compiled from find, for every user, in any order."""

import datetime as dt
from datetime import UTC, datetime, timedelta

import pytest

from appointments.models import Appointment
from common import scoping
from common.scoping import InIds
from referrals.models import CareContact, Referral
from stepped_care.models import Role
from tests.factories import ReferralFactory, RelationshipFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(team, other_team, pwp, colleague):
    """Referrals each reached by one way of being on the case (or not), in two teams."""
    hit = StaffFactory(username="hit_a", team=team, role=Role.HI_THERAPIST, is_supervisor=True)
    RelationshipFactory(supervisor=hit, supervisee=pwp)
    stranger = StaffFactory(username="pwp_y", team=other_team, role=Role.PWP)
    mine = ReferralFactory(patient__team=team, care_coordinator=pwp, status="in_treatment")
    ReferralFactory(
        patient__team=team, care_coordinator=pwp, status="discharged", discharged_on=dt.date.today(), end_code="50"
    )
    treated = ReferralFactory(patient__team=team, care_coordinator=colleague, status="in_treatment")
    CareContact.objects.create(
        referral=treated, clinician=pwp, created_by=pwp, date=dt.date.today(), appointment_type="02", attendance="5"
    )
    booked = ReferralFactory(patient__team=team, care_coordinator=colleague, status="in_treatment")
    start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    Appointment.objects.create(
        referral=booked,
        clinician=pwp,
        appointment_type="02",
        created_by=pwp,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    ReferralFactory(patient__team=team, status="awaiting_assessment")  # the team's unallocated waiting list
    ReferralFactory(patient__team=other_team, status="awaiting_assessment")  # another team's
    ReferralFactory(patient__team=other_team, care_coordinator=stranger, status="in_treatment")
    assert mine.pk
    return [pwp, colleague, hit, stranger]


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def by_the_orm(user):
    """The same three sets, the querysets built and compiled afresh (no compiled SQL)."""
    qs = Referral.objects.all()
    return (
        ids(Referral.objects.filter(InIds("pk", qs._visible_ids(user)))),
        ids(Referral.objects.filter(InIds("pk", qs._case_ids(user)))),
        ids(Referral.objects.exclude(status="discharged").filter(InIds("pk", qs._caseload_ids(user)))),
    )


def compiled(user):
    return (
        ids(Referral.objects.visible_to(user)),
        ids(Referral.objects.on_the_case_of(user)),
        ids(Referral.objects.caseload_of(user)),
    )


@pytest.mark.parametrize("first", [0, 1, 2, 3])
def test_every_users_sets_are_those_of_the_querysets_whoever_compiled_them_first(scene, first):
    scoping._compiled.clear()
    users = scene[first:] + scene[:first]
    for user in users + users:  # the second round reuses what the first compiled
        assert compiled(user) == by_the_orm(user), user.username
    pwp, colleague, hit, stranger = scene
    seen, on_the_case, caseload = compiled(pwp)
    # caseload: coordinates, has treated; on the case: those, the booked one, the waiting one, the discharged one
    assert len(caseload) == 2 and len(on_the_case) == 5 and seen == on_the_case
    coordinated = ids(Referral.objects.filter(care_coordinator=pwp))
    assert compiled(hit)[0] >= coordinated and not compiled(hit)[2]  # sees the supervisee's cases, carries none
    assert len(compiled(stranger)[2]) == 1


def test_the_compiled_sql_is_the_querysets_and_carries_no_stand_in(scene):
    pwp = scene[0]
    scoping._compiled.clear()
    raw = scoping.user_ids_sql("test.caseload", Referral.objects.all()._caseload_ids, pwp)
    sql, params = raw.sql, raw.params
    assert scoping._STAND_IN_PK not in params and scoping._STAND_IN_TEAM not in params
    assert params.count(pwp.pk) == 2  # coordinates, has treated
    orm_sql, orm_params = Referral.objects.all()._caseload_ids(pwp).query.sql_with_params()
    assert (sql, tuple(params)) == (orm_sql, tuple(orm_params))


def test_rows_compiled_once_are_the_querysets_rows_for_every_record(pwp):
    from outcomes import services as outcome_services
    from referrals.services import log_contact

    referrals = [ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, status="in_treatment") for _ in range(3)]
    for n, referral in enumerate(referrals[:2]):
        for days in range(n + 2):
            log_contact(
                referral=referral,
                by=pwp,
                date=dt.date.today() - dt.timedelta(days=7 * days),
                appointment_type="02",
                attendance="5",
                phq9=[2, 2, 2, 1, 1, 1, 1, 1, n],
                gad7=[1, 1, 1, 1, 1, 1, days],
                risk_note="Reviewed: no plan." if n else "",
            )
    builds = {
        "test.contacts": outcome_services._contact_rows,
        "test.scores": outcome_services._score_rows,
        "test.problems": outcome_services._problem_rows,
    }
    scoping._compiled_rows.clear()
    for referral in referrals + referrals:  # the second round reuses what the first compiled
        for key, build in builds.items():
            expected = list(build([referral.pk]))
            assert scoping.rows_of(key, lambda pk, build=build: build([pk]), referral.pk) == expected, key
            assert scoping.rows_of(key, lambda pk, build=build: build([pk]), str(referral.pk)) == expected, key
    found = scoping.rows_of("test.scores", lambda pk: outcome_services._score_rows([pk]), referrals[1].pk)
    assert len(found) == 6 and {row[4] for row in found if row[1] == "PHQ9"} == {1}  # item 9, from the JSON


def test_the_timelines_answers_are_what_the_questionnaire_instances_say(pwp):
    from referrals import queries
    from referrals.services import log_contact

    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, status="in_treatment")
    assert queries.timeline(referral) == []
    for days, item9 in ((21, 0), (14, 2), (7, 1)):
        log_contact(
            referral=referral,
            by=pwp,
            date=dt.date.today() - dt.timedelta(days=days),
            appointment_type="02",
            attendance="5",
            phq9=[2, 2, 2, 1, 1, 1, 1, 1, item9],
            gad7=[1, 1, 1, 1, 1, 1, 0],
            wsas=[2, 2, 2, 2, 2],
            risk_note="Reviewed: no plan." if item9 else "",
        )
    contacts = queries.timeline(referral)
    expected = {
        contact.pk: [(q.measure, q.total, q.entered_in_error, q.item_9) for q in contact.questionnaires.all()]
        for contact in referral.contacts.prefetch_related("questionnaires")
    }
    assert [c.date for c in contacts] == sorted((c.date for c in contacts), reverse=True)
    assert {c.pk: [tuple(a) for a in c.questionnaires.all()] for c in contacts} == expected
    assert sorted(a.item_9 for c in contacts for a in c.questionnaires.all() if a.measure == "PHQ9") == [0, 1, 2]
    assert {a.item_9 for c in contacts for a in c.questionnaires.all() if a.measure != "PHQ9"} == {None}


def test_the_compiled_sets_take_todays_date_each_time(scene, monkeypatch):
    """Covering a colleague on leave counts while the leave lasts: the day is a parameter, never the day
    the SQL was compiled."""
    pwp = scene[0]
    scoping._compiled.clear()
    first = scoping.user_ids_sql("test.case", Referral.objects.all()._case_ids, pwp)
    later = dt.date(2031, 5, 6)
    monkeypatch.setattr(scoping.timezone, "localdate", lambda: later)
    again = scoping.user_ids_sql("test.case", Referral.objects.all()._case_ids, pwp)
    assert first.sql == again.sql
    days = [p for p in again.params if isinstance(p, dt.date) or (isinstance(p, str) and p[:4].isdigit())]
    assert days and set(days) <= {later, str(later)}
    assert scoping._STAND_IN_DAY not in first.params + again.params
    assert str(scoping._STAND_IN_DAY) not in first.params + again.params


def _described(appointments):
    """What My day shows of each appointment and the records it was read with."""
    return [
        (
            a.pk,
            a.starts_at,
            a.status,
            a.clinician.username,
            a.referral.patient.family_name if a.referral_id else None,
            a.contact_id and a.contact.attendance,
            a.course_session_id and a.course_session.course.name,
        )
        for a in appointments
    ]


def test_my_day_compiled_once_is_the_querysets_for_every_clinician_and_day(scene, django_assert_num_queries):
    """``objects_of`` (common.scoping) gives My day's instances, and those it selected with them, as the
    queryset would, whoever and whichever day is asked first: the day, its bounds and the clinician
    are the parameters, not the first call's values."""
    from appointments import queries
    from appointments.models import Leave

    pwp, colleague, hit, stranger = scene
    day = dt.date(2026, 12, 7)
    for n, clinician in enumerate([pwp, colleague, pwp]):
        start = datetime(2026, 12, 7, 10 + n, tzinfo=UTC)
        Appointment.objects.create(
            referral=ReferralFactory(patient__team=pwp.team, care_coordinator=clinician, status="in_treatment"),
            clinician=clinician,
            appointment_type="02",
            created_by=clinician,
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, minutes=50),
        )
    Leave.objects.create(
        clinician=colleague, starts_on=day + timedelta(days=1), ends_on=day + timedelta(days=1), cover=pwp
    )
    scoping._compiled_rows.clear()
    for user in [stranger, pwp, colleague, hit, pwp]:
        for when in [day + timedelta(days=2), day, day + timedelta(days=1), day - timedelta(days=1)]:
            start, end = queries.day_bounds(when)
            expected = _described(queries._my_day(user.pk, when, start, end))
            with django_assert_num_queries(1):
                found = queries.my_day(user, when)
                described = _described(found)
            assert described == expected, (user.username, when)
    assert {a.clinician.username for a in queries.my_day(pwp, day + timedelta(days=1))} == {"pwp_b"}  # covered
    assert len(queries.my_day(pwp, day)) == 2
