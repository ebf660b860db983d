"""The rulebook: who may do what. The one place that says it; the services enforce it.

Every write service asks ``require(user, action, record)`` before it touches anything, so the web
pages, the API and any future door (a command, a task) give the same answer. Pages and templates ask
``may`` (or the ``{% may %}`` tag) only to show or hide a button and to refuse a form early. A record
the user may not see is never asked about here: the scoped lookups answer 404 before that.

Policy, as a service manager would put it (checked against ``RULES`` by tests/security/test_rulebook.py):

| Action               | Who may                                                                  |
|----------------------|--------------------------------------------------------------------------|
| register_patient     | clinicians, service managers and administrators, in their own team       |
| update_patient       | clinicians, service managers and administrators who can see the patient  |
| register_referral    | clinicians, service managers and administrators who can see the patient  |
| allocate             | clinicians who can see the referral and the team's service managers      |
| record_care          | clinicians on the case                                                   |
| record_problem       | clinicians on the case                                                   |
| change_step          | clinicians on the case                                                   |
| mark_in_error        | clinicians on the case                                                   |
| resolve_flag         | clinicians on the case                                                   |
| discharge            | clinicians on the case                                                   |
| send_questionnaires  | clinicians on the case                                                   |
| supervision_decision | clinicians on the case and the care coordinator's supervisor             |
| record_supervision   | the supervisor or a supervisee of the session                            |
| sign_off_supervision | the session's supervisor                                                 |
| correct_decision     | the session's supervisor, or (before sign-off) one of its supervisees    |
| withdraw_supervision | the supervisor, whoever recorded it, or the team's service managers      |
| manage_supervision   | the team's service managers and administrators                           |
| plan_course          | clinicians (facilitating it), service managers and administrators        |
| run_course           | the course's facilitators and the team's managers and administrators     |
| book_group_place     | clinicians who can see the referral, service managers and administrators |
| book_appointment     | clinicians who can see the referral, service managers and administrators |
| cancel_appointment   | clinicians who can see the referral, service managers and administrators |
| own_calendar         | the clinician themselves                                                 |
| manage_diary         | the clinician themselves, the team's service managers and administrators |
| take_register        | the course's facilitators                                                |
| see_dashboard        | service managers and administrators (superusers: every team)             |
| search_audit         | service managers and administrators (superusers: every team)             |
| validate_alerts      | the team's service managers                                              |
| export_dataset       | the team's service managers                                              |
| import_dataset       | the team's service managers                                              |

"Clinicians" are the clinical roles (PWP and PWP trainee, high intensity therapist and trainee,
step 4 specialist, counsellor). A clinician is *on the case* when they coordinate it, have held a
contact for it, facilitate a group course it is enrolled on, are booked to see it, cover (on the days
of a colleague's leave, while it lasts) the colleague's appointment with it, or when it waits
unallocated on their team's waiting list (whoever assesses it). The decisions that change care (a session, a presenting
problem, a step, a correction, a flag, a discharge) belong to those clinicians, and so does asking the
patient for scores between sessions (a questionnaire link). The public front door (self-referral, a
questionnaire link opened by the patient) has no member of staff: ``frontdoor.services`` checks its own
conditions (the team's form is open, the link is valid) and acts as a named ``SystemActor``. The rest,
where the issue left it open, is what a Talking Therapies service expects:

- Supervisors see their supervisees' cases, but act on them through supervision decisions (recorded
  with the session), not by changing the case directly; a supervisor who also treats is on the case.
- Trainees carry caseloads under supervision: they have a clinician's rights on their cases.
- Administrators book and register (patients, referrals, patient details, places on groups, courses'
  schedules) and never make a clinical decision; they do not allocate either (who treats is a
  clinical or management call), nor take a group register (it records attendance *and* scores).
- Service managers allocate, plan courses, assign supervisors, see the dashboard and the audit trail,
  and may withdraw a supervision record made in error (governance); they do not record care, change
  steps, mark contacts in error or resolve flags.
- Superuser status configures the system (Django admin) and gives oversight reads (every team's
  dashboard and audit trail), never clinical rights: a superuser acts by their role like anyone else.
- Staff without a team may do nothing here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from .roles import CLINICAL_ROLES, MANAGEMENT_ROLES, Role

CLINICIANS = frozenset(str(r) for r in CLINICAL_ROLES)
MANAGERS = frozenset({str(Role.MANAGER)})
ADMINISTRATORS = frozenset({str(Role.ADMINISTRATOR)})
SUPERVISORS = frozenset({"supervisor"})  # a capacity (Staff.is_supervisor), not a role
TEAM_STAFF = CLINICIANS | MANAGERS | ADMINISTRATORS


# --- facts about a member of staff (pure: read the user object only) -----------------------------


def _signed_in(user):
    return bool(user is not None and getattr(user, "is_authenticated", False))


def capacities(user):
    """The roles a user acts in: their role, and "supervisor" when they are marked as one."""
    if not _signed_in(user):
        return frozenset()
    found = {str(getattr(user, "role", "") or "")}
    if getattr(user, "is_supervisor", False):
        found |= SUPERVISORS
    return frozenset(found)


def is_clinician(user):
    return _signed_in(user) and str(getattr(user, "role", "")) in CLINICIANS


def sees_whole_team(user):
    """Service managers and administrators see every record of their team (to book, allocate, report)."""
    return _signed_in(user) and user.team_id is not None and str(getattr(user, "role", "")) in MANAGEMENT_ROLES


def must_use_two_factor(user):
    """A team may require a second factor at sign-in of those who see all its records (its managers and
    administrators) and of superusers in it."""
    if not _signed_in(user) or user.team_id is None:
        return False
    wide = user.is_superuser or str(getattr(user, "role", "")) in MANAGEMENT_ROLES
    return wide and bool(user.team.require_two_factor)


# --- facts about a user and a record ------------------------------------------------------------


def _team_id(record):
    """The team a record belongs to: its ``team_id`` (patients, referrals, courses, staff) or itself."""
    if hasattr(record, "team_id"):
        return record.team_id
    return record.pk  # a Team


def in_team(user, record):
    return user.team_id is not None and _team_id(record) == user.team_id


def _remember(user, record, key, compute):
    """One answer per user, record and question per request: a page asks several rules of one case."""
    cache = record.__dict__.setdefault("_rulebook", {})
    if (user.pk, key) not in cache:
        cache[(user.pk, key)] = compute()
    return cache[(user.pk, key)]


def sees(user, record):
    """The record is among those its model's ``visible_to(user)`` returns (one query)."""
    return _remember(user, record, "sees", lambda: type(record).objects.visible_to(user).filter(pk=record.pk).exists())


def on_the_case(user, referral):
    """A clinician of the referral's team who coordinates it, has treated it, facilitates a group it is
    on, or may assess it from the team's unallocated waiting list (``Referral.objects.on_the_case_of``)."""
    return (
        is_clinician(user)
        and in_team(user, referral)
        and _remember(
            user,
            referral,
            "on_the_case",
            lambda: type(referral).objects.on_the_case_of(user).filter(pk=referral.pk).exists(),
        )
    )


def supervises_coordinator(user, referral):
    """``user`` supervises the referral's care coordinator now (any kind of supervision)."""
    if referral.care_coordinator_id is None:
        return False
    return _remember(
        user,
        referral,
        "supervises",
        lambda: user.supervising.filter(supervisee_id=referral.care_coordinator_id, ended_on__isnull=True).exists(),
    )


def facilitates(user, course):
    return _remember(user, course, "facilitates", lambda: course.facilitators.filter(pk=user.pk).exists())


@dataclass(frozen=True)
class Meeting:
    """What the supervision rules need to know of a session (which may not be saved yet)."""

    supervisor_id: int
    supervisee_ids: frozenset = field(default_factory=frozenset)
    team_id: int | None = None
    recorded_by_id: int | None = None
    signed_off: bool = False


def _took_part(user, meeting):
    return user.pk == meeting.supervisor_id or user.pk in meeting.supervisee_ids


def _may_correct(user, meeting):
    return user.pk == meeting.supervisor_id or (not meeting.signed_off and user.pk in meeting.supervisee_ids)


def _may_withdraw(user, meeting):
    if user.pk in (meeting.supervisor_id, meeting.recorded_by_id):
        return True
    return str(user.role) in MANAGERS and meeting.team_id == user.team_id


def _sees_in_team(user, record):
    return in_team(user, record) and sees(user, record)


def registered_with_team(user, patient):
    """A patient is the user's team's when the team registered them, first or since: the person is the
    service's, referrals are the team's (``referrals.PatientRegistration``)."""
    return in_team(user, patient) or (
        user.team_id is not None
        and _remember(user, patient, "registered", lambda: patient.registrations.filter(team_id=user.team_id).exists())
    )


def _sees_patient(user, patient):
    return registered_with_team(user, patient) and sees(user, patient)


def _runs_course(user, course):
    return in_team(user, course) and (sees_whole_team(user) or facilitates(user, course))


def _decides_in_supervision(user, referral):
    return in_team(user, referral) and (on_the_case(user, referral) or supervises_coordinator(user, referral))


# --- the rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    roles: frozenset  # the roles (or capacities) that may, on the right record
    on: Callable | None  # the record's part of the rule: (user, record) -> bool
    who: str  # who may, in words (the table above, the 403 page)
    what: str  # the act, in words ("change a referral's step")
    superusers_everywhere: bool = False  # oversight reads: a superuser may, for every team


RULES = {
    "register_patient": Rule(
        TEAM_STAFF, in_team, "clinicians, service managers and administrators, in their own team", "register a patient"
    ),
    "update_patient": Rule(
        TEAM_STAFF,
        _sees_patient,
        "clinicians, service managers and administrators who can see the patient",
        "change a patient's details",
    ),
    "register_referral": Rule(
        TEAM_STAFF,
        _sees_patient,
        "clinicians, service managers and administrators who can see the patient",
        "record a referral",
    ),
    "allocate": Rule(
        CLINICIANS | MANAGERS,
        _sees_in_team,
        "clinicians who can see the referral and the team's service managers",
        "allocate a referral",
    ),
    "record_care": Rule(CLINICIANS, on_the_case, "clinicians on the case", "record a session or an assessment"),
    "record_problem": Rule(CLINICIANS, on_the_case, "clinicians on the case", "record a presenting problem"),
    "change_step": Rule(CLINICIANS, on_the_case, "clinicians on the case", "change a referral's step"),
    "mark_in_error": Rule(CLINICIANS, on_the_case, "clinicians on the case", "mark a contact entered in error"),
    "resolve_flag": Rule(CLINICIANS, on_the_case, "clinicians on the case", "accept or dismiss a review flag"),
    "discharge": Rule(CLINICIANS, on_the_case, "clinicians on the case", "discharge a referral"),
    "send_questionnaires": Rule(
        CLINICIANS, on_the_case, "clinicians on the case", "send the patient a link to complete questionnaires"
    ),
    "supervision_decision": Rule(
        CLINICIANS | SUPERVISORS,
        _decides_in_supervision,
        "clinicians on the case and the care coordinator's supervisor",
        "record a supervision decision on this case",
    ),
    "record_supervision": Rule(
        CLINICIANS | SUPERVISORS,
        _took_part,
        "the supervisor or a supervisee of the session",
        "record a supervision session",
    ),
    "sign_off_supervision": Rule(
        CLINICIANS | SUPERVISORS,
        lambda user, meeting: user.pk == meeting.supervisor_id,
        "the session's supervisor",
        "sign off a supervision session",
    ),
    "correct_decision": Rule(
        CLINICIANS | SUPERVISORS,
        _may_correct,
        "the session's supervisor, or (before sign-off) one of its supervisees",
        "correct a supervision decision",
    ),
    "withdraw_supervision": Rule(
        CLINICIANS | SUPERVISORS | MANAGERS,
        _may_withdraw,
        "the supervisor, whoever recorded it, or the team's service managers",
        "mark a supervision record entered in error",
    ),
    "manage_supervision": Rule(
        MANAGERS | ADMINISTRATORS,
        in_team,
        "the team's service managers and administrators",
        "assign or end supervision",
    ),
    "plan_course": Rule(
        TEAM_STAFF,
        in_team,
        "clinicians (facilitating it), service managers and administrators",
        "plan a group course",
    ),
    "run_course": Rule(
        TEAM_STAFF,
        _runs_course,
        "the course's facilitators and the team's managers and administrators",
        "change a course's status",
    ),
    "book_group_place": Rule(
        TEAM_STAFF,
        _sees_in_team,
        "clinicians who can see the referral, service managers and administrators",
        "enrol a patient on a group course or withdraw them",
    ),
    "book_appointment": Rule(
        TEAM_STAFF,
        _sees_in_team,
        "clinicians who can see the referral, service managers and administrators",
        "book or move an appointment",
    ),
    "cancel_appointment": Rule(
        TEAM_STAFF,
        _sees_in_team,
        "clinicians who can see the referral, service managers and administrators",
        "cancel an appointment",
    ),
    "own_calendar": Rule(
        CLINICIANS,
        lambda user, clinician: user.pk == clinician.pk,
        "the clinician themselves",
        "make a new secret address for a clinician's calendar feed",
    ),
    "manage_diary": Rule(
        TEAM_STAFF,
        lambda user, clinician: (
            in_team(user, clinician) and (user.pk == clinician.pk or str(user.role) in MANAGERS | ADMINISTRATORS)
        ),
        "the clinician themselves, the team's service managers and administrators",
        "set a clinician's working pattern",
    ),
    "take_register": Rule(
        CLINICIANS,
        lambda user, course: in_team(user, course) and facilitates(user, course),
        "the course's facilitators",
        "take or correct a group register",
    ),
    "see_dashboard": Rule(
        MANAGERS | ADMINISTRATORS,
        in_team,
        "service managers and administrators (superusers: every team)",
        "see the service dashboard",
        superusers_everywhere=True,
    ),
    "search_audit": Rule(
        MANAGERS | ADMINISTRATORS,
        in_team,
        "service managers and administrators (superusers: every team)",
        "search the audit trail",
        superusers_everywhere=True,
    ),
    "validate_alerts": Rule(
        MANAGERS,
        in_team,
        "the team's service managers",
        "see how well the not-on-track alerts predict outcomes and tune them",
    ),
    "export_dataset": Rule(
        MANAGERS,
        in_team,
        "the team's service managers",
        "export the national data set and download its files",
    ),
    "import_dataset": Rule(
        MANAGERS,
        in_team,
        "the team's service managers",
        "import another system's data set extract",
    ),
}


def role_labels(roles):
    """The names people know the roles by, in the order of ``Role`` (the supervisor capacity last)."""
    labels = [label for value, label in Role.choices if value in roles]
    return labels + (["Supervisor"] if roles & SUPERVISORS else [])


class NotAllowed(PermissionDenied):
    """A rule of the rulebook refused: says what was refused and who may (for the 403 page and the API)."""

    def __init__(self, action):
        rule = RULES[action]
        self.action = action
        self.who = rule.who
        self.what = rule.what
        self.roles = role_labels(rule.roles)
        super().__init__(f"Only {rule.who} may {rule.what}.")


def may(user, action, record=None):
    """Whether ``user`` may do ``action`` (on ``record``). Without a record: whether their role may at
    all (to show a button on a page of many records); the service asks again with the record."""
    rule = RULES[action]
    if not _signed_in(user):
        return False
    if rule.superusers_everywhere and user.is_superuser:
        return True
    if user.team_id is None or not (capacities(user) & rule.roles):
        return False
    if record is None or rule.on is None:
        return True
    return bool(rule.on(user, record))


def require(user, action, record=None):
    """Refuse (``NotAllowed``, a PermissionDenied: 403) unless ``user`` may do ``action`` on ``record``.
    Asked afresh: an answer remembered for a page (``may``) is not trusted to enforce."""
    if record is not None and hasattr(record, "__dict__"):
        record.__dict__.pop("_rulebook", None)
    if not may(user, action, record):
        raise NotAllowed(action)
    if RULES[action].on is not None and record is None:
        raise TypeError(f"The rule {action!r} needs the record it applies to.")


def require_role(user, action):
    """For a page that offers the act (a form; a list with its buttons): refuse early when the user's
    role may never do it, rather than show a form they cannot use. The service still decides on the record."""
    if not may(user, action):
        raise NotAllowed(action)


def table():
    """The policy table of this module's docstring, made from ``RULES`` (a test keeps them equal)."""
    rows = [("Action", "Who may")] + [(action, rule.who) for action, rule in RULES.items()]
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"| {a:<{width[0]}} | {b:<{width[1]}} |" for a, b in rows]
    lines.insert(1, f"|{'-' * (width[0] + 2)}|{'-' * (width[1] + 2)}|")
    return "\n".join(lines)
