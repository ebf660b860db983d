"""The access policy, URL by URL: who may use each page or API route.

Every URL pattern must be classified here. A new page that is not fails the access-matrix test with
a message asking its author to add it, so no page reaches production without a stated policy.

Policy (referrals/queries.py): clinicians see referrals they coordinate or have treated and their
team's unallocated waiting list; supervisors also see their supervisees' caseloads; managers and
administrators see their team. Outsiders get 404, never 403, for records, so ids leak nothing.

Personas: anonymous; ``outsider`` (a clinician of another team); ``colleague`` (same team, not on
the case); ``treating`` (the care coordinator, who also treats); ``supervisor`` (supervises the
treating clinician); ``manager`` and ``administrator`` of the team.
"""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

# What a persona should get.
ALLOW = "allow"  # GET 200 (and the record view audited); a write is processed or refused as bad input
SEES = "sees"  # may see the record, but a role rule may refuse the action (403); never 404
NOT_FOUND = "404"  # the record does not exist for them
DENIED = "403/404"  # a page their role may not use
LOGIN = "login"  # anonymous: HTML redirects to sign in (or 401/403); the API answers 401/403
ADMIN_LOGIN = "admin-login"  # Django admin: redirect to the admin sign-in (no persona is staff)
ANY = "any"  # anything but a server error (sign-out)


@dataclass(frozen=True)
class Category:
    name: str
    expect: dict
    audit: bool = False  # a GET that shows one patient's record must leave an audit event
    redirect_ok: bool = False  # an allowed GET may redirect elsewhere (not to sign-in)
    overrides: dict = field(default_factory=dict)  # {persona or (METHOD, persona): expectation}

    def expected(self, persona, method):
        for key in ((method, persona), persona, method):
            if key in self.overrides and not (key == method and persona == "anonymous"):
                return self.overrides[key]
        return self.expect[persona]

    def but(self, **overrides):
        """The same category with some expectations changed: ``supervisor=...`` for a persona,
        ``POST__treating=...`` for one method of one persona, ``POST=...`` for every signed-in persona."""
        parsed = {}
        for key, value in overrides.items():
            if "__" in key:
                method, persona = key.split("__")
                parsed[(method, persona)] = value
            else:
                parsed[key] = value
        return Category(self.name, self.expect, self.audit, self.redirect_ok, {**self.overrides, **parsed})


def _personas(anonymous, outsider, colleague, treating, supervisor, manager, administrator):
    return {
        "anonymous": anonymous,
        "outsider": outsider,
        "colleague": colleague,
        "treating": treating,
        "supervisor": supervisor,
        "manager": manager,
        "administrator": administrator,
    }


PUBLIC = Category("public", _personas(*[ALLOW] * 7), redirect_ok=True)
SIGNED_IN = Category("signed-in", _personas(LOGIN, *[ALLOW] * 6), redirect_ok=True)
# One patient's record: the care team sees it, everyone else gets 404; every view is audited.
CASE_RECORD = Category("case-record", _personas(LOGIN, NOT_FOUND, NOT_FOUND, ALLOW, ALLOW, ALLOW, ALLOW), audit=True)
# Forms and actions on one patient's record (or on the treating clinician's caseload): same access.
# The treating clinician can; role rules may refuse others who see the record (only clinicians log
# sessions, only supervisors sign off supervision ...), but outsiders always get 404.
CASE_ACTION = Category("case-action", _personas(LOGIN, NOT_FOUND, NOT_FOUND, ALLOW, SEES, SEES, SEES), redirect_ok=True)
# A group course: its facilitators (the treating clinician here) and the team's managers.
GROUP = Category("group", _personas(LOGIN, NOT_FOUND, NOT_FOUND, ALLOW, NOT_FOUND, SEES, SEES), redirect_ok=True)
MANAGEMENT = Category("management", _personas(LOGIN, DENIED, DENIED, DENIED, DENIED, ALLOW, ALLOW), redirect_ok=True)
DJANGO_ADMIN = Category("django-admin", _personas(*[ADMIN_LOGIN] * 7))

# URL name (namespace:name; fnmatch patterns allowed, first match wins) → category.
CLASSIFICATION = {
    # sign-in and the service's own pages
    "login": PUBLIC,
    "health": PUBLIC,
    "api-token": PUBLIC,
    "api-logout": SIGNED_IN,  # revokes the caller's own token (a session has none: 400)
    "api-logout-all": SIGNED_IN,  # revokes every token of the caller
    "logout": Category("sign-out", _personas(*[ANY] * 7)),
    "two_factor_setup": SIGNED_IN,
    "two_factor_verify": SIGNED_IN,
    "home": SIGNED_IN,
    "audit": MANAGEMENT,
    "audit_export": MANAGEMENT,
    "resolve_flag": CASE_ACTION,
    # clinician pages (referrals)
    "referrals:caseload": SIGNED_IN,
    "referrals:waiting_list": SIGNED_IN,
    "referrals:new_patient": SIGNED_IN,
    "referrals:keepalive": SIGNED_IN,  # answers 401 to anonymous (it is called from script)
    "referrals:detail": CASE_RECORD,
    "referrals:new_referral": CASE_ACTION,
    "referrals:allocate": CASE_ACTION,
    "referrals:log_session": CASE_ACTION,
    "referrals:change_step": CASE_ACTION,
    "referrals:presenting_problem": CASE_ACTION,  # clinicians on the case record diagnoses
    "referrals:discharge": CASE_ACTION,
    "referrals:contact_in_error": CASE_ACTION,
    # supervision
    "supervision:index": SIGNED_IN,
    "supervision:sessions": SIGNED_IN,
    "supervision:session_new": SIGNED_IN,
    "supervision:compliance": SIGNED_IN,
    "supervision:relationships": SIGNED_IN.but(POST=SEES),  # only managers add relationships
    "supervision:case_list": CASE_ACTION,
    "supervision:case_list_csv": CASE_ACTION,
    "supervision:session_detail": CASE_ACTION,
    "supervision:session_sign_off": CASE_ACTION.but(treating=SEES),  # the supervisor signs off
    "supervision:session_error": CASE_ACTION,
    "supervision:decision_correct": CASE_ACTION,
    "supervision:relationship_end": CASE_ACTION.but(treating=SEES),  # managers end relationships
    # group workshops
    "workshops:list": SIGNED_IN,
    "workshops:create": SIGNED_IN,
    "workshops:waiting": SIGNED_IN,
    "workshops:offer": CASE_ACTION,
    "workshops:course": GROUP,
    "workshops:status": GROUP,
    # Anyone in the team may enrol (from a referral's groups page); an empty form is a 400 naming the field.
    "workshops:enrol": GROUP.but(POST__colleague=ALLOW, POST__supervisor=ALLOW),
    "workshops:register": GROUP,
    "workshops:correct": GROUP,
    "workshops:withdraw": CASE_ACTION,
    # service manager dashboard
    "dashboard:referrals": MANAGEMENT.but(manager=SEES, administrator=SEES),  # 400 without a drill-down
    "dashboard:*": MANAGEMENT,
    "api-dashboard": MANAGEMENT,
    # REST API: lists are scoped to what each person may see, so everyone signed in gets one
    "api-root": SIGNED_IN,
    "api-me": SIGNED_IN,
    "api-schema": SIGNED_IN,
    "api-docs": SIGNED_IN,
    "api-supervision-compliance": SIGNED_IN,
    "*-list": SIGNED_IN,
    "patient-search": SIGNED_IN,  # POST: identifiers in the body, never the URL; an empty search is a 400
    "patient-detail": CASE_RECORD,
    "referral-detail": CASE_RECORD,
    "referral-steps": CASE_RECORD,
    # Everyone who sees the record reads its problems; only clinicians record one (managers: 403).
    "referral-presenting-problems": CASE_RECORD.but(POST__manager=SEES, POST__administrator=SEES),
    "measure-detail": SIGNED_IN,  # the measures table is reference data, the same for everyone
    "referral-outcome": CASE_RECORD,
    "contact-detail": CASE_RECORD,
    "questionnaire-detail": CASE_RECORD,
    "flag-detail": CASE_RECORD,
    "referral-allocate": CASE_ACTION,
    "referral-discharge": CASE_ACTION,
    "contact-entered-in-error": CASE_ACTION,
    "flag-resolve": CASE_ACTION,
    "supervision-case-list-detail": CASE_ACTION,
    "supervision-session-sign-off": CASE_ACTION.but(treating=SEES),
    "supervision-relationship-end": CASE_ACTION.but(treating=SEES),
    "supervision-session-*": CASE_ACTION,
    "supervision-decision-*": CASE_ACTION,
    "supervision-relationship-*": CASE_ACTION,
    "enrolment-*": CASE_ACTION,
    "course-*": GROUP,
    "register-*": GROUP,
    # Django admin: staff accounts only; no persona is staff
    "admin:login": PUBLIC,
    "admin:*": DJANGO_ADMIN,
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
}


# Filled in by the test run and printed at its end (tests/security/conftest.py).
TALLY = {"patterns": 0, "personas": 7, "requests": 0}


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
