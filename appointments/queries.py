"""Reads of the diaries, each a fixed number of SQL queries whatever the number of rows: a clinician's
day, the team's free slots over days, the first-assessment waiting list with booked or not, one
clinician's feed, and the figures the dashboard shows."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery
from django.utils import timezone

from common.permissions import sees_whole_team
from common.roles import CLINICAL_ROLES
from common.scoping import objects_of
from referrals.models import Referral

from . import rules
from .models import Appointment, CalendarFeed, Leave, WorkingPattern

LIVE = (Appointment.Status.BOOKED, Appointment.Status.DONE)


def day_bounds(day):
    """The day's start and end as aware datetimes in the service's time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def my_day(user, day):
    """The clinician's appointments on ``day`` (cancelled too, to see what changed), and those of each
    colleague they cover that day (``Leave.cover``), with the patient, the referral, the contact made
    from it, the clinician and a group session's course: one query, compiled once per process (the page
    is opened all day long; compiling cost more than running it, issue 18.9)."""
    start, end = day_bounds(day)
    return objects_of("appointments.my_day", _my_day, user.pk, day, start, end)


def _my_day(clinician_id, day, start, end):
    covered = Leave.objects.filter(cover_id=clinician_id, starts_on__lte=day, ends_on__gte=day).values("clinician_id")
    return (
        Appointment.objects.filter(
            Q(clinician_id=clinician_id) | Q(clinician_id__in=covered), starts_at__gte=start, starts_at__lt=end
        )
        .select_related("referral__patient", "contact", "clinician", "course_session__course")
        .order_by("starts_at", "pk")
    )


def covers(user, clinician_id, day):
    """``user`` covers the clinician's leave on ``day`` (one query; none for the clinician themselves)."""
    if user.pk == clinician_id:
        return False
    return Leave.objects.filter(clinician_id=clinician_id, cover=user, starts_on__lte=day, ends_on__gte=day).exists()


def leave_overlapping(clinician, starts_on, ends_on):
    """The clinician's first leave overlapping those days, or None."""
    return (
        Leave.objects.filter(clinician=clinician, starts_on__lte=ends_on, ends_on__gte=starts_on)
        .order_by("starts_on")
        .first()
    )


def team_leave(user, since):
    """Leave a member of staff may see and manage: a clinician's own and what they cover; a manager's or
    an administrator's, the team's. Ending on or after ``since``, soonest first, with the people (one query)."""
    leave = Leave.objects.filter(ends_on__gte=since).select_related("clinician", "cover")
    if user.team_id is None:
        return leave.none()
    if sees_whole_team(user):
        leave = leave.filter(clinician__team_id=user.team_id)
    else:
        leave = leave.filter(Q(clinician=user) | Q(cover=user))
    return leave.order_by("starts_on", "pk")


def visible_leave(user, pk):
    """Leave of the user's team (for withdrawing it: the service asks the rulebook); else DoesNotExist."""
    return Leave.objects.select_related("clinician", "cover").get(pk=pk, clinician__team_id=user.team_id)


def team_patterns(user):
    """Working patterns of the user's team (a clinician: their own first), with the clinician (one query)."""
    patterns = WorkingPattern.objects.filter(team_id=user.team_id).select_related("clinician")
    if not sees_whole_team(user):
        patterns = patterns.filter(clinician=user)
    return patterns.order_by("clinician__last_name", "clinician__first_name", "clinician_id", "weekday", "start")


def visible_pattern(user, pk):
    """A working pattern of the user's team (to end it: the service asks the rulebook); else DoesNotExist."""
    return WorkingPattern.objects.select_related("clinician").get(pk=pk, team_id=user.team_id)


def visible_appointment(user, pk):
    """An appointment of a referral the user may see (else DoesNotExist: a 404 at the doors)."""
    return Appointment.objects.select_related("referral__patient", "referral__team", "clinician", "contact").get(
        pk=pk, referral__in=Referral.objects.visible_to(user)
    )


def appointments_visible_to(user):
    return Appointment.objects.filter(referral__in=Referral.objects.visible_to(user))


def referral_appointments(referral):
    return referral.appointments.select_related("clinician", "contact").order_by("-starts_at")


def team_clinicians(team_id):
    return (
        get_user_model()
        .objects.filter(team_id=team_id, is_active=True, role__in=CLINICAL_ROLES)
        .order_by("last_name", "first_name", "pk")
    )


def free_slots(team_id, first_day, days, minutes, clinician=None):
    """{clinician: [(day, [times])]} from working patterns minus leave minus live bookings over
    ``days`` days from ``first_day``, the team's clinicians in name order.

    ``rules.free_slots`` is the definition. On PostgreSQL the slots are worked out by the database in
    one query (``FREE_SLOTS_SQL``: a team's week is 300 clinicians by 7 days, thousands of slots);
    elsewhere (SQLite) by the rule from the patterns, leave and bookings, in three. With the
    clinicians', two queries or four whatever the team's size (tests/appointments/test_free_slots_sql.py
    holds both ways to the rule).
    """
    clinicians = list(team_clinicians(team_id))
    if clinician is not None:
        clinicians = [c for c in clinicians if c.pk == clinician.pk]
    if connection.vendor == "postgresql":
        return _free_slots_in_sql(clinicians, first_day, days, minutes)
    return _free_slots_by_rule(clinicians, first_day, days, minutes)


def _free_slots_by_rule(clinicians, first_day, days, minutes):
    """``free_slots`` through ``rules.free_slots`` (plain rows, not model instances, and each day's
    bookings apart, so a week of 300 clinicians stays arithmetic)."""
    last_day = first_day + timedelta(days=days - 1)
    ids = [c.pk for c in clinicians]
    patterns = (
        WorkingPattern.objects.filter(clinician_id__in=ids, valid_from__lte=last_day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day))
        .order_by("pk")
        .values_list("clinician_id", "weekday", "start", "end", "valid_from", "valid_until")
    )
    leave = Leave.objects.filter(clinician_id__in=ids, starts_on__lte=last_day, ends_on__gte=first_day).values_list(
        "clinician_id", "starts_on", "ends_on"
    )
    start, _ = day_bounds(first_day)
    _, end = day_bounds(last_day)
    busy = Appointment.objects.filter(
        clinician_id__in=ids, status__in=LIVE, starts_at__lt=end, ends_at__gt=start
    ).values_list("clinician_id", "starts_at", "ends_at")
    windows, off, taken = defaultdict(list), defaultdict(list), defaultdict(list)
    for pk, weekday, w0, w1, valid_from, valid_until in patterns:
        windows[pk].append((rules.Window(weekday, w0, w1), valid_from, valid_until))
    for pk, starts_on, ends_on in leave:
        off[pk].append((starts_on, ends_on))
    zone = timezone.get_current_timezone()
    for pk, b0, b1 in busy:
        b0, b1 = b0.astimezone(zone).replace(tzinfo=None), b1.astimezone(zone).replace(tzinfo=None)
        for n in range((b1.date() - b0.date()).days + 1):  # every day the booking touches
            taken[(pk, b0.date() + timedelta(days=n))].append((b0, b1))
    out = {}
    for c in clinicians:
        days_out = []
        for n in range(days):
            day = first_day + timedelta(days=n)
            open_windows = [
                w
                for w, valid_from, valid_until in windows[c.pk]
                if w.weekday == day.isoweekday() and valid_from <= day and (valid_until is None or valid_until >= day)
            ]
            on_leave = any(s <= day <= e for s, e in off[c.pk])
            days_out.append((day, rules.free_slots(open_windows, day, minutes, taken[(c.pk, day)], on_leave=on_leave)))
        out[c] = days_out
    return out


# ``rules.free_slots`` in SQL, over days and clinicians at once. Worked as the rule works: in whole
# minutes of local wall-clock time since the day's midnight (bookings truncated to the minute, the
# window's times to the minute); slot starts every ``minutes`` from each window's start while the slot
# ends by the window's end; a slot goes when it overlaps (half-open) a live booking touching that day,
# every slot of a day of leave goes. Slots in the rule's order: by window start, then time (windows with
# the same start by id). Live bookings are those the no-double-booking constraint covers
# (status <> cancelled), so their GiST index finds the period's.
FREE_SLOTS_SQL = """
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
), live AS (
    -- the period's live bookings of these clinicians in local wall-clock time (the GiST index of the
    -- no-double-booking constraint finds them; OFFSET 0 converts each time once)
    SELECT a.clinician_id, a.starts_at AT TIME ZONE %(zone)s AS b0, a.ends_at AT TIME ZONE %(zone)s AS b1
    FROM {appointment} a
    WHERE a.clinician_id = ANY(%(ids)s) AND a.status <> %(cancelled)s
      AND tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(%(start)s, %(end)s, '[)')
    OFFSET 0
), busy AS MATERIALIZED (
    -- each booking on every day it touches, in whole minutes since that day's midnight
    SELECT live.clinician_id, touched.day::date AS day,
           (extract(epoch FROM date_trunc('minute', live.b0) - touched.day) / 60)::int AS t0,
           (extract(epoch FROM date_trunc('minute', live.b1) - touched.day) / 60)::int AS t1
    FROM live CROSS JOIN LATERAL generate_series(live.b0::date, live.b1::date, interval '1 day') AS touched(day)
    WHERE live.b1 > touched.day
), slots AS (
    SELECT p.clinician_id, days.day, p.start, p.id, s.minute
    FROM {pattern} p
    JOIN days ON p.weekday = extract(isodow FROM days.day)
         AND p.valid_from <= days.day AND (p.valid_until IS NULL OR p.valid_until >= days.day)
    CROSS JOIN LATERAL generate_series(
        extract(hour FROM p.start)::int * 60 + extract(minute FROM p.start)::int,
        extract(hour FROM p."end")::int * 60 + extract(minute FROM p."end")::int - %(minutes)s,
        %(minutes)s
    ) AS s(minute)
    WHERE p.clinician_id = ANY(%(ids)s)
      AND NOT EXISTS (
          SELECT 1 FROM {leave} l
          WHERE l.clinician_id = p.clinician_id AND l.starts_on <= days.day AND l.ends_on >= days.day
      )
      AND NOT EXISTS (
          SELECT 1 FROM busy b
          WHERE b.clinician_id = p.clinician_id AND b.day = days.day
            AND s.minute < b.t1 AND b.t0 < s.minute + %(minutes)s
      )
)
SELECT clinician_id, day, array_agg(minute ORDER BY start, id, minute) FROM slots GROUP BY clinician_id, day
"""

CLOCK = tuple(time(m // 60, m % 60) for m in range(24 * 60))  # a minute of the day as a time, built once


def _free_slots_in_sql(clinicians, first_day, days, minutes):
    """``free_slots`` by ``FREE_SLOTS_SQL`` on PostgreSQL: one query for every clinician and day."""
    dates = [first_day + timedelta(days=n) for n in range(days)]
    found = {}
    if clinicians and minutes > 0:
        start, _ = day_bounds(dates[0])
        _, end = day_bounds(dates[-1])
        sql = FREE_SLOTS_SQL.format(
            appointment=Appointment._meta.db_table, pattern=WorkingPattern._meta.db_table, leave=Leave._meta.db_table
        )
        params = {
            "first": dates[0],
            "last": dates[-1],
            "zone": timezone.get_current_timezone_name(),
            "ids": [c.pk for c in clinicians],
            "cancelled": Appointment.Status.CANCELLED.value,
            "start": start,
            "end": end,
            "minutes": minutes,
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {(pk, day): [CLOCK[m] for m in starts] for pk, day, starts in cursor.fetchall()}
    return {c: [(day, found.get((c.pk, day), [])) for day in dates] for c in clinicians}


def waiting_for_assessment(user):
    """The team's referrals awaiting a first assessment, longest wait first, each with its next live
    appointment (None when not booked yet): one query."""
    booked = Appointment.objects.filter(referral=OuterRef("pk"), status=Appointment.Status.BOOKED).order_by("starts_at")
    return (
        Referral.objects.visible_to(user)
        .filter(team_id=user.team_id, status="awaiting_assessment")
        .select_related("patient", "care_coordinator")
        .annotate(next_appointment=Subquery(booked.values("starts_at")[:1]), booked=Exists(booked))
        .order_by("received_on", "pk")
    )


def has_calendar_feed(clinician):
    return CalendarFeed.objects.filter(clinician=clinician).exists()


def calendar_feed(token_hash):
    """The feed behind a secret address (by the hash of its token), with its clinician; None if none."""
    return CalendarFeed.objects.select_related("clinician").filter(token_hash=token_hash).first()


def feed_appointments(clinician, since):
    """The clinician's live appointments from ``since`` on, for the calendar feed (one query)."""
    return (
        Appointment.objects.filter(clinician=clinician, status__in=LIVE, starts_at__gte=since)
        .select_related("referral__patient", "course_session__course")
        .order_by("starts_at")
    )


LEAVE_AHEAD_DAYS = 14


def diary_figures(team_id, today):
    """For the dashboard: referrals waiting booked or not, days from referral to first appointment, the
    DNA rate of appointments with an outcome by clinician (clinic), and leave now or in the next two
    weeks with how much of it has no cover: four queries."""
    waiting = Referral.objects.filter(team_id=team_id, status="awaiting_assessment")
    booked_q = Appointment.objects.filter(referral=OuterRef("pk"), status=Appointment.Status.BOOKED)
    counts = waiting.annotate(is_booked=Exists(booked_q)).aggregate(
        booked=Count("pk", filter=Q(is_booked=True)), not_booked=Count("pk", filter=Q(is_booked=False))
    )
    # From the appointments, not the referrals: a mature service has many more referrals than booked
    # ones, and grouping every referral of the team to find the few with an appointment cost the
    # dashboard more than the rest of its waiting figures (issue 22).
    firsts = (
        Appointment.objects.filter(referral__team_id=team_id, status__in=LIVE)
        .values("referral_id", "referral__received_on")
        .annotate(first=Min("starts_at"))
        .order_by()
        .values_list("referral__received_on", "first")
    )
    waits = sorted((timezone.localtime(first).date() - received).days for received, first in firsts)
    by_clinic = (
        Appointment.objects.filter(referral__team_id=team_id, status=Appointment.Status.DONE)
        .values("clinician__first_name", "clinician__last_name", "clinician_id")
        .annotate(total=Count("pk"), dna=Count("pk", filter=Q(attendance="3")))
        .order_by("clinician__last_name", "clinician__first_name")
    )
    clinics = [
        {
            "clinic": f"{row['clinician__first_name']} {row['clinician__last_name']}".strip(),
            "outcomes": row["total"],
            "dna": row["dna"],
            "dna_rate": rules.rate(row["dna"], row["total"]),
        }
        for row in by_clinic
    ]
    soon = Leave.objects.filter(
        clinician__team_id=team_id, ends_on__gte=today, starts_on__lte=today + timedelta(days=LEAVE_AHEAD_DAYS)
    ).aggregate(periods=Count("pk"), uncovered=Count("pk", filter=Q(cover__isnull=True)))
    return {
        "leave_ahead_days": LEAVE_AHEAD_DAYS,
        "leave_periods": soon["periods"],
        "leave_without_cover": soon["uncovered"],
        "booked": counts["booked"],
        "not_booked": counts["not_booked"],
        "first_appointment_days_median": rules.median(waits),
        "first_appointment_count": len(waits),
        "clinics": clinics,
    }


# --- group sessions from courses (reached through the course's relations: workshops is not imported) ---


def course_sessions(course):
    return list(course.sessions.order_by("date", "time", "number"))


def course_facilitators(course):
    return sorted(course.facilitators.all(), key=lambda f: f.pk)


def held_blocks(course):
    """(session id, facilitator id) of the course's sessions already held in a diary (live rows)."""
    return set(
        Appointment.objects.filter(course_session__course=course)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list("course_session_id", "clinician_id")
    )


def group_places_on(day):
    """[(session, enrolment)]: every place (enrolment not withdrawn) on a course whose session on ``day``
    holds a facilitator's diary, with what the reminder needs: two queries."""
    sessions = {
        a.course_session_id: a.course_session
        for a in Appointment.objects.filter(
            status=Appointment.Status.BOOKED, starts_at__date=day, course_session__isnull=False
        ).select_related("course_session__course")
    }
    if not sessions:
        return []
    by_course = defaultdict(list)
    for session in sessions.values():
        by_course[session.course_id].append(session)
    # apps.get_model: workshops sit above diaries (they hold their sessions here), so not imported.
    enrolments = apps.get_model("workshops", "Enrolment")
    places = (
        enrolments.objects.filter(course_id__in=by_course, withdrawn_on__isnull=True)
        .select_related("referral__patient", "referral__team")
        .order_by("course_id", "enrolled_on", "pk")
    )
    return [(session, e) for e in places for session in by_course[e.course_id]]
