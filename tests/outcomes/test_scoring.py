"""Scoring rules, table-driven over every band boundary of DOMAIN.md §2."""

import pytest

from outcomes.scoring import GAD7, PHQ9, WSAS, ScoringError, is_case, score, severity

BANDS = [
    (PHQ9, 0, "minimal"),
    (PHQ9, 4, "minimal"),
    (PHQ9, 5, "mild"),
    (PHQ9, 9, "mild"),
    (PHQ9, 10, "moderate"),
    (PHQ9, 14, "moderate"),
    (PHQ9, 15, "moderately severe"),
    (PHQ9, 19, "moderately severe"),
    (PHQ9, 20, "severe"),
    (PHQ9, 27, "severe"),
    (GAD7, 0, "minimal"),
    (GAD7, 4, "minimal"),
    (GAD7, 5, "mild"),
    (GAD7, 9, "mild"),
    (GAD7, 10, "moderate"),
    (GAD7, 14, "moderate"),
    (GAD7, 15, "severe"),
    (GAD7, 21, "severe"),
    (WSAS, 0, "subclinical"),
    (WSAS, 9, "subclinical"),
    (WSAS, 10, "significant impairment"),
    (WSAS, 20, "significant impairment"),
    (WSAS, 21, "moderately severe or worse"),
    (WSAS, 40, "moderately severe or worse"),
]


@pytest.mark.parametrize(("measure", "total", "band"), BANDS)
def test_severity_bands(measure, total, band):
    assert severity(measure, total) == band


@pytest.mark.parametrize(
    ("measure", "total", "case"),
    [(PHQ9, 9, False), (PHQ9, 10, True), (GAD7, 7, False), (GAD7, 8, True), (WSAS, 30, None)],
)
def test_caseness_cut_offs(measure, total, case):
    assert is_case(measure, total) is case


def test_total_and_risk_item():
    result = score(PHQ9, [3, 3, 2, 2, 1, 1, 0, 0, 1])
    assert result.total == 13 and result.severity == "moderate" and result.caseness and result.risk
    assert not score(PHQ9, [3, 3, 2, 2, 1, 1, 0, 1, 0]).risk


@pytest.mark.parametrize(
    ("measure", "answers", "item", "fragment"),
    [
        (PHQ9, [1] * 8, 9, "item 9 is missing"),
        (PHQ9, [1, 1, 1, 4, 1, 1, 1, 1, 1], 4, "item 4 must be between 0 and 3"),
        (PHQ9, [1, 1, -1, 1, 1, 1, 1, 1, 1], 3, "item 3 must be between 0 and 3"),
        (GAD7, [1, None, 1, 1, 1, 1, 1], 2, "item 2 is missing"),
        (GAD7, [1] * 8, None, "7 items"),
        (WSAS, [9, 0, 0, 0, 0], 1, "between 0 and 8"),
        (GAD7, [1, 1, "2", 1, 1, 1, 1], 3, "whole number"),
    ],
)
def test_bad_answers_are_rejected_naming_the_item(measure, answers, item, fragment):
    with pytest.raises(ScoringError) as err:
        score(measure, answers)
    assert err.value.item == item
    assert fragment in err.value.message
