"""The managers' audit page: search the trail by patient or staff member and export it as CSV.

Patients are found by NHS number or name through a POSTed form and then named in the URL only by
their random id, so no identifier reaches a URL, a browser history or an access log. Searching for
a patient and exporting are themselves audited.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from common import audit, permissions
from common.csv_export import csv_response
from referrals.models import Patient
from referrals.queries import patient_search
from stepped_care.queries import ALL_TEAMS, staff_of_team

from . import audit as trail

Staff = get_user_model()

PAGE_SIZE = 50
NO_FILTERS = {"patient_id": None, "actor": None, "action": "", "date_from": None, "date_to": None}
MAX_PATIENT_MATCHES = 20


class PatientLookupForm(forms.Form):
    query = forms.CharField(label="NHS number or name", max_length=100)


class AuditFilterForm(forms.Form):
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    actor = forms.ModelChoiceField(
        queryset=Staff.objects.none(), required=False, label="Staff member", empty_label="Anyone"
    )
    action = forms.CharField(required=False, max_length=60, label="Action starts with")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        team = ALL_TEAMS if user.is_superuser else user.team_id
        self.fields["actor"].queryset = staff_of_team(team, active=None)  # people who left acted too

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self):
        data = self.cleaned_data
        return {
            "patient_id": data.get("patient"),
            "actor": data.get("actor"),
            "action": (data.get("action") or "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


def _require_searcher(request):
    permissions.require_role(request.user, "search_audit")


def _visible_patients(user):
    return Patient.objects.all() if user.is_superuser else Patient.objects.filter(team_id=user.team_id)


def _find_patients(user, query):
    """Patients of the user's service by NHS number or name (``referrals.queries.patient_search``)."""
    patients = _visible_patients(user).filter(patient_search(query))
    return list(patients.order_by("family_name", "given_name", "id")[:MAX_PATIENT_MATCHES])


def _query_string(filters):
    params = {
        "patient": filters["patient_id"] or "",
        "actor": filters["actor"].pk if filters["actor"] else "",
        "action": filters["action"],
        "date_from": filters["date_from"] or "",
        "date_to": filters["date_to"] or "",
    }
    return urlencode({k: v for k, v in params.items() if v})


@require_http_methods(["GET", "POST"])
def audit_log(request):
    _require_searcher(request)
    lookup = PatientLookupForm(request.POST or None, prefix="lookup")
    matches = None
    if request.method == "POST" and lookup.is_valid():
        matches = _find_patients(request.user, lookup.cleaned_data["query"])
        if len(matches) == 1:
            return redirect(f"{reverse('audit')}?{urlencode({'patient': matches[0].pk})}")
        if not matches:
            lookup.add_error("query", "No patient of your service matches that NHS number or name.")
    form = AuditFilterForm(request.GET or None, user=request.user)
    page = patient = None
    filters = {}
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else dict(NO_FILTERS)
        if filters["patient_id"]:
            patient = _visible_patients(request.user).filter(pk=filters["patient_id"]).first()
            if patient is None:  # another service's patient does not exist here
                raise Http404("No patient of your service has that id.")
            audit.record(request.user, "audit.search", patient, patient_id=patient.pk, changes=_described(filters))
        page = Paginator(trail.search(request.user, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
        for event in page.object_list:
            event.action_label = audit.action_label(event.action)
    context = {
        "lookup": lookup,
        "matches": matches,
        "form": form,
        "page": page,
        "patient": patient,
        "query_string": _query_string(filters) if filters else "",
    }
    return render(request, "common/audit.html", context)


def _described(filters):
    return {k: (v.pk if isinstance(v, Staff) else v) for k, v in filters.items() if v}


EXPORT_COLUMNS = [
    "time",
    "staff username",
    "staff name",
    "action",
    "action code",
    "object type",
    "object id",
    "patient id",
    "patient name",
    "NHS number",
    "client address",
    "changes",
]


@require_GET
def audit_export(request):
    """The filtered trail as CSV, streamed; the export itself is audited with its filters."""
    _require_searcher(request)
    form = AuditFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return redirect(f"{reverse('audit')}?{request.GET.urlencode()}")
    filters = form.filters()
    if filters["patient_id"] and not _visible_patients(request.user).filter(pk=filters["patient_id"]).exists():
        raise Http404("No patient of your service has that id.")
    audit.record(request.user, "audit.export", None, patient_id=filters["patient_id"], changes=_described(filters))
    events = trail.search(request.user, **filters)

    def rows():
        yield EXPORT_COLUMNS
        for event in events.iterator(chunk_size=2000):
            actor = event.actor
            yield (
                timezone.localtime(event.at).isoformat(timespec="seconds"),
                actor.username if actor else "",
                actor.get_full_name() if actor else "",
                audit.action_label(event.action),
                event.action,
                event.object_type,
                event.object_id,
                event.patient_id or "",
                event.patient_name or "",
                event.patient_nhs_number or "",
                event.client_address or "",
                _changes_text(event.changes),
            )

    return csv_response(f"audit-{timezone.localtime():%Y%m%d-%H%M}.csv", rows(), stream=True)


def _changes_text(changes):
    if not changes:
        return ""
    return "; ".join(f"{key}: {value}" for key, value in changes.items())
