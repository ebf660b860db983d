"""The plausibility rules on their own (pure: no database, no clock), at and beyond each bound."""

import datetime as dt

import pytest

from common import plausibility as p

TODAY = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (TODAY, True),
        (dt.date(1906, 3, 1), True),
        (dt.date(1906, 2, 28), False),
        (dt.date(1, 1, 1), False),
        (TODAY + dt.timedelta(days=1), False),
    ],
)
def test_date_of_birth_bounds(born, ok):
    assert (p.date_of_birth_problem(born, TODAY) is None) is ok


def test_age_bound_on_a_leap_day():
    leap = dt.date(2020, 2, 29)  # 120 years before: 1900 was not a leap year
    assert p.date_of_birth_problem(dt.date(1900, 2, 28), leap) is None
    assert p.date_of_birth_problem(dt.date(1900, 2, 27), leap) is not None


@pytest.mark.parametrize(
    ("received", "ok"),
    [
        (dt.date(2000, 1, 1), True),
        (dt.date(1999, 12, 31), False),
        (dt.date(1900, 1, 1), False),
        (TODAY, True),
        (TODAY + dt.timedelta(days=1), False),
    ],
)
def test_referral_received_bounds(received, ok):
    assert (p.referral_received_problem(received, TODAY) is None) is ok


@pytest.mark.parametrize(
    ("text", "multiline", "ok"),
    [
        ("Line\nnext\ttab", True, True),
        ("Line\nnext", False, False),
        ("\x1b[31mred", True, False),
        ("\x00", True, False),
        ("\ud800", True, False),
        ("A\u202eB", False, False),
        ("x" * 11, False, False),
        ("Zoë Nguyễn", False, True),
    ],
)
def test_text_characters_and_length(text, multiline, ok):
    assert (
        p.text_problem(text, max_length=10 if not ok and len(text) > 10 else 100, multiline=multiline) is None
    ) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Ada", True),
        ("\u200b", False),
        (" \u2060 ", False),
        ("\u0301", False),
        ("Ad\u200ba", False),
        ("\u0645\u06cc\u200c\u0646\u0627", True),
        ("O'Brien-Smith", True),
    ],
)
def test_names_need_visible_letters_and_no_hidden_characters(name, ok):
    assert (p.name_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("text", "ok"), [("0123456789", True), ("²³", False), ("１２", False), ("٣", False), ("", False)]
)
def test_digits_are_zero_to_nine_only(text, ok):
    assert p.digits_only(text) is ok


def test_list_bounds():
    assert p.list_problem(["a"] * 3, max_items=2) is not None
    assert p.list_problem(["a", "a"], max_items=5) is not None
    assert p.list_problem(["a", "b"], max_items=2) is None
