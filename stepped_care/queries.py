"""Reads for the review engine, for showing flags, and the one "staff of a team" selector. No writes.

A review of a chunk of referrals costs a fixed number of SQL queries whatever the chunk's size: one
for the referrals (with their open step and last supervision discussion), one for all their valid
contacts with the PHQ-9 and GAD-7 of each contact joined in, one for the scores patients completed on
their own, one for their anxiety disorder-specific measures (ADSMs), one for their flags, one for
their teams' parameters and one for their teams' expected recovery curves (``outcomes.queries.current_curves``).
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection
from django.db.models import FilteredRelation, ForeignKey, IntegerField, Lookup, Max, Q, UUIDField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from common.scoping import rows_of
from outcomes.models import QuestionnaireResponse, Source
from outcomes.queries import current_curves
from outcomes.trajectories import FITTED_MEASURES, Curves
from referrals.models import CareContact, Referral

from . import review
from .models import CLINICAL_ROLES, FlagStatus, ReviewFlag, Staff, Team

UUID_OID = 2950


def _uuid_as_text(value, cursor):
    return value


def uuids_as_text(cursor):
    """Make this PostgreSQL cursor (only) return uuid columns as text."""
    # Imported here: the driver is there only when the database is PostgreSQL (SQLite needs none).
    from psycopg2.extensions import new_type, register_type

    register_type(new_type((UUID_OID,), "UUID_AS_TEXT", _uuid_as_text), cursor.cursor)


def fetch(queryset):
    """The rows of a ``values_list`` queryset with every uuid as text.

    The review scan reads about seven rows per referral; on PostgreSQL they come straight from the
    cursor (no per-row ORM work, no uuid objects built and hashed), elsewhere through the ORM.
    """
    if connection.vendor == "postgresql":
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            uuids_as_text(cursor)
            cursor.execute(sql, params)
            return cursor.fetchall()
    return [tuple(str(v) if isinstance(v, uuid.UUID) else v for v in row) for row in queryset]


def sorted_ids(ids):
    """Referral ids as sorted text: a uuid's text sorts as the database sorts uuids."""
    return sorted({str(i).lower() for i in ids})


class IdList:
    """Referral ids (text) for ``Among``: one value, so that the ORM neither walks nor hashes the
    thousands of ids of a chunk in every query it builds."""

    def __init__(self, ids):
        self.ids = list(ids)


class Among(Lookup):
    """``field__among=IdList(ids)``: the field is one of ``ids`` (uuid text), sent to PostgreSQL as ONE
    array parameter (``= ANY('{...}'::uuid[])``) rather than thousands of separate ones, which the ORM
    would build, send and the database parse and plan for each chunk; elsewhere an ordinary ``IN``."""

    lookup_name = "among"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs.ids
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::uuid[])", [*lhs_params, "{" + ",".join(ids) + "}"]
        if not ids:
            return "1 = 0", list(lhs_params)
        values = [uuid.UUID(i).hex for i in ids]  # as Django stores uuids where the database has no type
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


ForeignKey.register_lookup(Among)
UUIDField.register_lookup(Among)


DENSE = 64  # above this many ids, a chunk's small tables are read by its id range


def _among(field, ids):
    """Rows of the referrals ``ids`` (sorted text) only, as a condition on ``field``: for the tables
    that hold many rows per referral (contacts, questionnaire responses). A chunk's id range would also
    hold the rows of the discharged referrals between its ids (most rows of a mature service), each
    read and dropped; the id list goes as one array (``Among``) and the responses are read from their
    covering indexes (stepped_care migration 0007), so the list costs less than the range (issue 22)."""
    return Q(**{f"{field}__among": IdList(ids)})


def _within(field, ids):
    """Rows of the referrals ``ids`` (sorted), and maybe of others between them, as a condition on
    ``field``: for the tables with a row or two per referral (referrals, flags, supervision), where
    the chunk's id range walks an index with true row counts for less than a list costs to plan. The
    caller drops the other referrals' rows."""
    if len(ids) > DENSE:
        return Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    return Q(**{f"{field}__in": ids})


@contextmanager
def scan_session():
    """The connection as a whole scan wants it: no parallel workers for a chunk's reads (starting them
    costs more than reading the few thousand rows a chunk asks for by index). PostgreSQL only; the
    setting is put back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")


def active_referral_ids(team_id=None):
    """Ids (text) of every active referral, sorted so that chunks are runs of neighbouring ids."""
    qs = Referral.objects.active()
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return [row[0] for row in fetch(qs.order_by("pk").values_list("pk"))]


def referral_rows(ids):
    """(id, team_id, patient_id, status, received_on, current_step, step_started_on, version) of the
    referrals ``ids`` (sorted, see ``sorted_ids``) and maybe of others in their id range."""
    # At most one open step per referral (a database constraint): the join never multiplies rows.
    open_step = FilteredRelation(
        "steps", condition=Q(steps__ended_on__isnull=True) & _within("steps__referral_id", ids)
    )
    return fetch(
        Referral.objects.filter(_within("pk", ids), _among("pk", ids))
        .annotate(open_step=open_step)
        .order_by()
        .values_list(
            "pk", "team_id", "patient_id", "status", "received_on", "current_step", "open_step__started_on", "version"
        )
    )


def lock_referrals(ids):
    """Lock these referrals' rows for the transaction (in id order, so that two reviews never deadlock)
    and return {id: version}: a contact logged meanwhile has changed the version, or waits for us."""
    return dict(
        fetch(Referral.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "version"))
    )


def last_supervision_discussions(ids):
    """{referral id: date of its latest valid supervision case discussion} for ``ids`` (and maybe others)."""
    # Read through the referral's own relation: supervision records decisions about referrals and
    # builds on this app, so this app names none of its modules.
    valid = Q(supervision_decisions__entered_in_error=False, supervision_decisions__session__entered_in_error=False)
    return dict(
        fetch(
            Referral.objects.filter(_within("pk", ids), valid)
            .order_by()
            .values("pk")
            .annotate(last=Max("supervision_decisions__session__date"))
            .values_list("pk", "last")
        )
    )


# Whole numbers straight from the cursor (``fetch`` bypasses the ORM's conversions on PostgreSQL): the
# PHQ-9 and GAD-7 totals (stored with two decimals for the Mobility Inventory's mean) and PHQ-9 item 9
# (the risk item, in the answers array).
PHQ9_TOTAL = Cast("phq__total", IntegerField())
GAD7_TOTAL = Cast("gad__total", IntegerField())
PHQ9_ITEM_9 = Cast(KeyTextTransform("8", "phq__items"), IntegerField())


def contact_rows(ids):
    """Valid contacts of the referrals ``ids`` (and maybe of others in their id range), by referral and
    date: (date, appointment_type, attendance, PHQ-9 total, PHQ-9 item 9, GAD-7 total, referral_id),
    the layout the review rules read (the referral id last, so that rows need no reshaping).

    A contact holds at most one valid response per measure (a database constraint), so the joins
    never multiply rows; the responses are found through their own referral index rather than by
    scanning every response."""

    def scores(measure):
        return FilteredRelation(
            "questionnaires",
            condition=Q(questionnaires__measure=measure, questionnaires__entered_in_error=False)
            & _among("questionnaires__referral_id", ids),
        )

    return fetch(
        CareContact.objects.filter(_among("referral_id", ids), entered_in_error=False)
        .annotate(phq=scores("PHQ9"), gad=scores("GAD7"))
        .order_by("referral_id", "date", "time", "created_at")
        .values_list("date", "appointment_type", "attendance", PHQ9_TOTAL, PHQ9_ITEM_9, GAD7_TOTAL, "referral_id")
    )


def patient_score_rows(ids):
    """The PHQ-9 and GAD-7 the patients of the referrals ``ids`` completed on their own (no contact), in
    the layout of ``contact_rows`` with an empty appointment type and attendance (a score, not a contact):
    one row per referral and day, PHQ-9 and GAD-7 of the same day together."""
    rows = fetch(
        QuestionnaireResponse.objects.filter(
            _within("referral_id", ids), source=Source.PATIENT, entered_in_error=False, measure__in=("PHQ9", "GAD7")
        )
        .order_by("referral_id", "completed_on", "created_at")
        .values_list(
            "referral_id",
            "completed_on",
            "measure",
            Cast("total", IntegerField()),
            Cast(KeyTextTransform("8", "items"), IntegerField()),
        )
    )
    days = {}
    for rid, on, measure, total, item9 in rows:
        row = days.setdefault((rid, on), [on, "", "", None, None, None, rid])
        if measure == "PHQ9":
            row[3], row[4] = total, item9
        else:
            row[5] = total
    return [tuple(row) for row in days.values()]


# The ADSMs the not-on-track rule judges against their own expected curves (PHQ-9 and GAD-7 come with
# the contacts).
JUDGED_ADSMS = tuple(m for m in FITTED_MEASURES if m not in ("PHQ9", "GAD7"))


def anxiety_score_rows(ids):
    """Valid ADSM scores of the referrals ``ids`` (and maybe of others in their id range), whether a
    clinician recorded them at a contact or the patient completed them on their own, by referral and
    date: (referral_id, completed_on, measure, total)."""
    return fetch(
        QuestionnaireResponse.objects.filter(
            _among("referral_id", ids),
            Q(contact__isnull=True) | Q(contact__entered_in_error=False),
            measure__in=JUDGED_ADSMS,
            entered_in_error=False,
        )
        .order_by("referral_id", "completed_on", "created_at")
        .values_list("referral_id", "completed_on", "measure", "total")
    )


def flag_rows(ids):
    """Open flags (id, referral_id, rule, status, episode, digest), and those a clinician resolved, of
    the referrals ``ids`` (and maybe of others in their id range)."""
    return fetch(
        ReviewFlag.objects.filter(
            _within("referral_id", ids), status__in=(FlagStatus.OPEN, FlagStatus.ACCEPTED, FlagStatus.DISMISSED)
        )
        .order_by()
        .values_list("pk", "referral_id", "rule", "status", "episode", "digest")
    )


def team_parameters(team_ids):
    return dict(Team.objects.filter(pk__in=set(team_ids)).values_list("pk", "review_parameters"))


def flags_visible_to(user):
    """Flags of the referrals this user may see (others get 404)."""
    return ReviewFlag.objects.filter(referral__in=Referral.objects.visible_to(user).values("pk"))


ALL_TEAMS = object()  # for ``staff_of_team``: every team's staff (a superuser's configuration pages)


def staff_of_team(team, *, clinical=None, active=True):
    """The staff of ``team`` (a Team, a team id, None for nobody, or ``ALL_TEAMS``), by family name.

    The one way to ask "who works in this team": forms' choice lists, the dashboard, supervision,
    group courses, the audit page's filters and the API's staff fields all start here.
    ``clinical``: True for clinicians only, False for everyone else, None for both.
    ``active``: True for current staff only (the default), False for those who left, None for both.
    """
    if team is None:
        return Staff.objects.none()
    staff = Staff.objects.all() if team is ALL_TEAMS else Staff.objects.filter(team=team)
    if clinical is not None:
        roles = [str(role) for role in CLINICAL_ROLES]
        staff = staff.filter(role__in=roles) if clinical else staff.exclude(role__in=roles)
    if active is not None:
        staff = staff.filter(is_active=active)
    return staff.order_by("last_name", "first_name", "username", "pk")


def clinician_rows(team_id):
    """(pk, first name, family name, username, role) of the team's current clinicians, in
    ``staff_of_team`` order: its query, built and compiled by the ORM once per process
    (``common.scoping.rows_of``). The waiting list's "allocate to" list reads hundreds of them on every
    page; building the query cost more than running it."""
    if team_id is None:
        return []
    return rows_of(
        "stepped_care.clinician_rows",
        lambda team: staff_of_team(team, clinical=True).values_list(
            "pk", "first_name", "last_name", "username", "role"
        ),
        team_id,
    )


def staff_of_users_team(user, *, clinical=None, active=True):
    """``staff_of_team`` for the signed-in user's team (nobody for an anonymous or teamless user)."""
    if user is None or not user.is_authenticated:
        return Staff.objects.none()
    return staff_of_team(user.team_id, clinical=clinical, active=active)


@dataclass(frozen=True)
class Expected:
    """A team's newest expected recovery curves and the percentiles its review rule judges them at."""

    curves: Curves | None
    tolerance: int
    outer: int

    @property
    def words(self):
        if self.curves is None:
            return "no fit yet"
        return (
            f"median to the {self.tolerance}th percentile, red above the {self.outer}th, of "
            f"{self.curves.courses} finished courses (fit v{self.curves.version}, {self.curves.method_name})"
        )


def expected_curves(team) -> Expected:
    """The team's curves (one query) at its review percentiles (from the team row the caller holds)."""
    params = review.parameters(getattr(team, "review_parameters", None), strict=False)
    curves = current_curves([team.pk]).get(team.pk) if team is not None else None
    return Expected(curves, params["not_on_track_percentile"], params["not_on_track_outer"])
