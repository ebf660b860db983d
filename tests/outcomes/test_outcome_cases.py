"""Every row and column of ../shared/outcome_cases.csv, through the pure rules and through the
database (contacts logged by the service, outcome computed from the stored rows)."""

import csv
import datetime as dt

import pytest

from outcomes.metrics import paired_outcome
from outcomes.services import compute_outcome
from referrals.services import log_contact
from stepped_care.services import change_step, discharge
from tests.paths import OUTCOME_CASES

CASES = list(csv.DictReader(OUTCOME_CASES.open()))
COLUMNS = [
    "caseness_at_start",
    "recovered",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
    "finished_treatment",
]


def expected(value):
    return None if value == "" else value == "true"


def test_the_table_is_complete():
    assert len(CASES) == 26
    assert set(COLUMNS) <= set(CASES[0])


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_pure_rules(case):
    out = paired_outcome(
        int(case["phq9_first"]),
        int(case["gad7_first"]),
        int(case["phq9_last"]),
        int(case["gad7_last"]),
        int(case["treatment_contacts_attended"]),
        case["ended"] == "true",
    )
    for column in COLUMNS:
        assert getattr(out, column) == expected(case[column]), column


def items(total, n):
    out = [0] * n
    for i in range(n):
        out[i] = min(3, total - sum(out))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_through_the_database(case, referral, pwp):
    day = referral.received_on + dt.timedelta(days=3)
    pf, gf, pl, gl = (int(case[k]) for k in ("phq9_first", "gad7_first", "phq9_last", "gad7_last"))
    risk = "Risk assessed; safety plan agreed."

    def contact(on, appt, phq, gad):
        log_contact(
            referral=referral,
            by=pwp,
            date=on,
            appointment_type=appt,
            attendance="5",
            phq9=items(phq, 9),
            gad7=items(gad, 7),
            risk_note=risk,
        )

    contact(day, "01", pf, gf)
    change_step(referral=referral, step=2, reason="Assessed as suitable for step 2", by=pwp, on=day)
    tc = int(case["treatment_contacts_attended"])
    if tc == 0:
        contact(day + dt.timedelta(days=1), "01", pl, gl)
    for i in range(tc):
        last = i == tc - 1
        contact(day + dt.timedelta(days=i + 1), "02", pl if last else pf, gl if last else gf)
    if case["ended"] == "true":
        discharge(referral=referral, end_code="46", by=pwp, discharged_on=day + dt.timedelta(days=tc + 2))
    referral.refresh_from_db()
    out = compute_outcome(referral)
    for column in COLUMNS:
        assert getattr(out, column) == expected(case[column]), column
    assert (out.phq9_first, out.gad7_first, out.phq9_last, out.gad7_last) == (pf, gf, pl, gl)
    summary = referral.summary
    for column in COLUMNS:
        assert getattr(summary, column) == expected(case[column]), f"summary {column}"
