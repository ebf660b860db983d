"""GET /api/v1/dashboard/?team=&from=&to= (and the page's other filters): the dashboard's numbers as JSON.

Same form, same queries as the HTML page, so the numbers are the same. Bad input → 400 naming the
parameter; another team → 404; a clinician → 403.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments.queries import diary_figures
from common.replica import replica_reads
from outcomes.queries import NONE

from . import queries
from .forms import FORM_TO_PARAM
from .views import prepare

PARAMETERS = [
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id (default: your own team)"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the period (default: 11 months ago, 1st)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the period (default: today)"),
    OpenApiParameter("clinician", OpenApiTypes.INT, description="Care coordinator's staff id; 0 = none"),
    OpenApiParameter("step", OpenApiTypes.INT, description="Current step 1–5; 0 = not yet on a step"),
    OpenApiParameter("problem", OpenApiTypes.STR, description="Presenting problem code"),
    OpenApiParameter("ltc", OpenApiTypes.STR, enum=["yes", "no"], description="On the long-term condition pathway"),
]


def _metrics(m):
    return {"counts": m["counts"], "rates": m["rates"], "targets": m["targets"], "met": m["met"]}


def _name(data, pk):
    if pk in (None, NONE):
        return None
    person = data.staff.get(pk)
    return person["name"] if person else None


def serialise(team, data):
    caseload = {}
    for clinician, step, n in data.caseload:
        entry = caseload.setdefault(clinician, {"steps": {}, "active": 0})
        entry["steps"][str(step or "none")] = n
        entry["active"] += n
    clinicians = sorted({*caseload, *data.sessions}, key=lambda pk: (pk == NONE, _name(data, pk) or ""))
    flt = data.filter
    supervision = data.supervision
    return {
        "team": {"id": team.pk, "name": team.name, "code": team.code},
        "filter": {
            "from": flt.start,
            "to": flt.end,
            "clinician": flt.clinician,
            "step": flt.step,
            "problem": flt.presenting_problem,
            "ltc_pathway": flt.ltc_pathway,
        },
        "today": data.today,
        "outcomes": _metrics(data.outcomes),
        "trend": [{"month": month.strftime("%Y-%m"), **_metrics(m)} for month, m in data.by_month],
        "by_step": [{"step": step, **_metrics(m)} for step, m in data.by_step],
        "by_clinician": [{"clinician": pk, "name": _name(data, pk), **_metrics(m)} for pk, m in data.by_clinician],
        "caseload": [
            {
                "clinician": None if pk == NONE else pk,
                "name": _name(data, pk),
                "active": caseload.get(pk, {}).get("active", 0),
                "by_step": caseload.get(pk, {}).get("steps", {}),
                "this_month": data.sessions.get(pk, {"sessions": 0, "patients": 0, "dna": 0, "appointments": 0}),
            }
            for pk in clinicians
        ],
        "waiting": data.waiting,
        "open_flags": data.flags,
        "supervision": {
            "available": supervision.get("available", False),
            "note": supervision.get("note", ""),
            "summary": supervision.get("summary"),
            "staff": [
                {"staff_id": r["staff_id"], "name": r["name"], "role": r["role"], "met": r["met"]}
                for r in supervision.get("rows", [])
            ],
        },
    }


class DashboardView(APIView):
    @extend_schema(
        parameters=PARAMETERS,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The dashboard's numbers"),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="A parameter is invalid; the body names it"),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such team, or not yours"),
        },
    )
    def get(self, request):
        with replica_reads():  # authentication has already read the caller from the primary
            team, staff, form, today = prepare(request)
            if not form.is_valid():
                raise ValidationError({FORM_TO_PARAM.get(k, k): v for k, v in form.errors.items()})
            data = queries.dashboard(team, form.metric_filter(), today=today, now=timezone.now(), staff=staff)
            return Response({**serialise(team, data), "diaries": diary_figures(team.pk, today)})
