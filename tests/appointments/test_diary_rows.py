"""The diary rows built in one pass (appointments/presenters.py) say exactly what the template loops
they replaced said: each is compared with that loop, copied here from its template, rendered by
Django's engine for the same rows (names that need escaping, every role, empty days)."""

import datetime as dt

import pytest
from django.template import engines

from appointments import presenters
from stepped_care.models import Role, Staff

# templates/appointments/free_slots.html's loop before issue 18.9, with the cells it was given
# (presenters.slot_rows: format_html_join of '<td class="small">{}</td>').
SLOT_ROWS_LOOP = (
    "{% for clinician, cells, total in rows %}\n"
    '  <tr><th scope="row">{{ clinician }} <div class="small text-muted fw-normal">'
    "{{ clinician.get_role_display }} · {{ total }} free</div></th>\n"
    "    {{ cells }}\n"
    "  </tr>\n"
    "  {% endfor %}"
)


def _old_slot_rows(slots):
    from django.utils.html import format_html_join

    rows = []
    for c, days in slots.items():
        cells = format_html_join(
            "", '<td class="small">{}</td>', ((" · ".join(f"{t:%H:%M}" for t in times) or "–",) for _, times in days)
        )
        rows.append((c, cells, sum(len(times) for _, times in days)))
    return engines["django"].from_string(SLOT_ROWS_LOOP).render({"rows": rows})


MONDAY = dt.date(2027, 1, 4)
TIMES = [dt.time(9), dt.time(9, 45), dt.time(13, 5), dt.time(23, 59)]


@pytest.mark.parametrize("role", [value for value, _ in Role.choices])
@pytest.mark.parametrize("name", ["Sam Clinician", "O'Brien <b>&amp; Jo</b>", 'Ann "A" Lee'])
@pytest.mark.parametrize("days", [1, 7])
def test_the_free_slot_rows_are_the_template_loop(role, name, days):
    slots = {
        Staff(pk=1, first_name=name, last_name="", username="u1", role=role): [
            (MONDAY + dt.timedelta(days=n), TIMES[: n % 5]) for n in range(days)
        ],
        Staff(pk=2, first_name="", last_name="", username="second<>", role=role): [
            (MONDAY + dt.timedelta(days=n), []) for n in range(days)
        ],
    }
    assert str(presenters.slot_rows_html(slots)) == _old_slot_rows(slots)


def test_no_clinicians_is_no_rows():
    assert presenters.slot_rows_html({}) == "" == _old_slot_rows({})
