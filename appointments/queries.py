"""Reads of the diaries, each a fixed number of SQL queries whatever the number of rows: a clinician's
day, the team's free slots over days, the first-assessment waiting list with booked or not, one
clinician's feed, and the figures the dashboard shows."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery
from django.utils import timezone

from common.roles import CLINICAL_ROLES
from referrals.models import Referral

from . import rules
from .models import Appointment, CalendarFeed, Leave, WorkingPattern

LIVE = (Appointment.Status.BOOKED, Appointment.Status.DONE)


def day_bounds(day):
    """The day's start and end as aware datetimes in the service's time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def my_day(user, day):
    """The clinician's appointments on ``day`` (cancelled too, to see what changed), with the patient,
    the referral and the contact made from it: one query."""
    start, end = day_bounds(day)
    return (
        Appointment.objects.filter(clinician=user, starts_at__gte=start, starts_at__lt=end)
        .select_related("referral__patient", "contact")
        .order_by("starts_at", "pk")
    )


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
    ``days`` days from ``first_day`` (four queries whatever the team's size). Plain rows, not model
    instances, and each day's bookings apart, so a week of 300 clinicians stays arithmetic."""
    last_day = first_day + timedelta(days=days - 1)
    clinicians = list(team_clinicians(team_id))
    if clinician is not None:
        clinicians = [c for c in clinicians if c.pk == clinician.pk]
    ids = [c.pk for c in clinicians]
    patterns = (
        WorkingPattern.objects.filter(clinician_id__in=ids, valid_from__lte=last_day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_day))
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
        taken[(pk, b0.date())].append((b0, b1))
        if b1.date() != b0.date():
            taken[(pk, b1.date())].append((b0, b1))
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
        .select_related("referral__patient")
        .order_by("starts_at")
    )


def diary_figures(team_id, today):
    """For the dashboard: referrals waiting booked or not, days from referral to first appointment, and
    the DNA rate of appointments with an outcome by clinician (clinic): three queries."""
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
    return {
        "booked": counts["booked"],
        "not_booked": counts["not_booked"],
        "first_appointment_days_median": rules.median(waits),
        "first_appointment_count": len(waits),
        "clinics": clinics,
    }
