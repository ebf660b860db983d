"""Workshop pages: scoping (404 to those who may not see), the one-screen register, and a fixed number
of SQL queries whatever the number of courses or patients."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from referrals.models import CareContact
from tests.factories import ReferralFactory
from workshops import services
from workshops.models import Enrolment, GroupCourse, RegisterEntry

TODAY = timezone.localdate


def enrol_many(course, clinician, n, on=None):
    on = on or TODAY() - dt.timedelta(days=14)
    return [
        services.enrol(
            course=course,
            referral=ReferralFactory(patient__team=clinician.team, care_coordinator=clinician),
            by=clinician,
            on=on,
        )
        for _ in range(n)
    ]


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def register_post(session, members, **rows):
    data = {
        "row-TOTAL_FORMS": str(len(members)),
        "row-INITIAL_FORMS": str(len(members)),
        "row-MIN_NUM_FORMS": "0",
        "row-MAX_NUM_FORMS": "1000",
    }
    for n, m in enumerate(members):
        row = {"enrolment": m.pk, "attendance": "5", "phq9": "221111110", "gad7": "2211111", "risk_note": ""}
        row.update(rows.get(f"r{n}", {}))
        data.update({f"row-{n}-{k}": v for k, v in row.items()})
    return data


# Scoping -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("pwp", 200), ("cofacilitator", 200), ("manager", 200), ("colleague", 404), ("outsider", 404)],
)
def test_a_course_is_seen_by_its_facilitators_and_the_teams_manager(client, course, request, who, status):
    client.force_login(request.getfixturevalue(who))
    session = course.sessions.first()
    for url in (
        reverse("workshops:course", args=[course.pk]),
        reverse("workshops:register", args=[session.pk]),
        reverse("workshops:enrol", args=[course.pk]),
    ):
        assert client.get(url).status_code == status, url


@pytest.mark.django_db
def test_an_outsider_cannot_enrol_into_or_withdraw_from_another_teams_course(client, course, members, outsider):
    client.force_login(outsider)
    theirs = ReferralFactory(patient__team=outsider.team, care_coordinator=outsider)
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"referral": theirs.pk})
    assert response.status_code == 404
    assert client.get(reverse("workshops:withdraw", args=[members[0].pk])).status_code == 404
    assert client.get(reverse("workshops:offer", args=[members[0].referral_id])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{}, {"referral": ""}, {"referral": "not-an-id"}])
def test_an_enrol_form_naming_no_referral_is_a_form_error(client, course, pwp, data):
    client.force_login(pwp)
    response = client.post(reverse("workshops:enrol", args=[course.pk]), data)
    assert response.status_code == 400
    assert "Choose a referral to enrol." in response.content.decode()
    assert not Enrolment.objects.filter(course=course).exists()


@pytest.mark.django_db
def test_only_visible_referrals_can_be_enrolled(client, course, colleague, pwp):
    """A colleague's patient (not the facilitator's, not on the waiting list) cannot be enrolled by pwp."""
    hidden = ReferralFactory(patient__team=pwp.team, care_coordinator=colleague)
    client.force_login(pwp)
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"referral": hidden.pk})
    assert response.status_code == 404
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"q": hidden.patient.family_name}, follow=True)
    assert response.context["results"] == []
    assert not Enrolment.objects.exists()


# Enrol, offer, withdraw --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_facilitator_finds_and_enrols_a_referral(client, course, referral, pwp):
    client.force_login(pwp)
    url = reverse("workshops:enrol", args=[course.pk])
    searched = client.post(url, {"q": referral.patient.family_name})
    assert searched.status_code == 303 and searched.url == url  # the name stays out of the URL
    page = client.get(url)
    assert referral.patient.family_name in page.content.decode()
    assert page.context["results"] == [referral]
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"referral": referral.pk})
    assert response.status_code == 302 and response.url == reverse("workshops:course", args=[course.pk])
    assert Enrolment.objects.active().filter(course=course, referral=referral).exists()


@pytest.mark.django_db
def test_a_care_coordinator_offers_the_teams_course_to_their_patient(client, course, colleague):
    mine = ReferralFactory(patient__team=colleague.team, care_coordinator=colleague)
    client.force_login(colleague)
    offer = reverse("workshops:offer", args=[mine.pk])
    page = client.get(offer)
    assert course.title in page.content.decode()
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"referral": mine.pk, "next": offer})
    assert response.url == offer
    enrolment = Enrolment.objects.get(referral=mine)
    # They cannot open the course page (no member data), but can withdraw their own patient.
    assert client.get(reverse("workshops:course", args=[course.pk])).status_code == 404
    response = client.post(
        reverse("workshops:withdraw", args=[enrolment.pk]),
        {"reason": "individual", "note": "", "withdrawn_on": TODAY().isoformat()},
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.withdrawal_reason == "individual"


@pytest.mark.django_db
def test_a_full_course_says_so(client, make_course, pwp):
    course = make_course(capacity=1)
    enrol_many(course, pwp, 1)
    extra = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    client.force_login(pwp)
    response = client.post(reverse("workshops:enrol", args=[course.pk]), {"referral": extra.pk}, follow=True)
    assert "The course is full (1 of 1 places taken)." in response.content.decode()


@pytest.mark.django_db
def test_withdraw_form_names_the_missing_note(client, members, pwp):
    client.force_login(pwp)
    response = client.post(
        reverse("workshops:withdraw", args=[members[0].pk]),
        {"reason": "other", "note": "", "withdrawn_on": TODAY().isoformat()},
    )
    assert response.status_code == 200
    assert "Say why, when the reason is" in response.content.decode()
    assert Enrolment.objects.get(pk=members[0].pk).withdrawn_on is None


@pytest.mark.django_db
def test_planning_a_course_through_the_form(client, pwp, cofacilitator):
    client.force_login(pwp)
    first = TODAY() + dt.timedelta(days=7)
    response = client.post(
        reverse("workshops:create"),
        {
            "title": "Worry workshop",
            "topic": "worry",
            "step": "2",
            "facilitators": [pwp.pk, cofacilitator.pk],
            "capacity": "10",
            "delivery": "venue",
            "venue": "Southport library",
            "first_date": first.isoformat(),
            "time": "10:00",
            "session_count": "4",
            "every_days": "7",
            "session_minutes": "120",
        },
    )
    course = GroupCourse.objects.get()
    assert response.url == reverse("workshops:course", args=[course.pk])
    assert [s.date for s in course.sessions.all()] == [first + dt.timedelta(days=7 * n) for n in range(4)]
    response = client.post(reverse("workshops:create"), {"title": "No facts"})
    assert response.status_code == 200 and GroupCourse.objects.count() == 1


# The register ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_the_register_records_group_contacts(client, course, members, pwp):
    session = course.sessions.get(number=1)
    client.force_login(pwp)
    url = reverse("workshops:register", args=[session.pk])
    response = client.post(url, register_post(session, members, r1={"attendance": "3", "phq9": "", "gad7": ""}))
    assert response.status_code == 302
    contacts = CareContact.objects.filter(therapy_mode="3")
    assert contacts.count() == 3
    assert set(contacts.values_list("group_participants", "group_facilitators")) == {(2, 2)}
    page = client.get(reverse("workshops:course", args=[course.pk])).content.decode()
    assert "DNA" in page and "Attended" in page
    assert ">10<" in page  # the PHQ-9 total 2+2+1+1+1+1+1+1+0 of the attended members


@pytest.mark.django_db
def test_an_out_of_range_answer_keeps_everything_typed_and_saves_nothing(client, course, members, pwp):
    session = course.sessions.get(number=1)
    client.force_login(pwp)
    url = reverse("workshops:register", args=[session.pk])
    data = register_post(session, members, r1={"phq9": "221141110"}, r2={"gad7": "22111"})
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "PHQ-9 item 5 must be between 0 and 3 (got 4)." in html
    assert "GAD-7 needs 7 answers, one per item; 5 were given." in html
    assert 'value="221141110"' in html and 'value="2211111"' in html  # typed values kept
    assert not CareContact.objects.exists() and not RegisterEntry.objects.exists()
    row = response.context["rows"][1][0]
    assert list(row.errors) == ["phq9"]
    assert not response.context["rows"][0][0].errors


@pytest.mark.django_db
def test_a_missing_risk_note_is_reported_with_the_typing_errors_in_one_pass(client, course, members, pwp):
    session = course.sessions.get(number=1)
    client.force_login(pwp)
    data = register_post(session, members, r0={"phq9": "000000001"}, r1={"attendance": ""}, r2={"gad7": "9"})
    response = client.post(reverse("workshops:register", args=[session.pk]), data)
    rows = [form for form, _ in response.context["rows"]]
    assert list(rows[0].errors) == ["risk_note"]
    assert list(rows[1].errors) == ["attendance"]
    assert list(rows[2].errors) == ["gad7"]
    assert not CareContact.objects.exists()


@pytest.mark.django_db
def test_a_register_that_changed_while_typing_is_shown_again(client, course, members, pwp):
    session = course.sessions.get(number=1)
    client.force_login(pwp)
    data = register_post(session, members[:2])
    response = client.post(reverse("workshops:register", args=[session.pk]), data)
    assert "changed while you were typing" in response.content.decode()
    assert len(response.context["rows"]) == 3
    assert not CareContact.objects.exists()


@pytest.mark.django_db
def test_correcting_a_row_from_the_register(client, course, members, pwp):
    session = course.sessions.get(number=1)
    client.force_login(pwp)
    client.post(reverse("workshops:register", args=[session.pk]), register_post(session, members))
    entry = RegisterEntry.objects.first()
    response = client.post(reverse("workshops:correct", args=[entry.pk]), {"reason": "Ticked the wrong name"})
    assert response.url == reverse("workshops:register", args=[session.pk])
    assert CareContact.objects.get(pk=entry.contact_id).entered_in_error
    page = client.get(response.url)
    assert len(page.context["rows"]) == 1


@pytest.mark.django_db
def test_the_register_page_is_audited_per_patient(client, course, members, pwp):
    client.force_login(pwp)
    session = course.sessions.get(number=1)
    client.get(reverse("workshops:register", args=[session.pk]))
    audited = set(AuditEvent.objects.filter(action="register.view").values_list("patient_id", flat=True))
    assert audited == {m.referral.patient_id for m in members}


# Fixed numbers of queries ------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_page_runs_a_fixed_number_of_queries(client, make_course, pwp):
    small, large = make_course(), make_course()
    enrol_many(small, pwp, 1)
    members = enrol_many(large, pwp, 12)
    client.force_login(pwp)
    one = queries(client, reverse("workshops:register", args=[small.sessions.get(number=1).pk]))
    many = queries(client, reverse("workshops:register", args=[large.sessions.get(number=1).pk]))
    assert one == many
    # Half registered, half due: still the same.
    session = large.sessions.get(number=2)
    services.take_register(
        session=session, rows=[{"enrolment": m, "attendance": "5", "phq9": [1] * 8 + [0]} for m in members], by=pwp
    )
    services.correct_entry(entry=RegisterEntry.objects.filter(session=session).first(), reason="typo", by=pwp)
    assert queries(client, reverse("workshops:register", args=[session.pk])) == one


@pytest.mark.django_db
def test_register_error_page_runs_a_fixed_number_of_queries(client, make_course, pwp):
    """A register refused by the row checks writes nothing and costs the same for 1 or 12 patients."""
    counts = []
    client.force_login(pwp)
    for size in (1, 12):
        course = make_course()
        members = enrol_many(course, pwp, size)
        session = course.sessions.get(number=1)
        data = register_post(session, members, r0={"phq9": "9"})
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(reverse("workshops:register", args=[session.pk]), data)
        assert response.status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_course_page_runs_a_fixed_number_of_queries(client, make_course, pwp):
    small, large = make_course(), make_course()
    enrol_many(small, pwp, 1)
    members = enrol_many(large, pwp, 10)
    services.take_register(
        session=large.sessions.get(number=1),
        rows=[{"enrolment": m, "attendance": "5", "phq9": [1] * 8 + [0], "gad7": [1] * 7} for m in members],
        by=pwp,
    )
    services.withdraw(enrolment=members[0], reason="stopped_attending", by=pwp)
    client.force_login(pwp)
    assert queries(client, reverse("workshops:course", args=[small.pk])) == queries(
        client, reverse("workshops:course", args=[large.pk])
    )


@pytest.mark.django_db
def test_course_list_runs_a_fixed_number_of_queries_and_shows_rates(client, make_course, pwp, manager):
    client.force_login(manager)
    first = make_course(capacity=4)
    members = enrol_many(first, pwp, 3)
    services.take_register(
        session=first.sessions.get(number=1),
        rows=[{"enrolment": m, "attendance": a} for m, a in zip(members, ["5", "5", "3"], strict=True)],
        by=pwp,
    )
    one = queries(client, reverse("workshops:list"))
    page = client.get(reverse("workshops:list")).content.decode()
    assert "75%" in page  # 3 of 4 places
    assert "67%" in page  # 2 of 3 attended
    for _ in range(8):
        enrol_many(make_course(), pwp, 2)
    assert queries(client, reverse("workshops:list")) == one
    assert queries(client, reverse("workshops:list") + "?show=all") == one


@pytest.mark.django_db
def test_waiting_list_runs_a_fixed_number_of_queries(client, make_course, pwp):
    client.force_login(pwp)
    later = make_course(first=TODAY() + dt.timedelta(days=21))
    enrol_many(later, pwp, 1, on=TODAY())
    one = queries(client, reverse("workshops:waiting"))
    enrol_many(later, pwp, 9, on=TODAY())
    assert queries(client, reverse("workshops:waiting")) == one
    page = client.get(reverse("workshops:waiting"))
    assert len(page.context["rows"]) == 10


@pytest.mark.django_db
def test_groups_link_in_the_navigation(client, pwp):
    client.force_login(pwp)
    assert f'href="{reverse("workshops:list")}"' in client.get(reverse("home"), follow=True).content.decode()


@pytest.mark.django_db
def test_the_referral_page_panel_shows_group_attendance(course, members, pwp, django_assert_num_queries):
    from django.template import Context, Template

    services.take_register(
        session=course.sessions.get(number=1),
        rows=[{"enrolment": m, "attendance": a} for m, a in zip(members, ["5", "3", "5"], strict=True)],
        by=pwp,
    )
    template = Template("{% load workshops_tags %}{% referral_groups referral %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"referral": members[1].referral}))
    assert "Stress control, Bootle library: 0 of 1 session attended" in html
    assert reverse("workshops:offer", args=[members[1].referral_id]) in html
