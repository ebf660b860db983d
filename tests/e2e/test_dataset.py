"""A service manager exports a month of the national data set in a real browser (every page audited
by axe), sees a refused run's failures with links to the records, and downloads a good one."""

import pytest

from referrals.models import Patient
from tests.dataset.conftest import build_month


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tasks_in_process")  # the run's task runs in the server, broker or not
def test_a_manager_exports_a_month_and_downloads_it(page, sign_in, team, manager, pwp):
    month = build_month(pwp)
    Patient.objects.filter(pk=month.first.patient_id).update(nhs_number="9434765918")
    sign_in(manager)
    page.get_by_role("link", name="Data set").click()
    page.wait_for_url("**/dataset/")
    page.get_by_label("Reporting period").fill("2026-10")
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_url("**/dataset/runs/**")
    assert page.locator("#status").inner_text() == "Refused: failures to fix"
    failure = page.locator("#failures tbody tr").first
    assert "9434765918" in failure.inner_text()
    failure.get_by_role("link").click()
    page.wait_for_url(f"**/referrals/{month.first.pk}/")

    Patient.objects.filter(pk=month.first.patient_id).update(nhs_number="9434765919")
    page.goto("/dataset/")
    page.get_by_label("Reporting period").fill("2026-10")
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_url("**/dataset/runs/**")
    assert page.locator("#status").inner_text() == "Done"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the submission (zip)").click()
    assert download.value.suggested_filename.endswith(".zip")
    page.goto("/dataset/")
    assert page.locator("#runs tbody tr").count() == 2
