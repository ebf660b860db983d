"""Pure diary rules: free slots from a working pattern, leave and booked appointments.

No ORM, no clock: callers pass plain values (dates, times, minutes) and get plain values back.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

LENGTHS = {"assessment": 60, "treatment": 30, "group": 90}  # minutes, the default by appointment kind


@dataclass(frozen=True)
class Window:
    """One recurring block of availability: ISO weekday (1 = Monday), start and end time."""

    weekday: int
    start: time
    end: time


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open intervals [start, end) overlap (the same test as PostgreSQL's ``&&`` on tstzrange)."""
    return a_start < b_end and b_start < a_end


def _minute(t: time):
    return t.hour * 60 + t.minute


def free_slots(windows, day: date, minutes: int, busy=(), on_leave=False):
    """Start times on ``day`` for an appointment of ``minutes``, inside the windows, clear of ``busy``.

    ``busy`` is a sequence of (start, end) naive datetimes already taken on that day. Worked in minutes
    since midnight (a team's week is thousands of these days).
    """
    if on_leave or minutes <= 0:
        return []
    midnight = datetime.combine(day, time.min)
    taken = [
        ((b0 - midnight).total_seconds() // 60, (b1 - midnight).total_seconds() // 60)
        for b0, b1 in busy
        if b0 < midnight + timedelta(days=1) and b1 > midnight
    ]
    slots = []
    for w in sorted((w for w in windows if w.weekday == day.isoweekday()), key=lambda w: w.start):
        start, end = _minute(w.start), _minute(w.end)
        while start + minutes <= end:
            if not any(start < t1 and t0 < start + minutes for t0, t1 in taken):
                slots.append(time(start // 60, start % 60))
            start += minutes
    return slots


def weeks_waited(received_on: date, today: date):
    return (today - received_on).days // 7


def wait_band(received_on: date, today: date):
    """The wait against the national 6- and 18-week standards: 'within 6', '6 to 18', 'over 18'."""
    days = (today - received_on).days
    if days <= 42:
        return "within 6 weeks"
    if days <= 126:
        return "6 to 18 weeks"
    return "over 18 weeks"


def waiting_order(waiting):
    """Longest wait first: ``waiting`` is (key, received_on) pairs; ties keep their order."""
    return [k for k, _ in sorted(waiting, key=lambda kv: kv[1])]


def two_dnas_in_a_row(attendances):
    """True when the two most recent outcomes (oldest first list of attendance codes) are both DNA ('3')."""
    return len(attendances) >= 2 and attendances[-1] == "3" and attendances[-2] == "3"


def median(values):
    """The middle value of a sorted list (the mean of the middle two), None when empty."""
    if not values:
        return None
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def rate(part, whole):
    """A proportion to one decimal place of a per cent, None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None
