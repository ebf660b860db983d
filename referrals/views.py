"""The clinician's pages: caseload, waiting list and allocation, new patient and referral, the
referral page, log a session, presenting problems, change step, discharge, contact entered in error.

Thin: a form parses, a service writes (and validates), a query reads. Every read is scoped with
``visible_to(user)``, so a record the user may not see is a 404, never a 403 that confirms it exists.
List pages run a fixed number of queries whatever their length (see tests/referrals/test_views.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common import audit, permissions, search
from common import sessions as idle
from common.exceptions import Conflict
from common.idempotency import form_once, form_token
from common.plausibility import digits_only
from common.redirects import safe_next
from common.standards import standards
from outcomes.problems import measure_words
from outcomes.services import compute_outcome
from stepped_care import services as stepped_care_services
from stepped_care.models import Step, StepSource
from stepped_care.queries import clinician_rows, expected_curves
from stepped_care.services import change_step

from . import presenters, queries, services, tables
from .codes import ACTIVE_STATUSES, WAITING_STATUSES, AppointmentType, PresentingProblem
from .forms import (
    AllocateForm,
    ContactErrorForm,
    DischargeForm,
    PatientForm,
    PresentingProblemForm,
    ReferralForm,
    SessionForm,
    StepForm,
)
from .models import CareContact, Patient, Referral
from .queries import patient_search

INVALID = 400  # a form with errors is re-rendered with this status, everything typed kept


# --- helpers -------------------------------------------------------------------------------------


def _visible_referral(request, pk, *related):
    return get_object_or_404(
        Referral.objects.visible_to(request.user).select_related("patient", "care_coordinator", *related), pk=pk
    )


def _rebind_with_version(form_class, request, referral, **kwargs):
    """After a conflict: keep what was typed, but carry the current version so that a deliberate
    second submit goes through."""
    data = request.POST.copy()
    data["version"] = str(Referral.objects.values_list("version", flat=True).get(pk=referral.pk))
    form = form_class(data, **kwargs)
    form.is_valid()
    return form


def _sorting(request, sorts, default):
    """Parse ``?sort=key`` / ``?sort=-key`` and build the column header links (keeping filters)."""
    raw = request.GET.get("sort") or default
    key = raw.lstrip("-")
    if key not in sorts:
        raw, key = default, default.lstrip("-")
    descending = raw.startswith("-")
    order = []
    for field, reverse_ in sorts[key]:
        expr = F(field)
        order.append(expr.desc(nulls_last=True) if descending != reverse_ else expr.asc(nulls_last=True))
    params = {k: v for k, v in request.GET.items() if k not in ("sort", "page") and v}  # a new order starts at page 1
    links = {}
    for name in sorts:
        next_sort = f"-{name}" if (name == key and not descending) else name
        links[name] = {
            "href": "?" + urlencode({**params, "sort": next_sort}),
            "aria_sort": ("descending" if descending else "ascending") if name == key else None,
        }
    return order, links, raw


# --- caseload and waiting list -------------------------------------------------------------------

CASELOAD_SORTS = {
    "attention": [("has_risk_flag", True), ("open_flag_count", True), ("last_attended_on", False)],
    "patient": [("patient__family_name", False), ("patient__given_name", False)],
    "step": [("current_step", False)],
    "status": [("status", False)],
    "sessions": [("sessions_attended", False)],
    "phq9": [("phq9_last", False)],
    "gad7": [("gad7_last", False)],
    # fewer days since the last contact = a later date
    "days": [("last_attended_on", True)],
}


# What a list row never shows of a patient: left unread (the JSON of conditions would be decoded per row).
LIST_ROW_DEFERS = (
    "patient__phone",
    "patient__email",
    "patient__address",
    "patient__postcode",
    "patient__gp_practice",
    "patient__long_term_conditions",
)

# What a waiting-list row never shows (referrals.tables.waiting_rows_html): fewer fields to build per row.
WAITING_ROW_DEFERS = (
    *LIST_ROW_DEFERS,
    "team",
    "discharged_on",
    "end_code",
    "created_at",
    "patient__team",
    "patient__created_at",
    "patient__version",
    *(
        f"care_coordinator__{name}"
        for name in (
            "password",
            "last_login",
            "is_superuser",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "team",
            "role",
            "is_supervisor",
        )
    ),
)


@never_cache
@require_http_methods(["GET", "POST"])
def caseload(request):
    """My caseload: referrals I coordinate or treat, with scores, trend, flags and last contact.

    The patient search is POSTed and kept in the session (``common.search``), never in the URL.
    """
    if request.method == "POST":
        return search.remember(request, "caseload", keep=("status", "step", "flagged", "sort"))
    user = request.user
    qs = Referral.objects.caseload_of(user).with_list_facts().with_trends_and_flags().defer(*LIST_ROW_DEFERS)
    qs = qs.select_related(None).select_related("patient")  # a caseload row names no care coordinator
    filters = {
        "q": search.current(request, "caseload"),
        "status": request.GET.get("status", ""),
        "step": request.GET.get("step", ""),
        "flagged": request.GET.get("flagged", ""),
    }
    qs = qs.filter(patient_search(filters["q"], prefix="patient__"))
    if filters["status"] in ACTIVE_STATUSES:
        qs = qs.filter(status=filters["status"])
    if filters["step"] == "none":
        qs = qs.filter(current_step__isnull=True)
    elif digits_only(filters["step"]):
        qs = qs.filter(current_step=int(filters["step"]))
    if filters["flagged"]:
        qs = qs.filter(open_flag_count__gt=0)
    order, links, current = _sorting(request, CASELOAD_SORTS, "attention")
    rows = presenters.caseload_rows(qs.order_by(*order, "patient__family_name", "pk"), timezone.localdate())
    return render(
        request,
        "referrals/caseload.html",
        {
            "rows": rows,
            "rows_html": tables.caseload_rows_html(rows),
            "filters": filters,
            "filtered": any(filters.values()),
            "sort_links": links,
            "sort": current,
            "status_choices": [(s.value, s.label) for s in ACTIVE_STATUSES],
            "step_choices": Step.choices,
        },
    )


WAITING_PAGE_SIZE = 50
WAITING_SORTS = {
    "waited": [("received_on", False)],
    "patient": [("patient__family_name", False), ("patient__given_name", False)],
    "status": [("status", False)],
    "step": [("current_step", False)],
    "problem": [("presenting_problem", False)],
    "coordinator": [("care_coordinator__last_name", False)],
}


@never_cache
@require_http_methods(["GET", "POST"])
def waiting_list(request):
    """The team's referrals awaiting assessment or treatment, oldest wait first, with allocation.

    The patient search is POSTed and kept in the session (``common.search``), never in the URL.
    """
    if request.method == "POST":
        return search.remember(request, "waiting_list", keep=("status", "problem", "allocation", "sort"))
    user = request.user
    qs = queries.waiting_list_of(user, defer=WAITING_ROW_DEFERS)
    filters = {
        "q": search.current(request, "waiting_list"),
        "status": request.GET.get("status", ""),
        "problem": request.GET.get("problem", ""),
        "allocation": request.GET.get("allocation", ""),
    }
    qs = qs.filter(patient_search(filters["q"], prefix="patient__"))
    if filters["status"] in WAITING_STATUSES:
        qs = qs.filter(status=filters["status"])
    if filters["problem"] in PresentingProblem.values:
        qs = qs.filter(presenting_problem=filters["problem"])
    if filters["allocation"] == "unallocated":
        qs = qs.filter(care_coordinator__isnull=True)
    elif filters["allocation"] == "allocated":
        qs = qs.filter(care_coordinator__isnull=False)
    order, links, current = _sorting(request, WAITING_SORTS, "waited")
    qs = qs.order_by(*order, "patient__family_name", "pk")
    can_allocate = permissions.may(user, "allocate")
    # A county service waits in thousands: a page at a time (one count query more).
    page = Paginator(qs, WAITING_PAGE_SIZE).get_page(request.GET.get("page"))
    waits = standards()["waits"]
    rows = presenters.waiting_rows(page.object_list, timezone.localdate(), waits)
    return render(
        request,
        "referrals/waiting_list.html",
        {
            "rows": rows,
            "rows_html": tables.waiting_rows_html(rows, can_allocate=can_allocate),
            "page": page,
            "page_query": urlencode({k: v for k, v in request.GET.items() if k != "page" and v}),
            "filters": filters,
            "filtered": any(filters.values()),
            "sort_links": links,
            "sort": current,
            "can_allocate": can_allocate,
            "clinician_options": tables.clinician_options_html(clinician_rows(user.team_id), user.pk)
            if can_allocate
            else "",
            "status_choices": [(s.value, s.label) for s in WAITING_STATUSES],
            "problem_choices": PresentingProblem.choices,
            "waits": waits,
        },
    )


@require_POST
def allocate(request, pk):
    """Make a clinician the care coordinator (audited; shown in the referral's history). The service
    decides who may (a refusal is the 403 page)."""
    referral = _visible_referral(request, pk)
    data = request.POST.copy()
    if f"version-{pk}" in data:  # the waiting list: one form for the page, a version per row
        data["version"] = data[f"version-{pk}"]
    form = AllocateForm(data, team_id=referral.team_id)
    back = safe_next(request, "referrals:waiting_list")
    if not form.is_valid():
        messages.error(request, "Choose a clinician of the team to allocate to.")
        return redirect(back)
    clinician = form.cleaned_data["clinician"]
    try:
        services.allocate(
            referral=referral, clinician=clinician, by=request.user, expected_version=form.cleaned_data["version"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        who = "you" if clinician == request.user else str(clinician)
        messages.success(request, f"{referral.patient} is allocated to {who}.")
    return redirect(back)


# --- new patient and new referral ----------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def new_patient(request):
    """Register a patient, or find the person the service already knows by NHS number and date of birth
    (``find_or_register_patient``): another team's patient is linked without a word of their care; a
    mismatch says only to check the details; one already of the user's team is offered, not repeated."""
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "register_patient", request.user.team)
    form = PatientForm(request.POST or None)
    context = {"form": form, "form_token": form_token(request)}

    def register():
        if form.is_valid():
            details = dict(form.cleaned_data)
            try:
                patient, created = services.find_or_register_patient(
                    details.pop("nhs_number"),
                    details.pop("date_of_birth"),
                    by=request.user,
                    refuse_team_duplicate=True,
                    **details,
                )
            except services.AlreadyRegistered as exc:
                form.add_error("nhs_number", exc.message)
                context["existing_url"] = _record_of(request.user, exc.patient) if exc.visible else None
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if created:
                    messages.success(request, f"{patient} is registered. Now record the referral.")
                else:
                    messages.success(
                        request,
                        f"{patient} is already known to the service: they are now registered with your team "
                        "too (nothing of another team's care is shared). Now record the referral.",
                    )
                return redirect("referrals:new_referral", pk=patient.pk)
        return render(request, "referrals/patient_form.html", context, status=INVALID)

    if request.method == "POST":
        return form_once(request, register, already="This patient was already registered from this form.")
    return render(request, "referrals/patient_form.html", context)


def _record_of(user, patient):
    """Where a patient already registered with the user's team is: their latest referral the user may
    see, else the form for their first referral."""
    latest = Referral.objects.visible_to(user).filter(patient=patient).order_by("-received_on").first()
    if latest is not None:
        return reverse("referrals:detail", kwargs={"pk": latest.pk})
    return reverse("referrals:new_referral", kwargs={"pk": patient.pk})


@never_cache
@require_http_methods(["GET", "POST"])
def new_referral(request, pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "register_referral", patient)
    form = ReferralForm(request.POST or None, user=request.user, patient=patient)
    context = {"form": form, "patient": patient, "form_token": form_token(request)}

    def record():
        if form.is_valid():
            data = dict(form.cleaned_data)
            assess_now = data.pop("assess_now", False)
            if data.get("presenting_problem_code"):
                data["presenting_problem"] = None  # the code is the more precise answer; its problem follows
            try:
                referral = services.create_referral(by=request.user, patient=patient, **data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Referral of {patient} recorded.")
                if not Referral.objects.visible_to(request.user).filter(pk=referral.pk).exists():
                    return redirect("referrals:waiting_list")
                if assess_now and permissions.may(request.user, "record_care", referral):
                    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
                    return redirect(f"{url}?type={AppointmentType.ASSESSMENT}")
                return redirect("referrals:detail", pk=referral.pk)
        return render(request, "referrals/referral_form.html", context, status=INVALID)

    if request.method == "POST":
        return form_once(request, record, already="This referral was already recorded from this form.")
    return render(request, "referrals/referral_form.html", context)


# --- the referral page -----------------------------------------------------------------------------


@never_cache
@require_GET
def referral_detail(request, pk):
    referral = _visible_referral(request, pk, "team")
    audit.record(request.user, "referral.view", referral, patient_id=referral.patient_id)
    contacts = queries.timeline(referral)
    steps = list(referral.steps.select_related("decided_by").order_by("-started_on", "-created_at"))
    events = list(referral.events.select_related("by"))
    open_flags = list(referral.flags.open().risk_first())
    rows = presenters.score_rows(contacts, queries.own_scores(referral))
    expected = expected_curves(referral.team)
    chart, description = presenters.trajectory(rows, expected.curves, expected.tolerance, expected.outer)
    outcome = compute_outcome(referral)
    problems = list(referral.presenting_problems.select_related("created_by").order_by("-recorded_on", "-created_at"))
    columns = presenters.score_columns(rows, outcome)
    measure_charts = presenters.measure_charts(rows, outcome, expected.curves, expected.tolerance, expected.outer)
    today = timezone.localdate()
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "age": presenters.age_on(referral.patient.date_of_birth, today),
            "step_label": presenters.step_label(referral.current_step),
            "contacts": contacts,
            "contacts_html": tables.contacts_html(
                contacts, can_mark_error=permissions.may(request.user, "mark_in_error", referral)
            ),
            "steps": steps,
            "history": presenters.history(events, steps),
            "open_flags": open_flags,
            "flags_html": _flags_html(request, referral, open_flags),
            "score_rows": rows,
            "latest_phq9": next((r.phq9 for r in reversed(rows) if r.phq9), None),
            "latest_gad7": next((r.gad7 for r in reversed(rows) if r.gad7), None),
            "chart": chart,
            "chart_description": description,
            "chart_svg": tables.trajectory_svg_html(chart, description),
            "expected": expected,
            "measure_charts": measure_charts,
            "measure_charts_html": tables.measure_charts_html(measure_charts),
            "score_columns": columns,
            "score_table_html": tables.score_table_html(presenters.score_table(rows, columns), columns),
            "outcome": outcome,
            "problems": problems,
            "deciding_problem": presenters.deciding_record(problems),
            "problem_form": tables.unbound_form_html(PresentingProblemForm, referral.version, today),
            "days_waited": (today - referral.received_on).days,
            "is_open": presenters.is_open(referral),
            "step_form": tables.unbound_form_html(StepForm, referral.version, today),
            "discharge_form": tables.unbound_form_html(DischargeForm, referral.version, today),
            "notify_messages": list(referral.messages.select_related("sent_by")[:10]),
            # What a self-referral said beyond the patient record (the front door's), if it came that way.
            "self_referral": referral.self_referral if hasattr(referral, "self_referral") else None,
        },
    )


def _flags_html(request, referral, open_flags):
    """The open flags with, for those who may resolve them (the rulebook), the form of each."""
    resolver = bool(open_flags) and permissions.may(request.user, "resolve_flag", referral)
    return tables.flags_html(
        open_flags, resolver=resolver, csrf_token=get_token(request) if resolver else "", path=request.get_full_path()
    )


# --- log a session ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def log_session(request, pk):
    """Contact details, PHQ-9 and GAD-7 item by item, optional WSAS, all saved in one transaction by
    ``log_contact`` (which also queues the review); with the first step when none is set yet.

    Typed work is never lost: a refused save (the referral discharged in another tab, a stale version,
    a duplicate contact to confirm) shows the form again with everything typed and the reason; the
    form's script keeps a server-side draft (``session_draft``), restored here with a notice."""
    referral = _visible_referral(request, pk)
    initial = {}
    if request.GET.get("type") in AppointmentType.values:
        initial["appointment_type"] = request.GET["type"]
    return session_page(request, referral, initial=initial)


def session_page(request, referral, *, initial, record=None, prefilled=None, focus_first_unanswered=False):
    """The session form for ``referral``: ``log_session``'s, and the one an appointment opens
    (appointments.views.attended), which passes ``record`` (the service call that makes the contact
    from the form's arguments, returning it) and ``prefilled`` (words on the patient's own answers
    the form was filled with)."""
    if record is None:

        def record(**arguments):
            return services.log_contact(referral=referral, by=request.user, **arguments)

    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "record_care", referral)
        if not presenters.is_open(referral):
            messages.error(request, "This referral has been discharged: sessions can no longer be logged.")
            return redirect("referrals:detail", pk=referral.pk)
    problem = queries.deciding_problem(referral)
    extra = request.POST.getlist("extra_measure") if request.method == "POST" else request.GET.getlist("add")
    adding = request.POST.get("add_measure")
    draft = None
    if request.method == "GET":
        draft = services.restored_session_draft(referral=referral, author=request.user)
        if draft is not None:
            extra = [*extra, *draft.fields.get("extra_measure", [])]
            initial = {key: values[0] for key, values in draft.fields.items() if values and key != "extra_measure"}
    if adding:  # another measure on request: show it, keep everything typed, save nothing yet
        initial = {key: request.POST.get(key) for key in request.POST if key not in ("csrfmiddlewaretoken",)}
        form = SessionForm(referral=referral, problem=problem, extra_measures=[*extra, adding], initial=initial)
    else:
        form = SessionForm(
            request.POST or None, referral=referral, problem=problem, extra_measures=extra, initial=initial
        )
    context = {"duplicate": None}

    def page(status):
        rows = presenters.score_rows(
            referral.contacts.select_related("clinician").prefetch_related("questionnaires").order_by("-date")[:20],
            queries.own_scores(referral, limit=10),
        )
        return render(
            request,
            "referrals/session_form.html",
            {
                "referral": referral,
                "patient": referral.patient,
                "form": form,
                "form_token": form_token(request),
                "draft": draft,
                "duplicate": context["duplicate"],
                "questionnaires": form.questionnaires(),
                "measures_to_add": form.measures_to_add(),
                "anxiety_words": measure_words(problem),
                "questionnaire_spec": presenters.questionnaire_spec(),
                "step_label": presenters.step_label(referral.current_step),
                "latest": rows[-1] if rows else None,
                "patient_completed": presenters.patient_completed_words(rows, timezone.localdate()),
                "prefilled": prefilled,
                "focus_first_unanswered": focus_first_unanswered,
            },
            status=status,
        )

    def save():
        if not form.is_valid():
            return page(INVALID)
        try:
            with transaction.atomic():
                contact = record(**form.service_arguments())
                step, reason = form.cleaned_data.get("first_step"), form.cleaned_data.get("step_reason")
                if "first_step" in form.fields and (step or (reason or "").strip()):
                    assessed = contact.appointment_type in (
                        AppointmentType.ASSESSMENT,
                        AppointmentType.ASSESSMENT_AND_TREATMENT,
                    )
                    change_step(
                        referral=referral,
                        step=step,
                        reason=reason,
                        by=request.user,
                        source=StepSource.ASSESSMENT if assessed else StepSource.CLINICIAN,
                        on=contact.date,
                    )
                services.discard_session_draft(referral=referral, author=request.user, reason="saved")
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.DuplicateContact as exc:
            form.add_error(None, exc.message)
            context["duplicate"] = exc.existing
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            scores = ", ".join(presenters.score_words(q.measure, q.total) for q in contact.questionnaires.all())
            messages.success(
                request, f"Session of {contact.date:%d %b %Y} saved." + (f" Scores: {scores}." if scores else "")
            )
            return redirect("referrals:detail", pk=referral.pk)
        return page(INVALID)

    if request.method == "POST" and not adding:
        return form_once(request, save, already="This session was already saved: it is not saved twice.")
    return page(200)


@never_cache
@require_POST
def session_draft(request, pk):
    """Keep (or, with ``discard``, delete) the signed-in clinician's draft of this referral's session form.

    Called by static/js/session_draft.js every 30 seconds and on leaving the page (a form body with the
    CSRF token, so ``navigator.sendBeacon`` can send it); answers JSON. The discard button of the
    restored-draft notice posts here without JavaScript and comes back to the form."""
    referral = _visible_referral(request, pk)
    if request.POST.get("discard"):
        services.discard_session_draft(referral=referral, author=request.user)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"discarded": True})
        messages.info(request, "The unsaved draft was discarded.")
        return redirect("referrals:log_session", pk=referral.pk)
    try:
        draft = services.save_session_draft(referral=referral, by=request.user, posted=dict(request.POST.lists()))
    except ValidationError as exc:
        return JsonResponse({"saved": False, "errors": exc.message_dict}, status=400)
    return JsonResponse({"saved": True, "saved_at": timezone.localtime(draft.saved_at).strftime("%H:%M")})


# --- step, discharge, corrections ------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def change_step_view(request, pk):
    referral = _visible_referral(request, pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "change_step", referral)
    form = StepForm(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        try:
            assignment = change_step(
                referral=referral,
                step=form.cleaned_data["step"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                on=form.cleaned_data.get("started_on"),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form = _rebind_with_version(StepForm, request, referral)
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Moved to {presenters.step_label(assignment.step)}.")
            return redirect(reverse("referrals:detail", kwargs={"pk": referral.pk}) + "#history")
    return render(
        request,
        "referrals/change_step.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            "step_label": presenters.step_label(referral.current_step),
        },
        status=INVALID if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def presenting_problem_view(request, pk):
    """Record a presenting problem (ICD-10, primary or secondary, dated): clinicians on the case."""
    referral = _visible_referral(request, pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "record_problem", referral)
    form = PresentingProblemForm(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.record_presenting_problem(
                referral=referral,
                code=data["code"],
                significance=data["significance"],
                recorded_on=data["recorded_on"],
                by=request.user,
                expected_version=data["version"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form = _rebind_with_version(PresentingProblemForm, request, referral)
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, f"Presenting problem {record.code} {record.title} recorded ({record.significance})."
            )
            return redirect(reverse("referrals:detail", kwargs={"pk": referral.pk}) + "#problems")
    return render(
        request,
        "referrals/presenting_problem.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            "step_label": presenters.step_label(referral.current_step),
            "deciding": measure_words(queries.deciding_problem(referral)),
        },
        status=INVALID if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def discharge_view(request, pk):
    referral = _visible_referral(request, pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "discharge", referral)
    form = DischargeForm(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        try:
            stepped_care_services.discharge(
                referral=referral,
                by=request.user,
                end_code=form.cleaned_data["end_code"],
                discharged_on=form.cleaned_data["discharged_on"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form = _rebind_with_version(DischargeForm, request, referral)
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{referral.patient} is discharged.")
            return redirect("referrals:detail", pk=referral.pk)
    return render(
        request,
        "referrals/discharge.html",
        {"referral": referral, "patient": referral.patient, "form": form},
        status=INVALID if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def contact_in_error(request, pk):
    """A correction, not an edit: the contact stays, marked entered in error with the reason."""
    contact = get_object_or_404(
        CareContact.objects.visible_to(request.user).select_related("referral__patient", "clinician"), pk=pk
    )
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "mark_in_error", contact.referral)
    form = ContactErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_contact_in_error(contact=contact, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"The {contact} is marked entered in error; outcomes ignore it.")
            return redirect("referrals:detail", pk=contact.referral_id)
    return render(
        request,
        "referrals/contact_in_error.html",
        {"contact": contact, "referral": contact.referral, "patient": contact.referral.patient, "form": form},
        status=INVALID if request.method == "POST" else 200,
    )


# --- keeping a signed-in form alive ------------------------------------------------------------------


@login_not_required
@never_cache
@require_GET
def keepalive(request):
    """Called by the form script while someone is typing, so a long session note does not outlive the
    sign-in; returns the current CSRF token so a form opened before a re-sign-in still saves."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "login_url": reverse("login")}, status=401)
    idle.refresh(request.session)  # the whole SESSION_COOKIE_AGE from now, as it says
    return JsonResponse({"signed_in": True, "csrf": get_token(request), "expires_in": settings.SESSION_COOKIE_AGE})
