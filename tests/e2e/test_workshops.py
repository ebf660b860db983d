"""A facilitator takes a group register in real headless Chromium: four patients on one screen,
attendance and PHQ-9/GAD-7 typed as rows of digits. An out-of-range answer shows its error on that
patient's row and saves nothing (everything typed is kept); corrected, the register becomes group
care contacts with the number of participants and facilitators."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import CareContact
from stepped_care.models import Role
from tests.factories import ReferralFactory, StaffFactory
from workshops import services
from workshops.models import RegisterEntry

TODAY = timezone.localdate()
NAMES = [("Aisha", "Ahmed"), ("Ben", "Carter"), ("Chloe", "Evans"), ("Dylan", "Price")]


def stress_course(pwp):
    cofacilitator = StaffFactory(
        username="hit_group", first_name="Hannah", last_name="Iqbal", team=pwp.team, role=Role.HI_THERAPIST
    )
    course = services.create_course(
        by=pwp,
        title="Stress control, Bootle library",
        topic="stress",
        step=2,
        facilitators=[pwp, cofacilitator],
        capacity=12,
        venue="Bootle library",
        sessions=[(TODAY - dt.timedelta(days=7) + dt.timedelta(days=7 * n), dt.time(18, 0)) for n in range(4)],
    )
    for given, family in NAMES:
        referral = ReferralFactory(
            patient__team=pwp.team, patient__given_name=given, patient__family_name=family, care_coordinator=pwp
        )
        services.enrol(course=course, referral=referral, by=pwp, on=TODAY - dt.timedelta(days=14))
    return course


@pytest.mark.django_db(transaction=True)
def test_facilitator_takes_the_register_for_a_group(page, sign_in, screenshot, pwp):
    course = stress_course(pwp)
    sign_in(pwp)
    page.get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", name="Group courses")).to_be_visible()
    page.get_by_role("link", name="Stress control, Bootle library").click()
    page.get_by_role("link", name="Take the register for session 1").click()
    expect(page.get_by_role("heading", name=re.compile("Register: session 1"))).to_be_visible()

    # Everyone attended but Dylan; quick entry of answers as digits (one out of range for Ben).
    page.get_by_role("button", name="Mark everyone not yet marked as attended").click()
    page.get_by_label("Attendance of PRICE, Dylan").select_option("3")
    answers = {
        "AHMED, Aisha": ("221111110", "2211111"),
        "CARTER, Ben": ("210140100", "1101100"),  # PHQ-9 item 5: 4 is out of range
        "EVANS, Chloe": ("111111110", "1111110"),
    }
    for name, (phq, gad) in answers.items():
        page.get_by_label(f"PHQ-9 answers of {name}").fill(phq)
        page.get_by_label(f"GAD-7 answers of {name}").fill(gad)
    expect(page.locator("#id_row-0-phq9-total")).to_have_text("total 10")
    page.get_by_role("button", name="Save the register").click()

    # Nothing saved; the error sits on Ben's row; everything typed is still there.
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    ben = page.locator("tr", has=page.get_by_label("PHQ-9 answers of CARTER, Ben"))
    expect(ben).to_contain_text("PHQ-9 item 5 must be between 0 and 3 (got 4).")
    expect(ben.get_by_label("PHQ-9 answers of CARTER, Ben")).to_have_attribute("aria-invalid", "true")
    aisha = page.locator("tr", has=page.get_by_label("PHQ-9 answers of AHMED, Aisha"))
    expect(aisha).not_to_contain_text("must be")
    expect(page.get_by_label("PHQ-9 answers of AHMED, Aisha")).to_have_value("221111110")
    expect(page.get_by_label("Attendance of PRICE, Dylan")).to_have_value("3")
    assert not CareContact.objects.exists() and not RegisterEntry.objects.exists()
    screenshot("group_register_error")

    page.get_by_label("PHQ-9 answers of CARTER, Ben").fill("210110100")
    page.get_by_role("button", name="Save the register").click()
    expect(page.get_by_text("Register saved: 3 of 4 attended session 1")).to_be_visible()

    contacts = CareContact.objects.filter(register_entry__session__course=course).select_related("referral__patient")
    assert contacts.count() == 4
    assert {c.therapy_mode for c in contacts} == {"3"}
    assert {(c.group_participants, c.group_facilitators) for c in contacts} == {(3, 2)}
    by_name = {c.referral.patient.family_name: c for c in contacts}
    assert by_name["Price"].attendance == "3" and by_name["Ahmed"].attendance == "5"
    assert sorted(by_name["Ahmed"].questionnaires.values_list("measure", "total")) == [("GAD7", 9), ("PHQ9", 10)]
    assert not by_name["Price"].questionnaires.exists()

    # The course page shows each member's attendance and scores.
    grid = page.locator("table.course-grid")
    expect(grid.locator("tr", has_text="PRICE, Dylan")).to_contain_text("DNA")
    expect(grid.locator("tr", has_text="AHMED, Aisha")).to_contain_text("10")
    expect(page.get_by_text("3 of 4 places")).to_be_visible()
    screenshot("group_course")
