"""The database's own defences and upkeep on PostgreSQL (issue 21.6 and 21.9). Elsewhere each is a no-op.

Two roles, two connection settings:

- ``DATABASE_MIGRATE_URL``: the role that owns the tables. ``manage.py migrate`` (common's override)
  connects as it, and afterwards grants the application's role what it needs (``grant_app_role``).
- ``DATABASE_URL``: the application's role (web, worker, beat, seed and import commands). It owns
  nothing, so it cannot ALTER TABLE ... DISABLE TRIGGER, drop or truncate a table, or use the owner's
  repair setting (``HISTORY_CHANGE``); on the history tables it may not DELETE at all, and on the audit
  table only INSERT and SELECT. ``app_role_problems`` lists what is wrong with a role for that job.

Without ``DATABASE_MIGRATE_URL`` there is one role (the embedded default, the test suite): migrations run
on ``DATABASE_URL`` and no grants are made.

``analyze_tables`` refreshes the planner's statistics after a bulk load (seed_demo, imports, a restore):
without them the review scan took 9 minutes instead of 2.3 s. ANALYZE needs the owner on PostgreSQL 15,
so it uses the owner's connection when there is one.
"""

import contextlib
import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.signals import connection_created

log = logging.getLogger(__name__)

HISTORY_CHANGE = "stepped_care.history_change"  # = 'allowed': honoured for the tables' owner only
# Tables whose rows are history: no DELETE for the application (the trigger refuses it for everyone).
HISTORY_TABLES = [
    "referrals_carecontact",
    "outcomes_questionnaireresponse",
    "stepped_care_stepassignment",
    "referrals_referralevent",
    "referrals_presentingproblemrecord",
    "supervision_casedecision",
    "workshops_registerentry",
]
AUDIT_TABLE = "stepped_care_auditevent"  # common.AuditEvent keeps the table it was made with
# Tables a bulk load fills and the review scan and dashboards read.
BULK_TABLES = [
    "referrals_patient",
    "referrals_referral",
    "referrals_carecontact",
    "referrals_referralevent",
    "referrals_presentingproblemrecord",
    "outcomes_questionnaireresponse",
    "outcomes_outcomesummary",
    "stepped_care_stepassignment",
    "stepped_care_reviewflag",
    "stepped_care_staff",
    "stepped_care_team",
]
OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_settings():
    """The owner's USER, PASSWORD, HOST and PORT from DATABASE_MIGRATE_URL, or None when it is not set."""
    owner = getattr(settings, "DATABASE_MIGRATE", None)
    if not owner:
        return None
    return {key: owner.get(key, "") for key in OWNER_KEYS}


@contextlib.contextmanager
def as_owner(using=DEFAULT_DB_ALIAS):
    """Run the block on ``using`` connected as the tables' owner (same database, the owner's role).

    Yields the application's role name when the owner is another role, else None. The connection is
    closed before and after, so nothing of either session leaks into the other.
    """
    connection = connections[using]
    owner = owner_settings()
    app_user = connection.settings_dict.get("USER")
    if connection.vendor != "postgresql" or not owner or owner["USER"] == app_user:
        yield None
        return
    kept = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield app_user
    finally:
        connection.close()
        connection.settings_dict.update(kept)


def _quote(connection, name):
    return connection.ops.quote_name(name)


def grant_app_role(connection, role, *, password=None):
    """Give ``role`` the application's rights on ``connection``'s database and no more; create it (LOGIN
    with ``password``) when it does not exist and the connected role may create roles."""
    role_sql = _quote(connection, role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not cursor.fetchone():
            login = "LOGIN PASSWORD %s" if password else "NOLOGIN"
            cursor.execute(
                f"CREATE ROLE {role_sql} {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
                [password] if password else None,
            )
        database = _quote(connection, connection.settings_dict["NAME"])
        statements = [
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role_sql}",
            f"GRANT USAGE ON SCHEMA public TO {role_sql}",
            f"REVOKE CREATE ON SCHEMA public FROM {role_sql}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role_sql}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role_sql}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_sql}",
        ]
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            [[*HISTORY_TABLES, AUDIT_TABLE]],
        )
        present = {row[0] for row in cursor.fetchall()}
        statements += [
            f"REVOKE DELETE ON {_quote(connection, t)} FROM {role_sql}" for t in HISTORY_TABLES if t in present
        ]
        if AUDIT_TABLE in present:
            statements.append(f"REVOKE UPDATE, DELETE ON {_quote(connection, AUDIT_TABLE)} FROM {role_sql}")
        for statement in statements:
            cursor.execute(statement)


def app_role_problems(connection, role=None):
    """What makes ``role`` (default: the connected role) unfit to be the application's: an empty list
    when it owns nothing, is no superuser, cannot create roles, databases or tables, bypass row rules,
    truncate or put triggers on a table, and is no member of the tables' owner."""
    if connection.vendor != "postgresql":
        return []
    problems = []
    with connection.cursor() as cursor:
        if role is None:
            cursor.execute("SELECT current_user")
            role = cursor.fetchone()[0]
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
        )
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        for flag, name in zip(row, ("SUPERUSER", "CREATEROLE", "CREATEDB", "BYPASSRLS"), strict=True):
            if flag:
                problems.append(f"{role} has {name}")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_has_role(%s, c.relowner, 'MEMBER') ORDER BY 1 LIMIT 5",
            [role],
        )
        owned = [r[0] for r in cursor.fetchall()]
        if owned:
            problems.append(f"{role} owns (or is a member of the owner of) {', '.join(owned)}")
        cursor.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [role])
        if cursor.fetchone()[0]:
            problems.append(f"{role} may create tables in the public schema")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND "
            "(has_table_privilege(%s, c.oid, 'TRUNCATE') OR has_table_privilege(%s, c.oid, 'TRIGGER')) "
            "ORDER BY 1 LIMIT 5",
            [role, role],
        )
        truncatable = [r[0] for r in cursor.fetchall()]
        if truncatable:
            problems.append(f"{role} may truncate or add triggers to {', '.join(truncatable)}")
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NOT NULL "
            "AND has_table_privilege(%s, to_regclass('public.' || quote_ident(t)), 'DELETE') ORDER BY 1",
            [[*HISTORY_TABLES, AUDIT_TABLE], role],
        )
        deletable = [r[0] for r in cursor.fetchall()]
        if deletable:
            problems.append(f"{role} may delete from {', '.join(deletable)}")  # noqa: S608  # nosec B608 (a message, not SQL)
    return problems


def analyze_tables(tables=None, *, using=DEFAULT_DB_ALIAS):
    """ANALYZE the bulk-loaded tables (or ``tables``) so the planner knows their sizes; the owner's
    connection when DATABASE_MIGRATE_URL names one. Returns the tables analysed ([] off PostgreSQL)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    wanted = list(tables or BULK_TABLES)
    done = []
    with as_owner(using), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)", [wanted])
        present = {row[0] for row in cursor.fetchall()}
        for table in wanted:
            if table in present:
                cursor.execute(f"ANALYZE {_quote(connection, table)}")
                done.append(table)
    log.info("analysed %d tables", len(done))
    return done


# --- web requests give up on a runaway statement (issue 21.9) -----------------------------------------

QUERY_CANCELED = "57014"  # statement_timeout (or a cancel) ended the statement
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout: a row or table lock was not granted in time


def web_statement_timeout_ms():
    """How long one statement of a web request may run, in ms (0: no limit). Workers and commands have no
    limit: the nightly scan and the data-set export run for minutes by design."""
    return int(getattr(settings, "WEB_STATEMENT_TIMEOUT_MS", 0) or 0)


def set_web_statement_timeout(sender=None, connection=None, **kwargs):
    """``connection_created`` receiver for web processes: a bad plan (no statistics after a restore) then
    costs one request a quick 503 instead of holding a gunicorn worker until it is killed."""
    timeout = web_statement_timeout_ms()
    if connection is None or connection.vendor != "postgresql" or not timeout:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{timeout}ms"])


def limit_web_statements():
    """Called by config/wsgi.py only, so that gunicorn's (and runserver's) connections have the limit and
    Celery's and management commands' do not."""
    connection_created.connect(set_web_statement_timeout, dispatch_uid="web_statement_timeout")


def is_database_busy(exc):
    """True when ``exc`` is a statement the database gave up on (statement or lock timeout): the request
    can be retried, nothing of it was saved."""
    if not isinstance(exc, OperationalError):
        return False
    return getattr(exc.__cause__, "pgcode", None) in (QUERY_CANCELED, LOCK_NOT_AVAILABLE)
