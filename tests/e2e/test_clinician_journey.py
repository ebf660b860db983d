"""A PWP's day in real headless Chromium: take a referral from the waiting list, assess it with PHQ-9
and GAD-7 item by item, see the scores, severity and chart, step it up with a reason, and see that in
the history. And: a missing or out-of-range answer shows the error and saves nothing. The screenshots
for the README (docs/screenshots/) are taken on the way."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services
from referrals.models import CareContact, Referral
from stepped_care.models import ReviewFlag, StepAssignment
from stepped_care.services import change_step
from tests.factories import PatientFactory

TODAY = timezone.localdate()


def items(total, count, item_max=3, keep_last_zero=True):
    """Answers summing to ``total``, spread evenly (the last item kept at 0 when it can be)."""
    slots = count - 1 if keep_last_zero and total <= (count - 1) * item_max else count
    out = [0] * count
    for n in range(total):
        out[n % slots] += 1
    return out


def case(clinician, given, family, *, phq, gad, step=2, problem="depression", days=90, ltc=(), flag=None):
    """A referral on ``clinician``'s caseload with one scored session a week (through the services)."""
    patient = PatientFactory(team=clinician.team, given_name=given, family_name=family, long_term_conditions=list(ltc))
    referral = services.create_referral(
        by=clinician,
        patient=patient,
        received_on=TODAY - dt.timedelta(days=days),
        source="gp",
        presenting_problem=problem,
        care_coordinator=clinician,
        ltc_pathway=bool(ltc),
    )
    first = TODAY - dt.timedelta(days=days - 14)
    change_step(
        referral=referral, step=step, reason="Assessed as suitable for guided self-help", by=clinician, on=first
    )
    for n, (p, g) in enumerate(zip(phq, gad, strict=True)):
        services.log_contact(
            referral=referral,
            by=clinician,
            date=first + dt.timedelta(days=7 * n),
            appointment_type="01" if n == 0 else "02",
            attendance="5",
            mechanism="02" if n % 2 else "01",
            duration_minutes=45 if n == 0 else 35,
            phq9=items(p, 9),
            gad7=items(g, 7),
            notes="Guided self-help: behavioural activation." if n else "Assessment.",
        )
    if flag and not ReviewFlag.objects.filter(referral=referral, rule=flag[0], status="open").exists():
        rule, severity, recommendation, explanation = flag
        ReviewFlag.objects.create(
            referral=referral,
            rule=rule,
            severity=severity,
            recommendation=recommendation,
            explanation=explanation,
            evidence={"PHQ-9": phq, "GAD-7": gad},
        )
    return referral


def a_working_caseload(pwp):
    improving = case(pwp, "Oliver", "Smith", phq=[18, 15, 12, 9, 6, 4], gad=[15, 13, 10, 8, 6, 4], days=75)
    case(
        pwp,
        "Isla",
        "Patel",
        phq=[14, 15, 14, 13, 14],
        gad=[12, 12, 11, 12, 11],
        ltc=["diabetes"],
        flag=("not_improving", "amber", "step_up", "No reliable improvement on PHQ-9 or GAD-7 after 5 sessions."),
    )
    case(
        pwp,
        "George",
        "Khan",
        phq=[12, 16, 19],
        gad=[9, 12, 15],
        problem="mixed",
        days=40,
        flag=("deterioration", "red", "review", "PHQ-9 rose by 7 and GAD-7 by 6 since the first session."),
    )
    case(pwp, "Ava", "Murphy", phq=[16, 14], gad=[13, 11], step=3, problem="gad", days=30)
    return improving


def answer(page, prefix, values):
    for number, value in enumerate(values, start=1):
        page.locator(f'label[for="id_{prefix}_{number}_{value}"]').click()


@pytest.mark.django_db(transaction=True)
def test_a_pwp_allocates_assesses_and_steps_up_a_referral(page, sign_in, screenshot, pwp, administrator):
    pwp.first_name, pwp.last_name = "Priya", "Walsh"
    pwp.save()
    improving = a_working_caseload(pwp)
    patient = services.create_patient(
        by=administrator,
        given_name="Amelia",
        family_name="Hughes",
        date_of_birth=dt.date(1991, 6, 2),
        nhs_number="943 476 5919",
        long_term_conditions=["copd"],
        gp_practice="Crosby Village Surgery",
    )
    waiting = services.create_referral(
        by=administrator,
        patient=patient,
        received_on=TODAY - dt.timedelta(days=50),
        source="gp",
        presenting_problem="mixed",
        ltc_pathway=True,
    )

    # Sign in: a clinician lands on the caseload.
    sign_in(pwp)
    expect(page).to_have_url(re.compile(r"/caseload/$"))
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()

    # Waiting list: past the 6-week mark; allocate to me.
    page.get_by_role("link", name="Waiting list").click()
    row = page.get_by_role("row").filter(has_text="HUGHES, Amelia")
    expect(row).to_contain_text("50")
    expect(row).to_contain_text("Past 6 weeks")
    row.get_by_role("button", name="Allocate HUGHES, Amelia").click()
    expect(page.get_by_role("alert").filter(has_text="HUGHES, Amelia is allocated to you")).to_be_visible()
    waiting.refresh_from_db()
    assert waiting.care_coordinator_id == pwp.pk

    # Caseload: the new referral is there, with the others (scores, trends, flags).
    page.get_by_role("link", name="My caseload").click()
    table = page.locator("table.caseload")
    expect(table.get_by_role("row").filter(has_text="HUGHES, Amelia")).to_contain_text("not seen yet")
    expect(table.get_by_role("row").filter(has_text="SMITH, Oliver")).to_contain_text("minimal")
    expect(table.get_by_role("row").filter(has_text="KHAN, George")).to_contain_text("Reliable deterioration")
    expect(table.locator("svg.sparkline")).to_have_count(4)
    screenshot("caseload")

    # Search by NHS number: the list narrows, and the number never appears in the address.
    page.get_by_label("Patient name or NHS number").fill("943 476 5919")
    page.get_by_role("button", name="Filter").click()
    expect(table.get_by_role("row")).to_have_count(2)  # the header and HUGHES, Amelia
    expect(table).to_contain_text("HUGHES, Amelia")
    address = urlsplit(page.url)  # the path and query, not the test server's port (which may hold "943")
    assert "943" not in address.path + address.query and "q=" not in address.query
    page.get_by_role("button", name="Clear").click()
    expect(table.locator("svg.sparkline")).to_have_count(4)

    # Referral page: allocation in the history; then log the assessment.
    page.get_by_role("link", name="HUGHES, Amelia").click()
    expect(page.get_by_role("heading", name="HUGHES, Amelia")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Allocated to Priya Walsh")
    expect(page.get_by_text("Chronic obstructive pulmonary disease (COPD)")).to_be_visible()
    page.get_by_role("link", name="Log a session").click()

    # The session form: item wording and answer labels; live totals as answers are chosen.
    expect(page.get_by_role("heading", name="Log a session")).to_be_visible()
    expect(page.get_by_label("Assessment (01)")).to_be_checked()
    expect(page.get_by_text("Little interest or pleasure in doing things")).to_be_visible()
    page.get_by_label("Duration (minutes)").fill("50")
    answer(page, "phq9", [2, 2, 2, 2, 1, 2, 1, 1, 1])  # 14 moderate, item 9 = 1
    phq_total = page.locator('[data-total-for="PHQ9"]')
    expect(phq_total).to_contain_text("PHQ-9 total 14 of 27: moderate")
    expect(page.locator("#risk-alert")).to_be_visible()
    page.get_by_label("Risk assessment").fill("Fleeting thoughts, no plan or intent; safety plan agreed.")

    # GAD-7 by keyboard alone: focus item 1, then a number per item moves on to the next.
    page.locator("#id_gad7_1_0").focus()
    for key in "2122211":
        page.keyboard.press(key)
    expect(page.locator('[data-total-for="GAD7"]')).to_contain_text("GAD-7 total 11 of 21: moderate")
    expect(page.locator('[data-footer-total="GAD7"]')).to_contain_text("11")

    page.get_by_role("combobox", name="First step").select_option("2")
    page.get_by_label("Reason for this step").fill("Mixed anxiety and depression, moderate: guided self-help")
    page.get_by_label("Session notes").fill("Assessment; goals agreed; behavioural activation next.")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the sticky footer at its place
    screenshot("session_form")
    page.get_by_role("button", name="Save the session").click()

    # Back on the referral page: new scores, severity, chart, the risk flag, the first step.
    expect(
        page.get_by_role("alert").filter(has_text="Scores: PHQ-9 14 (moderate), GAD-7 11 (moderate)")
    ).to_be_visible()
    expect(page.locator("#latest-phq9")).to_contain_text("14 moderate")
    expect(page.locator("#latest-gad7")).to_contain_text("11 moderate")
    chart = page.get_by_role("img", name="PHQ-9 and GAD-7 totals by session date")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(1)
    expect(chart.locator("line.caseness")).to_have_count(2)
    expect(page.locator("table.scores-table")).to_contain_text("item 9: 1")
    expect(page.locator("#current-step")).to_have_text("Step 2: low intensity")
    expect(page.locator(".flag-list")).to_contain_text("Risk")
    assert CareContact.objects.filter(referral=waiting).count() == 1

    # Change the step with a reason; it shows in the step history and the history.
    step_card = page.locator("#change-step")
    step_card.get_by_label("New step").select_option("3")
    step_card.get_by_label("Reason for the change").fill("Risk and LTC complexity: high intensity CBT")
    step_card.get_by_role("button", name="Change step").click()
    expect(page.get_by_role("alert").filter(has_text="Moved to Step 3: high intensity")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Step 3: high intensity from")
    expect(page.locator("#history")).to_contain_text("Risk and LTC complexity: high intensity CBT")
    assert list(
        StepAssignment.objects.filter(referral=waiting)
        .order_by("started_on", "created_at")
        .values_list("step", flat=True)
    ) == [2, 3]

    # The README's referral page: a case with a full trajectory.
    page.goto(f"/referrals/{improving.pk}/")
    expect(page.locator("#outcome-summary")).to_contain_text("Recovered")
    expect(page.get_by_role("img", name="PHQ-9 and GAD-7 totals by session date").locator("circle")).to_have_count(6)
    screenshot("referral")


@pytest.mark.django_db(transaction=True)
def test_a_missing_or_out_of_range_answer_shows_the_error_and_saves_nothing(page, sign_in, pwp):
    referral = case(pwp, "Noah", "Jones", phq=[15], gad=[12], days=30)
    referral.refresh_from_db()
    before = CareContact.objects.count()
    sign_in(pwp)
    page.goto(f"/referrals/{referral.pk}/sessions/new/")
    page.get_by_label("Session notes").fill("Typed notes that must not be lost.")

    # A missing PHQ-9 item.
    answer(page, "phq9", [2, 2, 1, 0, 1, 1, 1, 1, 0])
    page.evaluate("document.querySelectorAll('input[name=phq9_4]').forEach(r => r.checked = false)")
    answer(page, "gad7", [1, 1, 1, 1, 1, 1, 1])
    page.get_by_role("button", name="Save the session").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("PHQ-9 item 4 is missing.")
    expect(page.locator("#id_phq9_4")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Session notes")).to_have_value("Typed notes that must not be lost.")
    expect(page.locator("#id_phq9_1_2")).to_be_checked()
    expect(page.locator("#id_gad7_7_1")).to_be_checked()
    assert CareContact.objects.count() == before

    # An out-of-range answer (a tampered radio value) is refused by the server, naming the item.
    answer(page, "phq9", [2, 2, 1, 0])
    page.evaluate("() => { const r = document.getElementById('id_gad7_2_3'); r.value = '4'; r.checked = true; }")
    page.get_by_role("button", name="Save the session").click()
    expect(page.locator("#error-summary")).to_contain_text("GAD-7 item 2 must be between 0 and 3 (got 4).")
    expect(page.locator("#id_phq9_4_0")).to_be_checked()
    assert CareContact.objects.count() == before

    # Corrected, it saves.
    answer(page, "gad7", [1, 3])
    page.get_by_role("button", name="Save the session").click()
    expect(page.get_by_role("alert").filter(has_text="Session of")).to_be_visible()
    assert CareContact.objects.count() == before + 1


@pytest.mark.django_db(transaction=True)
def test_the_session_form_works_without_javascript(browser, live_server, settings, pwp, password):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    referral = case(pwp, "Mia", "Roberts", phq=[11], gad=[9], days=20)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(pwp.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/referrals/{referral.pk}/sessions/new/")
        answer(page, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
        answer(page, "gad7", [1, 1, 1, 1, 1, 0, 0])
        page.get_by_role("button", name="Save the session").click()
        expect(page.locator("#latest-phq9")).to_contain_text("8 mild")
        expect(page.locator("#latest-gad7")).to_contain_text("5 mild")
    finally:
        context.close()
    assert Referral.objects.get(pk=referral.pk).contacts.count() == 2
