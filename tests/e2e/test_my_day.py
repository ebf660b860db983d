"""Issue 18.5 in real Chromium: from My day, log a routine session with PHQ-9 and GAD-7 by keyboard.
The page counts what the clinician does (every keydown and every mouse press, kept in sessionStorage
across the pages): at most 25 keystrokes and 19 clicks. Focus starts on PHQ-9 item 1, a digit answers
and moves on, Ctrl+Enter saves; the appointment's contact is made once."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment, WorkingPattern
from referrals.models import CareContact
from tests.factories import ReferralFactory

COUNT = """
(() => {
  const bump = (key) => sessionStorage.setItem(key, String(Number(sessionStorage.getItem(key) || 0) + 1));
  window.addEventListener("keydown", (e) => { if (e.isTrusted) bump("keys"); }, true);
  window.addEventListener("mousedown", (e) => { if (e.isTrusted) bump("clicks"); }, true);
})();
"""
PHQ = "110110000"  # PHQ-9 4, item 9 = 0 (no risk note needed)
GAD = "1111000"  # GAD-7 4


def _counts(page):
    return page.evaluate("[Number(sessionStorage.getItem('keys') || 0), Number(sessionStorage.getItem('clicks') || 0)]")


def test_a_routine_session_from_my_day_by_keyboard(page, sign_in, pwp):
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, status="in_treatment")
    at = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 15)))
    appointment = services.book(referral=referral, clinician=pwp, starts_at=at, appointment_type="02", by=pwp)
    sign_in(pwp)
    page.context.add_init_script(COUNT)
    page.goto("/appointments/today/")
    page.evaluate("sessionStorage.clear()")  # counting starts on My day

    page.get_by_role("link", name="Attended").click()
    page.wait_for_url(f"**/appointments/{appointment.pk}/session/")
    expect(page.locator("#prefilled")).to_have_count(0)
    focused = page.evaluate("document.activeElement && document.activeElement.name")
    assert focused == "phq9_1", focused
    for digit in PHQ + GAD:
        page.keyboard.press(digit)
    expect(page.locator("[data-total-for=PHQ9]")).to_contain_text("4")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("PHQ-9 4")

    keys, clicks = _counts(page)
    assert keys <= 25 and clicks <= 19, (keys, clicks)
    assert (keys, clicks) == (len(PHQ) + len(GAD) + 2, 1)  # the digits, Ctrl and Enter; the Attended link

    contact = CareContact.objects.get(referral=referral)
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert (appointment.contact_id, appointment.status, contact.attendance) == (contact.pk, "done", "5")
    assert sorted((q.measure, q.total) for q in contact.questionnaires.all()) == [("GAD7", 4), ("PHQ9", 4)]

    # Back and save again: the same contact is shown, not a second one.
    page.go_back()
    page.wait_for_load_state()
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state()
    assert CareContact.objects.filter(referral=referral).count() == 1


def test_leave_with_cover_puts_the_day_on_the_colleagues_my_day(page, sign_in, pwp, colleague):
    """The pwp records today's leave with the colleague to cover, from the Leave and cover page (linked
    from My day); the colleague's My day shows the pwp's appointment, labelled, and one click records
    its outcome as the colleague's contact. axe audits both pages (tests/e2e/a11y.py)."""
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, status="in_treatment")
    at = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 20)))
    appointment = services.book(referral=referral, clinician=pwp, starts_at=at, appointment_type="02", by=pwp)
    sign_in(pwp)
    page.goto("/appointments/today/")
    page.get_by_role("link", name="Leave and cover").click()
    today = timezone.localdate().isoformat()
    page.get_by_label("First day of leave").fill(today)
    page.get_by_label("Last day of leave").fill(today)
    page.get_by_label("Covered by").select_option(str(colleague.pk))
    page.get_by_role("button", name="Record the leave").click()
    expect(page.locator(".alert-success")).to_contain_text("covered by")
    expect(page.locator("#leave")).to_contain_text(colleague.get_full_name())

    page.context.clear_cookies()
    sign_in(colleague)
    page.goto("/appointments/today/")
    row = page.locator(f"#appointment-{appointment.pk}")
    expect(row).to_contain_text(f"Covering for {pwp.get_full_name()}")
    row.get_by_role("button", name="Did not attend").click()
    expect(page.locator(".alert-success")).to_contain_text("did not attend")
    contact = CareContact.objects.get(appointment=appointment)
    assert (contact.clinician_id, contact.attendance) == (colleague.pk, "3")


def test_the_teams_week_of_free_slots(page, sign_in, pwp, colleague):
    """The free-slot table (built in one pass, times worked out by the database on PostgreSQL) in the
    browser: a row per clinician with a cell per day, the booked hour missing, and axe on the page."""
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()) + dt.timedelta(days=7)
    for who in (pwp, colleague):
        WorkingPattern.objects.create(
            clinician=who, team=pwp.team, weekday=1, start=dt.time(9), end=dt.time(11), valid_from=monday
        )
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, status="in_treatment")
    at = timezone.make_aware(dt.datetime.combine(monday, dt.time(10)))
    services.book(referral=referral, clinician=pwp, starts_at=at, appointment_type="02", by=pwp, minutes=60)
    sign_in(pwp)
    page.goto(f"/appointments/slots/?day={monday}&span=week&type=02")
    table = page.get_by_role("table", name="Free slots by clinician.")
    expect(table.get_by_role("columnheader")).to_have_count(8)  # the clinician and seven days
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(pwp)))
    expect(row.get_by_role("cell").first).to_have_text("09:00 · 09:30")
    other = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(colleague)))
    expect(other.get_by_role("cell").first).to_have_text("09:00 · 09:30 · 10:00 · 10:30")
    expect(other.get_by_role("rowheader")).to_contain_text("4 free")
