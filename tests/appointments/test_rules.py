from datetime import date, datetime, time

import pytest

from appointments.rules import Window, free_slots, overlaps, two_dnas_in_a_row, wait_band, waiting_order

MON = date(2026, 12, 7)  # a Monday
AM = Window(1, time(9), time(12))


def at(h, m=0):
    return datetime.combine(MON, time(h, m))


@pytest.mark.parametrize(
    "windows, minutes, busy, on_leave, expected",
    [
        ([AM], 60, [], False, [time(9), time(10), time(11)]),
        ([AM], 90, [], False, [time(9), time(10, 30)]),
        ([AM], 60, [(at(10), at(11))], False, [time(9), time(11)]),
        ([AM], 60, [(at(9, 30), at(10, 15))], False, [time(11)]),
        ([AM], 60, [], True, []),
        ([Window(2, time(9), time(12))], 60, [], False, []),  # Tuesday's pattern, Monday asked
        ([AM, Window(1, time(13), time(14))], 60, [], False, [time(9), time(10), time(11), time(13)]),
        ([AM], 240, [], False, []),
        ([AM], 0, [], False, []),
    ],
)
def test_free_slots(windows, minutes, busy, on_leave, expected):
    assert free_slots(windows, MON, minutes, busy, on_leave) == expected


@pytest.mark.parametrize(
    "a, b, expected",
    [((9, 10), (10, 11), False), ((9, 10), (9, 10), True), ((9, 11), (10, 12), True), ((9, 10), (11, 12), False)],
)
def test_overlaps_is_half_open(a, b, expected):
    assert overlaps(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is expected


@pytest.mark.parametrize(
    "received, band",
    [
        (date(2026, 12, 7), "within 6 weeks"),
        (date(2026, 10, 26), "within 6 weeks"),
        (date(2026, 10, 25), "6 to 18 weeks"),
        (date(2026, 8, 3), "6 to 18 weeks"),
        (date(2026, 8, 2), "over 18 weeks"),
    ],
)
def test_wait_band(received, band):
    assert wait_band(received, MON) == band


def test_longest_wait_first():
    assert waiting_order([("b", date(2026, 5, 1)), ("a", date(2026, 1, 1)), ("c", date(2026, 9, 1))]) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "codes, expected",
    [([], False), (["3"], False), (["3", "3"], True), (["3", "5", "3"], False), (["5", "3", "3"], True)],
)
def test_two_dnas_in_a_row(codes, expected):
    assert two_dnas_in_a_row(codes) is expected
