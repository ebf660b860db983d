"""The access policy, URL by URL: who may use each page or API route, and make each write.

Every URL pattern must be classified here. A new page that is not fails the access-matrix test with
a message asking its author to add it, so no page reaches production without a stated policy. Every
write (a POST, PUT, PATCH or DELETE that changes a record) must also have a valid body in
tests/security/bodies.py, so that it is tried for real: each persona the policy allows must succeed
(and leave its audit event), each other persona must be refused (403, or 404 for a record they may
not see) and leave nothing.

This table is written from the policy (common/permissions.py's docstring, issue 14), not from the
code: clinical decisions belong to clinicians on the case (supervisors act through supervision
decisions); administrators book and register but make no clinical decision; managers allocate and
oversee but do not record care; superuser status is configuration, not clinical rights. Outsiders
(another team) get 404 for records, never 403, so ids leak nothing.

Personas (tests/security/conftest.py): anonymous; outsider; colleague (a PWP of the team, not on the
case); pwp (the care coordinator) and pwp_trainee, hi_therapist, hi_trainee, step4, counsellor (each has
treated the patient); supervisor (supervises the pwp, not on the case); manager; administrator;
superuser (an administrator with superuser status).
"""

from dataclasses import dataclass
from fnmatch import fnmatchcase

from .conftest import ON_THE_CASE, PERSONAS, WIDE

# What a persona should get.
ALLOW = "allow"  # a read: 200 (audited when it shows a record); a write: done, with its audit event
PROCESSED = "processed"  # a request they may make, whose empty or partial input may be refused as bad (400)
FORBIDDEN = "403"  # their role may not: the 403 page (or JSON) saying who may; nothing written
NOT_FOUND = "404"  # the record does not exist for them; nothing written
LOGIN = "login"  # anonymous: HTML redirects to sign in (or 401/403); the API answers 401/403
ADMIN_LOGIN = "admin-login"  # Django admin: redirect to the admin sign-in (no persona but the superuser is staff)
ANY = "any"  # anything but a server error (sign-out; the superuser in the Django admin)


@dataclass(frozen=True)
class Hidden:
    """A record named in the body that does not exist for them: 400 naming that field (or 404)."""

    field: str


STAFF = tuple(p for p in PERSONAS if p != "anonymous")
GROUPS = {"on_the_case": ON_THE_CASE, "wide": WIDE, "staff": STAFF}


def who(default=NOT_FOUND, *, anonymous=LOGIN, **given):
    """{persona: outcome}: ``default`` for everyone signed in, then groups (``on_the_case``, ``wide``,
    ``staff``) and single personas, in the order given."""
    table = {p: default for p in STAFF}
    table["anonymous"] = anonymous
    for key, outcome in given.items():
        for persona in GROUPS.get(key, (key,)):
            table[persona] = outcome
    return table


@dataclass(frozen=True)
class Category:
    name: str
    read: dict  # GET
    write: dict | None = None  # POST, PUT, PATCH, DELETE (default: as for GET)
    audit: bool = False  # a GET that shows one patient's record must leave an audit event
    redirect_ok: bool = False  # an allowed GET may redirect elsewhere (not to sign-in)

    def expected(self, persona, method):
        table = self.read if method == "GET" or self.write is None else self.write
        return table[persona]

    def writes(self, table, name=None):
        return Category(name or self.name, self.read, table, self.audit, self.redirect_ok)


SEES_CASE = who(NOT_FOUND, on_the_case=ALLOW, supervisor=ALLOW, wide=ALLOW)
CLINICAL = who(NOT_FOUND, on_the_case=ALLOW, supervisor=FORBIDDEN, wide=FORBIDDEN)
ALLOCATES = who(
    NOT_FOUND, on_the_case=ALLOW, supervisor=ALLOW, manager=ALLOW, administrator=FORBIDDEN, superuser=FORBIDDEN
)
MANAGES = who(FORBIDDEN, wide=ALLOW)
# Supervision: the session's supervisor and supervisee (the pwp) and the team's managers see it.
SESSION_PEOPLE = who(NOT_FOUND, pwp=ALLOW, supervisor=ALLOW, wide=ALLOW)
SIGNS_OFF = who(NOT_FOUND, supervisor=ALLOW, pwp=FORBIDDEN, wide=FORBIDDEN)
CORRECTS_DECISION = who(NOT_FOUND, supervisor=ALLOW, pwp=ALLOW, wide=FORBIDDEN)  # before sign-off
# Withdrawn by the supervisor, whoever recorded it (the supervisor here) or the team's service manager.
WITHDRAWS_SUPERVISION = who(
    NOT_FOUND, supervisor=ALLOW, manager=ALLOW, pwp=FORBIDDEN, administrator=FORBIDDEN, superuser=FORBIDDEN
)
ENDS_RELATIONSHIP = who(NOT_FOUND, wide=ALLOW, pwp=FORBIDDEN, supervisor=FORBIDDEN)
GROUP_PEOPLE = who(NOT_FOUND, pwp=ALLOW, wide=ALLOW)  # a course's facilitator and the team's managers
FACILITATOR = who(NOT_FOUND, pwp=ALLOW, wide=FORBIDDEN)
# The pwp's leave or working pattern (manage_diary): the pwp, the team's managers and administrators.
WITHDRAWS_LEAVE = who(FORBIDDEN, pwp=ALLOW, wide=ALLOW, outsider=NOT_FOUND)

PUBLIC = Category("public", who(ALLOW, anonymous=ALLOW), redirect_ok=True)
SIGNED_IN = Category("signed-in", who(ALLOW), redirect_ok=True)
# One patient's record: the care team sees it, everyone else gets 404; every view is audited.
CASE_RECORD = Category("case-record", SEES_CASE, audit=True)
# A clinical decision on the case (log a session, change step, mark in error, resolve a flag,
# discharge): clinicians on the case; the supervisor, managers, administrators and the superuser see
# the case but are refused (the form page too); everyone else gets 404.
CLINICAL_ACT = Category("clinical-act", CLINICAL, redirect_ok=True)
MANAGEMENT = Category("management", MANAGES, redirect_ok=True)
DJANGO_ADMIN = Category("django-admin", who(ADMIN_LOGIN, anonymous=ADMIN_LOGIN, superuser=ANY))
WRITE_ONLY = who(ANY)  # the GET of a POST-only route: 405 for everyone (or the sign-in for anonymous)

# URL name (namespace:name; fnmatch patterns allowed, first match wins) → category.
CLASSIFICATION = {
    # sign-in and the service's own pages
    "login": PUBLIC,
    "health": PUBLIC,
    "api-token": PUBLIC,
    "logout": Category("sign-out", who(ANY, anonymous=ANY)),
    "api-logout": SIGNED_IN,  # revokes the caller's own token (a session has none: 400)
    "api-logout-all": SIGNED_IN,  # revokes every token of the caller
    "two_factor_setup": SIGNED_IN,
    "two_factor_verify": SIGNED_IN,
    "home": SIGNED_IN,
    "audit": MANAGEMENT,
    "audit_export": MANAGEMENT,
    "resolve_flag": Category("flag", SEES_CASE, CLINICAL, redirect_ok=True),
    # clinician pages (referrals)
    "referrals:caseload": SIGNED_IN,
    "referrals:waiting_list": SIGNED_IN,
    "referrals:new_patient": Category("register-patient", who(ALLOW), redirect_ok=True),
    "referrals:keepalive": SIGNED_IN,  # answers 401 to anonymous (it is called from script)
    "referrals:detail": CASE_RECORD,
    "referrals:new_referral": Category("register-referral", SEES_CASE, redirect_ok=True),
    "referrals:allocate": Category("allocate", WRITE_ONLY, ALLOCATES),
    "referrals:log_session": CLINICAL_ACT,
    # The session form's unsaved draft: kept for who may log the session, only by their own hand.
    "referrals:session_draft": Category("session-draft", WRITE_ONLY, CLINICAL),
    "referrals:change_step": CLINICAL_ACT,
    "referrals:presenting_problem": CLINICAL_ACT,  # a diagnosis: clinicians on the case
    "referrals:discharge": CLINICAL_ACT,
    "referrals:contact_in_error": CLINICAL_ACT,
    # supervision
    "supervision:index": SIGNED_IN,
    "supervision:sessions": SIGNED_IN,
    "supervision:compliance": SIGNED_IN,
    # Recording a session is for its supervisor or a supervisee (the form: clinicians and supervisors).
    "supervision:session_new": Category(
        "record-supervision", who(ALLOW, wide=FORBIDDEN), who(FORBIDDEN, pwp=ALLOW, supervisor=ALLOW)
    ),
    "supervision:relationships": Category("relationships", who(ALLOW), MANAGES),
    "supervision:case_list": Category("case-list", SESSION_PEOPLE),
    "supervision:case_list_csv": Category("case-list", SESSION_PEOPLE),
    "supervision:session_detail": Category("supervision-session", SESSION_PEOPLE),
    "supervision:session_sign_off": Category("sign-off", WRITE_ONLY, SIGNS_OFF),
    "supervision:session_error": Category("withdraw-supervision", WITHDRAWS_SUPERVISION),
    "supervision:decision_correct": Category("correct-decision", CORRECTS_DECISION),
    "supervision:relationship_end": Category("end-relationship", WRITE_ONLY, ENDS_RELATIONSHIP),
    # group workshops
    "workshops:list": SIGNED_IN,
    "workshops:waiting": SIGNED_IN,
    "workshops:create": Category("plan-course", who(ALLOW), redirect_ok=True),
    "workshops:offer": Category("offer", SEES_CASE),
    "workshops:course": Category("course", GROUP_PEOPLE),
    "workshops:status": Category("course-status", WRITE_ONLY, GROUP_PEOPLE),
    "workshops:diaries": Category("course-diaries", WRITE_ONLY, GROUP_PEOPLE, redirect_ok=True),
    # The course's enrol page is its facilitators' and managers'; anyone of the team may book a place
    # for a referral they can see (from the referral's groups page): the colleague cannot see it.
    "workshops:enrol": Category("enrol", GROUP_PEOPLE, SEES_CASE, redirect_ok=True),
    "workshops:register": Category("register", GROUP_PEOPLE, FACILITATOR, redirect_ok=True),
    "workshops:correct": Category("correct-register", FACILITATOR, redirect_ok=True),
    "workshops:withdraw": Category("withdraw", SEES_CASE, redirect_ok=True),
    # service manager dashboard
    "dashboard:referrals": Category("dashboard", who(FORBIDDEN, wide=PROCESSED)),  # 400 without a drill-down
    # validating and tuning the not-on-track alert: the team's service managers only (issue 19.4)
    "dashboard:not_on_track": Category("validate-alerts", who(FORBIDDEN, manager=ALLOW)),
    "dashboard:*": MANAGEMENT,
    # The national data set: the team's service managers; the pages do not exist for anyone else.
    "dataset:index": Category("dataset", who(NOT_FOUND, manager=ALLOW)),
    "dataset:export": Category("dataset-export", WRITE_ONLY, who(NOT_FOUND, manager=ALLOW), redirect_ok=True),
    "dataset:import": Category("dataset-import", WRITE_ONLY, who(NOT_FOUND, manager=ALLOW), redirect_ok=True),
    "dataset:run": Category("dataset-run", who(NOT_FOUND, manager=ALLOW)),
    "dataset:download": Category("dataset-run", who(NOT_FOUND, manager=ALLOW)),
    "api-dashboard": MANAGEMENT,
    # REST API: lists are scoped to what each person may see, so everyone signed in gets one
    "api-root": SIGNED_IN,
    "api-me": SIGNED_IN,
    "api-schema": SIGNED_IN,
    "api-docs": SIGNED_IN,
    "api-supervision-compliance": SIGNED_IN,
    "patient-list": SIGNED_IN.writes(who(ALLOW), "register-patient"),
    "referral-list": SIGNED_IN.writes(
        who(ALLOW, outsider=Hidden("patient"), colleague=Hidden("patient")), "register-referral"
    ),
    "contact-list": SIGNED_IN.writes(
        who(FORBIDDEN, on_the_case=ALLOW, outsider=Hidden("referral"), colleague=Hidden("referral")), "log-contact"
    ),
    "supervision-relationship-list": SIGNED_IN.writes(who(FORBIDDEN, wide=ALLOW, outsider=Hidden("supervisor"))),
    "supervision-session-list": SIGNED_IN.writes(
        who(FORBIDDEN, pwp=ALLOW, supervisor=ALLOW, outsider=Hidden("supervisor")), "record-supervision"
    ),
    "course-list": SIGNED_IN.writes(who(ALLOW), "plan-course"),
    "enrolment-list": SIGNED_IN.writes(who(ALLOW, outsider=Hidden("course"), colleague=Hidden("referral")), "enrol"),
    # The register is the facilitators'; a session the persona cannot see does not exist for them.
    "register-list": SIGNED_IN.writes(who(Hidden("session"), pwp=ALLOW, wide=FORBIDDEN), "register"),
    # Diaries (issue 18): a clinician's own day and calendar; booking, moving and cancelling for whoever
    # sees the referral in the team (book_appointment, cancel_appointment); an appointment's outcome is
    # a contact: clinicians on the case (record_care).
    "appointments:my_day": SIGNED_IN,
    "appointments:waiting": SIGNED_IN,
    "appointments:free_slots": SIGNED_IN,
    "appointments:calendar": Category("calendar", who(ALLOW, wide=FORBIDDEN)),
    # Leave and working patterns (manage_diary): a clinician their own, a manager or an administrator
    # the team's; withdrawing the pwp's leave: the pwp and the team's managers and administrators.
    "appointments:leave": SIGNED_IN.writes(who(ALLOW), "leave"),
    "appointments:working_patterns": SIGNED_IN.writes(who(ALLOW), "working-pattern"),
    "appointments:withdraw_leave": Category("withdraw-leave", WRITE_ONLY, WITHDRAWS_LEAVE, redirect_ok=True),
    "appointments:end_pattern": Category("end-pattern", WRITE_ONLY, WITHDRAWS_LEAVE, redirect_ok=True),
    "appointments:feed": Category("calendar-feed", who(NOT_FOUND, anonymous=NOT_FOUND), who(ANY, anonymous=ANY)),
    "appointments:book": Category("book", SEES_CASE, redirect_ok=True),
    "appointments:reschedule": Category("reschedule", SEES_CASE, redirect_ok=True),
    "appointments:cancel": Category("cancel-appointment", SEES_CASE, redirect_ok=True),
    "appointments:record_outcome": Category("appointment-outcome", WRITE_ONLY, CLINICAL, redirect_ok=True),
    "appointments:attended": CLINICAL_ACT,
    "appointment-list": SIGNED_IN.writes(
        who(
            FORBIDDEN,
            on_the_case=ALLOW,
            supervisor=ALLOW,
            wide=ALLOW,
            outsider=Hidden("referral"),
            colleague=Hidden("referral"),
        ),
        "book",
    ),
    "appointment-detail": Category("appointment", SEES_CASE, audit=True),
    "appointment-cancel": Category("cancel-appointment", SEES_CASE),
    "appointment-reschedule": Category("reschedule", SEES_CASE),
    "appointment-series": Category("book", SEES_CASE),
    "appointment-outcome": CLINICAL_ACT,
    "working-pattern-list": SIGNED_IN.writes(who(ALLOW), "working-pattern"),
    "working-pattern-detail": Category("working-pattern", who(ALLOW, outsider=NOT_FOUND)),
    "leave-list": SIGNED_IN.writes(who(ALLOW), "leave"),
    "leave-detail": Category("leave", who(ALLOW, outsider=NOT_FOUND)),
    "leave-withdraw": Category("withdraw-leave", WRITE_ONLY, WITHDRAWS_LEAVE),
    "working-pattern-end": Category("end-pattern", WRITE_ONLY, WITHDRAWS_LEAVE),
    "*-list": SIGNED_IN,
    "patient-search": Category("search", who(PROCESSED)),  # identifiers in the body, never the URL
    "patient-detail": CASE_RECORD.writes(SEES_CASE, "patient-details"),
    "referral-detail": CASE_RECORD,
    "referral-steps": CASE_RECORD.writes(CLINICAL, "change-step"),
    # Everyone who sees the record reads its problems; only clinicians on the case record one.
    "referral-presenting-problems": CASE_RECORD.writes(CLINICAL, "record-problem"),
    "measure-detail": SIGNED_IN,  # the measures table is reference data, the same for everyone
    "referral-outcome": CASE_RECORD,
    "referral-fhir": CASE_RECORD,  # the referral as a FHIR Bundle (issue 16.5): seen as the referral is
    "contact-detail": CASE_RECORD,
    "questionnaire-detail": CASE_RECORD,
    "flag-detail": CASE_RECORD,
    "referral-allocate": Category("allocate", ALLOCATES),
    "referral-discharge": CLINICAL_ACT,
    "contact-entered-in-error": CLINICAL_ACT,
    "flag-resolve": CLINICAL_ACT,
    "supervision-case-list-detail": Category("case-list", SESSION_PEOPLE),
    "supervision-session-detail": Category("supervision-session", SESSION_PEOPLE),
    "supervision-session-sign-off": Category("sign-off", SIGNS_OFF),
    "supervision-session-entered-in-error": Category("withdraw-supervision", WITHDRAWS_SUPERVISION),
    # Adding decisions to a session not yet signed off: its supervisor or supervisee.
    "supervision-session-decisions": Category("add-decisions", CORRECTS_DECISION),
    "supervision-decision-detail": Category("supervision-decision", SESSION_PEOPLE),
    "supervision-decision-correct": Category("correct-decision", CORRECTS_DECISION),
    "supervision-decision-entered-in-error": Category("withdraw-supervision", WITHDRAWS_SUPERVISION),
    "supervision-relationship-detail": Category("relationship", SESSION_PEOPLE),
    "supervision-relationship-end": Category("end-relationship", ENDS_RELATIONSHIP),
    "enrolment-detail": Category("enrolment", SEES_CASE),
    "enrolment-withdraw": Category("withdraw", SEES_CASE),
    "course-detail": Category("course", GROUP_PEOPLE),
    "course-status": Category("course-status", GROUP_PEOPLE),
    "course-diaries": Category("course-diaries", GROUP_PEOPLE),
    "register-detail": Category("register", GROUP_PEOPLE),
    "register-entered-in-error": Category("correct-register", FACILITATOR),
    # The public front door (no sign-in): the self-referral pages take anyone, signed in or not; their
    # POSTs with an empty body are refused as bad input (400) and save nothing (tests/frontdoor). A link
    # with an unknown token is not found, for everyone.
    "frontdoor:index": PUBLIC.writes(who(ANY, anonymous=ANY)),
    "frontdoor:start": PUBLIC.writes(who(ANY, anonymous=ANY)),
    "frontdoor:done": PUBLIC.writes(who(ANY, anonymous=ANY)),
    "frontdoor:step": Category(
        "self-referral", who(ALLOW, anonymous=ALLOW), who(PROCESSED, anonymous=PROCESSED), redirect_ok=True
    ),
    "frontdoor:questionnaire_link": Category(
        "questionnaire-link", who(NOT_FOUND, anonymous=NOT_FOUND), who(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    # Asking the patient for scores between sessions: clinicians on the case (send_questionnaires).
    "frontdoor:send_link": Category("send-questionnaires", WRITE_ONLY, CLINICAL, redirect_ok=True),
    # Django admin: staff accounts only; the superuser persona is the only staff one
    "admin:login": PUBLIC,
    "admin:*": DJANGO_ADMIN,
}

# Writes that change no record: signing in and out, searches kept in the session. Tried with an empty
# body (a request they may make, refused only as bad input). Every other write needs a body in bodies.py,
# or must answer 405 to everyone.
NOT_RECORD_WRITES = {
    "login",
    "logout",
    "api-token",
    "api-logout",  # revokes the caller's own tokens
    "api-logout-all",
    "health",
    "two_factor_setup",
    "two_factor_verify",
    "audit",  # the patient lookup form
    "referrals:caseload",  # the search, kept in the session
    "referrals:waiting_list",
    "patient-search",
    "frontdoor:step",  # a page of the self-referral form, kept in the session until the last
    "frontdoor:questionnaire_link",  # an unknown token: 404 whatever the body
}

# What fills each URL parameter: a kind of record of the scenario (tests/security/conftest.py) or a
# literal. By URL name first, then by the model a DRF viewset serves (for ``pk``), then by name.
PARAMS = {
    "measure-detail": {"pk": "=SPIN"},
    "referrals:new_referral": {"pk": "patient"},
    "referrals:contact_in_error": {"pk": "contact"},
    "referrals:*": {"pk": "referral"},
    "resolve_flag": {"pk": "flag"},
    "supervision:session_*": {"pk": "supervision_session"},
    "supervision:decision_*": {"pk": "decision"},
    "supervision:relationship_*": {"pk": "relationship"},
    "supervision-case-list-detail": {"pk": "treating"},
    "workshops:register": {"pk": "course_session"},
    "workshops:correct": {"pk": "register_entry"},
    "workshops:withdraw": {"pk": "enrolment"},
    "workshops:*": {"pk": "course"},
    "dashboard:export": {"key": "=caseload"},
    "dashboard:table": {"key": "=caseload"},
    "frontdoor:step": {"slug": "=security-test", "page": "=crisis"},
    "frontdoor:questionnaire_link": {"token": "=not-a-real-token"},
    "frontdoor:send_link": {"pk": "referral"},
    "referral-fhir": {"pk": "referral"},
    "appointments:book": {"pk": "referral"},
    "appointments:feed": {"token": "=not-a-real-token"},
    "appointments:withdraw_leave": {"pk": "leave"},
    "appointments:end_pattern": {"pk": "working_pattern"},
    "appointments:*": {"pk": "appointment"},
    "frontdoor:*": {"slug": "=security-test"},
    "dataset:*": {"pk": "dataset_run"},
}
MODEL_KINDS = {
    "referrals.patient": "patient",
    "referrals.referral": "referral",
    "referrals.carecontact": "contact",
    "outcomes.questionnaireresponse": "questionnaire",
    "stepped_care.reviewflag": "flag",
    "supervision.supervisionsession": "supervision_session",
    "supervision.casedecision": "decision",
    "supervision.supervisionrelationship": "relationship",
    "workshops.groupcourse": "course",
    "workshops.coursesession": "course_session",
    "workshops.enrolment": "enrolment",
    "workshops.registerentry": "register_entry",
    "appointments.appointment": "appointment",
    "appointments.workingpattern": "working_pattern",
    "appointments.leave": "leave",
}
PARAM_NAMES = {
    "referral_id": "referral",
    "referral_pk": "referral",
    "patient_id": "patient",
    "contact_id": "contact",
    "flag_id": "flag",
    "staff_id": "treating",
    "format": "=json",
}
# Admin routes answer every persona with a redirect before looking anything up; any value will do.
ADMIN_PARAMS = {
    "measure-detail": {"pk": "=SPIN"},
    "app_label": "=stepped_care",
    "url": "=no-such-page/",
    "content_type_id": "=1",
}

# Kinds of record that belong to a patient: their ids in URLs must be random (UUIDs), so that ids
# reveal nothing about how many patients a service has.
PATIENT_KINDS = {
    "patient",
    "referral",
    "contact",
    "questionnaire",
    "flag",
    "decision",
    "enrolment",
    "register_entry",
    "appointment",
}


# Filled in by the test run and printed at its end (tests/security/conftest.py).
TALLY = {
    "patterns": 0,
    "requests": 0,
    "writes": 0,
    "allowed": 0,
    "refused": 0,
    "forbidden": 0,
    "not_found": 0,
    "hidden": 0,
    "sign_in": 0,
}


def lookup(table, name):
    for pattern, value in table.items():
        if fnmatchcase(name, pattern):
            return value
    return None


def category_of(endpoint):
    if not endpoint.name:
        # The admin's unnamed redirects (object id → its change page, catch-all) are admin pages too.
        return DJANGO_ADMIN if endpoint.is_admin else None
    return lookup(CLASSIFICATION, endpoint.name)


def kind_of(endpoint, param):
    """The kind of object (or ``=literal``) that fills ``param`` of this endpoint, or None if unknown."""
    by_name = lookup(PARAMS, endpoint.name) or {}
    if param in by_name:
        return by_name[param]
    if param in ("pk", "id") and endpoint.model is not None:
        kind = MODEL_KINDS.get(endpoint.model._meta.label_lower)
        if kind:
            return kind
    if param in PARAM_NAMES:
        return PARAM_NAMES[param]
    if endpoint.is_admin:
        return ADMIN_PARAMS.get(param, "=1")
    return None
