"""The front door in a phone-sized Chromium (375 px): a person refers themselves, and a patient completes
the questionnaires a clinician sent them. axe-core audits every page (0 violations, tests/e2e/a11y.py);
one run goes without JavaScript, as the pages need none."""

import re

import pytest
from django.core.cache import cache

from common import notify
from frontdoor.models import FrontDoor, GPPractice
from outcomes.models import QuestionnaireResponse
from referrals.models import Referral
from stepped_care.models import ReviewFlag
from tests.factories import ReferralFactory

PHONE = {"width": 375, "height": 667}
PHQ = [2, 2, 2, 2, 1, 1, 1, 0, 1]  # 12, item 9 answered 1
GAD = [2, 2, 1, 1, 1, 1, 1]  # 9


@pytest.fixture
def front_door(team):
    cache.clear()
    door = FrontDoor.objects.create(team=team, slug="talking-matters-test")
    GPPractice.objects.create(front_door=door, ods_code="N81001", name="Beech Medical Centre")
    return door


def answer(page, answers, prefix=""):
    for number, value in enumerate(answers, start=1):
        page.locator(f'label[for="id_{prefix}item_{number}_{value}"]').click()


def refer_yourself(page):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Refer yourself").click()
    page.get_by_role("link", name="Talking Matters Test").click()
    page.get_by_role("button", name="Start now").click()
    page.locator('label[for="id_crisis_1"]').click()  # No
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Day").fill("4")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("1990")
    page.get_by_label("Which GP practice are you registered with?").select_option(label="Beech Medical Centre")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Ashdown")
    page.get_by_role("button", name="Continue").click()
    page.locator('label[for="id_contact_by_0"]').click()  # text message
    page.get_by_label("Mobile phone number").fill("07700 900123")
    page.get_by_role("button", name="Continue").click()
    page.locator('label[for="id_help_with_0"]').click()  # feeling low
    page.get_by_role("button", name="Continue").click()
    answer(page, PHQ)
    page.get_by_role("button", name="Continue").click()


@pytest.mark.django_db(transaction=True)
def test_a_person_refers_themselves_on_a_phone(page, front_door, audit, settings):
    page.set_viewport_size(PHONE)
    refer_yourself(page)
    assert page.locator("#urgent-help").is_visible()  # item 9 above 0: help shown at once
    answer(page, GAD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/check/")
    assert "Beech Medical Centre" in page.content()
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url("**/done/")
    assert page.get_by_role("heading", name="Referral sent").is_visible()
    referral = Referral.objects.get()
    assert referral.source == "self"
    assert ReviewFlag.objects.filter(referral=referral, rule="risk", status="open").exists()
    # an error page is audited too: the crisis question left unanswered
    page.goto(f"/refer/{front_door.slug}/crisis/")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    page.locator('label[for="id_crisis_0"]').click()  # Yes: the form stops
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="Get help now").is_visible() and "option 2" in page.content()
    page.goto(f"/refer/{front_door.slug}/crisis/")
    page.locator('label[for="id_crisis_1"]').click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Day").fill("4")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("1990")
    page.get_by_label("Which GP practice are you registered with?").select_option(label="My practice is not listed")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="We cannot take your referral online").is_visible()
    settings.FRONTDOOR_RATES = {**settings.FRONTDOOR_RATES, "step": "0/h"}  # the refusal page is audited too
    page.goto(f"/refer/{front_door.slug}/crisis/")
    page.locator('label[for="id_crisis_1"]').click()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="Sorry, there have been too many attempts").is_visible()
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/refer/")


@pytest.mark.django_db(transaction=True)
def test_the_self_referral_works_without_javascript(browser, live_server, front_door, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    refer_yourself(page)
    answer(page, GAD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url("**/done/")
    context.close()
    assert Referral.objects.get().questionnaires.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_patient_completes_a_questionnaire_link_on_a_phone(page, sign_in, pwp, team, audit):
    cache.clear()
    notify.outbox.clear()
    referral = ReferralFactory(patient__team=team, patient__phone="07700 900456", care_coordinator=pwp)
    sign_in(pwp)
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_role("button", name="Send questionnaire link").click()
    assert "Questionnaire link sent by text message" in page.content()
    link = re.sub(r"^https?://[^/]+", "", notify.outbox[-1].personalisation["link"])
    page.context.clear_cookies()  # the patient's phone: no staff session

    page.set_viewport_size(PHONE)
    page.goto(link)
    dob = referral.patient.date_of_birth
    page.get_by_label("Day").fill(str(dob.day))
    page.get_by_label("Month").fill(str(dob.month))
    page.get_by_label("Year").fill(str(dob.year))
    page.get_by_role("button", name="Continue").click()
    answer(page, PHQ[:8] + [0], prefix="PHQ9-")
    answer(page, GAD, prefix="GAD7-")
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("heading", name="Answers sent").is_visible()
    assert sorted(QuestionnaireResponse.objects.values_list("measure", "total", "source")) == [
        ("GAD7", 9, "patient"),
        ("PHQ9", 11, "patient"),
    ]
    page.goto(link)
    assert "already completed" in page.content()

    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(pwp)
    page.goto(f"/referrals/{referral.pk}/sessions/new/")
    assert "Completed by the patient today: PHQ-9 11" in page.content()
