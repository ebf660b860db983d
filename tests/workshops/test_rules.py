"""Pure register rules: typed answers, row checks, rates and schedules."""

import datetime as dt

import pytest

from outcomes.scoring import ScoringError
from workshops import rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("210110100", [2, 1, 0, 1, 1, 0, 1, 0, 0]),
        ("2 1 0 1 1 0 1 0 0", [2, 1, 0, 1, 1, 0, 1, 0, 0]),
        ("2,1,0,1,1,0,1,0,0", [2, 1, 0, 1, 1, 0, 1, 0, 0]),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_answers_are_typed_as_digits(text, expected):
    assert rules.parse_answers("PHQ9", text) == expected


@pytest.mark.parametrize(
    ("measure", "text", "fragment"),
    [
        ("PHQ9", "21011010", "needs 9 answers, one per item; 8 were given"),
        ("PHQ9", "2101101000", "10 were given"),
        ("GAD7", "21x0110", "item 3: type each answer as a digit from 0 to 3"),
    ],
)
def test_badly_typed_answers_name_the_measure(measure, text, fragment):
    with pytest.raises(ScoringError) as err:
        rules.parse_answers(measure, text)
    assert fragment in err.value.message


def test_out_of_range_digits_are_left_to_the_scoring_rules_which_name_the_item():
    answers = rules.parse_answers("PHQ9", "210140100")
    assert rules.check_row(attendance="5", phq9=answers) == {"phq9": "PHQ-9 item 5 must be between 0 and 3 (got 4)."}


@pytest.mark.parametrize(
    ("row", "errors"),
    [
        ({"attendance": "5", "phq9": [1] * 8 + [0], "gad7": [1] * 7}, set()),
        ({"attendance": "6"}, set()),
        ({"attendance": "3"}, set()),
        ({"attendance": ""}, {"attendance"}),
        ({"attendance": "9"}, {"attendance"}),
        ({"attendance": "3", "phq9": [0] * 9}, {"phq9"}),
        ({"attendance": "2", "gad7": [0] * 7}, {"gad7"}),
        ({"attendance": "5", "phq9": [0] * 8 + [1]}, {"risk_note"}),
        ({"attendance": "5", "phq9": [0] * 8 + [1], "risk_note": "Assessed: no plans"}, set()),
        ({"attendance": "5", "gad7": [0] * 6}, {"gad7"}),
    ],
)
def test_row_checks(row, errors):
    assert set(rules.check_row(**row)) == errors


def test_rates_say_nothing_rather_than_zero_when_there_is_nothing_to_count():
    assert rules.fill_rate(9, 12) == 0.75
    assert rules.attendance_rate(0, 0) is None
    assert rules.attendance_rate(3, 4) == 0.75
    assert rules.fill_rate(0, 12) == 0


def test_weekly_schedule():
    start = dt.date(2026, 1, 5)
    assert rules.schedule(start, 3) == [start, dt.date(2026, 1, 12), dt.date(2026, 1, 19)]
    assert rules.schedule(start, 2, 14) == [start, dt.date(2026, 1, 19)]
