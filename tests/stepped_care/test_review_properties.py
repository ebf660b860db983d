"""Invariants of the review rules over generated histories (hypothesis): flags that agree with each other."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from stepped_care import review

TODAY = dt.date(2026, 6, 1)
ATTENDED, DNA = "5", "3"


@st.composite
def histories(draw):
    """A referral at step 2 or 3 with up to 12 contacts a week apart, scores or none, some DNAs."""
    count = draw(st.integers(min_value=0, max_value=12))
    start = TODAY - dt.timedelta(days=7 * count + 7)
    contacts = []
    for i in range(count):
        attended = draw(st.booleans()) or i == 0
        scored = attended and draw(st.integers(0, 4)) > 0
        phq = draw(st.integers(0, 27)) if scored else None
        gad = draw(st.integers(0, 21)) if scored else None
        item9 = min(draw(st.integers(0, 3)), phq) if phq is not None else None
        kind = "01" if i == 0 else "02"
        on = start + dt.timedelta(days=7 * i)
        contacts.append((on, kind, ATTENDED if attended else DNA, phq, item9, gad, "r"))
    step = draw(st.sampled_from([2, 3]))
    return review.History(
        status="in_treatment" if count > 1 else "awaiting_treatment",
        received_on=start - dt.timedelta(days=7),
        step=step,
        step_started_on=start,
        contacts=contacts,
    )


@settings(max_examples=400, deadline=None)
@given(histories(), st.sampled_from(["no_reliable_change", "reliable_deterioration"]))
def test_never_step_up_and_step_down_or_out_at_once(history, mixed):
    recommended = {f.recommendation for f in review.evaluate(history, TODAY, mixed_policy=mixed)}
    assert not (review.STEP_UP in recommended and recommended & {review.STEP_DOWN, review.STEP_OUT})


@settings(max_examples=400, deadline=None)
@given(histories())
def test_recovered_only_for_a_case_at_caseness_at_the_start(history):
    rules = {f.rule for f in review.evaluate(history, TODAY)}
    if review.RECOVERED in rules:
        first_phq = next(c[3] for c in history.contacts if c[3] is not None)
        first_gad = next(c[5] for c in history.contacts if c[5] is not None)
        assert first_phq >= 10 or first_gad >= 8


def test_a_patient_never_at_caseness_is_not_recovered_or_stepped_at_once():
    """The case the clinic found: never at caseness, 'recovered' and 'not improving' open together."""
    start = TODAY - dt.timedelta(days=70)
    contacts = [(start + dt.timedelta(days=7 * i), "01" if i == 0 else "02", ATTENDED, 6, 0, 5, "r") for i in range(6)]
    history = review.History("in_treatment", start, 2, start, contacts)
    rules = {f.rule for f in review.evaluate(history, TODAY)}
    assert review.RECOVERED not in rules
