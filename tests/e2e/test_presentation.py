"""Managers' details and a calmer demo, in real Chromium: printed lists carry OFFICIAL-SENSITIVE, "Page n of
m" and who printed them when (printed to PDF and read back); the app's own 404 page; filter drop-downs wide
enough for whole names; trend lines told apart by dash and marker, not colour alone."""

import io

import pytest
from pypdf import PdfReader

from stepped_care.models import ReviewFlag
from tests.factories import ReferralFactory


def pdf_pages(page):
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    return [p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages]


@pytest.mark.django_db(transaction=True)
def test_a_printed_caseload_is_marked_on_every_page(page, sign_in, pwp):
    pwp.first_name, pwp.last_name = "Priya", "O'Walsh"
    pwp.save()
    for n in range(45):  # enough rows for several A4 landscape pages
        referral = ReferralFactory(patient__team=pwp.team, patient__family_name=f"Patient{n:02d}", care_coordinator=pwp)
        if n % 3 == 0:
            ReviewFlag.objects.create(referral=referral, rule="risk", recommendation="risk", severity="red")
    sign_in(pwp)
    page.goto("/caseload/")
    texts = pdf_pages(page)
    assert len(texts) >= 2
    for number, text in enumerate(texts, 1):
        assert text.count("OFFICIAL-SENSITIVE") >= 2, text[:200]  # top and bottom of every page
        assert f"Page {number} of {len(texts)}" in text
        assert "Printed by Priya O'Walsh on" in text
    assert "PATIENT00, Alex" in " ".join(" ".join(texts).split())
    assert "Sign out" not in "".join(texts)  # navigation is not printed


@pytest.mark.django_db(transaction=True)
def test_an_unknown_address_shows_the_apps_own_404(page, sign_in, pwp):
    sign_in(pwp)
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.get_by_role("link", name="Stepped Care").is_visible()  # inside the app's layout


WIDEST_OPTION_FITS = """(selector) => [...document.querySelectorAll(selector)].map((s) => {
  const ctx = document.createElement("canvas").getContext("2d");
  const cs = getComputedStyle(s);
  ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const widest = Math.max(...[...s.options].map((o) => ctx.measureText(o.text).width));
  const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [s.name, Math.round(widest), Math.round(room)];
})"""


@pytest.mark.django_db(transaction=True)
def test_filter_drop_downs_show_whole_names(page, sign_in, team, manager):
    from stepped_care.models import Role
    from tests.factories import StaffFactory

    team.name = "Talking Matters Sefton and Southport Wellbeing"
    team.save()
    StaffFactory(
        username="long_name",
        team=team,
        role=Role.HI_THERAPIST,
        first_name="Anna-Louise",
        last_name="Fitzgerald-Okonkwo",
    )
    sign_in(manager)
    page.goto("/dashboard/")
    for name, widest, room in page.evaluate(WIDEST_OPTION_FITS, "form[aria-label='Dashboard filters'] select"):
        assert widest <= room + 1, f"{name}: options need {widest}px, the box shows {room}px"
    page.goto("/audit/")
    for name, widest, room in page.evaluate(WIDEST_OPTION_FITS, "select[name=actor]"):
        assert widest <= room + 1, f"{name}: options need {widest}px, the box shows {room}px"


@pytest.mark.django_db(transaction=True)
def test_trend_lines_differ_by_dash_and_marker(page, sign_in, team, manager, pwp):
    from django.utils import timezone

    from tests.outcomes.population import build_population

    build_population(team=team, clinicians=[pwp], by=pwp, today=timezone.localdate(), n=10, seed=3)
    sign_in(manager)
    page.goto("/dashboard/")
    styles = page.evaluate(
        """() => [...document.querySelectorAll("svg g.series[data-marker]")].map(
             (g) => [g.dataset.marker, g.querySelector("polyline").getAttribute("stroke-dasharray") || ""])"""
    )
    assert len(styles) >= 2 and len(set(map(tuple, styles))) == len(styles)
