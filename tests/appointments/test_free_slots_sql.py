"""The team's free slots worked out by PostgreSQL (``queries.FREE_SLOTS_SQL``) are those of the pure rule,
``rules.free_slots``, which stays the definition: each case below, and a few hundred random diaries,
are answered both ways and compared (times and their order). The rule is given, per clinician and day,
the patterns valid that day (by id), whether a leave covers the day and every live booking in local
time; the SQL answers for all clinicians and days at once. The path by the rule
(``queries._free_slots_by_rule``, SQLite's) is held to the same answers on every database."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from appointments import queries, rules
from appointments.models import Appointment, Leave, WorkingPattern
from tests.factories import ReferralFactory, StaffFactory

LONDON = ZoneInfo("Europe/London")
MONDAY = dt.date(2027, 1, 4)
DST_WEEK = dt.date(2027, 3, 22)  # its Sunday (28 March 2027) the clocks go forward at 01:00
AUTUMN_WEEK = dt.date(2027, 10, 25)  # its Sunday (31 October 2027) they go back at 02:00


def _local(day, hour, minute=0, second=0, days=0):
    naive = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute, second))
    return naive.replace(tzinfo=LONDON)


def _expected(clinicians, first_day, days, minutes):
    """The rule's answer, from the rows as stored."""
    out = {}
    for c in clinicians:
        patterns = list(WorkingPattern.objects.filter(clinician=c).order_by("pk"))
        leave = list(Leave.objects.filter(clinician=c))
        busy = [
            (a.starts_at.astimezone(LONDON).replace(tzinfo=None), a.ends_at.astimezone(LONDON).replace(tzinfo=None))
            for a in Appointment.objects.filter(clinician=c).exclude(status=Appointment.Status.CANCELLED)
        ]
        days_out = []
        for n in range(days):
            day = first_day + dt.timedelta(days=n)
            windows = [
                rules.Window(p.weekday, p.start, p.end)
                for p in patterns
                if p.valid_from <= day and (p.valid_until is None or p.valid_until >= day)
            ]
            on_leave = any(x.starts_on <= day <= x.ends_on for x in leave)
            days_out.append((day, rules.free_slots(windows, day, minutes, busy, on_leave=on_leave)))
        out[c] = days_out
    return out


def _answers(clinicians, first_day, days, minutes):
    answers = {"rule path": queries._free_slots_by_rule(clinicians, first_day, days, minutes)}
    if connection.vendor == "postgresql":
        answers["SQL"] = queries._free_slots_in_sql(clinicians, first_day, days, minutes)
    return answers


def _pattern(who, weekday, start, end, valid_from=dt.date(2026, 1, 1), valid_until=None):
    WorkingPattern.objects.create(
        clinician=who,
        team=who.team,
        weekday=weekday,
        start=start,
        end=end,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _book(who, referral, starts_at, ends_at, status=Appointment.Status.BOOKED):
    Appointment.objects.create(
        referral=referral,
        clinician=who,
        starts_at=starts_at,
        ends_at=ends_at,
        appointment_type="02",
        status=status,
        created_by=who,
    )


T = dt.time

CASES = {
    "one window, nothing booked": ([(1, T(9), T(12))], [], [], MONDAY, 60),
    "a window not a whole number of slots": ([(1, T(9), T(11, 40))], [], [], MONDAY, 45),
    "two windows, and another weekday's": ([(1, T(13), T(17)), (1, T(9), T(12)), (3, T(8), T(9))], [], [], MONDAY, 50),
    "overlapping windows (the rule repeats times)": ([(1, T(9), T(12)), (1, T(10, 30), T(11, 30))], [], [], MONDAY, 30),
    "seconds in a window's times": ([(1, T(9, 0, 30), T(10, 59, 59)), (2, T(9, 15, 1), T(10, 15))], [], [], MONDAY, 30),
    "a booking inside, one across a boundary": (
        [(1, T(9), T(17))],
        [(_local(MONDAY, 10), _local(MONDAY, 11)), (_local(MONDAY, 13, 15), _local(MONDAY, 14, 5))],
        [],
        MONDAY,
        30,
    ),
    "bookings with seconds (truncated to the minute)": (
        [(1, T(9), T(12))],
        [
            (_local(MONDAY, 9, 30, 30), _local(MONDAY, 10, 0, 30)),
            (_local(MONDAY, 10, 59, 59), _local(MONDAY, 11, 0, 1)),
        ],
        [],
        MONDAY,
        30,
    ),
    "a booking ending as a slot starts, one starting as it ends": (
        [(1, T(9), T(12))],
        [(_local(MONDAY, 8), _local(MONDAY, 9)), (_local(MONDAY, 12), _local(MONDAY, 13))],
        [],
        MONDAY,
        60,
    ),
    "cancelled bookings free the time, done ones do not": (
        [(1, T(9), T(12)), (2, T(9), T(12))],
        [
            (_local(MONDAY, 9), _local(MONDAY, 10), Appointment.Status.CANCELLED),
            (_local(MONDAY, 9), _local(MONDAY, 9, 45), Appointment.Status.CANCELLED),
            (_local(MONDAY, 10), _local(MONDAY, 11), Appointment.Status.DONE),
            (_local(MONDAY, 11), _local(MONDAY, 11, 30), Appointment.Status.CANCELLED),
        ],
        [],
        MONDAY,
        60,
    ),
    "a booking across midnight and one over three days": (
        [(d, T(0), T(23, 59)) for d in range(1, 8)],
        [(_local(MONDAY, 23), _local(MONDAY, 1, days=1)), (_local(MONDAY, 20, days=2), _local(MONDAY, 3, days=4))],
        [],
        MONDAY,
        90,
    ),
    "a booking before the period reaching into it, one after it": (
        [(1, T(0), T(8)), (7, T(18), T(23, 59))],
        [(_local(MONDAY, 22, days=-1), _local(MONDAY, 2)), (_local(MONDAY, 7, days=7), _local(MONDAY, 8, days=7))],
        [],
        MONDAY,
        60,
    ),
    "leave of a day and leave across the period's start": (
        [(d, T(9), T(11)) for d in range(1, 6)],
        [],
        [(MONDAY - dt.timedelta(days=3), MONDAY + dt.timedelta(days=1)), (MONDAY + dt.timedelta(days=3),) * 2],
        MONDAY,
        60,
    ),
    "patterns starting and ending within the period": (
        [
            (1, T(9), T(12), MONDAY + dt.timedelta(days=7)),
            (2, T(9), T(12), MONDAY, MONDAY + dt.timedelta(days=8)),
            (3, T(14), T(16), MONDAY - dt.timedelta(days=30), MONDAY - dt.timedelta(days=1)),
        ],
        [],
        [],
        MONDAY,
        60,
    ),
    "a slot longer than the window": ([(1, T(9), T(10, 30))], [], [], MONDAY, 240),
    "one-minute slots around a booking": (
        [(1, T(9), T(9, 10))],
        [(_local(MONDAY, 9, 3), _local(MONDAY, 9, 5))],
        [],
        MONDAY,
        1,
    ),
    "the clocks go forward (wall-clock minutes, as the rule)": (
        [(7, T(0), T(6)), (1, T(0), T(3))],
        [(_local(DST_WEEK, 0, 30, days=6), _local(DST_WEEK, 3, 30, days=6))],
        [],
        DST_WEEK,
        60,
    ),
    "the clocks go back": (
        [(7, T(0), T(4))],
        [(dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC), dt.datetime(2027, 10, 31, 1, 30, tzinfo=dt.UTC))],
        [],
        AUTUMN_WEEK,
        30,
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("days", [1, 7, 14])
@pytest.mark.parametrize("case", CASES)
def test_the_sql_gives_the_rules_slots(case, days):
    patterns, bookings, leave, first_day, minutes = CASES[case]
    who = StaffFactory(role="pwp")
    other = StaffFactory(role="hit", team=who.team)
    _pattern(other, 1, T(9), T(17))  # a colleague's diary does not leak into the clinician's
    referral = ReferralFactory(patient__team=who.team)
    _book(other, referral, _local(first_day, 9), _local(first_day, 17))
    for p in patterns:
        _pattern(who, *p)
    for b in bookings:
        _book(who, referral, *b)
    for starts_on, ends_on in leave:
        Leave.objects.create(clinician=who, starts_on=starts_on, ends_on=ends_on)
    expected = _expected([who, other], first_day, days, minutes)
    for path, answer in _answers([who, other], first_day, days, minutes).items():
        assert answer == expected, (case, path)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(12))
def test_random_diaries_give_the_rules_slots(seed):
    """Random patterns, leave and bookings (live ones never overlap: the database refuses it) for
    six clinicians over two weeks, at several appointment lengths."""
    rng = random.Random(seed)
    first_day = MONDAY + dt.timedelta(days=rng.randrange(0, 330))  # the clocks change twice
    clinicians = [StaffFactory(role="pwp")]
    clinicians += [StaffFactory(role="pwp", team=clinicians[0].team) for _ in range(5)]
    referral = ReferralFactory(patient__team=clinicians[0].team)
    for who in clinicians:
        for _ in range(rng.randrange(0, 7)):
            start = rng.randrange(6 * 60, 18 * 60)
            end = min(start + rng.randrange(15, 6 * 60), 24 * 60 - 1)
            valid_from = first_day + dt.timedelta(days=rng.randrange(-20, 10))
            valid_until = rng.choice([None, valid_from + dt.timedelta(days=rng.randrange(0, 20))])
            _pattern(
                who, rng.randrange(1, 8), T(start // 60, start % 60), T(end // 60, end % 60), valid_from, valid_until
            )
        at = _local(first_day, 6, days=-1).astimezone(dt.UTC)  # arithmetic in UTC: across a change of the clocks too
        while at < _local(first_day, 0, days=15):
            at += dt.timedelta(minutes=rng.randrange(0, 600), seconds=rng.choice([0, 0, 0, 30]))
            length = dt.timedelta(minutes=rng.choice([30, 45, 50, 60, 90]))
            status = rng.choice([Appointment.Status.BOOKED, Appointment.Status.DONE, Appointment.Status.CANCELLED])
            _book(who, referral, at, at + length, status)
            if status != Appointment.Status.CANCELLED:
                at += length
        if rng.random() < 0.5:
            starts_on = first_day + dt.timedelta(days=rng.randrange(-3, 14))
            Leave.objects.create(clinician=who, starts_on=starts_on, ends_on=starts_on + dt.timedelta(rng.randrange(3)))
    for minutes in (30, 45, 60, 90):
        expected = _expected(clinicians, first_day, 14, minutes)
        assert sum(len(t) for days in expected.values() for _, t in days)  # the case has slots to compare
        for path, answer in _answers(clinicians, first_day, 14, minutes).items():
            assert answer == expected, (seed, minutes, path)


@pytest.mark.django_db
def test_no_minutes_or_no_clinicians_is_no_slots():
    who = StaffFactory(role="pwp")
    _pattern(who, 1, T(9), T(17))
    for path, answer in _answers([who], MONDAY, 7, 0).items():
        assert answer == {who: [(MONDAY + dt.timedelta(days=n), []) for n in range(7)]}, path
    for path, answer in _answers([], MONDAY, 7, 30).items():
        assert answer == {}, path
