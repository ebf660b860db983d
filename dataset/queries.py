"""Reads behind the data set export: one streamed query per table of a team's reporting period.

Each yields plain dicts (``values()``) through ``iterator()`` (a server-side cursor on PostgreSQL), in
a fixed order, so a year of a large service is written row by row and never held in memory. Each
record's key is the key its source system gave it when it was imported (``ImportedRecord``), else
its own id: an imported referral keeps its ServiceRequestId in every later submission.
"""

from contextlib import contextmanager

from django.db import connection
from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When

from outcomes.models import QuestionnaireResponse
from referrals.models import CareContact, Patient, PresentingProblemRecord, Referral

from .models import DatasetRun, ImportedRecord, ImportedScore
from .rules import ATTENDED, MEASURE_BY_SNOMED, WSAS

CHUNK = 2000
SCORED_MEASURES = sorted({*MEASURE_BY_SNOMED.values(), WSAS})


@contextmanager
def whole_reads():
    """PostgreSQL plans a cursor's query for its first tenth of rows (``cursor_tuple_fraction``), a
    poor plan for an export that reads every row: measured 9.6 s against 1.2 s for a month's contacts
    of the 150,000-referral service. Plan for all of them while the export runs."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction")


def _source_key(table, ref="pk"):
    return Subquery(
        ImportedRecord.objects.filter(table=table, object_id=OuterRef(ref))
        .order_by("source_key")
        .values("source_key")[:1]
    )


def open_in(period, prefix=""):
    """Referrals open at some time in the period: received by its end, not discharged before its start."""
    return Q(**{f"{prefix}received_on__lte": period.end}) & (
        Q(**{f"{prefix}discharged_on__isnull": True}) | Q(**{f"{prefix}discharged_on__gte": period.start})
    )


def referrals_in(team, period):
    return Referral.objects.filter(open_in(period), team=team)


def patients(team, period):
    rows = (
        Patient.objects.filter(pk__in=referrals_in(team, period).values("patient_id"))
        .annotate(
            key=_source_key("IDS001"),
            # a referral to link a failure to (the patient's details are on its page)
            referral_id=Subquery(
                referrals_in(team, period).filter(patient_id=OuterRef("pk")).order_by("pk").values("pk")[:1]
            ),
        )
        .order_by("pk")
        .values("id", "key", "referral_id", "nhs_number", "date_of_birth", "postcode")
    )
    return rows.iterator(chunk_size=CHUNK)


def referrals(team, period):
    rows = (
        referrals_in(team, period)
        .annotate(key=_source_key("IDS101"), patient_key=_source_key("IDS001", "patient_id"))
        .order_by("pk")
        .values("id", "key", "patient_id", "patient_key", "received_on", "source", "discharged_on", "end_code")
    )
    return rows.iterator(chunk_size=CHUNK)


def _contacts(team, period):
    return CareContact.objects.filter(
        referral__team=team, date__gte=period.start, date__lte=period.end, entered_in_error=False
    )


def contacts(team, period, *, attended_only=False):
    """The period's contacts; ``referral_open`` says whether the referral is in the submission (a
    contact of a referral discharged before the period would not join)."""
    rows = _contacts(team, period)
    if attended_only:
        rows = rows.filter(attendance__in=ATTENDED)
    rows = (
        rows.annotate(
            key=_source_key("IDS201"),
            activity_key=_source_key("IDS202"),
            referral_key=_source_key("IDS101", "referral_id"),
            referral_open=Case(
                When(open_in(period, "referral__"), then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .order_by("pk")
        .values(
            "id",
            "key",
            "activity_key",
            "referral_id",
            "referral_key",
            "referral_open",
            "date",
            "time",
            "attendance",
            "appointment_type",
            "mechanism",
            "therapy_mode",
            "therapy_type",
            "duration_minutes",
            "group_participants",
            "group_facilitators",
            "ltc_service",
            "clinician__username",
        )
    )
    return rows.iterator(chunk_size=CHUNK)


def long_term_conditions(team, period):
    rows = (
        referrals_in(team, period)
        .annotate(key=_source_key("IDS101"))
        .order_by("pk")
        .values("id", "key", "patient__long_term_conditions")
    )
    return rows.iterator(chunk_size=CHUNK)


def presenting_problems(team, period):
    rows = (
        PresentingProblemRecord.objects.filter(referral__in=referrals_in(team, period), recorded_on__lte=period.end)
        .exclude(code="")
        .annotate(referral_key=_source_key("IDS101", "referral_id"))
        .order_by("referral_id", "recorded_on", "code", "significance")
        .values("referral_id", "referral_key", "code", "significance", "recorded_on")
    )
    return rows.iterator(chunk_size=CHUNK)


def referral_scores(team, period):
    """IDS606: scores the patient gave on their own (no contact), then scores imported at that level."""
    common = {"completed_on__gte": period.start, "completed_on__lte": period.end, "measure__in": SCORED_MEASURES}
    own = (
        QuestionnaireResponse.objects.filter(
            referral__in=referrals_in(team, period), contact__isnull=True, entered_in_error=False, **common
        )
        .annotate(referral_key=_source_key("IDS101", "referral_id"))
        .order_by("referral_id", "completed_on", "measure", "total")
        .values("referral_id", "referral_key", "measure", "total", "completed_on", "items")
    )
    imported = (
        ImportedScore.objects.filter(referral__in=referrals_in(team, period), contact__isnull=True, **common)
        .annotate(referral_key=_source_key("IDS101", "referral_id"))
        .order_by("referral_id", "completed_on", "measure", "item", "total")
        .values("referral_id", "referral_key", "measure", "total", "completed_on", "item")
    )
    yield from own.iterator(chunk_size=CHUNK)
    yield from imported.iterator(chunk_size=CHUNK)


def contact_scores(team, period):
    """IDS607: the scores of the period's contacts; ``activity_written`` says whether the contact's
    care activity is in the submission (attended, referral open), so that the CareActId joins."""
    contacts_here = _contacts(team, period)
    written = Case(
        When(Q(contact__attendance__in=ATTENDED) & open_in(period, "contact__referral__"), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    fields = ("contact_id", "contact_key", "activity_key", "referral_id", "measure", "total", "activity_written")
    own = (
        QuestionnaireResponse.objects.filter(
            contact__in=contacts_here, entered_in_error=False, measure__in=SCORED_MEASURES
        )
        .annotate(
            contact_key=_source_key("IDS201", "contact_id"),
            activity_key=_source_key("IDS202", "contact_id"),
            activity_written=written,
        )
        .order_by("contact_id", "measure", "total")
        .values(*fields, "items")
    )
    imported = (
        ImportedScore.objects.filter(contact__in=contacts_here, measure__in=SCORED_MEASURES)
        .annotate(
            contact_key=_source_key("IDS201", "contact_id"),
            activity_key=_source_key("IDS202", "contact_id"),
            activity_written=written,
        )
        .order_by("contact_id", "measure", "item", "total")
        .values(*fields, "item")
    )
    yield from own.iterator(chunk_size=CHUNK)
    yield from imported.iterator(chunk_size=CHUNK)


def runs_for(team):
    """The team's runs, newest first, with who started each (one query)."""
    return DatasetRun.objects.filter(team=team).select_related("created_by").order_by("-created_at")


def run_for(team, pk):
    return DatasetRun.objects.filter(team=team, pk=pk).select_related("created_by", "team").first()
