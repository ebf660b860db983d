"""Every CSV export goes through one helper (common.csv_export.csv_response): UTF-8 with a byte-order
mark so that Excel reads names like "Siobhán Ó Briain" right, formula-safe cells, not cached."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from common.csv_export import BOM, csv_response, safe_cell
from stepped_care.models import ReviewFlag
from tests.factories import ReferralFactory

REPO = Path(__file__).resolve().parents[2]
NAME = ("Siobhán", "Ó Briain")


def body(response):
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(BOM.encode("utf-8"))
    return raw.decode("utf-8-sig")


def test_the_helper_writes_a_bom_safe_cells_and_no_store():
    response = csv_response("x.csv", [["name", "note"], ["Zoë", "=1+1"], ["-2", None]])
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Cache-Control"] == "no-store"
    assert list(csv.reader(io.StringIO(body(response)))) == [["name", "note"], ["Zoë", "'=1+1"], ["'-2", ""]]
    streamed = csv_response("y.csv", iter([["a"], ["b"]]), stream=True)
    assert list(csv.reader(io.StringIO(body(streamed)))) == [["a"], ["b"]]
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell(3) == "3"


@pytest.fixture
def named_case(pwp, team):
    referral = ReferralFactory(
        patient__team=team, patient__given_name=NAME[0], patient__family_name=NAME[1], care_coordinator=pwp
    )
    ReviewFlag.objects.create(referral=referral, rule="risk", recommendation="risk", severity="red")
    return referral


@pytest.mark.django_db
def test_the_supervision_list_export(client, supervisor, pwp, named_case):
    client.force_login(supervisor)
    text = body(client.get(reverse("supervision:case_list_csv", args=[pwp.pk])))
    assert "Ó BRIAIN, Siobhán" in text


@pytest.mark.django_db
def test_the_audit_export(client, manager, pwp, named_case):
    client.force_login(pwp)
    client.get(reverse("referrals:detail", args=[named_case.pk]))  # audited view
    client.force_login(manager)
    text = body(client.get(reverse("audit_export")))
    assert "Ó BRIAIN, Siobhán" in text


@pytest.mark.django_db
def test_the_dashboard_export(client, manager, named_case):
    client.force_login(manager)
    text = body(client.get("/dashboard/export/caseload.csv"))
    assert text.splitlines()[0]


# The national data set's files are a machine submission in NHS England's format: a byte-order mark or
# an apostrophe before a value would change what is submitted (and what an import reads back). Pages
# that hand a CSV to a person (the import's report) still go through csv_response.
DATA_SET_FORMAT = {"dataset/services.py", "dataset/imports.py"}


def test_no_module_writes_csv_by_hand():
    offenders = []
    for path in REPO.glob("*/*.py"):
        relative = path.relative_to(REPO).as_posix()
        if path.parts[-2] in ("tests", ".venv") or relative == "common/csv_export.py" or relative in DATA_SET_FORMAT:
            continue
        if re.search(r"csv\.writer|text/csv", path.read_text()):
            offenders.append(path.relative_to(REPO).as_posix())
    assert offenders == []
