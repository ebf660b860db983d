"""Group workshop pages: thin views over workshops.queries, presenters and services."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common import audit, permissions, search
from common.redirects import safe_next
from referrals.models import Referral
from referrals.queries import patient_search
from stepped_care.models import Staff

from . import presenters, rules, services
from .codes import OPEN_STATUSES, CourseStatus
from .forms import (
    CorrectEntryForm,
    CourseForm,
    CourseStatusForm,
    EnrolForm,
    ReferralSearchForm,
    RegisterFormSet,
    WithdrawForm,
)
from .models import CourseSession, Enrolment, GroupCourse, RegisterEntry

LIST_FILTERS = {
    "current": ("Current", Q(status__in=OPEN_STATUSES)),
    "completed": ("Completed", Q(status=CourseStatus.COMPLETED)),
    "cancelled": ("Cancelled", Q(status=CourseStatus.CANCELLED)),
    "all": ("All", Q()),
}


def _facilitators():
    return Prefetch("facilitators", queryset=Staff.objects.order_by("last_name", "first_name", "pk"))


def _apply_errors(form, exc):
    for name, msgs in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, msgs)


@require_GET
def course_list(request):
    today = timezone.localdate()
    show = request.GET.get("show", "current")
    if show not in LIST_FILTERS:
        show = "current"
    courses = (
        GroupCourse.objects.visible_to(request.user)
        .filter(LIST_FILTERS[show][1])
        .with_stats(today)
        .prefetch_related(_facilitators())
        .order_by("starts_on", "title", "pk")
    )
    page = Paginator(courses, 50).get_page(request.GET.get("page"))
    rows = [(course, presenters.figures(course)) for course in page]
    return render(
        request,
        "workshops/course_list.html",
        {
            "page": page,
            "rows": rows,
            "show": show,
            "show_query": urlencode({"show": show}),
            "filters": [(key, label) for key, (label, _) in LIST_FILTERS.items()],
            "waiting_count": Enrolment.objects.visible_to(request.user).waiting(today).count(),
            "can_plan": permissions.may(request.user, "plan_course"),
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def course_create(request):
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "plan_course", request.user.team)
    form = CourseForm(request.POST or None, team=request.user.team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = services.create_course(
                by=request.user,
                title=data["title"],
                topic=data["topic"],
                step=data["step"],
                facilitators=data["facilitators"],
                capacity=data["capacity"],
                delivery=data["delivery"],
                venue=data["venue"],
                session_minutes=data["session_minutes"],
                sessions=form.sessions(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{course} is planned with {data['session_count']} sessions.")
            if GroupCourse.objects.visible_to(request.user).filter(pk=course.pk).exists():
                return redirect("workshops:course", pk=course.pk)
            return redirect("workshops:list")
    return render(request, "workshops/course_form.html", {"form": form})


@require_GET
def course_detail(request, pk):
    today = timezone.localdate()
    course = get_object_or_404(
        GroupCourse.objects.visible_to(request.user).with_stats(today).prefetch_related(_facilitators()), pk=pk
    )
    # each session with the number of facilitators' diaries holding it (appointments' diary rows)
    live_holds = Count("diary_blocks", filter=~Q(diary_blocks__status="cancelled"))
    sessions = list(course.sessions.annotate(held=live_holds).order_by("number"))
    members = presenters.course_members(course, sessions)
    registered = {sessions[n].pk for m in members for n, cell in enumerate(m.cells) if cell}
    services.record_view(request.user, "course.view", course, [m.enrolment.referral.patient_id for m in members])
    return render(
        request,
        "workshops/course_detail.html",
        {
            "course": course,
            "figures": presenters.figures(course),
            "sessions": [(s, s.pk in registered) for s in sessions],
            "members": members,
            "active_members": [m for m in members if m.enrolment.withdrawn_on is None],
            "withdrawn_members": [m for m in members if m.enrolment.withdrawn_on is not None],
            "today": today,
            "is_open": course.status in OPEN_STATUSES,
            "next_statuses": [(s, CourseStatus(s).label) for s in sorted(services.TRANSITIONS[course.status])],
        },
    )


@require_POST
def course_status(request, pk):
    course = get_object_or_404(GroupCourse.objects.visible_to(request.user), pk=pk)
    form = CourseStatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_course_status(
                course=course, status=form.cleaned_data["status"], note=form.cleaned_data["note"], by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
        else:
            course.refresh_from_db(fields=["status"])
            messages.success(request, f"The course is now {course.get_status_display().lower()}.")
    return redirect("workshops:course", pk=course.pk)


@require_POST
def hold_diaries(request, pk):
    """'Book into diaries': the course's sessions to come held in its facilitators' diaries."""
    course = get_object_or_404(GroupCourse.objects.visible_to(request.user), pk=pk)
    try:
        held = services.hold_diaries(course=course, by=request.user)
    except ValidationError as exc:  # a clash (appointments.services.Clash) names the session
        messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
    else:
        if held:
            messages.success(request, f"{len(held)} session times held in the facilitators' diaries.")
        else:
            messages.info(request, "Every session to come with a time is already in the facilitators' diaries.")
    return redirect("workshops:course", pk=course.pk)


def _session_context(session):
    course = session.course
    return {"session": session, "course": course, "facilitators": list(course.facilitators.all())}


@require_http_methods(["GET", "POST"])
def register(request, pk):
    """One screen: every enrolled patient's attendance and PHQ-9/GAD-7 for this session."""
    session = get_object_or_404(CourseSession.objects.visible_to(request.user).select_related("course"), pk=pk)
    today = timezone.localdate()
    due = list(services.register_rows(session))
    by_id = {e.pk: e for e in due}
    initial = [{"enrolment": e.pk} for e in due]
    problems = []
    if request.method == "POST":
        formset = RegisterFormSet(request.POST, initial=initial, prefix="row")
        if not _same_rows(formset, by_id):
            problems = ["The list of patients changed while you were typing: check the rows and save again."]
            formset = RegisterFormSet(initial=_carry(formset, due), prefix="row")
        elif not formset.is_valid():
            _check_parsed_rows(formset)
        else:
            try:
                entries = services.take_register(
                    session=session, rows=[f.cleaned_data for f in formset], by=request.user
                )
            except services.RegisterError as exc:
                problems = exc.errors
                for form, errors in zip(formset, exc.rows, strict=False):
                    for name, msgs in errors.items():
                        form.add_error(name if name in form.fields else None, msgs)
            else:
                attended = sum(1 for e in entries if e.contact.attended)
                messages.success(
                    request,
                    f"Register saved: {attended} of {len(entries)} attended session {session.number}; "
                    f"{len(entries)} group contacts recorded.",
                )
                return redirect("workshops:course", pk=session.course_id)
    else:
        formset = RegisterFormSet(initial=initial, prefix="row")
    rows = [(form, by_id.get(_enrolment_id(form))) for form in formset]
    done = presenters.session_register(session)
    services.record_view(
        request.user,
        "register.view",
        session,
        [e.referral.patient_id for e in due] + [entry.enrolment.referral.patient_id for entry, _ in done],
    )
    return render(
        request,
        "workshops/register.html",
        {
            **_session_context(session),
            "formset": formset,
            "rows": rows,
            "done": done,
            "problems": problems,
            "future": session.date > today,
            "closed": session.course.status not in OPEN_STATUSES,
            "can_take": permissions.may(request.user, "take_register", session.course),
        },
    )


def _enrolment_id(form):
    value = form.cleaned_data.get("enrolment") if hasattr(form, "cleaned_data") else None
    if value is None:
        value = form.data.get(form.add_prefix("enrolment")) if form.is_bound else form.initial.get("enrolment")
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _same_rows(formset, by_id):
    ids = [_enrolment_id(f) for f in formset]
    return None not in ids and sorted(ids) == sorted(by_id)


def _carry(formset, due):
    """Initial values for a fresh formset over ``due``, keeping what was typed for known rows."""
    typed = {}
    for form in formset:
        eid = _enrolment_id(form)
        if eid is not None:
            typed[eid] = {name: form.data.get(form.add_prefix(name), "") for name in form.fields}
    return [typed.get(e.pk, {}) | {"enrolment": e.pk} for e in due]


def _check_parsed_rows(formset):
    """Some rows did not parse: also report the rules' findings on the rows that did, in one pass."""
    for form in formset:
        if form.errors:
            continue
        data = form.cleaned_data
        for name, message in rules.check_row(
            attendance=data.get("attendance"),
            phq9=data.get("phq9"),
            gad7=data.get("gad7"),
            risk_note=data.get("risk_note", ""),
        ).items():
            form.add_error(name, message)


@require_http_methods(["GET", "POST"])
def correct_entry(request, pk):
    visible = GroupCourse.objects.visible_to(request.user).values("pk")
    entry = get_object_or_404(
        RegisterEntry.objects.valid()
        .filter(session__course__in=visible)
        .select_related("session__course", "contact", "enrolment__referral__patient"),
        pk=pk,
    )
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "take_register", entry.session.course)
    form = CorrectEntryForm(request.POST or None)
    if request.method == "GET":
        audit.record_view(request, entry, action="register_entry.view", patient_id=entry.enrolment.referral.patient_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_entry(entry=entry, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"{entry.enrolment.referral.patient}'s row is marked entered in error; enter it again below.",
            )
            return redirect("workshops:register", pk=entry.session_id)
    return render(request, "workshops/correct_entry.html", {"entry": entry, "form": form})


@require_http_methods(["GET", "POST"])
def enrol(request, pk):
    """GET (facilitators, managers): find referrals to enrol. POST (anyone offering the course): enrol one.

    The search itself is POSTed too and kept in the session (``common.search``): a patient's
    name or NHS number never goes into the URL.
    """
    search_key = f"enrol:{pk}"
    if request.method == "POST" and ("q" in request.POST or "clear" in request.POST):
        get_object_or_404(GroupCourse.objects.visible_to(request.user), pk=pk)
        return search.remember(request, search_key)
    if request.method == "POST":
        course = get_object_or_404(GroupCourse.objects.offerable_to(request.user), pk=pk)
        enrol_form = EnrolForm(request.POST)
        if not enrol_form.is_valid():
            back = safe_next(request, reverse("workshops:waiting"))
            return render(
                request,
                "workshops/enrol_invalid.html",
                {"course": course, "form": enrol_form, "back": back},
                status=400,
            )
        referral = get_object_or_404(Referral.objects.visible_to(request.user), pk=enrol_form.cleaned_data["referral"])
        default = reverse("workshops:offer", args=[referral.pk])
        if GroupCourse.objects.visible_to(request.user).filter(pk=course.pk).exists():
            default = reverse("workshops:course", args=[course.pk])
        try:
            services.enrol(course=course, referral=referral, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
        else:
            messages.success(request, f"{referral.patient} is enrolled on {course}.")
        return redirect(safe_next(request, default))
    course = get_object_or_404(GroupCourse.objects.visible_to(request.user).with_stats(timezone.localdate()), pk=pk)
    text = search.current(request, search_key)
    form = ReferralSearchForm({"q": text} if text else None)
    results = []
    if form.is_valid() and form.cleaned_data["q"].strip():
        q = form.cleaned_data["q"].strip()
        enrolled = Enrolment.objects.filter(course=course, withdrawn_on__isnull=True).values("referral_id")
        match = patient_search(q, prefix="patient__")
        results = list(
            Referral.objects.visible_to(request.user)
            .active()
            .filter(team_id=course.team_id)
            .filter(match)
            .exclude(pk__in=enrolled)
            .select_related("patient", "care_coordinator")
            .order_by("patient__family_name", "patient__given_name", "-received_on")[:25]
        )
    return render(
        request,
        "workshops/enrol.html",
        {"course": course, "figures": presenters.figures(course), "form": form, "results": results},
    )


@require_http_methods(["GET", "POST"])
def withdraw(request, pk):
    enrolment = get_object_or_404(
        Enrolment.objects.visible_to(request.user).select_related("course", "referral__patient"), pk=pk
    )
    default = reverse("workshops:offer", args=[enrolment.referral_id])
    if GroupCourse.objects.visible_to(request.user).filter(pk=enrolment.course_id).exists():
        default = reverse("workshops:course", args=[enrolment.course_id])
    form = WithdrawForm(request.POST or None)
    if request.method == "GET":
        audit.record_view(request, enrolment, patient_id=enrolment.referral.patient_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.withdraw(
                enrolment=enrolment, reason=data["reason"], note=data["note"], on=data["withdrawn_on"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{enrolment.referral.patient} is withdrawn from {enrolment.course}.")
            return redirect(safe_next(request, default))
    return render(request, "workshops/withdraw.html", {"enrolment": enrolment, "form": form, "back": default})


@require_GET
def offer(request, referral_id):
    """Offer a group to one referral: the team's open courses with places, and its enrolments so far."""
    referral = get_object_or_404(Referral.objects.visible_to(request.user).select_related("patient"), pk=referral_id)
    audit.record_view(request, referral, action="referral.groups.view")
    today = timezone.localdate()
    courses = list(
        GroupCourse.objects.offerable_to(request.user)
        .filter(team_id=referral.team_id)
        .with_stats(today)
        .prefetch_related(_facilitators())
        .order_by("starts_on", "title", "pk")
    )
    enrolments = list(referral.enrolments.select_related("course").order_by("-enrolled_on", "-pk"))
    enrolled_in = {e.course_id for e in enrolments if e.withdrawn_on is None}
    return render(
        request,
        "workshops/offer.html",
        {
            "referral": referral,
            "courses": [(c, presenters.figures(c)) for c in courses],
            "enrolments": enrolments,
            "enrolled_in": enrolled_in,
            "can_enrol": referral.is_active and permissions.may(request.user, "book_group_place", referral),
        },
    )


@require_GET
def waiting(request):
    """Referrals enrolled on a course that has not started yet."""
    today = timezone.localdate()
    enrolments = list(
        Enrolment.objects.visible_to(request.user)
        .waiting(today)
        .select_related("course", "referral__patient", "referral__care_coordinator")
        .order_by("course_starts_on", "referral__received_on", "pk")
    )
    visible_courses = set(GroupCourse.objects.visible_to(request.user).values_list("pk", flat=True))
    rows = [
        {
            "enrolment": e,
            "course_visible": e.course_id in visible_courses,
            "days_since_referral": (today - e.referral.received_on).days,
            "days_enrolled": (today - e.enrolled_on).days,
        }
        for e in enrolments
    ]
    return render(request, "workshops/waiting.html", {"rows": rows, "today": today})
