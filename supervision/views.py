"""Supervision pages: thin views that parse, call a query or a service, and render.

Every record is fetched through a scoped query (404 for anyone else); every write is a service call
whose ValidationError is shown on the field it names.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common import audit, permissions
from common.csv_export import csv_response
from common.exceptions import Conflict
from common.permissions import Meeting
from common.plausibility import digits_only
from outcomes.metrics import SESSIONS_ATTENDED
from referrals.models import Referral
from stepped_care.models import LOW_INTENSITY_ROLES
from stepped_care.queries import staff_of_users_team

from . import queries, services, tables
from .forms import (
    ComplianceForm,
    CorrectionForm,
    DecisionForm,
    ExtraDecisionForm,
    ReasonForm,
    RelationshipForm,
    SessionForm,
)
from .models import SupervisionRelationship, SupervisionType

EXTRA_CASES = 2
MAX_CASES = 500


def _staff_or_404(user, staff_id):
    return get_object_or_404(queries.staff_visible_to(user).select_related("team"), pk=staff_id)


def _referral_link():
    """The referral page's URL around the id, as (before, after), when the referral pages exist."""
    marker = "00000000-0000-0000-0000-000000000000"
    try:
        url = reverse("referrals:detail", args=[marker])
    except NoReverseMatch:
        return None
    before, after = url.split(marker)
    return (before, after)


def _review_kind(staff):
    return SupervisionType.CASE_MANAGEMENT if staff.role in LOW_INTENSITY_ROLES else SupervisionType.HIGH_INTENSITY


@require_GET
def index(request):
    """Where supervision starts: whom you supervise, who supervises you, recent sessions."""
    user = request.user
    today = timezone.localdate()
    supervising = list(queries.supervisees_of(user))
    people = {}
    for rel in supervising:
        people.setdefault(rel.supervisee, []).append(rel)
    compliance = {row["staff_id"]: row for row in queries.compliance(people, today=today, team=user.team)}
    rows = [
        {"staff": staff, "relationships": rels, "compliance": compliance.get(staff.pk), "kind": _review_kind(staff)}
        for staff, rels in people.items()
    ]
    sessions = list(queries.sessions_visible_to(user)[:10])
    return render(
        request,
        "supervision/index.html",
        {
            "supervising": rows,
            "supervisors": list(queries.supervisors_of(user)),
            "sessions": sessions,
            "is_management": permissions.may(user, "manage_supervision"),
            "own_kind": _review_kind(user),
        },
    )


@require_GET
def case_list(request, staff_id):
    """The prepared case-management list of one supervisee, most urgent first; printable."""
    supervisee = _staff_or_404(request.user, staff_id)
    include_all = request.GET.get("all") == "1"
    prepared = queries.case_list(request.user, supervisee, today=timezone.localdate(), include_all=include_all)
    audit.record(request.user, "supervision.case_list.view", supervisee, changes={"cases": len(prepared.rows)})
    link = _referral_link()
    return render(
        request,
        "supervision/case_list.html",
        {
            "prepared": prepared,
            "supervisee": supervisee,
            "kind": _review_kind(supervisee),
            "can_record": permissions.may(request.user, "record_supervision")
            and (
                request.user.pk == supervisee.pk
                or any(r.supervisee_id == supervisee.pk for r in queries.supervisees_of(request.user))
            ),
            "referral_link": link,
            "rows_html": tables.case_rows_html(prepared.rows, link),
        },
    )


@require_GET
def case_list_csv(request, staff_id):
    supervisee = _staff_or_404(request.user, staff_id)
    today = timezone.localdate()
    prepared = queries.case_list(request.user, supervisee, today=today, include_all=request.GET.get("all") == "1")
    audit.record(request.user, "supervision.case_list.export", supervisee, changes={"cases": len(prepared.rows)})
    rows = [
        [
            "Patient",
            "NHS number",
            "Step",
            SESSIONS_ATTENDED,
            "DNAs",
            "PHQ-9 first",
            "PHQ-9 first severity",
            "PHQ-9 latest",
            "PHQ-9 latest severity",
            "PHQ-9 trend",
            "GAD-7 first",
            "GAD-7 first severity",
            "GAD-7 latest",
            "GAD-7 latest severity",
            "GAD-7 trend",
            "Why listed",
            "Last decision",
            "Last decision date",
            "Last decision notes",
        ]
    ]
    for row in prepared.rows:
        phq, gad = row.trends["phq9"], row.trends["gad7"]
        last = row.last_decision or {}
        rows.append(
            (
                str(row.patient),
                row.patient.nhs_number or "",
                row.step_label,
                row.sessions,
                row.dna_count,
                phq.first,
                phq.first_severity,
                phq.latest,
                phq.latest_severity,
                phq.label,
                gad.first,
                gad.first_severity,
                gad.latest,
                gad.latest_severity,
                gad.label,
                row.why or "Not due",
                last.get("label", ""),
                last.get("date", ""),
                last.get("notes", ""),
            )
        )
    return csv_response(f"case-list-{supervisee.username}-{today:%Y-%m-%d}.csv", rows)


# ---- Recording a session ------------------------------------------------------------------------


def _session_choices(user, supervisee, kind):
    """Who may be named supervisor and supervisees on this form (the service checks again)."""
    team_staff = staff_of_users_team(user)
    active = SupervisionRelationship.objects.filter(ended_on__isnull=True)
    target = supervisee or user
    supervisor_ids = set(active.filter(supervisee=target, kind=kind).values_list("supervisor_id", flat=True))
    if user.is_supervisor or active.filter(supervisor=user).exists():
        supervisor_ids.add(user.pk)
    supervisor_ids.discard(target.pk if supervisee is not None else None)
    if supervisee is not None and kind in queries.CASE_REVIEW_KINDS:
        supervisees = team_staff.filter(pk=supervisee.pk)
    else:
        supervisees = staff_of_users_team(user, clinical=True)
    return team_staff.filter(pk__in=supervisor_ids), supervisees, user.pk in supervisor_ids


def _apply_errors(exc, session_form, decision_forms):
    """Put a service's ValidationError onto the session form and the decision row it names."""
    for key, msgs in exc.message_dict.items():
        parts = key.split(".")
        if (
            parts[0] == "decisions"
            and len(parts) >= 2
            and digits_only(parts[1])
            and int(parts[1]) < len(decision_forms)
        ):
            form = decision_forms[int(parts[1])]
            field = parts[2] if len(parts) > 2 else None
            for msg in msgs:
                form.add_error(field if field in form.fields else None, msg)
        else:
            for msg in msgs:
                session_form.add_error(key if key in session_form.fields else None, msg)


def _posted_ids(data, name):
    """Staff ids as posted (not yet validated): whatever is not a whole number names nobody."""
    return frozenset(int(v) for v in data.getlist(name) if str(v).isdigit())


def session_new(request):
    """Record a session: its details and, for case reviews, a decision on each case of the list.

    Only its supervisor or a supervisee records it: asked of the rulebook before the form, with the
    people the form names, so that anyone else gets the same refusal as from the API (403)."""
    user = request.user
    if request.method == "POST":
        supervisor_ids = _posted_ids(request.POST, "supervisor")
        permissions.require(
            user,
            "record_supervision",
            Meeting(next(iter(supervisor_ids), None), _posted_ids(request.POST, "supervisees")),
        )
    else:
        permissions.require_role(user, "record_supervision")
    supervisee = None
    supervisee_id = request.GET.get("supervisee")
    if supervisee_id:
        if not digits_only(supervisee_id):
            return redirect("supervision:index")
        supervisee = _staff_or_404(user, int(supervisee_id))
    kind = request.GET.get("kind") or (_review_kind(supervisee) if supervisee else SupervisionType.CLINICAL_SKILLS)
    if kind not in SupervisionType.values:
        kind = SupervisionType.CASE_MANAGEMENT
    reviews_cases = supervisee is not None and kind in queries.CASE_REVIEW_KINDS
    today = timezone.localdate()
    supervisors, supervisee_choices, can_sign_off = _session_choices(user, supervisee, kind)
    minutes = queries.parameters(user.team)["kinds"].get(kind, {}).get("minutes", 60)
    initial = {"kind": kind, "minutes": minutes, "supervisor": user if can_sign_off else None}
    if supervisee is not None:
        initial["supervisees"] = [supervisee]
    elif can_sign_off:
        initial["supervisees"] = list(
            SupervisionRelationship.objects.filter(supervisor=user, kind=kind, ended_on__isnull=True).values_list(
                "supervisee_id", flat=True
            )
        )
    else:
        initial["supervisees"] = [user]
    data = request.POST if request.method == "POST" else None
    form = SessionForm(
        data,
        initial=initial,
        supervisors=supervisors,
        supervisees=supervisee_choices,
        can_sign_off=can_sign_off,
    )
    prepared = rows = None
    case_forms, extra_forms = [], []
    if reviews_cases:
        prepared = queries.case_list(user, supervisee, today=today, include_all=data is not None)
        by_id = {str(row.referral.pk): row for row in prepared.rows}
        if data is None:
            rows = [row for row in prepared.rows if row.listed]
            case_forms = [
                DecisionForm(prefix=f"case-{i}", initial={"referral": row.referral.pk, "version": row.referral.version})
                for i, row in enumerate(rows)
            ]
        else:
            count = min(int(data.get("case_count") or 0) if digits_only(data.get("case_count") or "") else 0, MAX_CASES)
            case_forms = [DecisionForm(data, prefix=f"case-{i}") for i in range(count)]
            rows = [by_id.get(str(data.get(f"case-{i}-referral"))) for i in range(count)]
        cases = list(queries.caseload_choices(user, [supervisee]))
        extra_forms = [ExtraDecisionForm(data, prefix=f"extra-{i}", cases=cases) for i in range(EXTRA_CASES)]
    if request.method == "POST":
        forms_ok = form.is_valid() & all([f.is_valid() for f in case_forms + extra_forms])
        if forms_ok:
            entries, entry_forms = _decision_entries(user, case_forms, extra_forms, rows)
            if entries is not None:
                try:
                    session = services.record_session(
                        by=user,
                        kind=form.cleaned_data["kind"],
                        date=form.cleaned_data["date"],
                        minutes=form.cleaned_data["minutes"],
                        supervisor=form.cleaned_data["supervisor"],
                        supervisees=list(form.cleaned_data["supervisees"]),
                        notes=form.cleaned_data.get("notes", ""),
                        decisions=entries,
                        sign_off=form.cleaned_data.get("sign_off", False),
                    )
                except ValidationError as exc:
                    _apply_errors(exc, form, entry_forms)
                except Conflict as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, _recorded_message(session, len(entries)))
                    return redirect("supervision:session_detail", pk=session.pk)
    return render(
        request,
        "supervision/session_form.html",
        {
            "form": form,
            "supervisee": supervisee,
            "kind": kind,
            "kind_label": SupervisionType(kind).label,
            "case_rows": list(zip(rows or [], case_forms, strict=False)),
            "extra_forms": [(f"Other case {i}", f) for i, f in enumerate(extra_forms, start=1)],
            "has_row_errors": any(f.errors for f in case_forms + extra_forms),
            "reviews_cases": reviews_cases,
            "prepared": prepared,
        },
    )


def _recorded_message(session, count):
    acted = f" with {count} case decision{'s' if count != 1 else ''}" if count else ""
    signed = " and signed off" if session.signed_off else ""
    return f"{session.get_kind_display()} on {session.date:%d %b %Y} recorded{acted}{signed}."


def _decision_entries(user, case_forms, extra_forms, rows):
    """The decisions the forms ask for, as the service takes them (None when a form is wrong)."""
    wanted = []
    for index, form in enumerate(case_forms):
        if form.cleaned_data.get("decision"):
            row = rows[index] if index < len(rows) else None
            wanted.append((form, form.cleaned_data["referral"], row))
    for form in extra_forms:
        data = form.cleaned_data
        if data.get("referral") or data.get("decision"):
            if not data.get("referral"):
                form.add_error("referral", "Choose the case this decision is about.")
                return None, []
            if not data.get("decision"):
                form.add_error("decision", "Choose the decision for this case.")
                return None, []
            wanted.append((form, data["referral"], None))
    referrals = {
        str(r.pk): r for r in Referral.objects.visible_to(user).filter(pk__in=[str(rid) for _, rid, _ in wanted])
    }
    entries, entry_forms = [], []
    for form, rid, row in wanted:
        referral = referrals.get(str(rid))
        if referral is None:
            form.add_error(None, "This case is not one you can record a decision for.")
            return None, []
        data = form.cleaned_data
        entries.append(
            {
                "referral": referral,
                "decision": data["decision"],
                "to_step": data.get("to_step"),
                "end_code": data.get("end_code") or "",
                "notes": data.get("notes") or "",
                "version": data.get("version"),
                "reasons": [r.text for r in row.reasons] if row else [],
            }
        )
        entry_forms.append(form)
    return entries, entry_forms


# ---- Sessions -----------------------------------------------------------------------------------


@require_GET
def sessions(request):
    page = Paginator(queries.sessions_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "supervision/sessions.html", {"page": page})


@require_GET
def session_detail(request, pk):
    session = get_object_or_404(queries.sessions_visible_to(request.user), pk=pk)
    decisions = list(queries.session_decisions(request.user, session))
    audit.record(request.user, "supervision.session.view", session, changes={"decisions": len(decisions)})
    user = request.user
    held = services.meeting(session)
    return render(
        request,
        "supervision/session_detail.html",
        {
            "session": session,
            "decisions": decisions,
            "can_sign_off": permissions.may(user, "sign_off_supervision", held)
            and not session.signed_off
            and not session.entered_in_error,
            "can_correct": not session.entered_in_error and permissions.may(user, "correct_decision", held),
            "can_mark_error": not session.entered_in_error and permissions.may(user, "withdraw_supervision", held),
            "referral_link": _referral_link(),
        },
    )


@require_POST
def session_sign_off(request, pk):
    session = get_object_or_404(queries.sessions_visible_to(request.user), pk=pk)
    try:
        services.sign_off_session(session=session, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Session signed off.")
    return redirect("supervision:session_detail", pk=session.pk)


def session_error(request, pk):
    session = get_object_or_404(queries.sessions_visible_to(request.user), pk=pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "withdraw_supervision", services.meeting(session))
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_session_in_error(session=session, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            _apply_errors(exc, form, [])
        else:
            messages.success(request, "Session marked entered in error. Actions its decisions took still stand.")
            return redirect("supervision:session_detail", pk=session.pk)
    return render(request, "supervision/session_error.html", {"session": session, "form": form})


def decision_correct(request, pk):
    decision = get_object_or_404(queries.decisions_visible_to(request.user), pk=pk)
    if request.method == "GET":  # not offered a form it would refuse; the service decides a POST
        permissions.require(request.user, "correct_decision", services.meeting(decision.session))
    form = CorrectionForm(request.POST or None, initial={"decision": decision.decision, "notes": decision.notes})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.correct_decision(
                decision=decision,
                reason=data["reason"],
                by=request.user,
                new={
                    "decision": data["decision"],
                    "to_step": data.get("to_step"),
                    "end_code": data.get("end_code") or "",
                    "notes": data.get("notes") or "",
                },
            )
        except ValidationError as exc:
            _apply_errors(exc, form, [])
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Decision corrected: {new.get_decision_display().lower()}.")
            return redirect("supervision:session_detail", pk=decision.session_id)
    return render(request, "supervision/decision_correct.html", {"decision": decision, "form": form})


# ---- Compliance and relationships ---------------------------------------------------------------


@require_GET
def compliance(request):
    """Whether each supervisee got the supervision the guidance asks for, over the last N weeks."""
    user = request.user
    form = ComplianceForm(request.GET or None)
    weeks = form.cleaned_data.get("weeks") if form.is_valid() else None
    today = timezone.localdate()
    if permissions.sees_whole_team(user):
        rows = queries.team_compliance(user.team, today=today, weeks=weeks)
    else:
        staff = queries.staff_visible_to(user).filter(is_active=True)
        rows = queries.compliance(staff, today=today, weeks=weeks, team=user.team)
    weeks = weeks or queries.parameters(user.team)["compliance"]["weeks"]
    return render(
        request,
        "supervision/compliance.html",
        {"rows": rows, "form": form, "weeks": weeks, "summary": queries.compliance_summary(rows), "today": today},
    )


def relationships(request):
    user = request.user
    manage = permissions.may(user, "manage_supervision")
    staff = staff_of_users_team(user)
    form = RelationshipForm(request.POST or None, staff=staff) if manage else None
    if request.method == "POST":
        permissions.require_role(user, "manage_supervision")  # the service decides on the supervisee
        if form.is_valid():
            try:
                services.create_relationship(by=user, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(exc, form, [])
            else:
                messages.success(request, "Supervision relationship added.")
                return redirect("supervision:relationships")
    active = (
        queries.relationships_visible_to(user)
        .filter(ended_on__isnull=True)
        .select_related("supervisor", "supervisee")
        .order_by("supervisee__last_name", "supervisee__first_name", "kind")
    )
    return render(
        request,
        "supervision/relationships.html",
        {"relationships": active, "form": form, "manage": manage},
    )


@require_POST
def relationship_end(request, pk):
    relationship = get_object_or_404(queries.relationships_visible_to(request.user), pk=pk)
    try:
        services.end_relationship(relationship=relationship, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Ended: {relationship}.")
    return redirect("supervision:relationships")
