"""Disorder-specific measures in real headless Chromium: the session form offers the Mobility Inventory
for agoraphobia, keys answer its items, the live score is the mean of the answered items (written d.dd),
another measure is added on request keeping what was typed, and the referral page charts it and says
which measure decides the outcome."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from outcomes.models import QuestionnaireResponse
from referrals import services
from tests.factories import PatientFactory

from .test_clinician_journey import answer

TODAY = timezone.localdate()


@pytest.mark.django_db(transaction=True)
def test_the_mobility_inventory_item_by_item_with_live_mean_and_another_measure_on_request(page, sign_in, pwp):
    referral = services.create_referral(
        by=pwp,
        patient=PatientFactory(team=pwp.team, given_name="Ivy", family_name="Moss"),
        received_on=TODAY - dt.timedelta(days=30),
        source="gp",
        presenting_problem_code="F40.0",
        care_coordinator=pwp,
    )
    sign_in(pwp)
    page.goto(f"/referrals/{referral.pk}/sessions/new/?type=01")
    expect(page.locator("#anxiety-measure")).to_contain_text("MI alone, for agoraphobia F40.0")
    page.get_by_label("Session notes").fill("Graded exposure plan agreed.")

    # Keys answer the Mobility Inventory (1-5) and move on; 22 answered, 5 skipped: the mean of the 22.
    page.locator("#id_mi_alone_1_1").focus()
    for key in "3" * 21 + "4":
        page.keyboard.press(key)
    expect(page.locator('[data-total-for="MI_ALONE"]')).to_contain_text("MI alone mean 3.05 of 5.00")
    expect(page.locator('[data-total-for="MI_ALONE"]')).to_contain_text("above caseness, 2.3")

    # Another measure on request: the page comes back with it, nothing typed is lost, nothing saved yet.
    page.locator("#add-measure summary").click()
    page.get_by_role("button", name="PCL-5", exact=True).click()
    expect(page.locator('[data-questionnaire="PCL5"]')).to_be_visible()
    expect(page.get_by_label("Session notes")).to_have_value("Graded exposure plan agreed.")
    expect(page.locator("#id_mi_alone_22_4")).to_be_checked()
    assert not QuestionnaireResponse.objects.exists()

    answer(page, "phq9", [2, 2, 1, 1, 1, 1, 1, 1, 0])
    answer(page, "gad7", [1, 1, 1, 1, 1, 1, 1])
    answer(page, "pcl5", [1] * 20)
    expect(page.locator('[data-total-for="PCL5"]')).to_contain_text("PCL-5 total 20 of 80")
    page.get_by_role("combobox", name="First step").select_option("2")
    page.get_by_label("Reason for this step").fill("Agoraphobia, moderate: guided self-help")
    page.get_by_role("button", name="Save the session").click()
    expect(page.get_by_role("alert").filter(has_text="Session of")).to_contain_text("MI alone 3.05 (caseness)")
    totals = dict(QuestionnaireResponse.objects.values_list("measure", "total"))
    assert totals["PHQ9"] == 10 and totals["PCL5"] == 20 and str(totals["MI_ALONE"]) == "3.05"

    expect(page.locator("#chart-mi_alone")).to_be_visible()
    expect(page.locator("#chart-mi_alone")).to_contain_text("MI alone caseness (above 2.3)")
    expect(page.locator("#anxiety-measure")).to_contain_text("MI alone, for agoraphobia F40.0, once it has 2 scores")
    expect(page.locator("#outcome-summary")).to_contain_text("Not assessed: only one PHQ-9 score")
