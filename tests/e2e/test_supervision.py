"""Supervision in real Chromium: a PWP opens the prepared list and sees the flagged cases with their
reasons; the supervisor records decisions; a step-up decision changes the step and closes the flag."""

import re

import pytest

from stepped_care.models import FlagStatus, StepSource
from supervision.models import SupervisionSession
from tests.supervision.conftest import GAD_MODERATE, log, make_referral, open_flag

PHQ_STUCK = [2, 2, 2, 2, 1, 2, 1, 2, 0]  # 14: moderate, session after session
PHQ_RISK = [3, 2, 2, 2, 2, 2, 1, 1, 2]  # 17, item 9 scored 2


@pytest.mark.django_db(transaction=True)
def test_prepared_list_and_decisions_that_act(page, sign_in, screenshot, pwp, supervisor):
    stuck = make_referral(pwp, family="Stuck")
    log(stuck, pwp, 50, appointment_type="01", phq9=PHQ_STUCK, gad7=GAD_MODERATE)
    for days_ago in (42, 35, 28, 21):
        log(stuck, pwp, days_ago, phq9=PHQ_STUCK, gad7=GAD_MODERATE)
    # The review engine raises these itself; get_or_create keeps the test independent of its timing.
    not_improving = open_flag(
        stuck, "not_improving", "step_up", "amber", "No reliable improvement after 4 treatment sessions at step 2"
    )
    risky = make_referral(pwp, family="Risky")
    log(risky, pwp, 6, appointment_type="01", phq9=PHQ_RISK, gad7=GAD_MODERATE, risk_note="Passive thoughts; no plan")
    risk = open_flag(risky, "risk", "risk", "red", "PHQ-9 item 9 scored 2 at the latest PHQ-9")
    make_referral(pwp, received_days_ago=3, family="Quiet")

    # The PWP opens the prepared list from the navigation.
    sign_in(pwp)
    page.get_by_role("link", name="Supervision", exact=True).click()
    page.get_by_role("link", name="My case-management list").click()
    page.wait_for_url(re.compile(r"/supervision/cases/\d+/$"))
    rows = page.locator("tr.case-row")
    assert rows.count() == 2
    assert "RISKY" in rows.nth(0).inner_text()  # risk first
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Risk" in first and "17" in first and "moderately severe" in first
    assert "STUCK" in second and "Not improving" in second and "No reliable change" in second
    assert "QUIET" not in page.content()
    assert page.get_by_role("button", name="Print").is_visible()
    screenshot("supervision_list")
    page.emulate_media(media="print")  # the print stylesheet: no navigation or buttons, the full table
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not page.locator("nav").first.is_visible()
    assert page.locator("tr.case-row").count() == 2
    page.emulate_media(media="screen")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")

    # The supervisor records the session: step up the stuck case, a risk plan for the risky one.
    sign_in(supervisor)
    page.goto(f"/supervision/cases/{pwp.pk}/")
    page.get_by_role("link", name="Record session and decisions").click()
    page.get_by_label("Decision for STUCK, Alex").select_option("step_up")
    page.get_by_label("Notes for STUCK, Alex").fill("Agreed: refer for high-intensity CBT")
    page.get_by_label("Decision for RISKY, Alex").select_option("risk_plan")
    page.get_by_label("Notes for RISKY, Alex").fill("Safety plan reviewed with the patient")
    page.get_by_label(re.compile("Sign off as supervisor")).check()
    screenshot("supervision_session")
    page.get_by_role("button", name="Save session").click()
    page.wait_for_url(re.compile(r"/supervision/sessions/[0-9a-f-]{36}/$"))
    assert "recorded with 2 case decisions and signed off" in page.content()
    assert "Moved to step 3" in page.content()
    screenshot("supervision_decisions")

    stuck.refresh_from_db()
    not_improving.refresh_from_db()
    risk.refresh_from_db()
    assert stuck.current_step == 3
    assert stuck.steps.get(ended_on__isnull=True).source == StepSource.SUPERVISION
    assert not_improving.status == FlagStatus.ACCEPTED and not_improving.resolved_by == supervisor
    assert risk.status == FlagStatus.ACCEPTED
    assert SupervisionSession.objects.get().signed_off_by == supervisor

    # Back on the list, the discussed cases have left it and show their last decision in the full walk.
    page.goto(f"/supervision/cases/{pwp.pk}/?all=1")
    assert "Step up" in page.locator("tr.case-row", has_text="STUCK").inner_text()
