"""Supervision pages: scoped (404 to others), fixed query counts, printable, CSV, forms that act."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.models import AuditEvent
from stepped_care.models import FlagStatus, StepSource
from supervision import services
from supervision.models import CaseDecision, SupervisionSession, SupervisionType
from tests.paths import REPO

from .conftest import GAD_MODERATE, PHQ_MODERATE, log, make_referral, open_flag, today

pytestmark = pytest.mark.django_db


def case_list_url(staff):
    return reverse("supervision:case_list", args=[staff.pk])


def test_the_case_list_shows_flagged_cases_with_their_reasons(client, supervisor, pwp):
    referral = make_referral(pwp, family="Flagged")
    open_flag(referral, "risk", "risk", "red", "PHQ-9 item 9 scored 2 on 1 Mar")
    make_referral(pwp, received_days_ago=5, family="Quiet")
    client.force_login(pwp)
    response = client.get(case_list_url(pwp))
    assert response.status_code == 200
    body = response.content.decode()
    assert "FLAGGED" in body and "PHQ-9 item 9 scored 2 on 1 Mar" in body
    assert "QUIET" not in body
    assert "data-print" in body and "js/supervision.js" in body
    assert AuditEvent.objects.filter(action="supervision.case_list.view", actor=pwp).exists()
    whole = client.get(case_list_url(pwp) + "?all=1").content.decode()
    assert "QUIET" in whole and "Not due" in whole


@pytest.mark.parametrize(
    ("persona", "status"), [("pwp", 200), ("supervisor", 200), ("manager", 200), ("colleague", 404), ("outsider", 404)]
)
def test_who_may_open_a_list(client, request, pwp, supervisor, manager, colleague, outsider, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(case_list_url(pwp)).status_code == status
    assert client.get(reverse("supervision:case_list_csv", args=[pwp.pk])).status_code == status


def test_the_list_page_runs_a_fixed_number_of_queries(client, supervisor, pwp):
    def build(n, start):
        for i in range(n):
            referral = make_referral(pwp, received_days_ago=40, family=f"Many{start + i}")
            open_flag(referral, "not_improving", "step_up")
            log(referral, pwp, 20, appointment_type="01", phq9=PHQ_MODERATE, gad7=GAD_MODERATE)

    client.force_login(supervisor)
    build(1, 0)
    with CaptureQueriesContext(connection) as one:
        assert client.get(case_list_url(pwp)).status_code == 200
    build(10, 1)
    with CaptureQueriesContext(connection) as many:
        response = client.get(case_list_url(pwp))
    assert response.content.decode().count('class="case-row') == 11
    assert len(one.captured_queries) == len(many.captured_queries)


def test_csv_export(client, supervisor, pwp):
    referral = make_referral(pwp, family="=HYPERLINK")
    open_flag(referral, "not_improving", "step_up", explanation="No reliable improvement")
    log(referral, pwp, 20, appointment_type="01", phq9=PHQ_MODERATE, gad7=GAD_MODERATE)
    client.force_login(supervisor)
    response = client.get(reverse("supervision:case_list_csv", args=[pwp.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark: Excel reads it right
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert header[:4] == ["Patient", "NHS number", "Step", "Treatment sessions attended"]
    record = dict(zip(header, row, strict=True))
    assert record["Patient"] == "'=HYPERLINK, Alex"  # "SURNAME, Given", and never a formula
    assert record["PHQ-9 latest"] == "10" and record["PHQ-9 latest severity"] == "moderate"
    assert "Not improving" in record["Why listed"]
    assert AuditEvent.objects.filter(action="supervision.case_list.export").exists()


def test_formula_like_cells_are_neutralised(client, supervisor, pwp):
    make_referral(pwp, given="Evil", family="=cmd", received_days_ago=40)
    client.force_login(supervisor)
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("supervision:case_list_csv", args=[pwp.pk])).content.decode("utf-8-sig"))
        )
    )
    assert rows[1][0] == "'=CMD, Evil"


def test_the_print_stylesheet_covers_the_list():
    css = (REPO / "static" / "css" / "app.css").read_text()
    block = css[css.index("@media print") :]
    assert ".no-print" in block and ".case-list" in block and "break-inside: avoid" in block


def post_session(client, pwp, data):
    return client.post(
        reverse("supervision:session_new") + f"?supervisee={pwp.pk}&kind=case_management",
        {"kind": "case_management", "date": today().isoformat(), "minutes": "60", **data},
    )


def test_the_supervisor_records_a_step_up_that_acts(client, supervisor, pwp):
    referral = make_referral(pwp, family="Stuck")
    flag = open_flag(referral, "not_improving", "step_up")
    client.force_login(supervisor)
    page = client.get(reverse("supervision:session_new") + f"?supervisee={pwp.pk}&kind=case_management")
    assert page.status_code == 200
    body = page.content.decode()
    assert "STUCK" in body and 'name="case-0-decision"' in body and 'for="id_case-0-decision"' in body
    response = post_session(
        client,
        pwp,
        {
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "sign_off": "on",
            "case_count": "1",
            "case-0-referral": str(referral.pk),
            "case-0-version": str(referral.version),
            "case-0-decision": "step_up",
            "case-0-notes": "Refer for high-intensity CBT",
        },
    )
    session = SupervisionSession.objects.get()
    assert response.status_code == 302 and response.url == reverse("supervision:session_detail", args=[session.pk])
    referral.refresh_from_db()
    flag.refresh_from_db()
    assert referral.current_step == 3 and flag.status == FlagStatus.ACCEPTED
    assert session.signed_off and session.decisions.get().step_assignment.source == StepSource.SUPERVISION
    detail = client.get(response.url).content.decode()
    assert "Step up" in detail and "Moved to step 3" in detail and "Signed off by" in detail


def test_a_bad_row_keeps_everything_and_saves_nothing(client, supervisor, pwp):
    first = make_referral(pwp, family="First")
    open_flag(first, "not_improving", "step_up")
    second = make_referral(pwp, family="Second")
    open_flag(second, "recovered", "step_out", "green")
    client.force_login(supervisor)
    response = post_session(
        client,
        pwp,
        {
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "notes": "Busy week",
            "case_count": "2",
            "case-0-referral": str(first.pk),
            "case-0-decision": "step_up",
            "case-1-referral": str(second.pk),
            "case-1-decision": "discharge",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose the referral end code for the discharge." in body
    assert "Busy week" in body and 'value="step_up" selected' in body
    assert SupervisionSession.objects.count() == 0
    first.refresh_from_db()
    assert first.current_step == 2


def test_a_pwp_records_an_other_case_and_the_supervisor_signs_off(client, supervisor, pwp):
    quiet = make_referral(pwp, received_days_ago=5, family="Quiet")
    client.force_login(pwp)
    response = post_session(
        client,
        pwp,
        {
            "supervisor": supervisor.pk,
            "supervisees": [pwp.pk],
            "case_count": "0",
            "extra-0-referral": str(quiet.pk),
            "extra-0-decision": "continue",
        },
    )
    assert response.status_code == 302
    session = SupervisionSession.objects.get()
    assert not session.signed_off and session.recorded_by == pwp
    assert CaseDecision.objects.get().referral == quiet
    assert client.post(reverse("supervision:session_sign_off", args=[session.pk])).status_code == 403
    client.force_login(supervisor)
    client.post(reverse("supervision:session_sign_off", args=[session.pk]))
    session.refresh_from_db()
    assert session.signed_off_by == supervisor


def test_sessions_are_404_to_others(client, supervisor, pwp, colleague, outsider, manager):
    session = services.record_session(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=today(),
        minutes=60,
        supervisor=supervisor,
        supervisees=[pwp],
    )
    url = reverse("supervision:session_detail", args=[session.pk])
    for person, status in ((pwp, 200), (supervisor, 200), (manager, 200), (colleague, 404), (outsider, 404)):
        client.force_login(person)
        assert client.get(url).status_code == status, person


def test_correcting_a_decision_through_the_page(client, supervisor, pwp):
    referral = make_referral(pwp)
    session = services.record_session(
        by=supervisor,
        kind=SupervisionType.CASE_MANAGEMENT,
        date=today(),
        minutes=60,
        supervisor=supervisor,
        supervisees=[pwp],
        decisions=[{"referral": referral, "decision": "continue"}],
        sign_off=True,
    )
    decision = session.decisions.get()
    client.force_login(supervisor)
    url = reverse("supervision:decision_correct", args=[decision.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"decision": "step_up", "reason": ""})
    assert bad.status_code == 200 and CaseDecision.objects.count() == 1
    good = client.post(url, {"decision": "risk_plan", "reason": "It was a risk plan", "notes": "Safety plan"})
    assert good.status_code == 302
    decision.refresh_from_db()
    assert decision.entered_in_error
    assert CaseDecision.objects.valid().get().decision == "risk_plan"


def test_marking_a_session_entered_in_error(client, supervisor, pwp):
    session = services.record_session(
        by=supervisor, kind="case_management", date=today(), minutes=60, supervisor=supervisor, supervisees=[pwp]
    )
    client.force_login(supervisor)
    url = reverse("supervision:session_error", args=[session.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Duplicate"}).status_code == 302
    session.refresh_from_db()
    assert session.entered_in_error and session.error_reason == "Duplicate"


def test_compliance_page_for_supervisor_and_manager(client, supervisor, pwp, manager):
    services.record_session(
        by=supervisor, kind="case_management", date=today(), minutes=60, supervisor=supervisor, supervisees=[pwp]
    )
    for person in (supervisor, manager):
        client.force_login(person)
        response = client.get(reverse("supervision:compliance") + "?weeks=4")
        body = response.content.decode()
        assert response.status_code == 200
        assert "last 4 weeks" in body and pwp.get_full_name() in body and "Case-management supervision" in body


def test_compliance_page_runs_a_fixed_number_of_queries(client, team, supervisor, pwp, manager):
    from stepped_care.models import Role
    from tests.factories import RelationshipFactory, StaffFactory

    client.force_login(manager)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("supervision:compliance"))
    for n in range(5):
        person = StaffFactory(username=f"extra{n}", team=team, role=Role.PWP)
        RelationshipFactory(supervisor=supervisor, supervisee=person)
        services.record_session(
            by=supervisor, kind="case_management", date=today(), minutes=60, supervisor=supervisor, supervisees=[person]
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("supervision:compliance"))
    assert len(one.captured_queries) == len(many.captured_queries)


def test_the_index_and_the_nav_link(client, supervisor, pwp):
    client.force_login(supervisor)
    body = client.get(reverse("supervision:index")).content.decode()
    assert pwp.get_full_name() in body and case_list_url(pwp) in body
    client.force_login(pwp)
    body = client.get(reverse("supervision:index")).content.decode()
    assert f'href="{reverse("supervision:index")}"' in body
    assert "My case-management list" in body and supervisor.get_full_name() in body


def test_managers_assign_supervisors_on_the_relationships_page(client, manager, supervisor, pwp):
    client.force_login(manager)
    url = reverse("supervision:relationships")
    response = client.post(
        url, {"supervisor": supervisor.pk, "supervisee": pwp.pk, "kind": SupervisionType.CLINICAL_SKILLS}
    )
    assert response.status_code == 302
    assert pwp.supervised_by.filter(kind=SupervisionType.CLINICAL_SKILLS, frequency_days=14).exists()
    duplicate = client.post(
        url, {"supervisor": supervisor.pk, "supervisee": pwp.pk, "kind": SupervisionType.CLINICAL_SKILLS}
    )
    assert "already gives" in duplicate.content.decode()
    client.force_login(pwp)
    assert (
        client.post(url, {"supervisor": supervisor.pk, "supervisee": pwp.pk, "kind": "professional"}).status_code == 403
    )


def test_the_session_page_runs_a_fixed_number_of_queries(client, supervisor, pwp):
    def session_with(n):
        decisions = []
        for i in range(n):
            referral = make_referral(pwp, family=f"Decided{n}x{i}")
            open_flag(referral, "not_improving", "step_up")
            decisions.append({"referral": referral, "decision": "step_up" if i % 2 else "continue"})
        return services.record_session(
            by=supervisor,
            kind=SupervisionType.CASE_MANAGEMENT,
            date=today(),
            minutes=60,
            supervisor=supervisor,
            supervisees=[pwp],
            decisions=decisions,
        )

    client.force_login(supervisor)
    counts = []
    for n in (1, 6):
        url = reverse("supervision:session_detail", args=[session_with(n).pk])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert AuditEvent.objects.filter(action="supervision.session.view").count() == 2
