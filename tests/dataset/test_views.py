"""The managers' pages: start an export (a Celery task, here in-process), watch it, download it; the
file is kept for DATASET_KEEP_DAYS; every run and download is audited; nobody else finds the pages."""

import datetime as dt
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from common.models import AuditEvent
from dataset import services
from dataset.models import DatasetRun
from referrals.models import Patient
from stepped_care.models import Role

from ..conftest import login
from ..factories import StaffFactory
from .extracts import extract

pytestmark = pytest.mark.usefixtures("tasks_in_process")  # the run's task runs here, broker or not


def start(client, period="2026-10", capture=None):
    with capture(execute=True):
        response = client.post(reverse("dataset:export"), {"period": period})
    assert response.status_code == 302
    return DatasetRun.objects.get(pk=response.url.rstrip("/").split("/")[-1])


@pytest.mark.django_db
def test_a_manager_exports_watches_and_downloads(client, manager, month, django_capture_on_commit_callbacks):
    login(client, manager)
    assert client.get(reverse("dataset:index")).status_code == 200
    run = start(client, capture=django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.status, run.progress, run.error_count) == ("done", 100, 0)
    assert run.counts["IDS101"] == 2 and run.expires_at > timezone.now() + dt.timedelta(days=6)
    page = client.get(reverse("dataset:run", args=[run.pk]))
    assert b"Download the submission" in page.content and b"IDS201" in page.content
    response = client.get(reverse("dataset:download", args=[run.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    assert "IDS101Referral.csv" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    actions = AuditEvent.objects.filter(object_id=str(run.pk)).values_list("action", flat=True)
    assert sorted(actions) == ["dataset.download", "dataset.export", "dataset.export_done"]


@pytest.mark.django_db
def test_an_invalid_export_is_refused_and_lists_each_failure(
    client, manager, month, django_capture_on_commit_callbacks
):
    Patient.objects.filter(pk=month.first.patient_id).update(nhs_number="9434765918")
    login(client, manager)
    run = start(client, capture=django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.status, run.error_count, run.file) == ("invalid", 1, "")
    page = client.get(reverse("dataset:run", args=[run.pk])).content.decode()
    assert "9434765918" in page and f'href="/referrals/{month.first.pk}/"' in page
    assert client.get(reverse("dataset:download", args=[run.pk])).status_code == 404


@pytest.mark.django_db
def test_a_file_is_kept_for_the_set_number_of_days(client, manager, settings, django_capture_on_commit_callbacks):
    settings.DATASET_KEEP_DAYS = 2
    login(client, manager)
    run = start(client, capture=django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert services.purge_expired_files(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert client.get(reverse("dataset:download", args=[run.pk])).status_code == 200
    assert services.purge_expired_files(now=timezone.now() + dt.timedelta(days=2, minutes=1)) == 1
    run.refresh_from_db()
    assert (run.status, run.file) == ("expired", "")
    assert client.get(reverse("dataset:download", args=[run.pk])).status_code == 404


@pytest.mark.django_db
def test_a_bad_period_is_a_400_naming_it(client, manager):
    login(client, manager)
    response = client.post(reverse("dataset:export"), {"period": "2026-13"})
    assert response.status_code == 400 and b"YYYY-MM" in response.content
    assert not DatasetRun.objects.exists()


@pytest.mark.django_db
def test_a_manager_dry_runs_then_imports_an_extract(client, manager, pwp, django_capture_on_commit_callbacks):
    login(client, manager)
    upload = extract()
    upload.name = "other-system.zip"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dataset:import"), {"extract": upload, "dry_run": "on"})
    run = DatasetRun.objects.get()
    assert response.url == reverse("dataset:run", args=[run.pk])
    run.refresh_from_db()
    assert (run.kind, run.status, run.counts["referrals created"]) == ("dry_run", "done", 2)
    report = b"".join(client.get(reverse("dataset:download", args=[run.pk])).streaming_content).decode()
    assert "IDS201CareContact.csv,2,create,contact CC-1 on 2025-01-20" in report
    upload.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dataset:import"), {"extract": upload})
    real = DatasetRun.objects.get(kind="import")
    assert real.counts["referrals created"] == 2
    assert AuditEvent.objects.filter(action="dataset.import_referral").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pwp", "administrator", "supervisor", "other_manager"])
def test_nobody_but_the_teams_managers_finds_the_pages(
    client, who, request, manager, other_team, month, django_capture_on_commit_callbacks
):
    login(client, manager)
    run = start(client, capture=django_capture_on_commit_callbacks)
    client.logout()
    user = (
        StaffFactory(username="mgr_x", team=other_team, role=Role.MANAGER)
        if who == "other_manager"
        else (request.getfixturevalue(who))
    )
    login(client, user)
    for url in (reverse("dataset:run", args=[run.pk]), reverse("dataset:download", args=[run.pk])):
        assert client.get(url).status_code == 404, url
    if who == "other_manager":  # their own team's page: without this team's run
        assert str(run.pk) not in client.get(reverse("dataset:index")).content.decode()
        return
    assert client.get(reverse("dataset:index")).status_code == 404
    assert client.post(reverse("dataset:export"), {"period": "2026-10"}).status_code == 404
    assert client.post(reverse("dataset:import"), {"extract": extract()}).status_code == 404
    assert DatasetRun.objects.count() == 1


@pytest.mark.django_db
def test_the_runs_list_takes_the_same_queries_with_one_run_or_many(client, manager, django_assert_num_queries):
    login(client, manager)
    period = services.rules.parse_period("2020-01")
    services.start_export(team=manager.team, period=period, by=manager)
    client.get(reverse("dataset:index"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("dataset:index")).status_code == 200
    for _ in range(12):
        services.start_export(team=manager.team, period=period, by=manager)
    with django_assert_num_queries(len(one)):
        response = client.get(reverse("dataset:index"))
    assert response.content.count(b"Open<span") == 13


@pytest.mark.django_db
def test_the_navigation_offers_the_pages_to_managers_only(client, manager, pwp):
    login(client, manager)
    assert 'href="/dataset/"' in client.get(reverse("dataset:index")).content.decode()
    login(client, pwp)
    assert 'href="/dataset/"' not in client.get(reverse("referrals:caseload")).content.decode()
