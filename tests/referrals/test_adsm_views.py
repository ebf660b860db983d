"""The clinician's pages with disorder-specific measures: the session form offers the measure the
presenting problem calls for (any other on request, keeping what was typed), the referral page charts
it and says which measure decides the outcome and why, and presenting problems are recorded there."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from outcomes.models import QuestionnaireResponse
from outcomes.presenters import score
from outcomes.scoring import INSTRUMENTS
from referrals import services
from referrals.models import CareContact, PresentingProblemRecord
from tests.factories import ReferralFactory

from .test_views import queries_for, session_post

TODAY = timezone.localdate()
SPIN_40 = [4] * 10 + [0] * 7
SPIN_15 = [3] * 5 + [0] * 12


@pytest.fixture
def social(pwp):
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, presenting_problem="social_anxiety")
    return referral


def spin_post(items, **overrides):
    data = session_post(**overrides)
    data.update({f"spin_{n}": str(v) for n, v in enumerate(items, start=1)})
    return data


def test_the_session_form_offers_the_measure_the_presenting_problem_calls_for(client, pwp, social, referral):
    client.force_login(pwp)
    html = client.get(reverse("referrals:log_session", kwargs={"pk": social.pk})).content.decode()
    assert 'data-questionnaire="SPIN"' in html and 'data-questionnaire="PHQ9"' in html
    assert 'data-questionnaire="GAD7"' in html and 'data-questionnaire="OCI"' not in html
    assert html.count('name="spin_17"') == 5  # five answers, 0 to 4
    assert "SPIN, for social phobia F40.1" in html
    assert "A little bit" in html  # the SPIN answer scale; its items are numbered (licensed wording)
    assert 'name="add_measure" value="OCI"' in html  # any other on request
    depression = client.get(reverse("referrals:log_session", kwargs={"pk": referral.pk})).content.decode()
    assert 'data-questionnaire="SPIN"' not in depression and "GAD-7, for depression F32.9" in depression


def test_agoraphobia_offers_both_mobility_inventory_scales(client, pwp):
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, presenting_problem="agoraphobia")
    client.force_login(pwp)
    html = client.get(reverse("referrals:log_session", kwargs={"pk": referral.pk})).content.decode()
    assert 'data-questionnaire="MI_ALONE"' in html and 'data-questionnaire="MI_ACCOMPANIED"' in html
    assert "Up to 5 may be left blank" in html and "Always avoid" in html


def test_adding_a_measure_keeps_everything_typed_and_saves_nothing(client, pwp, social):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": social.pk})
    response = client.post(url, spin_post(SPIN_40, add_measure="PCL5"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-questionnaire="PCL5"' in html and '<input type="hidden" name="extra_measure" value="PCL5">' in html
    assert 'id="id_spin_1_4" value="4" autocomplete="off" checked' in html
    assert "Worked on behavioural activation." in html
    assert not CareContact.objects.exists()
    data = spin_post(SPIN_40, extra_measure="PCL5", appointment_type="01")
    data.update({f"pcl5_{n}": "2" for n in range(1, 21)})
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context and saved.context["form"].error_summary()
    totals = dict(QuestionnaireResponse.objects.values_list("measure", "total"))
    assert totals == {"PHQ9": 11, "GAD7": 6, "SPIN": 40, "PCL5": 40}


def test_a_bad_adsm_is_shown_on_its_fieldset_and_nothing_is_saved(client, pwp, social):
    client.force_login(pwp)
    url = reverse("referrals:log_session", kwargs={"pk": social.pk})
    response = client.post(url, spin_post(SPIN_40[:16]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "SPIN item 17 is missing." in html and 'href="#q-spin"' in html
    assert 'id="id_spin_17" data-item="17" aria-invalid="true"' in html
    assert not CareContact.objects.exists() and not QuestionnaireResponse.objects.exists()


def test_a_mobility_inventory_with_too_many_skipped_is_refused_on_the_page(client, pwp):
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, presenting_problem="agoraphobia")
    client.force_login(pwp)
    data = session_post()
    data.update({f"mi_alone_{n}": "3" for n in range(1, 22)})  # 6 of 27 skipped
    response = client.post(reverse("referrals:log_session", kwargs={"pk": referral.pk}), data)
    assert response.status_code == 400
    assert "MI alone has 6 items skipped" in response.content.decode()
    assert not CareContact.objects.exists()


def test_the_referral_page_charts_the_adsm_and_says_which_measure_decides_and_why(client, pwp, social):
    for days_ago, spin, phq in ((30, SPIN_40, [2] * 9), (10, SPIN_15, [0] * 9)):
        services.log_contact(
            referral=social,
            by=pwp,
            date=TODAY - dt.timedelta(days=days_ago),
            appointment_type="02",
            attendance="5",
            phq9=phq,
            questionnaires=[{"measure": "SPIN", "items": spin}],
            risk_note="Passive thoughts, no plan; safety plan agreed.",
        )
    client.force_login(pwp)
    response = client.get(reverse("referrals:detail", kwargs={"pk": social.pk}))
    html = response.content.decode()
    assert "SPIN, for social phobia F40.1: 2 scores" in html
    assert "(first 40, latest 15)" in html

    assert "Recovered; reliable improvement; reliable recovery" in html
    assert 'id="chart-spin"' in html and "SPIN caseness (at or above 19)" in html
    assert "decides this referral's anxiety outcome" in html
    assert '<th scope="col">SPIN</th>' in html  # a column of the questionnaire table
    assert "F40.1" in html and "decides the anxiety measure" in html


def test_the_referral_page_says_why_it_is_not_assessed(client, pwp, social):
    services.log_contact(
        referral=social,
        by=pwp,
        date=TODAY - dt.timedelta(days=5),
        appointment_type="01",
        attendance="5",
        phq9=[1] * 9,
        gad7=[1] * 7,
        risk_note="Passive thoughts, no plan; safety plan agreed.",
    )
    client.force_login(pwp)
    html = client.get(reverse("referrals:detail", kwargs={"pk": social.pk})).content.decode()
    assert "Not assessed: only one PHQ-9 score; no SPIN score and only one GAD-7 score" in html


def test_the_referral_page_runs_the_same_queries_with_many_measures(client, pwp, social):
    client.force_login(pwp)
    url = reverse("referrals:detail", kwargs={"pk": social.pk})
    services.log_contact(
        referral=social, by=pwp, date=TODAY - dt.timedelta(days=40), appointment_type="01", attendance="5", gad7=[1] * 7
    )
    few, _ = queries_for(client, url)
    for days_ago in (30, 20, 10):
        services.log_contact(
            referral=social,
            by=pwp,
            date=TODAY - dt.timedelta(days=days_ago),
            appointment_type="02",
            attendance="5",
            questionnaires=[
                {"measure": "SPIN", "items": SPIN_40},
                {"measure": "PCL5", "items": [1] * 20},
                {"measure": "MI_ALONE", "items": [2] * 27},
            ],
        )
    many, response = queries_for(client, url)
    assert len(response.context["measure_charts"]) == 3
    assert few == many


def test_a_presenting_problem_is_recorded_from_the_referral_page(client, pwp, social, manager):
    client.force_login(pwp)
    url = reverse("referrals:presenting_problem", kwargs={"pk": social.pk})
    bad = client.post(url, {"code": "", "significance": "primary", "recorded_on": TODAY.isoformat(), "version": "1"})
    assert bad.status_code == 400 and "Give the ICD-10 code of the presenting problem." in bad.content.decode()
    response = client.post(
        url, {"code": "F42.1", "significance": "primary", "recorded_on": TODAY.isoformat(), "version": social.version}
    )
    assert response.status_code == 302 and response["Location"].endswith("#problems")
    social.refresh_from_db()
    assert social.presenting_problem == "ocd"
    assert list(PresentingProblemRecord.objects.filter(referral=social).values_list("code", flat=True)) == [
        "F40.1",
        "F42.1",
    ]
    html = client.get(reverse("referrals:log_session", kwargs={"pk": social.pk})).content.decode()
    assert 'data-questionnaire="OCI"' in html and "OCI, for OCD F42.1" in html
    client.force_login(manager)
    assert client.post(url, {"code": "F40.1", "significance": "primary"}).status_code == 403


@pytest.mark.parametrize(
    ("measure", "total", "shown", "band", "pips"),
    [
        ("MI_ALONE", Decimal("2.30"), "2.30", "below caseness", (1, 2)),  # 2.30 is not above 2.3
        ("MI_ALONE", Decimal("2.31"), "2.31", "caseness", (2, 2)),
        ("SPIN", 19, "19", "caseness", (2, 2)),
        ("PSWQ", 40, "40", "", (0, 0)),  # neither bands nor a cut-off published
        ("PHQ9", 16, "16", "moderately severe", (4, 5)),
    ],
)
def test_the_score_component_shows_every_measure(measure, total, shown, band, pips):
    html = render_to_string("components/score.html", {"score": score(measure, total), "show_measure": True})
    assert f"<strong>{shown}</strong>" in html and INSTRUMENTS[measure].name in html
    assert f'<span class="score-band">{band}</span>' in html
    assert (html.count('class="pip on"'), html.count('class="pip')) == pips
