"""The part of every ``visible_to(user)`` that is the same for all records of a team."""

from django.db import connections
from django.db.models import BooleanField, F, Func, Subquery
from django.db.models.expressions import RawSQL

from .permissions import sees_whole_team


def team_scope(queryset, user):
    """Anonymous users and staff without a team see nothing, superusers everything, managers and
    administrators their team. Returns None for a clinician: the record's own rule decides.

    Seeing is not doing: a superuser sees every team's records (as in the Django admin they configure),
    but what anyone may change is decided by their role, in ``common.permissions``."""
    if not user or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.team_id is None:
        return queryset.none()
    if sees_whole_team(user):
        return queryset.filter(team_id=user.team_id)
    return None


class InIds(Func):
    """``field IN (subquery)``, written ``field = ANY(ARRAY(subquery))`` on PostgreSQL.

    With IN, PostgreSQL guesses how many ids the subquery yields from column statistics (thousands
    for a clinician's contacts) and may read the whole table to join them; the array form runs the
    subquery once, first, and looks each id up by index. A clinician's caseload page query: 71 ms
    as IN, 11 ms as an array, on 250,000 referrals.
    """

    output_field = BooleanField()
    arity = 2

    def __init__(self, field, queryset):
        super().__init__(F(field), queryset if isinstance(queryset, RawSQL) else Subquery(queryset))

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="%(expressions)s", arg_joiner=" IN ", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="%(expressions)s)", arg_joiner=" = ANY(ARRAY", **extra_context
        )


# A stand-in member of staff's id and team: values no real row has, found again among the parameters.
_STAND_IN_PK = -(2**62) + 7001
_STAND_IN_TEAM = -(2**62) + 7002
_compiled = {}


def user_ids_sql(key, build, user, using="default"):
    """The id subquery ``build(user)`` (a queryset of ids that depends on the user's id and team only,
    such as a clinician's cases), as SQL for ``InIds``: built and compiled by the ORM once per process
    and database, for a stand-in user, then given each user's own id and team as its parameters.

    Building and compiling a union of five or six querysets costs a page more than running it (issue 22);
    what the ids are stays where it was written, in ``build``. Its SQL is the ORM's, word for word (only
    the table aliases of a subquery differ, which the database does not see: the subquery is self-contained).
    """
    connection = connections[using]
    cache_key = (key, connection.alias, connection.vendor)
    entry = _compiled.get(cache_key)
    if entry is None:
        stand_in = user.__class__(pk=_STAND_IN_PK, team_id=_STAND_IN_TEAM)  # request.user is a lazy object
        sql, params = build(stand_in).query.get_compiler(connection=connection).as_sql()
        entry = _compiled[cache_key] = (sql, tuple(params))
    sql, params = entry
    own = {_STAND_IN_PK: user.pk, _STAND_IN_TEAM: user.team_id}
    # The ORM's own SQL (no text from anyone), every value a parameter.
    return RawSQL(sql, tuple(own.get(p, p) if type(p) is int else p for p in params))  # noqa: S611  # nosec B611
