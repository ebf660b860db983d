"""Booking doors: from the waiting list (first assessment, longest wait first, booked or not), from the
referral (one or a weekly series), reschedule, cancel with a reason, the team's free slots; a clash is a
clear form error and nothing is written."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Leave, WorkingPattern
from tests.conftest import login
from tests.factories import ReferralFactory, StaffFactory

MONDAY = dt.date(2027, 1, 4)


def _at(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _book_post(clinician, day=MONDAY, time="10:00", count=1, kind="02"):
    return {
        "clinician": clinician.pk,
        "date": day.isoformat(),
        "time": time,
        "appointment_type": kind,
        "mechanism": "01",
        "count": count,
    }


def test_book_from_the_referral_then_a_clash_is_a_form_error(client, referral, pwp):
    login(client, pwp)
    url = reverse("appointments:book", args=[referral.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, _book_post(pwp)).status_code == 302
    clash = client.post(url, _book_post(pwp, time="10:15"))
    assert clash.status_code == 400
    assert "already has an appointment at that time" in clash.content.decode()
    assert Appointment.objects.count() == 1


def test_a_weekly_series_is_all_or_nothing(client, referral, pwp):
    login(client, pwp)
    other = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp)
    services.book(
        referral=other, clinician=pwp, starts_at=_at(MONDAY + dt.timedelta(days=14), 10), appointment_type="02", by=pwp
    )
    url = reverse("appointments:book", args=[referral.pk])
    refused = client.post(url, _book_post(pwp, count=4))
    assert refused.status_code == 400 and "nothing was booked" in refused.content.decode()
    assert referral.appointments.count() == 0
    assert client.post(url, _book_post(pwp, time="11:00", count=4)).status_code == 302
    days = [timezone.localtime(a.starts_at).date() for a in referral.appointments.order_by("starts_at")]
    assert days == [MONDAY + dt.timedelta(days=7 * n) for n in range(4)]


def test_reschedule_and_cancel_pages(client, referral, pwp):
    login(client, pwp)
    a = services.book(referral=referral, clinician=pwp, starts_at=_at(MONDAY, 9), appointment_type="02", by=pwp)
    moved = client.post(
        reverse("appointments:reschedule", args=[a.pk]), {"date": "2027-01-05", "time": "14:00", "version": a.version}
    )
    assert moved.status_code == 302
    new = referral.appointments.get(status="booked")
    assert timezone.localtime(new.starts_at) == _at(dt.date(2027, 1, 5), 14)
    stale = client.post(reverse("appointments:cancel", args=[new.pk]), {"reason": "patient", "version": 99})
    assert stale.status_code == 400 and "changed since you opened it" in stale.content.decode()
    missing = client.post(reverse("appointments:cancel", args=[new.pk]), {"version": new.version})
    assert missing.status_code == 400 and "reason" in missing.content.decode()
    done = client.post(
        reverse("appointments:cancel", args=[new.pk]),
        {"reason": "provider", "note": "Clinician ill", "version": new.version},
    )
    assert done.status_code == 302
    new.refresh_from_db()
    assert (new.status, new.cancel_reason, new.cancel_note) == ("cancelled", "provider", "Clinician ill")


def test_waiting_list_longest_first_with_booked_or_not(client, pwp, colleague):
    old = ReferralFactory(patient__team=pwp.team, received_on=timezone.localdate() - dt.timedelta(days=130))
    new = ReferralFactory(patient__team=pwp.team, received_on=timezone.localdate() - dt.timedelta(days=10))
    mid = ReferralFactory(patient__team=pwp.team, received_on=timezone.localdate() - dt.timedelta(days=50))
    for r in (old, new, mid):
        r.status = "awaiting_assessment"
        r.save(update_fields=["status"])
    services.book(referral=mid, clinician=colleague, starts_at=_at(MONDAY, 9), appointment_type="01", by=pwp)
    html = login(client, pwp).get(reverse("appointments:waiting")).content.decode()
    positions = [html.index(str(r.patient)) for r in (old, mid, new)]
    assert positions == sorted(positions)
    assert "over 18 weeks" in html and "6 to 18 weeks" in html and "within 6 weeks" in html
    assert html.count("Not booked") == 2


def test_free_slots_are_patterns_less_leave_less_bookings(client, referral, pwp, colleague):
    for who in (pwp, colleague):
        WorkingPattern.objects.create(
            clinician=who, team=pwp.team, weekday=1, start=dt.time(9), end=dt.time(11), valid_from=MONDAY
        )
    Leave.objects.create(clinician=colleague, starts_on=MONDAY, ends_on=MONDAY)
    services.book(referral=referral, clinician=pwp, starts_at=_at(MONDAY, 9, 30), appointment_type="02", by=pwp)
    page = login(client, pwp).get(reverse("appointments:free_slots") + f"?day={MONDAY}&type=02")
    html = page.content.decode()
    html = html[html.index('id="free-slots"') :]
    row = html[html.index(str(pwp)) :]
    row = row[: row.index("</tr>")]
    assert [t for t in ("09:00", "09:30", "10:00", "10:30") if t in row] == ["09:00", "10:00", "10:30"]
    other = html[html.index(str(colleague)) :]
    assert "0 free" in other[: other.index("</tr>")]


@pytest.mark.parametrize("rows", [1, 6])
def test_booking_pages_run_a_fixed_number_of_queries(client, pwp, rows, django_assert_num_queries):
    for n in range(rows):
        who = StaffFactory(team=pwp.team, role="pwp")
        WorkingPattern.objects.create(
            clinician=who, team=pwp.team, weekday=1, start=dt.time(9), end=dt.time(17), valid_from=MONDAY
        )
        r = ReferralFactory(patient__team=pwp.team, received_on=timezone.localdate() - dt.timedelta(days=n))
        r.status = "awaiting_assessment"
        r.save(update_fields=["status"])
        services.book(referral=r, clinician=who, starts_at=_at(MONDAY, 9), appointment_type="01", by=pwp)
    login(client, pwp)
    client.get(reverse("appointments:my_day"))
    with django_assert_num_queries(QUERIES_SLOTS[connection.vendor]):
        assert client.get(reverse("appointments:free_slots") + f"?day={MONDAY}&span=week").status_code == 200
    with django_assert_num_queries(QUERIES_WAITING):
        assert client.get(reverse("appointments:waiting")).status_code == 200


# session, user, nav, the team's appointment length, its clinicians, then the slots: PostgreSQL works them
# out in one query (queries.FREE_SLOTS_SQL), SQLite reads patterns, leave and bookings for the rule.
# (Three fewer each since the session is refreshed at most once a minute, common.sessions: no UPDATE.)
QUERIES_SLOTS = {"postgresql": 5, "sqlite": 7}  # the team read with the user (common.sessions)
QUERIES_WAITING = 3


def test_dashboard_diary_figures_booked_first_wait_and_dna_by_clinic(client, pwp, colleague, manager):
    today = timezone.localdate()
    waiting = []
    for days in (30, 10):
        r = ReferralFactory(patient__team=pwp.team, received_on=today - dt.timedelta(days=days))
        r.status = "awaiting_assessment"
        r.save(update_fields=["status"])
        waiting.append(r)
    services.book(
        referral=waiting[0],
        clinician=colleague,
        starts_at=_at(today + dt.timedelta(days=2), 9),
        appointment_type="01",
        by=pwp,
    )
    treated = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, received_on=today - dt.timedelta(days=20))
    for n, code in enumerate(["3", "5", "3"]):
        a = services.book(
            referral=treated,
            clinician=pwp,
            starts_at=_at(today - dt.timedelta(days=10 - n), 9),
            appointment_type="02",
            by=pwp,
        )
        if code == "3":
            services.record_appointment_outcome(appointment=a, attendance="3", by=pwp)
        else:
            services.record_appointment_outcome(appointment=a, attendance="5", by=pwp, confirm_duplicate=True)
    figures = login(client, manager).get("/api/v1/dashboard/").json()["diaries"]
    assert (figures["booked"], figures["not_booked"]) == (1, 1)
    # waiting[0]: 32 days to its first appointment; treated: 10 days; median 21
    assert figures["first_appointment_days_median"] == 21 and figures["first_appointment_count"] == 2
    clinic = next(c for c in figures["clinics"] if c["clinic"].endswith(pwp.last_name))
    assert (clinic["outcomes"], clinic["dna"], clinic["dna_rate"]) == (3, 2, 66.7)
    html = client.get("/dashboard/").content.decode()
    assert 'id="dna-by-clinic"' in html and "66.7%" in html


@pytest.mark.parametrize("rows", [1, 7])
def test_the_teams_waiting_list_shows_booked_or_not_in_fixed_queries(
    client, pwp, colleague, rows, django_assert_num_queries
):
    today = timezone.localdate()
    for n in range(rows):
        r = ReferralFactory(patient__team=pwp.team, received_on=today - dt.timedelta(days=10 + n))
        r.status = "awaiting_assessment"
        r.save(update_fields=["status"])
        if n % 2 == 0:
            services.book(
                referral=r,
                clinician=colleague,
                starts_at=_at(MONDAY, 9) + dt.timedelta(hours=n),
                appointment_type="01",
                by=pwp,
            )
    login(client, pwp)
    url = reverse("referrals:waiting_list")
    client.get(url)
    with django_assert_num_queries(QUERIES_TEAM_WAITING):
        html = client.get(url).content.decode()
    assert html.count("Not booked") == rows // 2
    assert html.count("Mon 4 Jan, ") == (rows + 1) // 2


# 9 until the session was refreshed at most once a minute, 6 until the team was read with the user (common.sessions)
QUERIES_TEAM_WAITING = 5


def test_booking_a_clinician_on_leave_names_the_clinician_and_writes_nothing(client, referral, pwp):
    """Leave takes the days out of the free slots; the booking doors refuse them too (a series that
    reaches the leave books none of its sessions). Bookings made before the leave stay for the cover."""
    Leave.objects.create(
        clinician=pwp, starts_on=MONDAY + dt.timedelta(days=14), ends_on=MONDAY + dt.timedelta(days=18)
    )
    login(client, pwp)
    url = reverse("appointments:book", args=[referral.pk])
    refused = client.post(url, _book_post(pwp, day=MONDAY + dt.timedelta(days=14)))
    assert refused.status_code == 400
    assert f"is on leave on {MONDAY + dt.timedelta(days=14):%a %-d %b %Y}" in refused.content.decode()
    series = client.post(url, _book_post(pwp, count=4))
    assert series.status_code == 400 and "is on leave on" in series.content.decode()
    assert Appointment.objects.count() == 0
    assert client.post(url, _book_post(pwp, day=MONDAY + dt.timedelta(days=19))).status_code == 302
