"""The clinician's pages: scoping (outsiders get 404), fixed query counts on lists, and forms that
place the services' errors on their fields and keep everything typed."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from outcomes.models import QuestionnaireResponse
from referrals import services
from referrals.models import CareContact, Patient, Referral, ReferralEvent
from stepped_care import services as stepped_care_services
from stepped_care.models import ReviewFlag, StepAssignment
from stepped_care.services import change_step
from tests.factories import PatientFactory, ReferralFactory

TODAY = timezone.localdate()
PHQ_MODERATE = [2, 2, 2, 1, 1, 1, 1, 1, 0]  # 11: moderate
GAD_MILD = [1, 1, 1, 1, 1, 1, 0]  # 6: mild
VALID_NHS = "9434765919"


def session(referral, by, days_ago, phq=PHQ_MODERATE, gad=GAD_MILD, appointment_type="02", attendance="5"):
    return services.log_contact(
        referral=referral,
        by=by,
        date=TODAY - dt.timedelta(days=days_ago),
        appointment_type=appointment_type,
        attendance=attendance,
        phq9=phq,
        gad7=gad,
    )


def make_case(clinician, *, sessions=2, flags=("risk", "not_improving")):
    referral = services.create_referral(
        by=clinician,
        patient=PatientFactory(team=clinician.team),
        received_on=TODAY - dt.timedelta(days=90),
        source="gp",
        presenting_problem="depression",
        care_coordinator=clinician,
    )
    change_step(referral=referral, step=2, reason="Assessed: low intensity", by=clinician)
    for n in range(sessions):
        session(referral, clinician, 60 - 7 * n, appointment_type="01" if n == 0 else "02")
    for rule in flags:
        ReviewFlag.objects.create(
            referral=referral,
            rule=rule,
            recommendation="risk" if rule == "risk" else "review",
            severity="red" if rule == "risk" else "amber",
            explanation=f"{rule} explanation",
            evidence={"phq9": [11, 11]},
        )
    return referral


def session_post(**overrides):
    data = {
        "date": TODAY.isoformat(),
        "appointment_type": "02",
        "attendance": "5",
        "mechanism": "01",
        "therapy_mode": "1",
        "notes": "Worked on behavioural activation.",
    }
    data.update({f"phq9_{n}": v for n, v in enumerate(PHQ_MODERATE, start=1)})
    data.update({f"gad7_{n}": v for n, v in enumerate(GAD_MILD, start=1)})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["referrals:caseload", "referrals:waiting_list", "referrals:new_patient"])
def test_pages_need_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["detail", "log_session", "change_step", "discharge"])
def test_outsiders_get_404_on_a_referral(client, referral, outsider, name):
    client.force_login(outsider)
    assert client.get(reverse(f"referrals:{name}", kwargs={"pk": referral.pk})).status_code == 404


def test_outsiders_cannot_allocate_or_correct(client, referral, pwp, outsider):
    contact = session(referral, pwp, 5)
    client.force_login(outsider)
    url = reverse("referrals:allocate", kwargs={"pk": referral.pk})
    assert client.post(url, {"clinician": outsider.pk}).status_code == 404
    url = reverse("referrals:contact_in_error", kwargs={"pk": contact.pk})
    assert client.post(url, {"reason": "x"}).status_code == 404
    assert not CareContact.objects.filter(entered_in_error=True).exists()


def test_a_manager_sees_the_referral_but_cannot_log_sessions(client, referral, manager):
    client.force_login(manager)
    assert client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).status_code == 200
    assert client.get(reverse("referrals:log_session", kwargs={"pk": referral.pk})).status_code == 403


def test_home_sends_clinicians_to_their_caseload(client, pwp, manager):
    client.force_login(pwp)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("referrals:caseload")
    client.force_login(manager)
    assert client.get("/").status_code in (200, 302)
    assert client.get("/").get("Location") != reverse("referrals:caseload")


def test_navigation_by_role(client, pwp, manager):
    client.force_login(pwp)
    html = client.get(reverse("referrals:waiting_list")).content.decode()
    assert "My caseload" in html and "New patient" in html
    client.force_login(manager)
    html = client.get(reverse("referrals:waiting_list")).content.decode()
    assert "My caseload" not in html and "Waiting list" in html


def test_keepalive_returns_a_fresh_csrf_token_or_401(client, pwp):
    url = reverse("referrals:keepalive")
    assert client.get(url).status_code == 401
    client.force_login(pwp)
    body = client.get(url).json()
    assert body["signed_in"] is True and body["csrf"]


# --- caseload ---------------------------------------------------------------------------------------


def test_caseload_shows_scores_trend_flags_risk_first_and_days_since_contact(client, pwp, colleague):
    mine = make_case(pwp)
    make_case(colleague)  # not on my caseload
    client.force_login(pwp)
    response = client.get(reverse("referrals:caseload"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.referral.pk for r in rows] == [mine.pk]
    row = rows[0]
    assert (row.phq9.value, row.phq9.severity) == (11, "moderate")
    assert (row.gad7.value, row.gad7.severity) == (6, "mild")
    assert row.referral.sessions_attended == 1  # the assessment (01) is not a treatment session
    assert row.days_since_contact == 53
    assert [f.rule for f in row.flags] == ["risk", "not_improving"]
    assert row.trend_points == 2 and row.phq9_trend
    html = response.content.decode()
    assert "<polyline" in html and "moderate" in html


def queries_for(client, url, **params):
    """(number of SQL queries, response) of one page load."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx), response


def test_caseload_runs_a_fixed_number_of_queries(client, pwp, django_assert_max_num_queries):
    """The same count with 1 and with 15 referrals: scores and facts come annotated from
    OutcomeSummary, trend points and open flags in one prefetch query each."""
    url = reverse("referrals:caseload")
    client.force_login(pwp)
    make_case(pwp)
    one, response = queries_for(client, url, sort="phq9")
    assert len(response.context["rows"]) == 1
    for _ in range(14):
        make_case(pwp)
    many, response = queries_for(client, url, sort="phq9")
    assert len(response.context["rows"]) == 15
    assert one == many
    # session, user, team (navigation), referrals, trend scores, open flags, session save (3)
    with django_assert_max_num_queries(10):
        client.get(url, {"flagged": "1", "sort": "-gad7"})


def test_the_referral_page_runs_a_fixed_number_of_queries(client, pwp):
    """The same count with one contact and with many (scores, flags, steps, problems, history), whether
    the viewer is on the case or not (issue 22: the page's Python is held to its SQL)."""
    one_contact = make_case(pwp, sessions=1, flags=())
    many = make_case(pwp, sessions=9)
    for n in range(3):
        change_step(referral=many, step=2 if n % 2 else 3, reason=f"Review {n}", by=pwp)
    client.force_login(pwp)
    counts = set()
    for referral in (one_contact, many):
        count, response = queries_for(client, reverse("referrals:detail", args=[referral.pk]))
        counts.add(count)
    assert len(response.context["score_rows"]) == 9 and len(response.context["open_flags"]) == 2
    assert counts == {count}, counts
    # session, the user with their team (common.sessions), the referral (as seen), audit, contacts and
    # their scores, steps, events, flags, own scores, curves, outcome (3), problems, messages,
    # self-referral, on the case, navigation (the session is not written: common.sessions refreshes it at
    # most once a minute, and signing in was the refresh)
    assert count == 18


def test_caseload_sorts_and_filters(client, pwp):
    low = make_case(pwp, flags=())
    high = make_case(pwp, flags=())
    session(high, pwp, 1, phq=[3] * 8 + [0], gad=[3] * 7)
    client.force_login(pwp)
    url = reverse("referrals:caseload")
    rows = client.get(url, {"sort": "-phq9"}).context["rows"]
    assert [r.referral.pk for r in rows] == [high.pk, low.pk]
    rows = client.get(url, {"sort": "days"}).context["rows"]
    assert rows[0].referral.pk == high.pk  # seen yesterday: fewest days since contact
    rows = client.post(url, {"q": low.patient.family_name}, follow=True).context["rows"]
    assert [r.referral.pk for r in rows] == [low.pk]
    client.post(url, {"clear": "1"})
    ReviewFlag.objects.create(referral=low, rule="risk", recommendation="risk", severity="red")
    rows = client.get(url, {"flagged": "1"}).context["rows"]
    assert [r.referral.pk for r in rows] == [low.pk]
    rows = client.get(url).context["rows"]  # default: attention needed first
    assert rows[0].referral.pk == low.pk
    assert client.get(url, {"sort": "nonsense"}).status_code == 200


# --- waiting list and allocation -------------------------------------------------------------------


def waiting_referral(team, days=50, **kwargs):
    return ReferralFactory(
        patient__team=team, received_on=TODAY - dt.timedelta(days=days), status="awaiting_assessment", **kwargs
    )


def test_waiting_list_runs_a_fixed_number_of_queries(client, pwp, manager, django_assert_max_num_queries):
    url = reverse("referrals:waiting_list")
    waiting_referral(pwp.team, days=10)
    for user in (pwp, manager):
        client.force_login(user)
        one, response = queries_for(client, url)
        assert len(response.context["rows"]) == 1
    for n in range(12):
        waiting_referral(pwp.team, days=20 + n * 10, care_coordinator=pwp if n % 2 else None)
    for user, expected in ((pwp, 13), (manager, 13)):
        client.force_login(user)
        many, response = queries_for(client, url)
        assert len(response.context["rows"]) == expected
        assert one == many
    # session, user, team (navigation), count, referrals with their facts, clinicians to allocate to (10 with
    # the session's UPDATE in its savepoint, until common.sessions refreshed it at most once a minute)
    with django_assert_max_num_queries(7):
        client.get(url, {"allocation": "unallocated", "sort": "-patient"})


def built_per_request(user, q="", status="", problem="", allocation=""):
    """The waiting list's queryset as the view built it before queries.waiting_list_of (resolved per call)."""
    from referrals.codes import WAITING_STATUSES
    from referrals.queries import patient_search
    from referrals.views import WAITING_ROW_DEFERS

    qs = Referral.objects.visible_to(user).filter(team_id=user.team_id, status__in=WAITING_STATUSES)
    qs = qs.filter(patient_search(q, prefix="patient__"))
    if status:
        qs = qs.filter(status=status)
    if problem:
        qs = qs.filter(presenting_problem=problem)
    if allocation == "unallocated":
        qs = qs.filter(care_coordinator__isnull=True)
    return qs.with_list_facts().with_next_appointment().defer(*WAITING_ROW_DEFERS)


ROW_JOINS = (
    ' INNER JOIN "referrals_patient" ON ("referrals_referral"."patient_id" = "referrals_patient"."id")',
    ' LEFT OUTER JOIN "stepped_care_staff" ON ("referrals_referral"."care_coordinator_id" = "stepped_care_staff"."id")',
)


def same_but_for_where_a_row_is_joined(a, b):
    """The same SQL and parameters, but the patient's (inner) and the coordinator's (left) join may come
    before or after the summary's (left) join: a search or the allocation filter joins them as it
    filters, before the annotations held do. Each join is there once in both."""
    (sql_a, params_a), (sql_b, params_b) = a, b
    for join in ROW_JOINS:
        assert sql_a.count(join) == sql_b.count(join) == 1, join
        sql_a, sql_b = sql_a.replace(join, ""), sql_b.replace(join, "")
    return sql_a == sql_b and params_a == params_b


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "Smith"},
        {"q": "943 476 5919", "status": "awaiting_treatment"},
        {"problem": "depression"},
        {"allocation": "unallocated"},
    ],
)
def test_the_waiting_lists_annotations_resolved_once_give_the_same_sql(pwp, manager, supervisor, filters):
    from referrals.queries import patient_search, waiting_list_of
    from referrals.views import WAITING_ROW_DEFERS

    for n in range(3):
        waiting_referral(pwp.team, days=10 + n, care_coordinator=pwp if n else None)
    for user in (pwp, manager, supervisor, pwp):  # pwp again: after others used the held queryset
        qs = waiting_list_of(user, defer=WAITING_ROW_DEFERS)
        qs = qs.filter(patient_search(filters.get("q", ""), prefix="patient__"))
        if filters.get("status"):
            qs = qs.filter(status=filters["status"])
        if filters.get("problem"):
            qs = qs.filter(presenting_problem=filters["problem"])
        if filters.get("allocation"):
            qs = qs.filter(care_coordinator__isnull=True)
        expected = built_per_request(user, **filters)
        for order in (("received_on",), ("-patient__family_name", "patient__given_name")):
            ordered, fresh = qs.order_by(*order, "pk"), expected.order_by(*order, "pk")
            for a, b in ((ordered, fresh), (ordered[:50], fresh[:50])):
                if "q" in filters or "allocation" in filters:
                    assert same_but_for_where_a_row_is_joined(a.query.sql_with_params(), b.query.sql_with_params())
                else:
                    assert a.query.sql_with_params() == b.query.sql_with_params()
            assert ordered.count() == fresh.count() and list(ordered) == list(fresh)
    assert list(fresh) or filters  # rows compared, not only empty lists


def test_the_held_waiting_list_queryset_is_never_evaluated(client, pwp):
    from referrals.queries import _waiting_list_base
    from referrals.views import WAITING_ROW_DEFERS

    waiting_referral(pwp.team, days=10)
    client.force_login(pwp)
    url = reverse("referrals:waiting_list")
    assert len(client.get(url).context["rows"]) == 1
    assert _waiting_list_base(tuple(WAITING_ROW_DEFERS))._result_cache is None
    waiting_referral(pwp.team, days=20)
    assert len(client.get(url).context["rows"]) == 2


def test_waiting_list_shows_days_waited_against_the_marks(client, pwp, team, outsider):
    fresh = waiting_referral(team, days=10)
    six = waiting_referral(team, days=50)
    eighteen = waiting_referral(team, days=130)
    waiting_referral(outsider.team, days=20)  # another team's
    client.force_login(pwp)
    rows = client.get(reverse("referrals:waiting_list")).context["rows"]
    marks = {r.referral.pk: (r.days_waited, r.mark) for r in rows}
    assert marks == {
        eighteen.pk: (130, "past_18_weeks"),
        six.pk: (50, "past_6_weeks"),
        fresh.pk: (10, "within"),
    }
    assert [r.referral.pk for r in rows] == [eighteen.pk, six.pk, fresh.pk]


def test_a_clinician_allocates_a_waiting_referral_to_themselves(client, pwp, team):
    waiting = waiting_referral(team)
    client.force_login(pwp)
    response = client.post(
        reverse("referrals:allocate", kwargs={"pk": waiting.pk}), {"clinician": pwp.pk, "version": waiting.version}
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.care_coordinator == pwp
    assert ReferralEvent.objects.filter(referral=waiting, kind="allocated", by=pwp).exists()
    assert AuditEvent.objects.filter(action="referral.allocate", object_id=str(waiting.pk)).exists()
    assert Referral.objects.caseload_of(pwp).filter(pk=waiting.pk).exists()
    html = client.get(reverse("referrals:detail", kwargs={"pk": waiting.pk})).content.decode()
    assert f"Allocated to {pwp}" in html


def test_a_manager_allocates_to_a_clinician_and_a_stale_version_is_refused(client, manager, pwp, colleague, team):
    waiting = waiting_referral(team)
    client.force_login(manager)
    url = reverse("referrals:allocate", kwargs={"pk": waiting.pk})
    client.post(url, {"clinician": pwp.pk, "version": waiting.version})
    response = client.post(url, {"clinician": colleague.pk, "version": waiting.version}, follow=True)
    waiting.refresh_from_db()
    assert waiting.care_coordinator == pwp
    assert "changed by someone else" in response.content.decode()


def test_a_long_waiting_list_comes_a_page_at_a_time_with_one_list_of_clinicians(client, manager, pwp, colleague, team):
    """A county service has thousands waiting: 50 rows a page, and the clinicians to allocate to are
    listed once for the page (a list per row made the page grow with staff x rows)."""
    from referrals.views import WAITING_PAGE_SIZE

    waiting = [waiting_referral(team, days=10 + n) for n in range(WAITING_PAGE_SIZE + 5)]
    client.force_login(manager)
    url = reverse("referrals:waiting_list")
    first = client.get(url, {"sort": "patient"})
    html = first.content.decode()
    assert len(first.context["rows"]) == WAITING_PAGE_SIZE and first.context["page"].paginator.count == 55
    assert f"{WAITING_PAGE_SIZE + 5} referrals awaiting" in html and "Page 1 of 2" in html
    assert html.count('name="clinician"') == 1 and html.count(f'<option value="{pwp.pk}"') == 1
    assert "sort=patient&amp;page=2" in html  # the pager keeps the order
    second = client.get(url, {"sort": "patient", "page": "2"})
    assert len(second.context["rows"]) == 5
    assert "page=" not in "".join(link["href"] for link in second.context["sort_links"].values())  # re-sorting: page 1
    assert {r.referral.pk for r in first.context["rows"]} | {r.referral.pk for r in second.context["rows"]} == {
        r.pk for r in waiting
    }
    # A row's button posts the page's form to its referral with that row's version.
    target = second.context["rows"][0].referral
    client.post(
        reverse("referrals:allocate", kwargs={"pk": target.pk}),
        {"clinician": colleague.pk, f"version-{target.pk}": target.version, "next": f"{url}?page=2"},
    )
    target.refresh_from_db()
    assert target.care_coordinator == colleague
    stale = client.post(
        reverse("referrals:allocate", kwargs={"pk": target.pk}),
        {"clinician": pwp.pk, f"version-{target.pk}": target.version - 1},
        follow=True,
    )
    target.refresh_from_db()
    assert target.care_coordinator == colleague and "changed by someone else" in stale.content.decode()


def test_allocation_to_someone_outside_the_team_is_refused(client, pwp, team, outsider):
    waiting = waiting_referral(team)
    client.force_login(pwp)
    client.post(reverse("referrals:allocate", kwargs={"pk": waiting.pk}), {"clinician": outsider.pk})
    waiting.refresh_from_db()
    assert waiting.care_coordinator is None


# --- new patient and referral ----------------------------------------------------------------------


def test_new_patient_validates_the_nhs_number_and_keeps_what_was_typed(client, pwp):
    client.force_login(pwp)
    url = reverse("referrals:new_patient")
    data = {"nhs_number": "943 476 5918", "given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1990-12-10"}
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "check digit does not match" in html and 'value="Lovelace"' in html
    assert not Patient.objects.exists()
    response = client.post(url, {**data, "nhs_number": "943 476 5919", "long_term_conditions": ["diabetes"]})
    patient = Patient.objects.get()
    assert patient.nhs_number == VALID_NHS and patient.long_term_conditions == ["diabetes"]
    assert response["Location"] == reverse("referrals:new_referral", kwargs={"pk": patient.pk})


def test_new_referral_then_straight_to_the_assessment(client, pwp):
    patient = PatientFactory(team=pwp.team, long_term_conditions=["copd"])
    client.force_login(pwp)
    url = reverse("referrals:new_referral", kwargs={"pk": patient.pk})
    form = client.get(url).context["form"]
    assert form.initial["care_coordinator"] == pwp.pk and form.initial["ltc_pathway"] is True
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    data = {"source": "gp", "presenting_problem": "gad", "care_coordinator": pwp.pk, "assess_now": "on"}
    response = client.post(url, {**data, "received_on": future})
    assert response.status_code == 400 and "cannot be received in the future" in response.content.decode()
    response = client.post(url, {**data, "received_on": TODAY.isoformat(), "ltc_pathway": "on"})
    referral = Referral.objects.get()
    assert referral.care_coordinator == pwp and referral.ltc_pathway
    assert response["Location"].startswith(reverse("referrals:log_session", kwargs={"pk": referral.pk}))
    form = client.get(response["Location"]).context["form"]
    assert form.initial["appointment_type"] == "01" and "first_step" in form.fields


def test_a_referral_left_unallocated_goes_to_the_waiting_list(client, administrator, pwp):
    patient = PatientFactory(team=administrator.team)
    client.force_login(administrator)
    url = reverse("referrals:new_referral", kwargs={"pk": patient.pk})
    form = client.get(url).content.decode()
    # Administrators book referrals; clinicians and managers decide who treats, and assess.
    assert 'name="care_coordinator"' not in form and 'name="assess_now"' not in form
    response = client.post(
        url,
        {
            "received_on": TODAY.isoformat(),
            "source": "self",
            "presenting_problem": "depression",
            "care_coordinator": pwp.pk,  # not on their form: ignored
        },
    )
    referral = Referral.objects.get()
    assert referral.status == "awaiting_assessment" and referral.care_coordinator is None
    assert response.status_code == 302


# --- log a session ---------------------------------------------------------------------------------


def test_the_session_form_shows_every_item_with_its_wording_and_answers(client, referral, pwp):
    client.force_login(pwp)
    html = client.get(reverse("referrals:log_session", kwargs={"pk": referral.pk})).content.decode()
    assert "Little interest or pleasure in doing things" in html
    assert "Feeling afraid as if something awful might happen" in html
    assert html.count('name="phq9_9"') == 4 and html.count('name="gad7_7"') == 4 and html.count('name="wsas_1"') == 5
    assert "More than half the days" in html and "Very severely" in html
    assert "<legend" in html and 'for="id_phq9_1_0"' in html


def test_logging_a_session_saves_contact_scores_and_the_first_step_in_one_go(client, referral, pwp):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
    response = client.post(
        url, session_post(appointment_type="01", first_step="2", step_reason="Mild to moderate depression")
    )
    assert response.status_code == 302, response.context and response.context["form"].error_summary()
    contact = CareContact.objects.get()
    totals = dict(contact.questionnaires.values_list("measure", "total"))
    assert totals == {"PHQ9": 11, "GAD7": 6}
    step = StepAssignment.objects.get(referral=referral)
    assert (step.step, step.source, step.started_on) == (2, "assessment", TODAY)
    referral.refresh_from_db()
    assert referral.current_step == 2 and referral.status == "awaiting_treatment"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "PHQ-9 11 (moderate)" in html  # the success message
    assert "<svg" in html and "PHQ-9 caseness (10)" in html and "GAD-7 caseness (8)" in html
    assert page.context["latest_phq9"].severity == "moderate"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phq9_4": None}, "PHQ-9 item 4 is missing."),
        ({"gad7_2": "4"}, "GAD-7 item 2 must be between 0 and 3 (got 4)."),
        ({"phq9_9": "2", "risk_note": ""}, "PHQ-9 item 9 is above 0: record the risk assessment before saving."),
        ({"attendance": "3"}, "Questionnaires can only be recorded at a contact the patient attended."),
        ({"date": (TODAY + dt.timedelta(days=1)).isoformat()}, "A session cannot be logged for a future date."),
    ],
)
def test_a_rejected_session_saves_nothing_and_keeps_everything_typed(client, referral, pwp, overrides, message):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
    response = client.post(url, session_post(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Nothing was saved" in html
    assert "Worked on behavioural activation." in html
    assert 'id="id_phq9_1_2" value="2" autocomplete="off" checked' in html
    assert not CareContact.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_a_missing_item_is_marked_on_the_item_and_the_totals_of_complete_questionnaires_show(client, referral, pwp):
    client.force_login(pwp)
    response = client.post(reverse("referrals:log_session", kwargs={"pk": referral.pk}), session_post(phq9_4=None))
    html = response.content.decode()
    assert 'id="id_phq9_4" data-item="4" aria-invalid="true"' in html
    assert "GAD-7 total <strong>6</strong> of 21" in html
    assert '<a class="alert-link" href="#q-phq9">PHQ-9 item 4 is missing.</a>' in html


def test_item_9_above_zero_with_a_risk_note_saves(client, referral, pwp):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
    response = client.post(url, session_post(phq9_9="1", risk_note="Passive thoughts, no plan; safety plan agreed."))
    assert response.status_code == 302
    assert CareContact.objects.get().risk_note.startswith("Passive thoughts")


def test_a_step_without_a_reason_rolls_back_the_whole_session(client, referral, pwp):
    client.force_login(pwp)
    response = client.post(
        reverse("referrals:log_session", kwargs={"pk": referral.pk}), session_post(first_step="2", step_reason="")
    )
    assert response.status_code == 400
    assert "Give the reason for the step change." in response.content.decode()
    assert not CareContact.objects.exists() and not StepAssignment.objects.exists()


def test_questionnaires_are_optional_and_wsas_is_saved_when_given(client, referral, pwp):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
    data = session_post(**{f"phq9_{n}": None for n in range(1, 10)}, **{f"gad7_{n}": None for n in range(1, 8)})
    data.update({f"wsas_{n}": "4" for n in range(1, 6)})
    assert client.post(url, data).status_code == 302
    assert list(QuestionnaireResponse.objects.values_list("measure", "total")) == [("WSAS", 20)]


def test_no_sessions_on_a_discharged_referral(client, referral, pwp):
    stepped_care_services.discharge(referral=referral, end_code="50", by=pwp)  # never seen
    client.force_login(pwp)
    response = client.get(reverse("referrals:log_session", kwargs={"pk": referral.pk}))
    assert response.status_code == 302


# --- the referral page -----------------------------------------------------------------------------


def test_the_referral_page_has_everything_and_is_audited(client, pwp):
    referral = make_case(pwp, sessions=3)
    referral.patient.long_term_conditions = ["diabetes"]
    referral.patient.save()
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk}))
    html = response.content.decode()
    assert "Diabetes" in html  # long-term conditions
    assert "Step 2: low intensity" in html and "Assessed: low intensity" in html  # step and its reason
    assert html.count('class="timeline-item') == 3
    assert "Questionnaire scores, oldest first" in html
    assert '<title id="chart-title">' in html and '<desc id="chart-desc">PHQ-9 from 11' in html
    assert response.context["outcome"].summary in html
    flags = response.context["open_flags"]
    assert [f.rule for f in flags] == ["risk", "not_improving"]
    assert "risk explanation" in html
    assert AuditEvent.objects.filter(action="referral.view", object_id=str(referral.pk), actor=pwp).exists()


def test_change_step_needs_a_reason_and_shows_in_the_history(client, pwp):
    referral = make_case(pwp, flags=())
    referral.refresh_from_db()
    client.force_login(pwp)
    url = reverse("referrals:change_step", kwargs={"pk": referral.pk})
    response = client.post(url, {"step": "3", "reason": "", "version": referral.version})
    assert response.status_code == 400 and "Give the reason for the step change." in response.content.decode()
    referral.refresh_from_db()
    response = client.post(
        url, {"step": "3", "reason": "No reliable improvement by session 6", "version": referral.version}
    )
    assert response.status_code == 302
    html = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).content.decode()
    assert "Step 3: high intensity from" in html and "No reliable improvement by session 6" in html


def test_a_stale_step_change_keeps_the_reason_and_carries_the_new_version(client, pwp):
    referral = make_case(pwp, flags=())
    referral.refresh_from_db()
    stale = referral.version - 1
    client.force_login(pwp)
    response = client.post(
        reverse("referrals:change_step", kwargs={"pk": referral.pk}),
        {"step": "3", "reason": "Typed with care", "version": stale},
    )
    html = response.content.decode()
    assert response.status_code == 400 and "changed by someone else" in html
    assert "Typed with care" in html and f'value="{referral.version}"' in html


def test_discharge_needs_an_end_code(client, pwp):
    referral = make_case(pwp, flags=())
    referral.refresh_from_db()
    client.force_login(pwp)
    url = reverse("referrals:discharge", kwargs={"pk": referral.pk})
    response = client.post(url, {"end_code": "", "version": referral.version})
    assert response.status_code == 400 and "Choose a referral end code." in response.content.decode()
    response = client.post(url, {"end_code": "46", "discharged_on": TODAY.isoformat(), "version": referral.version})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "discharged" and referral.end_code == "46"


def test_a_contact_entered_in_error_is_kept_and_marked(client, pwp):
    referral = make_case(pwp, flags=(), sessions=2)
    contact = referral.contacts.order_by("date").last()
    client.force_login(pwp)
    url = reverse("referrals:contact_in_error", kwargs={"pk": contact.pk})
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Logged against the wrong patient"}).status_code == 302
    contact.refresh_from_db()
    assert contact.entered_in_error
    html = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).content.decode()
    assert "Entered in error: Logged against the wrong patient" in html


def test_the_referral_page_does_not_run_a_query_per_contact(client, pwp):
    client.force_login(pwp)
    short, long_ = make_case(pwp, sessions=1), make_case(pwp, sessions=8)
    one, _ = queries_for(client, reverse("referrals:detail", kwargs={"pk": short.pk}))
    many, response = queries_for(client, reverse("referrals:detail", kwargs={"pk": long_.pk}))
    assert len(response.context["score_rows"]) == 8
    assert one == many


@pytest.mark.parametrize(
    ("name", "filters"),
    [
        ("referrals:caseload", {"status": "in_treatment", "sort": "patient"}),
        ("referrals:waiting_list", {"sort": "patient"}),
    ],
)
def test_a_patient_search_never_puts_the_name_or_nhs_number_in_the_url(client, pwp, name, filters):
    """Names and NHS numbers in URLs end up in logs and browser history: the search is POSTed,
    kept in the session for that list, and the browser is sent back to a URL without it."""
    client.force_login(pwp)
    url = reverse(name)
    for text in ("Okonkwo-Smith", "943 476 5919"):
        response = client.post(url, {"q": text, **filters})
        assert response.status_code == 303
        assert response.url.startswith(url) and "q=" not in response.url
        assert "Okonkwo" not in response.url and "943" not in response.url
        page = client.get(response.url)
        assert page.context["filters"]["q"] == text
        html = page.content.decode()
        assert f'value="{text}"' in html  # shown back in the box
        assert "q=" not in "".join(link["href"] for link in page.context["sort_links"].values())
    assert client.get(url, {"q": "Ignored"}).context["filters"]["q"] == "943 476 5919"  # a URL's q is not read
    cleared = client.post(url, {"clear": "1", "q": "943 476 5919", **filters})
    assert cleared.url == url
    assert client.get(url).context["filters"]["q"] == ""
    other = reverse("referrals:waiting_list" if name == "referrals:caseload" else "referrals:caseload")
    client.post(url, {"q": "Okonkwo"})
    assert client.get(other).context["filters"]["q"] == ""  # each list keeps its own search


@pytest.mark.parametrize("name", ["referrals:caseload", "referrals:waiting_list"])
def test_control_characters_in_a_search_are_dropped_not_a_500(client, pwp, name):
    """PostgreSQL refuses a NUL in a query (it was a server error on the list after the search)."""
    client.force_login(pwp)
    url = reverse(name)
    client.post(url, {"q": "Oko\x00nkwo\x1b[2J"})
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["filters"]["q"] == "Okonkwo[2J"


def test_the_list_filter_form_needs_its_csrf_token(pwp):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(pwp)
    assert client.post(reverse("referrals:caseload"), {"q": "Smith"}).status_code == 403


def test_the_session_form_records_the_therapy_delivered(client, referral, pwp):
    """The national data set codes each contact's therapy (IDS202, SNOMED CT): the form asks for it."""
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": referral.pk})
    assert "Therapy delivered" in client.get(url).content.decode()
    response = client.post(url, session_post(therapy_type="304891004"))
    assert response.status_code == 302, response.context and response.context["form"].error_summary()
    assert CareContact.objects.get().therapy_type == "304891004"
    assert client.post(url, session_post(therapy_type="12345", date=None)).status_code != 302
