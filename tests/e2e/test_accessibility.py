"""WCAG 2.2 AA in the browser. axe-core audits every page the browser tests visit (tests/e2e/a11y.py);
here, what it cannot see: the session form's sticky save bar never covers the question in focus while
a clinician answers by keyboard (2.4.11 Focus Not Obscured), on a desktop and on a phone-sized window
where the bar wraps onto two lines; and the main pages audited at phone width too."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_clinician_journey import case
from tests.outcomes.population import build_population

# Where the focused control is drawn, and what the browser finds at its centre, once the page has
# stopped scrolling (Bootstrap scrolls smoothly). A visually hidden radio (Bootstrap's btn-check) is
# drawn as its label, so its label is what must be uncovered.
FOCUS_STATE = """async () => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  for (let still = 0, last = null; still < 3; ) {
    await frame();
    still = scrollY === last ? still + 1 : 0;
    last = scrollY;
  }
  const el = document.activeElement;
  const bar = document.querySelector(".session-footer");
  const state = {name: el.name || el.id || el.tagName, inBar: bar.contains(el), tag: el.tagName};
  if (state.inBar || el === document.body) return state;
  const target = el.matches(".btn-check") && el.labels.length ? el.labels[0] : el;
  const box = target.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  state.visible = !!hit && (hit === target || hit === el || target.contains(hit));
  state.hit = hit ? hit.tagName + "." + hit.className : "nothing (outside the window)";
  state.centre = Math.round(y);
  state.barTop = Math.round(bar.getBoundingClientRect().top);
  return state;
}"""


def tab_through_the_questionnaires(page):
    """Tab from the first PHQ-9 item to the save button; the states of every control focused on the way."""
    page.locator("#id_phq9_1_0").focus()
    states = [page.evaluate(FOCUS_STATE)]
    for _ in range(80):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state["inBar"]:
            return states
        states.append(state)
    raise AssertionError(f"Tab never reached the save bar; last focused: {states[-1]}")


@pytest.mark.parametrize("viewport", [{"width": 1400, "height": 800}, {"width": 375, "height": 667}], ids=str)
@pytest.mark.django_db(transaction=True)
def test_the_save_bar_never_covers_the_question_in_focus(page, sign_in, pwp, viewport):
    referral = case(pwp, "Leo", "Grant", phq=[12], gad=[10], days=20)
    page.set_viewport_size(viewport)
    sign_in(pwp)
    page.goto(f"/referrals/{referral.pk}/sessions/new/")
    expect(page.locator(".session-footer")).to_be_in_viewport()  # the bar is sticky, over the form

    # Tab alone: each of the 16 PHQ-9 and GAD-7 items, then the risk note and the rest of the form.
    states = tab_through_the_questionnaires(page)
    names = [s["name"] for s in states]
    assert [f"phq9_{n}" for n in range(1, 10)] + [f"gad7_{n}" for n in range(1, 8)] == [
        n for n in names if n.startswith(("phq9_", "gad7_"))
    ]
    covered = [s for s in states if not s["visible"]]
    assert not covered, "focused but covered or out of sight:\n" + "\n".join(map(str, covered))

    # Answering by number keys moves the focus on by script: the next item is in sight each time.
    page.locator("#id_phq9_1_0").focus()
    for key in "121212120" + "1212121":
        page.keyboard.press(key)
        state = page.evaluate(FOCUS_STATE)
        assert state["visible"], state
    expect(page.locator('[data-total-for="GAD7"]')).to_contain_text("GAD-7 total 10 of 21")


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_at_phone_width(page, sign_in, audit, team, manager, pwp, supervisor):
    """axe-core at 375 px wide, where wide tables scroll sideways: each such table takes the keyboard
    focus (2.1.1), and every page passes as it does on a desktop."""
    build_population(team=team, clinicians=[pwp], by=pwp, today=timezone.localdate(), n=6, seed=23)
    case(pwp, "Ruby", "Stone", phq=[16, 13], gad=[12, 10], days=40)  # on the PWP's caseload, whatever the seed gives
    page.set_viewport_size({"width": 375, "height": 667})

    sign_in(manager)
    page.wait_for_url("**/dashboard/**")
    scrolling = page.locator(".table-responsive").evaluate_all(
        "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth).map(b => b.tabIndex)"
    )
    assert scrolling and set(scrolling) == {0}, scrolling  # tables do scroll here, and each takes the focus
    page.locator("#table-caseload tfoot a").last.click()
    page.wait_for_url("**/dashboard/referrals/**")
    page.goto("/dashboard/table/caseload/")  # a per-clinician table in full
    page.goto("/supervision/compliance/")
    page.goto("/supervision/relationships/")
    page.context.clear_cookies()

    sign_in(pwp)
    page.wait_for_url("**/caseload/")
    page.get_by_role("link", name="STONE, Ruby").click()
    page.wait_for_url("**/referrals/**")
    page.goto("/waiting-list/")
    page.goto("/groups/")
    page.context.clear_cookies()

    sign_in(supervisor)
    page.goto(f"/supervision/cases/{pwp.pk}/")
    assert len(audit.pages) >= 12, [p["url"] for p in audit.pages]


def contrast(rgb_a, rgb_b):
    """WCAG contrast ratio of two "rgb(r, g, b)" colours."""

    def luminance(rgb):
        channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.django_db(transaction=True)
def test_the_focus_shows_on_the_blue_header(page, sign_in, pwp):
    """2.4.7 Focus Visible: Tab through the header; each link and button there draws a solid ring of
    at least 2 px, 3:1 or more against the header's blue."""
    sign_in(pwp)
    header = page.locator("nav.navbar").evaluate("nav => getComputedStyle(nav).backgroundColor")
    page.locator("body").focus()
    rings = []
    for _ in range(20):
        page.keyboard.press("Tab")
        ring = page.evaluate(
            """() => { const el = document.activeElement; const s = getComputedStyle(el);
                return {inNav: !!el.closest("nav.navbar"), name: el.textContent.trim(), style: s.outlineStyle,
                        width: parseFloat(s.outlineWidth), colour: s.outlineColor}; }"""
        )
        if rings and not ring["inNav"]:
            break
        if ring["inNav"]:
            rings.append(ring)
    assert {"My caseload", "Waiting list", "Sign out"} <= {r["name"] for r in rings}, rings
    for ring in rings:
        assert ring["style"] == "solid" and ring["width"] >= 2, ring
        assert contrast(ring["colour"], header) >= 3, (ring, header)
