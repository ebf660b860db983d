"""The public pages through the test client (plain HTML forms: no JavaScript), and the clinician's send."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from common import notify
from common.models import AuditEvent
from frontdoor.models import QuestionnaireLink, SelfReferral
from outcomes.models import QuestionnaireResponse
from referrals.models import Referral
from stepped_care.models import ReviewFlag
from tests.factories import ReferralFactory

from .conftest import GAD_9, PHQ_12, PHQ_12_RISK


@pytest.fixture(autouse=True)
def _fresh(settings):
    cache.clear()  # the rate limits count in the cache
    notify.outbox.clear()


def url(door, name):
    return reverse("frontdoor:step", args=[door.slug, name])


def items(answers, prefix=""):
    return {f"{prefix}item_{n}": v for n, v in enumerate(answers, start=1)}


def walk(client, door, practice, *, phq9=PHQ_12, help_with="low_mood", adsm=None):
    """Every page of the form in order, as a person without JavaScript would: returns the last response."""
    pages = [
        ("crisis", {"crisis": "no", "website": ""}),
        (
            "eligibility",
            {"date_of_birth_0": "4", "date_of_birth_1": "5", "date_of_birth_2": "1990", "practice_id": practice.pk},
        ),
        ("details", {"given_name": "Robin", "family_name": "Ashdown", "nhs_number": ""}),
        ("contact", {"contact_by": ["sms"], "phone": "07700 900123", "email": "", "address": "", "postcode": ""}),
        ("help", {"help_with": help_with, "help_words": ""}),
        ("PHQ9", items(phq9)),
        ("GAD7", items(GAD_9)),
    ]
    if adsm:
        pages.append(("adsm", adsm))
    response = None
    for name, data in pages:
        response = client.post(url(door, name), data)
        assert response.status_code == 302, (name, response.content.decode()[:3000])
    return response


def test_the_sign_in_page_links_to_the_self_referral_pages(client, front_door):
    page = client.get(reverse("login")).content.decode()
    assert 'href="/refer/"' in page and "Refer yourself" in page
    index = client.get("/refer/").content.decode()
    assert f'href="/refer/{front_door.slug}/"' in index
    start = client.get(f"/refer/{front_door.slug}/").content.decode()
    assert "nhsuk-frontend/nhsuk-frontend.min.css" in start and "999" in start and "option 2" in start


def test_a_person_refers_themselves_page_by_page(client, front_door, practice):
    response = walk(client, front_door, practice)
    assert response.url == url(front_door, "check")
    check = client.get(response.url)
    assert check.status_code == 200 and "Beech Medical Centre" in check.content.decode()
    sent = client.post(response.url, {"website": ""})
    assert sent.status_code == 302 and sent.url.endswith("/done/")
    assert "Referral sent" in client.get(sent.url).content.decode()
    referral = Referral.objects.get()
    assert referral.source == "self" and referral.team == front_door.team
    assert sorted(QuestionnaireResponse.objects.values_list("measure", "total", "source")) == [
        ("GAD7", 9, "patient"),
        ("PHQ9", 12, "patient"),
    ]
    assert SelfReferral.objects.get().contact_by == ["text message"]
    assert client.session.get(f"frontdoor:{front_door.slug}") is None  # nothing typed is kept once sent


def test_the_adsm_page_appears_for_a_specific_problem(client, front_door, practice):
    spin = {f"SPIN-item_{n}": 2 for n in range(1, 18)}
    walk(client, front_door, practice, help_with="social", adsm=spin)
    client.post(url(front_door, "check"), {"website": ""})
    assert QuestionnaireResponse.objects.get(measure="SPIN").total == 34
    assert Referral.objects.get().presenting_problem == "social_anxiety"


def test_crisis_stops_the_form_and_says_call_999_or_111(client, front_door):
    response = client.post(url(front_door, "crisis"), {"crisis": "yes", "website": ""})
    page = response.content.decode()
    assert response.status_code == 200 and "999" in page and "option 2" in page and "Continue" not in page
    assert client.get(url(front_door, "eligibility")).url == url(front_door, "crisis")  # the form stopped
    assert AuditEvent.objects.filter(action="frontdoor.stopped", changes__reason="crisis").exists()
    assert not Referral.objects.exists()


def test_an_ineligible_person_is_told_why_and_nothing_is_kept(client, front_door, practice):
    client.post(url(front_door, "crisis"), {"crisis": "no"})
    response = client.post(
        url(front_door, "eligibility"),
        {"date_of_birth_0": "1", "date_of_birth_1": "1", "date_of_birth_2": "2015", "practice_id": practice.pk},
    )
    assert "aged 18 or over" in response.content.decode()
    client.post(url(front_door, "crisis"), {"crisis": "no"})
    response = client.post(
        url(front_door, "eligibility"),
        {"date_of_birth_0": "1", "date_of_birth_1": "1", "date_of_birth_2": "1980", "practice_id": 0},
    )
    assert "registered with a GP practice in its area" in response.content.decode()
    assert AuditEvent.objects.filter(action="frontdoor.stopped", changes__reason="not eligible").count() == 2


def test_item_9_shows_urgent_help_on_the_very_next_page_and_flags_the_referral(client, front_door, practice):
    response = walk(client, front_door, practice, phq9=PHQ_12_RISK)
    assert 'id="urgent-help"' in client.get(url(front_door, "GAD7")).content.decode()
    client.post(response.url, {"website": ""})
    assert 'id="urgent-help"' in client.get(f"/refer/{front_door.slug}/done/").content.decode()
    assert ReviewFlag.objects.filter(referral=Referral.objects.get(), rule="risk", status="open").exists()


@pytest.mark.parametrize(
    ("page", "data", "message"),
    [
        ("crisis", {}, "Select yes if you need help urgently"),
        (
            "eligibility",
            {"date_of_birth_0": "31", "date_of_birth_1": "2", "date_of_birth_2": "1990"},
            "Enter a real date of birth",
        ),
        ("details", {"given_name": "Robin", "nhs_number": "1234567890"}, "Enter your last name"),
        ("details", {"given_name": "Robin", "family_name": "A", "nhs_number": "1234567890"}, "Enter a real NHS number"),
        (
            "contact",
            {"contact_by": ["email"], "email": "not-an-address"},
            "Enter an email address in the correct format",
        ),
        ("contact", {"contact_by": ["sms"]}, "Enter your mobile phone number"),
        ("PHQ9", items(PHQ_12[:8]), "Answer question 9"),
        ("PHQ9", items([*PHQ_12[:8], 7]), "Choose one of the answers to question 9"),
    ],
)
def test_bad_input_gets_a_clear_error_naming_the_field_and_saves_nothing(
    client, front_door, practice, page, data, message
):
    good = {
        "crisis": {"crisis": "no"},
        "eligibility": {
            "date_of_birth_0": "4",
            "date_of_birth_1": "5",
            "date_of_birth_2": "1990",
            "practice_id": practice.pk,
        },
        "details": {"given_name": "Robin", "family_name": "Ashdown"},
        "contact": {"contact_by": ["sms"], "phone": "07700900123"},
        "help": {"help_with": "low_mood"},
    }
    for name, answers in good.items():
        if name == page:
            break
        assert client.post(url(front_door, name), answers).status_code == 302
    response = client.post(url(front_door, page), data)
    page_html = response.content.decode()
    assert response.status_code == 400 and message in page_html
    assert "There is a problem" in page_html and "<title>Error:" in page_html
    assert not Referral.objects.exists()


def test_pages_cannot_be_skipped(client, front_door):
    assert client.get(url(front_door, "PHQ9")).url == url(front_door, "crisis")
    assert client.get(url(front_door, "check")).url == url(front_door, "crisis")
    assert client.get(url(front_door, "nonsense")).status_code == 404
    assert client.get("/refer/no-such-service/").status_code == 404


def test_a_closed_form_is_not_found(client, front_door):
    front_door.is_open = False
    front_door.save()
    assert client.get(f"/refer/{front_door.slug}/").status_code == 404


def test_a_bot_filling_the_honeypot_is_thanked_and_nothing_saved(client, front_door, practice):
    walk(client, front_door, practice)
    response = client.post(url(front_door, "check"), {"website": "http://spam.example"})
    assert response.status_code == 200 and "Referral sent" in response.content.decode()
    assert not Referral.objects.exists()
    assert AuditEvent.objects.filter(action="frontdoor.stopped", changes__reason="honeypot").exists()


def test_submissions_are_rate_limited_per_address(client, front_door, practice, settings):
    settings.FRONTDOOR_RATES = {**settings.FRONTDOOR_RATES, "submit": "1/h"}
    walk(client, front_door, practice)
    assert client.post(url(front_door, "check"), {"website": ""}).status_code == 302
    walk(client, front_door, practice)
    assert client.post(url(front_door, "check"), {"website": ""}).status_code == 429
    other = client_from("198.51.100.7")
    walk(other, front_door, practice)
    assert other.post(url(front_door, "check"), {"website": ""}).status_code == 302
    assert Referral.objects.count() == 2


def test_a_form_flooded_from_many_addresses_is_limited_too(front_door, practice, settings):
    settings.FRONTDOOR_RATES = {**settings.FRONTDOOR_RATES, "form": "3/h"}
    codes = [
        client_from(f"198.51.100.{n}").post(url(front_door, "crisis"), {"crisis": "no"}).status_code for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]


def client_from(address):
    from django.test import Client

    return Client(REMOTE_ADDR=address)


# --- the questionnaire link --------------------------------------------------------------------------


@pytest.fixture
def linked(client, team, pwp, django_capture_on_commit_callbacks):
    referral = ReferralFactory(patient__team=team, patient__phone="07700 900456", care_coordinator=pwp)
    client.force_login(pwp)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("frontdoor:send_link", args=[referral.pk]), {"channel": "sms"})
    assert response.status_code == 302
    client.logout()
    link = notify.outbox[-1].personalisation["link"]
    return referral, re.sub(r"^https?://[^/]+", "", link)


def test_the_referral_page_offers_the_link_and_lists_the_messages(client, team, pwp, linked):
    referral, _ = linked
    client.force_login(pwp)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Send questionnaire link" in page and "Questionnaire link" in page and "…456" in page
    assert "Delivered" in page


def test_the_patient_completes_the_link_on_their_phone(client, linked, pwp):
    referral, path = linked
    assert str(referral.patient.pk) not in path and referral.patient.phone.replace(" ", "") not in path
    page = client.get(path)
    assert page.status_code == 200 and "date of birth" in page.content.decode()
    wrong = client.post(path, {"date_of_birth_0": "1", "date_of_birth_1": "1", "date_of_birth_2": "1970"})
    assert wrong.status_code == 400 and "does not match" in wrong.content.decode()
    dob = referral.patient.date_of_birth
    ok = client.post(path, {"date_of_birth_0": dob.day, "date_of_birth_1": dob.month, "date_of_birth_2": dob.year})
    assert ok.status_code == 302
    questions = client.get(path).content.decode()
    assert "PHQ-9" in questions or "Patient Health Questionnaire" in questions
    answers = {**items(PHQ_12_RISK, "PHQ9-"), **items(GAD_9, "GAD7-")}
    done = client.post(path, answers)
    assert done.status_code == 200 and 'id="urgent-help"' in done.content.decode()
    assert ReviewFlag.objects.filter(referral=referral, rule="risk", status="open").exists()
    assert QuestionnaireLink.objects.get().used_at is not None
    assert client.get(path).status_code == 410  # once only
    # the next session form says what came in
    client.force_login(pwp)
    form = client.get(reverse("referrals:log_session", args=[referral.pk])).content.decode()
    assert "Completed by the patient today: PHQ-9 12" in form


def test_an_unknown_link_is_not_found(client, db):
    assert client.get("/q/not-a-real-token/").status_code == 404


def test_the_questionnaire_pages_refuse_bad_answers(client, linked):
    referral, path = linked
    dob = referral.patient.date_of_birth
    client.post(path, {"date_of_birth_0": dob.day, "date_of_birth_1": dob.month, "date_of_birth_2": dob.year})
    response = client.post(path, {**items(PHQ_12, "PHQ9-"), **items(GAD_9[:6], "GAD7-")})
    assert response.status_code == 400 and "Answer question 7" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_sending_a_link_is_refused_to_a_manager_and_hidden_from_an_outsider(client, manager, outsider, team):
    referral = ReferralFactory(patient__team=team, patient__phone="07700 900456")
    client.force_login(manager)
    assert client.post(reverse("frontdoor:send_link", args=[referral.pk]), {"channel": "sms"}).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("frontdoor:send_link", args=[referral.pk]), {"channel": "sms"}).status_code == 404
    assert not QuestionnaireLink.objects.exists()


def test_a_link_needs_sign_in_to_send(client, team):
    referral = ReferralFactory(patient__team=team, patient__phone="07700 900456")
    response = client.post(reverse("frontdoor:send_link", args=[referral.pk]), {"channel": "sms"})
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_referral_page_shows_what_the_self_referral_said(client, front_door, practice, pwp):
    walk(client, front_door, practice)
    client.post(url(front_door, "check"), {"website": ""})
    referral = Referral.objects.get()
    client.force_login(pwp)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert 'id="self-referral"' in page and "Contact by text message" in page
    assert "by the patient" in page  # the scores table marks the patient's own scores
