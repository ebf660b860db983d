"""A service manager opens the dashboard in a real browser and follows a number to its referrals."""

import pytest
from django.utils import timezone

from stepped_care.models import Role
from tests.factories import StaffFactory
from tests.outcomes.population import build_population


@pytest.mark.django_db(transaction=True)
def test_a_number_on_the_dashboard_matches_its_drilldown_list(page, sign_in, screenshot, team, manager):
    clinicians = [
        StaffFactory(username="e2e_pwp", team=team, role=Role.PWP, first_name="Priya", last_name="Walsh"),
        StaffFactory(username="e2e_hit", team=team, role=Role.HI_THERAPIST, first_name="Hannah", last_name="Iqbal"),
    ]
    build_population(team=team, clinicians=clinicians, by=clinicians[0], today=timezone.localdate(), n=14, seed=21)

    sign_in(manager)
    page.wait_for_url("**/dashboard/**")
    assert page.get_by_role("heading", name=f"Service dashboard: {team.name}").is_visible()
    assert page.locator("svg[role=img]").count() >= 3
    screenshot("dashboard")

    # The total of active referrals in the caseload table, then its list.
    total = page.locator("#table-caseload tfoot a").last
    expected = int(total.inner_text())
    assert expected > 0
    total.click()
    page.wait_for_url("**/dashboard/referrals/**")
    assert page.get_by_role("heading", name="Active referrals").is_visible()
    assert int(page.locator("#referral-count").inner_text()) == expected
    assert page.locator("#drilldown tbody tr").count() == expected

    # Back, and the same for the finished courses behind the recovery card.
    page.go_back()
    card = page.locator("[data-metric=recovery_rate] a").last
    expected = int(card.inner_text())
    card.click()
    page.wait_for_url("**metric=at_caseness**")
    assert int(page.locator("#referral-count").inner_text()) == expected
    screenshot("dashboard_drilldown")


@pytest.mark.django_db(transaction=True)
def test_the_filters_work_from_the_keyboard(page, sign_in, team, manager):
    pwp = StaffFactory(username="e2e_pwp2", team=team, role=Role.PWP, first_name="Owen", last_name="Hughes")
    build_population(team=team, clinicians=[pwp], by=pwp, today=timezone.localdate(), n=4, seed=22)
    sign_in(manager)
    page.wait_for_url("**/dashboard/**")
    page.get_by_label("Clinician", exact=True).select_option(label="Owen Hughes")
    page.get_by_role("button", name="Apply filters").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**clinician={pwp.pk}**")
    assert page.get_by_label("Clinician", exact=True).input_value() == str(pwp.pk)
