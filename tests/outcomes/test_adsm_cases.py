"""Every row and column of the ADSM outcome cases (tests/data/outcome_cases_adsm.csv, a copy of
../shared/outcome_cases_adsm.csv), through the pure rules and through the database: presenting problems
recorded and contacts logged by the services, the outcome computed from the stored rows and kept in the
summary row the dashboard counts.

Each row: presenting problems "code:significance:date|...", then per contact the PHQ-9, GAD-7 and ADSM
scores (";"-separated, blank: not completed at that contact). Contact 1 is the assessment, every later one
an attended treatment contact. For a mean-scored measure the raw value is the sum of its item answers.
"""

import csv
import datetime as dt
from decimal import Decimal

import pytest

from outcomes.metrics import outcome_of
from outcomes.problems import ProblemRecord, deciding
from outcomes.scoring import INSTRUMENTS, PHQ9, score
from outcomes.services import compute_outcome
from referrals.services import log_contact, record_presenting_problem
from stepped_care.services import change_step, discharge
from tests.paths import ADSM_CASES

CASES = list(csv.DictReader(ADSM_CASES.open()))
BOOLS = [
    "assessed",
    "caseness_at_start",
    "recovered",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
    "finished_treatment",
]
CSV_RECEIVED = dt.date(2026, 1, 5)  # the contract client's referral date; contact 1 a week later
RISK_NOTE = "Risk assessed; safety plan agreed."


def expected(value):
    return None if value == "" else value == "true"


def answers(measure, raw):
    """Item answers adding up to ``raw`` (PHQ-9 item 9 kept at 0 unless the total needs it), as the
    contract client builds them."""
    inst = INSTRUMENTS[measure]
    n, lo, hi = inst.item_count, inst.item_min, inst.item_max
    out, rest = [lo] * n, int(raw) - lo * n
    for i in list(range(n - 1)) + [n - 1]:
        step = min(hi - lo, rest)
        out[i] += step
        rest -= step
    assert rest == 0
    return out


def parse(cell):
    return [None if x == "" else int(float(x)) for x in cell.split(";")] if cell else []


def columns(case):
    series = [(PHQ9, parse(case["phq9"])), ("GAD7", parse(case["gad7"]))]
    if case["adsm_measure"]:
        series.append((case["adsm_measure"], parse(case["adsm_raw"])))
    return series


def problems(case):
    out = []
    for n, text in enumerate(filter(None, case["problems"].split("|"))):
        code, significance, on = text.split(":")
        out.append((code, significance, dt.date.fromisoformat(on), n))
    return out


def check(case, out):
    for column in BOOLS:
        assert getattr(out, column) == expected(case[column]), column
    if case["assessed"] == "true":
        assert out.anxiety_measure == case["anxiety_measure"]
        assert abs(Decimal(str(out.anxiety_first)) - Decimal(case["anxiety_first"])) < Decimal("0.006")
        assert abs(Decimal(str(out.anxiety_last)) - Decimal(case["anxiety_last"])) < Decimal("0.006")
    else:
        assert out.reason and out.summary.startswith("Not assessed: ")


def test_the_table_is_complete():
    assert len(CASES) == 45
    assert set(BOOLS) <= set(CASES[0])
    used = {c["anxiety_measure"] for c in CASES if c["assessed"] == "true"}
    assert {"SPIN", "PDSS", "PCL5", "OCI", "HAI", "MI_ALONE", "GAD7"} <= used


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_pure_rules(case):
    series = {}
    contacts = 0
    for measure, raws in columns(case):
        contacts = max(contacts, len(raws))
        series[measure] = [score(measure, answers(measure, raw)).total for raw in raws if raw is not None]
    problem = deciding(ProblemRecord(code, sig, on, n) for code, sig, on, n in problems(case))
    out = outcome_of(series, problem, contacts - 1, case["ended"] == "true")
    check(case, out)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_through_the_database(case, referral, pwp):
    shift = referral.received_on - CSV_RECEIVED
    for code, significance, on, _ in problems(case):
        record_presenting_problem(
            referral=referral, code=code, significance=significance, recorded_on=on + shift, by=pwp
        )
    series = columns(case)
    count = max(len(raws) for _, raws in series)
    day0 = dt.date(2026, 1, 12) + shift
    for i in range(count):
        day = day0 + dt.timedelta(days=7 * i)
        given = [
            {"measure": measure, "items": answers(measure, raws[i])}
            for measure, raws in series
            if i < len(raws) and raws[i] is not None
        ]
        log_contact(
            referral=referral,
            by=pwp,
            date=day,
            appointment_type="01" if i == 0 else "02",
            attendance="5",
            questionnaires=given,
            risk_note=RISK_NOTE,
        )
        if i == 0:
            change_step(referral=referral, step=2, reason="Assessed as suitable for step 2", by=pwp, on=day)
    if case["ended"] == "true":
        discharge(referral=referral, end_code="46", by=pwp, discharged_on=day0 + dt.timedelta(days=7 * (count + 1)))
    referral.refresh_from_db()
    out = compute_outcome(referral)
    check(case, out)
    summary = referral.summary
    for column in BOOLS[1:]:
        assert getattr(summary, column) == expected(case[column]), f"summary {column}"
    assert summary.computable == (case["assessed"] == "true")
    assert summary.anxiety_measure == (out.anxiety_measure or "")
    assert summary.anxiety_first == out.anxiety_first and summary.anxiety_last == out.anxiety_last
    assert summary.adsm == (out.adsm or "")
