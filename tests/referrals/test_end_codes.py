"""End codes fit what happened to the referral (the data set's groups): taken on for treatment 46-49
and 96, seen but not treated 10-17 and 95, never seen 50."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from referrals.codes import EndCode, end_code_problem
from referrals.services import log_contact
from stepped_care.services import discharge
from tests.factories import ReferralFactory

TAKEN_ON = {"46", "47", "48", "49", "96"}
SEEN = {"10", "11", "12", "13", "14", "16", "17", "95"}
NOT_SEEN = {"50"}
# what happened: (seen, taken on at a step, treated)
HISTORIES = {
    "not seen": (False, False, False),
    "assessed only": (True, False, False),
    "assessed, given a step": (True, True, False),
    "treated": (True, True, True),
}
FITS = {"not seen": NOT_SEEN, "assessed only": SEEN, "assessed, given a step": SEEN | TAKEN_ON, "treated": TAKEN_ON}


def test_every_code_of_the_data_set_is_offered():
    assert set(EndCode.values) == TAKEN_ON | SEEN | NOT_SEEN


@pytest.mark.parametrize("code", sorted(TAKEN_ON | SEEN | NOT_SEEN))
@pytest.mark.parametrize("what", sorted(HISTORIES))
def test_each_code_fits_exactly_its_group(code, what):
    seen, taken_on, treated = HISTORIES[what]
    problem = end_code_problem(code, seen=seen, taken_on=taken_on, treated=treated)
    assert (problem is None) is (code in FITS[what]), problem


def referral_with(pwp, what):
    referral = ReferralFactory(
        patient__team=pwp.team, care_coordinator=pwp, received_on=timezone.localdate() - dt.timedelta(days=60)
    )
    kinds = {"not seen": [], "assessed only": ["01"], "treated": ["01", "02"]}[what]
    for days, kind in zip((30, 20), kinds, strict=False):
        log_contact(
            referral=referral,
            by=pwp,
            date=timezone.localdate() - dt.timedelta(days=days),
            appointment_type=kind,
            attendance="5",
        )
    if what == "not seen":  # a did-not-attend is not being seen
        log_contact(
            referral=referral,
            by=pwp,
            date=timezone.localdate() - dt.timedelta(days=30),
            appointment_type="01",
            attendance="3",
        )
    referral.refresh_from_db()
    return referral


@pytest.mark.parametrize(
    ("what", "wrong", "right"),
    [("not seen", "46", "50"), ("assessed only", "46", "14"), ("treated", "14", "46"), ("assessed only", "50", "12")],
)
def test_discharge_refuses_an_end_code_that_does_not_fit_and_saves_nothing(pwp, what, wrong, right):
    referral = referral_with(pwp, what)
    with pytest.raises(ValidationError) as error:
        discharge(referral=referral, end_code=wrong, by=pwp)
    assert f"End code {wrong}" in error.value.message_dict["end_code"][0]
    referral.refresh_from_db()
    assert referral.status != "discharged" and not referral.end_code
    discharge(referral=referral, end_code=right, by=pwp)
    referral.refresh_from_db()
    assert (referral.status, referral.end_code) == ("discharged", right)
