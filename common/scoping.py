"""The part of every ``visible_to(user)`` that is the same for all records of a team."""

import datetime as dt
import uuid

from django.db import connections, router
from django.db.models import BooleanField, F, Func, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.utils import timezone

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


# A stand-in member of staff's id and team, and a stand-in day: values no real row has, found again
# among the parameters.
_STAND_IN_PK = -(2**62) + 7001
_STAND_IN_TEAM = -(2**62) + 7002
_STAND_IN_DAY = dt.date(1901, 2, 3)
_compiled = {}


def user_ids_sql(key, build, user, using="default"):
    """The id subquery ``build(user, today=...)`` (a queryset of ids that depends on the user's id and
    team and on today's date only, such as a clinician's cases), as SQL for ``InIds``: built and compiled
    by the ORM once per process and database, for a stand-in user and day, then given each user's own id
    and team and today's date as its parameters.

    Building and compiling a union of five or six querysets costs a page more than running it (issue 22);
    what the ids are stays where it was written, in ``build``. Its SQL is the ORM's, word for word (only
    the table aliases of a subquery differ, which the database does not see: the subquery is self-contained).
    """
    connection = connections[using]
    cache_key = (key, connection.alias, connection.vendor)
    entry = _compiled.get(cache_key)
    if entry is None:
        stand_in = user.__class__(pk=_STAND_IN_PK, team_id=_STAND_IN_TEAM)  # request.user is a lazy object
        sql, params = build(stand_in, today=_STAND_IN_DAY).query.get_compiler(connection=connection).as_sql()
        entry = _compiled[cache_key] = (sql, tuple(params))
    sql, params = entry
    today = timezone.localdate()
    # A day is a date to PostgreSQL, its ISO text to SQLite.
    own = {_STAND_IN_PK: user.pk, _STAND_IN_TEAM: user.team_id, _STAND_IN_DAY: today, str(_STAND_IN_DAY): str(today)}
    # The ORM's own SQL (no text from anyone), every value a parameter.
    return RawSQL(sql, tuple(own.get(p, p) if type(p) in (int, str, dt.date) else p for p in params))  # noqa: S611  # nosec B611


_compiled_rows = {}
_row_models = {}
_EPOCH = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)


def _stand_in(n, value):
    """A value no row has, of the kind of ``value`` (a uuid, an integer id, a text, a date or
    an aware datetime), the n-th of its query."""
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=0xF00D0000 + n)
    if type(value) is int:
        return -(2**62) + 8000 + n
    if isinstance(value, str):
        return f"\x1f(stand-in {n})"
    if isinstance(value, dt.datetime):
        return _EPOCH + dt.timedelta(seconds=n)
    if isinstance(value, dt.date):
        return _EPOCH.date() + dt.timedelta(days=n)
    raise TypeError(f"compiled queries take uuids, integer ids, dates and aware datetimes, not {value!r}")


def _as_parameter(connection, value):
    """``value`` as the ORM hands it to this database (SQLite: a uuid's hex, a date's or datetime's text)."""
    if isinstance(value, uuid.UUID):
        return value if connection.features.has_native_uuid_field else value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _compile(key, build, values):
    """(connection, sql, parameters, compiler, converters) of ``build(*values)``, compiled once per
    process and database for stand-in values, its parameters those of this call."""
    stand_ins = [_stand_in(n, value) for n, value in enumerate(values)]
    built = None
    if key not in _row_models:
        built = build(*stand_ins)
        _row_models[key] = built.model
    connection = connections[router.db_for_read(_row_models[key])]  # as the queryset would (common.replica)
    cache_key = (key, id(connection))
    entry = _compiled_rows.get(cache_key)
    if entry is None:
        queryset = built if built is not None else build(*stand_ins)  # (a queryset is never tested for truth)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        adapted = tuple(_as_parameter(connection, stand_in) for stand_in in stand_ins)
        entry = _compiled_rows[cache_key] = (sql, tuple(params), adapted, compiler, converters)
    sql, params, adapted, compiler, converters = entry
    own = {stand_in: _as_parameter(connection, value) for stand_in, value in zip(adapted, values, strict=True)}
    # The ORM's own SQL; a parameter that is a stand-in becomes this call's value.
    return connection, sql, tuple(own.get(p, p) if type(p) in _SWAPPED else p for p in params), compiler, converters


_SWAPPED = (int, str, uuid.UUID, dt.date, dt.datetime)


def _fetch(key, build, values):
    connection, sql, params, compiler, converters = _compile(key, build, values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return connection, compiler, [tuple(row) for row in rows]


def rows_of(key, build, *ids):
    """The rows of ``build(*ids)`` (a ``values_list`` queryset whose parameters are these ids, uuids or
    integers, dates, aware datetimes and constants), as a list of tuples: the ORM builds and compiles it
    once per process, thread and database, for stand-in values, then runs its SQL with each call's own,
    its values converted by the ORM's own converters (dates, decimals, JSON), as ``list(build(*ids))``
    would.

    For the reads a page makes of one record whose building costs more than running (issue 22). The
    key names the query's shape: calls with the same key give the same number and kinds of values."""
    return _fetch(key, build, tuple(uuid.UUID(str(i)) if isinstance(i, str) else i for i in ids))[2]


def objects_of(key, build, *values):
    """The model instances of ``build(*values)`` (a queryset of a model, with its ``select_related``
    instances), as ``list(build(*values))`` gives them, compiled once as ``rows_of`` is.

    For the reads every request makes (the signed-in user, their session) and a page's one main query,
    where compiling costs more than running (issue 22)."""
    connection, compiler, rows = _fetch(key, build, values)
    select, klass_info = compiler.select, compiler.klass_info
    model = klass_info["model"]
    first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [f[0].target.attname for f in select[first:last]]
    populators = get_related_populators(klass_info, select, connection.alias)
    found = []
    for row in rows:
        instance = model.from_db(connection.alias, names, row[first:last])
        for populator in populators:
            populator.populate(row, instance)
        found.append(instance)
    return found
