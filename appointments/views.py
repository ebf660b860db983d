"""The diary pages: My day (one click records an outcome; Attended opens the session form filled from
the appointment), booking from the waiting list and the referral, reschedule, cancel, the team's free
slots, and the clinician's calendar feed. Thin: a form parses, a service writes, a query reads; a
record the user may not see is a 404."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common import permissions
from common.exceptions import Conflict
from outcomes.scoring import INSTRUMENTS
from referrals import queries as referral_queries
from referrals.codes import Attendance
from referrals.forms import field_prefix
from referrals.models import Referral
from referrals.views import session_page

from . import presenters, queries, services
from .forms import BookForm, CancelForm, LeaveForm, RescheduleForm, WorkingPatternForm
from .models import Appointment, Leave, WorkingPattern

INVALID = 400
OUTCOME_WORDS = {code: Attendance(code).label for code in services.ONE_CLICK}


def _appointment(request, pk):
    try:
        return queries.visible_appointment(request.user, pk)
    except Appointment.DoesNotExist:
        raise Http404 from None


def _day(request):
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


@require_GET
def my_day(request):
    """The signed-in clinician's appointments on a day (today unless ``?day=``): one query."""
    day = _day(request)
    rows = presenters.day_rows(queries.my_day(request.user, day), viewer=request.user)
    return render(
        request,
        "appointments/my_day.html",
        {
            "day": day,
            "rows": rows,
            "rows_html": presenters.day_rows_html(rows, OUTCOME_WORDS.items(), get_token(request)),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": timezone.localdate(),
        },
    )


def _shows_existing(request, appointment, contact):
    messages.info(
        request,
        f"This appointment's outcome is already recorded ({contact.get_attendance_display().lower()} "
        f"on {contact.date:%-d %b %Y}): here it is, nothing was saved twice.",
    )
    return redirect(reverse("referrals:detail", args=[appointment.referral_id]) + f"#contact-{contact.pk}")


@require_POST
def record_outcome(request, pk):
    """One click: did not attend, cancelled by the patient or the provider, arrived late and not seen."""
    appointment = _appointment(request, pk)
    attendance = request.POST.get("attendance", "")
    if attendance not in OUTCOME_WORDS:
        messages.error(request, "Choose one of the outcomes on the appointment.")
        return redirect("appointments:my_day")
    try:
        contact, created = services.record_appointment_outcome(
            appointment=appointment, attendance=attendance, by=request.user
        )
    except (ValidationError, Conflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("appointments:my_day")
    if not created:
        return _shows_existing(request, appointment, contact)
    messages.success(
        request,
        f"{appointment.referral.patient}: {Attendance(attendance).label.lower()} recorded for {contact.date:%-d %b}.",
    )
    day = timezone.localtime(appointment.starts_at).date()
    return redirect(reverse("appointments:my_day") + f"?day={day.isoformat()}")


def _own_answers(referral):
    """The patient's own answers given since the last contact (not yet seen at a session), as the
    session form's initial values, and words saying so (``({}, None)`` when there are none)."""
    last = referral.contacts.filter(entered_in_error=False).order_by("-date").values_list("date", flat=True).first()
    initial, used = {}, []
    for response in referral_queries.own_scores(referral, limit=10):
        if (last is not None and response.completed_on < last) or response.measure in used:
            continue
        if not INSTRUMENTS[response.measure].has_items or not response.items:
            continue
        used.append(response.measure)
        prefix = field_prefix(response.measure)
        for number, answer in enumerate(response.items, start=1):
            if answer is not None:
                initial[f"{prefix}_{number}"] = answer
    if not used:
        return {}, None
    names = ", ".join(INSTRUMENTS[m].name for m in used)
    return initial, f"Filled in from the patient's own answers ({names}): check them with the patient before saving."


def attended(request, pk):
    """Attended: the session form, filled from the appointment (date, time, type, mechanism and the
    patient's own answers); saving makes the appointment's contact once (a second save shows it)."""
    appointment = _appointment(request, pk)
    if appointment.contact_id is not None:
        return _shows_existing(request, appointment, appointment.contact)
    local = timezone.localtime(appointment.starts_at)
    own, words = _own_answers(appointment.referral)
    initial = {
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "appointment_type": appointment.appointment_type,
        "mechanism": appointment.mechanism,
        "attendance": Attendance.ATTENDED,
        "duration_minutes": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        **own,
    }

    def record(**arguments):
        contact, _ = services.record_appointment_outcome(
            appointment=appointment, by=request.user, attendance=arguments.pop("attendance"), **arguments
        )
        return contact

    return session_page(
        request, appointment.referral, initial=initial, record=record, prefilled=words, focus_first_unanswered=True
    )


# --- booking ---------------------------------------------------------------------------------------


@require_GET
def waiting(request):
    """Waiting for a first assessment, longest wait first, against 6 and 18 weeks; booked or not."""
    today = timezone.localdate()
    referrals = list(queries.waiting_for_assessment(request.user)[:500])
    return render(
        request,
        "appointments/waiting.html",
        {
            "rows": presenters.waiting_rows(referrals, today),
            "can_book": permissions.may(request.user, "book_appointment"),
        },
    )


def book(request, pk):
    """Book the referral's next appointment, or a weekly series; from the waiting list a first assessment."""
    referral = get_object_or_404(Referral.objects.visible_to(request.user).select_related("patient"), pk=pk)
    if request.method == "GET":
        permissions.require(request.user, "book_appointment", referral)
    clinicians = queries.team_clinicians(referral.team_id)
    first = referral.status == "awaiting_assessment"
    initial = {
        "appointment_type": request.GET.get("type") or ("01" if first else "02"),
        "clinician": referral.care_coordinator_id or (request.user.pk if request.user.is_clinician else None),
        "date": request.GET.get("date") or timezone.localdate() + timedelta(days=1),
        "time": request.GET.get("time") or "09:00",
    }
    if request.GET.get("clinician"):
        initial["clinician"] = request.GET["clinician"]
    form = BookForm(request.POST or None, clinicians=clinicians, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {
            "referral": referral,
            "clinician": data["clinician"],
            "starts_at": form.starts_at(),
            "appointment_type": data["appointment_type"],
            "mechanism": data["mechanism"],
            "by": request.user,
        }
        try:
            if data["count"] > 1:
                booked = services.book_series(count=data["count"], **arguments)
            else:
                booked = [services.book(**arguments)]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            first_at = timezone.localtime(booked[0].starts_at)
            what = f"{len(booked)} weekly appointments from" if len(booked) > 1 else "Appointment booked for"
            messages.success(request, f"{what} {first_at:%a %-d %b %Y at %H:%M} with {data['clinician']}.")
            return redirect("referrals:detail", pk=referral.pk)
    return render(
        request,
        "appointments/book.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            "appointments": presenters.referral_rows(queries.referral_appointments(referral)[:20]),
        },
        status=INVALID if request.method == "POST" else 200,
    )


def reschedule(request, pk):
    appointment = _appointment(request, pk)
    if request.method == "GET":
        permissions.require(request.user, "book_appointment", appointment.referral)
    local = timezone.localtime(appointment.starts_at)
    form = RescheduleForm(
        request.POST or None, initial={"date": local.date(), "time": local.time(), "version": appointment.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.reschedule(
                appointment=appointment,
                starts_at=form.starts_at(),
                by=request.user,
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Moved to {timezone.localtime(moved.starts_at):%a %-d %b %Y at %H:%M}.")
            return redirect("referrals:detail", pk=appointment.referral_id)
    return _change_page(request, appointment, form, "Move the appointment")


def cancel(request, pk):
    appointment = _appointment(request, pk)
    if request.method == "GET":
        permissions.require(request.user, "cancel_appointment", appointment.referral)
    form = CancelForm(request.POST or None, initial={"version": appointment.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel(
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "The appointment is cancelled; the time is free again.")
            return redirect("referrals:detail", pk=appointment.referral_id)
    return _change_page(request, appointment, form, "Cancel the appointment")


def _change_page(request, appointment, form, title):
    return render(
        request,
        "appointments/change.html",
        {
            "appointment": appointment,
            "referral": appointment.referral,
            "patient": appointment.referral.patient,
            "form": form,
            "title": title,
        },
        status=INVALID if request.method == "POST" else 200,
    )


@require_GET
def free_slots(request):
    """The team's free slots for a day or a week: working patterns minus leave minus bookings."""
    if request.user.team_id is None:
        raise Http404
    first_day = _day(request)
    days = 7 if request.GET.get("span") == "week" else 1
    kind = request.GET.get("type", "01")
    kind = kind if kind in ("01", "02") else "01"
    minutes = services.length_of(request.user.team_id, kind)
    slots = queries.free_slots(request.user.team_id, first_day, days, minutes)
    return render(
        request,
        "appointments/free_slots.html",
        {
            "rows_html": presenters.slot_rows_html(slots),
            "columns": presenters.slot_days(slots),
            "first_day": first_day,
            "days": days,
            "type": kind,
            "minutes": minutes,
            "previous": first_day - timedelta(days=days),
            "next": first_day + timedelta(days=days),
        },
    )


# --- calendar feed ---------------------------------------------------------------------------------


@never_cache
def calendar(request):
    """The clinician's secret calendar address: made (or made anew, the old one stops) by a POST, shown once."""
    address = None
    if request.method == "POST":
        token = services.new_calendar_address(clinician=request.user, by=request.user)
        address = request.build_absolute_uri(reverse("appointments:feed", args=[token]))
    else:
        permissions.require(request.user, "own_calendar", request.user)
    has_feed = queries.has_calendar_feed(request.user)
    return render(request, "appointments/calendar.html", {"address": address, "has_feed": has_feed})


@login_not_required
@never_cache
@require_GET
def feed(request, token):
    """The iCal feed behind the secret address: times, type and the patient's initials only."""
    found = queries.calendar_feed(services.feed_hash(token))
    if found is None or not found.clinician.is_active:
        raise Http404
    since = timezone.now() - timedelta(days=30)
    body = presenters.ical(found.clinician, queries.feed_appointments(found.clinician, since))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="diary.ics"'
    return response


# --- leave and cover, working patterns --------------------------------------------------------------


def _team_staff(request):
    if request.user.team_id is None:
        raise Http404
    return queries.team_clinicians(request.user.team_id)


def _own(request):
    """A clinician manages their own diary here; a manager or an administrator chooses whose."""
    return None if permissions.sees_whole_team(request.user) else request.user


@never_cache
def leave(request):
    """Leave and cover: the clinician's own leave and the leave they cover (a manager's or an
    administrator's: the team's), and the form to record leave with a colleague to cover."""
    staff = _team_staff(request)
    own = _own(request)
    form = LeaveForm(request.POST or None, staff=staff.exclude(pk=request.user.pk) if own else staff, own=own)
    if request.method == "POST" and form.is_valid():
        whose = form.whose()
        try:
            services.record_leave(
                clinician=whose,
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                cover=form.cleaned_data["cover"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            cover = form.cleaned_data["cover"]
            messages.success(
                request,
                f"Leave recorded for {whose.get_full_name() or whose}, "
                f"{form.cleaned_data['starts_on']:%-d %b} to {form.cleaned_data['ends_on']:%-d %b %Y}"
                + (f", covered by {cover.get_full_name() or cover}." if cover else ", with no cover."),
            )
            return redirect("appointments:leave")
    today = timezone.localdate()
    rows = list(queries.team_leave(request.user, today - timedelta(days=30)))
    return render(
        request,
        "appointments/leave.html",
        {
            "form": form,
            "rows": [(lv, lv.ends_on < today, lv.starts_on <= today) for lv in rows],
            "today": today,
            "may_manage": {lv.pk for lv in rows if permissions.may(request.user, "manage_diary", lv.clinician)},
        },
        status=INVALID if form.errors else 200,
    )


@require_POST
def withdraw_leave(request, pk):
    try:
        found = queries.visible_leave(request.user, pk)
    except Leave.DoesNotExist:
        raise Http404 from None
    try:
        kept = services.withdraw_leave(leave=found, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        who = found.clinician.get_full_name() or found.clinician
        if kept is None:
            messages.success(request, f"The leave of {who} from {found.starts_on:%-d %b %Y} is withdrawn.")
        else:
            messages.success(request, f"The leave of {who} now ends on {kept.ends_on:%-d %b %Y} (back early).")
    return redirect("appointments:leave")


@never_cache
def working_patterns(request):
    """The working pattern (recurring availability: a weekday, from and to, remote or a room) of the
    clinician (a manager's or an administrator's: the team's), and the form to add a block."""
    staff = _team_staff(request)
    own = _own(request)
    form = WorkingPatternForm(request.POST or None, staff=staff, own=own, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        whose = form.whose()
        try:
            services.add_working_pattern(
                clinician=whose,
                weekday=data["weekday"],
                start=data["start"],
                end=data["end"],
                location=data["location"],
                room=data["room"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Working pattern added for {whose.get_full_name() or whose}.")
            return redirect("appointments:working_patterns")
    return render(
        request,
        "appointments/working_patterns.html",
        {"form": form, "patterns": queries.team_patterns(request.user), "today": timezone.localdate()},
        status=INVALID if form.errors else 200,
    )


@require_POST
def end_working_pattern(request, pk):
    try:
        pattern = queries.visible_pattern(request.user, pk)
    except WorkingPattern.DoesNotExist:
        raise Http404 from None
    try:
        on = date.fromisoformat(request.POST.get("valid_until", ""))
    except ValueError:
        messages.error(request, "Give the last day of these hours as a date.")
        return redirect("appointments:working_patterns")
    try:
        services.end_working_pattern(pattern=pattern, on=on, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Those hours now end on {on:%-d %b %Y}.")
    return redirect("appointments:working_patterns")
