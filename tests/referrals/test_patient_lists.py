"""Every list of patients tells two people of the same name apart: "SURNAME, Given" (one format, from
templates/components/patient_name.html) with the date of birth and, when known, the NHS number in 3-3-4.
Scores, NHS numbers and names each have one template component."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from outcomes.presenters import score
from referrals.models import Patient
from tests.factories import ReferralFactory
from workshops import services as workshop_services

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]
NHS = "9434765919"
SHOWN = ("QUILL, Jo", "born 14 Mar 1985", 'NHS <span class="nhs-number text-nowrap">943 476 5919</span>')


@pytest.fixture
def twins(team, pwp):
    """Two Jo Quills of the team on pwp's caseload, one with an NHS number, born on different days."""
    first = ReferralFactory(
        patient__team=team,
        patient__given_name="Jo",
        patient__family_name="Quill",
        patient__date_of_birth=dt.date(1985, 3, 14),
        patient__nhs_number=NHS,
        care_coordinator=pwp,
        status="awaiting_treatment",
    )
    second = ReferralFactory(
        patient__team=team,
        patient__given_name="Jo",
        patient__family_name="Quill",
        patient__date_of_birth=dt.date(1990, 7, 1),
        care_coordinator=pwp,
        status="awaiting_treatment",
    )
    return first, second


def assert_both_told_apart(html):
    for part in SHOWN:
        assert part in html, part
    assert "born 1 Jul 1990" in html
    assert "Jo Quill" not in html  # one name format


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("pwp", lambda pwp: reverse("referrals:caseload")),
        ("pwp", lambda pwp: reverse("referrals:waiting_list")),
        ("supervisor", lambda pwp: reverse("supervision:case_list", args=[pwp.pk]) + "?all=1"),
        ("manager", lambda pwp: reverse("dashboard:referrals") + "?metric=active"),
    ],
)
def test_referral_lists_show_two_identifiers(client, request, twins, pwp, persona, url):
    client.force_login(request.getfixturevalue(persona))
    assert_both_told_apart(client.get(url(pwp)).content.decode())


def test_group_course_pages_show_two_identifiers(client, twins, pwp):
    today = timezone.localdate()
    course = workshop_services.create_course(
        by=pwp,
        title="Stress control",
        topic="stress",
        step=2,
        facilitators=[pwp],
        capacity=8,
        venue="Library",
        sessions=[(today + dt.timedelta(days=1 + 7 * n), dt.time(18, 0)) for n in range(2)],
    )
    for referral in twins:
        workshop_services.enrol(course=course, referral=referral, by=pwp)
    client.force_login(pwp)
    assert_both_told_apart(client.get(reverse("workshops:course", args=[course.pk])).content.decode())
    assert_both_told_apart(client.get(reverse("workshops:waiting")).content.decode())
    session = course.sessions.order_by("date").first()
    assert_both_told_apart(client.get(reverse("workshops:register", args=[session.pk])).content.decode())
    other = workshop_services.create_course(
        by=pwp,
        title="Sleep",
        topic="stress",
        step=2,
        facilitators=[pwp],
        capacity=8,
        venue="Library",
        sessions=[(today + dt.timedelta(days=3), dt.time(18, 0))],
    )
    page = client.post(reverse("workshops:enrol", args=[other.pk]), {"q": "QUILL, Jo"}, follow=True)
    assert_both_told_apart(page.content.decode())


def test_the_audit_page_lists_matches_with_two_identifiers(client, manager, twins):
    client.force_login(manager)
    response = client.post(reverse("audit"), {"lookup-query": "QUILL, Jo"})
    assert_both_told_apart(response.content.decode())


def test_the_name_format_is_one_function():
    assert str(Patient(given_name="Jo", family_name="van der Berg")) == "VAN DER BERG, Jo"


def test_the_score_component_shows_measure_total_band_and_a_shape_marker():
    html = render_to_string("components/score.html", {"score": score("PHQ9", 16)})
    assert "PHQ-9" in html and "<strong>16</strong>" in html and "moderately severe" in html
    assert html.count('class="pip on"') == 4 and html.count('class="pip"') == 1  # band 4 of 5, not colour alone
    assert "–" in render_to_string("components/score.html", {"score": score("PHQ9", None)})
    assert score("PHQ9", 99) is None


def test_the_nhs_number_component_reads_3_3_4():
    assert "943 476 5919" in render_to_string("components/nhs_number.html", {"value": NHS})


def test_there_is_one_template_each_for_a_score_an_nhs_number_and_a_name():
    """No other template formats an NHS number, upper-cases a family name or draws a score by hand."""
    offenders = []
    for path in (REPO / "templates").rglob("*.html"):
        if path.parent.name == "components":
            continue
        text = path.read_text()
        if re.search(r"nhs_number\|slice|family_name\|upper|_score\.html", text):
            offenders.append(path.relative_to(REPO).as_posix())
    assert offenders == []
    assert not list((REPO / "templates").rglob("_score.html"))


# --- lists that had no query-count assertion -------------------------------------------------------------


def queries_of(client, method, url, data=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    return len(ctx), response


def test_the_enrolment_search_runs_a_fixed_number_of_queries(client, team, pwp):
    today = timezone.localdate()
    course = workshop_services.create_course(
        by=pwp,
        title="Stress control",
        topic="stress",
        step=2,
        facilitators=[pwp],
        capacity=30,
        venue="Library",
        sessions=[(today + dt.timedelta(days=3), dt.time(18, 0))],
    )
    url = reverse("workshops:enrol", args=[course.pk])
    client.force_login(pwp)

    def make(n):
        for _ in range(n):
            ReferralFactory(patient__team=team, patient__family_name="Quill", care_coordinator=pwp)

    make(1)
    client.post(url, {"q": "QUILL,"})
    one, response = queries_of(client, "get", url)
    assert len(response.context["results"]) == 1
    make(11)
    many, response = queries_of(client, "get", url)
    assert len(response.context["results"]) == 12
    assert one == many


def test_the_audit_lookup_runs_a_fixed_number_of_queries(client, team, manager):
    def make(n):
        for _ in range(n):
            ReferralFactory(patient__team=team, patient__given_name="Jo", patient__family_name="Quill")

    client.force_login(manager)
    make(2)
    client.get(reverse("audit"))  # warm the session
    few, response = queries_of(client, "post", reverse("audit"), {"lookup-query": "QUILL, Jo"})
    assert len(response.context["matches"]) == 2
    make(10)
    many, response = queries_of(client, "post", reverse("audit"), {"lookup-query": "QUILL, Jo"})
    assert len(response.context["matches"]) == 12
    assert few == many
